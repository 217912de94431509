//! `file_roll`: events written to rolling files.

use std::time::Duration;

use sluice_macros::Component;

use super::{Compression, TextFormat};
use crate::params::{ByteSize, PathTemplate};

/// Writes events to files under `dir`, starting a new file every `roll_interval` or
/// `roll_size`. `dir` and `prefix` may use `%Y %m %d %H %M` (event time, UTC) and
/// `%{header}`. A write that fails half-way is cut back before it is retried. Drained
/// from a `file` channel (and the only sink draining it), the files and their lengths
/// are committed with each batch and cut back to them after a crash: every event is
/// written exactly once.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "file_roll")]
pub struct FileRollConfig {
    /// Directory the files go in (a template).
    #[param(path_key)]
    pub dir: PathTemplate,
    /// Start of each file name (a template); a timestamp and counter follow it.
    #[param(default = "\"events\"", path_key)]
    pub prefix: PathTemplate,
    /// Start a new file after this long; `0s` never rolls by time.
    #[param(default = "30s")]
    pub roll_interval: Duration,
    /// Start a new file once it reaches this size.
    #[param(min = 1)]
    pub roll_size: Option<ByteSize>,
    /// How each event is written.
    #[param(default = "\"text\"")]
    pub format: TextFormat,
    /// Compress files as they are written (`gzip` or `zstd`; the name ends in `.gz` or
    /// `.zst`). Each batch is compressed as a complete stream of its own, appended to
    /// the file: standard tools and libraries read the file as one stream, and a batch
    /// cut back after a failure or crash leaves a valid file.
    #[param(default = "\"none\"")]
    pub compression: Compression,
    /// fsync each batch before committing it (slower; survives power loss).
    #[param(default = "false")]
    pub fsync: bool,
    /// Events taken from the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
    /// Close a file no event was written to for this long (checked at each batch); the
    /// next event for it starts a new file. Like Flume's `hdfs.idleTimeout`.
    #[param(default = "5m", min = 1)]
    pub idle_timeout: Duration,
    /// Most files open at once (a `%{header}` in `dir` or `prefix` can name many); when
    /// a new one is needed, the one written to longest ago is closed.
    #[param(default = "256", min = 1)]
    pub max_open_files: u64,
}


#[cfg(feature = "sink-file-roll")]
pub use crate::path_template::Template;
#[cfg(feature = "sink-file-roll")]
pub use imp::FileRoll;

#[cfg(feature = "sink-file-roll")]
mod imp {
    use crate::build::BuildSink;
    use std::fs::{File, OpenOptions};
    use std::io::{self, Write};
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    use super::{Compression, FileRollConfig, TextFormat};
    use crate::event::Event;
    use crate::file_lengths;
    use crate::pipeline::{Journal, Sink};
    use crate::sinks::format::write_line;
    use crate::time::{now_millis, Utc};
    use crate::path_template::Template;

    /// Bytes buffered per output file before a write.
    const BUFFER: usize = 256 * 1024;

    struct OpenFile {
        path: PathBuf,
        file: File,
        /// Lines formatted straight into this buffer, written out when it is full and
        /// at the end of every batch.
        buf: Vec<u8>,
        /// Bytes on disk, and in `buf` (uncompressed) once the batch ends.
        size: u64,
        opened: Instant,
        /// When an event was last written to it.
        written: Instant,
        /// Written to in the current batch.
        dirty: bool,
    }

    impl OpenFile {
        /// Writes out what `buf` holds: as it is, or as one complete compressed stream.
        fn flush(&mut self, compression: Compression) -> io::Result<()> {
            if self.buf.is_empty() {
                return Ok(());
            }
            if compression == Compression::None {
                self.file.write_all(&self.buf)?;
                self.size += self.buf.len() as u64;
            } else {
                let packed = crate::compress::compress(&self.buf, compression)?;
                self.file.write_all(&packed)?;
                self.size += packed.len() as u64;
            }
            self.buf.clear();
            Ok(())
        }
    }

