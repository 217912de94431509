//! The `aggregate` transform as it runs in an agent: the [`Aggregator`] behind a lock,
//! fed by the generated code of the flow statement it is in, and the closed windows
//! turned into events for the rest of that statement.
//!
//! Time: with a `time` expression, an event's time is its value (Unix milliseconds or
//! RFC 3339); an event whose time is missing or does not parse is counted
//! (`invalid_times_total`) and dropped. Without one, it is the time the event arrives.
//!
//! Windows close when the watermark passes their end by `lateness`. The watermark is the
//! latest event time seen; when no newer one comes, it moves on with the clock from
//! there (checked every [`TICK`]), so a window also closes when its input goes quiet.
//! At shutdown every open window is closed as it stands. A crash (`kill -9`) loses the
//! open windows: what they had absorbed is never reported.

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
    event_time: bool,
    /// The output header of each group key, in `by` order.
    keys: Vec<&'static str>,
    /// The output header of each function, in `emit` order.
    values: Vec<&'static str>,
    counters: Arc<TransformCounters>,
}

struct Inner {
    aggregator: Aggregator,
    /// The latest event time seen, and when it was seen.
    latest: Option<(i64, Instant)>,
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
        Stage {
            name,
            inner: Mutex::new(Inner {
                aggregator: Aggregator::new(spec),
                latest: None,
                stopped: false,
            }),
            event_time,
            keys,
            values,
            counters,
        }
    }

    /// The transform's name in the flow.
    pub fn name(&self) -> &'static str {
        self.name
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the aggregator half-changed in a
        // way that matters more than losing it: go on with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a batch's events: `Err(Closed)` once the aggregate was flushed at shutdown
    /// (the events are not taken, so the source does not acknowledge them).
    pub fn absorber(&self) -> Result<Absorber<'_>, pipeline::Closed> {
        let inner = self.lock();
        if inner.stopped {
            return Err(pipeline::Closed);
        }
        Ok(Absorber {
            stage: self,
            inner,
            now: crate::time::now_millis() as i64,
        })
    }

    /// The windows the clock has closed, as events.
    pub fn tick(&self) -> Batch {
        let mut inner = self.lock();
        let now = crate::time::now_millis() as i64;
        let watermark = if self.event_time {
            match inner.latest {
                Some((time, seen)) => {
                    time.saturating_add(i64::try_from(seen.elapsed().as_millis()).unwrap_or(0))
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
        for (header, value) in self.values.iter().zip(closed.values) {
            let (text, json) = match value {
                Output::Int(n) => (Some(n.to_string()), n.into()),
                Output::Number(x) => (
                    Some(number_text(x)),
                    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, Into::into),
                ),
                Output::Text(t) => {
                    // `top_k` reports a JSON array: keep it one in the body.
                    let json = serde_json::from_str::<serde_json::Value>(&t)
                        .ok()
                        .filter(serde_json::Value::is_array)
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

/// A float as the shortest text that reads back as it (`0.1`, `1500`, `1e300`).
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
        match absorbed {
            Absorbed::Accepted => {
                if self.inner.latest.is_none_or(|(latest, _)| time > latest) {
                    self.inner.latest = Some((time, Instant::now()));
                }
            }
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

/// An event time from an expression's value: Unix milliseconds (a number, or text of
/// digits) or RFC 3339 text.
pub fn event_time(value: &Value<'_>) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        Value::Float(x) if x.is_finite() && x.abs() < 9.0e15 => Some(*x as i64),
        Value::Str(text) => crate::time::parse_time(text.trim()),
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
