//! The traits generated agents are assembled from: a [`Source`] pushes batches into an
//! [`Output`] (the generated code that applies the flow's transforms and puts into
//! channels); a [`Channel`] buffers them transactionally; a [`Sink`] delivers them.

#![warn(missing_docs)]

use std::future::Future;
use std::io;
use std::sync::Arc;

use crate::event::{Batch, Event};
use crate::marks::{Mark, Marks, Resume};
use crate::metrics::{SinkCounters, SourceCounters};
use crate::shutdown::Shutdown;

/// The channel refuses puts: the agent is shutting down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("channel closed")
    }
}

impl std::error::Error for Closed {}

/// Events handed out by one [`Channel::take`], committed or rolled back as a unit.
#[derive(Debug)]
pub struct Taken {
    /// The events, in channel order.
    pub events: Batch,
    /// Which take this was, for channels that track their consumers' progress (the
    /// `file` channel checkpoints past a take only once it and every earlier one are
    /// committed).
    pub ticket: u64,
}

impl Taken {
    /// Body and header bytes of the events, as counted against `max_bytes`.
    pub fn bytes(&self) -> usize {
        self.events.iter().map(Event::size).sum()
    }
}

/// A transactional buffer (Flume's channel semantics).
///
/// A put stores a whole batch or nothing, waiting while the channel is full
/// (backpressure). A take hands out up to `max` events that stay counted against the
/// channel's capacity until the taker commits them (delivered) or rolls them back (they
/// return to the front, to be taken again).
pub trait Channel: Send + Sync + 'static {
    /// Puts `batch` as one transaction: all of it or none.
    fn put(&self, batch: Batch) -> impl Future<Output = Result<(), Closed>> + Send;

    /// Puts `batch` with the source's read position: a durable channel commits `mark`
    /// in the same record as the events, even when `batch` is empty (every event was
    /// filtered out or routed elsewhere). Other channels ignore it.
    fn put_marked(
        &self,
        batch: Batch,
        mark: Option<&Mark>,
    ) -> impl Future<Output = Result<(), Closed>> + Send {
        let _ = mark;
        async move {
            if batch.is_empty() {
                return Ok(());
            }
            self.put(batch).await
        }
    }

    /// The marks committed for `source` (see [`crate::marks`]); `None` when the channel
    /// is not durable.
    fn marks(&self, source: &str) -> Option<Marks> {
        let _ = source;
        None
    }

    /// Up to `max` events; waits for at least one. `None` once the channel is closed and
    /// empty.
    fn take(&self, max: usize) -> impl Future<Output = Option<Taken>> + Send;

    /// The events of a take were delivered.
    fn commit(&self, taken: Taken);

    /// Registers `sink` as a drain of this channel and returns whether the channel keeps
    /// its position (see [`Sink::position`]): `None` when it does not (the channel is
    /// not durable, or several sinks drain it), else the position committed last, if
    /// any.
    fn positions_for(&self, sink: &'static str) -> Option<Option<Vec<u8>>> {
        let _ = sink;
        None
    }

    /// Commits a take together with the sink's position after writing it: both are
    /// recorded in one write, so after a crash the position matches exactly what the
    /// channel hands out again.
    fn commit_at(&self, taken: Taken, sink: &'static str, position: Option<Vec<u8>>) {
        let _ = (sink, position);
        self.commit(taken);
    }

    /// Records a position for `sink` now, between commits (one that adds nothing
    /// uncommitted, like a new empty file; see [`Journal`]).
    fn note_position(&self, sink: &'static str, position: Vec<u8>) -> io::Result<()> {
        let _ = (sink, position);
        Ok(())
    }

    /// The events of a take were not delivered: put them back in front.
    fn rollback(&self, taken: Taken);

    /// No more puts will come; takers drain what is left.
    fn close(&self);

    /// Events held, including those taken but not yet committed.
    fn len(&self) -> usize;

    /// Whether a put of `count` events would go in now without waiting. A source that
    /// must answer its client quickly asks before it puts (so it never answers "busy"
    /// after part of a batch went in).
    fn has_room(&self, count: usize) -> bool {
        let _ = count;
        true
    }

    /// Whether what it holds survives the agent's exit (the `file` channel). Events left
    /// in a channel that is not durable when the agent exits are lost.
    fn durable(&self) -> bool {
        false
    }

    /// Whether it holds no event.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a source's batches go: generated per source, it applies the transforms of each
/// of the source's flows and puts the results into their channels. `send` returns once
/// every put is committed, so a source may then acknowledge its input.
pub trait Output: Send + Sync + 'static {
    /// Sends `batch` with the source's read position after it: every durable channel
    /// the events go to commits `mark` with them (see [`crate::marks`]).
    fn send_marked(
        &self,
        batch: Batch,
        mark: Option<&Mark>,
    ) -> impl Future<Output = Result<(), Closed>> + Send;

    /// Sends `batch` without a read position: `Err(Closed)` once the agent is stopping.
    fn send(&self, batch: Batch) -> impl Future<Output = Result<(), Closed>> + Send {
        self.send_marked(batch, None)
    }

    /// The read positions this source's durable channels committed, to resume from.
    fn resume(&self) -> Resume {
        Resume::default()
    }

    /// Whether every channel the source puts into has room for `count` more events
    /// now (see [`Channel::has_room`]).
    fn has_room(&self, count: usize) -> bool {
        let _ = count;
        true
    }
}

