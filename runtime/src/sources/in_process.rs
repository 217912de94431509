//! `in_process`: events a Rust program sends to the flow embedded in it (`flow!`).

use sluice_macros::Component;

/// Receives the events a program sends through `sluice_runtime::embed::sender(ENDPOINT,
/// …)`, for a flow embedded in it with `flow!`. Ends when every sender is dropped.
/// Events are the program's until `send` returns; then they are in the channel.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "in_process")]
pub struct InProcessSourceConfig {
    /// The name the program registered with `embed::sender`.
    pub endpoint: String,
    /// Most events put into the channel per transaction (several sends may be joined).
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "source-in-process")]
pub use imp::InProcessSource;

#[cfg(feature = "source-in-process")]
mod imp {
    use std::io;
    use std::sync::Arc;

    use tokio::sync::{mpsc, Mutex};

    use super::InProcessSourceConfig;
    use crate::build::BuildSource;
    use crate::embed;
    use crate::event::Batch;
    use crate::pipeline::{Output, Source, SourceContext};

    pub struct InProcessSource {
        receiver: Arc<Mutex<mpsc::Receiver<Batch>>>,
        batch_size: usize,
    }

    impl BuildSource for InProcessSourceConfig {
        type Source = InProcessSource;

        async fn build(self) -> io::Result<InProcessSource> {
            Ok(InProcessSource {
                receiver: embed::receiver(&self.endpoint)?,
                batch_size: usize::try_from(self.batch_size).unwrap_or(usize::MAX).max(1),
            })
        }
    }

    impl Source for InProcessSource {
        async fn run<O: Output>(self, out: O, mut ctx: SourceContext) -> io::Result<()> {
            // Held for the whole run; a restarted source locks it again.
            let mut receiver = self.receiver.lock().await;
            loop {
                let mut batch: Batch = tokio::select! {
                    next = receiver.recv() => match next {
                        Some(batch) => batch,
                        None => return Ok(()), // every sender is gone
                    },
                    _ = ctx.shutdown.wait() => return Ok(()),
                };
                // Join what else is already waiting, up to batch_size events.
                while batch.len() < self.batch_size {
                    match receiver.try_recv() {
                        Ok(more) => batch.extend(more),
                        Err(_) => break,
                    }
                }
                let n = batch.len() as u64;
                ctx.counters.events_received.add(n);
                if out.send(batch).await.is_err() {
                    return Ok(());
                }
                ctx.counters.events_accepted.add(n);
            }
        }
    }
}
