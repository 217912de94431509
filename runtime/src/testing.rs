//! A harness for testing components without an agent: feed events to a transform, run
//! a source and collect what it sends, drive a sink through transactions the way an
//! agent does (take, write, commit on success, roll back and retry on failure, close).
//!
//! ```ignore
//! use sluice_runtime::testing;
//!
//! #[tokio::test]
//! async fn shouts() {
//!     let kept = testing::apply(&Shout, [Event::new("hi")]);
//!     assert_eq!(kept[0].body_text(), "HI");
//!
//!     let sent = testing::collect_source(Counter { count: 3 }, 3, Duration::from_secs(5)).await?;
//!     assert_eq!(sent.len(), 3);
//!
//!     let report = testing::drain(MySink::default(), events, 100).await?;
//!     assert_eq!(report.delivered, events.len());
//! }
//! ```

#![warn(missing_docs)]

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::event::{Batch, Event};
use crate::marks::Mark;
use crate::metrics::{SinkCounters, SourceCounters};
use crate::pipeline::{Closed, Output, Sink, Source, SourceContext, Transform};
use crate::shutdown;

/// Runs a future to completion on a fresh single-threaded runtime with timers and I/O,
/// so a plain `#[test]` can drive a source or a sink without depending on tokio.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a single-threaded tokio runtime can be built")
        .block_on(future)
}

/// Applies `transform` to each event in turn, as an agent does; returns the events it
/// kept, changed as it changed them.
pub fn apply<T: Transform>(transform: &T, events: impl IntoIterator<Item = Event>) -> Vec<Event> {
    events
        .into_iter()
        .filter_map(|mut event| transform.apply(&mut event).then_some(event))
        .collect()
}

/// An [`Output`] that keeps every batch a source sends, and the marks sent with them.
#[derive(Clone, Default)]
pub struct Collected {
    sent: Arc<Mutex<Sent>>,
}

#[derive(Default)]
struct Sent {
    events: Vec<Event>,
    marks: Vec<Mark>,
}

impl Collected {
    /// The events sent so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }

    /// The read positions sent with the batches (see [`crate::marks`]), in order.
    pub fn marks(&self) -> Vec<Mark> {
        self.lock().marks.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sent> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Output for Collected {
    async fn send_marked(&self, batch: Batch, mark: Option<&Mark>) -> Result<(), Closed> {
        let mut sent = self.lock();
        sent.events.extend(batch);
        sent.marks.extend(mark.cloned());
        Ok(())
    }
}

/// Runs `source` until it ends by itself, has sent `count` events, or `limit` has
/// passed; then signals it to stop (as SIGTERM does in an agent) and waits for it.
/// Returns the events it sent, or the error it ended with.
pub async fn collect_source<S: Source>(
    source: S,
    count: usize,
    limit: Duration,
) -> io::Result<Vec<Event>> {
    let out = Collected::default();
    let (trigger, shutdown) = shutdown::channel();
    let ctx = SourceContext {
        name: "test",
        shutdown,
        counters: Arc::new(SourceCounters::default()),
    };
    let run = tokio::spawn(source.run(out.clone(), ctx));
    let deadline = tokio::time::Instant::now() + limit;
    while !run.is_finished()
        && out.lock().events.len() < count
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    trigger.trigger();
    match tokio::time::timeout(limit, run).await {
        Ok(Ok(result)) => result?,
        Ok(Err(e)) => return Err(io::Error::other(format!("the source panicked: {e}"))),
        Err(_) => return Err(io::Error::other("the source did not stop when told to")),
    }
    Ok(out.events())
}

/// What [`drain`] saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DrainReport {
    /// Events the sink accepted (their batches were committed).
    pub delivered: usize,
    /// Writes that failed and were retried.
    pub failed_writes: usize,
}

/// Delivers `events` to `sink` in batches of `batch_size`, as an agent's driver does:
/// a batch is committed when `write` returns `Ok`, and written again (the same events)
/// after an `Err`, up to `attempts` times each; then the sink is closed. Returns an
/// error when a batch still fails after that.
pub async fn drain<S: Sink>(
    mut sink: S,
    events: Vec<Event>,
    batch_size: usize,
    attempts: usize,
) -> io::Result<DrainReport> {
    sink.bind_counters(Arc::new(SinkCounters::default()));
    let mut report = DrainReport::default();
    for batch in events.chunks(batch_size.max(1)) {
        let mut tries = 0;
        loop {
            match sink.write(batch).await {
                Ok(()) => {
                    report.delivered += batch.len();
                    break;
                }
                Err(e) => {
                    report.failed_writes += 1;
                    tries += 1;
                    if tries >= attempts.max(1) {
                        return Err(e);
                    }
                }
            }
        }
    }
    sink.close().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Upper;

    impl Transform for Upper {
        fn apply(&self, event: &mut Event) -> bool {
            let upper = event.body_text().to_uppercase();
            event.body = upper.into();
            !event.body.is_empty()
        }
    }

    struct Count(u64);

    impl Source for Count {
        async fn run<O: Output>(self, out: O, ctx: SourceContext) -> io::Result<()> {
            for i in 0..self.0 {
                if ctx.shutdown.is_triggered() {
                    break;
                }
                out.send(vec![Event::new(i.to_string())])
                    .await
                    .map_err(io::Error::other)?;
            }
            Ok(())
        }
    }

    /// Fails every other write.
    #[derive(Default)]
    struct Flaky {
        calls: usize,
        written: Arc<Mutex<Vec<String>>>,
    }

    impl Sink for Flaky {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            self.calls += 1;
            if self.calls % 2 == 1 {
                return Err(io::Error::other("not this time"));
            }
            let mut written = self.written.lock().unwrap();
            written.extend(batch.iter().map(|e| e.body_text().into_owned()));
            Ok(())
        }
    }

    #[tokio::test]
    async fn transforms_sources_and_sinks_run_as_in_an_agent() {
        let kept = apply(&Upper, [Event::new("hi"), Event::new("")]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].body_text(), "HI");

        let sent = collect_source(Count(5), 5, Duration::from_secs(5))
            .await
            .unwrap();
        let bodies: Vec<String> = sent.iter().map(|e| e.body_text().into_owned()).collect();
        assert_eq!(bodies, ["0", "1", "2", "3", "4"]);

        let sink = Flaky::default();
        let written = sink.written.clone();
        let events = (0..5).map(|i| Event::new(i.to_string())).collect();
        let report = drain(sink, events, 2, 2).await.unwrap();
        assert_eq!(
            report,
            DrainReport {
                delivered: 5,
                failed_writes: 3
            }
        );
        assert_eq!(written.lock().unwrap().join(","), "0,1,2,3,4");

        let events = vec![Event::new("x")];
        assert!(drain(Flaky::default(), events, 1, 1).await.is_err());
    }
}