impl<O: Output> Output for Arc<O> {
    fn send_marked(
        &self,
        batch: Batch,
        mark: Option<&Mark>,
    ) -> impl Future<Output = Result<(), Closed>> + Send {
        (**self).send_marked(batch, mark)
    }

    fn resume(&self) -> Resume {
        (**self).resume()
    }

    fn has_room(&self, count: usize) -> bool {
        (**self).has_room(count)
    }
}

/// Everything a running source gets besides its output.
#[derive(Clone)]
pub struct SourceContext {
    /// The source's name in the flow.
    pub name: &'static str,
    /// Fires when the agent stops: `run` should return soon after.
    pub shutdown: Shutdown,
    /// The source's metrics.
    pub counters: Arc<SourceCounters>,
}

/// Where events enter the agent.
pub trait Source: Send + 'static {
    /// Runs until the input ends or `ctx.shutdown` fires.
    fn run<O: Output>(
        self,
        out: O,
        ctx: SourceContext,
    ) -> impl Future<Output = io::Result<()>> + Send;

    /// Whether `run` does blocking file I/O (reads, fsync, rename). Such a source gets a
    /// thread of its own, so a slow disk never stalls the async workers the network
    /// components share.
    fn blocking_io(&self) -> bool {
        false
    }
}

/// Where events leave the agent.
pub trait Sink: Send + 'static {
    /// Delivers a batch. `Ok` means the destination has it (written and flushed, or
    /// acknowledged); the batch is then committed. `Err` rolls it back for a retry.
    fn write(&mut self, batch: &[Event]) -> impl Future<Output = io::Result<()>> + Send;

    /// Flushes and releases resources at shutdown.
    fn close(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        async { Ok(()) }
    }

    /// Counters the sink updates itself (beyond the driver's drain counts).
    fn bind_counters(&mut self, _counters: Arc<SinkCounters>) {}

    /// Longest pause between retries of a failed batch.
    fn max_backoff(&self) -> std::time::Duration {
        std::time::Duration::from_secs(10)
    }

    /// Whether `write` does blocking file I/O; such a sink is driven on a thread of its
    /// own (see [`Source::blocking_io`]).
    fn blocking_io(&self) -> bool {
        false
    }

    /// What the sink has written so far, for a sink that can undo writes that were not
    /// committed (`file_roll`: its open files and their lengths). Asked after each
    /// successful write and committed with the batch by a durable channel that only
    /// this sink drains.
    fn position(&self) -> Option<Vec<u8>> {
        None
    }

    /// Called before the first write with the position committed last: the sink
    /// undoes whatever it wrote after it, because the channel hands those events out
    /// again. With [`Sink::position`], this makes delivery exactly once across a crash.
    fn resume(&mut self, position: &[u8]) -> io::Result<()> {
        let _ = position;
        Ok(())
    }

    /// Where to record a position between commits (see [`Journal`]); given only when
    /// the channel keeps this sink's position.
    fn bind_journal(&mut self, _journal: Journal) {}

    /// How often the driver calls [`Sink::tick`] while no batch arrives; `None` (the
    /// default) never does.
    fn tick_every(&self) -> Option<std::time::Duration> {
        None
    }

    /// Work that is due by time rather than by data, such as closing a file nothing was
    /// written to for a while. Called between batches, never during a write, so
    /// everything the sink wrote before it is committed.
    fn tick(&mut self) -> impl Future<Output = io::Result<()>> + Send {
        async { Ok(()) }
    }
}

/// Records a sink's position in its channel at once, between commits: for a change
/// that must be known before the sink writes on, such as a new file it is about to
/// write into (recorded as empty, so a crash removes what went into it).
#[derive(Clone)]
pub struct Journal(JournalFn);

type JournalFn = Arc<dyn Fn(Vec<u8>) -> io::Result<()> + Send + Sync>;

impl Journal {
    /// A journal that records positions with `record`.
    pub fn new(record: impl Fn(Vec<u8>) -> io::Result<()> + Send + Sync + 'static) -> Journal {
        Journal(Arc::new(record))
    }

    /// Records `position` now; an error means it is not recorded, and the sink must not
    /// go on with what it was about to write.
    pub fn record(&self, position: Vec<u8>) -> io::Result<()> {
        (self.0)(position)
    }
}

/// A per-event transform with state set up at start (Flume's interceptors). Returns
/// `false` to drop the event.
pub trait Transform: Send + Sync + 'static {
    /// Changes `event` in place; returns whether to keep it. Must not block.
    fn apply(&self, event: &mut Event) -> bool;
}
