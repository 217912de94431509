//! `netcat`: newline-delimited events over TCP.

use std::time::Duration;

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
    /// Close a connection that sends nothing for this long, freeing its slot; `0s` never.
    #[param(default = "5m")]
    pub idle_timeout: Duration,
    /// Events put into the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
    /// Serve TLS instead of plain TCP.
    #[param(tls)]
    pub tls: Option<TlsServerConfig>,
}

#[cfg(feature = "source-netcat")]
pub use imp::Netcat;

#[cfg(feature = "source-netcat")]
mod imp {
    use crate::build::BuildSource;
    use std::io;
    use std::sync::Arc;

    use super::NetcatConfig;
    use crate::event::Event;
    use crate::lines::{forward_frames, LineReader};
    use crate::listen::TcpServer;
    use crate::pipeline::{Output, Source, SourceContext};

    pub struct Netcat {
        config: NetcatConfig,
        server: TcpServer,
    }

    /// Binds the listening socket now, so a busy port fails the agent at start.
    impl BuildSource for NetcatConfig {
        type Source = Netcat;

        async fn build(self) -> io::Result<Netcat> {
            let config = self;
            let server = TcpServer::bind(&config.bind.0, config.tls.as_ref()).await?;
            Ok(Netcat { config, server })
        }
    }

    impl Netcat {
        pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
            self.server.local_addr()
        }
    }

    impl Source for Netcat {
        async fn run<O: Output>(self, out: O, ctx: SourceContext) -> io::Result<()> {
            let out = Arc::new(out);
            let max_line = usize::try_from(self.config.max_line.0).unwrap_or(usize::MAX);
            let batch_size = self.config.batch_size as usize;
            let idle = Some(self.config.idle_timeout).filter(|t| !t.is_zero());
            let max_connections =
                usize::try_from(self.config.max_connections).unwrap_or(usize::MAX);
            let conn_ctx = ctx.clone();
            self.server.serve(max_connections, &ctx, move |stream, peer| {
                let (out, ctx) = (out.clone(), conn_ctx.clone());
                async move {
                    let mut reader = LineReader::new(stream, max_line);
                    if let Err(e) = forward_frames(&mut reader, &out, &ctx, batch_size, idle, Event::new).await {
                        tracing::debug!(source = ctx.name, %peer, error = %e, "connection ended with an error");
                    }
                }
            })
            .await
        }
    }
}