    pub struct FileRoll {
        dir: Template,
        prefix: Template,
        format: TextFormat,
        roll_interval: Duration,
        roll_size: u64,
        fsync: bool,
        idle_timeout: Duration,
        max_open_files: usize,
        extension: String,
        compression: Compression,
        /// Open files by (dir, prefix) as rendered. Usually one; the last one used is
        /// tried first, so the common case costs a string comparison, not a lookup.
        files: Vec<((String, String), OpenFile)>,
        last: usize,
        key_dir: String,
        key_prefix: String,
        /// The files open after the last successful batch, with their lengths: what a
        /// failed batch or a crash is cut back to.
        committed: Vec<(PathBuf, u64)>,
        /// Files created by the batch being written.
        created: Vec<PathBuf>,
        journal: Option<Journal>,
    }

    impl BuildSink for FileRollConfig {
        type Sink = FileRoll;

        async fn build(self) -> io::Result<FileRoll> {
            let config = self;
            Ok(FileRoll {
                dir: Template::parse(&config.dir.0)?,
                prefix: Template::parse(&config.prefix.0)?,
                format: config.format,
                roll_interval: config.roll_interval,
                roll_size: config.roll_size.map_or(u64::MAX, |s| s.0),
                fsync: config.fsync,
                idle_timeout: config.idle_timeout,
                max_open_files: usize::try_from(config.max_open_files)
                    .unwrap_or(usize::MAX)
                    .max(1),
                extension: format!(
                    "{}{}",
                    if config.format == TextFormat::Json {
                        "ndjson"
                    } else {
                        "log"
                    },
                    config.compression.extension()
                ),
                compression: config.compression,
                files: Vec::new(),
                last: 0,
                key_dir: String::new(),
                key_prefix: String::new(),
                committed: Vec::new(),
                created: Vec::new(),
                journal: None,
            })
        }
    }

    /// The event's time: its `timestamp` header (Unix ms) if it has one, else now.
    fn event_time(event: &Event, now: u64) -> Utc {
        let ms = event
            .headers
            .get("timestamp")
            .and_then(|t| t.parse().ok())
            .unwrap_or(now);
        Utc::from_millis(ms)
    }

