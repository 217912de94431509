//! Reading lines from a regular file at a byte offset, for sources that remember how far
//! they got (`taildir`, `spooldir`): the caller commits the returned offset only after
//! the events are in the channel.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use bytes::Bytes;

use crate::event::Event;
use crate::metrics::SourceCounters;

/// Reads up to `max_events` complete lines starting at `pos` (at most 4 MiB at a time).
/// Returns the events and the offset just after the last line taken. When `complete`
/// (the file will not grow: rotated away, or a spool file), a final line without a
/// newline is taken too. Lines over `max_line` are skipped and counted as rejected.
/// With `file_header`, each event gets a `file` header with the path.
pub fn read_lines(
    file: &mut File,
    pos: u64,
    complete: bool,
    max_line: usize,
    max_events: usize,
    counters: &SourceCounters,
    file_header: Option<&Path>,
) -> io::Result<(Vec<Event>, u64)> {
    let len = file.metadata()?.len();
    if len <= pos {
        return Ok((Vec::new(), pos));
    }
    let want = (len - pos).min(4 * 1024 * 1024) as usize;
    let mut buf = vec![0u8; want];
    file.seek(SeekFrom::Start(pos))?;
    let n = read_full(file, &mut buf)?;
    buf.truncate(n);
    let at_end = n == want && pos + n as u64 >= len;
    let data = Bytes::from(buf);
    let header = file_header.map(|p| p.to_string_lossy().into_owned());
    let mut events = Vec::new();
    let mut consumed = 0usize;
    while events.len() < max_events {
        let rest = &data[consumed..];
        let (line, advance) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (data.slice(consumed..consumed + i), i + 1),
            None if complete && at_end && !rest.is_empty() => (data.slice(consumed..), rest.len()),
            None if rest.len() > max_line => {
                // Longer than the limit and the read window: skip what was read.
                counters.events_received.inc();
                counters.events_rejected.inc();
                consumed = data.len();
                break;
            }
            None => break,
        };
        consumed += advance;
        counters.events_received.inc();
        let line = if line.last() == Some(&b'\r') {
            line.slice(..line.len() - 1)
        } else {
            line
        };
        if line.len() > max_line {
            counters.events_rejected.inc();
            continue;
        }
        let mut event = Event::new(line);
        if let Some(path) = &header {
            event.headers.set("file", path.as_str());
        }
        events.push(event);
    }
    Ok((events, pos + consumed as u64))
}

fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut total = 0;
    while total < buf.len() {
        match file.read(&mut buf[total..])? {
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
