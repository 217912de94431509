//! The `aggregate` transform in a real agent: JSON access records with known event
//! times (out of order, late, with missing times and values that are not numbers) go
//! through `tests/e2e/aggregate.flow`, and every window it reports is compared with the
//! same computation done independently in Python (`tests/aggregate/reference.py`):
//! exact for count, sum, min, max, avg, first and last and the top paths' counts, within
//! the documented error for the quantile (1%) and the distinct count (5%, four standard
//! errors).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod support;

use serde_json::Value;
use support::*;

/// 2024-03-01T00:00:00Z.
const START: i64 = 1_709_251_200_000;
const HOSTS: [&str; 3] = ["web-1", "web-2", "web-3"];
const PATHS: [&str; 6] = ["/", "/cart", "/login", "/search", "/item/7", "/checkout"];

/// Deterministic pseudo-random numbers (a 64-bit LCG), so the input is the same on
/// every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// About ten minutes of event time, 6,000 records: times move forward with up to 5 s
/// of jitter (out of order, within the 30 s lateness); every 300th record is five
/// minutes old (late); a few have no time or a time that does not parse, and some
/// `bytes` are `-`. Times are written as Unix ms or RFC 3339, alternately.
fn input() -> String {
    let mut rng = Lcg(17);
    let mut out = String::new();
    for i in 0..6_000i64 {
        let base = START + i * 100;
        let mut t = base - rng.next(5_000) as i64;
        if i % 300 == 299 {
            t = base - 300_000;
        }
        let ts = match i % 997 {
            13 => Value::Null,
            14 => Value::from("last tuesday"),
            _ if i % 2 == 0 => Value::from(t),
            _ => Value::from(rfc3339(t)),
        };
        let bytes = if i % 101 == 0 {
            Value::from("-")
        } else {
            Value::from(rng.next(20_000))
        };
        let record = serde_json::json!({
            "ts": ts,
            "host": HOSTS[rng.next(3) as usize],
            "bytes": bytes,
            "ms": (rng.next(100_000) as f64) / 10.0 + 0.5,
            "user": format!("u{}", rng.next(400)),
            "path": PATHS[(rng.next(6) * rng.next(6) / 5) as usize],
        });
        out.push_str(&record.to_string());
        out.push('\n');
    }
    out
}

fn rfc3339(ms: i64) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{}", ms / 1000), "+%Y-%m-%dT%H:%M:%S"])
        .output()
        .unwrap();
    format!(
        "{}.{:03}Z",
        String::from_utf8(out.stdout).unwrap().trim(),
        ms % 1000
    )
}

/// The windows the agent wrote, by (start, host): each the JSON body of an event.
fn windows(dir: &Path) -> BTreeMap<(i64, String), Value> {
    let mut found = BTreeMap::new();
    for line in output_lines(dir) {
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue; // a line still being written
        };
        let body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
        let headers = &event["headers"];
        let start: i64 = headers["window_start"].as_str().unwrap().parse().unwrap();
        let host = headers["host"].as_str().unwrap_or("").to_owned();
        assert!(
            found.insert((start, host.clone()), body).is_none(),
            "window {start} of {host} reported twice"
        );
    }
    found
}