    impl FileRoll {
        fn open(&self, dir: &str, prefix: &str) -> io::Result<OpenFile> {
            std::fs::create_dir_all(dir)?;
            let t = Utc::from_millis(now_millis());
            for n in 0u32.. {
                let path = PathBuf::from(dir).join(format!(
                    "{prefix}-{:04}{:02}{:02}T{:02}{:02}{:02}-{n}.{}",
                    t.year, t.month, t.day, t.hour, t.minute, t.second, self.extension
                ));
                match OpenOptions::new().write(true).create_new(true).open(&path) {
                    Ok(file) => {
                        tracing::debug!(path = %path.display(), "opened output file");
                        return Ok(OpenFile {
                            path,
                            file,
                            buf: Vec::with_capacity(BUFFER),
                            size: 0,
                            opened: Instant::now(),
                            written: Instant::now(),
                            dirty: false,
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(e),
                }
            }
            unreachable!("an unused file name exists")
        }

        /// Writes a batch, or cuts every file it touched back to where the last batch
        /// left it and closes them, so a retry writes nothing twice.
        fn write_batch(&mut self, batch: &[Event]) -> io::Result<()> {
            let written = self.try_write_batch(batch);
            if let Err(e) = &written {
                tracing::warn!(error = %e, "write failed; cutting the files back to the last committed batch");
                self.files.clear();
                self.last = 0;
                let committed = std::mem::take(&mut self.committed);
                let created: Vec<(PathBuf, u64)> =
                    self.created.drain(..).map(|p| (p, 0)).collect();
                cut_back(committed.iter().chain(&created));
            }
            written
        }

        /// Writes a batch to its files and flushes them (syncs, with `fsync`), then
        /// closes idle files. Blocking file I/O.
        fn try_write_batch(&mut self, batch: &[Event]) -> io::Result<()> {
            let now = now_millis();
            for event in batch {
                self.write_event(event, now)?;
            }
            // The batch is committed only once it has reached the file (and the disk,
            // with fsync).
            let compression = self.compression;
            for (_, file) in self.files.iter_mut().filter(|(_, f)| f.dirty) {
                file.flush(compression)?;
                if self.fsync {
                    file.file.sync_data()?;
                }
                file.dirty = false;
            }
            // Files nothing was written to for idle_timeout are closed.
            while let Some(i) = self
                .files
                .iter()
                .position(|(_, f)| f.written.elapsed() >= self.idle_timeout)
            {
                self.close_file(i)?;
            }
            self.committed = self
                .files
                .iter()
                .map(|(_, f)| (f.path.clone(), f.size))
                .collect();
            self.created.clear();
            Ok(())
        }

        /// A file is about to be written for the first time: with a journal, it is
        /// recorded as empty first, so a crash before the batch commits removes it.
        fn created(&mut self, path: PathBuf) -> io::Result<()> {
            self.created.push(path);
            match &self.journal {
                Some(journal) => {
                    let committed = self.committed.iter().map(|(p, len)| (p.as_path(), *len));
                    let created = self.created.iter().map(|p| (p.as_path(), 0));
                    journal.record(file_lengths::encode(committed.chain(created)))
                }
                None => Ok(()),
            }
        }

        /// Flushes and closes open file `i` (synced with `fsync`).
        fn close_file(&mut self, i: usize) -> io::Result<()> {
            let (_, mut file) = self.files.swap_remove(i);
            self.last = 0;
            file.flush(self.compression)?;
            if self.fsync {
                file.file.sync_data()?;
            }
            Ok(())
        }

        fn needs_roll(&self, file: &OpenFile) -> bool {
            file.size + file.buf.len() as u64 >= self.roll_size
                || (!self.roll_interval.is_zero() && file.opened.elapsed() >= self.roll_interval)
        }

        /// The index of the open file for the current key (`key_dir`, `key_prefix`).
        fn file_index(&self) -> Option<usize> {
            let matches = |(key, _): &((String, String), OpenFile)| {
                key.0 == self.key_dir && key.1 == self.key_prefix
            };
            if self.files.get(self.last).is_some_and(matches) {
                return Some(self.last);
            }
            self.files.iter().position(matches)
        }

        fn write_event(&mut self, event: &Event, now: u64) -> io::Result<()> {
            let static_paths = self.dir.is_static() && self.prefix.is_static();
            if !static_paths || self.files.is_empty() {
                let time = event_time(event, now);
                self.key_dir.clear();
                self.key_prefix.clear();
                self.dir.render(event, &time, &mut self.key_dir);
                self.prefix.render(event, &time, &mut self.key_prefix);
            }
            let index = match self.file_index() {
                Some(i) if !self.needs_roll(&self.files[i].1) => i,
                found => {
                    if let Some(i) = found {
                        self.close_file(i)?;
                    } else if self.files.len() >= self.max_open_files {
                        let oldest = (0..self.files.len())
                            .min_by_key(|&i| self.files[i].1.written)
                            .expect("max_open_files is at least 1");
                        tracing::debug!(
                            max_open_files = self.max_open_files,
                            "closing the output file written to longest ago"
                        );
                        self.close_file(oldest)?;
                    }
                    let file = self.open(&self.key_dir, &self.key_prefix)?;
                    let path = file.path.clone();
                    self.files
                        .push(((self.key_dir.clone(), self.key_prefix.clone()), file));
                    self.created(path)?;
                    self.files.len() - 1
                }
            };
            self.last = index;
            let file = &mut self.files[index].1;
            file.written = Instant::now();
            write_line(&mut file.buf, event, self.format);
            file.dirty = true;
            if file.buf.len() >= BUFFER {
                file.flush(self.compression)?;
            }
            Ok(())
        }
    }

    /// Cuts each file back to its length (a length of 0: removes it).
    fn cut_back<'a>(files: impl Iterator<Item = &'a (PathBuf, u64)>) {
        for (path, len) in files {
            let cut = if *len == 0 {
                std::fs::remove_file(path)
            } else {
                OpenOptions::new().write(true).open(path).and_then(|f| {
                    if f.metadata()?.len() > *len {
                        tracing::info!(file = %path.display(), len, "cutting back bytes written after the last commit");
                        f.set_len(*len)?;
                        f.sync_data()?;
                    }
                    Ok(())
                })
            };
            match cut {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => tracing::error!(
                    file = %path.display(),
                    error = %e,
                    "cannot cut the file back; the events after its last commit may appear twice"
                ),
            }
        }
    }

    impl Sink for FileRoll {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            self.write_batch(batch)
        }

        fn blocking_io(&self) -> bool {
            true
        }

        fn position(&self) -> Option<Vec<u8>> {
            Some(file_lengths::encode(
                self.committed.iter().map(|(p, len)| (p.as_path(), *len)),
            ))
        }

        fn resume(&mut self, position: &[u8]) -> io::Result<()> {
            let files = file_lengths::decode(position).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, "malformed file_roll position")
            })?;
            cut_back(files.iter());
            Ok(())
        }

        fn bind_journal(&mut self, journal: Journal) {
            self.journal = Some(journal);
        }

        async fn close(&mut self) -> io::Result<()> {
            let compression = self.compression;
            for (_, mut file) in self.files.drain(..) {
                file.flush(compression)?;
                file.file.sync_data()?;
            }
            Ok(())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn config(dir: &std::path::Path) -> FileRollConfig {
            FileRollConfig {
                dir: format!("{}/%{{k}}", dir.display()).as_str().into(),
                prefix: "events".into(),
                roll_interval: Duration::ZERO,
                roll_size: None,
                format: TextFormat::Text,
                compression: Compression::None,
                fsync: false,
                batch_size: 100,
                idle_timeout: Duration::from_secs(3600),
                max_open_files: 2,
            }
        }

        fn keyed(keys: &[&str]) -> Vec<Event> {
            keys.iter()
                .map(|k| {
                    let mut e = Event::new(format!("to {k}"));
                    e.headers.set("k", *k);
                    e
                })
                .collect()
        }

        fn lines_under(dir: &std::path::Path) -> usize {
            let mut n = 0;
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                n += if path.is_dir() {
                    lines_under(&path)
                } else {
                    std::fs::read_to_string(&path).unwrap().lines().count()
                };
            }
            n
        }

        #[tokio::test]
        async fn open_files_are_capped_and_idle_ones_closed() {
            let dir = std::env::temp_dir().join(format!("sluice-roll-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let mut sink = config(&dir).build().await.unwrap();
            sink.write(&keyed(&["a", "b", "c", "d", "a", "e"])).await.unwrap();
            assert!(sink.files.len() <= 2, "{} files open", sink.files.len());
            assert_eq!(lines_under(&dir), 6, "every event is on disk");

            let mut idle = config(&dir);
            idle.idle_timeout = Duration::from_millis(50);
            idle.max_open_files = 100;
            let mut sink = idle.build().await.unwrap();
            sink.write(&keyed(&["a", "b"])).await.unwrap();
            assert_eq!(sink.files.len(), 2);
            tokio::time::sleep(Duration::from_millis(100)).await;
            sink.write(&keyed(&["c"])).await.unwrap();
            assert_eq!(sink.files.len(), 1, "a and b were idle");
            sink.close().await.unwrap();
            assert_eq!(lines_under(&dir), 9);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
