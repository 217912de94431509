//! `uuid`: gives each event a unique id.

use sluice_macros::Component;

/// Sets a header to a random UUID (v4), for de-duplication downstream.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "uuid", planned)]
pub struct UuidConfig {
    /// Header to set.
    #[param(default = "\"id\"")]
    pub header: String,
    /// Keep an existing value instead of overwriting it.
    #[param(default = "true")]
    pub preserve: bool,
}
