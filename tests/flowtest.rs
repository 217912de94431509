//! `sluice test`: the example flows' tests pass; a failing expectation is reported at
//! its span with the event; and the in-process interpreter agrees with a compiled agent
//! on the same input, for every expression function and built-in transform.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sluice_compiler::flowtest::{self, interp};
use sluice_compiler::{check, ir, Code, SourceFile};

fn load(path: &Path) -> SourceFile {
    let text = std::fs::read_to_string(path).unwrap();
    SourceFile::new(path.display().to_string(), text).with_dir(path.parent().unwrap())
}

#[test]
fn every_example_flow_carries_tests_and_they_pass() {
    let dir = support::workspace().join("flows");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "flow"))
        .collect();
    files.sort();
    let started = Instant::now();
    let mut total = 0;
    for path in &files {
        let report = flowtest::run(&load(path));
        assert!(
            report.problems.is_empty(),
            "{}: {:#?}",
            path.display(),
            report.problems
        );
        assert!(
            !report.outcomes.is_empty(),
            "{} has no tests",
            path.display()
        );
        for o in &report.outcomes {
            assert!(
                o.passed(),
                "{}: test {:?} failed: {:#?}",
                path.display(),
                o.name,
                o.failures
            );
        }
        total += report.outcomes.len();
    }
    eprintln!(
        "{total} tests in {} example flows ran in {:.0} ms",
        files.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
}

