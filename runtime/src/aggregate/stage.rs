//! The `aggregate` transform as it runs in an agent: the [`Aggregator`] behind a lock,
//! fed by the generated code of the flow statement it is in, and the closed windows
//! turned into events for the rest of that statement.
//!
//! Time: with a `time` expression, an event's time is its value (Unix milliseconds or
//! RFC 3339); an event whose time is missing or does not parse is counted
//! (`invalid_times_total`) and dropped. Without one, it is the time the event arrives.
//!
//! Windows close when the watermark passes their end by `lateness`. The watermark is the
//! latest event time seen, but never ahead of the clock (an event from the future counts
//! in its window without closing everyone else's). When no newer event time comes, the
//! watermark moves on with the clock from the latest one, counting only the time the
//! source was not busy with a batch nor held back by a full channel (checked every
//! [`TICK`]): a window also closes when its input goes quiet, or when everything that
//! still comes is filtered out before the aggregate, while a backlog behind a full
//! channel does not turn late. At shutdown every open window is closed
//! as it stands. A crash (`kill -9`) loses the open windows: what they had absorbed is
//! never reported.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Absorbed, Aggregator, Closed, Input, Output, Spec};
use crate::event::{Batch, Event};
use crate::expr::Value;
use crate::metrics::TransformCounters;
use crate::pipeline;

/// How often open windows are checked against the clock.
pub const TICK: Duration = Duration::from_secs(1);

/// The headers of an output event that are not keys or values.
pub const WINDOW_START: &str = "window_start";
/// See [`WINDOW_START`].
pub const WINDOW_END: &str = "window_end";

/// One aggregate of a running agent.
pub struct Stage {
    name: &'static str,
    inner: Mutex<Inner>,
    /// Held by whoever takes closed windows out and sends them on outside a batch (the
    /// clock's ticks, the shutdown flush), so the flush waits for a tick's send.
    emitting: tokio::sync::Mutex<()>,
    event_time: bool,
    /// Per function: its result is JSON (`top_k`'s array), kept as JSON in the body.
    json_values: Vec<bool>,
    /// The output header of each group key, in `by` order.
    keys: Vec<&'static str>,
    /// The output header of each function, in `emit` order.
    values: Vec<&'static str>,
    counters: Arc<TransformCounters>,
}

struct Inner {
    aggregator: Aggregator,
    /// The latest event time seen.
    latest: Option<i64>,
    /// Batches of the source in flight: while one is, the source is not idle.
    busy: usize,
    /// When the current busy spell began.
    busy_since: Instant,
    /// Idle time counts from here: when `latest` last moved, pushed on by every busy
    /// spell since (and to now whenever the source is held back).
    idle_from: Instant,
    /// Set by [`Stage::flush`]: no event is taken after it.
    stopped: bool,
}

impl Stage {
    /// An aggregate computing `spec`; `event_time` tells whether events bring their own
    /// time. `keys` and `values` name the output headers.
    pub fn new(
        name: &'static str,
        spec: Spec,
        event_time: bool,
        keys: Vec<&'static str>,
        values: Vec<&'static str>,
        counters: Arc<TransformCounters>,
    ) -> Stage {
        let json_values = spec
            .functions
            .iter()
            .map(|f| matches!(f, super::Function::TopK(_)))
            .collect();
        Stage {
            name,
            inner: Mutex::new(Inner {
                aggregator: Aggregator::new(spec),
                latest: None,
                busy: 0,
                busy_since: Instant::now(),
                idle_from: Instant::now(),
                stopped: false,
            }),
            emitting: tokio::sync::Mutex::new(()),
            event_time,
            json_values,
            keys,
            values,
            counters,
        }
    }

    /// The transform's name in the flow.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Held while windows taken out by [`Stage::tick`] or [`Stage::flush`] are sent on.
    pub(crate) fn emitting(&self) -> &tokio::sync::Mutex<()> {
        &self.emitting
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the aggregator half-changed in a
        // way that matters more than losing it: go on with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks a batch of the owning source in flight until the guard drops: the
    /// generated `send` of a source whose flows reach this aggregate holds one, so the
    /// clock does not count a source held back by a full channel as idle.
    pub fn busy(&self) -> Busy<'_> {
        let mut inner = self.lock();
        if inner.busy == 0 {
            inner.busy_since = Instant::now();
        }
        inner.busy += 1;
        Busy(self)
    }

