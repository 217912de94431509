//! `failover`: the highest-priority healthy sink takes every batch.

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_macros::Component;

use crate::params::SinkRef;

/// Sends every batch to the highest-priority sink that is up; a failed sink is penalised
/// with growing backoff and takes over again once it recovers.
#[derive(Clone, Debug, Component)]
#[component(role = "group", kind = "failover", planned)]
pub struct FailoverConfig {
    /// Member sinks; earlier sinks have higher priority unless `priorities` says otherwise.
    pub sinks: Vec<SinkRef>,
    /// Sink name → priority (higher wins).
    pub priorities: Option<BTreeMap<String, i64>>,
    /// Longest time a failed sink is left out.
    #[param(default = "30s", min = 1)]
    pub max_penalty: Duration,
}
