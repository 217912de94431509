//! A sink named like a built-in one.

use sluice_runtime::prelude::*;

/// Logs, differently.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "logger")]
pub struct LoggerConfig {
    /// Events per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}
