//! `load_balance`: batches spread over several sinks.

use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::params::SinkRef;

/// Spreads batches over the member sinks; a failing sink is backed off and retried later.
#[derive(Clone, Debug, Component)]
#[component(role = "group", kind = "load_balance", planned)]
pub struct LoadBalanceConfig {
    /// Member sinks.
    pub sinks: Vec<SinkRef>,
    /// How the next sink is chosen.
    #[param(default = "\"round_robin\"")]
    pub selector: Selector,
    /// Leave a failed sink out for a growing time.
    #[param(default = "true")]
    pub backoff: bool,
    /// Longest time a failed sink is left out.
    #[param(default = "30s", min = 1)]
    pub max_backoff: Duration,
}

/// Sink selection order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum Selector {
    RoundRobin,
    Random,
}
