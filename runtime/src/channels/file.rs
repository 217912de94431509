//! `file`: a durable channel backed by a write-ahead log.

use std::path::PathBuf;

use sluice_macros::Component;

use crate::params::{ByteSize, FsyncPolicy};

/// Buffers events in append-only, checksummed segment files under `dir`; committed events
/// survive `kill -9` and restarts. Only one agent may use a directory at a time.
#[derive(Clone, Debug, Component)]
#[component(role = "channel", kind = "file", durable)]
pub struct FileChannelConfig {
    /// Directory for segments and the checkpoint.
    #[param(path_key)]
    pub dir: PathBuf,
    /// Most events held at once.
    #[param(capacity, default = "1_000_000", min = 1)]
    pub capacity: u64,
    /// Most bytes of segments on disk; unlimited when unset.
    #[param(min = 1)]
    pub max_bytes: Option<ByteSize>,
    /// Most events in one put or take transaction.
    #[param(transaction_capacity, default = "10_000", min = 1)]
    pub transaction_capacity: u64,
    /// `"every_commit"` syncs before each commit returns; a duration syncs at most that
    /// long after a commit (faster; a power loss can lose that interval).
    #[param(default = "\"every_commit\"")]
    pub fsync: FsyncPolicy,
    /// Size at which a segment file is closed and a new one started.
    #[param(default = "64MiB", min = 4096)]
    pub segment_size: ByteSize,
}

#[cfg(feature = "channel-file")]
pub use imp::FileChannel;

