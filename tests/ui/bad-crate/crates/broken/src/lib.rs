//! A component whose source does not parse.

use sluice_runtime::prelude::*;

/// Shouts.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "broken")]
pub struct BrokenConfig {
    pub prefix: String
    pub batch_size: u64,
}
