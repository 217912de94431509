//! `prometheus`: what events say, as Prometheus metrics a dashboard scrapes.

use sluice_macros::{Component, ParamEnum};

use crate::params::{Address, MetricName};

/// Turns events into one Prometheus metric, labelled by headers, for a scraper to read.
/// Each event adds to a counter (1, or its `value` header) or sets a gauge to its
/// `value` header: requests by status (`log_to_metric`), or the latest result of an
/// aggregate. Served on `listen`, or on the agent's metrics endpoint without it. Values
/// live in memory: a restart starts counters again from zero, which Prometheus handles
/// as a counter reset.
#[derive(Clone, Debug, Component)]
#[component(
    role = "sink",
    kind = "prometheus",
    rule(
        when = "metric_type=gauge",
        then = "value",
        help = "a gauge is set from a header: add `value = \"header_name\"`"
    )
)]
pub struct PrometheusConfig {
    /// The metric's name, e.g. `http_requests_total` (counters conventionally end in
    /// `_total`).
    pub metric: MetricName,
    /// `counter`: each event adds 1, or its `value`; `gauge`: each event sets the
    /// series to its `value`.
    #[param(default = "\"counter\"")]
    pub metric_type: MetricType,
    /// The header holding the number to add or set. Events whose header is missing or
    /// not a finite number (or negative, for a counter) are counted in
    /// `sluice_sink_values_invalid_total` and change nothing.
    pub value: Option<String>,
    /// Headers whose values label the series, e.g. `["status", "path"]`; a missing
    /// header gives an empty label. Label values are cut to 256 bytes.
    #[param(default = "[]")]
    pub labels: Vec<MetricName>,
    /// The metric's `# HELP` text.
    #[param(default = "\"Computed by sluice from events.\"")]
    pub help: String,
    /// Where to serve `GET /metrics` for this metric alone; without it, the metric is
    /// served with the agent's own metrics (the `agent` block's `metrics` must be set).
    #[param(binds = "tcp")]
    pub listen: Option<Address>,
    /// The most label sets kept; events that would add another are counted in
    /// `sluice_sink_events_dropped_total` and change nothing.
    #[param(default = "10_000", min = 1)]
    pub max_series: u64,
    /// Events taken from the channel per transaction.
    #[param(batch, default = "1_000", min = 1)]
    pub batch_size: u64,
}

/// A Prometheus metric type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum MetricType {
    Counter,
    Gauge,
}

#[cfg(feature = "sink-prometheus")]
pub use imp::Prometheus;

#[cfg(feature = "sink-prometheus")]
mod imp {
    use std::collections::HashMap;
    use std::fmt::Write as _;
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::{MetricType, PrometheusConfig};
    use crate::build::BuildSink;
    use crate::event::Event;
    use crate::metrics::{self, Exposition, SinkCounters};
    use crate::pipeline::Sink;

    /// Longest label value kept, in bytes (header values are outside data).
    const MAX_LABEL_VALUE: usize = 256;

    /// The sink: updates the series; the scrape endpoint reads them. The copies of
    /// one sink (one per channel it drains) share one [`Served`].
    pub struct Prometheus {
        /// Held: the endpoint lives as long as a copy of the sink.
        _served: Arc<Served>,
        family: Arc<Family>,
        counters: Arc<SinkCounters>,
    }

    /// A metric and where it is served; the scrape endpoint stops with the last sink.
    struct Served {
        family: Arc<Family>,
        server: Option<tokio::task::JoinHandle<()>>,
    }

    impl Drop for Served {
        fn drop(&mut self) {
            if let Some(server) = &self.server {
                server.abort();
            }
        }
    }

    struct Family {
        metric: String,
        help: String,
        metric_type: MetricType,
        value: Option<String>,
        labels: Vec<String>,
        max_series: usize,
        series: Mutex<HashMap<Vec<String>, f64>>,
    }

