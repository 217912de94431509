//! The file channel against real files in a temporary directory; kill -9 and full-disk
//! runs of whole agents are in `tests/crash.rs`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::channel::FileChannel;
use super::FileChannelConfig;
use crate::build::BuildChannel;
use crate::event::{Batch, Event};
use crate::marks::Mark;
use crate::params::{ByteSize, FsyncPolicy};
use crate::pipeline::{Channel, Taken};
use crate::wal;


fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sluice-fc-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(dir: &Path) -> FileChannelConfig {
    FileChannelConfig {
        dir: dir.to_owned(),
        capacity: 1_000,
        max_bytes: None,
        transaction_capacity: 100,
        fsync: FsyncPolicy::EveryCommit,
        segment_size: ByteSize(4096),
    }
}

/// A config whose segments are large enough for a whole test: one segment file.
fn large_segments(dir: &Path) -> FileChannelConfig {
    FileChannelConfig {
        segment_size: ByteSize(1 << 20),
        ..config(dir)
    }
}

/// Flips a byte of the body `body` in segment 1, on disk.
fn damage_body(dir: &Path, body: &[u8]) {
    let segment = wal::segment_path(dir, 1);
    let mut data = std::fs::read(&segment).unwrap();
    let at = data
        .windows(body.len())
        .position(|w| w == body)
        .expect("the body is in the segment");
    data[at] ^= 0xff;
    std::fs::write(&segment, &data).unwrap();
}

async fn open_channel(config: FileChannelConfig) -> FileChannel {
    config.build(Arc::default()).await.unwrap()
}

fn events(range: std::ops::Range<u32>) -> Batch {
    range
        .map(|i| {
            let mut e = Event::new(format!("event {i}"));
            e.headers.set("n", i.to_string());
            e
        })
        .collect()
}

fn bodies(taken: &Taken) -> Vec<String> {
    taken
        .events
        .iter()
        .map(|e| e.body_text().into_owned())
        .collect()
}

