//! `remove_header`: drops headers by name or pattern.

use sluice_macros::Component;

use crate::params::RegexPattern;

/// Removes the header `name`, and every header whose name matches `regex`.
#[derive(Clone, Debug, Component)]
#[component(
    role = "transform",
    kind = "remove_header",
    planned,
    requires_one_of = "name, regex"
)]
pub struct RemoveHeaderConfig {
    /// Exact header name to remove.
    pub name: Option<String>,
    /// Remove every header whose name matches.
    pub regex: Option<RegexPattern>,
}
