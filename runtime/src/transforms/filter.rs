//! `filter`: keeps events for which a condition holds.

use sluice_macros::Component;

use crate::params::BoolExpr;

/// Keeps events for which `when` is true; drops (and counts) the rest. A condition that
/// evaluates to `null` counts as false.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "filter", inline)]
pub struct FilterConfig {
    /// The condition, e.g. `.status >= 500 && .path !~ r"^/health"`.
    pub when: BoolExpr,
}
