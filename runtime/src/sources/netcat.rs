//! `netcat`: newline-delimited events over TCP.

use sluice_macros::Component;

use crate::params::{Address, ByteSize};
use crate::tls::TlsServerConfig;

/// Listens on TCP; every line a client sends is an event.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "netcat")]
pub struct NetcatConfig {
    /// Address to listen on, e.g. `"0.0.0.0:6000"`.
    #[param(binds = "tcp")]
    pub bind: Address,
    /// Longest line accepted; longer lines are counted as rejected and skipped.
    #[param(default = "64KiB", min = 1)]
    pub max_line: ByteSize,
    /// Connections served at once; further clients wait to be accepted.
    #[param(default = "1024", min = 1)]
    pub max_connections: u64,
    /// Events put into the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
    /// Serve TLS instead of plain TCP.
    pub tls: Option<TlsServerConfig>,
}
