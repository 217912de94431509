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
    /// Events taken from the channel per transaction.
    #[param(batch, default = "1_000", min = 1)]
    pub batch_size: u64,
    /// Batches on the wire before the first acknowledgement comes back: a take is sent
    /// as up to this many batches, back to back, so the link does not idle while the
    /// receiver commits. Order is kept: when one is not taken, the ones behind it are
    /// skipped by the receiver and sent again.
    #[param(default = "4", min = 1, max = 64)]
    pub max_in_flight: u64,
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
    use crate::acked::checksum;
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
        /// A batch was not taken: the next one sent must say it resumes.
        resume: bool,
    }

    /// The first events of a take that the receiver has already acknowledged, when the
    /// rest failed: a retry of the same take (rolled back, handed out again first)
    /// skips them instead of sending them twice.
    struct Acked {
        count: usize,
        checksum: u32,
    }


    /// Sends each batch on one connection and waits for its acknowledgement.
    pub struct SluiceSink {
        config: SluiceSinkConfig,
        connector: Connector,
        connection: Option<Connection>,
        acked: Option<Acked>,
    }

    impl BuildSink for SluiceSinkConfig {
        type Sink = SluiceSink;

        async fn build(self) -> io::Result<SluiceSink> {
            let connector = crate::tls::connector(self.tls.as_ref())?;
            Ok(SluiceSink {
                config: self,
                connector,
                connection: None,
                acked: None,
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
                        resume: false,
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

        /// How many leading events of `batch` the receiver already acknowledged (from
        /// a failed attempt at this same take).
        fn already_acked(&self, batch: &[Event]) -> usize {
            match &self.acked {
                Some(a) if a.count <= batch.len() && checksum(&batch[..a.count]) == a.checksum => {
                    a.count
                }
                _ => 0,
            }
        }

        /// Sends the take as up to `max_in_flight` batches back to back, then reads
        /// their acknowledgements in order. Returns how many leading events were
        /// acknowledged, and the error that stopped the rest, if any.
        async fn deliver(&mut self, batch: &[Event], skip: usize) -> (usize, io::Result<()>) {
            let mut done = skip;
            if self.connection.is_none() {
                match self.connect().await {
                    Ok(c) => self.connection = Some(c),
                    Err(e) => return (done, Err(e)),
                }
            }
            let compression = match self.config.compression {
                HopCompression::None => Compression::None,
                HopCompression::Lz4 => Compression::Lz4,
                HopCompression::Zstd => Compression::Zstd,
            };
            let connection = self.connection.as_mut().expect("connected above");
            let rest = &batch[skip..];
            let parts = usize::try_from(self.config.max_in_flight)
                .unwrap_or(1)
                .clamp(1, rest.len().max(1));
            let chunk = rest.len().div_ceil(parts).max(1);
            let mut sent: Vec<(u64, usize)> = Vec::with_capacity(parts);
            for events in rest.chunks(chunk) {
                let id = connection.next_id;
                connection.next_id += 1;
                let mut message = match hop::Batch::new(id, events, compression) {
                    Ok(m) => m,
                    Err(e) => return (done, Err(e)),
                };
                message.resumes = std::mem::take(&mut connection.resume);
                if let Err(e) = hop::send(&mut connection.writer, Body::Batch(message)).await {
                    return (done, Err(e));
                }
                sent.push((id, events.len()));
            }
            let mut failure = None;
            for (id, len) in sent {
                let ack = match connection.frames.next().await.map_err(io::Error::other) {
                    Ok(Some(Body::Ack(ack))) if ack.id == id => ack,
                    Ok(Some(_)) => {
                        let e = io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("expected the acknowledgement of batch {id}"),
                        );
                        return (done, Err(e));
                    }
                    Ok(None) => {
                        let e = io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "the receiver closed the connection before acknowledging",
                        );
                        return (done, Err(e));
                    }
                    Err(e) => return (done, Err(e)),
                };
                match Status::try_from(ack.status) {
                    Ok(Status::Ok) if failure.is_none() => done += len,
                    // Behind a refused batch, the receiver skips the rest.
                    _ if failure.is_some() => {}
                    Ok(Status::Busy) => {
                        connection.resume = true;
                        failure = Some(io::Error::new(
                            io::ErrorKind::WouldBlock,
                            format!("the receiver is busy: {}", ack.message),
                        ));
                    }
                    _ => {
                        connection.resume = true;
                        failure = Some(io::Error::other(format!(
                            "the receiver did not take the batch: {}",
                            ack.message
                        )));
                    }
                }
            }
            (done, failure.map_or(Ok(()), Err))
        }
    }

    impl Sink for SluiceSink {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            let timeout = self.config.timeout;
            let skip = self.already_acked(batch);
            let (done, result) = match tokio::time::timeout(timeout, self.deliver(batch, skip)).await {
                Ok(outcome) => outcome,
                Err(_) => (
                    skip,
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no acknowledgement within {timeout:?}"),
                    )),
                ),
            };
            match &result {
                Ok(()) => self.acked = None,
                Err(e) => {
                    self.acked = (done > 0).then(|| Acked {
                        count: done,
                        checksum: checksum(&batch[..done]),
                    });
                    if e.kind() != io::ErrorKind::WouldBlock {
                        // The connection's state is unknown: start over on a new one.
                        self.connection = None;
                    }
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
