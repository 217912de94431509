//! `search_replace`: rewrites the body.

use sluice_macros::Component;

use crate::params::RegexPattern;

/// Replaces every match of `search` in the body with `replace` (`$1` refers to groups).
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "search_replace", planned)]
pub struct SearchReplaceConfig {
    /// Pattern to find.
    pub search: RegexPattern,
    /// Replacement text; `$1`, `${name}` insert capture groups.
    pub replace: String,
}