#[cfg(feature = "channel-file")]
mod imp {
    use crate::build::BuildChannel;
    use std::collections::{BTreeMap, VecDeque};
    use std::fs::{File, OpenOptions};
    use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex, MutexGuard, Weak};
    use std::time::Duration;

    use tokio::sync::Notify;

    use super::FileChannelConfig;
    use crate::event::Batch;
    use crate::metrics::ChannelCounters;
    use crate::params::FsyncPolicy;
    use crate::pipeline::{Channel, Closed, Taken};
    use crate::wal::{self, Parsed, Pos};

    /// How often consumed progress is checkpointed (and consumed segments deleted).
    const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
    /// Longest wait between retries of a put that failed to write (e.g. a full disk).
    const MAX_WRITE_BACKOFF: Duration = Duration::from_secs(5);

    /// The durable channel. Puts append to the current segment and return once their
    /// commit record is written (and synced, with `fsync = "every_commit"`); takes read
    /// the segments back in order. See `docs/durability.md`.
    pub struct FileChannel {
        inner: Arc<Inner>,
    }

    struct Inner {
        dir: PathBuf,
        capacity: usize,
        max_bytes: u64,
        transaction_capacity: usize,
        segment_size: u64,
        fsync: FsyncPolicy,
        writer: Mutex<Writer>,
        state: Mutex<State>,
        space: Notify,
        data: Notify,
        counters: Arc<ChannelCounters>,
        /// The checkpoint, rewritten in place after each commit that moves it.
        checkpoint_file: Mutex<File>,
        /// Holds the exclusive lock on `dir/lock` while the channel lives.
        _lock: File,
    }

    struct Writer {
        file: File,
        segment: u64,
        offset: u64,
        /// Written since the last sync (only with an interval policy).
        dirty: bool,
    }

    struct State {
        /// Committed events not yet taken (on disk past the reader, or in `redo`).
        queued: usize,
        /// Taken, not yet committed or rolled back.
        in_flight: usize,
        /// Room claimed by puts that are writing now.
        reserved: usize,
        /// Bytes of the live segment files.
        disk_bytes: u64,
        /// Live segments and their sizes.
        segments: BTreeMap<u64, u64>,
        /// End of the last committed put: the reader never passes it.
        committed_end: Pos,
        reader: Reader,
        /// Rolled-back takes, handed out again before anything new.
        redo: VecDeque<Taken>,
        /// Takes in read order: where each ends, and whether it is committed.
        outstanding: BTreeMap<u64, (Pos, bool)>,
        next_ticket: u64,
        /// Everything before this is delivered: what the checkpoint records.
        acked: Pos,
        /// Last position written to the checkpoint file, and last one synced.
        written: Pos,
        checkpointed: Pos,
        closed: bool,
    }

    struct Reader {
        pos: Pos,
        file: Option<BufReader<File>>,
        record: Vec<u8>,
    }

    impl State {
        fn held(&self) -> usize {
            self.queued + self.in_flight + self.reserved
        }
    }

    fn other(e: impl std::fmt::Display, dir: &Path) -> io::Error {
        io::Error::other(format!("file channel {}: {e}", dir.display()))
    }

    /// Opens the channel: locks `dir`, recovers its segments from the checkpoint on, and
    /// starts a new segment for this run.
    impl BuildChannel for FileChannelConfig {
        type Channel = FileChannel;

        async fn build(self, counters: Arc<ChannelCounters>) -> io::Result<FileChannel> {
            let config = self;
            let dir = config.dir.clone();
            tokio::task::spawn_blocking(move || open(config, counters))
                .await
                .map_err(|e| other(e, &dir))?
        }
    }

    fn lock_dir(dir: &Path) -> io::Result<File> {
        let path = dir.join("lock");
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = lock.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    format!(
                        "file channel {}: the directory is in use by another agent{}; \
                         each file channel needs its own `dir`",
                        dir.display(),
                        if holder.is_empty() {
                            String::new()
                        } else {
                            format!(" (pid {holder})")
                        }
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(other(e, dir)),
        }
        lock.set_len(0)?;
        lock.write_all(std::process::id().to_string().as_bytes())?;
        Ok(lock)
    }

    fn open(config: FileChannelConfig, counters: Arc<ChannelCounters>) -> io::Result<FileChannel> {
        let dir = config.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|e| other(e, &dir))?;
        let lock = lock_dir(&dir)?;
        let recovered = recover(&dir).map_err(|e| other(e, &dir))?;
        let checkpoint_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(wal::checkpoint_path(&dir))
            .map_err(|e| other(e, &dir))?;
        let next = recovered
            .segments
            .keys()
            .next_back()
            .map_or(1, |last| last + 1);
        let writer = new_segment(&dir, next).map_err(|e| other(e, &dir))?;
        let mut segments = recovered.segments;
        segments.insert(next, writer.offset);
        let disk_bytes = segments.values().sum();
        let end = Pos {
            segment: next,
            offset: writer.offset,
        };
        tracing::info!(
            dir = %dir.display(),
            events = recovered.events,
            segments = segments.len(),
            "file channel opened"
        );
        counters.capacity.set(config.capacity);
        counters.size.set(recovered.events);
        let state = State {
            queued: recovered.events as usize,
            in_flight: 0,
            reserved: 0,
            disk_bytes,
            segments,
            committed_end: end,
            reader: Reader {
                pos: recovered.start,
                file: None,
                record: Vec::new(),
            },
            redo: VecDeque::new(),
            outstanding: BTreeMap::new(),
            next_ticket: 1,
            acked: recovered.start,
            written: Pos::default(),
            checkpointed: Pos::default(),
            closed: false,
        };
        let inner = Arc::new(Inner {
            dir,
            capacity: usize::try_from(config.capacity).unwrap_or(usize::MAX),
            max_bytes: config.max_bytes.map_or(u64::MAX, |b| b.0),
            transaction_capacity: usize::try_from(config.transaction_capacity)
                .unwrap_or(usize::MAX)
                .max(1),
            segment_size: config.segment_size.0,
            fsync: config.fsync,
            writer: Mutex::new(writer),
            state: Mutex::new(state),
            space: Notify::new(),
            data: Notify::new(),
            counters,
            checkpoint_file: Mutex::new(checkpoint_file),
            _lock: lock,
        });
        // Write the checkpoint of the recovered start, so consumed segments can go.
        inner.checkpoint();
        tokio::spawn(housekeeping(Arc::downgrade(&inner)));
        Ok(FileChannel { inner })
    }

    /// What recovery found: live segments (id → size after repair), where consumers
    /// resume, and how many committed events lie ahead of them.
    struct Recovered {
        segments: BTreeMap<u64, u64>,
        start: Pos,
        events: u64,
    }

    fn recover(dir: &Path) -> io::Result<Recovered> {
        let ids = wal::list_segments(dir)?;
        let checkpoint = match wal::read_checkpoint(dir) {
            Ok(c) => c,
            Err(why) => {
                tracing::warn!(
                    dir = %dir.display(),
                    problem = %why,
                    "checkpoint is unreadable; rebuilding it from the segments \
                     (events in them may be delivered again)"
                );
                None
            }
        };
        if checkpoint.is_none() && !ids.is_empty() {
            tracing::info!(dir = %dir.display(), "no checkpoint; replaying every segment");
        }
        let mut start =
            checkpoint.unwrap_or_else(|| Pos::start_of(ids.first().copied().unwrap_or(1)));
        // A checkpoint that points into a deleted segment resumes at the next one.
        if !ids.contains(&start.segment) {
            if let Some(&next) = ids.iter().find(|&&id| id > start.segment) {
                start = Pos::start_of(next);
            }
        }
        let mut segments = BTreeMap::new();
        let mut events = 0;
        for id in ids {
            let path = wal::segment_path(dir, id);
            if id < start.segment {
                std::fs::remove_file(&path)?;
                continue;
            }
            let data = std::fs::read(&path)?;
            if data.len() < wal::SEGMENT_MAGIC.len() || &data[..8] != wal::SEGMENT_MAGIC {
                let aside = path.with_extension("corrupt");
                tracing::error!(
                    segment = %path.display(),
                    moved_to = %aside.display(),
                    bytes = data.len(),
                    "segment has no valid header; moved aside, its events are lost"
                );
                std::fs::rename(&path, &aside)?;
                continue;
            }
            let from = if id == start.segment {
                start.offset.max(8).min(data.len() as u64)
            } else {
                8
            };
            let scan = wal::scan(&data, from);
            if scan.good_end < data.len() as u64 {
                tracing::warn!(
                    segment = %path.display(),
                    problem = scan.problem.unwrap_or("trailing bytes"),
                    dropped_bytes = data.len() as u64 - scan.good_end,
                    dropped_records = scan.dropped_records,
                    "cut the segment back to its last committed transaction; \
                     the dropped records were never acknowledged"
                );
                let file = OpenOptions::new().write(true).open(&path)?;
                file.set_len(scan.good_end)?;
                file.sync_all()?;
            }
            events += scan.events;
            segments.insert(id, scan.good_end);
        }
        if segments.is_empty() {
            start = Pos::start_of(start.segment);
        }
        Ok(Recovered {
            segments,
            start,
            events,
        })
    }

    fn sync_dir(dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn new_segment(dir: &Path, id: u64) -> io::Result<Writer> {
        let path = wal::segment_path(dir, id);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        let ready = file
            .write_all(wal::SEGMENT_MAGIC)
            .and_then(|()| file.sync_all())
            .and_then(|()| sync_dir(dir));
        if let Err(e) = ready {
            // Leave no half-made segment behind to block the next attempt.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(Writer {
            file,
            segment: id,
            offset: wal::SEGMENT_MAGIC.len() as u64,
            dirty: false,
        })
    }

    /// Syncs, checkpoints and deletes consumed segments until the channel is dropped.
    async fn housekeeping(inner: Weak<Inner>) {
        let tick = match inner.upgrade().map(|i| i.fsync) {
            Some(FsyncPolicy::Interval(d)) => d.clamp(Duration::from_millis(1), CHECKPOINT_EVERY),
            Some(_) => CHECKPOINT_EVERY,
            None => return,
        };
        let mut since_checkpoint = Duration::ZERO;
        loop {
            tokio::time::sleep(tick).await;
            let Some(inner) = inner.upgrade() else { return };
            since_checkpoint += tick;
            let checkpoint_due = since_checkpoint >= CHECKPOINT_EVERY;
            let work = inner.clone();
            let _ = tokio::task::spawn_blocking(move || {
                work.sync_if_dirty();
                if checkpoint_due {
                    work.checkpoint();
                }
            })
            .await;
            if checkpoint_due {
                since_checkpoint = Duration::ZERO;
            }
        }
    }

    impl Drop for Inner {
        fn drop(&mut self) {
            self.sync_if_dirty();
            self.checkpoint();
        }
    }

    impl Inner {
        fn state(&self) -> MutexGuard<'_, State> {
            // Updates under the lock are a few field writes; a panic cannot leave them
            // half-done in a way later code trips over.
            self.state.lock().unwrap_or_else(|p| p.into_inner())
        }

        fn writer(&self) -> MutexGuard<'_, Writer> {
            self.writer.lock().unwrap_or_else(|p| p.into_inner())
        }

        fn sync_if_dirty(&self) {
            let mut writer = self.writer();
            if writer.dirty {
                match writer.file.sync_data() {
                    Ok(()) => writer.dirty = false,
                    Err(e) => {
                        tracing::error!(dir = %self.dir.display(), error = %e, "fsync failed")
                    }
                }
            }
        }

        /// Writes the delivered position into the checkpoint file, in place. No fsync:
        /// the page cache survives a killed process, and after a power loss a stale or
        /// torn checkpoint only means events are delivered again.
        fn write_checkpoint(&self) {
            let file = self
                .checkpoint_file
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let acked = {
                let state = self.state();
                if state.acked == state.written {
                    return;
                }
                state.acked
            };
            use std::os::unix::fs::FileExt;
            if let Err(e) = file.write_all_at(&wal::encode_checkpoint(acked), 0) {
                tracing::error!(dir = %self.dir.display(), error = %e, "cannot write the checkpoint");
                return;
            }
            self.state().written = acked;
            drop(file);
        }

        /// Makes the checkpoint durable, then deletes the segments before it.
        fn checkpoint(&self) {
            self.write_checkpoint();
            let written = {
                let state = self.state();
                if state.written == state.checkpointed {
                    return;
                }
                state.written
            };
            let synced = self
                .checkpoint_file
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .sync_data();
            if let Err(e) = synced {
                tracing::error!(dir = %self.dir.display(), error = %e, "cannot sync the checkpoint");
                return;
            }
            let mut state = self.state();
            state.checkpointed = written;
            let acked = written;
            let consumed: Vec<u64> = state
                .segments
                .range(..acked.segment)
                .map(|(id, _)| *id)
                .collect();
            for id in consumed {
                match std::fs::remove_file(wal::segment_path(&self.dir, id)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => {
                        tracing::warn!(dir = %self.dir.display(), error = %e, "cannot delete a consumed segment");
                        break;
                    }
                }
                if let Some(size) = state.segments.remove(&id) {
                    state.disk_bytes -= size;
                }
            }
            drop(state);
            self.space.notify_waiters();
        }

        /// Appends one encoded transaction and makes it visible to takers. On failure the
        /// segment is cut back to where the transaction began.
        fn append(&self, bytes: &[u8], count: usize) -> io::Result<()> {
            let mut writer = self.writer();
            let before = writer.offset;
            let written = writer
                .file
                .write_all(bytes)
                .and_then(|()| match self.fsync {
                    FsyncPolicy::EveryCommit => writer.file.sync_data(),
                    FsyncPolicy::Interval(_) => Ok(()),
                });
            if let Err(e) = written {
                if let Err(cut) = writer.file.set_len(before) {
                    tracing::error!(error = %cut, "cannot cut back a failed write");
                }
                let _ = writer.file.seek(SeekFrom::Start(before));
                return Err(e);
            }
            writer.offset += bytes.len() as u64;
            writer.dirty = matches!(self.fsync, FsyncPolicy::Interval(_));
            let mut rotated = false;
            if writer.offset >= self.segment_size {
                // The old segment must be whole on disk before the next one starts. If
                // that fails (say, a full disk), the put still stands: it is written, and
                // the segment simply grows until a later rotation succeeds.
                let next = writer
                    .file
                    .sync_data()
                    .and_then(|()| new_segment(&self.dir, writer.segment + 1));
                match next {
                    Ok(next) => {
                        *writer = next;
                        rotated = true;
                    }
                    Err(e) => tracing::warn!(
                        dir = %self.dir.display(),
                        error = %e,
                        "cannot start a new segment; the current one keeps growing"
                    ),
                }
            }
            let end = Pos {
                segment: writer.segment,
                offset: writer.offset,
            };
            let mut state = self.state();
            let previous = state.committed_end;
            if let Some(size) = state.segments.get_mut(&previous.segment) {
                *size += bytes.len() as u64;
            }
            state.disk_bytes += bytes.len() as u64;
            if rotated {
                state.segments.insert(end.segment, end.offset);
                state.disk_bytes += end.offset;
            }
            state.committed_end = end;
            state.queued += count;
            self.counters.size.set(state.held() as u64);
            drop(state);
            self.data.notify_waiters();
            Ok(())
        }

        /// Waits for room for `count` events of `bytes` encoded bytes, then claims it
        /// until the returned guard is dropped (written, failed, or the put abandoned).
        async fn reserve(&self, count: usize, bytes: u64) -> Result<Reservation<'_>, Closed> {
            loop {
                let notified = self.space.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let mut state = self.state();
                    if state.closed {
                        return Err(Closed);
                    }
                    let empty = state.held() == 0;
                    let fits = state.held() + count <= self.capacity
                        && (state.disk_bytes + bytes <= self.max_bytes || empty);
                    if fits {
                        state.reserved += count;
                        return Ok(Reservation { inner: self, count });
                    }
                }
                notified.await;
            }
        }

        async fn put_transaction(self: &Arc<Self>, batch: Batch) -> Result<(), Closed> {
            let count = batch.len();
            self.counters.put_attempts.add(count as u64);
            let mut encoded = Vec::with_capacity(batch.iter().map(|e| e.size() + 64).sum());
            for event in &batch {
                wal::encode_event(&mut encoded, event);
            }
            wal::encode_commit(&mut encoded, count as u32);
            let _reservation = self.reserve(count, encoded.len() as u64).await?;
            let encoded = Arc::new(encoded);
            let mut backoff = Duration::from_millis(100);
            loop {
                let (inner, bytes) = (self.clone(), encoded.clone());
                let result = tokio::task::spawn_blocking(move || inner.append(&bytes, count))
                    .await
                    .unwrap_or_else(|e| Err(io::Error::other(e)));
                match result {
                    Ok(()) => {
                        self.counters.put_successes.add(count as u64);
                        return Ok(());
                    }
                    Err(e) => {
                        tracing::error!(
                            dir = %self.dir.display(),
                            error = %e,
                            retry_in_ms = backoff.as_millis() as u64,
                            "cannot write to the file channel; the source waits and retries \
                             (nothing committed is lost)"
                        );
                        if self.state().closed {
                            return Err(Closed);
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_WRITE_BACKOFF);
                    }
                }
            }
        }
    }

    /// Room claimed by a put while it writes. Released on drop, also when the put's
    /// future is dropped mid-way (a source giving up on a slow put).
    struct Reservation<'a> {
        inner: &'a Inner,
        count: usize,
    }

    impl Drop for Reservation<'_> {
        fn drop(&mut self) {
            self.inner.state().reserved -= self.count;
            self.inner.space.notify_waiters();
        }
    }

    impl Reader {
        /// Reads up to `max` committed events, never past `end`, moving on to the next
        /// live segment at the end of one.
        fn read(
            &mut self,
            dir: &Path,
            segments: &BTreeMap<u64, u64>,
            end: Pos,
            max: usize,
        ) -> io::Result<Batch> {
            let mut batch = Vec::new();
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
                        self.pos.offset += len as u64;
                        if kind == wal::EVENT {
                            let event = wal::decode_event(payload).ok_or_else(|| {
                                io::Error::new(io::ErrorKind::InvalidData, "malformed event record")
                            })?;
                            batch.push(event);
                        }
                    }
                    Parsed::Incomplete => unreachable!("the whole record was read"),
                    Parsed::Corrupt(why) => {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, why))
                    }
                }
            }
            Ok(batch)
        }

        /// Skips the rest of a damaged segment.
        fn skip_segment(&mut self, segments: &BTreeMap<u64, u64>, end: Pos) {
            self.file = None;
            self.pos = match segments.range(self.pos.segment + 1..).next() {
                Some((id, _)) if Pos::start_of(*id) <= end => Pos::start_of(*id),
                _ => end,
            };
        }
    }

    impl Channel for FileChannel {
        async fn put(&self, mut batch: Batch) -> Result<(), Closed> {
            let tx = self.inner.transaction_capacity;
            while batch.len() > tx {
                let rest = batch.split_off(tx);
                self.inner.put_transaction(batch).await?;
                batch = rest;
            }
            if batch.is_empty() {
                return Ok(());
            }
            self.inner.put_transaction(batch).await
        }

        async fn take(&self, max: usize) -> Option<Taken> {
            let inner = &self.inner;
            let max = max.clamp(1, inner.transaction_capacity);
            loop {
                let notified = inner.data.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let mut state = inner.state();
                    let state = &mut *state;
                    if let Some(taken) = state.redo.pop_front() {
                        let n = taken.events.len();
                        state.queued = state.queued.saturating_sub(n);
                        state.in_flight += n;
                        inner.counters.take_attempts.add(n as u64);
                        return Some(taken);
                    }
                    if state.reader.pos < state.committed_end {
                        let end = state.committed_end;
                        let events = match state.reader.read(&inner.dir, &state.segments, end, max)
                        {
                            Ok(events) => events,
                            Err(e) => {
                                tracing::error!(
                                    dir = %inner.dir.display(),
                                    segment = state.reader.pos.segment,
                                    offset = state.reader.pos.offset,
                                    error = %e,
                                    "damaged record in the file channel; skipping the rest of its segment"
                                );
                                state.reader.skip_segment(&state.segments, end);
                                Vec::new()
                            }
                        };
                        if state.reader.pos >= state.committed_end && state.redo.is_empty() {
                            // Whatever a skipped segment held is gone from the count too.
                            state.queued = events.len();
                        }
                        if !events.is_empty() {
                            let n = events.len();
                            let ticket = state.next_ticket;
                            state.next_ticket += 1;
                            state.outstanding.insert(ticket, (state.reader.pos, false));
                            state.queued = state.queued.saturating_sub(n);
                            state.in_flight += n;
                            inner.counters.take_attempts.add(n as u64);
                            return Some(Taken { events, ticket });
                        }
                        continue;
                    }
                    if state.closed && state.in_flight == 0 && state.redo.is_empty() {
                        return None;
                    }
                }
                notified.await;
            }
        }

        fn commit(&self, taken: Taken) {
            let inner = &self.inner;
            let n = taken.events.len();
            let mut state = inner.state();
            if let Some(entry) = state.outstanding.get_mut(&taken.ticket) {
                entry.1 = true;
            }
            while let Some(entry) = state.outstanding.first_entry() {
                if !entry.get().1 {
                    break;
                }
                let (end, _) = entry.remove();
                state.acked = state.acked.max(end);
            }
            state.in_flight = state.in_flight.saturating_sub(n);
            inner.counters.size.set(state.held() as u64);
            let drained = state.closed && state.held() == 0;
            drop(state);
            inner.counters.take_successes.add(n as u64);
            inner.space.notify_waiters();
            inner.write_checkpoint();
            if drained {
                inner.data.notify_waiters();
            }
        }

        fn rollback(&self, taken: Taken) {
            let inner = &self.inner;
            let mut state = inner.state();
            let n = taken.events.len();
            state.in_flight = state.in_flight.saturating_sub(n);
            state.queued += n;
            state.redo.push_front(taken);
            drop(state);
            inner.data.notify_waiters();
        }

        fn close(&self) {
            self.inner.state().closed = true;
            self.inner.data.notify_waiters();
            self.inner.space.notify_waiters();
        }

        fn len(&self) -> usize {
            self.inner.state().held()
        }
    }

    impl FileChannel {
        /// Bytes of segment files on disk.
        pub fn disk_bytes(&self) -> u64 {
            self.inner.state().disk_bytes
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::event::Event;
        use crate::params::ByteSize;

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
            let mut c = config(&dir);
            c.segment_size = ByteSize(1 << 20);
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
    }
}