    /// The owning source is held back (a full channel refused it room): the time until
    /// now does not count as idle.
    pub fn hold(&self) {
        let mut inner = self.lock();
        let now = Instant::now();
        inner.idle_from = inner.idle_from.max(now);
        if inner.busy > 0 {
            inner.busy_since = now;
        }
    }

    /// Takes a batch's events: `Err(Closed)` once the aggregate was flushed at shutdown
    /// (the events are not taken, so the source does not acknowledge them).
    pub fn absorber(&self) -> Result<Absorber<'_>, pipeline::Closed> {
        let mut inner = self.lock();
        if inner.stopped {
            return Err(pipeline::Closed);
        }
        let now = crate::time::now_millis() as i64;
        inner.aggregator.set_ceiling(now);
        Ok(Absorber {
            stage: self,
            inner,
            now,
        })
    }

    /// The windows the clock has closed, as events.
    pub fn tick(&self) -> Batch {
        let mut inner = self.lock();
        let now = crate::time::now_millis() as i64;
        let watermark = if self.event_time {
            match inner.latest {
                // A batch in flight: not idle.
                _ if inner.busy > 0 => return Vec::new(),
                Some(time) => {
                    let idle = i64::try_from(inner.idle_from.elapsed().as_millis()).unwrap_or(0);
                    time.saturating_add(idle).min(now)
                }
                None => return Vec::new(),
            }
        } else {
            now
        };
        inner.aggregator.advance(watermark);
        let closed = inner.aggregator.close_due();
        self.report(&inner);
        drop(inner);
        self.events(closed)
    }

    /// Every open window, closed now as it stands; later batches are refused.
    pub fn flush(&self) -> Batch {
        let mut inner = self.lock();
        inner.stopped = true;
        let closed = inner.aggregator.flush();
        self.report(&inner);
        drop(inner);
        self.events(closed)
    }

    fn report(&self, inner: &Inner) {
        self.counters.open_groups.set(inner.aggregator.len() as u64);
    }

    fn events(&self, closed: Vec<Closed>) -> Batch {
        self.counters.emitted.add(closed.len() as u64);
        closed.into_iter().map(|c| self.event(c)).collect()
    }

    /// A closed (window, group) as an event: headers `window_start`, `window_end` (Unix
    /// ms), each key and each value (absent when `null`); the body the same as a JSON
    /// object, with the window's bounds in RFC 3339.
    fn event(&self, closed: Closed) -> Event {
        let mut body = serde_json::Map::new();
        body.insert(
            WINDOW_START.into(),
            crate::time::rfc3339(closed.start).into(),
        );
        body.insert(WINDOW_END.into(), crate::time::rfc3339(closed.end).into());
        let mut event = Event::new(Vec::new());
        event.headers.set(WINDOW_START, closed.start.to_string());
        event.headers.set(WINDOW_END, closed.end.to_string());
        for (header, key) in self.keys.iter().zip(closed.key) {
            body.insert((*header).into(), key.clone().into());
            event.headers.set(*header, key);
        }
        for ((header, value), is_json) in
            self.values.iter().zip(closed.values).zip(&self.json_values)
        {
            let (text, json) = match value {
                Output::Int(n) => (Some(n.to_string()), n.into()),
                Output::Number(x) => (
                    Some(number_text(x)),
                    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, Into::into),
                ),
                Output::Text(t) => {
                    // `top_k` reports a JSON array: keep it one in the body.
                    let json = is_json
                        .then(|| serde_json::from_str::<serde_json::Value>(&t).ok())
                        .flatten()
                        .unwrap_or_else(|| t.clone().into());
                    (Some(t), json)
                }
                Output::Null => (None, serde_json::Value::Null),
            };
            body.insert((*header).into(), json);
            if let Some(text) = text {
                event.headers.set(*header, text);
            }
        }
        event.body = serde_json::Value::Object(body)
            .to_string()
            .into_bytes()
            .into();
        event
    }
}

/// A float as the shortest decimal text that reads back as it (`0.1`, `1500`).
fn number_text(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else if x.is_nan() {
        "NaN".into()
    } else if x > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

/// A batch of the owning source in flight (see [`Stage::busy`]).
pub struct Busy<'a>(&'a Stage);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        inner.busy = inner.busy.saturating_sub(1);
        if inner.busy == 0 {
            // The spell does not count as idle.
            let spell = inner.busy_since.elapsed();
            inner.idle_from += spell;
        }
    }
}

