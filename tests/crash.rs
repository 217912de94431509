//! Crash tests for the `file` channel: agents killed with SIGKILL at random moments must
//! deliver every event exactly once from taildir or spooldir through the file channel to
//! file_roll, and damaged segments must be repaired and reported.
//!
//! `SLUICE_SOAK=1` runs the long version of the kill loop (1,000,000 events, 1,000
//! kills; `SLUICE_SOAK_KILLS=N` changes the kills); `SLUICE_CRASH_SEED=N` replays one
//! run's kill timings.

mod support;

use std::collections::HashSet;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// A small deterministic generator for kill timings (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Feeds ids `range` to a pipeline's input in `dir`.
type Feed = fn(&Path, std::ops::Range<usize>);

/// taildir: the ids are appended to the one log file it follows.
fn feed_log(dir: &Path, range: std::ops::Range<usize>) {
    append_ids(&dir.join("logs/ids.log"), range);
}

/// spooldir: each feed is a new file, written elsewhere and moved in whole.
fn feed_spool(dir: &Path, range: std::ops::Range<usize>) {
    let staged = dir.join(format!("staged-{:08}.log", range.start));
    append_ids(&staged, range.clone());
    std::fs::rename(&staged, dir.join(format!("spool/{:08}.log", range.start))).unwrap();
}

/// Kills the agent of `flow` with SIGKILL at random moments while input keeps arriving,
/// then lets a last clean run deliver the rest, and checks the output files hold every
/// id exactly once: no loss, no duplicates, no torn lines.
fn kill_loop(name: &str, flow: &str, inputs: &[&str], feed: Feed) {
    kill_loop_reading(name, flow, inputs, feed, delivered);
}

