//! `http`: events POSTed over HTTP (Flume's HTTP source).

use sluice_macros::{Component, ParamEnum};

use crate::params::{Address, ByteSize};
use crate::tls::TlsServerConfig;

/// Accepts batches of events by HTTP POST. Answers 200 only once the batch is committed
/// to the channel, 503 with `Retry-After` when the channel is full, 413 over `max_body`,
/// 401 without the bearer token, 400 for a malformed body.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "http", planned, replayable)]
pub struct HttpSourceConfig {
    /// Address to listen on, e.g. `"0.0.0.0:8080"`.
    #[param(binds = "tcp")]
    pub bind: Address,
    /// Body format: Flume's JSON array of `{"headers": {...}, "body": "..."}`, one JSON
    /// object per line, or the raw body as a single event.
    #[param(default = "\"flume_json\"")]
    pub format: HttpSourceFormat,
    /// Largest request body accepted.
    #[param(default = "10MiB", min = 1)]
    pub max_body: ByteSize,
    /// When set, requests must carry `Authorization: Bearer <token>`.
    pub auth_token: Option<String>,
    /// Serve HTTPS.
    pub tls: Option<TlsServerConfig>,
}

/// Request body formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum HttpSourceFormat {
    FlumeJson,
    Ndjson,
    Raw,
}
