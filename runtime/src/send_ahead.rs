//! Reading ahead while a send commits: group commit from one source.
//!
//! A source that awaits every send pays each commit's full latency (for a durable
//! channel, an `fdatasync`) before it reads on, so a second of input costs one sync per
//! batch. [`SendAhead`] keeps one send in flight and lets the source go on reading; the
//! batches read meanwhile wait in a queue and go out together, as one transaction, when
//! the send in flight commits. The slower the commit, the more batches share the next
//! one; when commits are fast, every batch goes alone, as before.
//!
//! Guarantees are unchanged: a batch counts as committed (its token is handed back) only
//! once the send that carried it has returned `Ok`, and sends happen one after the other
//! in read order, so a channel sees the batches, and their marks, in order. The queue is
//! bounded (`max_events`), so reading ahead never holds more than a few batches.

#![warn(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::event::Batch;
use crate::marks::Mark;
use crate::pipeline::{Closed, Output};

type Sending<'o> = Pin<Box<dyn Future<Output = Result<(), Closed>> + Send + 'o>>;

/// A source's sends, one in flight, the batches read meanwhile queued behind it. `T` is
/// what the source needs back when a batch is committed (a position to save, a count).
pub struct SendAhead<'o, O: Output, T> {
    out: &'o O,
    max_events: usize,
    in_flight: Option<(Sending<'o>, Vec<T>)>,
    queued: Batch,
    queued_mark: Option<Mark>,
    queued_tokens: Vec<T>,
}

impl<'o, O: Output, T: Send> SendAhead<'o, O, T> {
    /// Sends into `out`, queueing at most `max_events` events behind the send in flight.
    pub fn new(out: &'o O, max_events: usize) -> Self {
        SendAhead {
            out,
            max_events: max_events.max(1),
            in_flight: None,
            queued: Vec::new(),
            queued_mark: None,
            queued_tokens: Vec::new(),
        }
    }

    /// Queues `batch`, read up to `mark`; `token` comes back once the batch is
    /// committed. Returns the tokens of the batches committed since the last call, in
    /// read order. Waits only when the queue is full (or the mark is for another input
    /// than the queued batches', which cannot share a transaction).
    pub async fn send(
        &mut self,
        batch: Batch,
        mark: Option<Mark>,
        token: T,
    ) -> Result<Vec<T>, Closed> {
        let mut committed = Vec::new();
        let other_input = match (&self.queued_mark, &mark) {
            (Some(queued), Some(new)) => queued.key != new.key || queued.source != new.source,
            _ => false,
        };
        if other_input {
            committed.extend(self.flush().await?);
        }
        self.queued.extend(batch);
        self.queued_mark = mark.or(self.queued_mark.take());
        self.queued_tokens.push(token);
        committed.extend(self.poll_in_flight()?);
        if self.in_flight.is_some() && self.queued.len() >= self.max_events {
            committed.extend(self.finish_in_flight().await?);
        }
        if self.in_flight.is_none() {
            // Started now, so that its write and sync run while the source reads on.
            self.start_queued();
            committed.extend(self.poll_in_flight()?);
        }
        Ok(committed)
    }

    /// Waits until every batch given so far is committed; returns their tokens.
    pub async fn flush(&mut self) -> Result<Vec<T>, Closed> {
        let mut committed = self.finish_in_flight().await?;
        if !self.queued_tokens.is_empty() {
            self.start_queued();
            committed.extend(self.finish_in_flight().await?);
        }
        Ok(committed)
    }

    /// Whether a batch is still waiting to be committed.
    pub fn is_idle(&self) -> bool {
        self.in_flight.is_none() && self.queued_tokens.is_empty()
    }

