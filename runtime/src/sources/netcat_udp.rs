//! `netcat_udp`: one event per UDP datagram.

use sluice_macros::Component;

use crate::params::Address;

/// Listens on UDP; every datagram is an event (a trailing newline is removed).
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "netcat_udp")]
pub struct NetcatUdpConfig {
    /// Address to listen on, e.g. `"0.0.0.0:6001"`.
    #[param(binds = "udp")]
    pub bind: Address,
    /// Events put into the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "source-netcat-udp")]
pub use imp::NetcatUdp;

#[cfg(feature = "source-netcat-udp")]
mod imp {
    use crate::build::BuildSource;
    use std::io;

    use bytes::Bytes;
    use tokio::net::UdpSocket;

    use super::NetcatUdpConfig;
    use crate::event::Event;
    use crate::listen::forward_datagrams;
    use crate::pipeline::{Output, Source, SourceContext};

    pub struct NetcatUdp {
        config: NetcatUdpConfig,
        socket: UdpSocket,
    }

    /// Binds now, so a busy port fails the agent at start.
    impl BuildSource for NetcatUdpConfig {
        type Source = NetcatUdp;

        async fn build(self) -> io::Result<NetcatUdp> {
            let config = self;
            let socket = crate::listen::bind_udp(&config.bind.0).await?;
            Ok(NetcatUdp { config, socket })
        }
    }

    fn event(datagram: &[u8]) -> Event {
        let mut end = datagram.len();
        if datagram[..end].ends_with(b"\n") {
            end -= 1;
        }
        if datagram[..end].ends_with(b"\r") {
            end -= 1;
        }
        Event::new(Bytes::copy_from_slice(&datagram[..end]))
    }

    impl Source for NetcatUdp {
        async fn run<O: Output>(self, out: O, ctx: SourceContext) -> io::Result<()> {
            forward_datagrams(
                &self.socket,
                &out,
                &ctx,
                self.config.batch_size as usize,
                event,
            )
            .await
        }
    }
}
