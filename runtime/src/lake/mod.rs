//! The `lake` sink's machinery: staging files that hold the events of each file being
//! filled ([`staging`]), rows from events ([`table`]), the output formats ([`text`],
//! [`parquet`]) and where files are published ([`store`]).

pub mod parquet;
pub mod staging;
pub mod store;
pub mod table;
pub mod text;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::compress::{Compression, Encoder};
use crate::sinks::lake::{LakeCompression, LakeFormat};
use table::{Cell, Table};

/// How published files are written.
#[derive(Clone, Debug)]
pub struct Encoding {
    pub format: LakeFormat,
    pub compression: LakeCompression,
    /// The columns; `None` writes whole events (NDJSON only).
    pub table: Option<Table>,
    /// The header that holds an event's time (Unix ms or RFC 3339); events without it
    /// get the time they are written.
    pub time_header: &'static str,
}

/// What encoding a staging file produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct Encoded {
    pub rows: u64,
    /// Values written as null because they did not convert to their column's type.
    pub invalid: u64,
}

impl Encoding {
    /// The file name extension: `.parquet`, `.ndjson.zst`, `.csv.gz`...
    pub fn extension(&self) -> String {
        match self.format {
            LakeFormat::Parquet => ".parquet".to_owned(),
            LakeFormat::Ndjson => format!(".ndjson{}", self.text_compression().extension()),
            LakeFormat::Csv => format!(".csv{}", self.text_compression().extension()),
        }
    }

    fn text_compression(&self) -> Compression {
        match self.compression {
            LakeCompression::None | LakeCompression::Snappy => Compression::None,
            LakeCompression::Gzip => Compression::Gzip,
            LakeCompression::Zstd => Compression::Zstd,
        }
    }

    /// Encodes the events of staging file `staging` up to byte `end` into `out`.
    pub fn encode(&self, staging: &Path, end: u64, out: File) -> io::Result<(File, Encoded)> {
        let (mut reader, _) = staging::Reader::open(staging, end)?;
        let mut done = Encoded::default();
        let mut row: Vec<Cell<'static>> = Vec::new();
        let out = BufWriter::with_capacity(256 * 1024, out);
        let out = match (self.format, &self.table) {
            (LakeFormat::Parquet, table) => {
                let default = Table::default_columns();
                let table = table.as_ref().unwrap_or(&default);
                let mut writer = parquet::ParquetWriter::new(out, table, self.compression)?;
                while let Some((time, event)) = reader.next_event()? {
                    let mut cells = reuse(std::mem::take(&mut row));
                    done.invalid += table.row(&event, time, &mut cells);
                    writer.write_row(&cells)?;
                    row = reuse(cells);
                    done.rows += 1;
                }
                writer.finish()?
            }
            (format, table) => {
                let mut writer = Encoder::new(out, self.text_compression())?;
                let mut buf = Vec::with_capacity(128 * 1024);
                if let (LakeFormat::Csv, Some(table)) = (format, table) {
                    text::csv_header(&mut buf, table);
                }
                while let Some((time, event)) = reader.next_event()? {
                    match table {
                        None => text::ndjson_event(&mut buf, &event),
                        Some(table) => {
                            let mut cells = reuse(std::mem::take(&mut row));
                            done.invalid += table.row(&event, time, &mut cells);
                            if format == LakeFormat::Csv {
                                text::csv_row(&mut buf, &cells);
                            } else {
                                text::ndjson_row(&mut buf, table, &cells);
                            }
                            row = reuse(cells);
                        }
                    }
                    done.rows += 1;
                    text::spill(&mut buf, &mut writer, 64 * 1024)?;
                }
                writer.write_all(&buf)?;
                writer.finish()?
            }
        };
        if reader.offset() < end.min(std::fs::metadata(staging)?.len()) {
            tracing::error!(
                file = %staging.display(),
                offset = reader.offset(),
                "damaged record in a staging file; the events after it are not published"
            );
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        Ok((file, done))
    }

    /// An event's time: its time header (Unix ms or RFC 3339), else `now` (Unix ms,
    /// read once per batch by the caller).
    pub fn time(&self, event: &crate::event::Event, now: i64) -> i64 {
        event
            .headers
            .get(self.time_header)
            .and_then(table::parse_time)
            .unwrap_or(now)
    }
}

/// An emptied row vector, reused for the next event: its allocation is kept (collecting
/// into a type of the same layout happens in place), its lifetime freed from the event
/// it held.
fn reuse<'b>(mut cells: Vec<Cell<'_>>) -> Vec<Cell<'b>> {
    cells.clear();
    cells.into_iter().map(|_| Cell::Null).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use proptest::prelude::*;

    fn table() -> Table {
        let specs = [
            ("s", "string"),
            ("i", "int .i"),
            ("f", "float body.a"),
            ("b", "bool .b"),
            ("t", "timestamp .t"),
        ];
        Table::new(
            specs
                .iter()
                .map(|(n, s)| (n.to_string(), sluice_core::column::parse(n, s).unwrap()))
                .collect(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever follows a staging file's header (a torn or damaged tail), reading
        /// stops at the first bad record, and every intact event is encoded in every
        /// format without a panic; any header value and body convert or become null.
        #[test]
        fn any_staging_tail_and_any_values_encode(
            values in proptest::collection::vec(
                (any::<String>(), any::<String>(), proptest::collection::vec(any::<u8>(), 0..40)),
                0..8,
            ),
            tail in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let dir = std::env::temp_dir().join(format!("sluice-lake-prop-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("p.stg");
            let _ = std::fs::remove_file(&path);
            let (mut file, _) = staging::create(&path, "dt=x").unwrap();
            let mut buf = Vec::new();
            for (i, (a, b, body)) in values.iter().enumerate() {
                let mut e = Event::new(body.clone());
                e.headers.set("i", a.clone());
                e.headers.set("t", b.clone());
                e.headers.set("s", a.clone());
                staging::encode(&mut buf, &e, i as i64);
            }
            file.write_all(&buf).unwrap();
            file.write_all(&tail).unwrap();
            drop(file);
            let contents = staging::inspect(&path, u64::MAX).unwrap();
            prop_assert!(contents.events >= values.len() as u64);
            for (format, table) in [
                (LakeFormat::Parquet, Some(table())),
                (LakeFormat::Ndjson, None),
                (LakeFormat::Csv, Some(table())),
            ] {
                let encoding = Encoding {
                    format,
                    compression: LakeCompression::Zstd,
                    table,
                    time_header: "timestamp",
                };
                let out = File::create(dir.join("out")).unwrap();
                let (_, done) = encoding.encode(&path, contents.good_end, out).unwrap();
                prop_assert_eq!(done.rows, contents.events);
            }
        }
    }
}
