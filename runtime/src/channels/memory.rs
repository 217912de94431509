//! `memory`: a bounded in-memory channel.

use sluice_macros::Component;

use crate::params::ByteSize;

/// Buffers events in memory, bounded by count (and optionally bytes); a full channel makes
/// sources wait. Fast, but events buffered here are lost if the agent crashes.
#[derive(Clone, Debug, Component)]
#[component(role = "channel", kind = "memory")]
pub struct MemoryConfig {
    /// Most events held at once.
    #[param(capacity, default = "10_000", min = 1)]
    pub capacity: u64,
    /// Most body bytes held at once; unlimited when unset.
    #[param(min = 1)]
    pub max_bytes: Option<ByteSize>,
    /// Most events in one take; a put is one transaction, whatever its size
    #[param(transaction_capacity, default = "1_000", min = 1)]
    pub transaction_capacity: u64,
}

#[cfg(feature = "channel-memory")]
pub use imp::MemoryChannel;

#[cfg(feature = "channel-memory")]
mod imp {
    use crate::build::BuildChannel;
    use std::collections::VecDeque;
    use std::io;
    use std::sync::{Arc, Mutex, MutexGuard};

    use tokio::sync::Notify;

    use super::MemoryConfig;
    use crate::event::Batch;
    use crate::metrics::ChannelCounters;
    use crate::pipeline::{Channel, Closed, Taken};

    /// The bounded in-memory channel. Events taken but not committed still count
    /// against capacity, so a rollback always has room to return them.
    pub struct MemoryChannel {
        state: Mutex<State>,
        capacity: usize,
        max_bytes: usize,
        transaction_capacity: usize,
        space: Notify,
        data: Notify,
        counters: Arc<ChannelCounters>,
    }

    #[derive(Default)]
    struct State {
        queue: VecDeque<crate::event::Event>,
        queued_bytes: usize,
        in_flight: usize,
        in_flight_bytes: usize,
        closed: bool,
    }

    impl State {
        fn held(&self) -> usize {
            self.queue.len() + self.in_flight
        }

        fn held_bytes(&self) -> usize {
            self.queued_bytes + self.in_flight_bytes
        }
    }

    /// Creates the channel from its config.
    impl BuildChannel for MemoryConfig {
        type Channel = MemoryChannel;

        async fn build(self, counters: Arc<ChannelCounters>) -> io::Result<MemoryChannel> {
            let config = self;
            let capacity = usize::try_from(config.capacity).unwrap_or(usize::MAX);
            counters.capacity.set(config.capacity);
            Ok(MemoryChannel {
                state: Mutex::new(State::default()),
                capacity,
                max_bytes: config
                    .max_bytes
                    .map_or(usize::MAX, |b| usize::try_from(b.0).unwrap_or(usize::MAX)),
                transaction_capacity: usize::try_from(config.transaction_capacity)
                    .unwrap_or(usize::MAX)
                    .max(1),
                space: Notify::new(),
                data: Notify::new(),
                counters,
            })
        }
    }

    impl MemoryChannel {
        fn lock(&self) -> MutexGuard<'_, State> {
            // A panic while holding the lock cannot leave the queue half-updated (every
            // update is a few field writes), so a poisoned lock is still usable.
            self.state.lock().unwrap_or_else(|p| p.into_inner())
        }

        fn update_size(&self, state: &State) {
            self.counters.size.set(state.held() as u64);
        }