fn reference(input: &Path) -> Value {
    let out = Command::new("python3")
        .arg(workspace().join("tests/aggregate/reference.py"))
        .arg(input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(got: &Value, want: &Value, relative: f64, what: &str) {
    let (got, want) = (got.as_f64().unwrap(), want.as_f64().unwrap());
    assert!(
        (got - want).abs() <= relative * want.abs() + 1e-9,
        "{what}: {got} is not within {relative} of {want}"
    );
}

/// One window as the agent reported it, against the reference's.
fn compare(got: &Value, want: &Value) {
    let what = format!("window {} of {}", want["window_start"], want["host"]);
    assert_eq!(got["host"], want["host"], "{what}");
    for exact in ["requests", "bytes", "fastest", "slowest"] {
        close(&got[exact], &want[exact], 0.0, &format!("{what}: {exact}"));
    }
    close(
        &got["mean_ms"],
        &want["mean_ms"],
        1e-12,
        &format!("{what}: mean_ms"),
    );
    close(
        &got["p90_ms"],
        &want["p90_ms"],
        0.01,
        &format!("{what}: p90_ms"),
    );
    close(
        &got["users"],
        &want["users"],
        0.05,
        &format!("{what}: users"),
    );
    assert_eq!(got["first_path"], want["first_path"], "{what}: first_path");
    assert_eq!(got["last_path"], want["last_path"], "{what}: last_path");
    // top_k(.path, 3): each value with its true count, and the three largest counts.
    let counts = want["path_counts"].as_object().unwrap();
    let top = got["top_paths"].as_array().unwrap();
    for pair in top {
        let (path, count) = (pair[0].as_str().unwrap(), pair[1].as_u64().unwrap());
        assert_eq!(
            counts[path].as_u64(),
            Some(count),
            "{what}: count of {path}"
        );
    }
    let mut largest: Vec<u64> = counts.values().map(|c| c.as_u64().unwrap()).collect();
    largest.sort_unstable_by(|a, b| b.cmp(a));
    largest.truncate(3);
    let reported: Vec<u64> = top.iter().map(|p| p[1].as_u64().unwrap()).collect();
    assert_eq!(reported, largest, "{what}: top paths");
    // The window's bounds, in RFC 3339.
    let start = want["window_start"].as_i64().unwrap();
    assert_eq!(got["window_start"], rfc3339(start).as_str(), "{what}");
    assert_eq!(
        got["window_end"],
        rfc3339(start + 60_000).as_str(),
        "{what}"
    );
}

/// One run of `tests/e2e/aggregate.flow` over the generated input: the agent, its
/// directories, and the reference's windows by (start, host).
struct Run {
    agent: std::path::PathBuf,
    dir: std::path::PathBuf,
    input_file: std::path::PathBuf,
    want: Value,
    windows_dir: std::path::PathBuf,
}

impl Run {
    fn new(name: &str) -> Run {
        let agent = build_agent("tests/e2e/aggregate.flow");
        let dir = temp_dir(name);
        let input_file = dir.join("access.jsonl");
        std::fs::write(&input_file, input()).unwrap();
        let want = reference(&input_file);
        let windows_dir = dir.join("windows");
        for d in ["windows", "totals", "raw"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        Run {
            agent,
            dir,
            input_file,
            want,
            windows_dir,
        }
    }

    fn expected(&self) -> BTreeMap<(i64, String), &Value> {
        self.want["windows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                let key = (
                    w["window_start"].as_i64().unwrap(),
                    w["host"].as_str().unwrap().to_owned(),
                );
                (key, w)
            })
            .collect()
    }

    /// How many windows close before the input ends: all but the last minute's.
    fn closed_early(&self) -> (usize, i64) {
        let expected = self.expected();
        let last_start = expected.keys().map(|(s, _)| *s).max().unwrap();
        let count = expected.keys().filter(|(s, _)| *s < last_start).count();
        (count, last_start)
    }

    /// Starts the agent: it reads the input, then waits a minute for more.
    fn start(&self, extra_args: &[&str]) -> Running {
        Command::new(&self.agent)
            .env(
                "CMD",
                format!("cat {}; sleep 60", self.input_file.display()),
            )
            .env("WINDOWS_DIR", &self.windows_dir)
            .env("TOTALS_DIR", self.dir.join("totals"))
            .env("RAW_DIR", self.dir.join("raw"))
            .args(extra_args)
            .stderr(Stdio::null())
            .spawn()
            .map(Running)
            .unwrap()
    }
}

#[test]
fn windows_match_an_independent_computation_and_open_ones_close_at_shutdown() {
    let run = Run::new("aggregate");
    let (want, expected) = (&run.want, run.expected());
    let (closed_early, last_start) = run.closed_early();
    let (windows_dir, totals_dir, raw_dir) = (
        &run.windows_dir,
        run.dir.join("totals"),
        run.dir.join("raw"),
    );
    let metrics_port = free_port();
    let mut child = run.start(&["--metrics-addr", &format!("127.0.0.1:{metrics_port}")]);
    // Every window but the last minute's closes as later event times arrive.
    wait_until(Duration::from_secs(60), || {
        windows(windows_dir).len() >= closed_early
    });
    let early = windows(windows_dir);
    assert!(
        early.keys().all(|(s, _)| *s < last_start),
        "the last minute closed before its time"
    );
    let metric = |name: &str| {
        support::metric(
            metrics_port,
            &format!("sluice_transform_{name}{{component=\"per_minute\""),
        )
    };
    assert_eq!(metric("late_total"), want["late"].as_u64().unwrap());
    assert_eq!(
        metric("invalid_times_total"),
        want["invalid_times"].as_u64().unwrap()
    );
    assert!(metric("invalid_values_total") > 0, "`-` bytes are counted");
    // SIGTERM: the windows still open are closed and delivered before the agent exits.
    stop_cleanly(&mut child);
    let got = windows(windows_dir);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the same (window, host) pairs"
    );
    for (key, want) in &expected {
        compare(&got[key], want);
    }
    // The arrival-time count saw every line, and the raw lines went on unchanged.
    let totals: u64 = output_lines(&totals_dir)
        .iter()
        .map(|l| {
            let event: Value = serde_json::from_str(l).unwrap();
            event["headers"]["lines"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(totals, 6_000);
    assert_eq!(
        output_lines(&raw_dir).join("\n") + "\n",
        std::fs::read_to_string(&run.input_file).unwrap()
    );
}

#[test]
fn a_crash_loses_only_the_windows_still_open() {
    let run = Run::new("aggregate_crash");
    let expected = run.expected();
    let (closed_early, _) = run.closed_early();
    let windows_dir = &run.windows_dir;
    let mut child = run.start(&[]);
    wait_until(Duration::from_secs(60), || {
        windows(windows_dir).len() >= closed_early
    });
    child.kill().unwrap();
    child.wait().unwrap();
    // What was delivered stays whole and right; the last minute, still open, is lost.
    let got = windows(windows_dir);
    assert_eq!(got.len(), closed_early);
    for (key, body) in &got {
        compare(body, expected[key]);
    }
}

#[test]
fn two_aggregates_chain_in_one_statement_and_shutdown_flushes_them_in_order() {
    let agent = build_agent("tests/e2e/aggregate_chain.flow");
    let out = temp_dir("aggregate_chain");
    let mut child = Command::new(&agent)
        .env("OUT_DIR", &out)
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    // seq ends by itself: the first aggregate's windows reach the second before it is
    // flushed, and the second's single window passes the route.
    assert!(wait(&mut child, Duration::from_secs(60)).success());
    let lines = output_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let event: Value = serde_json::from_str(&lines[0]).unwrap();
    let headers = &event["headers"];
    assert_eq!(headers["events"], "1000");
    // seq counts from 0: 0 + 1 + ... + 999.
    assert_eq!(headers["total"], "499500");
    assert!(
        headers["groups"] == "2" || headers["groups"] == "4",
        "{headers}"
    );
}