fn numbered(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("event {i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_events_survive_a_reopen_and_delivered_ones_do_not_return() {
    let dir = temp("reopen");
    let ch = open_channel(config(&dir)).await;
    ch.put(events(0..250)).await.unwrap();
    let first = ch.take(100).await.unwrap();
    assert_eq!(bodies(&first), numbered(0..100));
    assert_eq!(first.events[7].headers.get("n"), Some("7"));
    ch.commit(first);
    let second = ch.take(100).await.unwrap(); // taken, never committed
    assert_eq!(bodies(&second), numbered(100..200));
    drop(second);
    drop(ch);
    let ch = open_channel(config(&dir)).await;
    assert_eq!(ch.len(), 150);
    let mut seen = Vec::new();
    while seen.len() < 150 {
        let t = ch.take(100).await.unwrap();
        seen.extend(bodies(&t));
        ch.commit(t);
    }
    assert_eq!(seen, numbered(100..250));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_hands_the_same_events_out_again_first() {
    let dir = temp("rollback");
    let ch = open_channel(config(&dir)).await;
    ch.put(events(0..10)).await.unwrap();
    let t = ch.take(4).await.unwrap();
    ch.rollback(t);
    let again = ch.take(4).await.unwrap();
    assert_eq!(bodies(&again), numbered(0..4));
    ch.commit(again);
    let rest = ch.take(100).await.unwrap();
    assert_eq!(bodies(&rest), numbered(4..10));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_commits_checkpoint_only_the_delivered_prefix() {
    let dir = temp("order");
    let ch = open_channel(config(&dir)).await;
    ch.put(events(0..30)).await.unwrap();
    let a = ch.take(10).await.unwrap();
    let b = ch.take(10).await.unwrap();
    ch.commit(b); // a (0..10) is still out
    ch.inner.checkpoint();
    drop(a);
    drop(ch);
    let ch = open_channel(config(&dir)).await;
    let t = ch.take(100).await.unwrap();
    assert_eq!(bodies(&t), numbered(0..30), "0..10 were never delivered");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_agent_on_the_same_dir_is_refused() {
    let dir = temp("lock");
    let _first = open_channel(config(&dir)).await;
    let err = config(&dir).build(Arc::default()).await.err().unwrap();
    assert_eq!(err.kind(), io::ErrorKind::ResourceBusy);
    assert!(err.to_string().contains("in use by another agent"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumed_segments_are_deleted() {
    let dir = temp("segments");
    let ch = open_channel(config(&dir)).await;
    for i in 0..20 {
        ch.put(events(i * 50..i * 50 + 50)).await.unwrap();
    }
    let before = wal::list_segments(&dir).unwrap().len();
    assert!(before > 5, "4 KiB segments roll over: {before}");
    let mut n = 0;
    while n < 1_000 {
        let t = ch.take(100).await.unwrap();
        n += t.events.len();
        ch.commit(t);
    }
    ch.inner.checkpoint();
    let after = wal::list_segments(&dir).unwrap().len();
    assert!(after <= 2, "{after} segments left");
    assert!(ch.disk_bytes() < 4096 * 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_too_large_to_read_back_is_refused_alone() {
    let dir = temp("oversized");
    let counters = Arc::new(crate::metrics::ChannelCounters::default());
    let channel = config(&dir).build(counters.clone()).await.unwrap();
    let huge = Event::new(vec![b'x'; wal::MAX_PAYLOAD + 1]);
    channel
        .put(vec![Event::new("before"), huge, Event::new("after")])
        .await
        .unwrap();
    assert_eq!(counters.events_rejected.get(), 1);
    let taken = channel.take(10).await.unwrap();
    assert_eq!(bodies(&taken), ["before", "after"]);
    channel.commit(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_channel_makes_puts_wait_until_a_commit() {
    let dir = temp("full");
    let mut c = config(&dir);
    c.capacity = 10;
    let ch = Arc::new(open_channel(c).await);
    ch.put(events(0..10)).await.unwrap();
    let blocked =
        tokio::time::timeout(Duration::from_millis(100), ch.put(events(10..11))).await;
    assert!(blocked.is_err());
    let t = ch.take(5).await.unwrap();
    ch.commit(t);
    tokio::time::timeout(Duration::from_secs(5), ch.put(events(10..11)))
        .await
        .unwrap()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_tail_and_a_corrupt_record_are_cut_at_the_last_commit() {
    let dir = temp("torn");
    let c = large_segments(&dir);
    let ch = open_channel(c.clone()).await;
    ch.put(events(0..10)).await.unwrap();
    ch.put(events(10..20)).await.unwrap();
    drop(ch);
    let segment = wal::segment_path(&dir, 1);
    let whole = std::fs::read(&segment).unwrap();
    // A torn write: half of a third transaction.
    let mut torn = whole.clone();
    let mut extra = Vec::new();
    for e in events(20..30) {
        wal::encode_event(&mut extra, &e);
    }
    torn.extend_from_slice(&extra[..extra.len() / 2]);
    std::fs::write(&segment, &torn).unwrap();
    let ch = open_channel(c.clone()).await;
    assert_eq!(ch.len(), 20);
    assert_eq!(
        std::fs::metadata(&segment).unwrap().len(),
        whole.len() as u64
    );
    drop(ch);
    // A flipped byte inside the second transaction loses only that transaction.
    let mut flipped = whole.clone();
    let at = whole.len() - 40;
    flipped[at] ^= 0xff;
    std::fs::write(&segment, &flipped).unwrap();
    let ch = open_channel(c).await;
    assert_eq!(ch.len(), 10);
    let t = ch.take(100).await.unwrap();
    assert_eq!(bodies(&t), numbered(0..10));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_checkpoint_is_rebuilt_by_replaying_the_segments() {
    let dir = temp("checkpoint");
    let ch = open_channel(config(&dir)).await;
    ch.put(events(0..10)).await.unwrap();
    let t = ch.take(5).await.unwrap();
    ch.commit(t);
    drop(ch);
    std::fs::write(wal::checkpoint_path(&dir), b"garbage").unwrap();
    let ch = open_channel(config(&dir)).await;
    assert_eq!(
        ch.len(),
        10,
        "replayed from the oldest segment: duplicates, no loss"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn mark(key: &str, value: &str) -> Mark {
    Mark {
        source: "logs",
        key: key.as_bytes().to_vec(),
        value: value.as_bytes().to_vec(),
    }
}

fn mark_of(ch: &FileChannel, key: &str) -> Option<String> {
    ch.marks("logs")
        .unwrap()
        .get(key.as_bytes())
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_are_committed_with_their_events_and_outlive_their_segments() {
    let dir = temp("marks");
    let ch = open_channel(config(&dir)).await;
    ch.put_marked(events(0..10), Some(&mark("a.log", "10")))
        .await
        .unwrap();
    // A batch filtered down to nothing still commits its mark.
    ch.put_marked(Vec::new(), Some(&mark("b.log", "7")))
        .await
        .unwrap();
    ch.put_marked(events(10..20), Some(&mark("a.log", "20")))
        .await
        .unwrap();
    assert_eq!(ch.len(), 20);
    assert_eq!(mark_of(&ch, "a.log").as_deref(), Some("20"));
    // Deliver everything through many small segments, so the segments holding the
    // marks are deleted.
    for i in 0..20u32 {
        ch.put(events(100 * i..100 * i + 20)).await.unwrap();
        while let Some(t) = tokio::time::timeout(Duration::from_millis(50), ch.take(100))
            .await
            .ok()
            .flatten()
        {
            ch.commit(t);
        }
    }
    ch.inner.checkpoint();
    assert!(!wal::segment_path(&dir, 1).exists(), "consumed segments go");
    drop(ch);
    let ch = open_channel(config(&dir)).await;
    assert_eq!(mark_of(&ch, "a.log").as_deref(), Some("20"));
    assert_eq!(mark_of(&ch, "b.log").as_deref(), Some("7"));
    assert_eq!(ch.marks("other").unwrap().len(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_is_one_transaction_even_past_transaction_capacity() {
    let dir = temp("whole");
    let c = large_segments(&dir);
    let ch = open_channel(c.clone()).await;
    ch.put(events(0..250)).await.unwrap();
    drop(ch);
    let data = std::fs::read(wal::segment_path(&dir, 1)).unwrap();
    let commits = {
        let mut at = wal::SEGMENT_MAGIC.len();
        let mut commits = 0;
        while let wal::Parsed::Record { kind, len, .. } = wal::parse(&data[at..]) {
            commits += usize::from(kind == wal::COMMIT);
            at += len;
        }
        commits
    };
    assert_eq!(commits, 1, "250 events, one commit record");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Three transactions in one segment, the middle one damaged.
async fn segment_with_damaged_middle(dir: &Path) -> FileChannelConfig {
    let c = large_segments(dir);
    let ch = open_channel(c.clone()).await;
    ch.put_marked(events(0..10), Some(&mark("a", "1")))
        .await
        .unwrap();
    ch.put_marked(events(10..20), Some(&mark("a", "2")))
        .await
        .unwrap();
    ch.put_marked(events(20..30), Some(&mark("a", "3")))
        .await
        .unwrap();
    drop(ch);
    damage_body(dir, b"event 15");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_keeps_the_transactions_after_a_damaged_one_and_the_original_aside() {
    let dir = temp("middle");
    let c = segment_with_damaged_middle(&dir).await;
    // Recovery opens segment 1, finds the damage, salvages.
    let ch = open_channel(c).await;
    assert_eq!(ch.len(), 20);
    let t = ch.take(100).await.unwrap();
    let mut expected = numbered(0..10);
    expected.extend(numbered(20..30));
    assert_eq!(bodies(&t), expected);
    assert!(dir.join("00000000000000000001.wal.damaged").exists());
    assert_eq!(
        mark_of(&ch, "a").as_deref(),
        Some("1"),
        "marks framed after damage are not trusted: the source goes back to the last \
         one before it (duplicates, never a skip)"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_take_that_meets_damage_keeps_the_good_events_read_before_it() {
    let dir = temp("take_damage");
    let c = large_segments(&dir);
    let ch = open_channel(c).await;
    ch.put(events(0..10)).await.unwrap();
    ch.put(events(10..20)).await.unwrap();
    // Damage the second transaction on disk while the channel runs.
    damage_body(&dir, b"event 15");
    let t = ch.take(100).await.unwrap();
    assert_eq!(bodies(&t), numbered(0..15), "the good events before the damage");
    ch.commit(t);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_position_is_committed_with_its_take_whatever_its_size() {
    let dir = temp("sink_position");
    let ch = open_channel(config(&dir)).await;
    assert_eq!(ch.positions_for("out"), Some(None));
    ch.put(events(0..20)).await.unwrap();
    let t = ch.take(10).await.unwrap();
    ch.commit_at(t, "out", Some(b"small".to_vec()));
    // Larger than a page: written to a new file and renamed over the old one.
    let big = vec![b'p'; 10_000];
    let t = ch.take(10).await.unwrap();
    ch.commit_at(t, "out", Some(big.clone()));
    drop(ch);
    let ch = open_channel(config(&dir)).await;
    assert_eq!(ch.positions_for("out"), Some(Some(big)));
    assert_eq!(ch.len(), 0, "both takes were committed");
    // A second sink on the same channel: positions are no longer kept.
    assert_eq!(ch.positions_for("other"), None);
    std::fs::remove_dir_all(&dir).unwrap();
}
