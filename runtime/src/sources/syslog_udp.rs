//! `syslog_udp`: syslog over UDP, one message per datagram.

use sluice_macros::Component;

use super::syslog_tcp::SyslogFormat;
use crate::params::Address;

/// Receives syslog datagrams (RFC 3164 and RFC 5424); fields become headers as for
/// `syslog_tcp`.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "syslog_udp")]
pub struct SyslogUdpConfig {
    /// Address to listen on, e.g. `"0.0.0.0:5514"`.
    #[param(binds = "udp")]
    pub bind: Address,
    /// Message format; `auto` tells RFC 5424 from RFC 3164 per message.
    #[param(default = "\"auto\"")]
    pub format: SyslogFormat,
    /// Events put into the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "source-syslog-udp")]
pub use imp::SyslogUdp;

#[cfg(feature = "source-syslog-udp")]
mod imp {
    use crate::build::BuildSource;
    use std::io;

    use bytes::Bytes;
    use tokio::net::UdpSocket;

    use super::SyslogUdpConfig;
    use crate::event::Event;
    use crate::listen::forward_datagrams;
    use crate::pipeline::{Output, Source, SourceContext};

    pub struct SyslogUdp {
        config: SyslogUdpConfig,
        socket: UdpSocket,
    }

    impl BuildSource for SyslogUdpConfig {
        type Source = SyslogUdp;

        async fn build(self) -> io::Result<SyslogUdp> {
            let config = self;
            let socket = crate::listen::bind_udp(&config.bind.0).await?;
            Ok(SyslogUdp { config, socket })
        }
    }

    impl SyslogUdp {
        fn event(&self, datagram: &[u8], ctx: &SourceContext) -> Event {
            let message = Bytes::copy_from_slice(datagram);
            crate::syslog::parse(&message, self.config.format).unwrap_or_else(|| {
                ctx.counters.parse_errors.inc();
                Event::new(message)
            })
        }
    }

    impl Source for SyslogUdp {
        async fn run<O: Output>(self, out: O, ctx: SourceContext) -> io::Result<()> {
            let to_event = |datagram: &[u8]| self.event(datagram, &ctx);
            forward_datagrams(
                &self.socket,
                &out,
                &ctx,
                self.config.batch_size as usize,
                to_event,
            )
            .await
        }
    }
}
