//! The aggregator against a brute-force reference computed here independently: every
//! window of every group, with out-of-order and late events.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;

use super::*;

const EXACT: [Function; 7] = [
    Function::Count,
    Function::Sum,
    Function::Min,
    Function::Max,
    Function::Avg,
    Function::First,
    Function::Last,
];

fn spec(window: Window, lateness_ms: u64) -> Spec {
    Spec {
        window,
        lateness: Duration::from_millis(lateness_ms),
        functions: EXACT.to_vec(),
        max_groups: 1_000_000,
    }
}

fn inputs(value: f64) -> Vec<Option<Input<'static>>> {
    EXACT.iter().map(|_| Some(Input::Number(value))).collect()
}

/// Runs events (time, group, value) in arrival order; returns every closed window,
/// closing due ones after each event as an agent does after each batch.
fn run(spec: Spec, events: &[(i64, u8, i32)]) -> (Vec<Closed>, usize) {
    let mut agg = Aggregator::new(spec);
    let mut closed = Vec::new();
    let mut late = 0;
    for (t, g, v) in events {
        if agg.absorb(*t, vec![g.to_string()], &inputs(f64::from(*v))) == Absorbed::Late {
            late += 1;
        }
        closed.extend(agg.close_due());
    }
    closed.extend(agg.flush());
    closed.sort_by(|a, b| (a.start, &a.key).cmp(&(b.start, &b.key)));
    (closed, late)
}

/// The same computation, written the obvious way: decide lateness from the running
/// maximum, then group everything accepted.
fn reference(size: i64, lateness: i64, events: &[(i64, u8, i32)]) -> (Vec<Closed>, usize) {
    let mut watermark = i64::MIN;
    let mut groups: BTreeMap<(i64, String), Vec<(i64, f64)>> = BTreeMap::new();
    let mut late = 0;
    for (t, g, v) in events {
        watermark = watermark.max(*t);
        let start = t.div_euclid(size) * size;
        if start + size + lateness <= watermark {
            late += 1;
            continue;
        }
        groups
            .entry((start, g.to_string()))
            .or_default()
            .push((*t, f64::from(*v)));
    }
    let closed = groups
        .into_iter()
        .map(|((start, key), values)| {
            let nums: Vec<f64> = values.iter().map(|(_, v)| *v).collect();
            let sum: f64 = nums.iter().sum();
            let first = values
                .iter()
                .min_by_key(|(t, _)| *t)
                .map(|(_, v)| *v)
                .unwrap_or(0.0);
            // The last by time; among equal times, the last to arrive.
            let last = values
                .iter()
                .max_by_key(|(t, _)| *t)
                .map(|(_, v)| *v)
                .unwrap_or(0.0);
            Closed {
                start,
                end: start + size,
                key: vec![key],
                values: vec![
                    Output::Int(nums.len() as u64),
                    Output::Number(sum),
                    Output::Number(nums.iter().copied().fold(f64::INFINITY, f64::min)),
                    Output::Number(nums.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
                    Output::Number(sum / nums.len() as f64),
                    Output::Text(functions::format_number(first)),
                    Output::Text(functions::format_number(last)),
                ],
            }
        })
        .collect();
    (closed, late)
}

proptest! {
    #[test]
    fn tumbling_windows_match_the_reference(
        events in prop::collection::vec((0i64..10_000, 0u8..4, -100i32..100), 0..200),
        size in 100i64..3_000,
        lateness in 0i64..2_000,
    ) {
        let window = Window::Tumbling { size: Duration::from_millis(size as u64) };
        let (got, got_late) = run(spec(window, lateness as u64), &events);
        let (want, want_late) = reference(size, lateness, &events);
        prop_assert_eq!(got_late, want_late);
        prop_assert_eq!(got, want);
    }
}

#[test]
fn a_window_closes_when_the_watermark_passes_its_end_and_late_events_are_dropped() {
    let window = Window::Tumbling {
        size: Duration::from_secs(60),
    };
    let mut agg = Aggregator::new(spec(window, 10_000));
    let key = || vec!["web".to_string()];
    assert_eq!(agg.absorb(1_000, key(), &inputs(1.0)), Absorbed::Accepted);
    assert_eq!(agg.absorb(59_000, key(), &inputs(2.0)), Absorbed::Accepted);
    assert_eq!(agg.absorb(65_000, key(), &inputs(3.0)), Absorbed::Accepted);
    assert!(agg.close_due().is_empty(), "within lateness: still open");
    // Out of order but within lateness: still counted in the first window.
    assert_eq!(agg.absorb(30_000, key(), &inputs(4.0)), Absorbed::Accepted);
    assert_eq!(agg.absorb(70_000, key(), &inputs(5.0)), Absorbed::Accepted);
    let closed = agg.close_due();
    assert_eq!(closed.len(), 1);
    assert_eq!((closed[0].start, closed[0].end), (0, 60_000));
    assert_eq!(closed[0].values[0], Output::Int(3));
    assert_eq!(closed[0].values[1], Output::Number(7.0));
    assert_eq!(agg.absorb(2_000, key(), &inputs(9.0)), Absorbed::Late);
    let rest = agg.flush();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].values[0], Output::Int(2));
}

