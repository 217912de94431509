//! `host`: stamps events with the agent's host name or address.

use sluice_macros::Component;

/// Sets a header to this machine's host name (or IP address).
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "host")]
pub struct HostConfig {
    /// Header to set.
    #[param(default = "\"host\"")]
    pub header: String,
    /// Use the IP address instead of the host name.
    #[param(default = "false")]
    pub use_ip: bool,
    /// Keep an existing value instead of overwriting it.
    #[param(default = "false")]
    pub preserve: bool,
}
