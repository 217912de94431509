//! The on-disk format of the `file` channel: segment files of checksummed records, and
//! the checkpoint of the consumers' position.
//!
//! A segment starts with an 8-byte magic, then records, each
//!
//! ```text
//! kind: u8 | len: u32 LE | crc32c(kind, payload): u32 LE | payload: len bytes
//! ```
//!
//! `EVENT` records hold one event each; a `COMMIT` record ends every put transaction.
//! Events after the last `COMMIT` of a segment were never acknowledged to a source, so
//! recovery may drop them. A segment is only ever closed right after a `COMMIT`, so every
//! segment starts at a transaction boundary.
//!
//! A `COMMIT` may carry a source's read position (a [`Mark`]), and every segment this
//! version writes starts with a `MARKS` record: all marks committed before it, so the
//! marks outlive the segments they were committed in.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::event::Event;
use crate::marks::Mark;

/// The first bytes of every segment file.
pub const SEGMENT_MAGIC: &[u8; 8] = b"SLCWAL1\n";
/// The first bytes of the checkpoint file.
const CHECKPOINT_MAGIC: &[u8; 8] = b"SLCCKP2\n";
/// The first bytes of the checkpoint file of earlier versions (no sink positions).
const CHECKPOINT_MAGIC_V1: &[u8; 8] = b"SLCCKP1\n";
/// Kind byte, length and checksum.
pub const RECORD_HEADER: usize = 9;
/// Largest payload accepted when reading; anything bigger is corruption. The channel
/// refuses to write an event whose payload would be larger ([`payload_size`]).
pub const MAX_PAYLOAD: usize = 1 << 30;

pub const EVENT: u8 = 1;
pub const COMMIT: u8 = 2;
pub const MARKS: u8 = 3;

/// A place in the log: a segment id and a byte offset inside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub segment: u64,
    pub offset: u64,
}

impl Pos {
    /// The first record of `segment`.
    pub fn start_of(segment: u64) -> Pos {
        Pos {
            segment,
            offset: SEGMENT_MAGIC.len() as u64,
        }
    }
}

/// `dir/000…017.wal`: ids sort the same as names.
pub fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.wal"))
}

pub fn checkpoint_path(dir: &Path) -> PathBuf {
    dir.join("checkpoint")
}

/// The ids of the segments in `dir`, oldest first.
pub fn list_segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(id) = name.strip_suffix(".wal").and_then(|n| n.parse().ok()) {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

fn record_crc(kind: u8, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&[kind]), payload)
}

fn push_record(buf: &mut [u8], kind: u8, payload_start: usize) {
    let len = (buf.len() - payload_start - RECORD_HEADER) as u32;
    let crc = record_crc(kind, &buf[payload_start + RECORD_HEADER..]);
    buf[payload_start] = kind;
    buf[payload_start + 1..payload_start + 5].copy_from_slice(&len.to_le_bytes());
    buf[payload_start + 5..payload_start + 9].copy_from_slice(&crc.to_le_bytes());
}

/// The payload size of `event`'s `EVENT` record, as [`encode_event`] writes it.
pub fn payload_size(event: &Event) -> usize {
    let headers: usize = event
        .headers
        .iter()
        .map(|(name, value)| 8 + name.len() + value.len())
        .sum();
    4 + headers + event.body.len()
}

/// Appends an `EVENT` record: header count, then each name and value with a u32 length,
/// then the body.
pub fn encode_event(buf: &mut Vec<u8>, event: &Event) {
    encode_event_after(buf, &[], event);
}

/// Appends an `EVENT` record whose payload starts with `prefix` (bytes of the caller's
/// own, such as a time), then the event as [`encode_event`] writes it.
pub fn encode_event_after(buf: &mut Vec<u8>, prefix: &[u8], event: &Event) {
    let start = buf.len();
    buf.extend_from_slice(&[0; RECORD_HEADER]);
    buf.extend_from_slice(prefix);
    buf.extend_from_slice(&(event.headers.len() as u32).to_le_bytes());
    for (name, value) in event.headers.iter() {
        buf.extend_from_slice(&(name.len() as u32).to_le_bytes());
        buf.extend_from_slice(name.as_bytes());
        buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
        buf.extend_from_slice(value.as_bytes());
    }
    buf.extend_from_slice(&event.body);
    push_record(buf, EVENT, start);
}

