//! `null`: discards events (for benchmarks and tests).

use sluice_macros::Component;

/// Takes events from its channel and discards them.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "null")]
pub struct NullConfig {
    /// Events taken from the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "sink-null")]
pub use imp::Null;

#[cfg(feature = "sink-null")]
mod imp {
    use crate::build::BuildSink;
    use std::io;

    use super::NullConfig;
    use crate::event::Event;
    use crate::pipeline::Sink;

    pub struct Null;

    impl BuildSink for NullConfig {
        type Sink = Null;

        async fn build(self) -> io::Result<Null> {
            Ok(Null)
        }
    }

    impl Sink for Null {
        async fn write(&mut self, _batch: &[Event]) -> io::Result<()> {
            Ok(())
        }
    }
}