/// Takes one batch's events into an aggregate, holding its lock; [`Absorber::finish`]
/// gives back the windows they closed.
pub struct Absorber<'a> {
    stage: &'a Stage,
    inner: MutexGuard<'a, Inner>,
    /// The batch's arrival time, Unix ms.
    now: i64,
}

impl Absorber<'_> {
    /// Adds one event of group `key` with one input per function. `time` is the value of
    /// the aggregate's `time` expression, `None` when it has none (arrival time).
    pub fn add(
        &mut self,
        time: Option<&Value<'_>>,
        key: Vec<String>,
        inputs: &[Option<Input<'_>>],
    ) {
        let counters = &self.stage.counters;
        let time = match time {
            None => self.now,
            Some(value) => match event_time(value) {
                Some(t) => t,
                None => {
                    counters.invalid_times.inc();
                    counters.dropped.inc();
                    return;
                }
            },
        };
        let invalid_before = self.inner.aggregator.invalid_inputs;
        let absorbed = self.inner.aggregator.absorb(time, key, inputs);
        counters
            .invalid_values
            .add(self.inner.aggregator.invalid_inputs - invalid_before);
        if matches!(absorbed, Absorbed::Accepted | Absorbed::Refused) {
            let watermark = self.inner.aggregator.watermark();
            if self.inner.latest != Some(watermark) {
                self.inner.latest = Some(watermark);
                // Idle time counts again from here.
                let now = Instant::now();
                self.inner.idle_from = now;
                self.inner.busy_since = now;
            }
        }
        match absorbed {
            Absorbed::Accepted => {}
            Absorbed::Late => {
                counters.late.inc();
                counters.dropped.inc();
            }
            Absorbed::Refused => {
                counters.refused.inc();
                counters.dropped.inc();
            }
            Absorbed::InvalidTime => {
                counters.invalid_times.inc();
                counters.dropped.inc();
            }
        }
    }

    /// The windows this batch closed, as events.
    pub fn finish(mut self) -> Batch {
        let closed = self.inner.aggregator.close_due();
        self.stage.report(&self.inner);
        drop(self.inner);
        self.stage.events(closed)
    }
}

/// An event time from an expression's value: Unix milliseconds (a number, or its
/// text, as `json_extract` writes a JSON number) or RFC 3339 text.
pub fn event_time(value: &Value<'_>) -> Option<i64> {
    let millis = |x: f64| (x.is_finite() && x.abs() < 9.0e15).then_some(x as i64);
    match value {
        Value::Int(n) => Some(*n),
        Value::Float(x) => millis(*x),
        Value::Str(text) => {
            let text = text.trim();
            crate::time::parse_time(text).or_else(|| {
                text.bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'e' | b'E' | b'+'))
                    .then(|| text.parse::<f64>().ok().and_then(millis))
                    .flatten()
            })
        }
        _ => None,
    }
}

/// What an aggregate function is given for a value: nothing for `null`.
pub fn input<'a>(value: &'a Value<'_>) -> Option<Input<'a>> {
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(Input::Text(if *b { "true" } else { "false" })),
        Value::Int(n) => Some(Input::Number(*n as f64)),
        Value::Float(x) => Some(Input::Number(*x)),
        Value::Str(text) => Some(Input::Text(text)),
    }
}

