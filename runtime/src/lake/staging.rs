//! Staging files: the events of a file being filled, kept on local disk until the file
//! is published. A staging file starts with a magic and the partition it belongs to,
//! then holds one checksummed `EVENT` record per event in the `file` channel's record
//! format ([`crate::wal`]), so a torn tail after a crash is recognised and cut off. Each
//! record's payload starts with the event time (Unix ms, i64 LE) the partition was
//! chosen by, so a `time` column holds that same time, not the time of publishing.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::event::Event;
use crate::wal;

/// The first bytes of every staging file.
const MAGIC: &[u8; 8] = b"SLKSTG2\n";
/// Largest partition path accepted when reading a header back.
const MAX_PARTITION: usize = 64 * 1024;
/// The extension of staging files.
pub const EXTENSION: &str = "stg";

/// Creates a staging file for `partition` and writes its header; returns the file and
/// the header's length.
pub fn create(path: &Path, partition: &str) -> io::Result<(File, u64)> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(&(partition.len() as u32).to_le_bytes());
    header.extend_from_slice(partition.as_bytes());
    file.write_all(&header)?;
    Ok((file, header.len() as u64))
}

/// The length of the header of a staging file for `partition`: a file no longer than
/// this holds no events.
pub fn header_len(partition: &str) -> u64 {
    (MAGIC.len() + 4 + partition.len()) as u64
}

/// Appends `event`, which happened at `time` (Unix ms), to `buf` as a staging record.
pub fn encode(buf: &mut Vec<u8>, event: &Event, time: i64) {
    wal::encode_event_after(buf, &time.to_le_bytes(), event);
}

/// A staging file read back from the start.
pub struct Reader {
    input: BufReader<File>,
    /// Where the next record starts.
    offset: u64,
    /// Where reading must stop (the committed length), if known.
    end: u64,
    record: Vec<u8>,
}

/// What is in a staging file, as far as it is intact.
pub struct Contents {
    pub partition: String,
    /// Events in intact records up to the end given.
    pub events: u64,
    /// End of the last intact record.
    pub good_end: u64,
}

impl Reader {
    /// Opens `path` and reads its header; `end` bounds the records read (`u64::MAX`: to
    /// the end of the file).
    pub fn open(path: &Path, end: u64) -> io::Result<(Reader, String)> {
        let file = File::open(path)?;
        let end = end.min(file.metadata()?.len());
        let mut input = BufReader::with_capacity(256 * 1024, file);
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(invalid(path, "not a staging file (bad magic)"));
        }
        let mut len = [0u8; 4];
        input.read_exact(&mut len)?;
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_PARTITION {
            return Err(invalid(path, "partition name too long"));
        }
        let mut partition = vec![0u8; len];
        input.read_exact(&mut partition)?;
        let partition = String::from_utf8(partition)
            .map_err(|_| invalid(path, "partition name is not UTF-8"))?;
        let reader = Reader {
            input,
            offset: 12 + len as u64,
            end,
            record: Vec::new(),
        };
        Ok((reader, partition))
    }

    /// The next event and its time; `None` at the end or at the first record that is
    /// torn or damaged.
    pub fn next_event(&mut self) -> io::Result<Option<(i64, Event)>> {
        if self.offset + wal::RECORD_HEADER as u64 > self.end {
            return Ok(None);
        }
        self.record.resize(wal::RECORD_HEADER, 0);
        if read_fully(&mut self.input, &mut self.record)? < wal::RECORD_HEADER {
            return Ok(None);
        }
        let len = u32::from_le_bytes([
            self.record[1],
            self.record[2],
            self.record[3],
            self.record[4],
        ]) as usize;
        if len > wal::MAX_PAYLOAD || self.offset + (wal::RECORD_HEADER + len) as u64 > self.end {
            return Ok(None);
        }
        self.record.resize(wal::RECORD_HEADER + len, 0);
        if read_fully(&mut self.input, &mut self.record[wal::RECORD_HEADER..])? < len {
            return Ok(None);
        }
        match wal::parse(&self.record) {
            wal::Parsed::Record {
                kind: wal::EVENT,
                payload,
                len,
            } => {
                let decoded = payload.split_first_chunk::<8>().and_then(|(time, event)| {
                    Some((i64::from_le_bytes(*time), wal::decode_event(event)?))
                });
                if decoded.is_some() {
                    self.offset += len as u64;
                }
                Ok(decoded)
            }
            _ => Ok(None),
        }
    }

    /// End of the last record read.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_fully(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut read = 0;
    while read < buf.len() {
        match input.read(&mut buf[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(read)
}

/// Reads a staging file up to `end` and says what is intact in it.
pub fn inspect(path: &Path, end: u64) -> io::Result<Contents> {
    let (mut reader, partition) = Reader::open(path, end)?;
    let mut events = 0;
    while reader.next_event()?.is_some() {
        events += 1;
    }
    Ok(Contents {
        partition,
        events,
        good_end: reader.offset(),
    })
}

/// Cuts `path` to `len` bytes if it is longer.
pub fn cut(path: &Path, len: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    if file.metadata()?.len() > len {
        tracing::info!(file = %path.display(), len, "cutting a staging file back to its last commit");
        file.set_len(len)?;
        file.sync_data()?;
    }
    Ok(())
}

/// The staging files in `dir`.
pub fn list(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == EXTENSION) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn invalid(path: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {what}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_tail_is_cut_off() {
        let dir = std::env::temp_dir().join(format!("sluice-staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.stg");
        let (mut file, header) = create(&path, "dt=2024-01-01/app=web").unwrap();
        let mut buf = Vec::new();
        for i in 0..3 {
            let mut e = Event::new(format!("event {i}"));
            e.headers.set("n", i.to_string());
            encode(&mut buf, &e, 1_000 + i);
        }
        file.write_all(&buf).unwrap();
        let whole = header + buf.len() as u64;
        let contents = inspect(&path, u64::MAX).unwrap();
        assert_eq!(contents.partition, "dt=2024-01-01/app=web");
        assert_eq!((contents.events, contents.good_end), (3, whole));

        // A half-written fourth record, then a committed length that stops after two.
        file.write_all(&[wal::EVENT, 200, 0, 0, 0, 1, 2]).unwrap();
        assert_eq!(inspect(&path, u64::MAX).unwrap().good_end, whole);
        let two = inspect(&path, whole - 1).unwrap();
        assert_eq!(two.events, 2);
        cut(&path, two.good_end).unwrap();
        let (mut reader, _) = Reader::open(&path, u64::MAX).unwrap();
        let (time, first) = reader.next_event().unwrap().unwrap();
        assert_eq!(time, 1_000);
        assert_eq!(
            (first.body_text().as_ref(), first.headers.get("n")),
            ("event 0", Some("0"))
        );
        assert!(reader.next_event().unwrap().is_some());
        assert!(reader.next_event().unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
