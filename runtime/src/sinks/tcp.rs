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
    #[param(destination)]
    pub addr: Address,
    /// How each event is written.
    #[param(default = "\"text\"")]
    pub format: TextFormat,
    /// Give up on a connect or write after this long, and retry.
    #[param(default = "10s", min = 1)]
    pub timeout: Duration,
    /// Events taken from the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
    /// Connect with TLS.
    #[param(tls)]
    pub tls: Option<TlsClientConfig>,
}

#[cfg(feature = "sink-tcp")]
pub use imp::TcpSink;

#[cfg(feature = "sink-tcp")]
mod imp {
    use crate::build::BuildSink;
    use std::io;

    use tokio::io::AsyncWriteExt;

    use super::TcpSinkConfig;
    use crate::event::Event;
    use crate::pipeline::Sink;
    use crate::sinks::format::write_line;
    use crate::tls::{Connector, NetStream};

    /// Writes lines to one TCP connection, opened on first use and again after a failure.
    pub struct TcpSink {
        config: TcpSinkConfig,
        connector: Connector,
        stream: Option<NetStream>,
        buf: Vec<u8>,
    }

    impl BuildSink for TcpSinkConfig {
        type Sink = TcpSink;

        async fn build(self) -> io::Result<TcpSink> {
            let config = self;
            let connector = crate::tls::connector(config.tls.as_ref())?;
            Ok(TcpSink {
                config,
                connector,
                stream: None,
                buf: Vec::with_capacity(64 * 1024),
            })
        }
    }

    impl TcpSink {
        async fn send(&mut self) -> io::Result<()> {
            if self.stream.is_none() {
                let connect = self.connector.connect(&self.config.addr.0);
                let stream = tokio::time::timeout(self.config.timeout, connect)
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
                self.stream = Some(stream);
            }
            let stream = self.stream.as_mut().expect("connected above");
            let write = async {
                stream.write_all(&self.buf).await?;
                stream.flush().await
            };
            tokio::time::timeout(self.config.timeout, write)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "write timed out"))?
        }
    }

    impl Sink for TcpSink {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            self.buf.clear();
            for event in batch {
                write_line(&mut self.buf, event, self.config.format);
            }
            let result = self.send().await;
            if result.is_err() {
                self.stream = None;
            }
            result.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.config.addr.0)))
        }

        async fn close(&mut self) -> io::Result<()> {
            if let Some(mut s) = self.stream.take() {
                s.shutdown().await?;
            }
            Ok(())
        }
    }
}
