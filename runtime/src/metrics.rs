//! Per-component counters, named after Flume's, served as Prometheus text on `/metrics`
//! and as Flume-style JSON on `/metrics.json`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn inc(&self) {
        self.add(1);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dec(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(1))
            });
    }
}

#[derive(Debug, Default)]
pub struct SourceCounters {
    pub events_received: Counter,
    pub events_accepted: Counter,
    pub events_rejected: Counter,
    pub parse_errors: Counter,
    pub open_connections: Gauge,
}

#[derive(Debug, Default)]
pub struct ChannelCounters {
    pub put_attempts: Counter,
    pub put_successes: Counter,
    pub take_attempts: Counter,
    pub take_successes: Counter,
    pub size: Gauge,
    pub capacity: Gauge,
}

#[derive(Debug, Default)]
pub struct SinkCounters {
    pub drain_attempts: Counter,
    pub drain_successes: Counter,
    pub connection_failures: Counter,
    pub batches_dropped: Counter,
}

#[derive(Debug, Default)]
pub struct TransformCounters {
    pub dropped: Counter,
    pub parse_errors: Counter,
}

/// One component's counters as (Flume name, Prometheus name, value).
type Values = Vec<(&'static str, &'static str, u64)>;

/// A registered component: name, kind, role, values.
type Row = (String, String, &'static str, Values);

#[derive(Clone, Debug)]
enum Entry {
    Source(Arc<SourceCounters>),
    Channel(Arc<ChannelCounters>),
    Sink(Arc<SinkCounters>),
    Transform(Arc<TransformCounters>),
}

/// Every component's counters, by name.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    entries: Arc<Mutex<Vec<(String, String, Entry)>>>,
}

impl Metrics {
    fn register(&self, name: &str, kind: &str, entry: Entry) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.push((name.to_owned(), kind.to_owned(), entry));
        }
    }

    pub fn source(&self, name: &str, kind: &str) -> Arc<SourceCounters> {
        let c = Arc::new(SourceCounters::default());
        self.register(name, kind, Entry::Source(c.clone()));
        c
    }

    pub fn channel(&self, name: &str, kind: &str) -> Arc<ChannelCounters> {
        let c = Arc::new(ChannelCounters::default());
        self.register(name, kind, Entry::Channel(c.clone()));
        c
    }

    pub fn sink(&self, name: &str, kind: &str) -> Arc<SinkCounters> {
        let c = Arc::new(SinkCounters::default());
        self.register(name, kind, Entry::Sink(c.clone()));
        c
    }

    pub fn transform(&self, name: &str, kind: &str) -> Arc<TransformCounters> {
        let c = Arc::new(TransformCounters::default());
        self.register(name, kind, Entry::Transform(c.clone()));
        c
    }

    fn rows(&self) -> Vec<Row> {
        let entries = match self.entries.lock() {
            Ok(e) => e.clone(),
            Err(_) => return Vec::new(),
        };
        entries
            .into_iter()
            .map(|(name, kind, entry)| {
                let (role, values) = match entry {
                    Entry::Source(c) => (
                        "source",
                        vec![
                            (
                                "EventReceivedCount",
                                "events_received_total",
                                c.events_received.get(),
                            ),
                            (
                                "EventAcceptedCount",
                                "events_accepted_total",
                                c.events_accepted.get(),
                            ),
                            (
                                "EventRejectedCount",
                                "events_rejected_total",
                                c.events_rejected.get(),
                            ),
                            (
                                "ParseErrorCount",
                                "parse_errors_total",
                                c.parse_errors.get(),
                            ),
                            (
                                "OpenConnectionCount",
                                "open_connections",
                                c.open_connections.get(),
                            ),
                        ],
                    ),
                    Entry::Channel(c) => {
                        let fill = (c.size.get() * 100)
                            .checked_div(c.capacity.get())
                            .unwrap_or(0);
                        (
                            "channel",
                            vec![
                                (
                                    "EventPutAttemptCount",
                                    "put_attempts_total",
                                    c.put_attempts.get(),
                                ),
                                (
                                    "EventPutSuccessCount",
                                    "put_successes_total",
                                    c.put_successes.get(),
                                ),
                                (
                                    "EventTakeAttemptCount",
                                    "take_attempts_total",
                                    c.take_attempts.get(),
                                ),
                                (
                                    "EventTakeSuccessCount",
                                    "take_successes_total",
                                    c.take_successes.get(),
                                ),
                                ("ChannelSize", "size", c.size.get()),
                                ("ChannelCapacity", "capacity", c.capacity.get()),
                                ("ChannelFillPercentage", "fill_percent", fill),
                            ],
                        )
                    }
                    Entry::Sink(c) => (
                        "sink",
                        vec![
                            (
                                "EventDrainAttemptCount",
                                "drain_attempts_total",
                                c.drain_attempts.get(),
                            ),
                            (
                                "EventDrainSuccessCount",
                                "drain_successes_total",
                                c.drain_successes.get(),
                            ),
                            (
                                "ConnectionFailedCount",
                                "connection_failures_total",
                                c.connection_failures.get(),
                            ),
                            (
                                "BatchDroppedCount",
                                "batches_dropped_total",
                                c.batches_dropped.get(),
                            ),
                        ],
                    ),
                    Entry::Transform(c) => (
                        "transform",
                        vec![
                            ("EventDroppedCount", "dropped_total", c.dropped.get()),
                            (
                                "ParseErrorCount",
                                "parse_errors_total",
                                c.parse_errors.get(),
                            ),
                        ],
                    ),
                };
                (name, kind, role, values)
            })
            .collect()
    }

    /// Prometheus text exposition format.
    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        for (name, kind, role, values) in self.rows() {
            for (_, metric, value) in values {
                let _ = writeln!(
                    out,
                    "sluice_{role}_{metric}{{component=\"{name}\",kind=\"{kind}\"}} {value}"
                );
            }
        }
        out
    }

    /// Flume's JSON reporting shape: `{"SOURCE.name": {"EventReceivedCount": "12", ...}}`.
    pub fn json(&self) -> String {
        let mut out = String::from("{");
        for (i, (name, kind, role, values)) in self.rows().into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "\"{}.{}\":{{\"Type\":\"{}\"",
                role.to_uppercase(),
                name,
                kind
            );
            for (flume, _, value) in values {
                let _ = write!(out, ",\"{flume}\":\"{value}\"");
            }
            out.push('}');
        }
        out.push('}');
        out
    }

    /// Serves `/metrics` and `/metrics.json` until the process exits.
    pub async fn serve(self, listener: TcpListener) {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let metrics = self.clone();
            tokio::spawn(async move {
                // Read the request head (up to the blank line); clients may send it in
                // several pieces.
                let mut request = Vec::with_capacity(1024);
                let mut chunk = [0u8; 1024];
                let read_head = async {
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 8192 {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => request.extend_from_slice(&chunk[..n]),
                        }
                    }
                };
                if tokio::time::timeout(std::time::Duration::from_secs(5), read_head)
                    .await
                    .is_err()
                {
                    return;
                }
                let n = request.len();
                let line = String::from_utf8_lossy(&request[..n]);
                let path = line.split_whitespace().nth(1).unwrap_or("/");
                let (status, content_type, body) = match path {
                    "/metrics" => ("200 OK", "text/plain; version=0.0.4", metrics.prometheus()),
                    "/metrics.json" => ("200 OK", "application/json", metrics.json()),
                    _ => (
                        "404 Not Found",
                        "text/plain",
                        "try /metrics or /metrics.json\n".to_owned(),
                    ),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    }
}
