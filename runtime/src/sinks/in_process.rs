//! `in_process`: hands batches to a closure of the Rust program the flow is embedded in.

use sluice_macros::Component;

/// Hands each batch to the closure a program registered with
/// `sluice_runtime::embed::on_batch(ENDPOINT, …)`, for a flow embedded in it with
/// `flow!`. `Ok` from the closure commits the batch; `Err` rolls it back and the same
/// events come again after a backoff.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "in_process")]
pub struct InProcessSinkConfig {
    /// The name the program registered with `embed::on_batch`.
    pub endpoint: String,
    /// Events taken from the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "sink-in-process")]
pub use imp::InProcessSink;

#[cfg(feature = "sink-in-process")]
mod imp {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::InProcessSinkConfig;
    use crate::build::BuildSink;
    use crate::embed::{self, BatchFn};
    use crate::event::Event;
    use crate::pipeline::Sink;

    pub struct InProcessSink {
        callback: Arc<Mutex<Box<BatchFn>>>,
    }

    impl BuildSink for InProcessSinkConfig {
        type Sink = InProcessSink;

        async fn build(self) -> io::Result<InProcessSink> {
            Ok(InProcessSink {
                callback: embed::callback(&self.endpoint)?,
            })
        }
    }

    impl Sink for InProcessSink {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            let mut callback = self.callback.lock().unwrap_or_else(|p| p.into_inner());
            (callback)(batch)
        }
    }
}
