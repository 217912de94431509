//! Reading lines from a regular file at a byte offset, for sources that remember how far
//! they got (`taildir`, `spooldir`): the caller commits the returned offset only after
//! the events are in the channel.

use std::fs::File;
use std::io;
use std::path::Path;

use bytes::Bytes;

use crate::event::Event;
use crate::metrics::SourceCounters;

/// How much of the file one read takes.
const CHUNK: usize = 256 * 1024;

/// Reads a growing file as lines, at byte offsets the caller commits. It keeps what it
/// read past the last line it handed out, so each byte is read from the file once, and
/// events are slices of the chunk they were read in (no copy per line).
#[derive(Debug, Default)]
pub struct LinesAt {
    /// Bytes read but not yet handed out as lines, starting at file offset `at`.
    pending: Bytes,
    at: u64,
    /// Inside a line over `max_line`: discarding up to its newline.
    skipping: bool,
}

impl LinesAt {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads up to `max_events` complete lines starting at `pos` and returns them with
    /// the offset just after the last line taken. When `complete` (the file will not
    /// grow: rotated away, or a spool file), a final line without a newline is taken
    /// too. Lines over `max_line` are skipped and counted as rejected. With
    /// `file_header`, each event gets a `file` header with the path.
    #[allow(clippy::too_many_arguments)]
    pub fn read(
        &mut self,
        file: &File,
        pos: u64,
        complete: bool,
        max_line: usize,
        max_events: usize,
        counters: &SourceCounters,
        file_header: Option<&Path>,
    ) -> io::Result<(Vec<Event>, u64)> {
        if pos != self.at {
            // The caller went elsewhere (a restart, a truncated file): start over there.
            *self = LinesAt {
                at: pos,
                ..LinesAt::default()
            };
        }
        let header = file_header.map(|p| p.to_string_lossy().into_owned());
        let len = file.metadata()?.len();
        let mut events = Vec::new();
        let (mut received, mut rejected) = (0u64, 0u64);
        loop {
            // Hand out the complete lines already read.
            while events.len() < max_events {
                let Some(newline) = memchr(&self.pending) else {
                    break;
                };
                let line = self.pending.split_to(newline + 1);
                self.at += line.len() as u64;
                if std::mem::take(&mut self.skipping) {
                    continue; // the tail of an over-long line
                }
                received += 1;
                let mut body = line.slice(..line.len() - 1);
                if body.last() == Some(&b'\r') {
                    body = body.slice(..body.len() - 1);
                }
                if body.len() > max_line {
                    rejected += 1;
                    continue;
                }
                let mut event = Event::new(body);
                if let Some(path) = &header {
                    event.headers.set("file", path.as_str());
                }
                events.push(event);
            }
            if events.len() >= max_events {
                break;
            }
            // What is left is part of one line.
            if self.pending.len() > max_line {
                if !self.skipping {
                    received += 1;
                    rejected += 1;
                }
                self.skipping = true;
                self.at += self.pending.len() as u64;
                self.pending.clear();
            }
            let read_at = self.at + self.pending.len() as u64;
            if read_at >= len {
                if complete && !self.pending.is_empty() {
                    let body = std::mem::take(&mut self.pending);
                    self.at += body.len() as u64;
                    if !std::mem::take(&mut self.skipping) {
                        received += 1;
                        if body.len() > max_line {
                            rejected += 1;
                        } else {
                            events.push(Event::new(body));
                        }
                    }
                }
                break;
            }
            let want = ((len - read_at) as usize).min(CHUNK);
            let mut chunk = Vec::with_capacity(self.pending.len() + want);
            chunk.extend_from_slice(&self.pending);
            let filled = chunk.len();
            chunk.resize(filled + want, 0);
            let n = read_full_at(file, &mut chunk[filled..], read_at)?;
            chunk.truncate(filled + n);
            self.pending = Bytes::from(chunk);
            if n == 0 {
                break;
            }
        }
        counters.events_received.add(received);
        counters.events_rejected.add(rejected);
        Ok((events, self.at))
    }
}