#[test]
fn hopping_windows_count_each_event_in_every_window_it_falls_in() {
    let window = Window::Hopping {
        size: Duration::from_millis(300),
        every: Duration::from_millis(100),
    };
    let events: Vec<(i64, u8, i32)> = (0..10).map(|i| (i * 50, 0, 1)).collect();
    let (closed, late) = run(spec(window, 0), &events);
    assert_eq!(late, 0);
    let counts: Vec<(i64, Output)> = closed
        .iter()
        .map(|c| (c.start, c.values[0].clone()))
        .collect();
    // Events at 0, 50, ..., 450; window [s, s+300) holds those in it.
    for (start, count) in counts {
        let want = (0..10)
            .filter(|i| (start..start + 300).contains(&(i * 50)))
            .count() as u64;
        assert_eq!(count, Output::Int(want), "window starting {start}");
    }
}

#[test]
fn sessions_grow_while_events_come_closer_than_the_gap_and_join_when_they_bridge() {
    let window = Window::Session {
        gap: Duration::from_millis(100),
    };
    // Lateness keeps the out-of-order events below acceptable.
    let mut agg = Aggregator::new(spec(window, 1_000));
    let key = || vec!["u1".to_string()];
    agg.absorb(0, key(), &inputs(1.0));
    agg.absorb(250, key(), &inputs(1.0)); // a second session
                                          // Out of order: [150, 250) only touches [250, 350), which is not closer than the gap.
    agg.absorb(150, key(), &inputs(1.0));
    assert_eq!(agg.len(), 3);
    agg.absorb(90, key(), &inputs(1.0)); // [90, 190) overlaps [0, 100) and [150, 250)
    assert_eq!(agg.len(), 2);
    let closed = agg.flush();
    let spans: Vec<(i64, i64, Output)> = closed
        .iter()
        .map(|c| (c.start, c.end, c.values[0].clone()))
        .collect();
    assert_eq!(
        spans,
        [(0, 250, Output::Int(3)), (250, 350, Output::Int(1))]
    );
}

#[test]
fn max_groups_refuses_new_states_and_memory_is_measured() {
    let window = Window::Tumbling {
        size: Duration::from_secs(60),
    };
    let mut spec = spec(window, 0);
    spec.max_groups = 2;
    let mut agg = Aggregator::new(spec);
    assert_eq!(
        agg.absorb(0, vec!["a".into()], &inputs(1.0)),
        Absorbed::Accepted
    );
    assert_eq!(
        agg.absorb(0, vec!["b".into()], &inputs(1.0)),
        Absorbed::Accepted
    );
    assert_eq!(
        agg.absorb(0, vec!["c".into()], &inputs(1.0)),
        Absorbed::Refused
    );
    assert_eq!(
        agg.absorb(0, vec!["a".into()], &inputs(1.0)),
        Absorbed::Accepted
    );
    assert!(agg.memory() > 0);
    let mut sum = Aggregator::new(Spec {
        window,
        lateness: Duration::ZERO,
        functions: vec![Function::Sum],
        max_groups: 10,
    });
    sum.absorb(0, vec![], &[Some(Input::Text("not a number"))]);
    assert_eq!(sum.invalid_inputs, 1);
}

#[test]
fn an_event_inside_an_open_session_is_not_late_even_when_its_own_gap_has_passed() {
    let window = Window::Session {
        gap: Duration::from_millis(100),
    };
    let mut agg = Aggregator::new(spec(window, 0));
    let a = || vec!["a".to_string()];
    agg.absorb(0, a(), &inputs(1.0));
    agg.absorb(90, a(), &inputs(1.0)); // session [0, 190)
    agg.absorb(150, vec!["b".into()], &inputs(1.0)); // watermark 150
                                                     // [40, 140) alone would be closed, but it joins [0, 190), which is open.
    assert_eq!(agg.absorb(40, a(), &inputs(1.0)), Absorbed::Accepted);
    let closed = agg.flush();
    let of_a = closed.iter().find(|c| c.key == a()).unwrap();
    assert_eq!(
        (of_a.start, of_a.end, &of_a.values[0]),
        (0, 190, &Output::Int(3))
    );
}

#[test]
fn refusals_and_bad_times_change_nothing() {
    let window = Window::Session {
        gap: Duration::from_millis(100),
    };
    let mut spec = spec(window, 0);
    spec.max_groups = 1;
    let mut agg = Aggregator::new(spec);
    agg.absorb(0, vec!["a".into()], &inputs(1.0));
    for i in 0..100 {
        assert_eq!(
            agg.absorb(0, vec![format!("k{i}")], &inputs(1.0)),
            Absorbed::Refused
        );
    }
    assert_eq!(agg.sessions.len(), 1, "refused keys leave nothing behind");
    assert_eq!(
        agg.absorb(i64::MAX, vec!["a".into()], &inputs(1.0)),
        Absorbed::InvalidTime
    );
    assert_eq!(
        agg.absorb(i64::MIN, vec!["a".into()], &inputs(1.0)),
        Absorbed::InvalidTime
    );
    assert_eq!(agg.watermark(), 0, "a bad time does not move the watermark");

    // A hopping event that would pass max_groups in its later windows opens none.
    let window = Window::Hopping {
        size: Duration::from_millis(300),
        every: Duration::from_millis(100),
    };
    let mut spec = self::spec(window, 0);
    spec.max_groups = 2;
    let mut agg = Aggregator::new(spec);
    assert_eq!(
        agg.absorb(250, vec!["a".into()], &inputs(1.0)),
        Absorbed::Refused
    );
    assert!(agg.is_empty());
}
