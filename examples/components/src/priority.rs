//! `priority`: a bounded in-memory channel that hands out urgent events first.

use std::collections::VecDeque;
use std::io;
use std::sync::{Mutex, MutexGuard};

use sluice_runtime::prelude::*;
use sluice_runtime::tokio::sync::Notify;

/// Buffers events in memory like `memory`, in two queues: events whose `header` is
/// `value` are taken before all others, each queue in arrival order. A full channel
/// makes sources wait. Events buffered here are lost if the agent crashes.
#[derive(Clone, Debug, Component)]
#[component(role = "channel", kind = "priority")]
pub struct PriorityConfig {
    /// Most events held at once (urgent and others together).
    #[param(capacity, default = "10_000", min = 1)]
    pub capacity: u64,
    /// Most events in one take.
    #[param(transaction_capacity, default = "1_000", min = 1)]
    pub transaction_capacity: u64,
    /// The header that marks urgent events.
    #[param(default = "\"priority\"")]
    pub header: String,
    /// The value of `header` that makes an event urgent.
    #[param(default = "\"high\"")]
    pub value: String,
}

pub struct Priority {
    state: Mutex<State>,
    capacity: usize,
    transaction_capacity: usize,
    header: String,
    value: String,
    /// Woken when events leave (room for puts) and when events arrive (for takes).
    space: Notify,
    data: Notify,
    counters: Arc<ChannelCounters>,
}

#[derive(Default)]
struct State {
    urgent: VecDeque<Event>,
    normal: VecDeque<Event>,
    /// Taken, not yet committed or rolled back: still counted against capacity.
    in_flight: usize,
    closed: bool,
}

impl State {
    fn held(&self) -> usize {
        self.urgent.len() + self.normal.len() + self.in_flight
    }
}

impl BuildChannel for PriorityConfig {
    type Channel = Priority;

    async fn build(self, counters: Arc<ChannelCounters>) -> io::Result<Priority> {
        counters.capacity.set(self.capacity);
        Ok(Priority {
            state: Mutex::new(State::default()),
            capacity: usize::try_from(self.capacity).unwrap_or(usize::MAX),
            transaction_capacity: usize::try_from(self.transaction_capacity)
                .unwrap_or(usize::MAX)
                .max(1),
            header: self.header,
            value: self.value,
            space: Notify::new(),
            data: Notify::new(),
            counters,
        })
    }
}

impl Priority {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_urgent(&self, event: &Event) -> bool {
        event.headers.get(&self.header) == Some(self.value.as_str())
    }
}

impl Channel for Priority {
    /// All of `batch` or nothing: waits until it fits (a batch larger than the channel
    /// goes in alone, once the channel is empty).
    async fn put(&self, batch: Batch) -> Result<(), Closed> {
        if batch.is_empty() {
            return Ok(());
        }
        loop {
            let room = self.space.notified();
            sluice_runtime::tokio::pin!(room);
            room.as_mut().enable();
            {
                let mut state = self.lock();
                if state.closed {
                    return Err(Closed);
                }
                let held = state.held();
                if held == 0 || held + batch.len() <= self.capacity {
                    self.counters.put_successes.add(batch.len() as u64);
                    for event in batch {
                        if self.is_urgent(&event) {
                            state.urgent.push_back(event);
                        } else {
                            state.normal.push_back(event);
                        }
                    }
                    self.counters.size.set(state.held() as u64);
                    drop(state);
                    self.data.notify_waiters();
                    return Ok(());
                }
            }
            room.await;
        }
    }

    async fn take(&self, max: usize) -> Option<Taken> {
        let max = max.clamp(1, self.transaction_capacity);
        loop {
            let arrived = self.data.notified();
            sluice_runtime::tokio::pin!(arrived);
            arrived.as_mut().enable();
            {
                let mut state = self.lock();
                let waiting = state.urgent.len() + state.normal.len();
                if waiting > 0 {
                    let from_urgent = state.urgent.len().min(max);
                    let mut events: Batch = state.urgent.drain(..from_urgent).collect();
                    let from_normal = state.normal.len().min(max - events.len());
                    events.extend(state.normal.drain(..from_normal));
                    state.in_flight += events.len();
                    self.counters.take_successes.add(events.len() as u64);
                    return Some(Taken { events, ticket: 0 });
                }
                if state.closed {
                    return None;
                }
            }
            arrived.await;
        }
    }

    fn commit(&self, taken: Taken) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(taken.events.len());
        self.counters.size.set(state.held() as u64);
        drop(state);
        self.space.notify_waiters();
    }

    /// The events go back to the front of their queues, in their order.
    fn rollback(&self, taken: Taken) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(taken.events.len());
        for event in taken.events.into_iter().rev() {
            if self.is_urgent(&event) {
                state.urgent.push_front(event);
            } else {
                state.normal.push_front(event);
            }
        }
        drop(state);
        self.data.notify_waiters();
    }

    fn close(&self) {
        self.lock().closed = true;
        self.data.notify_waiters();
        self.space.notify_waiters();
    }

    fn len(&self) -> usize {
        self.lock().held()
    }

    fn has_room(&self, count: usize) -> bool {
        let held = self.lock().held();
        held == 0 || held + count <= self.capacity
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sluice_runtime::testing;

    use super::*;

    fn channel(capacity: u64) -> Priority {
        let config = PriorityConfig {
            capacity,
            transaction_capacity: 100,
            header: "priority".into(),
            value: "high".into(),
        };
        let counters = Arc::new(ChannelCounters::default());
        testing::block_on(config.build(counters)).unwrap()
    }

    fn event(body: &str, urgent: bool) -> Event {
        let mut event = Event::new(body.to_owned());
        if urgent {
            event.headers.set("priority", "high");
        }
        event
    }

    fn bodies(taken: &Taken) -> Vec<String> {
        taken
            .events
            .iter()
            .map(|e| e.body_text().into_owned())
            .collect()
    }

    #[test]
    fn urgent_events_are_taken_first_and_rollbacks_keep_the_order() {
        let channel = channel(10);
        testing::block_on(async {
            channel
                .put(vec![
                    event("a", false),
                    event("b", true),
                    event("c", false),
                    event("d", true),
                ])
                .await
                .unwrap();
            let first = channel.take(3).await.unwrap();
            assert_eq!(bodies(&first), ["b", "d", "a"]);
            channel.rollback(first);
            let again = channel.take(10).await.unwrap();
            assert_eq!(bodies(&again), ["b", "d", "a", "c"]);
            assert_eq!(channel.len(), 4);
            channel.commit(again);
            assert_eq!(channel.len(), 0);
        });
    }

    #[test]
    fn a_full_channel_makes_puts_wait_until_a_commit() {
        let channel = Arc::new(channel(2));
        testing::block_on(async {
            channel
                .put(vec![event("a", false), event("b", false)])
                .await
                .unwrap();
            assert!(!channel.has_room(1));
            let waiting = {
                let channel = channel.clone();
                sluice_runtime::tokio::spawn(
                    async move { channel.put(vec![event("c", true)]).await },
                )
            };
            sluice_runtime::tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(!waiting.is_finished(), "the put should wait for room");
            let taken = channel.take(2).await.unwrap();
            channel.commit(taken);
            waiting.await.unwrap().unwrap();
            channel.close();
            assert_eq!(bodies(&channel.take(5).await.unwrap()), ["c"]);
        });
    }
}