fn memchr(data: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', data)
}

fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut total = 0;
    while total < buf.len() {
        match file.read_at(&mut buf[total..], offset + total as u64)? {
            0 => break,
            n => total += n,
        }
    }
    Ok(total)
}

/// Writes `contents` to `path` atomically: a temporary file, fsync, rename, and an fsync
/// of the directory. A crash leaves the old or the new file, never a torn one.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(name: &str, data: &[u8]) -> File {
        let path = std::env::temp_dir().join(format!("sluice-lines-{}-{name}", std::process::id()));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(data)
            .unwrap();
        let file = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        file
    }

    fn bodies(events: &[Event]) -> Vec<String> {
        events.iter().map(|e| e.body_text().into_owned()).collect()
    }

    #[test]
    fn lines_across_chunk_boundaries_arrive_whole_and_in_batches() {
        let text: String = (0..100_000).map(|i| format!("line {i}\r\n")).collect();
        let file = file_with("chunks", text.as_bytes());
        let counters = SourceCounters::default();
        let (mut reader, mut pos, mut all) = (LinesAt::new(), 0, Vec::new());
        loop {
            let (events, end) = reader
                .read(&file, pos, false, 1024, 777, &counters, None)
                .unwrap();
            if end == pos {
                break;
            }
            assert!(events.len() <= 777);
            all.extend(bodies(&events));
            pos = end;
        }
        assert_eq!(pos, text.len() as u64);
        assert_eq!(
            all,
            (0..100_000)
                .map(|i| format!("line {i}"))
                .collect::<Vec<_>>()
        );
        assert_eq!(counters.events_received.get(), 100_000);
    }

    #[test]
    fn an_unfinished_last_line_waits_unless_the_file_is_complete() {
        let file = file_with("partial", b"a\nb\nhalf");
        let counters = SourceCounters::default();
        let mut reader = LinesAt::new();
        let (events, end) = reader
            .read(&file, 0, false, 100, 10, &counters, None)
            .unwrap();
        assert_eq!((bodies(&events), end), (vec!["a".into(), "b".into()], 4));
        let (events, end) = reader
            .read(&file, end, true, 100, 10, &counters, None)
            .unwrap();
        assert_eq!((bodies(&events), end), (vec!["half".to_string()], 8));
    }

    #[test]
    fn over_long_lines_are_skipped_whole_and_counted() {
        let mut data = b"short\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 700_000));
        data.extend_from_slice(b"\nafter\n");
        let file = file_with("long", &data);
        let counters = SourceCounters::default();
        let (mut reader, mut pos, mut all) = (LinesAt::new(), 0, Vec::new());
        loop {
            let (events, end) = reader
                .read(&file, pos, false, 1000, 10, &counters, None)
                .unwrap();
            if end == pos {
                break;
            }
            all.extend(bodies(&events));
            pos = end;
        }
        assert_eq!(all, ["short", "after"]);
        assert_eq!(pos, data.len() as u64);
        assert_eq!(counters.events_rejected.get(), 1);
        assert_eq!(counters.events_received.get(), 3);
    }

    #[test]
    fn a_different_position_starts_over_there() {
        let file = file_with("restart", b"one\ntwo\nthree\n");
        let counters = SourceCounters::default();
        let mut reader = LinesAt::new();
        let (events, _) = reader
            .read(&file, 0, false, 100, 1, &counters, None)
            .unwrap();
        assert_eq!(bodies(&events), ["one"]);
        // The caller did not commit: it asks again from 0 and gets the same line.
        let (events, end) = reader
            .read(&file, 0, false, 100, 10, &counters, None)
            .unwrap();
        assert_eq!(bodies(&events), ["one", "two", "three"]);
        assert_eq!(end, 14);
    }
}
