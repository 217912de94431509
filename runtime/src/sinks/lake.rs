//! `lake`: Hive-partitioned Parquet, NDJSON or CSV files on local disk or S3.

use std::path::PathBuf;
use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::params::{ByteSize, Columns, PathTemplate, StorageUrl, Url};

/// Writes events as Parquet, NDJSON or CSV files in Hive-style partitions
/// (`dt=2024-05-01/app=web/part-….parquet`) under a local directory or an S3 prefix, for
/// Hive, Spark, Trino or DuckDB to query. Events are first appended to a staging file per
/// partition on local disk; at roll time the file is encoded and published atomically
/// (a rename, or a completed upload), so readers never see a partial file. Drained from a
/// `file` channel that only this sink drains, the staging files and their lengths are
/// committed with each batch: after a crash every event is published exactly once.
/// Querying the files from DuckDB, Spark and Hive, and Flume's HDFS settings: see
/// docs/lake.md.
#[derive(Clone, Debug, Component)]
#[component(
    role = "sink",
    kind = "lake",
    rule(
        when = "format=csv",
        then = "schema",
        help = "CSV files need their columns: add `schema = { name = \"type [source]\", ... }`"
    ),
    rule(
        when = "compression=snappy",
        then = "format=parquet",
        help = "snappy compresses inside Parquet files; NDJSON and CSV files take zstd, gzip or none"
    )
)]
pub struct LakeConfig {
    /// Where the files go: a directory (`"/data/lake"`, `"file:///data/lake"`) or
    /// `"s3://bucket/prefix"`.
    #[param(path_key)]
    pub url: StorageUrl,
    /// File format.
    #[param(default = "\"parquet\"")]
    pub format: LakeFormat,
    /// `zstd`, `gzip` or `none`; `snappy` too for Parquet (inside the file). NDJSON and
    /// CSV files are compressed whole, and named `.zst` or `.gz`.
    #[param(default = "\"zstd\"")]
    pub compression: LakeCompression,
    /// The partition directories, a template: `%Y %m %d %H %M` (event time in
    /// `time_zone`) and `%{header}`.
    #[param(default = "\"dt=%Y-%m-%d\"")]
    pub partition: PathTemplate,
    /// The columns, in order: name → `"type [source]"`, e.g. `{ status = "int",
    /// message = "string body", ms = "float body.latency_ms", at = "timestamp time" }`.
    /// Types: string, int, float, bool, timestamp. Sources: `.header`, `body`,
    /// `body.field` (JSON), `time`; none means the header named like the column.
    /// Without a schema, Parquet gets `timestamp` and `body`, NDJSON whole events; CSV
    /// needs one.
    pub schema: Option<Columns>,
    /// The header holding the event time (Unix ms or RFC 3339); events without it use
    /// the time they are written.
    #[param(default = "\"timestamp\"")]
    pub time_header: String,
    /// Time zone of the partition escapes: `"UTC"` or an offset like `"+05:30"`.
    #[param(default = "\"UTC\"")]
    pub time_zone: String,
    /// Start of each file name; the staging file's id and the extension follow it.
    #[param(default = "\"part\"")]
    pub prefix: String,
    /// Publish a file once this much event data (uncompressed) went into it.
    #[param(default = "128MiB", min = 1)]
    pub roll_size: ByteSize,
    /// Publish a file this long after it was started.
    #[param(default = "5m", min = 1)]
    pub roll_interval: Duration,
    /// Publish a file once it holds this many events.
    #[param(min = 1)]
    pub roll_count: Option<u64>,
    /// Publish a file nothing was written to for this long (a partition that stopped
    /// receiving, such as yesterday's).
    #[param(default = "1m", min = 1)]
    pub idle_timeout: Duration,
    /// Most files filled at once; when another partition needs one, the file written
    /// to longest ago is published.
    #[param(default = "64", min = 1)]
    pub max_open_partitions: u64,
    /// Local directory for staging files. Default: `_sluice_staging` under a local
    /// `url`; an S3 `url` needs one. Each lake sink needs its own (the agent refuses
    /// to start a second one on a directory in use).
    pub staging_dir: Option<PathBuf>,
    /// fsync staging files at each batch (survives power loss, not only crashes).
    #[param(default = "false")]
    pub fsync: bool,
    /// Events taken from the channel per transaction.
    #[param(batch, default = "1000", min = 1)]
    pub batch_size: u64,
    /// S3: the endpoint of an S3-compatible store (MinIO, Ceph, R2, ...);
    /// default: AWS for `region`.
    pub endpoint: Option<Url>,
    /// S3: the region.
    #[param(default = "\"us-east-1\"")]
    pub region: String,
    /// S3: path-style requests (`endpoint/bucket/key`), which most S3-compatible stores
    /// need. Default: on when `endpoint` is set.
    pub path_style: Option<bool>,
    /// S3: longest pause between retries of a failed request or upload.
    #[param(default = "30s", min = 1)]
    pub retry_max_backoff: Duration,
    /// S3: how long one request may take.
    #[param(default = "60s", min = 1)]
    pub timeout: Duration,
}

