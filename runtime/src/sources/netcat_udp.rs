//! `netcat_udp`: one event per UDP datagram.

use sluice_macros::Component;

use crate::params::Address;

/// Listens on UDP; every datagram is an event (a trailing newline is removed).
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "netcat_udp", planned)]
pub struct NetcatUdpConfig {
    /// Address to listen on, e.g. `"0.0.0.0:6001"`.
    #[param(binds = "udp")]
    pub bind: Address,
    /// Events put into the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
}
