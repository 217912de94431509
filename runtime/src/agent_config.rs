//! The optional `agent "name" { ... }` block: settings of the agent process itself.

use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::params::Address;

/// Settings of the agent process: metrics endpoint, shutdown deadline, log level.
#[derive(Clone, Debug, Component)]
#[component(role = "agent", kind = "agent", feature = "agent")]
pub struct AgentConfig {
    /// Address to serve metrics on: Prometheus text at `/metrics`, JSON at `/metrics.json`.
    /// Off unless set here or with `--metrics-addr`.
    #[param(binds = "tcp")]
    pub metrics: Option<Address>,
    /// How long SIGTERM/SIGINT waits for channels to drain into sinks before exiting.
    #[param(default = "30s")]
    pub shutdown_timeout: Duration,
    /// Least severe log level printed (overridden by `--log-level`).
    #[param(default = "\"info\"")]
    pub log_level: LogLevel,
}

/// Log verbosity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}
