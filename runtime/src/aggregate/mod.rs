//! Windowed aggregation, the state machine behind the `aggregate` transform (issue 17):
//! events are assigned to windows by their time and to groups by their keys, each
//! (window, group) keeps one state per function, and a window closes, giving one result
//! per group, once the watermark (the latest event time seen) passes its end by the
//! allowed lateness. Events for a closed window are late: counted and dropped.
//!
//! The compiler computes each event's time, group key and function inputs (compiled
//! expressions) and calls [`Aggregator::absorb`]; closed windows come back from
//! [`Aggregator::close_due`] (on every batch and timer tick) and
//! [`Aggregator::flush`] (at shutdown).

pub mod functions;
pub mod stage;
pub mod window;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

pub use functions::{Acc, Function, Input, Output};
pub use window::Window;

/// What an aggregate computes.
#[derive(Clone, Debug)]
pub struct Spec {
    pub window: Window,
    /// How long (in event time) a window stays open after its end for late events.
    pub lateness: Duration,
    /// The functions of `emit`, in order.
    pub functions: Vec<Function>,
    /// The most (window, group) states held at once; more are refused and counted.
    pub max_groups: usize,
}

/// What happened to an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absorbed {
    Accepted,
    /// Its windows had closed: dropped.
    Late,
    /// It would open a state past `max_groups`: dropped.
    Refused,
    /// Its time is outside years 1 to 9999: dropped, the watermark untouched.
    InvalidTime,
}

/// The earliest event time accepted: 0001-01-01T00:00:00Z, in ms.
pub const MIN_TIME: i64 = -62_135_596_800_000;
/// The latest: 9999-12-31T23:59:59.999Z.
pub const MAX_TIME: i64 = 253_402_300_799_999;

/// A closed window's result for one group.
#[derive(Clone, Debug, PartialEq)]
pub struct Closed {
    /// `[start, end)`, milliseconds since the epoch.
    pub start: i64,
    pub end: i64,
    /// The group's key values, in `by` order.
    pub key: Vec<String>,
    /// One result per function, in `emit` order.
    pub values: Vec<Output>,
}

/// Open states, ordered by window end so that closing takes from the front.
type Key = (i64, i64, Vec<String>);

