//! `http`: batches of events POSTed to an HTTP endpoint.

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::params::Url;
use crate::tls::TlsClientConfig;

/// Sends each batch as one request; a 2xx answer commits it. 5xx, 408, 429, timeouts and
/// refused connections are retried with exponential backoff. Other 4xx answers (a
/// rotated API key, a moved endpoint) are retried too unless `on_client_error = "drop"`.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "http")]
pub struct HttpSinkConfig {
    /// Endpoint, e.g. `"https://ingest.example.com/v1/events"`.
    #[param(tls_by_scheme)]
    pub url: Url,
    /// Request method.
    #[param(default = "\"post\"")]
    pub method: HttpMethod,
    /// Body format: one JSON object per line, or Flume's JSON array.
    #[param(default = "\"ndjson\"")]
    pub format: HttpSinkFormat,
    /// Events per request (taken from the channel per transaction).
    #[param(batch, default = "100", min = 1)]
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
    #[param(tls)]
    pub tls: Option<TlsClientConfig>,
    /// What a 4xx answer other than 408 and 429 does. `"retry"` holds the batch and
    /// retries it with backoff: a rotated API key (401/403) or a missing route (404)
    /// loses nothing; each refusal is logged at error level and counted in
    /// `connection_failures_total`. `"drop"` drops the batch instead, logged and counted
    /// in `batches_dropped_total` and `events_dropped_total`.
    #[param(default = "\"retry\"")]
    pub on_client_error: OnClientError,
}

/// What the `http` sink does with a batch a server refuses with a 4xx.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum OnClientError {
    Retry,
    Drop,
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

#[cfg(feature = "sink-http")]
pub use imp::HttpSink;

#[cfg(feature = "sink-http")]
mod imp {
    use crate::build::BuildSink;
    use std::io;
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper::header::{HeaderName, HeaderValue};
    use hyper::{Method, Request, StatusCode, Uri};
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    use super::{HttpMethod, HttpSinkConfig, HttpSinkFormat, OnClientError};
    use crate::event::Event;
    use crate::metrics::SinkCounters;
    use crate::pipeline::Sink;
    use crate::sinks::format::write_line;
    use crate::sinks::TextFormat;

    pub struct HttpSink {
        config: HttpSinkConfig,
        client: Client<Connector, Full<Bytes>>,
        uri: Uri,
        headers: Vec<(HeaderName, HeaderValue)>,
        counters: Option<Arc<SinkCounters>>,
    }

    #[cfg(feature = "tls")]
    type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
    #[cfg(not(feature = "tls"))]
    type Connector = HttpConnector;

