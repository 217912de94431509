//! `http`: batches of events POSTed to an HTTP endpoint.

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::params::Url;
use crate::tls::TlsClientConfig;

/// Sends each batch as one request; a 2xx answer commits it. 5xx, 408, 429, timeouts and
/// refused connections are retried with exponential backoff; other 4xx answers are
/// permanent: the batch is logged, counted and dropped.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "http", planned)]
pub struct HttpSinkConfig {
    /// Endpoint, e.g. `"https://ingest.example.com/v1/events"`.
    pub url: Url,
    /// Request method.
    #[param(default = "\"post\"")]
    pub method: HttpMethod,
    /// Body format: one JSON object per line, or Flume's JSON array.
    #[param(default = "\"ndjson\"")]
    pub format: HttpSinkFormat,
    /// Events per request (taken from the channel per transaction).
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
    /// Give up on a request after this long, and retry.
    #[param(default = "10s", min = 1)]
    pub timeout: Duration,
    /// Longest pause between retries.
    #[param(default = "30s", min = 1)]
    pub retry_max_backoff: Duration,
    /// Extra request headers, e.g. `{ "X-Api-Key" = env("API_KEY") }`.
    pub headers: Option<BTreeMap<String, String>>,
    /// TLS settings for `https://` URLs.
    pub tls: Option<TlsClientConfig>,
}

/// HTTP methods the sink can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum HttpMethod {
    Post,
    Put,
}

/// Request body formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum HttpSinkFormat {
    Ndjson,
    FlumeJson,
}
