//! Reading ahead while a send commits: group commit from one source.
//!
//! A source that awaits every send pays each commit's full latency (for a durable
//! channel, an `fdatasync`) before it reads on, so a second of input costs one sync per
//! batch. [`SendAhead`] keeps one send in flight and lets the source go on reading; the
//! batches read meanwhile wait in a queue and go out together, as one transaction, when
//! the send in flight commits (as many as every channel has room for). The slower the commit, the more batches share the next
//! one; when commits are fast, every batch goes alone, as before.
//!
//! Guarantees are unchanged: a batch counts as committed (its token is handed back) only
//! once the send that carried it has returned `Ok`, and sends happen one after the other
//! in read order, so a channel sees the batches, and their marks, in order. The queue is
//! bounded (`max_events`), so reading ahead never holds more than a few batches.

#![warn(missing_docs)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::event::Batch;
use crate::marks::Mark;
use crate::pipeline::{Closed, Output};

type Sending<'o> = Pin<Box<dyn Future<Output = Result<(), Closed>> + Send + 'o>>;

/// A batch read but not yet sent.
struct Queued<T> {
    batch: Batch,
    mark: Option<Mark>,
    token: T,
}

/// A source's sends, one in flight, the batches read meanwhile queued behind it. `T` is
/// what the source needs back when a batch is committed (a position to save, a count).
pub struct SendAhead<'o, O: Output, T> {
    out: &'o O,
    max_events: usize,
    in_flight: Option<(Sending<'o>, Vec<T>)>,
    queue: VecDeque<Queued<T>>,
    queued_events: usize,
    committed: Vec<T>,
}

impl<'o, O: Output, T: Send> SendAhead<'o, O, T> {
    /// Sends into `out`, queueing at most `max_events` events behind the send in flight.
    pub fn new(out: &'o O, max_events: usize) -> Self {
        SendAhead {
            out,
            max_events: max_events.max(1),
            in_flight: None,
            queue: VecDeque::new(),
            queued_events: 0,
            committed: Vec::new(),
        }
    }

    /// Queues `batch`, read up to `mark`; its `token` is among [`Self::committed`] once
    /// the batch is committed. Waits only when the queue is full. `Err` means the agent
    /// is stopping; tokens committed before that are still handed back.
    pub async fn send(&mut self, batch: Batch, mark: Option<Mark>, token: T) -> Result<(), Closed> {
        self.queued_events += batch.len();
        self.queue.push_back(Queued { batch, mark, token });
        self.poll_in_flight()?;
        if self.in_flight.is_some() && self.queued_events >= self.max_events {
            self.finish_in_flight().await?;
        }
        if self.in_flight.is_none() {
            // Started now, so that its write and sync run while the source reads on.
            self.start_next();
            self.poll_in_flight()?;
        }
        Ok(())
    }

    /// Waits until every batch given so far is committed.
    pub async fn flush(&mut self) -> Result<(), Closed> {
        loop {
            self.finish_in_flight().await?;
            if self.queue.is_empty() {
                return Ok(());
            }
            self.start_next();
        }
    }

    /// The tokens of the batches committed so far and not yet taken, in read order.
    pub fn committed(&mut self) -> Vec<T> {
        std::mem::take(&mut self.committed)
    }

    /// Starts sending the oldest queued batch, together with the batches after it that
    /// are from the same input and for which every channel has room now: a merged put
    /// never waits for more room than its first batch would, so a full channel gets
    /// single batches, as without read-ahead.
    fn start_next(&mut self) {
        let Some(first) = self.queue.pop_front() else {
            return;
        };
        let (mut batch, mut mark, mut tokens) = (first.batch, first.mark, vec![first.token]);
        while let Some(next) = self.queue.front() {
            let same_input = match (&mark, &next.mark) {
                (Some(a), Some(b)) => a.source == b.source && a.key == b.key,
                (None, None) => true,
                _ => false,
            };
            if !same_input || !self.out.has_room(batch.len() + next.batch.len()) {
                break;
            }
            let next = self.queue.pop_front().expect("looked at above");
            batch.extend(next.batch);
            mark = next.mark;
            tokens.push(next.token);
        }
        self.queued_events -= batch.len();
        let out = self.out;
        let send: Sending<'o> =
            Box::pin(async move { out.send_marked(batch, mark.as_ref()).await });
        self.in_flight = Some((send, tokens));
    }

    /// Polls the send in flight once, without waiting, and notes its tokens if it has
    /// committed.
    fn poll_in_flight(&mut self) -> Result<(), Closed> {
        let Some((send, _)) = &mut self.in_flight else {
            return Ok(());
        };
        // A no-op waker: nothing waits on this poll; the source polls again after its
        // next read, or awaits the send properly when it has to.
        let mut cx = Context::from_waker(Waker::noop());
        match send.as_mut().poll(&mut cx) {
            Poll::Pending => Ok(()),
            Poll::Ready(result) => {
                let (_, tokens) = self.in_flight.take().expect("matched above");
                result.map(|()| self.committed.extend(tokens))
            }
        }
    }

