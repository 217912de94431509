//! Per-component counters, named after Flume's, served as Prometheus text on `/metrics`
//! and as Flume-style JSON on `/metrics.json`.

#![warn(missing_docs)]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// The value now.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes one away (never below zero).
    pub fn dec(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(1))
            });
    }
}

/// A source's metrics (`sluice_source_*` on /metrics).
#[derive(Debug, Default)]
pub struct SourceCounters {
    /// Events read from the input.
    pub events_received: Counter,
    /// Events put into the channels.
    pub events_accepted: Counter,
    /// Events refused (too large, invalid); counted, not put.
    pub events_rejected: Counter,
    /// Input that could not be parsed into an event.
    pub parse_errors: Counter,
    /// Connections open now (listening sources).
    pub open_connections: Gauge,
    /// Clients refused: a failed TLS handshake (say, a client certificate from another
    /// CA) or a wrong token.
    pub connections_refused: Counter,
    /// Times the source failed (error or panic) and was started again.
    pub restarts: Arc<Counter>,
}

/// A channel's metrics (`sluice_channel_*` on /metrics).
#[derive(Debug, Default)]
pub struct ChannelCounters {
    /// Events offered to the channel.
    pub put_attempts: Counter,
    /// Events the channel stored.
    pub put_successes: Counter,
    /// Events asked for by takes.
    pub take_attempts: Counter,
    /// Events handed out by takes.
    pub take_successes: Counter,
    /// Events held now, taken-but-uncommitted ones included.
    pub size: Gauge,
    /// Most events the channel holds.
    pub capacity: Gauge,
    /// Events refused because the channel cannot store them (too large to read back).
    pub events_rejected: Counter,
}

/// A sink's metrics (`sluice_sink_*` on /metrics).
#[derive(Debug, Default)]
pub struct SinkCounters {
    /// Events the sink tried to deliver.
    pub drain_attempts: Counter,
    /// Events delivered (their batch committed).
    pub drain_successes: Counter,
    /// Failed writes and connections.
    pub connection_failures: Counter,
    /// Batches given up on (a group's policy, or a sink that drops).
    pub batches_dropped: Counter,
    /// Events in dropped batches.
    pub events_dropped: Counter,
    /// Files a sink published (`lake`).
    pub files_published: Counter,
    /// Values written as null because they did not convert to their column's type.
    pub values_invalid: Counter,
    /// Times a write panicked and the sink was resumed.
    pub restarts: Arc<Counter>,
}

/// A transform's metrics (`sluice_transform_*` on /metrics).
#[derive(Debug, Default)]
pub struct TransformCounters {
    /// Events the transform dropped.
    pub dropped: Counter,
    /// Events whose content it could not parse.
    pub parse_errors: Counter,
    /// `aggregate`: events for windows that had closed (also in `dropped`).
    pub late: Counter,
    /// `aggregate`: events that would have opened a state past `max_groups` (also in
    /// `dropped`).
    pub refused: Counter,
    /// `aggregate`: events whose time was missing or did not parse (also in `dropped`).
    pub invalid_times: Counter,
    /// `aggregate`: inputs a function could not use, such as text given to `sum`.
    pub invalid_values: Counter,
    /// `aggregate`: (window, group) results sent on.
    pub emitted: Counter,
    /// `aggregate`: (window, group) states held now.
    pub open_groups: Gauge,
}

/// The Prometheus name of the restart counter, shared by every role.
const RESTARTS: &str = "component_restarts_total";

/// What a metric counts, for `# HELP`.
fn help(metric: &str) -> &'static str {
    match metric {
        "events_received_total" => "Events a source read from its input.",
        "events_accepted_total" => "Events a source committed to its channels.",
        "events_rejected_total" => {
            "Events refused: too long, malformed, no room, or too large to store."
        }
        "parse_errors_total" => "Inputs that did not parse and were kept raw or dropped.",
        "open_connections" => "Client connections a source holds open.",
        "connections_refused_total" => "Clients refused: a failed TLS handshake or a wrong token.",
        "put_attempts_total" => "Events offered to a channel.",
        "put_successes_total" => "Events committed into a channel.",
        "take_attempts_total" => "Events handed out by a channel.",
        "take_successes_total" => "Events whose take was committed (delivered).",
        "size" => "Events held by a channel, including those taken but not committed.",
        "capacity" => "Most events a channel holds.",
        "fill_percent" => "How full a channel is, in percent of its capacity.",
        "drain_attempts_total" => "Events a sink tried to deliver.",
        "drain_successes_total" => "Events a sink delivered.",
        "connection_failures_total" => "Failed deliveries, retried with backoff.",
        "batches_dropped_total" => "Batches a sink dropped after a refusal it was told to drop.",
        "events_dropped_total" => "Events in the batches a sink dropped.",
        "files_published_total" => "Files a sink published (renamed into place or uploaded).",
        "values_invalid_total" => {
            "Values a sink could not use: not their column's type (written as null), or not a number a metric can take (skipped)."
        }
        "dropped_total" => "Events a transform dropped.",
        "late_total" => "Events an aggregate dropped because their windows had closed.",
        "refused_total" => "Events an aggregate dropped because max_groups states were open.",
        "invalid_times_total" => "Events an aggregate dropped because their time was missing or bad.",
        "invalid_values_total" => "Inputs an aggregate function could not use (text given to sum).",
        "emitted_total" => "Closed (window, group) results an aggregate sent on.",
        "open_groups" => "(window, group) states an aggregate holds.",
        RESTARTS => "Times a component failed (error or panic) and was started again.",
        _ => "A Sluice metric.",
    }
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

