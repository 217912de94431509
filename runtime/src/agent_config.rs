//! The optional `agent "name" { ... }` block: settings of the agent process itself.

use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::params::Address;

/// Settings of the agent process: metrics endpoint, shutdown deadline, log level, and
/// what happens when a component fails.
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
    /// When a source fails (returns an error or panics) or a sink's write panics:
    /// `"restart"` starts it again after a backoff (1s doubling to 60s), counted in
    /// `sluice_component_restarts_total`; `"exit"` stops the agent with exit code 1, for
    /// a service manager to restart.
    #[param(default = "\"restart\"")]
    pub on_failure: OnFailure,
    /// Failures in a row of one component after which the agent stops with exit code 1,
    /// even with `on_failure = "restart"` (a run longer than a minute resets the count).
    #[param(default = "10", min = 1)]
    pub max_restarts: u64,
}

/// What the agent does when a component fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum OnFailure {
    Restart,
    Exit,
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