    async fn finish_in_flight(&mut self) -> Result<(), Closed> {
        match self.in_flight.take() {
            Some((send, tokens)) => send.await.map(|()| self.committed.extend(tokens)),
            None => Ok(()),
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

    /// Records every send; commits only while `open` is set; refuses once `closing`.
    #[derive(Default)]
    struct Recorder {
        sends: Mutex<Vec<Sent>>,
        open: AtomicBool,
        gate: tokio::sync::Notify,
        full: AtomicBool,
        closing: AtomicBool,
    }

    impl Recorder {
        fn open(&self) {
            self.open.store(true, Ordering::SeqCst);
            self.gate.notify_waiters();
        }

        fn sends(&self) -> Vec<Sent> {
            self.sends.lock().unwrap().clone()
        }
    }

    impl Output for Recorder {
        async fn send_marked(&self, batch: Batch, mark: Option<&Mark>) -> Result<(), Closed> {
            if self.closing.load(Ordering::SeqCst) {
                return Err(Closed);
            }
            let bodies = batch.iter().map(|e| e.body_text().into_owned()).collect();
            let mark = mark.map(|m| [m.key.clone(), m.value.clone()].concat());
            self.sends.lock().unwrap().push((bodies, mark));
            while !self.open.load(Ordering::SeqCst) {
                self.gate.notified().await;
            }
            Ok(())
        }

        fn has_room(&self, _count: usize) -> bool {
            !self.full.load(Ordering::SeqCst)
        }
    }

    fn mark(key: &str, value: &str) -> Option<Mark> {
        Some(Mark {
            source: "s",
            key: key.into(),
            value: value.into(),
        })
    }

    fn sent(bodies: &[&str], mark: &str) -> Sent {
        let bodies = bodies.iter().map(|b| b.to_string()).collect();
        (bodies, Some(mark.as_bytes().to_vec()))
    }

    #[tokio::test]
    async fn batches_read_during_a_slow_commit_share_the_next_one() {
        let out = Recorder::default();
        let mut ahead = SendAhead::new(&out, 100);
        // The first send goes at once and hangs; the next two queue behind it.
        send_each(
            &mut ahead,
            &[("a", "f", "1"), ("b", "f", "2"), ("c", "f", "3")],
        )
        .await;
        assert!(ahead.committed().is_empty(), "nothing committed yet");
        out.open();
        ahead.flush().await.unwrap();
        assert_eq!(ahead.committed(), [0, 1, 2]);
        assert_eq!(
            out.sends(),
            [sent(&["a"], "f1"), sent(&["b", "c"], "f3")],
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
                out.open();
            })
        };
        let mut ahead = SendAhead::new(&*out, 2);
        let mut committed = Vec::new();
        for i in 0..5 {
            ahead
                .send(vec![Event::new(i.to_string())], None, i)
                .await
                .unwrap();
            committed.extend(ahead.committed());
            assert!(out.sends().iter().map(|s| s.0.len()).max() <= Some(2));
        }
        ahead.flush().await.unwrap();
        committed.extend(ahead.committed());
        assert_eq!(committed, [0, 1, 2, 3, 4], "every token back, in order");
        opener.await.unwrap();
    }

    /// Sends one single-event batch per (body, mark key, mark value); tokens are the
    /// batches' indexes.
    async fn send_each(ahead: &mut SendAhead<'_, Recorder, usize>, batches: &[(&str, &str, &str)]) {
        for (i, (body, key, value)) in batches.iter().enumerate() {
            let sent = ahead
                .send(vec![Event::new(body.to_string())], mark(key, value), i)
                .await;
            sent.unwrap();
        }
    }

    #[tokio::test]
    async fn another_input_never_shares_a_transaction() {
        let out = Recorder::default();
        let mut ahead = SendAhead::new(&out, 100);
        send_each(
            &mut ahead,
            &[("a", "f", "1"), ("b", "f", "2"), ("c", "g", "1")],
        )
        .await;
        out.open();
        ahead.flush().await.unwrap();
        assert_eq!(ahead.committed(), [0, 1, 2]);
        let want = [sent(&["a"], "f1"), sent(&["b"], "f2"), sent(&["c"], "g1")];
        assert_eq!(out.sends(), want);
    }

    #[tokio::test]
    async fn a_channel_without_room_gets_single_batches() {
        let out = Recorder::default();
        out.full.store(true, Ordering::SeqCst);
        let mut ahead = SendAhead::new(&out, 100);
        send_each(
            &mut ahead,
            &[("a", "f", "a"), ("b", "f", "b"), ("c", "f", "c")],
        )
        .await;
        out.open();
        ahead.flush().await.unwrap();
        assert_eq!(ahead.committed(), [0, 1, 2]);
        let want = [sent(&["a"], "fa"), sent(&["b"], "fb"), sent(&["c"], "fc")];
        assert_eq!(out.sends(), want);
    }

    #[tokio::test]
    async fn commits_made_before_the_agent_stops_are_still_handed_back() {
        let out = Recorder::default();
        let mut ahead = SendAhead::new(&out, 100);
        send_each(&mut ahead, &[("a", "f", "1"), ("b", "f", "2")]).await;
        // The first send commits, then the agent stops before the second goes out.
        out.open();
        out.closing.store(true, Ordering::SeqCst);
        assert_eq!(ahead.flush().await, Err(Closed));
        assert_eq!(ahead.committed(), [0], "the first batch was committed");
    }
}
