//! `regex_extractor`: copies parts of the body into headers.

use sluice_macros::Component;

use crate::params::RegexPattern;

/// Matches the body against `regex` and sets one header per capture group, named by
/// `names` in order. Events that do not match pass unchanged (and are counted).
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "regex_extractor", planned)]
pub struct RegexExtractorConfig {
    /// Pattern with one capture group per name.
    pub regex: RegexPattern,
    /// Header names for the capture groups, in order.
    pub names: Vec<String>,
}