/// Appends the `COMMIT` record that ends a put of `count` events: the count, then the
/// source's mark if there is one (source name, key, value, each with a u32 length).
pub fn encode_commit(buf: &mut Vec<u8>, count: u32, mark: Option<&Mark>) {
    let start = buf.len();
    buf.extend_from_slice(&[0; RECORD_HEADER]);
    buf.extend_from_slice(&count.to_le_bytes());
    if let Some(mark) = mark {
        put_mark(buf, mark.source, &mark.key, &mark.value);
    }
    push_record(buf, COMMIT, start);
}

/// Appends a `MARKS` record holding every mark in `marks`: a u32 count, then each as in
/// a `COMMIT`.
pub fn encode_marks<'a>(
    buf: &mut Vec<u8>,
    marks: impl ExactSizeIterator<Item = (&'a str, &'a [u8], &'a [u8])>,
) {
    let start = buf.len();
    buf.extend_from_slice(&[0; RECORD_HEADER]);
    buf.extend_from_slice(&(marks.len() as u32).to_le_bytes());
    for (source, key, value) in marks {
        put_mark(buf, source, key, value);
    }
    push_record(buf, MARKS, start);
}

fn put_mark(buf: &mut Vec<u8>, source: &str, key: &[u8], value: &[u8]) {
    for part in [source.as_bytes(), key, value] {
        buf.extend_from_slice(&(part.len() as u32).to_le_bytes());
        buf.extend_from_slice(part);
    }
}

/// A mark as read back from a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMark {
    pub source: String,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

fn take<'a>(data: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if data.len() < n {
        return None;
    }
    let (head, rest) = data.split_at(n);
    *data = rest;
    Some(head)
}

