//! A default that is not a value of its parameter's type, and a private field.

use sluice_runtime::prelude::*;

/// Waits.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "waits")]
pub struct WaitsConfig {
    /// How long.
    #[param(default = "\"soon\"")]
    pub delay: std::time::Duration,
}
