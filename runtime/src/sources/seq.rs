//! `seq`: a generator for tests and load (Flume's seq and stress sources).

use sluice_macros::Component;

/// Generates events: bodies `0`, `1`, `2`, … (or `body` for every event), then stops.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "seq")]
pub struct SeqConfig {
    /// How many events to generate; without it the source runs until the agent stops.
    #[param(min = 0)]
    pub count: Option<u64>,
    /// Events per second at most; without it, as fast as the channel takes them.
    #[param(min = 1)]
    pub rate: Option<u64>,
    /// A fixed body for every event instead of the sequence number.
    pub body: Option<String>,
    /// Events put into the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
}
