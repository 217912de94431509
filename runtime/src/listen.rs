//! The serving loops network sources share: accepting TCP connections (bounded by
//! `max_connections`, counted in `open_connections`) and receiving UDP datagrams in
//! batches.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::event::Event;
use crate::pipeline::{Output, SourceContext};
use crate::tls::{Acceptor, NetStream, TlsServerConfig};

/// First wait after a failed accept, doubling up to [`ACCEPT_BACKOFF_MAX`].
const ACCEPT_BACKOFF_FIRST: std::time::Duration = std::time::Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: std::time::Duration = std::time::Duration::from_secs(1);

/// Binds a TCP listener, with the address in the error.
async fn bind_tcp(addr: &str) -> io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// Binds a UDP socket, with the address in the error.
pub async fn bind_udp(addr: &str) -> io::Result<UdpSocket> {
    UdpSocket::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on udp {addr}: {e}")))
}

/// A listening TCP socket, serving TLS when the source has a `tls` block.
pub struct TcpServer {
    listener: TcpListener,
    tls: Option<Acceptor>,
    refusals: Arc<Refusals>,
}

/// The client addresses already refused, so a client retrying with a bad certificate
/// or token is logged once, not once per attempt (counted every time).
#[derive(Default)]
pub struct Refusals(std::sync::Mutex<std::collections::HashSet<std::net::IpAddr>>);

/// How many refused addresses are remembered; past this, the set starts over.
const REMEMBERED_REFUSALS: usize = 1024;

impl Refusals {
    /// Whether `peer` is refused for the first time (it is then remembered).
    pub fn first(&self, peer: std::net::IpAddr) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= REMEMBERED_REFUSALS {
            seen.clear();
        }
        seen.insert(peer)
    }
}

impl TcpServer {
    /// Reads the TLS files and binds now, so a bad certificate or a busy port fails the
    /// agent at start.
    pub async fn bind(addr: &str, tls: Option<&TlsServerConfig>) -> io::Result<TcpServer> {
        let tls = crate::tls::acceptor(tls)?;
        let listener = bind_tcp(addr).await?;
        Ok(TcpServer {
            listener,
            tls,
            refusals: Arc::default(),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where connection handlers record refusals of their own (a wrong token).
    pub fn refusals(&self) -> Arc<Refusals> {
        self.refusals.clone()
    }

    /// Accepts connections until shutdown, at most `max_connections` at a time (further
    /// clients wait in the listen backlog), and runs `serve` for each. The TLS handshake,
    /// if any, runs in the connection's own task, so a slow client never holds up the
    /// accept loop; a failed one is logged and the connection dropped. Returns once
    /// every connection has finished.
    pub async fn serve<F, Fut>(
        &self,
        max_connections: usize,
        ctx: &SourceContext,
        serve: F,
    ) -> io::Result<()>
    where
        F: Fn(NetStream, SocketAddr) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let limit = Arc::new(Semaphore::new(
            max_connections.clamp(1, Semaphore::MAX_PERMITS),
        ));
        let mut connections = JoinSet::new();
        let mut shutdown = ctx.shutdown.clone();
        tracing::info!(source = ctx.name, addr = %self.listener.local_addr()?, "listening");
        let mut accept_backoff = ACCEPT_BACKOFF_FIRST;
        loop {
            let permit = tokio::select! {
                p = limit.clone().acquire_owned() => p.map_err(io::Error::other)?,
                _ = shutdown.wait() => break,
            };
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => {
                        accept_backoff = ACCEPT_BACKOFF_FIRST;
                        a
                    }
                    Err(e) => {
                        // Out of file descriptors (EMFILE, ENFILE) or memory: the error
                        // repeats at once, so wait instead of spinning.
                        tracing::error!(
                            source = ctx.name,
                            error = %e,
                            retry_in_ms = accept_backoff.as_millis() as u64,
                            "accept failed; waiting before the next"
                        );
                        tokio::time::sleep(accept_backoff).await;
                        accept_backoff = (accept_backoff * 2).min(ACCEPT_BACKOFF_MAX);
                        continue;
                    }
                },
                _ = shutdown.wait() => break,
            };
            let _ = stream.set_nodelay(true);
            let (counters, name) = (ctx.counters.clone(), ctx.name);
            let (tls, serve) = (self.tls.clone(), serve.clone());
            let refusals = self.refusals.clone();
            connections.spawn(async move {
                counters.open_connections.inc();
                let opened = match tls {
                    Some(acceptor) => acceptor.accept(stream).await,
                    None => Ok(NetStream::Plain(stream)),
                };
                match opened {
                    Ok(stream) => serve(stream, peer).await,
                    Err(e) => {
                        counters.connections_refused.inc();
                        if refusals.first(peer.ip()) {
                            tracing::warn!(
                                source = name,
                                %peer,
                                error = %e,
                                "TLS handshake failed; refused (logged once per client address, \
                                 counted in connections_refused_total)"
                            );
                        }
                    }
                }
                counters.open_connections.dec();
                drop(permit);
            });
            while connections.try_join_next().is_some() {}
        }
        while connections.join_next().await.is_some() {}
        Ok(())
    }
}

/// Receives datagrams until shutdown, one event each; what is already queued when one
/// arrives joins its batch (up to `batch_size`), without waiting for more.
pub async fn forward_datagrams<O: Output>(
    socket: &UdpSocket,
    out: &O,
    ctx: &SourceContext,
    batch_size: usize,
    to_event: impl Fn(&[u8]) -> Event,
) -> io::Result<()> {
    let mut shutdown = ctx.shutdown.clone();
    let mut buf = vec![0u8; 65_536];
    tracing::info!(source = ctx.name, addr = %socket.local_addr()?, "listening (udp)");
    loop {
        let n = tokio::select! {
            r = socket.recv(&mut buf) => r?,
            _ = shutdown.wait() => return Ok(()),
        };
        let mut batch = vec![to_event(&buf[..n])];
        while batch.len() < batch_size.max(1) {
            match socket.try_recv(&mut buf) {
                Ok(n) => batch.push(to_event(&buf[..n])),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        let count = batch.len() as u64;
        ctx.counters.events_received.add(count);
        if out.send(batch).await.is_err() {
            return Ok(());
        }
        ctx.counters.events_accepted.add(count);
    }
}