fn take_u32(data: &mut &[u8]) -> Option<usize> {
    let b = take(data, 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

fn take_mark(data: &mut &[u8]) -> Option<StoredMark> {
    let mut part = || {
        let n = take_u32(data)?;
        take(data, n)
    };
    let source = std::str::from_utf8(part()?).ok()?.to_owned();
    let key = part()?.to_vec();
    let value = part()?.to_vec();
    Some(StoredMark { source, key, value })
}

/// The event count and mark of a `COMMIT` payload; `None` if it is malformed.
pub fn decode_commit(payload: &[u8]) -> Option<(u32, Option<StoredMark>)> {
    let mut data = payload;
    let count = take_u32(&mut data)? as u32;
    if data.is_empty() {
        return Some((count, None));
    }
    let mark = take_mark(&mut data)?;
    data.is_empty().then_some((count, Some(mark)))
}

/// The marks of a `MARKS` payload; `None` if it is malformed.
pub fn decode_marks(payload: &[u8]) -> Option<Vec<StoredMark>> {
    let mut data = payload;
    let count = take_u32(&mut data)?;
    let mut marks = Vec::with_capacity(count.min(data.len() / 12));
    for _ in 0..count {
        marks.push(take_mark(&mut data)?);
    }
    data.is_empty().then_some(marks)
}

/// Every mark committed in a segment's bytes up to `end` (a transaction boundary), in
/// the order they were committed.
pub fn marks_in(data: &[u8], end: u64) -> Vec<StoredMark> {
    let end = (end as usize).min(data.len());
    let mut marks = Vec::new();
    let mut at = SEGMENT_MAGIC.len();
    while at < end {
        let Parsed::Record { kind, payload, len } = parse(&data[at..end]) else {
            break;
        };
        at += len;
        match kind {
            COMMIT => marks.extend(decode_commit(payload).and_then(|(_, mark)| mark)),
            MARKS => marks.extend(decode_marks(payload).into_iter().flatten()),
            _ => {}
        }
    }
    marks
}

/// The event of an `EVENT` payload; `None` if it is malformed.
pub fn decode_event(payload: &[u8]) -> Option<Event> {
    let mut data = payload;
    let count = take_u32(&mut data)?;
    let mut event = Event::default();
    for _ in 0..count {
        let n = take_u32(&mut data)?;
        let name = std::str::from_utf8(take(&mut data, n)?).ok()?;
        let n = take_u32(&mut data)?;
        let value = std::str::from_utf8(take(&mut data, n)?).ok()?;
        event.headers.set(name.to_owned(), value);
    }
    event.body = Bytes::copy_from_slice(data);
    Some(event)
}

/// What one record at the front of a buffer is.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A whole, intact record of `len` bytes.
    Record {
        kind: u8,
        payload: &'a [u8],
        len: usize,
    },
    /// The buffer ends inside a record (a torn write at the end of a segment).
    Incomplete,
    /// The record's checksum or kind is wrong.
    Corrupt(&'static str),
}

const CHECKSUM_MISMATCH: &str = "checksum mismatch";

/// Parses the record at the start of `data`.
pub fn parse(data: &[u8]) -> Parsed<'_> {
    if data.len() < RECORD_HEADER {
        return Parsed::Incomplete;
    }
    let kind = data[0];
    let len = u32::from_le_bytes([data[1], data[2], data[3], data[4]]) as usize;
    let crc = u32::from_le_bytes([data[5], data[6], data[7], data[8]]);
    if !matches!(kind, EVENT | COMMIT | MARKS) {
        return Parsed::Corrupt("unknown record kind");
    }
    if len > MAX_PAYLOAD {
        return Parsed::Corrupt("record length out of range");
    }
    let Some(payload) = data.get(RECORD_HEADER..RECORD_HEADER + len) else {
        return Parsed::Incomplete;
    };
    if record_crc(kind, payload) != crc {
        return Parsed::Corrupt(CHECKSUM_MISMATCH);
    }
    Parsed::Record {
        kind,
        payload,
        len: RECORD_HEADER + len,
    }
}

/// The result of checking a segment from some offset on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Events in committed transactions from the start offset on.
    pub events: u64,
    /// End of the last committed transaction: where the segment is cut if it is longer.
    pub good_end: u64,
    /// Records after `good_end` that are dropped (uncommitted or unreadable).
    pub dropped_records: u64,
    /// Why the scan stopped before the end of the data, if it did.
    pub problem: Option<&'static str>,
    /// Where a damaged record (not a torn tail) stopped the scan: committed
    /// transactions after it may still be [`salvage`]d.
    pub corrupt_at: Option<u64>,
}

/// Walks the records of a whole segment's bytes from `start`, counting committed events
/// and finding where the last commit ends.
pub fn scan(data: &[u8], start: u64) -> Scan {
    let mut scan = Scan {
        good_end: start,
        ..Scan::default()
    };
    let mut at = start as usize;
    let mut pending_events = 0;
    let mut pending_records = 0;
    while at < data.len() {
        match parse(&data[at..]) {
            Parsed::Record { kind, len, .. } => {
                at += len;
                pending_records += 1;
                if kind == EVENT {
                    pending_events += 1;
                } else {
                    scan.events += pending_events;
                    scan.good_end = at as u64;
                    pending_events = 0;
                    pending_records = 0;
                }
            }
            Parsed::Incomplete => {
                scan.problem = Some("torn record at the end");
                pending_records += 1;
                break;
            }
            Parsed::Corrupt(why) => {
                scan.problem = Some(why);
                scan.corrupt_at = Some(at as u64);
                pending_records += 1;
                break;
            }
        }
    }
    if scan.problem.is_none() && pending_records > 0 {
        scan.problem = Some("transaction without a commit record at the end");
    }
    scan.dropped_records = pending_records;
    scan
}

