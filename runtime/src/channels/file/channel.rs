//! The channel itself: puts append transactions, takes read them back, commits move
//! the checkpoint.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::Notify;

use super::marks::MarkTable;
use super::reader::Reader;
use super::recovery::{lock_dir, recover};
use super::segment::{new_segment, Writer};
use super::FileChannelConfig;
use crate::build::BuildChannel;
use crate::event::Batch;
use crate::marks::{Mark, Marks};
use crate::metrics::ChannelCounters;
use crate::params::FsyncPolicy;
use crate::pipeline::{Channel, Closed, Taken};
use crate::wal::{self, Pos};

/// How often consumed progress is checkpointed (and consumed segments deleted).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Largest checkpoint rewritten in place: one page, which a killed process cannot
/// leave half-written. A larger one (a sink with many open files) is written to a new
/// file renamed over the old.
const IN_PLACE_CHECKPOINT: usize = 4096;
/// Longest wait between retries of a put that failed to write (e.g. a full disk).
const MAX_WRITE_BACKOFF: Duration = Duration::from_secs(5);

/// The durable channel. Puts append to the current segment and return once their
/// commit record is written (and synced, with `fsync = "every_commit"`); takes read
/// the segments back in order. See `docs/durability.md`.
pub struct FileChannel {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    dir: PathBuf,
    capacity: usize,
    max_bytes: u64,
    transaction_capacity: usize,
    segment_size: u64,
    fsync: FsyncPolicy,
    writer: Mutex<Writer>,
    /// The sources' committed marks; changed only while `writer` is held, so they
    /// follow the log's order.
    marks: Mutex<MarkTable>,
    state: Mutex<State>,
    space: Notify,
    data: Notify,
    counters: Arc<ChannelCounters>,
    /// The checkpoint, rewritten in place after each commit that moves it.
    checkpoint_file: Mutex<File>,
    /// Holds the exclusive lock on `dir/lock` while the channel lives.
    _lock: File,
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
    /// The sinks draining this channel, and the positions of those that keep one
    /// (only while a single sink drains it: see [`Channel::positions_for`]).
    drains: std::collections::BTreeSet<&'static str>,
    sink_positions: BTreeMap<String, Vec<u8>>,
    /// `sink_positions` changed since the checkpoint was last written.
    positions_changed: bool,
    closed: bool,
}

impl State {
    fn held(&self) -> usize {
        self.queued + self.in_flight + self.reserved
    }
}