    fn invalid(message: String) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, message)
    }

    impl BuildSink for PrometheusConfig {
        type Sink = Prometheus;

        async fn build(self) -> io::Result<Prometheus> {
            // Checked by `sluice check`; again here for values from `env(...)`.
            for name in std::iter::once(&self.metric).chain(&self.labels) {
                if let Some(problem) = sluice_core::metric_name::problem(&name.0) {
                    return Err(invalid(problem));
                }
            }
            if self.metric_type == MetricType::Gauge && self.value.is_none() {
                return Err(invalid("a gauge needs `value`, the header to set it from".into()));
            }
            if self.metric.0.starts_with("sluice_") {
                return Err(invalid(format!(
                    "metric `{}`: the `sluice_` prefix is the agent's own metrics'",
                    self.metric.0
                )));
            }
            let labels: Vec<String> = self.labels.into_iter().map(|l| l.0).collect();
            if let Some(twice) = labels
                .iter()
                .enumerate()
                .find(|(i, l)| labels[..*i].contains(l))
                .map(|(_, l)| l)
            {
                return Err(invalid(format!("label `{twice}` is listed twice")));
            }
            let family = Family {
                metric: self.metric.0,
                help: self.help,
                metric_type: self.metric_type,
                value: self.value,
                labels,
                max_series: usize::try_from(self.max_series).unwrap_or(usize::MAX),
                series: Mutex::new(HashMap::new()),
            };
            let key = format!(
                "prometheus {} at {}",
                family.metric,
                self.listen.as_ref().map_or("the agent's endpoint", |a| a.0.as_str())
            );
            let listen = self.listen.clone();
            let served = metrics::shared(&key, || serve(family.clone_empty(), listen.as_ref()))?;
            if !served.family.same_definition(&family) {
                return Err(invalid(format!(
                    "metric `{}` is defined twice with different settings: each sink needs a metric of its own",
                    family.metric
                )));
            }
            Ok(Prometheus {
                family: served.family.clone(),
                _served: served,
                counters: Arc::default(),
            })
        }
    }

    /// Serves `family` on `listen`, or on the agent's endpoint.
    fn serve(family: Family, listen: Option<&crate::params::Address>) -> io::Result<Arc<Served>> {
        let family = Arc::new(family);
        let server = match listen {
                Some(addr) => {
                    let listener = std::net::TcpListener::bind(&addr.0)
                        .and_then(|l| {
                            l.set_nonblocking(true)?;
                            tokio::net::TcpListener::from_std(l)
                        })
                        .map_err(|e| {
                            io::Error::new(e.kind(), format!("cannot listen on {}: {e}", addr.0))
                        })?;
                    let served = family.clone();
                    Some(tokio::spawn(metrics::serve_pages(listener, move |path| {
                        (path == "/metrics").then(|| {
                            let mut out = String::new();
                            served.write_families(&mut out);
                            ("text/plain; version=0.0.4", out)
                        })
                    })))
                }
                None if metrics::agent_serves_metrics() => {
                    let exported: Arc<dyn Exposition> = family.clone();
                    metrics::export(&exported);
                    None
                }
                None => {
                    return Err(invalid(format!(
                        "metric `{}` has nowhere to be served: set `listen`, or the agent block's `metrics`",
                        family.metric
                    )))
                }
            };
        Ok(Arc::new(Served { family, server }))
    }

    impl Family {
        /// The same definition, with no series yet.
        fn clone_empty(&self) -> Family {
            Family {
                metric: self.metric.clone(),
                help: self.help.clone(),
                metric_type: self.metric_type,
                value: self.value.clone(),
                labels: self.labels.clone(),
                max_series: self.max_series,
                series: Mutex::new(HashMap::new()),
            }
        }

        fn same_definition(&self, other: &Family) -> bool {
            (&self.metric, &self.help, self.metric_type, &self.value, &self.labels, self.max_series)
                == (&other.metric, &other.help, other.metric_type, &other.value, &other.labels, other.max_series)
        }

        fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<String>, f64>> {
            self.series.lock().unwrap_or_else(|p| p.into_inner())
        }

        /// The number an event contributes; `None` when it has none to give.
        fn amount(&self, event: &Event) -> Option<f64> {
            let Some(header) = &self.value else {
                return Some(1.0); // a counter of events
            };
            let amount: f64 = event.headers.get(header)?.trim().parse().ok()?;
            let valid = amount.is_finite()
                && (self.metric_type == MetricType::Gauge || amount >= 0.0);
            valid.then_some(amount)
        }
    }

    /// The first `max` bytes of `text`, cut at a character boundary.
    fn truncate(text: &str, max: usize) -> &str {
        if text.len() <= max {
            return text;
        }
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    }

    /// A sample value as the text format writes it (`+Inf`, not Rust's `inf`).
    fn number(value: f64) -> String {
        if value.is_nan() {
            "NaN".into()
        } else if value.is_infinite() {
            if value > 0.0 { "+Inf" } else { "-Inf" }.into()
        } else {
            value.to_string()
        }
    }

    /// A label value in the text format's quoting.
    fn escape(value: &str, out: &mut String) {
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
    }

    impl Exposition for Family {
        fn write_families(&self, out: &mut String) {
            let kind = match self.metric_type {
                MetricType::Counter => "counter",
                MetricType::Gauge => "gauge",
            };
            let help = self.help.replace('\\', "\\\\").replace('\n', "\\n");
            let _ = writeln!(out, "# HELP {} {help}", self.metric);
            let _ = writeln!(out, "# TYPE {} {kind}", self.metric);
            let mut series: Vec<(Vec<String>, f64)> =
                self.lock().iter().map(|(k, v)| (k.clone(), *v)).collect();
            series.sort_by(|a, b| a.0.cmp(&b.0));
            for (values, value) in series {
                out.push_str(&self.metric);
                if !self.labels.is_empty() {
                    out.push('{');
                    for (i, (name, value)) in self.labels.iter().zip(&values).enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{name}=\"");
                        escape(value, out);
                        out.push('"');
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {}", number(value));
            }
        }
    }

    impl Sink for Prometheus {
        fn bind_counters(&mut self, counters: Arc<SinkCounters>) {
            self.counters = counters;
        }

        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            let family = &self.family;
            let mut series = family.lock();
            for event in batch {
                let Some(amount) = family.amount(event) else {
                    self.counters.values_invalid.inc();
                    continue;
                };
                let key: Vec<String> = family
                    .labels
                    .iter()
                    .map(|l| truncate(event.headers.get(l).unwrap_or(""), MAX_LABEL_VALUE).to_owned())
                    .collect();
                let full = series.len() >= family.max_series;
                match series.get_mut(&key) {
                    Some(value) => match family.metric_type {
                        // A counter that would pass the largest float stays where it is.
                        MetricType::Counter if (*value + amount).is_finite() => *value += amount,
                        MetricType::Counter => self.counters.values_invalid.inc(),
                        MetricType::Gauge => *value = amount,
                    },
                    None if full => self.counters.events_dropped.inc(),
                    None => {
                        series.insert(key, amount);
                    }
                }
            }
            Ok(())
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::params::{Address, MetricName};

        fn sink(metric: &str, metric_type: MetricType, value: Option<&str>, max_series: u64) -> Prometheus {
            let config = PrometheusConfig {
                metric: MetricName(metric.into()),
                metric_type,
                value: value.map(str::to_owned),
                labels: vec![MetricName("status".into())],
                help: "say \"hi\"\nback\\slash".into(),
                listen: Some(Address("127.0.0.1:0".into())),
                max_series,
                batch_size: 10,
            };
            crate::testing::block_on(async { config.build().await.unwrap() })
        }

        fn event(status: &str, value: Option<&str>) -> Event {
            let mut event = Event::new("x");
            event.headers.set("status", status);
            if let Some(v) = value {
                event.headers.set("v", v);
            }
            event
        }

        fn text(sink: &Prometheus) -> String {
            let mut out = String::new();
            sink.family.write_families(&mut out);
            out
        }

        #[test]
        fn counters_add_gauges_set_and_bad_values_are_counted() {
            let mut counter = sink("m", MetricType::Counter, Some("v"), 100);
            let counters = Arc::new(SinkCounters::default());
            counter.bind_counters(counters.clone());
            let batch = [
                event("200", Some("2.5")),
                event("200", Some("1")),
                event("500", Some("-1")),
                event("500", Some("abc")),
                event("500", None),
                event("404", Some("NaN")),
            ];
            crate::testing::block_on(counter.write(&batch)).unwrap();
            assert_eq!(counters.values_invalid.get(), 4);
            let out = text(&counter);
            assert!(out.contains("# TYPE m counter\n"), "{out}");
            assert!(out.contains("# HELP m say \"hi\"\\nback\\\\slash\n"), "{out}");
            assert!(out.contains("m{status=\"200\"} 3.5\n"), "{out}");

            let mut gauge = sink("g", MetricType::Gauge, Some("v"), 100);
            crate::testing::block_on(gauge.write(&[event("200", Some("7")), event("200", Some("-3"))]))
                .unwrap();
            assert!(text(&gauge).contains("g{status=\"200\"} -3\n"));

            // Past the largest float a counter stays put (and says `+Inf` never).
            let mut huge = sink("h", MetricType::Counter, Some("v"), 100);
            huge.bind_counters(counters.clone());
            let big = [event("200", Some("1e308")), event("200", Some("1e308"))];
            crate::testing::block_on(huge.write(&big)).unwrap();
            assert!(text(&huge).contains("h{status=\"200\"} 100000000000000000000"), "{}", text(&huge));
            assert_eq!(counters.values_invalid.get(), 5);
        }

        #[test]
        fn the_copies_of_one_sink_share_one_metric_and_another_definition_is_refused() {
            // A sink drained from two channels is built twice: one family, one server.
            let mut a = sink("shared", MetricType::Counter, None, 10);
            let mut b = sink("shared", MetricType::Counter, None, 10);
            crate::testing::block_on(a.write(&[event("200", None)])).unwrap();
            crate::testing::block_on(b.write(&[event("200", None)])).unwrap();
            assert!(text(&a).contains("shared{status=\"200\"} 2\n"), "{}", text(&a));
            let other = PrometheusConfig {
                metric: MetricName("shared".into()),
                metric_type: MetricType::Gauge,
                value: Some("v".into()),
                labels: vec![MetricName("status".into())],
                help: String::new(),
                listen: Some(Address("127.0.0.1:0".into())),
                max_series: 10,
                batch_size: 1,
            };
            let error = crate::testing::block_on(other.build()).err().unwrap();
            assert!(error.to_string().contains("defined twice"), "{error}");
            let twice = PrometheusConfig {
                metric: MetricName("twice".into()),
                labels: vec![MetricName("a".into()), MetricName("a".into())],
                metric_type: MetricType::Counter,
                value: None,
                help: String::new(),
                listen: Some(Address("127.0.0.1:0".into())),
                max_series: 10,
                batch_size: 1,
            };
            let error = crate::testing::block_on(twice.build()).err().unwrap();
            assert!(error.to_string().contains("listed twice"), "{error}");
        }

        #[test]
        fn without_listen_or_an_agent_endpoint_it_refuses_to_start() {
            let config = PrometheusConfig {
                metric: MetricName("m".into()),
                metric_type: MetricType::Counter,
                value: None,
                labels: Vec::new(),
                help: String::new(),
                listen: None,
                max_series: 1,
                batch_size: 1,
            };
            // No agent in this test process serves metrics.
            let error = crate::testing::block_on(config.build()).err().unwrap();
            assert!(error.to_string().contains("nowhere to be served"), "{error}");
        }

        #[test]
        fn label_values_are_escaped_and_cut_and_series_are_bounded() {
            let mut counter = sink("e", MetricType::Counter, None, 2);
            let counters = Arc::new(SinkCounters::default());
            counter.bind_counters(counters.clone());
            let long = "é".repeat(200);
            let batch = [event("a\"b\\c\nd", None), event(&long, None), event("third", None)];
            crate::testing::block_on(counter.write(&batch)).unwrap();
            let out = text(&counter);
            assert!(out.contains("e{status=\"a\\\"b\\\\c\\nd\"} 1\n"), "{out}");
            assert!(out.contains(&format!("e{{status=\"{}\"}} 1\n", "é".repeat(128))), "{out}");
            assert_eq!(counters.events_dropped.get(), 1);
            assert!(!out.contains("third"));
        }
    }
}