/// The aggregation state of one `aggregate` transform.
#[derive(Debug)]
pub struct Aggregator {
    spec: Spec,
    open: BTreeMap<Key, Vec<Acc>>,
    /// Sessions only: each group's open sessions (start, end).
    sessions: HashMap<Vec<String>, Vec<window::Span>>,
    watermark: i64,
    /// The furthest an event may move the watermark (see [`Aggregator::set_ceiling`]).
    ceiling: i64,
    /// Inputs a function could not use (a non-numeric `sum`), for a counter.
    pub invalid_inputs: u64,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Aggregator {
    pub fn new(spec: Spec) -> Self {
        Aggregator {
            spec,
            open: BTreeMap::new(),
            sessions: HashMap::new(),
            watermark: i64::MIN,
            ceiling: i64::MAX,
            invalid_inputs: 0,
        }
    }

    /// (window, group) states held now.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Events later than `ceiling` still count in their windows but move the watermark
    /// only up to it: one event from the far future (a client whose clock is wrong)
    /// cannot close everyone else's windows. The agent sets it to the clock plus the
    /// lateness.
    pub fn set_ceiling(&mut self, ceiling: i64) {
        self.ceiling = ceiling;
    }

    /// The latest event time seen (or given to [`Aggregator::advance`]).
    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Approximate bytes held by the open states.
    pub fn memory(&self) -> usize {
        self.open
            .iter()
            .map(|((_, _, key), accs)| {
                64 + key.iter().map(|k| k.len() + 24).sum::<usize>()
                    + accs.iter().map(Acc::size).sum::<usize>()
            })
            .sum()
    }

    fn is_closed(&self, end: i64) -> bool {
        end.saturating_add(millis(self.spec.lateness)) <= self.watermark
    }

    /// Adds one event at `time` (ms) to group `key`; `inputs` has one entry per
    /// function. An event is late when every window it belongs to has closed (for a
    /// session: the session it would join or start).
    pub fn absorb(
        &mut self,
        time: i64,
        key: Vec<String>,
        inputs: &[Option<Input<'_>>],
    ) -> Absorbed {
        if !(MIN_TIME..=MAX_TIME).contains(&time) {
            return Absorbed::InvalidTime;
        }
        let watermark = self.watermark.max(time.min(self.ceiling));
        let lateness = millis(self.spec.lateness);
        let closed = |end: i64| end.saturating_add(lateness) <= watermark;
        let merges = self.spec.window.merges();
        let mut spans = self.spec.window.spans(time);
        if merges {
            spans = spans
                .into_iter()
                .map(|span| self.merged_span(&key, span).0)
                .collect();
        }
        spans.retain(|(_, end)| !closed(*end));
        self.watermark = watermark;
        if spans.is_empty() {
            return Absorbed::Late;
        }
        let new_states = if merges {
            spans
                .iter()
                .filter(|span| self.merged_span(&key, **span).1 == 0)
                .count()
        } else {
            spans
                .iter()
                .filter(|(start, end)| !self.open.contains_key(&(*end, *start, key.clone())))
                .count()
        };
        if self.open.len() + new_states > self.spec.max_groups {
            return Absorbed::Refused;
        }
        for span in spans {
            let (start, end) = if merges {
                self.join_sessions(&key, span)
            } else {
                span
            };
            let entry = self
                .open
                .entry((end, start, key.clone()))
                .or_insert_with(|| self.spec.functions.iter().map(Function::start).collect());
            for (acc, input) in entry.iter_mut().zip(inputs) {
                if !acc.add(time, *input) {
                    self.invalid_inputs += 1;
                }
            }
        }
        Absorbed::Accepted
    }

    /// The span a session `[start, end)` of group `key` would have after joining the
    /// group's open sessions it overlaps, and how many it overlaps.
    fn merged_span(&self, key: &[String], (start, end): window::Span) -> (window::Span, usize) {
        let overlapping: Vec<&window::Span> = self
            .sessions
            .get(key)
            .into_iter()
            .flatten()
            .filter(|(s, e)| *s < end && start < *e)
            .collect();
        let span = overlapping
            .iter()
            .fold((start, end), |(s, e), (os, oe)| (s.min(*os), e.max(*oe)));
        (span, overlapping.len())
    }

    /// Joins the group's open sessions that `span` overlaps (their states merged) into
    /// one; returns its span.
    fn join_sessions(&mut self, key: &[String], span: window::Span) -> window::Span {
        let (span, _) = self.merged_span(key, span);
        let sessions = self.sessions.entry(key.to_vec()).or_default();
        let (overlapping, rest): (Vec<window::Span>, Vec<window::Span>) = sessions
            .iter()
            .partition(|(s, e)| *s < span.1 && span.0 < *e);
        *sessions = rest;
        sessions.push(span);
        let mut merged: Option<Vec<Acc>> = None;
        for (s, e) in overlapping {
            if let Some(accs) = self.open.remove(&(e, s, key.to_vec())) {
                merged = Some(match merged {
                    None => accs,
                    Some(mut into) => {
                        for (a, b) in into.iter_mut().zip(accs) {
                            a.merge(b);
                        }
                        into
                    }
                });
            }
        }
        if let Some(accs) = merged {
            self.open.insert((span.1, span.0, key.to_vec()), accs);
        }
        span
    }

    /// Raises the watermark to `time` (processing time: the clock) without an event.
    pub fn advance(&mut self, time: i64) {
        self.watermark = self.watermark.max(time);
    }

    /// The windows the watermark has passed (by their lateness), oldest first.
    pub fn close_due(&mut self) -> Vec<Closed> {
        let mut closed = Vec::new();
        while let Some(((end, _, _), _)) = self.open.first_key_value() {
            if !self.is_closed(*end) {
                break;
            }
            let Some(((end, start, key), accs)) = self.open.pop_first() else {
                break;
            };
            closed.push(self.finish(start, end, key, &accs));
        }
        closed
    }

    /// Every open window, closed now (at shutdown).
    pub fn flush(&mut self) -> Vec<Closed> {
        let open = std::mem::take(&mut self.open);
        self.sessions.clear();
        open.into_iter()
            .map(|((end, start, key), accs)| self.finish(start, end, key, &accs))
            .collect()
    }

    fn finish(&mut self, start: i64, end: i64, key: Vec<String>, accs: &[Acc]) -> Closed {
        if self.spec.window.merges() {
            if let Some(sessions) = self.sessions.get_mut(&key) {
                sessions.retain(|span| *span != (start, end));
                if sessions.is_empty() {
                    self.sessions.remove(&key);
                }
            }
        }
        Closed {
            start,
            end,
            values: accs.iter().map(Acc::finish).collect(),
            key,
        }
    }
}

#[cfg(test)]
mod tests;