pub(super) fn other(e: impl std::fmt::Display, dir: &Path) -> io::Error {
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
    let marks = MarkTable::recovered(recovered.marks);
    let mut writer = new_segment(&dir, next).map_err(|e| other(e, &dir))?;
    write_marks(&mut writer, &marks).map_err(|e| other(e, &dir))?;
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
        drains: Default::default(),
        sink_positions: recovered.sink_positions,
        positions_changed: false,
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
        marks: Mutex::new(marks),
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

/// Starts a new segment with every mark committed so far, so the marks outlive the
/// segments they were committed in.
fn write_marks(writer: &mut Writer, marks: &MarkTable) -> io::Result<()> {
    let mut record = Vec::new();
    marks.encode(&mut record);
    if let Err(e) = writer.file.write_all(&record) {
        // Leave no torn record for the next transaction to follow.
        let cut = writer
            .file
            .set_len(writer.offset)
            .and_then(|()| writer.file.seek(SeekFrom::Start(writer.offset)));
        if let Err(cut) = cut {
            tracing::error!(error = %cut, "cannot cut back a failed write");
        }
        return Err(e);
    }
    writer.offset += record.len() as u64;
    Ok(())
}

/// Writes `bytes` as the new checkpoint file, atomically, and returns it opened.
fn replace_checkpoint(dir: &Path, bytes: &[u8]) -> io::Result<File> {
    let path = wal::checkpoint_path(dir);
    let temp = path.with_extension("new");
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, &path)?;
    OpenOptions::new().read(true).write(true).open(&path)
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

    fn mark_table(&self) -> MutexGuard<'_, MarkTable> {
        self.marks.lock().unwrap_or_else(|p| p.into_inner())
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

    /// Writes the delivered position and the sinks' positions into the checkpoint file.
    /// No fsync: the page cache survives a killed process, and after a power loss a
    /// stale or torn checkpoint only means events are delivered again.
    fn write_checkpoint(&self) -> io::Result<()> {
        let mut file = self
            .checkpoint_file
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let checkpoint = {
            let mut state = self.state();
            if state.acked == state.written && !state.positions_changed {
                return Ok(());
            }
            state.positions_changed = false;
            wal::Checkpoint {
                pos: state.acked,
                sinks: state.sink_positions.clone(),
            }
        };
        // One write: the sinks' positions change together with the delivered position.
        let bytes = wal::encode_checkpoint(&checkpoint);
        let written = if bytes.len() <= IN_PLACE_CHECKPOINT {
            use std::os::unix::fs::FileExt;
            file.write_all_at(&bytes, 0)
        } else {
            replace_checkpoint(&self.dir, &bytes).map(|new| *file = new)
        };
        if let Err(e) = written {
            tracing::error!(dir = %self.dir.display(), error = %e, "cannot write the checkpoint");
            self.state().positions_changed = true;
            return Err(e);
        }
        self.state().written = checkpoint.pos;
        Ok(())
    }

    /// Makes the checkpoint durable, then deletes the segments before it.
    pub(super) fn checkpoint(&self) {
        let _ = self.write_checkpoint(); // logged inside
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
    fn append(&self, bytes: &[u8], count: usize, mark: Option<&Mark>) -> io::Result<()> {
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
        if let Some(mark) = mark {
            self.mark_table().commit(mark);
        }
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
                    if let Err(e) = write_marks(&mut writer, &self.mark_table()) {
                        // The marks in older segments go with them: the sources fall
                        // back to their position files (duplicates, never loss).
                        tracing::warn!(
                            dir = %self.dir.display(),
                            error = %e,
                            "cannot copy the sources' marks into the new segment"
                        );
                    }
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
                // A transaction larger than the channel goes in alone, once it is empty.
                let fits = empty
                    || (state.held() + count <= self.capacity
                        && state.disk_bytes + bytes <= self.max_bytes);
                if fits {
                    state.reserved += count;
                    return Ok(Reservation { inner: self, count });
                }
            }
            notified.await;
        }
    }

    async fn put_transaction(
        self: &Arc<Self>,
        mut batch: Batch,
        mark: Option<&Mark>,
    ) -> Result<(), Closed> {
        self.counters.put_attempts.add(batch.len() as u64);
        // An event too large to be read back would poison its segment: refuse it alone.
        batch.retain(|event| {
            let size = wal::payload_size(event);
            let fits = size <= wal::MAX_PAYLOAD;
            if !fits {
                self.counters.events_rejected.inc();
                tracing::error!(
                    dir = %self.dir.display(),
                    bytes = size,
                    max = wal::MAX_PAYLOAD,
                    "event too large for the file channel; dropped"
                );
            }
            fits
        });
        let count = batch.len();
        if count == 0 && mark.is_none() {
            return Ok(());
        }
        let mut encoded = Vec::with_capacity(batch.iter().map(|e| e.size() + 64).sum());
        for event in &batch {
            wal::encode_event(&mut encoded, event);
        }
        wal::encode_commit(&mut encoded, count as u32, mark);
        let mark = mark.cloned();
        let _reservation = self.reserve(count, encoded.len() as u64).await?;
        let encoded = Arc::new(encoded);
        let mut backoff = Duration::from_millis(100);
        loop {
            let (inner, bytes, mark) = (self.clone(), encoded.clone(), mark.clone());
            let result = tokio::task::spawn_blocking(move || inner.append(&bytes, count, mark.as_ref()))
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

impl Channel for FileChannel {
    /// One transaction, whatever its size: a source's batch is committed whole or not
    /// at all (`transaction_capacity` bounds takes).
    async fn put(&self, batch: Batch) -> Result<(), Closed> {
        self.inner.put_transaction(batch, None).await
    }

    async fn put_marked(&self, batch: Batch, mark: Option<&Mark>) -> Result<(), Closed> {
        self.inner.put_transaction(batch, mark).await
    }

    fn marks(&self, source: &str) -> Option<Marks> {
        Some(self.inner.mark_table().of(source))
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
                    // Not through `blocking`: these are bytes just written, read from the
                    // page cache through a 256 KiB buffer (one read call per 256 KiB).
                    // Handing the worker off per take cost 5-10% throughput and a
                    // quarter more CPU in `bench/channel.sh`.
                    let (events, error) =
                        state.reader.read(&inner.dir, &state.segments, end, max);
                    if let Some(e) = error {
                        tracing::error!(
                            dir = %inner.dir.display(),
                            segment = state.reader.pos.segment,
                            offset = state.reader.pos.offset,
                            error = %e,
                            good_events_kept = events.len(),
                            "damaged record in the file channel; skipping the rest of its segment"
                        );
                        state.reader.skip_segment(&state.segments, end);
                    }
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
        self.commit_at(taken, "", None);
    }

    fn positions_for(&self, sink: &'static str) -> Option<Option<Vec<u8>>> {
        let mut state = self.inner.state();
        state.drains.insert(sink);
        if state.drains.len() > 1 {
            if !state.sink_positions.is_empty() {
                tracing::info!(
                    dir = %self.inner.dir.display(),
                    "several sinks drain this channel: their positions are not kept \
                     (a crash can repeat what they wrote last)"
                );
                state.sink_positions.clear();
                state.positions_changed = true;
            }
            return None;
        }
        Some(state.sink_positions.get(sink).cloned())
    }

    fn note_position(&self, sink: &'static str, position: Vec<u8>) -> io::Result<()> {
        {
            let mut state = self.inner.state();
            if state.drains.len() != 1 || !state.drains.contains(sink) {
                return Ok(());
            }
            state.sink_positions.insert(sink.to_owned(), position);
            state.positions_changed = true;
        }
        self.inner.write_checkpoint()
    }

    fn commit_at(&self, taken: Taken, sink: &'static str, position: Option<Vec<u8>>) {
        let inner = &self.inner;
        let n = taken.events.len();
        let mut state = inner.state();
        if let Some(position) = position {
            if state.drains.len() == 1 && state.drains.contains(sink) {
                state.sink_positions.insert(sink.to_owned(), position);
                state.positions_changed = true;
            }
        }
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
        // A small write into the page cache, no fsync (that runs in housekeeping).
        let _ = inner.write_checkpoint(); // logged inside
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

    fn has_room(&self, count: usize) -> bool {
        let state = self.inner.state();
        state.held() == 0
            || (state.held() + count <= self.inner.capacity
                && state.disk_bytes < self.inner.max_bytes)
    }

    fn durable(&self) -> bool {
        true
    }
}

impl FileChannel {
    /// Bytes of segment files on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.inner.state().disk_bytes
    }
}
