//! `tcp`: events sent as lines over a TCP connection.

use std::time::Duration;

use sluice_macros::Component;

use super::TextFormat;
use crate::params::Address;
use crate::tls::TlsClientConfig;

/// Connects to `addr` and writes each event as a line; reconnects with backoff.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "tcp")]
pub struct TcpSinkConfig {
    /// Where to connect, e.g. `"collector.internal:6000"`.
    pub addr: Address,
    /// How each event is written.
    #[param(default = "\"text\"")]
    pub format: TextFormat,
    /// Give up on a connect or write after this long, and retry.
    #[param(default = "10s", min = 1)]
    pub timeout: Duration,
    /// Events taken from the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
    /// Connect with TLS.
    pub tls: Option<TlsClientConfig>,
}
