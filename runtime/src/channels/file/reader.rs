//! Reading committed records back out of the segments, in order.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::event::Batch;
use crate::wal::{self, Parsed, Pos};

/// Where takes read next, with the open segment file.
pub(super) struct Reader {
    pub(super) pos: Pos,
    pub(super) file: Option<BufReader<File>>,
    pub(super) record: Vec<u8>,
}

impl Reader {
    /// Reads up to `max` committed events, never past `end`, moving on to the next
    /// live segment at the end of one. A read error comes back with the events read
    /// before it, which are good.
    pub(super) fn read(
        &mut self,
        dir: &Path,
        segments: &BTreeMap<u64, u64>,
        end: Pos,
        max: usize,
    ) -> (Batch, Option<io::Error>) {
        let mut batch = Vec::new();
        let error = self.read_into(&mut batch, dir, segments, end, max).err();
        (batch, error)
    }

    fn read_into(
        &mut self,
        batch: &mut Batch,
        dir: &Path,
        segments: &BTreeMap<u64, u64>,
        end: Pos,
        max: usize,
    ) -> io::Result<()> {
        while batch.len() < max && self.pos < end {
            let limit = if self.pos.segment == end.segment {
                end.offset
            } else {
                segments.get(&self.pos.segment).copied().unwrap_or(0)
            };
            if self.pos.offset >= limit {
                // This segment is done: on to the next live one.
                let next = segments
                    .range(self.pos.segment + 1..)
                    .next()
                    .map(|(id, _)| *id);
                self.file = None;
                match next {
                    Some(id) => self.pos = Pos::start_of(id),
                    None => {
                        self.pos = end;
                        break;
                    }
                }
                continue;
            }
            if self.file.is_none() {
                let mut file = File::open(wal::segment_path(dir, self.pos.segment))?;
                file.seek(SeekFrom::Start(self.pos.offset))?;
                self.file = Some(BufReader::with_capacity(256 * 1024, file));
            }
            let file = self.file.as_mut().expect("opened above");
            let mut header = [0u8; wal::RECORD_HEADER];
            file.read_exact(&mut header)?;
            let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
            if self.pos.offset + (wal::RECORD_HEADER + len) as u64 > limit {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "record runs past the committed end",
                ));
            }
            self.record.clear();
            self.record.extend_from_slice(&header);
            self.record.resize(wal::RECORD_HEADER + len, 0);
            file.read_exact(&mut self.record[wal::RECORD_HEADER..])?;
            match wal::parse(&self.record) {
                Parsed::Record { kind, payload, len } => {
                    if kind == wal::EVENT {
                        let event = wal::decode_event(payload).ok_or_else(|| {
                            io::Error::new(io::ErrorKind::InvalidData, "malformed event record")
                        })?;
                        batch.push(event);
                    }
                    self.pos.offset += len as u64;
                }
                Parsed::Incomplete => unreachable!("the whole record was read"),
                Parsed::Corrupt(why) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, why))
                }
            }
        }
        Ok(())
    }

    /// Skips the rest of a damaged segment.
    pub(super) fn skip_segment(&mut self, segments: &BTreeMap<u64, u64>, end: Pos) {
        self.file = None;
        self.pos = match segments.range(self.pos.segment + 1..).next() {
            Some((id, _)) if Pos::start_of(*id) <= end => Pos::start_of(*id),
            _ => end,
        };
    }
}
