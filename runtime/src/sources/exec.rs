//! `exec`: the stdout lines of a command (Flume's exec source).

use std::time::Duration;

use sluice_macros::Component;

use crate::params::ByteSize;

/// Runs a command and turns each line it writes to stdout into an event; stderr is logged.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "exec", planned)]
pub struct ExecConfig {
    /// The command to run, e.g. `"tail -F /var/log/app.log"`.
    pub command: String,
    /// Shell that runs `command`, e.g. `"/bin/sh -c"`; without it the command is split on
    /// spaces and run directly.
    pub shell: Option<String>,
    /// Start the command again when it exits.
    #[param(default = "false")]
    pub restart: bool,
    /// Pause before a restart.
    #[param(default = "10s")]
    pub restart_delay: Duration,
    /// Longest line accepted; longer lines are counted as rejected and skipped.
    #[param(default = "64KiB", min = 1)]
    pub max_line: ByteSize,
    /// Events put into the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
}
