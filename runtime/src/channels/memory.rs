//! `memory`: a bounded in-memory channel.

use sluice_macros::Component;

use crate::params::ByteSize;

/// Buffers events in memory, bounded by count (and optionally bytes); a full channel makes
/// sources wait. Fast, but events buffered here are lost if the agent crashes.
#[derive(Clone, Debug, Component)]
#[component(role = "channel", kind = "memory")]
pub struct MemoryConfig {
    /// Most events held at once.
    #[param(default = "10_000", min = 1)]
    pub capacity: u64,
    /// Most body bytes held at once; unlimited when unset.
    #[param(min = 1)]
    pub max_bytes: Option<ByteSize>,
    /// Most events in one put or take transaction.
    #[param(default = "1_000", min = 1)]
    pub transaction_capacity: u64,
}