        /// Puts one transaction, whole; one larger than the channel goes in alone once
        /// the channel is empty.
        async fn put_transaction(&self, batch: Batch) -> Result<(), Closed> {
            let count = batch.len();
            let bytes: usize = batch.iter().map(|e| e.size()).sum();
            self.counters.put_attempts.add(count as u64);
            loop {
                let notified = self.space.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let mut state = self.lock();
                    if state.closed {
                        return Err(Closed);
                    }
                    let empty = state.held() == 0;
                    let fits = empty
                        || (state.held() + count <= self.capacity
                            && state.held_bytes() + bytes <= self.max_bytes);
                    if fits {
                        state.queue.extend(batch);
                        state.queued_bytes += bytes;
                        self.update_size(&state);
                        drop(state);
                        self.counters.put_successes.add(count as u64);
                        self.data.notify_waiters();
                        return Ok(());
                    }
                }
                notified.await;
            }
        }
    }

    impl Channel for MemoryChannel {
        async fn put(&self, batch: Batch) -> Result<(), Closed> {
            if batch.is_empty() {
                return Ok(());
            }
            self.put_transaction(batch).await
        }

        async fn take(&self, max: usize) -> Option<Taken> {
            let max = max.clamp(1, self.transaction_capacity);
            loop {
                let notified = self.data.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let mut state = self.lock();
                    if !state.queue.is_empty() {
                        let n = max.min(state.queue.len());
                        let batch: Batch = state.queue.drain(..n).collect();
                        let bytes: usize = batch.iter().map(|e| e.size()).sum();
                        state.queued_bytes -= bytes;
                        state.in_flight += n;
                        state.in_flight_bytes += bytes;
                        self.counters.take_attempts.add(n as u64);
                        return Some(Taken {
                            events: batch,
                            ticket: 0,
                        });
                    }
                    if state.closed && state.in_flight == 0 {
                        return None;
                    }
                }
                notified.await;
            }
        }

        fn commit(&self, taken: Taken) {
            let (count, bytes) = (taken.events.len(), taken.bytes());
            let mut state = self.lock();
            state.in_flight = state.in_flight.saturating_sub(count);
            state.in_flight_bytes = state.in_flight_bytes.saturating_sub(bytes);
            self.update_size(&state);
            let drained = state.closed && state.held() == 0;
            drop(state);
            self.counters.take_successes.add(count as u64);
            self.space.notify_waiters();
            if drained {
                self.data.notify_waiters();
            }
        }

        fn rollback(&self, taken: Taken) {
            let batch = taken.events;
            let mut state = self.lock();
            let bytes: usize = batch.iter().map(|e| e.size()).sum();
            state.in_flight = state.in_flight.saturating_sub(batch.len());
            state.in_flight_bytes = state.in_flight_bytes.saturating_sub(bytes);
            state.queued_bytes += bytes;
            for event in batch.into_iter().rev() {
                state.queue.push_front(event);
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
            let state = self.lock();
            state.held() == 0
                || (state.held() + count <= self.capacity && state.held_bytes() < self.max_bytes)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::event::Event;
        use crate::params::ByteSize;
        use std::time::Duration;

        async fn channel(capacity: u64, tx: u64, max_bytes: Option<u64>) -> Arc<MemoryChannel> {
            let config = MemoryConfig {
                capacity,
                max_bytes: max_bytes.map(ByteSize),
                transaction_capacity: tx,
            };
            Arc::new(config.build(Arc::default()).await.unwrap())
        }

        fn events(range: std::ops::Range<u32>) -> Batch {
            range.map(|i| Event::new(i.to_string())).collect()
        }

        #[tokio::test]
        async fn rollback_returns_events_in_order() {
            let ch = channel(10, 10, None).await;
            ch.put(events(0..5)).await.unwrap();
            let first = ch.take(3).await.unwrap();
            ch.rollback(first);
            let again = ch.take(10).await.unwrap();
            let bodies: Vec<_> = again
                .events
                .iter()
                .map(|e| e.body_text().into_owned())
                .collect();
            assert_eq!(bodies, ["0", "1", "2", "3", "4"]);
        }

        #[tokio::test]
        async fn full_channel_blocks_the_producer_until_a_commit() {
            let ch = channel(4, 4, None).await;
            ch.put(events(0..4)).await.unwrap();
            let blocked =
                tokio::time::timeout(Duration::from_millis(50), ch.put(events(4..5))).await;
            assert!(blocked.is_err(), "put into a full channel must wait");
            let taken = ch.take(2).await.unwrap();
            // Taken but uncommitted events still hold their place.
            let still = tokio::time::timeout(Duration::from_millis(50), ch.put(events(4..5))).await;
            assert!(still.is_err());
            ch.commit(taken);
            tokio::time::timeout(Duration::from_secs(1), ch.put(events(4..5)))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(ch.len(), 3);
        }

        #[tokio::test]
        async fn byte_limit_applies_too() {
            let ch = channel(100, 100, Some(4)).await;
            ch.put(events(0..4)).await.unwrap(); // 4 bytes
            let blocked =
                tokio::time::timeout(Duration::from_millis(50), ch.put(events(4..5))).await;
            assert!(blocked.is_err());
        }

        #[tokio::test]
        async fn close_drains_then_ends_takes() {
            let ch = channel(10, 10, None).await;
            ch.put(events(0..3)).await.unwrap();
            ch.close();
            assert_eq!(ch.put(events(3..4)).await, Err(Closed));
            let batch = ch.take(10).await.unwrap();
            assert_eq!(batch.events.len(), 3);
            ch.commit(batch);
            assert!(ch.take(10).await.is_none());
        }

        #[tokio::test]
        async fn large_puts_are_split_into_transactions() {
            let ch = channel(100, 10, None).await;
            ch.put(events(0..25)).await.unwrap();
            assert_eq!(ch.take(100).await.unwrap().events.len(), 10);
        }
    }
}