/// Finds the counters already registered for `$name` in role `$variant`, else registers
/// new ones: one series per (role, name), however often a component asks (a sink drained
/// from two channels, a filter on two sources' paths).
macro_rules! counters_of {
    ($self:ident, $name:ident, $kind:ident, $variant:ident) => {{
        let Ok(mut entries) = $self.entries.lock() else {
            return Arc::default();
        };
        for (n, _, entry) in entries.iter() {
            if let Entry::$variant(c) = entry {
                if n == $name {
                    return c.clone();
                }
            }
        }
        let c = Arc::default();
        entries.push((
            $name.to_owned(),
            $kind.to_owned(),
            Entry::$variant(Arc::clone(&c)),
        ));
        c
    }};
}

impl Metrics {
    /// The counters of source `name` of `kind`, registered for /metrics.
    pub fn source(&self, name: &str, kind: &str) -> Arc<SourceCounters> {
        counters_of!(self, name, kind, Source)
    }

    /// The counters of channel `name` of `kind`, registered for /metrics.
    pub fn channel(&self, name: &str, kind: &str) -> Arc<ChannelCounters> {
        counters_of!(self, name, kind, Channel)
    }

    /// The counters of sink `name` of `kind`, registered for /metrics.
    pub fn sink(&self, name: &str, kind: &str) -> Arc<SinkCounters> {
        counters_of!(self, name, kind, Sink)
    }

    /// The counters of transform `name` of `kind`, registered for /metrics.
    pub fn transform(&self, name: &str, kind: &str) -> Arc<TransformCounters> {
        counters_of!(self, name, kind, Transform)
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
                            (
                                "ConnectionRefusedCount",
                                "connections_refused_total",
                                c.connections_refused.get(),
                            ),
                            ("RestartCount", RESTARTS, c.restarts.get()),
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
                                (
                                    "EventRejectedCount",
                                    "events_rejected_total",
                                    c.events_rejected.get(),
                                ),
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
                            (
                                "EventDroppedCount",
                                "events_dropped_total",
                                c.events_dropped.get(),
                            ),
                            (
                                "FilePublishedCount",
                                "files_published_total",
                                c.files_published.get(),
                            ),
                            (
                                "ValueInvalidCount",
                                "values_invalid_total",
                                c.values_invalid.get(),
                            ),
                            ("RestartCount", RESTARTS, c.restarts.get()),
                        ],
                    ),
                    Entry::Transform(c) => {
                        let mut values = vec![
                            ("EventDroppedCount", "dropped_total", c.dropped.get()),
                            (
                                "ParseErrorCount",
                                "parse_errors_total",
                                c.parse_errors.get(),
                            ),
                        ];
                        if kind == "aggregate" {
                            values.extend([
                                ("EventLateCount", "late_total", c.late.get()),
                                ("EventRefusedCount", "refused_total", c.refused.get()),
                                (
                                    "InvalidTimeCount",
                                    "invalid_times_total",
                                    c.invalid_times.get(),
                                ),
                                (
                                    "InvalidValueCount",
                                    "invalid_values_total",
                                    c.invalid_values.get(),
                                ),
                                ("WindowEmittedCount", "emitted_total", c.emitted.get()),
                                ("OpenGroupCount", "open_groups", c.open_groups.get()),
                            ]);
                        }
                        ("transform", values)
                    }
                };
                (name, kind, role, values)
            })
            .collect()
    }

    /// Prometheus text exposition format: each family once with its `# HELP` and
    /// `# TYPE`, then one series per component. Restarts of every role are one family,
    /// `sluice_component_restarts_total`, with a `role` label.
    pub fn prometheus(&self) -> String {
        // Family name → its series lines, in order of first appearance.
        let mut families: Vec<(String, &'static str, Vec<String>)> = Vec::new();
        for (name, kind, role, values) in self.rows() {
            for (_, metric, value) in values {
                let (family, labels) = if metric == RESTARTS {
                    (
                        format!("sluice_{metric}"),
                        format!("component=\"{name}\",kind=\"{kind}\",role=\"{role}\""),
                    )
                } else {
                    (
                        format!("sluice_{role}_{metric}"),
                        format!("component=\"{name}\",kind=\"{kind}\""),
                    )
                };
                let line = format!("{family}{{{labels}}} {value}");
                match families.iter_mut().find(|(f, _, _)| *f == family) {
                    Some((_, _, lines)) => lines.push(line),
                    None => families.push((family, metric, vec![line])),
                }
            }
        }
        let mut out = String::new();
        for (family, metric, lines) in families {
            let kind = if metric.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(out, "# HELP {family} {}", help(metric));
            let _ = writeln!(out, "# TYPE {family} {kind}");
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
        }
        write_exported(&mut out);
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
        serve_pages(listener, move |path| match path {
            "/metrics" => Some(("text/plain; version=0.0.4", self.prometheus())),
            "/metrics.json" => Some(("application/json", self.json())),
            _ => None,
        })
        .await;
    }
}