    fn start_queued(&mut self) {
        if self.queued_tokens.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.queued);
        let mark = self.queued_mark.take();
        let tokens = std::mem::take(&mut self.queued_tokens);
        let out = self.out;
        let send: Sending<'o> =
            Box::pin(async move { out.send_marked(batch, mark.as_ref()).await });
        self.in_flight = Some((send, tokens));
    }

    /// Polls the send in flight once, without waiting: its tokens if it has committed.
    fn poll_in_flight(&mut self) -> Result<Vec<T>, Closed> {
        let Some((send, _)) = &mut self.in_flight else {
            return Ok(Vec::new());
        };
        // A no-op waker: nothing waits on this poll; the source polls again after its
        // next read, or awaits the send properly when it has to.
        let mut cx = Context::from_waker(Waker::noop());
        match send.as_mut().poll(&mut cx) {
            Poll::Pending => Ok(Vec::new()),
            Poll::Ready(result) => {
                let (_, tokens) = self.in_flight.take().expect("matched above");
                result.map(|()| tokens)
            }
        }
    }

    async fn finish_in_flight(&mut self) -> Result<Vec<T>, Closed> {
        match self.in_flight.take() {
            Some((send, tokens)) => send.await.map(|()| tokens),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    /// One recorded send: the bodies, and the mark's key and value run together.
    type Sent = (Vec<String>, Option<Vec<u8>>);

    /// Records every send; commits only while `open` is set.
    #[derive(Default)]
    struct Recorder {
        sends: Mutex<Vec<Sent>>,
        open: AtomicBool,
        gate: tokio::sync::Notify,
    }

    impl Output for Recorder {
        async fn send_marked(&self, batch: Batch, mark: Option<&Mark>) -> Result<(), Closed> {
            let bodies = batch.iter().map(|e| e.body_text().into_owned()).collect();
            self.sends.lock().unwrap().push((
                bodies,
                mark.map(|m| [m.key.clone(), m.value.clone()].concat()),
            ));
            while !self.open.load(Ordering::SeqCst) {
                self.gate.notified().await;
            }
            Ok(())
        }
    }

    fn mark(key: &str, value: &str) -> Option<Mark> {
        Some(Mark {
            source: "s",
            key: key.into(),
            value: value.into(),
        })
    }

    #[tokio::test]
    async fn batches_read_during_a_slow_commit_share_the_next_one() {
        let out = Recorder::default();
        let mut ahead = SendAhead::new(&out, 100);
        // The first send goes at once and hangs; the next two queue behind it.
        assert!(ahead
            .send(vec![Event::new("a")], mark("f", "1"), 1)
            .await
            .unwrap()
            .is_empty());
        assert!(ahead
            .send(vec![Event::new("b")], mark("f", "2"), 2)
            .await
            .unwrap()
            .is_empty());
        assert!(ahead
            .send(vec![Event::new("c")], mark("f", "3"), 3)
            .await
            .unwrap()
            .is_empty());
        assert!(!ahead.is_idle());
        out.open.store(true, Ordering::SeqCst);
        out.gate.notify_waiters();
        assert_eq!(ahead.flush().await.unwrap(), [1, 2, 3]);
        assert!(ahead.is_idle());
        let sends = out.sends.lock().unwrap().clone();
        assert_eq!(
            sends,
            [
                (vec!["a".to_string()], Some(b"f1".to_vec())),
                (vec!["b".into(), "c".into()], Some(b"f3".to_vec())),
            ],
            "one send in flight, the rest together with the newest mark"
        );
    }

    #[tokio::test]
    async fn a_full_queue_waits_for_the_send_in_flight() {
        let out = std::sync::Arc::new(Recorder::default());
        let opener = {
            let out = out.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                out.open.store(true, Ordering::SeqCst);
                out.gate.notify_waiters();
            })
        };
        let mut ahead = SendAhead::new(&*out, 2);
        let mut committed = Vec::new();
        for i in 0..5 {
            committed.extend(
                ahead
                    .send(vec![Event::new(i.to_string())], None, i)
                    .await
                    .unwrap(),
            );
            assert!(out.sends.lock().unwrap().iter().map(|s| s.0.len()).max() <= Some(2));
        }
        committed.extend(ahead.flush().await.unwrap());
        assert_eq!(committed, [0, 1, 2, 3, 4], "every token back, in order");
        opener.await.unwrap();
    }

    #[tokio::test]
    async fn another_input_never_shares_a_transaction() {
        let out = Recorder::default();
        out.open.store(true, Ordering::SeqCst);
        let mut ahead = SendAhead::new(&out, 100);
        let mut committed = Vec::new();
        committed.extend(
            ahead
                .send(vec![Event::new("a")], mark("f", "1"), 1)
                .await
                .unwrap(),
        );
        committed.extend(
            ahead
                .send(vec![Event::new("b")], mark("g", "1"), 2)
                .await
                .unwrap(),
        );
        committed.extend(ahead.flush().await.unwrap());
        assert_eq!(committed, [1, 2]);
        let keys: Vec<Option<Vec<u8>>> = out
            .sends
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.1.clone())
            .collect();
        assert_eq!(keys, [Some(b"f1".to_vec()), Some(b"g1".to_vec())]);
    }
}