/// The format of the files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum LakeFormat {
    Parquet,
    Ndjson,
    Csv,
}

/// How the files are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum LakeCompression {
    None,
    Zstd,
    Gzip,
    /// Parquet only.
    Snappy,
}

#[cfg(feature = "sink-lake")]
pub use imp::Lake;

#[cfg(feature = "sink-lake")]
mod imp {
    use std::fs::File;
    use std::io::{self, Write};
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use sluice_core::url::Storage;

    use super::{LakeCompression, LakeConfig, LakeFormat};
    use crate::build::BuildSink;
    use crate::event::{static_name, Event};
    use crate::file_lengths;
    use crate::lake::store::{S3Settings, Store};
    use crate::lake::table::Table;
    use crate::lake::{staging, Encoding};
    use crate::metrics::SinkCounters;
    use crate::path_template::Template;
    use crate::pipeline::{Journal, Sink};
    use crate::time::{now_millis, Utc};

    /// Bytes of staging records buffered per open file before a write.
    const BUFFER: usize = 64 * 1024;

    /// A staging file: the events of one output file.
    struct Staged {
        path: PathBuf,
        /// The id the published file is named after.
        id: String,
        partition: String,
        /// Bytes committed (written and flushed at the end of a batch).
        len: u64,
    }

    /// A staging file still being filled.
    struct Open {
        staged: Staged,
        file: File,
        buf: Vec<u8>,
        /// `staged.len` after the last successful batch: what a failure cuts back to.
        committed: u64,
        /// Event bytes (body and headers) written, for `roll_size`.
        bytes: u64,
        events: u64,
        opened: Instant,
        written: Instant,
    }

    impl Open {
        fn flush(&mut self) -> io::Result<()> {
            if !self.buf.is_empty() {
                self.file.write_all(&self.buf)?;
                self.staged.len += self.buf.len() as u64;
                self.buf.clear();
            }
            Ok(())
        }
    }

    pub struct Lake {
        store: Store,
        staging_dir: PathBuf,
        encoding: Encoding,
        partition: Template,
        /// `time_zone`'s offset from UTC, in ms.
        offset_ms: i64,
        prefix: String,
        roll_size: u64,
        roll_interval: Duration,
        roll_count: u64,
        idle_timeout: Duration,
        max_open: usize,
        fsync: bool,
        open: Vec<Open>,
        /// Closed staging files waiting to be published (retried until they are).
        pending: Vec<Staged>,
        /// A batch is being written: still set at the next call only when the write
        /// panicked, and then its staging bytes are cut back first.
        in_batch: bool,
        /// Held for the sink's life: one staging directory, one sink.
        _lock: File,
        /// Files closed during the batch being written, with their length before it:
        /// what a failed batch cuts them back to.
        closed_in_batch: Vec<(PathBuf, u64)>,
        /// Whether a durable channel keeps this sink's position (see `Sink::position`).
        keeps_position: bool,
        /// The staging files and lengths committed last, from the channel at start-up.
        resumed: Option<Vec<(PathBuf, u64)>>,
        recovered: bool,
        counters: Option<Arc<SinkCounters>>,
        /// Unique to this run: staging file ids start with it.
        run_id: String,
        next_seq: u64,
        key: String,
        last: usize,
        /// When publishing failed last; no retry before `retry_at`.
        retry_at: Option<Instant>,
        backoff: Duration,
        max_backoff: Duration,
    }

