//! `sluice`: events from other Sluice agents' `sluice` sinks (Flume's avro source).

use std::time::Duration;

use sluice_macros::Component;

use crate::params::{Address, ByteSize};
use crate::tls::TlsServerConfig;

/// Receives batches from the `sluice` sinks of other agents, the hop between tiers.
/// Each batch is acknowledged only once it is committed to every channel; a full
/// channel answers "busy" and the sender backs off. With `tls.client_ca`, only clients
/// whose certificate chains to it are accepted (mutual TLS); with `token`, only
/// clients presenting it. The protocol is in `docs/protocol.md`.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "sluice", replayable)]
pub struct SluiceSourceConfig {
    /// Address to listen on, e.g. `"0.0.0.0:7070"`.
    #[param(binds = "tcp")]
    pub bind: Address,
    /// A shared secret senders must present (set it with `env(...)`).
    #[param(secret)]
    pub token: Option<String>,
    /// Serve TLS; `client_ca` requires client certificates signed by it.
    #[param(tls)]
    pub tls: Option<TlsServerConfig>,
    /// Most senders connected at once; further ones wait in the listen backlog.
    #[param(default = "1024", min = 1)]
    pub max_connections: u64,
    /// Largest frame (one batch) accepted; a larger one closes the connection.
    #[param(default = "64MiB", min = 1024)]
    pub max_frame: ByteSize,
    /// Close a connection that sends nothing for this long.
    #[param(default = "5m", min = 1)]
    pub idle_timeout: Duration,
}

#[cfg(feature = "source-sluice")]
pub use imp::SluiceSource;

#[cfg(feature = "source-sluice")]
mod imp {
    use std::io;
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::SluiceSourceConfig;
    use crate::build::BuildSource;
    use crate::event::Batch;
    use crate::hop::{self, Ack, Body, FrameReader, Refused, Status, Welcome};
    use crate::listen::{Refusals, TcpServer};
    use crate::pipeline::{Output, Source, SourceContext};
    use crate::tls::NetStream;

    /// How long a batch waits for room in a full channel before it is answered busy.
    const FULL_CHANNEL_WAIT: Duration = Duration::from_millis(500);
    const ROOM_POLL: Duration = Duration::from_millis(10);

    pub struct SluiceSource {
        config: SluiceSourceConfig,
        server: TcpServer,
    }

    impl BuildSource for SluiceSourceConfig {
        type Source = SluiceSource;

        async fn build(self) -> io::Result<SluiceSource> {
            let server = TcpServer::bind(&self.bind.0, self.tls.as_ref()).await?;
            Ok(SluiceSource {
                config: self,
                server,
            })
        }
    }

    /// What every connection shares.
    struct Receiver<O> {
        out: Arc<O>,
        ctx: SourceContext,
        token: Option<String>,
        max_frame: usize,
        idle: Duration,
        refusals: Arc<Refusals>,
    }

    impl<O: Output> Receiver<O> {
        /// Refuses a sender: counted always, logged once per address.
        async fn refuse(&self, writer: &mut (impl tokio::io::AsyncWrite + Unpin), peer: SocketAddr, reason: String) {
            self.ctx.counters.connections_refused.inc();
            if self.refusals.first(peer.ip()) {
                tracing::warn!(
                    source = self.ctx.name,
                    %peer,
                    reason,
                    "sender refused (logged once per address, counted in connections_refused_total)"
                );
            }
            let _ = hop::send(writer, Body::Refused(Refused { reason })).await;
        }

