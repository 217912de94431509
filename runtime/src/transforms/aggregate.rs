//! `aggregate`: windowed aggregates computed as events pass. The compiler reads these
//! parameters and compiles `time`, `by` and `emit` into the agent; the state machine is
//! `crate::aggregate`, driven by `crate::aggregate::stage`.

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_macros::Component;

use crate::params::{AggregateExpr, ScalarExpr, WindowSpec};

/// Computes aggregates over windows of time, per group: one output event per closed
/// (window, group), with the window's start and end, the group's keys and each value of
/// `emit` as headers. A window closes once events newer than its end by `lateness` have
/// arrived; later events for it are counted and dropped. Quantiles (DDSketch) are within
/// 1% of the true value, distinct counts (HyperLogLog) within about 1.6%.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "aggregate")]
pub struct AggregateConfig {
    /// `tumbling(1m)`, `hopping(5m, 1m)` (5-minute windows every minute) or
    /// `session(30s)` (per group, until 30 s pass without an event).
    pub window: WindowSpec,
    /// The event's time (a header of epoch milliseconds or RFC 3339), e.g. `.timestamp`;
    /// without it, the time the event arrives.
    pub time: Option<ScalarExpr>,
    /// How long a window waits, in event time, for events that arrive out of order.
    #[param(default = "0s")]
    pub lateness: Duration,
    /// The group keys, e.g. `[.host, .status]`; without them, one group.
    #[param(default = "[]")]
    pub by: Vec<ScalarExpr>,
    /// Output header → aggregate function: `count()`, `sum(x)`, `min(x)`, `max(x)`,
    /// `avg(x)`, `first(x)`, `last(x)`, `quantile(x, 0.99)`, `count_distinct(x)`,
    /// `top_k(x, 10)`; `x` is any expression, numeric where a number is needed.
    pub emit: BTreeMap<String, AggregateExpr>,
    /// The most (window, group) states held; events that would open more are counted
    /// and dropped.
    #[param(default = "100_000", min = 1)]
    pub max_groups: u64,
}
