//! `sluice`: events sent to another Sluice agent's `sluice` source (Flume's avro sink).

use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::params::Address;
use crate::tls::TlsClientConfig;

/// Sends batches to the `sluice` source of another agent, the hop between tiers. A
/// batch is committed only once the receiver acknowledges that it is in the
/// receiver's channels; a busy receiver, a refused hello or a lost connection makes
/// the same batch go again after a backoff, never be dropped. Put several in a
/// `failover` or `load_balance` group for highly available collectors.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "sluice")]
pub struct SluiceSinkConfig {
    /// The receiving agent's `sluice` source, e.g. `"collector-1.internal:7070"`.
    #[param(destination)]
    pub addr: Address,
    /// The shared secret the receiver expects (set it with `env(...)`).
    #[param(secret)]
    pub token: Option<String>,
    /// Give up on a connect, a send or an acknowledgement after this long, and retry.
    #[param(default = "30s", min = 1)]
    pub timeout: Duration,
    /// Events taken from the channel and sent as one batch.
    #[param(batch, default = "1_000", min = 1)]
    pub batch_size: u64,
    /// Longest pause between retries of a batch the receiver could not take.
    #[param(default = "5s", min = 1)]
    pub retry_max_backoff: Duration,
    /// How batches are compressed on the wire: `lz4` (3.5× fewer bytes on syslog
    /// lines, a third more CPU; the default), `zstd` (5.7×, for slow or metered links)
    /// or `none` (fastest when the link is not the limit). Figures in
    /// `docs/protocol.md`.
    #[param(default = "\"lz4\"")]
    pub compression: HopCompression,
    /// Connect with TLS; `cert` and `key` give the client certificate for mutual TLS.
    #[param(tls)]
    pub tls: Option<TlsClientConfig>,
}

/// Batch compression on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum HopCompression {
    None,
    Lz4,
    Zstd,
}

#[cfg(feature = "sink-sluice")]
pub use imp::SluiceSink;

#[cfg(feature = "sink-sluice")]
mod imp {
    use std::io;
    use std::time::Duration;

    use tokio::io::{ReadHalf, WriteHalf};

    use super::SluiceSinkConfig;
    use crate::build::BuildSink;
    use crate::event::Event;
    use super::HopCompression;
    use crate::hop::{self, Body, Compression, FrameReader, Hello, Status};
    use crate::pipeline::Sink;
    use crate::tls::{Connector, NetStream};

    /// A connection that has been welcomed.
    struct Connection {
        frames: FrameReader<ReadHalf<NetStream>>,
        writer: WriteHalf<NetStream>,
        next_id: u64,
    }

    /// Sends each batch on one connection and waits for its acknowledgement.
    pub struct SluiceSink {
        config: SluiceSinkConfig,
        connector: Connector,
        connection: Option<Connection>,
    }

    impl BuildSink for SluiceSinkConfig {
        type Sink = SluiceSink;

        async fn build(self) -> io::Result<SluiceSink> {
            let connector = crate::tls::connector(self.tls.as_ref())?;
            Ok(SluiceSink {
                config: self,
                connector,
                connection: None,
            })
        }
    }

    fn refused(kind: io::ErrorKind, message: String) -> io::Error {
        io::Error::new(kind, message)
    }

    impl SluiceSink {
        /// Connects and says hello; the receiver must welcome us.
        async fn connect(&self) -> io::Result<Connection> {
            let stream = self.connector.connect(&self.config.addr.0).await?;
            let (reader, mut writer) = tokio::io::split(stream);
            let hello = Hello {
                version: hop::VERSION,
                agent: crate::time::hostname(),
                token: self.config.token.clone().unwrap_or_default(),
            };
            hop::send(&mut writer, Body::Hello(hello)).await?;
            let mut frames = FrameReader::new(reader, hop::DEFAULT_MAX_FRAME);
            match frames.next().await.map_err(io::Error::other)? {
                Some(Body::Welcome(welcome)) => {
                    tracing::info!(addr = self.config.addr.0, receiver = welcome.agent, "connected to the receiver");
                    Ok(Connection {
                        frames,
                        writer,
                        next_id: 1,
                    })
                }
                Some(Body::Refused(r)) => Err(refused(
                    io::ErrorKind::PermissionDenied,
                    format!("the receiver refused us: {}", r.reason),
                )),
                Some(_) => Err(refused(
                    io::ErrorKind::InvalidData,
                    "the receiver answered the hello with something else".into(),
                )),
                None => Err(refused(
                    io::ErrorKind::ConnectionAborted,
                    "the receiver closed the connection after the hello".into(),
                )),
            }
        }

        /// Sends one batch and waits for its acknowledgement.
        async fn deliver(&mut self, batch: &[Event]) -> io::Result<()> {
            if self.connection.is_none() {
                self.connection = Some(self.connect().await?);
            }
            let connection = self.connection.as_mut().expect("connected above");
            let id = connection.next_id;
            connection.next_id += 1;
            let compression = match self.config.compression {
                HopCompression::None => Compression::None,
                HopCompression::Lz4 => Compression::Lz4,
                HopCompression::Zstd => Compression::Zstd,
            };
            let message = hop::Batch::new(id, batch, compression)?;
            hop::send(&mut connection.writer, Body::Batch(message)).await?;
            let ack = match connection.frames.next().await.map_err(io::Error::other)? {
                Some(Body::Ack(ack)) if ack.id == id => ack,
                Some(_) => {
                    return Err(refused(
                        io::ErrorKind::InvalidData,
                        format!("expected the acknowledgement of batch {id}"),
                    ))
                }
                None => {
                    return Err(refused(
                        io::ErrorKind::ConnectionAborted,
                        "the receiver closed the connection before acknowledging".into(),
                    ))
                }
            };
            match Status::try_from(ack.status) {
                Ok(Status::Ok) => Ok(()),
                // Busy keeps the connection: the receiver is fine, just full.
                Ok(Status::Busy) => Err(refused(
                    io::ErrorKind::WouldBlock,
                    format!("the receiver is busy: {}", ack.message),
                )),
                _ => Err(refused(
                    io::ErrorKind::Other,
                    format!("the receiver did not take the batch: {}", ack.message),
                )),
            }
        }
    }

    impl Sink for SluiceSink {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            let timeout = self.config.timeout;
            let result = match tokio::time::timeout(timeout, self.deliver(batch)).await {
                Ok(result) => result,
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no acknowledgement within {timeout:?}"),
                )),
            };
            if let Err(e) = &result {
                if e.kind() != io::ErrorKind::WouldBlock {
                    // The connection's state is unknown: start over on a new one.
                    self.connection = None;
                }
            }
            result.map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.config.addr.0)))
        }

        fn max_backoff(&self) -> Duration {
            self.config.retry_max_backoff
        }

        async fn close(&mut self) -> io::Result<()> {
            if let Some(mut c) = self.connection.take() {
                use tokio::io::AsyncWriteExt;
                let _ = c.writer.shutdown().await;
            }
            Ok(())
        }
    }
}
