//! `syslog_tcp`: syslog over TCP, RFC 3164 and RFC 5424.

use sluice_macros::{Component, ParamEnum};

use crate::params::{Address, ByteSize};
use crate::tls::TlsServerConfig;

/// Receives syslog over TCP with octet-counting or newline framing; the parsed fields
/// become headers (`host`, `facility`, `severity`, `app_name`, `procid`, `msgid`,
/// `timestamp`) and the message the body. Unparseable messages are kept whole as the body.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "syslog_tcp", planned)]
pub struct SyslogTcpConfig {
    /// Address to listen on, e.g. `"0.0.0.0:5514"`.
    #[param(binds = "tcp")]
    pub bind: Address,
    /// Message format; `auto` tells RFC 5424 from RFC 3164 per message.
    #[param(default = "\"auto\"")]
    pub format: SyslogFormat,
    /// Longest message accepted; longer ones are counted as rejected and skipped.
    #[param(default = "64KiB", min = 1)]
    pub max_line: ByteSize,
    /// Connections served at once.
    #[param(default = "1024", min = 1)]
    pub max_connections: u64,
    /// Events put into the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
    /// Serve TLS instead of plain TCP.
    pub tls: Option<TlsServerConfig>,
}

/// Which syslog format to expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum SyslogFormat {
    Auto,
    Rfc3164,
    Rfc5424,
}