/// [`kill_loop`] for a sink whose output `read` reads.
fn kill_loop_reading(
    name: &str,
    flow: &str,
    inputs: &[&str],
    feed: Feed,
    read: fn(&Path) -> Delivered,
) {
    let soak = std::env::var("SLUICE_SOAK").is_ok_and(|v| v == "1");
    let kills: usize = std::env::var("SLUICE_SOAK_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(if soak { 1_000 } else { 20 });
    let total = if soak { 1_000_000 } else { 200_000 }.max(kills * 100);
    let seed = std::env::var("SLUICE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("crash harness {name}: seed {seed} (SLUICE_CRASH_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let agent = build_agent(flow);
    let dir = temp_dir(name);
    for input in inputs {
        std::fs::create_dir_all(dir.join(input)).unwrap();
    }

    // Input keeps arriving while the agent is killed and restarted.
    let chunk = total / kills;
    let started = Instant::now();
    for k in 0..kills {
        feed(&dir, k * chunk..(k + 1) * chunk);
        let mut child = start_in(&agent, &dir);
        std::thread::sleep(Duration::from_millis(20 + rng.below(400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    if kills * chunk < total {
        feed(&dir, kills * chunk..total);
    }

    // A last, clean run delivers the rest.
    let mut child = start_in(&agent, &dir);
    let out = dir.join("out");
    // Wait until every id is there, or nothing new has arrived for 10 seconds.
    let (mut last_count, mut last_change) = (0, Instant::now());
    loop {
        let seen: HashSet<usize> = read(&out).ids.into_iter().collect();
        if seen.len() >= total || last_change.elapsed() > Duration::from_secs(10) {
            break;
        }
        if seen.len() != last_count {
            (last_count, last_change) = (seen.len(), Instant::now());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    stop_cleanly(&mut child);

    let result = read(&out);
    let unique: HashSet<usize> = result.ids.iter().copied().collect();
    let missing: Vec<usize> = (0..total).filter(|i| !unique.contains(i)).collect();
    let duplicates = result.ids.len() - unique.len();
    eprintln!(
        "crash harness {name}: {total} events, {kills} SIGKILLs, {} lost, {duplicates} \
         duplicates, {} torn last lines, {:.1}s",
        missing.len(),
        result.torn_at_end,
        started.elapsed().as_secs_f64()
    );
    assert!(
        missing.is_empty(),
        "lost {} ids, first {:?} (seed {seed})",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(
        unique.iter().all(|&i| i < total),
        "ids that were never written"
    );
    let mut counts = std::collections::HashMap::new();
    for id in &result.ids {
        *counts.entry(id).or_insert(0) += 1;
    }
    let mut repeated: Vec<_> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| **id)
        .collect();
    repeated.sort();
    assert_eq!(
        duplicates,
        0,
        "duplicated ids, first {:?} (seed {seed})",
        &repeated[..repeated.len().min(10)]
    );
    assert_eq!(result.torn_at_end, 0, "torn lines (seed {seed})");
}

#[test]
fn taildir_into_a_file_channel_survives_sigkill_with_no_loss_and_no_duplicates() {
    kill_loop(
        "crash-taildir",
        "tests/e2e/durable.flow",
        &["logs"],
        feed_log,
    );
}

#[test]
fn zstd_files_cut_back_after_sigkill_read_whole_with_no_loss_and_no_duplicates() {
    kill_loop(
        "crash-zstd",
        "tests/e2e/durable_zstd.flow",
        &["logs"],
        feed_log,
    );
}

/// The ids in a lake of NDJSON+zstd files (whole events: `{"body":"id 00001234",…}`),
/// as readers see it: every published file under `out`, none of the hidden ones.
fn lake_delivered(out: &Path) -> Delivered {
    let mut d = Delivered::default();
    let mut dirs = vec![out.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('_') {
                    dirs.push(path);
                }
                continue;
            }
            if name.starts_with('.') || !name.ends_with(".ndjson.zst") {
                continue;
            }
            let text = read_maybe_compressed(&path);
            for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let event: serde_json::Value = serde_json::from_slice(line)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let body = event["body"].as_str().unwrap_or_default();
                let id = body.strip_prefix("id ").and_then(|n| n.parse().ok());
                d.ids
                    .push(id.unwrap_or_else(|| panic!("{}: bad body {body:?}", path.display())));
            }
        }
    }
    d
}

#[test]
fn lake_files_published_once_each_across_sigkills() {
    kill_loop_reading(
        "crash-lake",
        "tests/e2e/durable_lake.flow",
        &["logs"],
        feed_log,
        lake_delivered,
    );
}

#[test]
fn spooldir_into_a_file_channel_survives_sigkill_with_no_loss_and_no_duplicates() {
    kill_loop(
        "crash-spooldir",
        "tests/e2e/durable_spool.flow",
        &["spool"],
        feed_spool,
    );
}

/// Where the last record of `segment` starts: the commit record of its last put.
fn last_record_start(segment: &[u8]) -> usize {
    let mut at = 8;
    let mut last = at;
    while at + 9 <= segment.len() {
        let len = u32::from_le_bytes(segment[at + 1..at + 5].try_into().unwrap()) as usize;
        last = at;
        at += 9 + len;
    }
    last
}

#[test]
fn a_damaged_last_put_is_cut_back_reported_and_read_again_from_the_source() {
    let agent = build_agent("tests/e2e/durable_tcp.flow");
    let dir = temp_dir("corrupt");
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let log = dir.join("logs/n.log");
    let text: String = (0..1_000).map(|i| format!("{i}\n")).collect();
    std::fs::write(&log, text).unwrap();
    let (downstream, metrics) = (free_port(), free_port());
    let run = |stderr: Stdio| {
        Command::new(&agent)
            .current_dir(&dir)
            .env("DOWNSTREAM", format!("127.0.0.1:{downstream}"))
            .env("METRICS", format!("127.0.0.1:{metrics}"))
            .stderr(stderr)
            .spawn()
            .map(Running)
            .unwrap()
    };

    // The downstream is away: all 1,000 events wait in the channel, 10 puts of 100.
    let mut child = run(Stdio::null());
    wait_until(Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", metrics)).is_ok()
            && metric(
                metrics,
                "sluice_channel_put_successes_total{component=\"wal\"",
            ) == 1_000
    });
    child.kill().unwrap();
    child.wait().unwrap();

    // Damage the segment: flip a byte in the last put's commit record.
    let wal = dir.join("wal");
    let segment = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut data = std::fs::read(&segment).unwrap();
    let commit = last_record_start(&data);
    data[commit + 9] ^= 0xff;
    std::fs::write(&segment, &data).unwrap();

    // Restart with the downstream up: recovery cuts the damaged put and logs it. The
    // source's position went with that put, so taildir reads its 100 lines again: all
    // 1,000 arrive, in order, none twice.
    let collector = Collector::start(TcpListener::bind(("127.0.0.1", downstream)).unwrap());
    let mut child = run(Stdio::piped());
    wait_until(Duration::from_secs(30), || collector.count() >= 1_000);
    std::thread::sleep(Duration::from_millis(300));
    terminate(&child);
    let mut stderr = String::new();
    use std::io::Read;
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(wait(&mut child, Duration::from_secs(30)).success());
    assert_eq!(collector.numbers(), (0..1_000).collect::<Vec<u64>>());
    assert!(
        stderr.contains("cut the segment back to its last committed transaction")
            && stderr.contains("checksum mismatch")
            && stderr.contains("dropped_records=101")
            && stderr.contains("the original is kept aside"),
        "recovery must say what it dropped:\n{stderr}"
    );
}

/// The agent's log as it comes, gathered by a thread that ends when the agent does.
fn collect_stderr(
    child: &mut Running,
) -> (
    std::sync::Arc<std::sync::Mutex<String>>,
    std::thread::JoinHandle<()>,
) {
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let stderr = child.0.stderr.take().unwrap();
    let gathered = log.clone();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            gathered.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    (log, reader)
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` at `at`; `None` when this machine does not allow it.
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| Tmpfs(at.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_holds_sources_back_and_loses_nothing() {
    let dir = temp_dir("full-disk");
    let tmpfs = Tmpfs::mount(&dir.join("wal"), "256k");
    if !can_run(
        tmpfs.is_some(),
        "SLUICE_REQUIRE_MOUNT",
        "this machine does not allow mounting a tmpfs (needs root)",
    ) {
        return;
    }
    let agent = build_agent("tests/e2e/durable_full.flow");
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    // About 700 KiB of records: more than the 256 KiB file system holds.
    let total = 30_000u64;
    let text: String = (0..total).map(|i| format!("{i}\n")).collect();
    std::fs::write(dir.join("logs/n.log"), text).unwrap();
    let (downstream, metrics) = (free_port(), free_port());
    let mut child = Command::new(&agent)
        .current_dir(&dir)
        .env("DOWNSTREAM", format!("127.0.0.1:{downstream}"))
        .env("METRICS", format!("127.0.0.1:{metrics}"))
        .stderr(Stdio::piped())
        .spawn()
        .map(Running)
        .unwrap();
    let (log, reader) = collect_stderr(&mut child);
    // The downstream is away, so the channel fills the disk and the source is held back.
    wait_until(Duration::from_secs(30), || {
        log.lock().unwrap().contains("No space left on device")
    });
    let put = metric(
        metrics,
        "sluice_channel_put_successes_total{component=\"wal\"",
    );
    assert!(put < total, "the disk cannot hold all {total} events");
    // The downstream comes back: consumed segments are deleted, space returns, and the
    // held-back input flows again.
    let collector = Collector::start(TcpListener::bind(("127.0.0.1", downstream)).unwrap());
    wait_until(Duration::from_secs(60), || {
        collector.count() as u64 >= total
    });
    std::thread::sleep(Duration::from_millis(300));
    stop_cleanly(&mut child);
    reader.join().unwrap();
    assert_eq!(collector.numbers(), (0..total).collect::<Vec<u64>>());
    let log = log.lock().unwrap();
    assert!(
        log.contains("the source waits and retries"),
        "the error must say what happens:\n{log}"
    );
}

#[test]
fn file_roll_cuts_back_a_half_failed_write_so_its_retry_writes_nothing_twice() {
    let dir = temp_dir("file-roll-full");
    let tmpfs = Tmpfs::mount(&dir.join("out"), "128k");
    if !can_run(
        tmpfs.is_some(),
        "SLUICE_REQUIRE_MOUNT",
        "this machine does not allow mounting a tmpfs (needs root)",
    ) {
        return;
    }
    let agent = build_agent("tests/e2e/file_roll_full.flow");
    // Leave the sink about 8 KiB: the first batches fit, then one fails half-way.
    let filler = dir.join("out/filler");
    std::fs::write(&filler, vec![0u8; 120 << 10]).unwrap();
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let log = dir.join("logs/ids.log");
    append_ids(&log, 0..2_000); // about 24 KiB of lines
    let mut child = start_logged_in(&agent, &dir);
    let (log_text, reader) = collect_stderr(&mut child);
    // The disk fills within the first batches; let a few retries fail.
    std::thread::sleep(Duration::from_secs(2));
    // Space comes back; the retries go through.
    std::fs::remove_file(&filler).unwrap();
    let out = dir.join("out/data");
    wait_until(Duration::from_secs(30), || {
        delivered(&out).ids.len() >= 2_000
    });
    std::thread::sleep(Duration::from_millis(300));
    stop_cleanly(&mut child);
    reader.join().unwrap();
    let mut result = delivered(&out);
    assert_eq!(result.torn_at_end, 0, "no torn line is left behind");
    let log_text = log_text.lock().unwrap();
    assert!(log_text.contains("No space left on device"), "{log_text}");
    result.ids.sort_unstable();
    assert_eq!(
        result.ids,
        (0..2_000).collect::<Vec<usize>>(),
        "every line exactly once"
    );
}

/// A tcp sink cannot take back what it wrote: after a crash, the batch it had written
/// but not yet committed is sent again. This measures it and holds it to at most one
/// batch (`batch_size` = 100) per kill, with nothing lost.
#[test]
fn tcp_sink_repeats_at_most_one_batch_per_sigkill_and_loses_nothing() {
    let kills: u64 = 20;
    let total: u64 = 50_000;
    let agent = build_agent("tests/e2e/durable_tcp.flow");
    let dir = temp_dir("crash-tcp");
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let log = dir.join("logs/n.log");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let downstream = listener.local_addr().unwrap().port();
    let collector = Collector::start(listener);
    let metrics = free_port();
    let run = || {
        Command::new(&agent)
            .current_dir(&dir)
            .env("DOWNSTREAM", format!("127.0.0.1:{downstream}"))
            .env("METRICS", format!("127.0.0.1:{metrics}"))
            .stderr(Stdio::null())
            .spawn()
            .map(Running)
            .unwrap()
    };
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let chunk = total / kills;
    for k in 0..kills {
        use std::io::Write;
        let text: String = (k * chunk..(k + 1) * chunk)
            .map(|i| format!("{i}\n"))
            .collect();
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let mut child = run();
        std::thread::sleep(Duration::from_millis(50 + rng.below(300)));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let mut child = run();
    wait_until(Duration::from_secs(60), || {
        let seen: HashSet<u64> = collector.numbers().into_iter().collect();
        seen.len() as u64 >= total
    });
    std::thread::sleep(Duration::from_millis(300));
    stop_cleanly(&mut child);
    let numbers = collector.numbers();
    let unique: HashSet<u64> = numbers.iter().copied().collect();
    let duplicates = numbers.len() as u64 - unique.len() as u64;
    eprintln!(
        "crash harness crash-tcp: {total} events, {kills} SIGKILLs, 0 lost, {duplicates} \
         duplicates (bound: {} = one batch per kill)",
        kills * 100
    );
    assert!((0..total).all(|i| unique.contains(&i)), "lost events");
    assert!(
        duplicates <= kills * 100,
        "{duplicates} duplicates: more than one batch per kill"
    );
}
