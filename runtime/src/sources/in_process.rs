//! `in_process`: events a Rust program sends to the flow embedded in it (`flow!`).

use sluice_macros::Component;

/// Receives the events a program sends through `sluice_runtime::embed::sender(ENDPOINT,
/// …)`, for a flow embedded in it with `flow!`. Ends when every sender is dropped.
/// `send` returns `Ok` once the events are in the channels, `Err` when the agent
/// stopped first.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "in_process")]
pub struct InProcessSourceConfig {
    /// The name the program registered with `embed::sender`.
    pub endpoint: String,
    /// Most events put into the channel per transaction: sends waiting together are
    /// joined, and a larger send is split.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "source-in-process")]
pub use imp::InProcessSource;

#[cfg(feature = "source-in-process")]
mod imp {
    use std::io;

    use super::InProcessSourceConfig;
    use crate::build::BuildSource;
    use crate::embed::{self, Delivery, Receiver};
    use crate::event::Batch;
    use crate::pipeline::{Output, Source, SourceContext};

    pub struct InProcessSource {
        receiver: Receiver,
        batch_size: usize,
    }

    impl BuildSource for InProcessSourceConfig {
        type Source = InProcessSource;

        async fn build(self) -> io::Result<InProcessSource> {
            Ok(InProcessSource {
                receiver: embed::receiver(&self.endpoint)?,
                batch_size: usize::try_from(self.batch_size)
                    .unwrap_or(usize::MAX)
                    .max(1),
            })
        }
    }

    impl Source for InProcessSource {
        /// Puts what the program sends, then acknowledges it: a sender learns only once
        /// its events are in the channels. At shutdown the endpoint is closed, and sends
        /// still waiting fail instead of being acknowledged.
        async fn run<O: Output>(self, out: O, mut ctx: SourceContext) -> io::Result<()> {
            // Held for the whole run; a restarted source locks it again.
            let mut receiver = self.receiver.lock().await;
            loop {
                let first = tokio::select! {
                    next = receiver.recv() => match next {
                        Some(delivery) => delivery,
                        None => return Ok(()), // every sender is gone
                    },
                    _ = ctx.shutdown.wait() => {
                        embed::close(&mut receiver);
                        return Ok(());
                    }
                };
                // Join what else is already waiting, up to batch_size events.
                let mut waiting = first.events.len();
                let mut deliveries: Vec<Delivery> = vec![first];
                while waiting < self.batch_size {
                    match receiver.try_recv() {
                        Ok(more) => {
                            waiting += more.events.len();
                            deliveries.push(more);
                        }
                        Err(_) => break,
                    }
                }
                let mut acks = Vec::with_capacity(deliveries.len());
                let mut batch: Batch = Vec::with_capacity(waiting);
                let mut put = true;
                for delivery in deliveries {
                    acks.push(delivery.ack);
                    for event in delivery.events {
                        batch.push(event);
                        if batch.len() == self.batch_size {
                            put &= self.put(&out, &ctx, std::mem::take(&mut batch)).await;
                        }
                    }
                }
                if !batch.is_empty() {
                    put &= self.put(&out, &ctx, batch).await;
                }
                if !put {
                    // The channels closed: the agent is stopping. Unacknowledged senders
                    // get an error (some of their events may be in the channel).
                    embed::close(&mut receiver);
                    return Ok(());
                }
                for ack in acks {
                    let _ = ack.send(());
                }
            }
        }
    }

    impl InProcessSource {
        /// Puts one transaction; `false` once the channels are closed.
        async fn put<O: Output>(&self, out: &O, ctx: &SourceContext, batch: Batch) -> bool {
            if batch.is_empty() {
                return true;
            }
            let n = batch.len() as u64;
            ctx.counters.events_received.add(n);
            if out.send(batch).await.is_err() {
                return false;
            }
            ctx.counters.events_accepted.add(n);
            true
        }
    }
}