/// The committed transactions that can still be framed after damage at `damaged`:
/// from the next offset where an intact record starts, every run of event records
/// closed by a commit whose count matches them. A transaction the damage cut into fails
/// that count and is left out. Returns their bytes, ready to follow the segment's good
/// part, and the number of events and transactions in them.
pub fn salvage(data: &[u8], damaged: u64) -> (Vec<u8>, u64, u64) {
    let mut kept = Vec::new();
    let (mut events, mut transactions) = (0u64, 0u64);
    let mut at = damaged as usize + 1;
    // The transaction being framed: where it starts and how many events it has so far.
    let mut open: Option<(usize, u64)> = None;
    // Checksums tried on false starts cost their length; past this, stop looking.
    let mut budget = data.len().saturating_mul(8);
    while at < data.len() {
        match parse(&data[at..]) {
            Parsed::Record { kind, payload, len } => {
                let (start, count) = open.unwrap_or((at, 0));
                match kind {
                    EVENT => open = Some((start, count + 1)),
                    _ => {
                        let expected = match kind {
                            COMMIT => decode_commit(payload).map(|(n, _)| u64::from(n)),
                            _ => decode_marks(payload).map(|_| 0),
                        };
                        if expected == Some(count) {
                            kept.extend_from_slice(&data[start..at + len]);
                            events += count;
                            transactions += 1;
                        }
                        open = None;
                    }
                }
                at += len;
            }
            // Inside damage (or a record cut by it): look for the next intact record.
            damage => {
                if damage == Parsed::Corrupt(CHECKSUM_MISMATCH) {
                    let b = &data[at + 1..at + 5];
                    let checked = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                    budget = budget.saturating_sub(checked);
                    if budget == 0 {
                        break;
                    }
                }
                open = None;
                at += 1;
            }
        }
    }
    (kept, events, transactions)
}

/// What the checkpoint records: where consumers resume, and the positions of the sinks
/// that keep one (see `Sink::position`), as of that same moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub pos: Pos,
    /// Sink name → position.
    pub sinks: std::collections::BTreeMap<String, Vec<u8>>,
}