#[test]
fn a_failing_expectation_is_reported_at_its_span_with_the_event() {
    let text = r#"
source s = seq
transform mark = set {
    headers = { big = int(body) > 5 }
}
channel c = memory
sink out = null
flow s | mark -> c
flow c -> out

test "wrong on purpose" {
    send = { s = ["3", "9"] }
    expect = {
        out = { all = .big == "true", count = 2 }
    }
}
"#;
    let source = SourceFile::new("t.flow", text.to_owned());
    let report = flowtest::run(&source);
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    let failures = &report.outcomes[0].failures;
    assert_eq!(failures.len(), 1, "{failures:#?}");
    let f = &failures[0];
    assert_eq!(f.code, Code::TestFailed);
    assert_eq!(&text[f.span.start..f.span.end], r#"all = .big == "true""#);
    assert!(
        f.message.contains("1 of 2 events at `out`"),
        "{}",
        f.message
    );
    let help = f.help.as_deref().unwrap_or("");
    assert!(
        help.contains(r#"event 1: body "3""#) && help.contains(r#"big="false""#),
        "{help}"
    );
}

#[test]
fn aggregates_are_flushed_and_tested_like_any_output() {
    let text = r#"
source s = seq
transform per_host = aggregate {
    window = tumbling(1m)
    time = .ts
    by = [.host]
    emit = { n = count(), total = sum(int(body)) }
}
channel c = memory
sink out = null
flow s | per_host -> c
flow c -> out

test "one window per host" {
    send = {
        s = [
            { body = "1", headers = { ts = 60000, host = "a" } }
            { body = "2", headers = { ts = 61000, host = "a" } }
            { body = "5", headers = { ts = 62000, host = "b" } }
        ]
    }
    expect = {
        c = {
            count = 2
            any = .host == "a" && .n == "2" && .total == "3" && .window_start == "60000"
            any = .host == "b" && .n == "1" && .total == "5"
        }
    }
}
"#;
    let report = flowtest::run(&SourceFile::new("agg.flow", text.to_owned()));
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert!(
        report.outcomes[0].passed(),
        "{:#?}",
        report.outcomes[0].failures
    );
}

/// Deterministic inputs covering numbers, non-numbers, missing fields, unicode, the
/// patterns of the flow's regexes, and plain text.
fn agreement_inputs() -> Vec<String> {
    let words = [
        "alpha",
        "Zed",
        " spaced ",
        "ünïcödé",
        "",
        "quiz",
        "a\\\"q",
        "x",
    ];
    let levels = ["error", "fatal", "warn", "info", "skip", ""];
    let numbers = [
        "0",
        "7",
        "10",
        "-12",
        "50",
        "55",
        "9999999999",
        "abc",
        "4.5",
        "",
    ];
    let floats = ["1.5", "-0.25", "3", "nan?", "", "1e3"];
    let mut lines = Vec::new();
    let mut seed: u64 = 0x5eed;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    for i in 0..1500 {
        let line = match i % 5 {
            0..=2 => {
                let mut fields = Vec::new();
                let n = numbers[next(numbers.len())];
                if !n.is_empty() {
                    fields.push(if n.parse::<i64>().is_ok() {
                        format!("\"n\":{n}")
                    } else {
                        format!("\"n\":\"{n}\"")
                    });
                }
                let w = words[next(words.len())];
                if next(4) > 0 {
                    fields.push(format!("\"word\":\"{w}\""));
                }
                let l = levels[next(levels.len())];
                if !l.is_empty() {
                    fields.push(format!("\"level\":\"{l}\""));
                }
                let x = floats[next(floats.len())];
                if !x.is_empty() {
                    fields.push(format!("\"x\":\"{x}\""));
                }
                format!("{{{}}}", fields.join(","))
            }
            3 => format!(
                "{} {} secret=s{} tail{}",
                words[next(words.len())].trim(),
                next(1000),
                next(99),
                i
            ),
            _ => match next(4) {
                0 => "drop-me please".to_owned(),
                1 => format!("plain line {i} with a and x"),
                2 => "{not json".to_owned(),
                _ => "a".repeat(next(500) + 1),
            },
        };
        lines.push(line);
    }
    lines
}

/// The JSON lines a `file_roll` sink with `format = json` wrote, as (headers, body).
fn written(dir: &Path) -> Vec<(Vec<(String, String)>, String)> {
    support::output_lines(dir)
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let mut headers: Vec<(String, String)> = v["headers"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            headers.sort();
            (headers, v["body"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn the_interpreter_and_a_compiled_agent_agree() {
    let inputs = agreement_inputs();
    // In process.
    let path = support::workspace().join("tests/e2e/agree.flow");
    let source = load(&path);
    let checked = check(&source);
    let flow = ir::lower(&source, &checked).expect("agree.flow lowers");
    let mut interp = interp::Interpreter::new(&flow).unwrap();
    let events: Vec<_> = inputs
        .iter()
        .map(|l| sluice_runtime::event::Event::new(l.clone().into_bytes()))
        .collect();
    interp.send(&interp::Entry::Source("input".into()), &events);
    let interpreted = |channel: &str| -> Vec<(Vec<(String, String)>, String)> {
        interp
            .delivered
            .get(channel)
            .into_iter()
            .flatten()
            .map(|e| {
                let mut headers: Vec<(String, String)> = e
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                headers.sort();
                (headers, e.body_text().into_owned())
            })
            .collect()
    };
    // As an agent.
    let agent = support::build_agent("tests/e2e/agree.flow");
    let dir = support::temp_dir("agree");
    let (errors, others) = (dir.join("errors"), dir.join("others"));
    std::fs::create_dir_all(&errors).unwrap();
    std::fs::create_dir_all(&others).unwrap();
    let mut child = support::Running(
        Command::new(&agent)
            .env("AGREE_ERRORS", &errors)
            .env("AGREE_OTHERS", &others)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    {
        let mut stdin = child.stdin.take().unwrap();
        for line in &inputs {
            writeln!(stdin, "{line}").unwrap();
        }
    }
    let status = support::wait(&mut child, Duration::from_secs(60));
    assert!(status.success(), "{status}");
    for (channel, dir) in [("errors", &errors), ("others", &others)] {
        let from_agent = written(dir);
        let in_process = interpreted(channel);
        assert!(
            from_agent.len() > 50,
            "{channel}: only {} events",
            from_agent.len()
        );
        assert_eq!(
            from_agent.len(),
            in_process.len(),
            "{channel}: counts differ"
        );
        for (i, (a, b)) in from_agent.iter().zip(&in_process).enumerate() {
            assert_eq!(
                a, b,
                "{channel}: event {i} differs (agent, then interpreter)"
            );
        }
    }
}

/// Values from `env(...)` (defaults here) in flags, lists and maps are read as an agent
/// reads them; header values keep the text written.
#[test]
fn env_values_and_written_numbers_are_read_as_the_agent_reads_them() {
    let text = r#"
source s = seq
transform keep_old = static {
    key = "k"
    value = "new"
    preserve = env("SLUICE_FLOWTEST_UNSET_PRESERVE", "true")
}
transform split = regex_extractor {
    regex = r"^(\w+) (\w+) (\w+)$"
    names = ["a", env("SLUICE_FLOWTEST_UNSET_NAME", "b"), "c"]
}
channel c = memory
sink out = null
flow s | keep_old | split -> c
flow c -> out

test "env defaults apply" {
    send = { s = [{ body = "one two three", headers = { k = "old", n = -3, v = 1.10 } }] }
    expect = {
        out = {
            count = 1
            all = .k == "old" && .a == "one" && .b == "two" && .c == "three" && .n == "-3" && .v == "1.10"
        }
    }
}
"#;
    let report = flowtest::run(&SourceFile::new("env.flow", text.to_owned()));
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert!(
        report.outcomes[0].passed(),
        "{:#?}",
        report.outcomes[0].failures
    );
}

/// Mistakes a test cannot be trusted with are refused: a condition that is not a
/// condition, an expectation on a sink that competes for its channel's events.
#[test]
fn untrustworthy_expectations_are_refused() {
    let text = r#"
source s = seq
channel c = memory
sink a = null
sink b = null
flow s -> c
flow c -> a
flow c -> b

test "not a condition" {
    send = { s = ["x"] }
    expect = { c = { none = .error } }
}

test "competing sinks" {
    send = { s = ["x"] }
    expect = { a = { count = 1 } }
}
"#;
    let report = flowtest::run(&SourceFile::new("bad.flow", text.to_owned()));
    let codes: Vec<Code> = report.problems.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [Code::ExprType, Code::WrongRole],
        "{:#?}",
        report.problems
    );
    assert!(report.problems[1]
        .message
        .contains("shares channel `c` with `b`"));
    assert!(report.outcomes.is_empty(), "tests with mistakes do not run");
}
