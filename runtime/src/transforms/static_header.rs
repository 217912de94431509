//! `static`: sets a fixed header on every event.

use sluice_macros::Component;

/// Sets header `key` to `value` on every event.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "static")]
pub struct StaticConfig {
    /// Header name.
    pub key: String,
    /// Header value.
    pub value: String,
    /// Keep an existing value instead of overwriting it (Flume's default).
    #[param(default = "true")]
    pub preserve: bool,
}
