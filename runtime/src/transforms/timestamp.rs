//! `timestamp`: stamps events with the time they were received.

use sluice_macros::Component;

/// Sets a header to the current time in milliseconds since the Unix epoch.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "timestamp")]
pub struct TimestampConfig {
    /// Header to set.
    #[param(default = "\"timestamp\"")]
    pub header: String,
    /// Keep an existing value instead of overwriting it.
    #[param(default = "false")]
    pub preserve: bool,
}
