//! The `aggregate` transform fed arbitrary header text: each input line is
//! `time<TAB>key<TAB>value`, taken as an event time (Unix ms or RFC 3339), a group key
//! and every function's input. No text makes absorbing, closing or encoding the windows
//! as events panic, and every body is JSON.
#![no_main]

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use sluice_runtime::aggregate::stage::{input, key, Stage};
use sluice_runtime::aggregate::{Function, Spec, Window};
use sluice_runtime::expr::Value;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let window = match data.first().map(|b| b % 3) {
        Some(0) => Window::Tumbling { size: Duration::from_secs(60) },
        Some(1) => Window::Hopping { size: Duration::from_secs(60), every: Duration::from_secs(7) },
        _ => Window::Session { gap: Duration::from_secs(30) },
    };
    let functions = vec![
        Function::Count,
        Function::Sum,
        Function::Min,
        Function::Avg,
        Function::Quantile(0.9),
        Function::CountDistinct,
        Function::TopK(3),
        Function::First,
        Function::Last,
    ];
    let names = vec!["c", "s", "m", "a", "q", "d", "k", "f", "l"];
    let stage = Stage::new(
        "fuzz",
        Spec { window, lateness: Duration::from_secs(5), functions, max_groups: 64 },
        true,
        vec!["key"],
        names,
        Arc::default(),
    );
    let Ok(mut absorber) = stage.absorber() else { return };
    for line in text.lines() {
        let mut parts = line.splitn(3, '\t');
        let time = Value::Str(Cow::Borrowed(parts.next().unwrap_or("")));
        let group = key(Value::Str(Cow::Borrowed(parts.next().unwrap_or(""))));
        let value = Value::Str(Cow::Borrowed(parts.next().unwrap_or("")));
        let inputs = [None, input(&value), input(&value), input(&value), input(&value),
            input(&value), input(&value), input(&value), input(&value)];
        absorber.add(Some(&time), vec![group], &inputs);
    }
    let mut events = absorber.finish();
    events.extend(stage.tick());
    events.extend(stage.flush());
    for event in &events {
        assert!(serde_json::from_slice::<serde_json::Value>(&event.body).is_ok());
    }
});