/// The checkpoint file's bytes:
///
/// ```text
/// magic (8) | body length: u32 LE | segment: u64 LE | offset: u64 LE
///   | per sink: name length u32, name, position length u32, position
///   | crc32c of everything before: u32 LE
/// ```
///
/// It is rewritten in place, so it may be followed by older, longer bytes: the body
/// length says where it ends.
pub fn encode_checkpoint(checkpoint: &Checkpoint) -> Vec<u8> {
    let mut buf = Vec::with_capacity(40);
    buf.extend_from_slice(CHECKPOINT_MAGIC);
    buf.extend_from_slice(&[0; 4]);
    buf.extend_from_slice(&checkpoint.pos.segment.to_le_bytes());
    buf.extend_from_slice(&checkpoint.pos.offset.to_le_bytes());
    for (name, position) in &checkpoint.sinks {
        for part in [name.as_bytes(), position] {
            buf.extend_from_slice(&(part.len() as u32).to_le_bytes());
            buf.extend_from_slice(part);
        }
    }
    let body = (buf.len() - CHECKPOINT_MAGIC.len() - 4) as u32;
    buf[8..12].copy_from_slice(&body.to_le_bytes());
    let crc = crc32c::crc32c(&buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf
}

/// Reads the checkpoint: `Ok(None)` when there is none, `Err` with a reason when it is
/// unreadable or corrupt.
pub fn read_checkpoint(dir: &Path) -> Result<Option<Checkpoint>, String> {
    let mut data = Vec::new();
    match File::open(checkpoint_path(dir)) {
        Ok(mut f) => f.read_to_end(&mut data).map_err(|e| e.to_string())?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    decode_checkpoint(&data).map(Some)
}

/// The checkpoint in `data` (see [`encode_checkpoint`]), or why it is not one.
pub fn decode_checkpoint(data: &[u8]) -> Result<Checkpoint, String> {
    if data.get(..8) == Some(&CHECKPOINT_MAGIC_V1[..]) {
        return decode_checkpoint_v1(data);
    }
    if data.get(..8) != Some(&CHECKPOINT_MAGIC[..]) {
        return Err("not a checkpoint file".into());
    }
    let mut rest = &data[8..];
    let body = take_u32(&mut rest).ok_or("too short")?;
    let end = 12usize.checked_add(body).ok_or("bad length")?;
    let crc = data.get(end..end + 4).ok_or("too short")?;
    if crc32c::crc32c(&data[..end]) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
        return Err("checksum mismatch".into());
    }
    let mut body = &data[12..end];
    let mut word = || {
        take(&mut body, 8).map(|b| {
            let mut w = [0u8; 8];
            w.copy_from_slice(b);
            u64::from_le_bytes(w)
        })
    };
    let pos = match (word(), word()) {
        (Some(segment), Some(offset)) => Pos { segment, offset },
        _ => return Err("too short".into()),
    };
    let mut sinks = std::collections::BTreeMap::new();
    while !body.is_empty() {
        let mut part = || {
            let n = take_u32(&mut body)?;
            take(&mut body, n)
        };
        let (Some(name), Some(position)) = (part(), part()) else {
            return Err("malformed sink position".into());
        };
        let name = std::str::from_utf8(name).map_err(|_| "malformed sink name")?;
        sinks.insert(name.to_owned(), position.to_vec());
    }
    Ok(Checkpoint { pos, sinks })
}

/// The 28-byte checkpoint of earlier versions: magic, segment, offset, crc.
fn decode_checkpoint_v1(data: &[u8]) -> Result<Checkpoint, String> {
    if data.len() != 28 {
        return Err("not a checkpoint file".into());
    }
    let crc = u32::from_le_bytes([data[24], data[25], data[26], data[27]]);
    if crc32c::crc32c(&data[..24]) != crc {
        return Err("checksum mismatch".into());
    }
    let word = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&data[at..at + 8]);
        u64::from_le_bytes(b)
    };
    Ok(Checkpoint {
        pos: Pos {
            segment: word(8),
            offset: word(16),
        },
        sinks: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(transactions: &[&[&str]]) -> Vec<u8> {
        let mut buf = SEGMENT_MAGIC.to_vec();
        for tx in transactions {
            for body in *tx {
                let mut e = Event::new(body.to_string());
                e.headers.set("host", "web-1");
                encode_event(&mut buf, &e);
            }
            encode_commit(&mut buf, tx.len() as u32, None);
        }
        buf
    }

    #[test]
    fn events_round_trip_with_headers() {
        let mut e = Event::new(&b"body \xff bytes"[..]);
        e.headers.set("a", "1");
        e.headers.set("ünï", "çødé");
        let mut buf = Vec::new();
        encode_event(&mut buf, &e);
        let Parsed::Record { kind, payload, len } = parse(&buf) else {
            panic!("not a record")
        };
        assert_eq!((kind, len), (EVENT, buf.len()));
        assert_eq!(decode_event(payload), Some(e));
    }

    #[test]
    fn a_clean_segment_scans_to_its_end() {
        let data = segment(&[&["a", "b"], &["c"]]);
        let scan = scan(&data, 8);
        assert_eq!(scan.events, 3);
        assert_eq!(scan.good_end, data.len() as u64);
        assert_eq!((scan.dropped_records, scan.problem), (0, None));
    }

    #[test]
    fn a_torn_tail_is_cut_at_the_last_commit() {
        let whole = segment(&[&["a", "b"], &["c", "d"]]);
        let first = segment(&[&["a", "b"]]).len() as u64;
        for cut in first as usize + 1..whole.len() {
            let scan = scan(&whole[..cut], 8);
            assert_eq!(scan.events, 2, "cut at {cut}");
            assert_eq!(scan.good_end, first);
            assert!(scan.problem.is_some());
        }
    }

    #[test]
    fn a_flipped_byte_is_caught_by_the_checksum() {
        let whole = segment(&[&["a", "b"], &["c", "d"]]);
        let first = segment(&[&["a", "b"]]).len();
        for at in first..whole.len() {
            let mut bad = whole.clone();
            bad[at] ^= 0x40;
            let scan = scan(&bad, 8);
            assert_eq!(scan.good_end, first as u64, "flip at {at}");
            assert_eq!(scan.events, 2);
        }
    }

    #[test]
    fn checkpoints_round_trip_and_reject_damage() {
        let dir = std::env::temp_dir().join(format!("sluice-wal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(read_checkpoint(&dir), Ok(None));
        let mut checkpoint = Checkpoint {
            pos: Pos {
                segment: 7,
                offset: 1234,
            },
            sinks: Default::default(),
        };
        checkpoint.sinks.insert("out".into(), b"files".to_vec());
        let mut bytes = encode_checkpoint(&checkpoint);
        // Rewritten in place over a longer one: the old tail does not matter.
        let mut over_longer = bytes.clone();
        over_longer.extend_from_slice(b"older, longer checkpoint bytes");
        std::fs::write(checkpoint_path(&dir), &over_longer).unwrap();
        assert_eq!(read_checkpoint(&dir), Ok(Some(checkpoint.clone())));
        std::fs::write(checkpoint_path(&dir), &bytes).unwrap();
        assert_eq!(read_checkpoint(&dir), Ok(Some(checkpoint)));
        bytes[12] ^= 1;
        std::fs::write(checkpoint_path(&dir), &bytes).unwrap();
        assert!(read_checkpoint(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn payload_size_is_what_encode_writes(
                body in proptest::collection::vec(any::<u8>(), 0..64),
                headers in proptest::collection::vec(("[a-z]{1,8}", "\\PC{0,8}"), 0..4),
            ) {
                let mut event = Event::new(body);
                for (k, v) in &headers {
                    event.headers.set(k.clone(), v.as_str());
                }
                let mut buf = Vec::new();
                encode_event(&mut buf, &event);
                prop_assert_eq!(buf.len() - RECORD_HEADER, payload_size(&event));
            }

            #[test]
            fn any_bytes_scan_and_decode_without_panicking(
                data in proptest::collection::vec(any::<u8>(), 0..512),
                start in 0u64..600,
            ) {
                let scan = scan(&data, start);
                prop_assert!(scan.good_end <= data.len().max(start as usize) as u64);
                let _ = parse(&data);
                let _ = decode_event(&data);
                let _ = decode_commit(&data);
                let _ = decode_checkpoint(&data);
                let _ = decode_marks(&data);
                let _ = marks_in(&data, start);
                if let Some(corrupt) = scan.corrupt_at {
                    let (kept, _, _) = salvage(&data, corrupt);
                    prop_assert!(kept.len() <= data.len());
                }
            }

            #[test]
            fn salvage_keeps_only_whole_transactions_that_were_written(
                bodies in proptest::collection::vec("[a-z]{0,12}", 1..8),
                at in any::<prop::sample::Index>(),
                flip in 1u8..=255,
            ) {
                let tx: Vec<&str> = bodies.iter().map(String::as_str).collect();
                let mut data = segment(&[&tx, &tx, &tx]);
                let i = at.index(data.len() - SEGMENT_MAGIC.len()) + SEGMENT_MAGIC.len();
                data[i] ^= flip;
                let damaged = scan(&data, SEGMENT_MAGIC.len() as u64);
                if let Some(corrupt) = damaged.corrupt_at {
                    let (kept, events, transactions) = salvage(&data, corrupt);
                    prop_assert!(damaged.events + events <= 3 * tx.len() as u64);
                    prop_assert_eq!(events, transactions * tx.len() as u64);
                    // What is kept reads back as whole, committed transactions.
                    let mut again = SEGMENT_MAGIC.to_vec();
                    again.extend_from_slice(&kept);
                    let rescan = scan(&again, SEGMENT_MAGIC.len() as u64);
                    prop_assert_eq!(rescan.events, events);
                    prop_assert_eq!(rescan.problem, None);
                }
            }

            #[test]
            fn a_damaged_segment_is_cut_never_misread(
                bodies in proptest::collection::vec("[a-z]{0,12}", 1..8),
                at in any::<prop::sample::Index>(),
                flip in 1u8..=255,
            ) {
                let tx: Vec<&str> = bodies.iter().map(String::as_str).collect();
                let mut data = segment(&[&tx, &tx]);
                let intact = scan(&data, SEGMENT_MAGIC.len() as u64);
                prop_assert_eq!(intact.events, 2 * tx.len() as u64);
                let i = at.index(data.len() - SEGMENT_MAGIC.len()) + SEGMENT_MAGIC.len();
                data[i] ^= flip;
                let damaged = scan(&data, SEGMENT_MAGIC.len() as u64);
                // A flipped byte costs the transaction it is in and what follows, never
                // more events than there were, and never an event that was not written.
                prop_assert!(damaged.events <= intact.events);
                prop_assert!(damaged.good_end <= i as u64 || damaged.events == intact.events);
            }
        }
    }
}
