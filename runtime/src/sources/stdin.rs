//! `stdin`: one event per line of standard input.

use sluice_macros::Component;

use crate::params::ByteSize;

/// Reads standard input, one event per line; stops at end of input.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "stdin")]
pub struct StdinConfig {
    /// Longest line accepted; longer lines are counted as rejected and skipped.
    #[param(default = "64KiB", min = 1)]
    pub max_line: ByteSize,
    /// Events put into the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
}
