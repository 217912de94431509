//! `http`: events POSTed over HTTP (Flume's HTTP source).

use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::params::{Address, ByteSize};
use crate::tls::TlsServerConfig;

/// Accepts batches of events by HTTP POST. Each request's batch is committed whole or
/// not at all: 200 only once it is in every channel, 503 with `Retry-After` (and nothing
/// put) when a channel stays full for a second. 413 over `max_body` (answered from
/// `Content-Length` before the body is sent by clients that ask `Expect: 100-continue`,
/// after reading and discarding it for others), 401 without the bearer token, 400 for a
/// malformed body, 408 for a body slower than `body_timeout`.
///
/// Memory: events are slices of their request's body, which stays in memory until the
/// last of them is written. At most 1 MiB is newly allocated for a body before it
/// arrives. Bodies of 64 KiB to 4 MiB with a `Content-Length` are read into buffers
/// reused from request to request (two are kept spare), so a steady stream of such
/// batches allocates no new body buffers.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "http", replayable)]
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
    /// Most client connections served at once; further clients wait in the listen
    /// backlog.
    #[param(default = "1024", min = 1)]
    pub max_connections: u64,
    /// Longest a client may take to send a request's body; a slower one gets
    /// `408 Request Timeout` and its connection is closed.
    #[param(default = "30s", min = 1)]
    pub body_timeout: Duration,
    /// When set, requests must carry `Authorization: Bearer <token>`.
    #[param(secret)]
    pub auth_token: Option<String>,
    /// Serve HTTPS.
    #[param(tls)]
    pub tls: Option<TlsServerConfig>,
}

/// Request body formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum HttpSourceFormat {
    FlumeJson,
    Ndjson,
    Raw,
}

#[cfg(feature = "source-http")]
pub use imp::{parse_body, HttpSource};

#[cfg(feature = "source-http")]
mod imp {
    use crate::build::BuildSource;
    use std::convert::Infallible;
    use std::io;
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    use hyper::{Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;

    use super::{HttpSourceConfig, HttpSourceFormat};
    use crate::body_pool::BodyPool;
    use crate::event::{Batch, Event};
    use crate::listen::TcpServer;
    use crate::pipeline::{Output, Source, SourceContext};

    /// Most events a batch vector is sized for before parsing (it grows past it).
    const MOST_PRESIZED_EVENTS: usize = 64 * 1024;
    /// How long a request waits for room in a full channel before it gets 503.
    const FULL_CHANNEL_WAIT: Duration = Duration::from_secs(1);
    /// How often a request waiting for room looks again.
    const ROOM_POLL: Duration = Duration::from_millis(10);
    /// Most bytes of an oversized body read and thrown away before the 413, and the
    /// most time spent on it: a client that sends its whole body before it reads the
    /// answer can then read the 413 instead of meeting a reset connection.
    const DRAIN_BYTES: usize = 64 << 20;
    const DRAIN_TIME: Duration = Duration::from_secs(10);
    /// Body buffers kept for reuse, and the largest kept (bigger bodies get a buffer of
    /// their own, freed with their events).
    const SPARE_BODIES: usize = 2;
    const LARGEST_POOLED: usize = 4 << 20;
    /// Most bytes allocated for a body before it arrives.
    const UP_FRONT: usize = 1 << 20;

    /// Why a body was not read.
    enum BodyError {
        TooLarge,
        Timeout,
        Broken(hyper::Error),
    }

    pub struct HttpSource {
        config: HttpSourceConfig,
        server: TcpServer,
    }

    impl BuildSource for HttpSourceConfig {
        type Source = HttpSource;

        async fn build(self) -> io::Result<HttpSource> {
            let config = self;
            let server = TcpServer::bind(&config.bind.0, config.tls.as_ref()).await?;
            Ok(HttpSource { config, server })
        }
    }

    fn reply(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
        *response.status_mut() = status;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert("retry-after", hyper::header::HeaderValue::from_static("1"));
        }
        response
    }