        async fn serve(self: Arc<Self>, stream: NetStream, peer: SocketAddr) {
            let (reader, mut writer) = tokio::io::split(stream);
            let mut frames = FrameReader::new(reader, hop::MAX_HELLO);
            let hello = match tokio::time::timeout(self.idle, frames.next()).await {
                Ok(Ok(Some(Body::Hello(hello)))) => hello,
                Ok(Ok(None)) | Err(_) => return,
                Ok(Ok(Some(_))) => {
                    let reason = "the first message must be a hello".to_owned();
                    return self.refuse(&mut writer, peer, reason).await;
                }
                Ok(Err(e)) => {
                    let reason = format!("unreadable hello: {e}");
                    return self.refuse(&mut writer, peer, reason).await;
                }
            };
            if hello.version != hop::VERSION {
                let reason = format!(
                    "protocol version {} is not spoken here (this receiver speaks {})",
                    hello.version,
                    hop::VERSION
                );
                return self.refuse(&mut writer, peer, reason).await;
            }
            if let Some(token) = &self.token {
                if !hop::same_secret(&hello.token, token) {
                    return self.refuse(&mut writer, peer, "wrong token".to_owned()).await;
                }
            }
            let welcome = Welcome {
                version: hop::VERSION,
                agent: crate::time::hostname(),
            };
            if hop::send(&mut writer, Body::Welcome(welcome)).await.is_err() {
                return;
            }
            frames.set_max_frame(self.max_frame);
            tracing::info!(source = self.ctx.name, %peer, sender = hello.agent, "sender connected");
            // After a batch is not taken, the ones already in flight behind it are
            // skipped (answered busy) until the sender resumes: nothing overtakes it.
            let mut skipping = false;
            loop {
                let body = match tokio::time::timeout(self.idle, frames.next()).await {
                    Ok(Ok(Some(body))) => body,
                    Ok(Ok(None)) => return,
                    Err(_) => {
                        tracing::info!(source = self.ctx.name, %peer, "idle sender disconnected");
                        return;
                    }
                    Ok(Err(e)) => {
                        self.ctx.counters.parse_errors.inc();
                        tracing::warn!(source = self.ctx.name, %peer, error = %e, "bad frame; closing the connection");
                        return;
                    }
                };
                let Body::Batch(batch) = body else {
                    self.ctx.counters.parse_errors.inc();
                    tracing::warn!(source = self.ctx.name, %peer, "unexpected message; closing the connection");
                    return;
                };
                let ack = if skipping && !batch.resumes {
                    Ack {
                        id: batch.id,
                        status: Status::Busy as i32,
                        message: "skipped: an earlier batch on this connection was not taken"
                            .to_owned(),
                    }
                } else {
                    let ack = self.commit(batch).await;
                    skipping = ack.status != Status::Ok as i32;
                    ack
                };
                if hop::send(&mut writer, Body::Ack(ack)).await.is_err() {
                    return;
                }
            }
        }

        /// Commits a batch into every channel, or into none (busy).
        async fn commit(&self, batch: hop::Batch) -> Ack {
            let id = batch.id;
            let answer = |status: Status, message: &str| Ack {
                id,
                status: status as i32,
                message: message.to_owned(),
            };
            let max_size = self.max_frame.saturating_mul(hop::MAX_EXPANSION);
            let events: Batch = match batch.into_events(max_size) {
                Ok(events) => events,
                Err(e) => {
                    self.ctx.counters.parse_errors.inc();
                    return answer(Status::Error, &e.to_string());
                }
            };
            let count = events.len() as u64;
            self.ctx.counters.events_received.add(count);
            let waited = Instant::now();
            while !self.out.has_room(events.len()) {
                if waited.elapsed() >= FULL_CHANNEL_WAIT || self.ctx.shutdown.is_triggered() {
                    return answer(Status::Busy, "channel full; retry later");
                }
                tokio::time::sleep(ROOM_POLL).await;
            }
            // The put runs to its end even if the sender goes away meanwhile.
            let out = self.out.clone();
            match tokio::spawn(async move { out.send(events).await }).await {
                Ok(Ok(())) => {
                    self.ctx.counters.events_accepted.add(count);
                    answer(Status::Ok, "")
                }
                Ok(Err(_)) | Err(_) => answer(Status::Error, "shutting down"),
            }
        }
    }

    impl Source for SluiceSource {
        async fn run<O: Output>(self, out: O, ctx: SourceContext) -> io::Result<()> {
            let receiver = Arc::new(Receiver {
                out: Arc::new(out),
                ctx: ctx.clone(),
                token: self.config.token.clone(),
                max_frame: usize::try_from(self.config.max_frame.0).unwrap_or(usize::MAX),
                idle: self.config.idle_timeout,
                refusals: self.server.refusals(),
            });
            let max_connections = usize::try_from(self.config.max_connections).unwrap_or(usize::MAX);
            self.server
                .serve(max_connections, &ctx, move |stream, peer| {
                    receiver.clone().serve(stream, peer)
                })
                .await
        }
    }
}