/// A group key's text: `null` (a missing header) groups as empty text.
/// Keys are cut to [`super::functions::MAX_VALUE`] bytes, like kept values.
pub fn key(value: Value<'_>) -> String {
    crate::expr::to_text(&value).map_or_else(String::new, |t| super::functions::cut(&t).to_owned())
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;

    use super::*;
    use crate::aggregate::{Function, Window};

    fn stage(event_time: bool, functions: Vec<Function>, values: Vec<&'static str>) -> Stage {
        Stage::new(
            "t",
            Spec {
                window: Window::Tumbling {
                    size: Duration::from_secs(60),
                },
                lateness: Duration::from_secs(10),
                functions,
                max_groups: 2,
            },
            event_time,
            vec!["host"],
            values,
            Arc::default(),
        )
    }

    fn text(s: &str) -> Value<'_> {
        Value::Str(Cow::Borrowed(s))
    }

    #[test]
    fn event_times_are_unix_ms_or_rfc3339_and_anything_else_is_none() {
        assert_eq!(event_time(&Value::Int(1_000)), Some(1_000));
        assert_eq!(event_time(&Value::Float(1_000.7)), Some(1_000));
        assert_eq!(
            event_time(&text(" 1709251198123 ")),
            Some(1_709_251_198_123)
        );
        assert_eq!(
            event_time(&text("2024-02-29T23:59:58.123Z")),
            Some(1_709_251_198_123)
        );
        assert_eq!(event_time(&text("-5")), Some(-5));
        assert_eq!(
            event_time(&text("1709251198123.0")),
            Some(1_709_251_198_123)
        );
        assert_eq!(event_time(&text("1.5e12")), Some(1_500_000_000_000));
        for bad in [
            text(""),
            text("e"),
            text("NaN"),
            text("12:00"),
            Value::Null,
            Value::Bool(true),
        ] {
            assert_eq!(event_time(&bad), None, "{bad:?}");
        }
        assert_eq!(event_time(&Value::Float(f64::NAN)), None);
        assert_eq!(event_time(&Value::Float(1e300)), None);
    }

    #[test]
    fn closed_windows_become_events_with_headers_and_a_json_body() {
        let s = stage(
            true,
            vec![Function::Count, Function::Min, Function::TopK(2)],
            vec!["n", "least", "top"],
        );
        let mut a = s.absorber().unwrap();
        a.add(
            Some(&Value::Int(0)),
            vec!["a".into()],
            &[None, None, input(&text("x"))],
        );
        a.add(
            Some(&Value::Int(1_000)),
            vec!["a".into()],
            &[None, input(&Value::Float(2.5)), input(&text("x"))],
        );
        // 70 s: the watermark passes the first window's end (60 s) by its lateness.
        a.add(
            Some(&Value::Int(70_000)),
            vec!["b".into()],
            &[None, None, None],
        );
        let events = a.finish();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.headers.get("window_start"), Some("0"));
        assert_eq!(e.headers.get("window_end"), Some("60000"));
        assert_eq!(e.headers.get("host"), Some("a"));
        assert_eq!(e.headers.get("n"), Some("2"));
        assert_eq!(e.headers.get("least"), Some("2.5"));
        let body: serde_json::Value = serde_json::from_slice(&e.body).unwrap();
        assert_eq!(body["window_start"], "1970-01-01T00:00:00.000Z");
        assert_eq!(body["window_end"], "1970-01-01T00:01:00.000Z");
        assert_eq!(body["n"], 2);
        assert_eq!(body["top"], serde_json::json!([["x", 2]]));
        // The second window has no `min` input: null in the body, no header.
        let rest = s.flush();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].headers.get("least"), None);
        let body: serde_json::Value = serde_json::from_slice(&rest[0].body).unwrap();
        assert_eq!(body["least"], serde_json::Value::Null);
        // Flushed: later batches are refused, not silently taken.
        assert!(s.absorber().is_err());
    }

    #[test]
    fn bad_times_late_events_and_full_states_are_counted_and_dropped() {
        let s = stage(true, vec![Function::Sum], vec!["sum"]);
        let mut a = s.absorber().unwrap();
        a.add(
            Some(&text("soon")),
            vec!["a".into()],
            &[input(&Value::Int(1))],
        );
        a.add(
            Some(&Value::Int(100_000)),
            vec!["a".into()],
            &[input(&text("x"))],
        );
        a.add(
            Some(&Value::Int(100_001)),
            vec!["b".into()],
            &[input(&Value::Int(1))],
        );
        // A third state would pass max_groups = 2.
        a.add(
            Some(&Value::Int(100_002)),
            vec!["c".into()],
            &[input(&Value::Int(1))],
        );
        // 0 s is late: its window ended 60 s + 10 s before the watermark.
        a.add(
            Some(&Value::Int(0)),
            vec!["a".into()],
            &[input(&Value::Int(1))],
        );
        drop(a.finish());
        let c = &s.counters;
        assert_eq!(c.invalid_times.get(), 1);
        assert_eq!(c.invalid_values.get(), 1);
        assert_eq!(c.refused.get(), 1);
        assert_eq!(c.late.get(), 1);
        assert_eq!(c.dropped.get(), 3);
        assert_eq!(c.open_groups.get(), 2);
    }

    #[test]
    fn arrival_time_windows_close_by_the_clock() {
        let s = stage(false, vec![Function::Count], vec!["n"]);
        let mut a = s.absorber().unwrap();
        a.add(None, vec![String::new()], &[None]);
        assert!(a.finish().is_empty());
        // Nothing closes before the window's end and lateness have passed.
        assert!(s.tick().is_empty());
        let mut inner = s.lock();
        let far = crate::time::now_millis() as i64 + 3_600_000;
        inner.aggregator.advance(far);
        drop(inner);
        assert_eq!(s.tick().len(), 1);
        assert_eq!(s.counters.emitted.get(), 1);
    }

    #[test]
    fn an_event_from_the_future_does_not_close_everyone_elses_windows() {
        let s = stage(true, vec![Function::Count], vec!["n"]);
        let now = crate::time::now_millis() as i64;
        let mut a = s.absorber().unwrap();
        // 5 s ago: its window has not ended, or ended less than its 10 s lateness ago.
        let recent = now - 5_000;
        a.add(
            Some(&Value::Int(now + 86_400_000)),
            vec!["skewed".into()],
            &[None],
        );
        a.add(Some(&Value::Int(now)), vec!["a".into()], &[None]);
        a.add(Some(&Value::Int(recent)), vec!["a".into()], &[None]);
        assert!(a.finish().is_empty());
        assert_eq!(s.counters.late.get(), 0);
        // The skewed window is still open and comes out at shutdown.
        assert!(s
            .flush()
            .iter()
            .any(|e| e.headers.get("host") == Some("skewed")));
    }

    #[test]
    fn the_clock_moves_event_time_on_only_while_the_source_is_idle() {
        let s = stage(true, vec![Function::Count], vec!["n"]);
        let mut a = s.absorber().unwrap();
        a.add(Some(&Value::Int(0)), vec!["a".into()], &[None]);
        assert!(a.finish().is_empty());
        let an_hour_ago = Instant::now().checked_sub(Duration::from_secs(3_600));
        let Some(an_hour_ago) = an_hour_ago else {
            return; // the machine has been up for less than an hour
        };
        {
            // A batch in flight for an hour (the source waits on a full channel): not
            // idle, and the hour does not count once it ends.
            let _busy = s.busy();
            let mut inner = s.lock();
            inner.idle_from = an_hour_ago;
            inner.busy_since = an_hour_ago;
            drop(inner);
            assert!(s.tick().is_empty());
        }
        assert!(s.tick().is_empty());
        // Held back outside a batch (a push source polling for room): not idle either.
        s.lock().idle_from = an_hour_ago;
        s.hold();
        assert!(s.tick().is_empty());
        // Batches that bring nothing to the aggregate (filtered out before it) do not
        // stop the clock: only their own short spells are not idle.
        s.lock().idle_from = an_hour_ago;
        drop(s.busy());
        assert_eq!(s.tick().len(), 1);
    }

    proptest! {
        /// Whatever text a header holds, as a time, key or input, nothing panics and
        /// every absorbed event is counted once: accepted, late, refused or bad time.
        #[test]
        fn any_header_text_is_taken_or_counted(
            records in prop::collection::vec((".{0,40}", ".{0,300}", ".{0,20}"), 0..40)
        ) {
            let s = stage(true, vec![Function::Count, Function::Sum, Function::Quantile(0.5),
                Function::CountDistinct, Function::TopK(3), Function::First], vec!["c", "s", "q", "d", "k", "f"]);
            let mut a = s.absorber().unwrap();
            for (time, group, value) in &records {
                let v = text(value);
                let inputs = [None, input(&v), input(&v), input(&v), input(&v), input(&v)];
                a.add(Some(&text(time)), vec![key(text(group))], &inputs);
            }
            let mut events = a.finish();
            events.extend(s.tick());
            events.extend(s.flush());
            let counted: u64 = events
                .iter()
                .map(|e| e.headers.get("c").and_then(|c| c.parse::<u64>().ok()).unwrap_or(0))
                .sum();
            let c = &s.counters;
            prop_assert_eq!(
                counted + c.late.get() + c.refused.get() + c.invalid_times.get(),
                records.len() as u64
            );
            for e in &events {
                prop_assert!(e.headers.get("host").is_some_and(|k| k.len() <= 256));
                prop_assert!(serde_json::from_slice::<serde_json::Value>(&e.body).is_ok());
            }
        }
    }
}
