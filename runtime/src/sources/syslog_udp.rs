//! `syslog_udp`: syslog over UDP, one message per datagram.

use sluice_macros::Component;

use super::syslog_tcp::SyslogFormat;
use crate::params::Address;

/// Receives syslog datagrams (RFC 3164 and RFC 5424); fields become headers as for
/// `syslog_tcp`.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "syslog_udp", planned)]
pub struct SyslogUdpConfig {
    /// Address to listen on, e.g. `"0.0.0.0:5514"`.
    #[param(binds = "udp")]
    pub bind: Address,
    /// Message format; `auto` tells RFC 5424 from RFC 3164 per message.
    #[param(default = "\"auto\"")]
    pub format: SyslogFormat,
    /// Events put into the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
}
