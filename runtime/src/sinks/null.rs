//! `null`: discards events (for benchmarks and tests).

use sluice_macros::Component;

/// Takes events from its channel and discards them.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "null")]
pub struct NullConfig {
    /// Events taken from the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
}
