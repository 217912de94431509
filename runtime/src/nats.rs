//! What the `nats` source and sink share: connecting to NATS (async-nats, the NATS
//! project's own Rust client) with a token or an NKey, and TLS through the agent's
//! rustls settings.

use std::io;
use std::time::Duration;

use crate::tls::TlsClientConfig;

/// Connects to `url` (one or more servers, comma-separated); a refused or failed first
/// connection is an error the component retries. Once connected, the client
/// reconnects by itself; until it has, publishes and fetches fail and are retried.
pub(crate) async fn connect(
    url: &str,
    token: Option<&str>,
    nkey: Option<&str>,
    tls: Option<&TlsClientConfig>,
    timeout: Duration,
) -> io::Result<async_nats::Client> {
    let mut options = async_nats::ConnectOptions::new()
        .connection_timeout(timeout)
        .name(format!("sluice@{}", crate::time::hostname()));
    if let Some(token) = token {
        options = options.token(token.to_owned());
    }
    if let Some(seed) = nkey {
        options = options.nkey(seed.to_owned());
    }
    if let Some(tls) = tls {
        let config = crate::tls::rustls_client(tls)?;
        options = options
            .require_tls(true)
            .tls_client_config((*config).clone());
    }
    let servers: Vec<&str> = url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let addrs = servers
        .iter()
        .map(|s| s.parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{url}: {e}")))?;
    match tokio::time::timeout(timeout, options.connect(addrs)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!("{url}: {e}"),
        )),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{url}: not connected within {timeout:?}"),
        )),
    }
}