    /// Wraps the plain connector in TLS for `https://` URLs (a `tls` block only tunes it).
    #[cfg(feature = "tls")]
    fn https(config: &HttpSinkConfig, mut plain: HttpConnector) -> io::Result<Connector> {
        plain.enforce_http(false);
        let default = crate::tls::TlsClientConfig {
            ca: None,
            cert: None,
            key: None,
            server_name: None,
            insecure_skip_verify: false,
        };
        let tls = crate::tls::rustls_client(config.tls.as_ref().unwrap_or(&default))?;
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*tls).clone())
            .https_or_http();
        let builder = match &config.tls.as_ref().and_then(|t| t.server_name.clone()) {
            Some(name) => {
                builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(
                    rustls::pki_types::ServerName::try_from(name.clone()).map_err(|e| {
                        io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!("tls.server_name {name}: {e}"),
                        )
                    })?,
                ))
            }
            None => builder,
        };
        Ok(builder.enable_http1().wrap_connector(plain))
    }

    #[cfg(not(feature = "tls"))]
    fn https(config: &HttpSinkConfig, plain: HttpConnector) -> io::Result<Connector> {
        let tls_url = sluice_core::url::parse_http(&config.url.0).is_ok_and(|u| u.tls);
        if tls_url || config.tls.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this agent was built without TLS support, which https URLs need",
            ));
        }
        Ok(plain)
    }

    impl BuildSink for HttpSinkConfig {
        type Sink = HttpSink;

        async fn build(self) -> io::Result<HttpSink> {
            let config = self;
            let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
            sluice_core::url::parse_http(&config.url.0)
                .map_err(|e| invalid(format!("url {}: {e}", config.url.0)))?;
            let uri: Uri = config
                .url
                .0
                .parse()
                .map_err(|e| invalid(format!("url {}: {e}", config.url.0)))?;
            let mut headers = Vec::new();
            for (name, value) in config.headers.iter().flatten() {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|e| invalid(format!("header name {name}: {e}")))?;
                let value = HeaderValue::from_str(value)
                    .map_err(|e| invalid(format!("header {name}: {e}")))?;
                headers.push((name, value));
            }
            let mut connector = HttpConnector::new();
            connector.set_connect_timeout(Some(config.timeout));
            connector.set_nodelay(true);
            let client = Client::builder(TokioExecutor::new()).build(https(&config, connector)?);
            Ok(HttpSink {
                config,
                client,
                uri,
                headers,
                counters: None,
            })
        }
    }

    impl HttpSink {
        fn body(&self, batch: &[Event]) -> (Bytes, &'static str) {
            let mut body = Vec::with_capacity(batch.iter().map(|e| e.body.len() + 32).sum());
            match self.config.format {
                HttpSinkFormat::Ndjson => {
                    for event in batch {
                        write_line(&mut body, event, TextFormat::Json);
                    }
                    (body.into(), "application/x-ndjson")
                }
                HttpSinkFormat::FlumeJson => {
                    body.push(b'[');
                    for (i, event) in batch.iter().enumerate() {
                        if i > 0 {
                            body.push(b',');
                        }
                        write_line(&mut body, event, TextFormat::Json);
                        body.pop(); // the newline
                    }
                    body.push(b']');
                    (body.into(), "application/json")
                }
            }
        }
    }

    /// Answers worth retrying: the server may accept the same batch later.
    fn retryable(status: StatusCode) -> bool {
        status.is_server_error()
            || status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
    }

    impl Sink for HttpSink {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            let (body, content_type) = self.body(batch);
            let method = match self.config.method {
                HttpMethod::Post => Method::POST,
                HttpMethod::Put => Method::PUT,
            };
            let mut request = Request::builder()
                .method(method)
                .uri(self.uri.clone())
                .header(hyper::header::CONTENT_TYPE, content_type);
            for (name, value) in &self.headers {
                request = request.header(name, value);
            }
            let request = request.body(Full::new(body)).map_err(io::Error::other)?;
            let exchange = async {
                let response = self
                    .client
                    .request(request)
                    .await
                    .map_err(io::Error::other)?;
                let status = response.status();
                let text = response
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                Ok::<_, io::Error>((status, text))
            };
            let (status, text) = tokio::time::timeout(self.config.timeout, exchange)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "request timed out"))??;
            if status.is_success() {
                return Ok(());
            }
            let detail = String::from_utf8_lossy(&text[..text.len().min(200)])
                .trim()
                .to_owned();
            if retryable(status) {
                return Err(io::Error::other(format!(
                    "{} answered {status}: {detail}",
                    self.config.url.0
                )));
            }
            if self.config.on_client_error == OnClientError::Retry {
                // A refusal that needs a person (credentials, routes): keep the batch.
                tracing::error!(
                    url = %self.config.url.0,
                    %status,
                    detail,
                    events = batch.len(),
                    "batch refused; holding it and retrying (set on_client_error = \"drop\" to drop such batches)"
                );
                return Err(io::Error::other(format!(
                    "{} answered {status}: {detail}",
                    self.config.url.0
                )));
            }
            tracing::error!(url = %self.config.url.0, %status, detail, events = batch.len(), "batch refused; dropped (on_client_error = \"drop\")");
            if let Some(c) = &self.counters {
                c.batches_dropped.inc();
                c.events_dropped.add(batch.len() as u64);
            }
            Ok(())
        }

        fn bind_counters(&mut self, counters: Arc<SinkCounters>) {
            self.counters = Some(counters);
        }

        fn max_backoff(&self) -> Duration {
            self.config.retry_max_backoff
        }
    }
}