/// Serves plain HTTP GETs on `listener`: `page(path)` gives the content type and body,
/// `None` a 404. Used by the agent's metrics endpoint and the `prometheus` sink.
pub async fn serve_pages<F>(listener: TcpListener, page: F)
where
    F: Fn(&str) -> Option<(&'static str, String)> + Clone + Send + Sync + 'static,
{
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let page = page.clone();
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
            let line = String::from_utf8_lossy(&request);
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let (status, content_type, body) = match page(path) {
                Some((content_type, body)) => ("200 OK", content_type, body),
                None => ("404 Not Found", "text/plain", "try /metrics\n".to_owned()),
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

/// Metric families that components compute from events (the `prometheus` sink), in
/// Prometheus' text format.
pub trait Exposition: Send + Sync {
    /// Appends the families, each with its `# HELP` and `# TYPE`.
    fn write_families(&self, out: &mut String);
}

static EXPORTED: Mutex<Vec<std::sync::Weak<dyn Exposition>>> = Mutex::new(Vec::new());
static AGENT_SERVES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Adds `families` to the agent's metrics endpoint for as long as they live.
pub fn export(families: &Arc<dyn Exposition>) {
    let mut exported = EXPORTED.lock().unwrap_or_else(|p| p.into_inner());
    exported.retain(|f| f.strong_count() > 0);
    exported.push(Arc::downgrade(families));
}

/// What this process serves, keyed by a component's own name for it (a `prometheus`
/// sink's metric and address): the copies of one sink that a flow builds, one per
/// channel it drains, find the state the first one made and share it.
pub fn shared<T: Send + Sync + 'static>(
    key: &str,
    make: impl FnOnce() -> std::io::Result<Arc<T>>,
) -> std::io::Result<Arc<T>> {
    type Shared =
        std::collections::HashMap<String, std::sync::Weak<dyn std::any::Any + Send + Sync>>;
    static SHARED: Mutex<Option<Shared>> = Mutex::new(None);
    let mut guard = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    let map = guard.get_or_insert_with(Default::default);
    map.retain(|_, v| v.strong_count() > 0);
    if let Some(existing) = map.get(key).and_then(std::sync::Weak::upgrade) {
        if let Ok(existing) = existing.downcast::<T>() {
            return Ok(existing);
        }
    }
    let made = make()?;
    let any: Arc<dyn std::any::Any + Send + Sync> = made.clone();
    map.insert(key.to_owned(), Arc::downgrade(&any));
    Ok(made)
}

/// Whether an agent in this process serves a metrics endpoint (the `agent` block's
/// `metrics`, or `--metrics-addr`).
pub fn agent_serves_metrics() -> bool {
    AGENT_SERVES.load(Ordering::Relaxed)
}

/// Notes whether the agent serves metrics (see [`agent_serves_metrics`]); an agent
/// that ends clears it.
pub(crate) fn set_agent_serves_metrics(serves: bool) {
    AGENT_SERVES.store(serves, Ordering::Relaxed);
}

fn write_exported(out: &mut String) {
    let exported: Vec<_> = EXPORTED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter_map(std::sync::Weak::upgrade)
        .collect();
    for families in exported {
        families.write_families(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_series_per_component_and_help_and_type_once_per_family() {
        let metrics = Metrics::default();
        // A sink drained from two channels asks twice: one series, shared counters.
        let first = metrics.sink("out", "tcp");
        let second = metrics.sink("out", "tcp");
        first.drain_successes.add(2);
        second.drain_successes.add(3);
        metrics.sink("other", "null");
        metrics.source("in", "netcat").restarts.inc();
        let text = metrics.prometheus();
        let lines: Vec<&str> = text.lines().collect();
        let samples: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| !l.starts_with('#'))
            .collect();
        let mut keys: Vec<&str> = samples
            .iter()
            .map(|l| l.rsplit_once(' ').unwrap().0)
            .collect();
        let total = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), total, "duplicate series in\n{text}");
        assert!(
            text.contains("sluice_sink_drain_successes_total{component=\"out\",kind=\"tcp\"} 5")
        );
        assert!(text.contains(
            "sluice_component_restarts_total{component=\"in\",kind=\"netcat\",role=\"source\"} 1"
        ));
        for family in [
            "sluice_sink_drain_successes_total",
            "sluice_component_restarts_total",
        ] {
            let help = format!("# HELP {family} ");
            let ty = format!("# TYPE {family} counter");
            assert_eq!(lines.iter().filter(|l| l.starts_with(&help)).count(), 1);
            assert_eq!(lines.iter().filter(|l| **l == ty).count(), 1);
        }
        assert!(text.contains("# TYPE sluice_source_open_connections gauge"));
    }
}