    /// The events of a request body, or why it is malformed. Never panics, whatever the
    /// bytes (a property test and the `http_body` fuzz target hold it to that).
    pub fn parse_body(format: HttpSourceFormat, body: Bytes) -> Result<Batch, String> {
        match format {
            HttpSourceFormat::Raw => Ok(vec![Event::new(body)]),
            HttpSourceFormat::Ndjson => {
                // One allocation for the batch, sized by its lines (counting them costs
                // far less than growing and copying a vector of thousands of events).
                // Capped: a body of blank lines yields no events at all.
                let lines = memchr::memchr_iter(b'\n', &body).count() + 1;
                let mut events = Vec::with_capacity(lines.min(MOST_PRESIZED_EVENTS));
                let mut start = 0;
                for (n, line) in body.split(|&b| b == b'\n').enumerate() {
                    let end = start + line.len();
                    let trimmed = line.strip_suffix(b"\r").unwrap_or(line);
                    if !trimmed.iter().all(u8::is_ascii_whitespace) {
                        serde_json::from_slice::<serde::de::IgnoredAny>(trimmed)
                            .map_err(|e| format!("line {}: not JSON: {e}", n + 1))?;
                        events.push(Event::new(body.slice(start..start + trimmed.len())));
                    }
                    start = end + 1;
                }
                Ok(events)
            }
            HttpSourceFormat::FlumeJson => {
                let doc: serde_json::Value =
                    serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
                let items = doc
                    .as_array()
                    .ok_or("expected a JSON array of {\"headers\": {...}, \"body\": \"...\"}")?;
                let mut events = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let text = item
                        .get("body")
                        .and_then(serde_json::Value::as_str)
                        .ok_or_else(|| format!("event {i}: `body` must be a string"))?;
                    let mut event = Event::new(text.to_owned());
                    if let Some(headers) = item.get("headers") {
                        let headers = headers
                            .as_object()
                            .ok_or_else(|| format!("event {i}: `headers` must be an object"))?;
                        for (k, v) in headers {
                            let v = v.as_str().ok_or_else(|| {
                                format!("event {i}: header `{k}` must be a string")
                            })?;
                            event.headers.set(k.clone(), v);
                        }
                    }
                    events.push(event);
                }
                Ok(events)
            }
        }
    }

    struct Handler<O> {
        out: Arc<O>,
        ctx: SourceContext,
        format: HttpSourceFormat,
        max_body: usize,
        body_timeout: Duration,
        auth: Option<String>,
        bodies: Arc<BodyPool>,
    }

    impl<O: Output> Handler<O> {
        async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
            if request.method() != hyper::Method::POST {
                return reply(StatusCode::METHOD_NOT_ALLOWED, "send events with POST");
            }
            if let Some(token) = &self.auth {
                let given = request
                    .headers()
                    .get(hyper::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                if given != Some(token.as_str()) {
                    return reply(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
                }
            }
            let declared = request
                .headers()
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok());
            let expects_continue = request
                .headers()
                .get(hyper::header::EXPECT)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
            let mut body = request.into_body();
            if declared.is_some_and(|n| n > self.max_body) {
                // A client waiting for `100 Continue` has not sent the body: answer
                // now. Others are sending it: read it away first.
                if !expects_continue {
                    drain(&mut body).await;
                }
                return self.too_large();
            }
            // A declared length (checked against `max_body` above) sizes the buffer:
            // no doubling past it, no spare capacity pinned by the events. Up to
            // `UP_FRONT` bytes only: a client declaring more must send it before more
            // is held for it.
            let read = read_body(
                &mut body,
                &self.bodies,
                declared,
                self.max_body,
                self.body_timeout,
            );
            let body = match read.await {
                Ok(buffer) => self.bodies.freeze(buffer),
                Err(BodyError::TooLarge) => {
                    drain(&mut body).await;
                    return self.too_large();
                }
                Err(BodyError::Timeout) => {
                    self.ctx.counters.events_rejected.inc();
                    return reply(
                        StatusCode::REQUEST_TIMEOUT,
                        &format!("the body did not arrive within {:?}", self.body_timeout),
                    );
                }
                Err(BodyError::Broken(e)) => {
                    return reply(
                        StatusCode::BAD_REQUEST,
                        &format!("cannot read the body: {e}"),
                    )
                }
            };
            let events = match parse_body(self.format, body) {
                Ok(events) => events,
                Err(problem) => {
                    self.ctx.counters.events_rejected.inc();
                    self.ctx.counters.parse_errors.inc();
                    return reply(StatusCode::BAD_REQUEST, &problem);
                }
            };
            let count = events.len() as u64;
            self.ctx.counters.events_received.add(count);
            if count == 0 {
                return reply(StatusCode::OK, "0 events");
            }
            // Nothing goes in unless every channel has room for all of it: a batch is
            // committed whole, or refused whole.
            let waited = std::time::Instant::now();
            while !self.out.has_room(events.len()) {
                if waited.elapsed() >= FULL_CHANNEL_WAIT || self.ctx.shutdown.is_triggered() {
                    return reply(StatusCode::SERVICE_UNAVAILABLE, "channel full; retry later");
                }
                tokio::time::sleep(ROOM_POLL).await;
            }
            // The put runs to its end even if the client goes away meanwhile, so a
            // batch is never left in some channels and not in others.
            let out = self.out.clone();
            let put = tokio::spawn(async move { out.send(events).await });
            match put.await {
                Ok(Ok(())) => {
                    self.ctx.counters.events_accepted.add(count);
                    reply(StatusCode::OK, &format!("{count} events"))
                }
                Ok(Err(_)) | Err(_) => reply(StatusCode::SERVICE_UNAVAILABLE, "shutting down"),
            }
        }

        /// 413, closing the connection (the rest of the body is not read).
        fn too_large(&self) -> Response<Full<Bytes>> {
            self.ctx.counters.events_rejected.inc();
            let mut response = reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("body over max_body ({} bytes)", self.max_body),
            );
            response.headers_mut().insert(
                hyper::header::CONNECTION,
                hyper::header::HeaderValue::from_static("close"),
            );
            response
        }
    }

    /// Reads a whole body of at most `max` bytes within `limit`, into a buffer of
    /// `bodies` sized for the `declared` length.
    async fn read_body(
        body: &mut Incoming,
        bodies: &BodyPool,
        declared: Option<usize>,
        max: usize,
        limit: Duration,
    ) -> Result<Vec<u8>, BodyError> {
        let mut data = bodies.take(declared);
        // Never past `max_body`, even without a declared length.
        let cap = Some(declared.unwrap_or(max));
        let read = async {
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(BodyError::Broken)?;
                if let Some(chunk) = frame.data_ref() {
                    if data.len() + chunk.len() > max {
                        return Err(BodyError::TooLarge);
                    }
                    BodyPool::grow(&mut data, chunk.len(), cap);
                    data.extend_from_slice(chunk);
                }
            }
            Ok(())
        };
        let outcome = match tokio::time::timeout(limit, read).await {
            Ok(Ok(())) => return Ok(data),
            Ok(Err(e)) => e,
            Err(_) => BodyError::Timeout,
        };
        bodies.give_back(data);
        Err(outcome)
    }

    /// Reads and discards the rest of a body, up to [`DRAIN_BYTES`] and [`DRAIN_TIME`].
    async fn drain(body: &mut Incoming) {
        let mut left = DRAIN_BYTES;
        let discard = async {
            while let Some(Ok(frame)) = body.frame().await {
                let n = frame.data_ref().map_or(0, |d| d.len());
                if n >= left {
                    return;
                }
                left -= n;
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIME, discard).await;
    }

    impl Source for HttpSource {
        async fn run<O: Output>(self, out: O, ctx: SourceContext) -> io::Result<()> {
            let handler = Arc::new(Handler {
                out: Arc::new(out),
                ctx: ctx.clone(),
                format: self.config.format,
                max_body: usize::try_from(self.config.max_body.0).unwrap_or(usize::MAX),
                body_timeout: self.config.body_timeout,
                auth: self
                    .config
                    .auth_token
                    .as_ref()
                    .map(|t| format!("Bearer {t}")),
                bodies: BodyPool::new(SPARE_BODIES, LARGEST_POOLED, UP_FRONT),
            });
            let shutdown = ctx.shutdown.clone();
            let max_connections = usize::try_from(self.config.max_connections).unwrap_or(usize::MAX);
            self.server.serve(max_connections, &ctx, move |stream, _peer| {
                let handler = handler.clone();
                let mut stop = shutdown.clone();
                async move {
                    let service = hyper::service::service_fn(move |request| {
                        let handler = handler.clone();
                        async move { Ok::<_, Infallible>(handler.handle(request).await) }
                    });
                    // A client that sends its headers too slowly is dropped.
                    let connection = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(30))
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(connection);
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        _ = stop.wait() => {
                            connection.as_mut().graceful_shutdown();
                            let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
                        }
                    }
                }
            })
            .await
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_the_three_formats() {
            let flume = parse_body(
                HttpSourceFormat::FlumeJson,
                Bytes::from(r#"[{"headers":{"a":"1"},"body":"x"},{"body":"y"}]"#),
            )
            .unwrap();
            assert_eq!(flume.len(), 2);
            assert_eq!(flume[0].headers.get("a"), Some("1"));
            assert!(parse_body(HttpSourceFormat::FlumeJson, Bytes::from(r#"{"body":"x"}"#)).is_err());
            assert!(parse_body(HttpSourceFormat::FlumeJson, Bytes::from(r#"[{"body":1}]"#)).is_err());
            let nd = parse_body(
                HttpSourceFormat::Ndjson,
                Bytes::from("{\"a\":1}\n\n{\"b\":2}\r\n"),
            )
            .unwrap();
            assert_eq!(
                nd.iter()
                    .map(|e| e.body_text().into_owned())
                    .collect::<Vec<_>>(),
                ["{\"a\":1}", "{\"b\":2}"]
            );
            assert!(
                parse_body(HttpSourceFormat::Ndjson, Bytes::from("{\"a\":1}\nnope\n"))
                    .unwrap_err()
                    .starts_with("line 2")
            );
            assert_eq!(
                parse_body(HttpSourceFormat::Raw, Bytes::from("anything"))
                    .unwrap()
                    .len(),
                1
            );
        }

        mod properties {
            use super::*;
            use proptest::prelude::*;

            proptest! {
                #[test]
                fn any_body_in_any_format_never_panics(
                    bytes in proptest::collection::vec(any::<u8>(), 0..512),
                    json_ish in "[\\[\\]{}\":,a-z0-9 \\n\\\\]{0,64}",
                ) {
                    for format in [HttpSourceFormat::Raw, HttpSourceFormat::Ndjson, HttpSourceFormat::FlumeJson] {
                        let _ = parse_body(format, Bytes::from(bytes.clone()));
                        if let Ok(events) = parse_body(format, Bytes::from(json_ish.clone())) {
                            if format == HttpSourceFormat::Ndjson {
                                let total: usize = events.iter().map(|e| e.body.len()).sum();
                                prop_assert!(total <= json_ish.len());
                            }
                        }
                    }
                }
            }
        }
    }
}