    fn invalid(message: String) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, message)
    }

    /// `"UTC"`, `"Z"` or `"+05:30"` / `"-08:00"` → offset in ms.
    fn parse_offset(zone: &str) -> io::Result<i64> {
        let zone = zone.trim();
        if zone.eq_ignore_ascii_case("utc") || zone == "Z" {
            return Ok(0);
        }
        let bad = || {
            invalid(format!(
                "time_zone `{zone}` is not UTC or an offset like \"+05:30\""
            ))
        };
        let (sign, rest) = match zone.as_bytes().first() {
            Some(b'+') => (1, &zone[1..]),
            Some(b'-') => (-1, &zone[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(bad)?;
        let (h, m): (i64, i64) = (
            h.parse().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
        );
        if h > 14 || m > 59 {
            return Err(bad());
        }
        Ok(sign * (h * 3600 + m * 60) * 1000)
    }

    /// A value unique to this run of the agent, for file names.
    fn run_id() -> String {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(now_millis());
        h.write_u32(std::process::id());
        format!("{:08x}", h.finish() as u32)
    }

    impl BuildSink for LakeConfig {
        type Sink = Lake;

        async fn build(self) -> io::Result<Lake> {
            let c = self;
            let location = sluice_core::url::parse_storage(&c.url.0)
                .map_err(|e| invalid(format!("url `{}`: {e}", c.url.0)))?;
            if c.compression == LakeCompression::Snappy && c.format != LakeFormat::Parquet {
                return Err(invalid(format!(
                    "compression = \"snappy\" is for Parquet; {} files take zstd, gzip or none",
                    c.format.as_str()
                )));
            }
            let table = match &c.schema {
                Some(columns) => {
                    let mut specs = Vec::new();
                    for (name, spec) in &columns.0 {
                        let spec = sluice_core::column::parse(name, &spec.0)
                            .map_err(|e| invalid(format!("schema column `{name}`: {e}")))?;
                        specs.push((name.clone(), spec));
                    }
                    if specs.is_empty() {
                        return Err(invalid("the schema has no columns".into()));
                    }
                    Some(Table::new(specs))
                }
                None if c.format == LakeFormat::Csv => {
                    return Err(invalid(
                        "format = \"csv\" needs a schema: the columns to write".into(),
                    ))
                }
                None => None,
            };
            let partition = Template::parse(&c.partition.0)?;
            // Header values are made path-safe when rendered; the template's own text
            // must not lead out of the location either.
            let mut sample = String::new();
            partition.render(&Event::default(), &Utc::from_millis(0), &mut sample);
            if sample.starts_with('/')
                || sample
                    .split('/')
                    .any(|segment| segment == ".." || segment == ".")
            {
                return Err(invalid(format!(
                    "partition `{}` must stay inside the location (no leading `/`, no `.` or `..`)",
                    c.partition.0
                )));
            }
            let (store, default_staging) = match location {
                Storage::Local(dir) => {
                    let root = PathBuf::from(dir);
                    (Store::local(&root), Some(root.join("_sluice_staging")))
                }
                Storage::S3 { bucket, prefix } => {
                    let store = Store::s3(&S3Settings {
                        bucket,
                        prefix,
                        region: &c.region,
                        endpoint: c.endpoint.as_ref().map(|e| e.0.as_str()),
                        path_style: c.path_style.unwrap_or(c.endpoint.is_some()),
                        max_backoff: c.retry_max_backoff,
                        timeout: c.timeout,
                    })?;
                    (store, None)
                }
            };
            let staging_dir = c.staging_dir.clone().or(default_staging).ok_or_else(|| {
                invalid(
                    "an s3:// lake needs `staging_dir`: a local directory for the files being filled"
                        .into(),
                )
            })?;
            std::fs::create_dir_all(&staging_dir).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("staging_dir {}: {e}", staging_dir.display()),
                )
            })?;
            // Another sink (of this agent or another) recovering from the same staging
            // directory would remove or publish this one's files.
            let lock = File::create(staging_dir.join(".lock"))?;
            if lock.try_lock().is_err() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!(
                        "staging_dir {} is in use by another lake sink; give each its own",
                        staging_dir.display()
                    ),
                ));
            }
            Ok(Lake {
                store,
                staging_dir,
                encoding: Encoding {
                    format: c.format,
                    compression: c.compression,
                    table,
                    time_header: static_name(&c.time_header),
                },
                partition,
                offset_ms: parse_offset(&c.time_zone)?,
                prefix: c.prefix.clone(),
                roll_size: c.roll_size.0,
                roll_interval: c.roll_interval,
                roll_count: c.roll_count.unwrap_or(u64::MAX),
                idle_timeout: c.idle_timeout,
                max_open: usize::try_from(c.max_open_partitions)
                    .unwrap_or(usize::MAX)
                    .max(1),
                fsync: c.fsync,
                open: Vec::new(),
                pending: Vec::new(),
                in_batch: false,
                _lock: lock,
                closed_in_batch: Vec::new(),
                keeps_position: false,
                resumed: None,
                recovered: false,
                counters: None,
                run_id: run_id(),
                next_seq: 0,
                key: String::new(),
                last: 0,
                retry_at: None,
                backoff: Duration::from_millis(100),
                max_backoff: c.retry_max_backoff,
            })
        }
    }

    impl Lake {
        /// Most closed files waiting to be published before writes wait for them (the
        /// destination is down): backpressure instead of a full disk.
        fn max_pending(&self) -> usize {
            self.max_open * 4
        }

        /// At the first write or tick: staging files left by the last run are cut back
        /// to what was committed and published; those created after the last commit
        /// are removed. Every step can be repeated, so a failure part-way leaves the
        /// state as it was and the next call starts over.
        async fn recover(&mut self) -> io::Result<()> {
            if self.recovered {
                return Ok(());
            }
            // With no position to go by (none committed yet, or not decodable),
            // staging files are published whole: a duplicate is better than a loss.
            let committed = self.resumed.as_ref().filter(|_| self.keeps_position);
            let mut found = Vec::new();
            for path in staging::list(&self.staging_dir)? {
                self.store.clean_up(&path).await?;
                let end = match committed {
                    Some(files) => match files.iter().find(|(p, _)| *p == path) {
                        Some((_, len)) => *len,
                        None => {
                            tracing::info!(file = %path.display(), "removing a staging file created after the last commit");
                            std::fs::remove_file(&path)?;
                            continue;
                        }
                    },
                    None => u64::MAX,
                };
                let contents = match staging::inspect(&path, end) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!(file = %path.display(), error = %e, "unreadable staging file; moved aside");
                        std::fs::rename(&path, path.with_extension("damaged"))?;
                        continue;
                    }
                };
                staging::cut(&path, contents.good_end)?;
                let id = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                tracing::info!(file = %path.display(), events = contents.events, partition = %contents.partition, "publishing a staging file left by the last run");
                found.push(Staged {
                    path,
                    id,
                    partition: contents.partition,
                    len: contents.good_end,
                });
            }
            self.pending.extend(found);
            self.resumed = None;
            self.recovered = true;
            Ok(())
        }

        /// Publishes the closed staging files, oldest first, unless a failure asked to
        /// wait. A file that fails is logged and kept, the others are still tried (one
        /// file the destination refuses does not hold up the rest), and the next round
        /// waits with backoff.
        async fn publish_pending(&mut self) {
            if self.retry_at.is_some_and(|at| Instant::now() < at) {
                return;
            }
            let mut failed = false;
            let mut i = 0;
            while i < self.pending.len() {
                match self.publish(&self.pending[i]).await {
                    Ok(()) => {
                        let staged = self.pending.remove(i);
                        if let Err(e) = std::fs::remove_file(&staged.path) {
                            tracing::warn!(file = %staged.path.display(), error = %e, "cannot remove a published staging file");
                        }
                    }
                    Err(e) => {
                        if let Some(c) = &self.counters {
                            c.connection_failures.inc();
                        }
                        tracing::warn!(
                            destination = %self.store.describe(),
                            file = %self.pending[i].path.display(),
                            error = %e,
                            retry_in_ms = self.backoff.as_millis() as u64,
                            "publishing failed; will retry"
                        );
                        failed = true;
                        // Unless the failure is this file's own, the destination is
                        // down or refusing: the others would fail the same way.
                        if !matches!(
                            e.kind(),
                            io::ErrorKind::InvalidInput
                                | io::ErrorKind::InvalidData
                                | io::ErrorKind::InvalidFilename
                        ) {
                            break;
                        }
                        i += 1;
                    }
                }
            }
            if failed {
                self.retry_at = Some(Instant::now() + self.backoff);
                self.backoff = (self.backoff * 2).min(self.max_backoff);
            } else {
                self.retry_at = None;
                self.backoff = Duration::from_millis(100);
            }
        }

        async fn publish(&self, staged: &Staged) -> io::Result<()> {
            let name = format!(
                "{}-{}{}",
                self.prefix,
                staged.id,
                self.encoding.extension()
            );
            let relative = if staged.partition.is_empty() {
                name
            } else {
                format!("{}/{name}", staged.partition)
            };
            if staged.len <= staging::header_len(&staged.partition) {
                return Ok(());
            }
            let mut encoded = Default::default();
            let started = Instant::now();
            self.store
                .publish(&relative, &staged.path, |out| {
                    let (file, done) = self.encoding.encode(&staged.path, staged.len, out)?;
                    encoded = done;
                    Ok(file)
                })
                .await?;
            if let Some(c) = &self.counters {
                c.files_published.inc();
                c.values_invalid.add(encoded.invalid);
            }
            tracing::info!(
                file = %relative,
                destination = %self.store.describe(),
                rows = encoded.rows,
                invalid_values = encoded.invalid,
                ms = started.elapsed().as_millis() as u64,
                "published"
            );
            Ok(())
        }

        fn new_staging(&mut self, partition: &str) -> io::Result<Open> {
            let t = Utc::from_millis(now_millis());
            let id = format!(
                "{:04}{:02}{:02}T{:02}{:02}{:02}-{}-{:05}",
                t.year, t.month, t.day, t.hour, t.minute, t.second, self.run_id, self.next_seq
            );
            self.next_seq += 1;
            let path = self
                .staging_dir
                .join(format!("{id}.{}", staging::EXTENSION));
            let (file, header) = staging::create(&path, partition)?;
            if self.fsync {
                File::open(&self.staging_dir)?.sync_all()?;
            }
            Ok(Open {
                staged: Staged {
                    path,
                    id,
                    partition: partition.to_owned(),
                    len: header,
                },
                file,
                buf: Vec::with_capacity(BUFFER),
                committed: header,
                bytes: 0,
                events: 0,
                opened: Instant::now(),
                written: Instant::now(),
            })
        }

        fn due(&self, open: &Open) -> bool {
            open.bytes >= self.roll_size
                || open.events >= self.roll_count
                || open.opened.elapsed() >= self.roll_interval
        }

        /// Closes open file `i`: its staging file waits to be published, even when the
        /// last flush fails (a failed batch then cuts it back with the others).
        fn close(&mut self, i: usize) -> io::Result<()> {
            let mut open = self.open.swap_remove(i);
            self.last = 0;
            self.closed_in_batch
                .push((open.staged.path.clone(), open.committed));
            let flushed = open.flush().and_then(|()| {
                if self.fsync {
                    open.file.sync_data()
                } else {
                    Ok(())
                }
            });
            self.pending.push(open.staged);
            flushed
        }

        /// Closes the files that are due by time or idle.
        fn close_due(&mut self) -> io::Result<()> {
            while let Some(i) = self.open.iter().position(|o| {
                o.written.elapsed() >= self.idle_timeout || o.opened.elapsed() >= self.roll_interval
            }) {
                self.close(i)?;
            }
            Ok(())
        }

        /// Appends `event` to its partition's staging file; `now` and `now_ms` are the
        /// batch's clock readings (one per batch, not per event).
        fn write_event(&mut self, event: &Event, now: Instant, now_ms: i64) -> io::Result<()> {
            let time = self.encoding.time(event, now_ms);
            if !self.partition.is_static() || self.open.is_empty() {
                let ms = time.saturating_add(self.offset_ms);
                self.key.clear();
                self.partition.render(
                    event,
                    &Utc::from_millis(u64::try_from(ms).unwrap_or(0)),
                    &mut self.key,
                );
                keep_inside(&mut self.key);
            }
            let matches = |o: &Open| o.staged.partition == self.key;
            let found = if self.open.get(self.last).is_some_and(matches) {
                Some(self.last)
            } else {
                self.open.iter().position(matches)
            };
            let index = match found {
                Some(i) if !self.due(&self.open[i]) => i,
                found => {
                    if let Some(i) = found {
                        self.close(i)?;
                    } else if self.open.len() >= self.max_open {
                        let oldest = (0..self.open.len())
                            .min_by_key(|&i| self.open[i].written)
                            .unwrap_or(0);
                        self.close(oldest)?;
                    }
                    let key = std::mem::take(&mut self.key);
                    let open = self.new_staging(&key);
                    self.key = key;
                    self.open.push(open?);
                    self.open.len() - 1
                }
            };
            self.last = index;
            let open = &mut self.open[index];
            open.written = now;
            open.events += 1;
            open.bytes += event.size() as u64;
            staging::encode(&mut open.buf, event, time);
            if open.buf.len() >= BUFFER {
                open.flush()?;
            }
            Ok(())
        }

        fn write_batch(&mut self, batch: &[Event]) -> io::Result<()> {
            let (now, now_ms) = (Instant::now(), now_millis() as i64);
            for event in batch {
                self.write_event(event, now, now_ms)?;
            }
            for open in &mut self.open {
                open.flush()?;
                if self.fsync {
                    open.file.sync_data()?;
                }
            }
            self.close_due()?;
            for open in &mut self.open {
                open.committed = open.staged.len;
            }
            self.closed_in_batch.clear();
            Ok(())
        }

        /// A write that panicked left bytes of an uncommitted batch in the staging
        /// files: cut them back before anything else.
        fn after_panic(&mut self) {
            if std::mem::take(&mut self.in_batch) {
                tracing::warn!("the last write panicked; cutting its staging files back");
                self.cut_back();
            }
        }

        /// After a failed write: every staging file goes back to its committed length
        /// and waits to be published; the retried batch starts new ones.
        fn cut_back(&mut self) {
            for mut open in std::mem::take(&mut self.open) {
                open.buf.clear();
                open.staged.len = open.committed;
                if let Err(e) = staging::cut(&open.staged.path, open.committed) {
                    tracing::error!(file = %open.staged.path.display(), error = %e, "cannot cut a staging file back; the events after its last commit may appear twice");
                }
                self.pending.push(open.staged);
            }
            for (path, committed) in std::mem::take(&mut self.closed_in_batch) {
                if let Some(staged) = self.pending.iter_mut().find(|s| s.path == path) {
                    staged.len = committed;
                    if let Err(e) = staging::cut(&path, committed) {
                        tracing::error!(file = %path.display(), error = %e, "cannot cut a staging file back; the events after its last commit may appear twice");
                    }
                }
            }
            self.last = 0;
        }
    }

    /// Makes a rendered partition a relative path of plain names. Header values are
    /// already made safe when rendered; this guards the whole (an empty segment, or a
    /// `.` or `..` made of template text and values together) so no event can lead a
    /// file out of the lake.
    fn keep_inside(partition: &mut String) {
        let bad = |s: &str| s.is_empty() || s == "." || s == "..";
        if partition.is_empty() || !partition.split('/').any(bad) {
            return;
        }
        let safe: Vec<String> = partition
            .split('/')
            .map(|s| if bad(s) { s.replace('.', "_") + "_" } else { s.to_owned() })
            .collect();
        *partition = safe.join("/");
    }

    impl Sink for Lake {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            self.after_panic();
            self.recover().await?;
            // Everything closed so far is committed: publish it before taking more.
            self.publish_pending().await;
            if self.pending.len() >= self.max_pending() {
                return Err(io::Error::other(format!(
                    "{} files are waiting to be published to {}",
                    self.pending.len(),
                    self.store.describe()
                )));
            }
            self.in_batch = true;
            let written = self.write_batch(batch);
            if written.is_err() {
                self.cut_back();
            }
            self.in_batch = false;
            written
        }

        fn blocking_io(&self) -> bool {
            true
        }

        fn bind_counters(&mut self, counters: Arc<SinkCounters>) {
            self.counters = Some(counters);
        }

        fn max_backoff(&self) -> Duration {
            self.max_backoff
        }

        fn position(&self) -> Option<Vec<u8>> {
            let files = self.open.iter().map(|o| &o.staged).chain(&self.pending);
            Some(file_lengths::encode(
                files.map(|staged| (staged.path.as_path(), staged.len)),
            ))
        }

        fn resume(&mut self, position: &[u8]) -> io::Result<()> {
            let files = file_lengths::decode(position).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, "malformed lake position")
            })?;
            self.resumed = Some(files);
            Ok(())
        }

        fn bind_journal(&mut self, _journal: Journal) {
            // Staging files are recorded with each commit (`position`); one created
            // since is uncommitted by definition, so no record is needed between.
            self.keeps_position = true;
        }

        fn tick_every(&self) -> Option<Duration> {
            Some(
                (self.idle_timeout.min(self.roll_interval) / 4)
                    .clamp(Duration::from_millis(50), Duration::from_secs(5)),
            )
        }

        async fn tick(&mut self) -> io::Result<()> {
            self.after_panic();
            self.recover().await?;
            self.close_due()?;
            self.closed_in_batch.clear();
            self.publish_pending().await;
            Ok(())
        }

        async fn close(&mut self) -> io::Result<()> {
            self.after_panic();
            self.recover().await?;
            while !self.open.is_empty() {
                self.close(0)?;
            }
            self.retry_at = None;
            self.publish_pending().await;
            if !self.pending.is_empty() {
                tracing::warn!(
                    files = self.pending.len(),
                    dir = %self.staging_dir.display(),
                    "files not published at shutdown stay staged and are published at the next start"
                );
            }
            Ok(())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn offsets() {
            assert_eq!(parse_offset("UTC").unwrap(), 0);
            assert_eq!(parse_offset("+05:30").unwrap(), 19_800_000);
            assert_eq!(parse_offset("-08:00").unwrap(), -28_800_000);
            for bad in ["Europe/Paris", "+5", "+25:00", ""] {
                assert!(parse_offset(bad).is_err(), "{bad}");
            }
        }

        #[test]
        fn partitions_stay_inside() {
            for (rendered, safe) in [
                ("dt=1/app=web", "dt=1/app=web"),
                ("/dt=1", "_/dt=1"),
                ("a//b", "a/_/b"),
                ("../x/.", "___/x/__"),
            ] {
                let mut p = rendered.to_owned();
                keep_inside(&mut p);
                assert_eq!(p, safe);
            }
        }
    }
}
