//! `regex_filter`: keeps or drops events by matching the body.

use sluice_macros::Component;

use crate::params::RegexPattern;

/// Keeps only events whose body matches `regex` (or, with `exclude`, drops them).
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "regex_filter", planned)]
pub struct RegexFilterConfig {
    /// Pattern searched for in the body.
    pub regex: RegexPattern,
    /// Drop matching events instead of keeping them.
    #[param(default = "false")]
    pub exclude: bool,
}
