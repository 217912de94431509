//! End-to-end: build real agents from flow files (sharing one target directory under
//! `target/`), feed them with real clients, and check every event arrived.
//!
//! The first test to run compiles the runtime's dependencies into that shared directory;
//! the others reuse them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

use sluice_compiler::{check, codegen, SourceFile};
use support::*;

#[test]
fn seq_filter_set_file_roll_writes_exactly_the_expected_events() {
    let agent = build_agent("tests/e2e/seq_filter.flow");
    let out = temp_dir("seq_filter");
    let mut child = Command::new(&agent)
        .env("OUT_DIR", &out)
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    let status = wait(&mut child, Duration::from_secs(60));
    assert!(status.success(), "{status}");
    let lines = output_lines(&out);
    assert_eq!(lines.len(), 5_000);
    for (i, line) in lines.iter().enumerate() {
        let n = 2 * i + 1;
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(event["body"], n.to_string(), "line {i}");
        assert_eq!(event["headers"]["n"], n.to_string());
        assert_eq!(event["headers"]["half"], (n / 2).to_string());
    }
    // roll_size = 64KiB: the output was split over several files.
    assert!(std::fs::read_dir(&out).unwrap().count() > 1);
}

#[test]
fn netcat_receives_100k_lines_over_several_connections_in_order() {
    let agent = build_agent("tests/e2e/netcat_lines.flow");
    let out = temp_dir("netcat");
    let port = free_port();
    let metrics_port = free_port();
    let mut child = Command::new(&agent)
        .env("OUT_DIR", &out)
        .env("BIND", format!("127.0.0.1:{port}"))
        .args(["--metrics-addr", &format!("127.0.0.1:{metrics_port}")])
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    let connect = |port: u16| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => return s,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("agent not listening: {e}"),
            }
        }
    };
    const CONNECTIONS: usize = 4;
    const PER_CONNECTION: usize = 25_000;
    let senders: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let mut stream = connect(port);
            std::thread::spawn(move || {
                let mut w = std::io::BufWriter::new(&mut stream);
                for i in 0..PER_CONNECTION {
                    writeln!(w, "conn{c} {i}").unwrap();
                }
                w.flush().unwrap();
            })
        })
        .collect();
    // A line over max_line (1KiB) is rejected and counted; the connection goes on.
    {
        let mut s = connect(port);
        s.write_all(&vec![b'x'; 10_000]).unwrap();
        s.write_all(b"\nafter-long-line\n").unwrap();
    }
    for s in senders {
        s.join().unwrap();
    }
    let total = CONNECTIONS * PER_CONNECTION + 1;
    let deadline = Instant::now() + Duration::from_secs(60);
    while output_lines(&out).len() < total && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // Metrics: Prometheus text and JSON.
    let get = |path: &str| {
        let mut s = connect(metrics_port);
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        body
    };
    let prometheus = get("/metrics");
    assert!(check_prometheus_exposition(&prometheus) > 10);
    assert!(
        prometheus.contains(
            "sluice_source_events_rejected_total{component=\"tcp_in\",kind=\"netcat\"} 1"
        ),
        "{prometheus}"
    );
    assert!(
        prometheus.contains(&format!(
            "sluice_sink_drain_successes_total{{component=\"out\",kind=\"file_roll\"}} {total}"
        )),
        "{prometheus}"
    );
    let json = get("/metrics.json");
    assert!(
        json.contains("\"SOURCE.tcp_in\":{\"Type\":\"netcat\""),
        "{json}"
    );

    stop_cleanly(&mut child);
    let lines = output_lines(&out);
    assert_eq!(lines.len(), total);
    let mut next = [0usize; CONNECTIONS];
    for line in &lines {
        if line == "after-long-line" {
            continue;
        }
        let (conn, i) = line.split_once(' ').unwrap();
        let c: usize = conn.trim_start_matches("conn").parse().unwrap();
        assert_eq!(
            i.parse::<usize>().unwrap(),
            next[c],
            "connection {c} out of order"
        );
        next[c] += 1;
    }
    assert_eq!(next, [PER_CONNECTION; CONNECTIONS]);
}

#[test]
fn route_sends_each_event_to_its_channel() {
    let agent = build_agent("tests/e2e/route.flow");
    let out = temp_dir("route");
    let mut child = Command::new(&agent)
        .env("OUT_DIR", &out)
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    assert!(wait(&mut child, Duration::from_secs(60)).success());
    for (prefix, remainder) in [("zero", 0), ("one", 1), ("other", 2)] {
        let mut bodies = Vec::new();
        for entry in std::fs::read_dir(&out).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{prefix}-"))
            {
                let text = std::fs::read_to_string(path).unwrap();
                bodies.extend(text.lines().map(|l| l.parse::<u32>().unwrap()));
            }
        }
        bodies.sort();
        let expected: Vec<u32> = (0..999).filter(|n| n % 3 == remainder).collect();
        assert_eq!(bodies, expected, "{prefix}");
    }
}

#[test]
fn sigterm_drains_memory_channels_into_sinks_before_exit() {
    let agent = build_agent("tests/e2e/sigterm_drain.flow");
    // A downstream that accepts but does not read at first: the sink blocks and events
    // pile up in the memory channel.
    let downstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = downstream.local_addr().unwrap();
    let mut child = Command::new(&agent)
        .env("DOWNSTREAM", addr.to_string())
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    let (conn, _) = downstream.accept().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    terminate(&child);
    // Now read everything the agent delivers until it closes the connection.
    let mut received = Vec::new();
    let reader = BufReader::new(conn);
    for line in reader.lines() {
        let Ok(line) = line else { break };
        received.push(line.parse::<u64>().unwrap());
    }
    let status = wait(&mut child, Duration::from_secs(60));
    assert!(status.success(), "{status}");
    // seq bodies are 0, 1, 2, …: every accepted event arrived, none missing, in order.
    assert!(received.len() > 1_000, "only {} events", received.len());
    for (i, n) in received.iter().enumerate() {
        assert_eq!(*n, i as u64, "gap or reorder at {i}");
    }
}

#[test]
fn agents_compile_only_the_components_their_flow_uses() {
    let features = |path: &str| {
        let source = SourceFile::new(
            path,
            std::fs::read_to_string(workspace().join(path)).unwrap(),
        );
        codegen::generate(&source, &check(&source))
            .unwrap()
            .features
    };
    let quickstart = features("flows/quickstart.flow");
    assert_eq!(
        quickstart,
        [
            "agent",
            "channel-memory",
            "mimalloc",
            "sink-logger",
            "source-seq",
            "transform-filter",
            "transform-set"
        ]
    );
    assert!(!quickstart
        .iter()
        .any(|f| f.contains("netcat") || f.contains("tcp")));
    // Test agents are built with a superset of features (`shared_test_features`), so
    // the features that flow settings (not component kinds) turn on are checked here.
    assert!(features("tests/e2e/tls.flow").contains(&"tls".to_owned()));
    assert!(features("tests/e2e/agree.flow").contains(&"expr-regex".to_owned()));
    assert!(!quickstart.iter().any(|f| f == "tls" || f == "expr-regex"));
    let router = features("flows/netcat_router.flow");
    assert!(
        router.contains(&"source-netcat".to_owned()) && router.contains(&"sink-tcp".to_owned())
    );
    // Built with exactly those features, as `sluice build` does (other test agents
    // share a superset), the agent runs: 20 numbers, the 10 even ones printed.
    let agent = build_agent_exact("flows/quickstart.flow");
    let manifest = std::fs::read_to_string(
        workspace().join("target/sluice-cache/agents/quickstart/Cargo.toml"),
    )
    .unwrap();
    let listed = quickstart
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        manifest.contains(&format!("features = [{listed}]")),
        "{manifest}"
    );
    let mut child = Command::new(&agent)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait(&mut child, Duration::from_secs(60));
    let mut printed = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    assert!(status.success(), "{status}: {printed}");
    assert_eq!(printed.matches("{parity=0,").count(), 10, "{printed}");
    assert!(!printed.contains("parity=1"), "{printed}");
}

#[test]
fn unset_env_is_a_clear_error_and_check_env_reports_it() {
    let agent = build_agent("tests/e2e/seq_filter.flow");
    let out = Command::new(&agent).env_remove("OUT_DIR").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("seq_filter.flow:20:11: env(\"OUT_DIR\"): is not set and has no default"),
        "{stderr}"
    );
    let ok = Command::new(&agent)
        .env("OUT_DIR", "/tmp")
        .arg("--check-env")
        .output()
        .unwrap();
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("all 1 env(...) values resolve"));
    let help = Command::new(&agent).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--metrics-addr"));
}

#[test]
fn stdin_lines_arrive_in_order_and_over_long_lines_are_skipped() {
    let agent = build_agent("tests/e2e/stdin_lines.flow");
    let out = temp_dir("stdin");
    let mut child = Command::new(&agent)
        .env("OUT_DIR", &out)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    {
        let mut stdin = std::io::BufWriter::new(child.stdin.take().unwrap());
        for i in 0..20_000 {
            writeln!(stdin, "line {i}").unwrap();
            if i == 10_000 {
                writeln!(stdin, "{}", "x".repeat(500)).unwrap(); // over max_line = 100B
            }
        }
        stdin
            .write_all("invalid utf-8: \u{fffd}\n".as_bytes())
            .unwrap();
        stdin.write_all(b"raw \xff\xfe bytes\n").unwrap();
    } // closing stdin ends the source; the agent drains and exits
    assert!(wait(&mut child, Duration::from_secs(60)).success());
    let text = output_bytes(&out);
    let lines: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 20_002);
    for (i, line) in lines[..20_000].iter().enumerate() {
        assert_eq!(*line, format!("{{via=stdin}} line {i}").as_bytes());
    }
    // Bodies are bytes: invalid UTF-8 passes through untouched.
    assert_eq!(lines[20_001], b"{via=stdin} raw \xff\xfe bytes");
}

/// The stuck_sink agent with `shutdown_timeout` and stderr as given, its downstream
/// connected and never read, after a second of filling up.
fn start_stuck_sink(shutdown_timeout: &str, stderr: Stdio) -> (Running, TcpStream) {
    let agent = build_agent("tests/e2e/stuck_sink.flow");
    let downstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let child = Command::new(&agent)
        .env("DOWNSTREAM", downstream.local_addr().unwrap().to_string())
        .env("BODY", "x".repeat(4096))
        .env("SHUTDOWN_TIMEOUT", shutdown_timeout)
        .stderr(stderr)
        .spawn()
        .map(Running)
        .unwrap();
    let (conn, _) = downstream.accept().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    (child, conn)
}

#[test]
fn a_second_signal_exits_at_once() {
    // A downstream that never reads: the first signal starts a drain that cannot finish
    // (shutdown_timeout is 60s); the second must end the agent now.
    let (mut child, _conn) = start_stuck_sink("60s", Stdio::null());
    terminate(&child);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first signal must drain, not exit"
    );
    let second = Instant::now();
    terminate(&child);
    let status = wait(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(130));
    assert!(second.elapsed() < Duration::from_secs(2));
}

#[test]
fn shutdown_timeout_bounds_a_stuck_drain_and_reports_lost_events() {
    // The downstream never reads; the memory channel is full and the source blocked on
    // it. One signal must still end the agent within shutdown_timeout, with status 3 and
    // the number of events the memory channel loses.
    let (mut child, _conn) = start_stuck_sink("2s", Stdio::piped());
    let signalled = Instant::now();
    terminate(&child);
    let status = wait(&mut child, Duration::from_secs(20));
    let took = signalled.elapsed();
    assert_eq!(
        status.code(),
        Some(3),
        "events were left in a memory channel"
    );
    assert!(
        took < Duration::from_secs(6),
        "took {took:?} with shutdown_timeout = 2s"
    );
    let stderr = stderr_of(&mut child);
    let lost = stderr
        .lines()
        .find(|l| l.contains("events left in memory channels are lost"))
        .unwrap_or_else(|| panic!("no report of lost events in:\n{stderr}"));
    assert!(lost.contains("in `buf`"), "{lost}");
}

#[test]
fn check_env_reports_every_malformed_value_with_its_variable() {
    let agent = build_agent("tests/e2e/env_check.flow");
    let run = |vars: &[(&str, &str)]| {
        let out = Command::new(&agent)
            .arg("--check-env")
            .envs(vars.iter().copied())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, _) = run(&[]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("all 6 env(...) values resolve"), "{stdout}");

    let (code, _, stderr) = run(&[
        ("RATE", "0"),
        ("BATCH", "abc"),
        ("TX", "5000"),
        ("ADDR", "localhost"),
        ("FORMAT", "xml"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    for expected in [
        "env(\"RATE\"): value \"0\" is below the minimum 1 (source `gen`: rate)",
        "env(\"BATCH\"): value \"abc\" is not an integer (source `gen`: batch_size)",
        "env(\"ADDR\"): value \"localhost\" missing `:port` (sink `out`: addr)",
        "env(\"FORMAT\"): value \"xml\" is not one of text, json, header_and_text (sink `out`: format)",
        "env(\"TX\"): channel `buf`: transaction_capacity must not exceed capacity: 5000 > 1000",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    // Without --check-env the agent refuses to start, with the same report.
    let out = Command::new(&agent).env("TX", "5000").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("5000 > 1000"));
}

/// The agent tunes mimalloc before `main` (an environment variable overrides it) and
/// turns transparent huge pages off for itself, but a program it runs gets them back.
#[test]
fn exec_children_get_huge_pages_back_and_the_allocator_is_tuned() {
    let agent = build_agent("tests/e2e/exec_transforms.flow");
    // Only where this test itself runs with them on (not inherited off).
    let thp_on_here = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split_whitespace().eq(["THP_enabled:", "1"]));
    // `$PPID` is the agent: the shell is its child, awk the shell's.
    let script = r#"a=$(awk '/^THP_enabled/{print $2}' /proc/$PPID/status)
        c=$(awk '/^THP_enabled/{print $2}' /proc/self/status)
        echo "{\"level\":\"info\",\"msg\":\"agent${a}x child${c}x\"}""#;
    for (setting, expected_delay) in [(None, "10"), (Some("50"), "50")] {
        let out = temp_dir("exec_thp");
        let log = out.join("agent.log");
        let mut command = Command::new(&agent);
        command
            .args(["--log-level", "debug"])
            .env("OUT_DIR", out.join("out"))
            .env("CMD", script)
            .env_remove("MIMALLOC_PURGE_DELAY")
            .env_remove("MIMALLOC_ALLOW_THP")
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(delay) = setting {
            command.env("MIMALLOC_PURGE_DELAY", delay);
        }
        let mut child = command.spawn().map(Running).unwrap();
        assert!(wait(&mut child, Duration::from_secs(60)).success());
        let log = std::fs::read_to_string(&log).unwrap();
        assert!(
            log.contains(&format!("purge_delay_ms={expected_delay}")),
            "{log}"
        );
        let events = output_lines(&out.join("out"));
        assert_eq!(events.len(), 1, "{events:?}");
        let event: serde_json::Value = serde_json::from_str(&events[0]).unwrap();
        if thp_on_here {
            assert_eq!(event["headers"]["verb"], "agent0x", "THP off in the agent");
            assert_eq!(
                event["headers"]["object"], "child1x",
                "THP back in its child"
            );
        }
    }
}

#[test]
fn exec_output_passes_through_every_stateful_transform() {
    let agent = build_agent("tests/e2e/exec_transforms.flow");
    let out = temp_dir("exec");
    let script = r#"
        echo 'not json'
        echo '{"level":"debug","msg":"skip me"}'
        echo '{"level":"info","msg":"login user","user":{"name":"ann"},"code":7,"q":"token=abc123"}'
        echo 'oops' >&2
        echo '{"level":"warn","msg":"drop table","code":9}'
    "#;
    let mut child = Command::new(&agent)
        .env("OUT_DIR", &out)
        .env("CMD", script)
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    assert!(wait(&mut child, Duration::from_secs(60)).success());
    let events: Vec<serde_json::Value> = output_lines(&out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2, "{events:#?}");
    let first = &events[0]["headers"];
    assert_eq!(first["level"], "info");
    assert_eq!(first["user"], "ann");
    assert_eq!(first["verb"], "login");
    assert_eq!(first["object"], "user");
    assert!(first.get("code").is_none(), "remove_header keeps no `code`");
    assert_eq!(first["id"].as_str().unwrap().len(), 36);
    assert!(events[0]["body"].as_str().unwrap().contains("token=***"));
    assert!(!events[0]["body"].as_str().unwrap().contains("abc123"));
    assert_eq!(events[1]["headers"]["verb"], "drop");
    assert_ne!(events[0]["headers"]["id"], events[1]["headers"]["id"]);
}

#[test]
fn exec_restarts_the_command_when_it_exits() {
    let agent = build_agent("tests/e2e/exec_transforms.flow");
    let out = temp_dir("exec_restart");
    let mut child = Command::new(&agent)
        .env("OUT_DIR", &out)
        .env("CMD", r#"echo '{"msg":"run once"}'"#)
        .env("RESTART", "true")
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while output_lines(&out).len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop_cleanly(&mut child);
    assert!(
        output_lines(&out).len() >= 3,
        "the command ran fewer than 3 times"
    );
}

#[test]
fn netcat_udp_turns_each_datagram_into_an_event() {
    let agent = build_agent("tests/e2e/udp_lines.flow");
    let out = temp_dir("udp");
    let port = {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = Command::new(&agent)
        .env("OUT_DIR", &out)
        .env("BIND", format!("127.0.0.1:{port}"))
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..2_000 {
        client
            .send_to(format!("datagram {i}\n").as_bytes(), ("127.0.0.1", port))
            .unwrap();
        if i % 100 == 99 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    client
        .send_to(b"\xff invalid utf-8", ("127.0.0.1", port))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while output_lines_bytes(&out).len() < 2_001 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop_cleanly(&mut child);
    let lines = output_lines_bytes(&out);
    assert_eq!(lines.len(), 2_001);
    for (i, line) in lines[..2_000].iter().enumerate() {
        assert_eq!(*line, format!("datagram {i}").into_bytes());
    }
    assert_eq!(lines[2_000], b"\xff invalid utf-8");
}

/// Every number from 0 to the largest received arrived exactly once across collectors.
fn assert_complete(collectors: &[&Collector]) -> usize {
    let mut all: Vec<u64> = collectors.iter().flat_map(|c| c.numbers()).collect();
    all.sort();
    for (i, n) in all.iter().enumerate() {
        assert_eq!(*n, i as u64, "missing or duplicated event near {i}");
    }
    all.len()
}

#[test]
fn failover_uses_the_standby_while_the_primary_is_down_and_returns_to_it() {
    let agent = build_agent("tests/e2e/failover.flow");
    let primary_port = free_port(); // nothing listens here yet
    let standby_port = free_port();
    let standby = Collector::start(TcpListener::bind(("127.0.0.1", standby_port)).unwrap());
    let mut child = Command::new(&agent)
        .env("PRIMARY", format!("127.0.0.1:{primary_port}"))
        .env("STANDBY", format!("127.0.0.1:{standby_port}"))
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    wait_until(Duration::from_secs(20), || standby.count() >= 1_000);
    // The primary comes up: once its penalty is over, it takes the traffic back.
    let primary = Collector::start(TcpListener::bind(("127.0.0.1", primary_port)).unwrap());
    wait_until(Duration::from_secs(20), || primary.count() >= 1_000);
    let standby_before = standby.count();
    std::thread::sleep(Duration::from_millis(500));
    stop_cleanly(&mut child);
    std::thread::sleep(Duration::from_millis(200));
    // After recovery the standby took (almost) nothing more.
    assert!(
        standby.count() - standby_before < 100,
        "standby kept receiving after the primary recovered"
    );
    let total = assert_complete(&[&primary, &standby]);
    assert!(total >= 2_000);
}

#[test]
fn load_balance_spreads_batches_and_backs_off_a_dead_member() {
    let agent = build_agent("tests/e2e/load_balance.flow");
    let a_port = free_port();
    let b_port = free_port(); // b starts down
    let a = Collector::start(TcpListener::bind(("127.0.0.1", a_port)).unwrap());
    let mut child = Command::new(&agent)
        .env("SINK_A", format!("127.0.0.1:{a_port}"))
        .env("SINK_B", format!("127.0.0.1:{b_port}"))
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    wait_until(Duration::from_secs(20), || a.count() >= 1_000);
    // b comes back: after its backoff it gets its share again.
    let b = Collector::start(TcpListener::bind(("127.0.0.1", b_port)).unwrap());
    wait_until(Duration::from_secs(20), || b.count() >= 500);
    let (a_then, b_then) = (a.count(), b.count());
    wait_until(Duration::from_secs(20), || {
        a.count() > a_then + 500 && b.count() > b_then + 500
    });
    stop_cleanly(&mut child);
    std::thread::sleep(Duration::from_millis(200));
    assert_complete(&[&a, &b]);
}

/// The syslog e2e agent (`tests/e2e/syslog.flow`), running on free ports.
struct SyslogAgent {
    child: Running,
    out: PathBuf,
    tcp_port: u16,
    udp_port: u16,
    metrics_port: u16,
}

fn start_syslog_agent(name: &str) -> SyslogAgent {
    let agent = build_agent("tests/e2e/syslog.flow");
    let out = temp_dir(name);
    let (tcp_port, udp_port, metrics_port) = (free_port(), free_port(), free_port());
    let child = Command::new(&agent)
        .env("OUT_DIR", &out)
        .env("TCP_BIND", format!("127.0.0.1:{tcp_port}"))
        .env("UDP_BIND", format!("127.0.0.1:{udp_port}"))
        .env("METRICS", format!("127.0.0.1:{metrics_port}"))
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    SyslogAgent {
        child,
        out,
        tcp_port,
        udp_port,
        metrics_port,
    }
}

#[test]
fn syslog_over_tcp_and_udp_from_the_real_logger_client() {
    let SyslogAgent {
        mut child,
        out,
        tcp_port,
        udp_port,
        metrics_port,
    } = start_syslog_agent("syslog");
    std::thread::sleep(Duration::from_millis(500));
    let logger = |args: &[&str], message: &str| {
        let status = Command::new("logger")
            .args(["--server", "127.0.0.1"])
            .args(args)
            .arg(message)
            .status()
            .expect("util-linux logger is installed");
        assert!(status.success(), "logger {args:?} failed");
    };
    let tcp = tcp_port.to_string();
    let udp = udp_port.to_string();
    logger(
        &[
            "--port",
            &tcp,
            "--tcp",
            "--rfc5424",
            "-t",
            "app5424",
            "--msgid",
            "ID47",
            "-p",
            "local3.err",
        ],
        "hello 5424 over tcp",
    );
    logger(
        &[
            "--port",
            &tcp,
            "--tcp",
            "--rfc3164",
            "-t",
            "app3164",
            "-p",
            "auth.warning",
        ],
        "hello 3164 over tcp",
    );
    logger(
        &[
            "--port",
            &tcp,
            "--tcp",
            "--octet-count",
            "--rfc5424",
            "-t",
            "counted",
        ],
        "octet counted\nwith a newline inside",
    );
    logger(
        &["--port", &udp, "--udp", "--rfc5424", "-t", "udp5424"],
        "hello 5424 over udp",
    );
    logger(
        &["--port", &udp, "--udp", "--rfc3164", "-t", "udp3164"],
        "hello 3164 over udp",
    );
    {
        let mut s = TcpStream::connect(("127.0.0.1", tcp_port)).unwrap();
        s.write_all(b"this is not syslog\n").unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while output_lines(&out).len() < 6 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let metrics = {
        let mut s = TcpStream::connect(("127.0.0.1", metrics_port)).unwrap();
        s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    };
    stop_cleanly(&mut child);
    let events: Vec<serde_json::Value> = output_lines(&out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 6, "{events:#?}");
    let find = |body: &str| {
        events
            .iter()
            .find(|e| e["body"] == body)
            .unwrap_or_else(|| panic!("no event with body {body:?} in {events:#?}"))["headers"]
            .clone()
    };
    let e = find("hello 5424 over tcp");
    assert_eq!(
        (e["app_name"].as_str(), e["msgid"].as_str()),
        (Some("app5424"), Some("ID47"))
    );
    assert_eq!(
        (e["facility"].as_str(), e["severity"].as_str()),
        (Some("local3"), Some("err"))
    );
    assert!(e["host"].is_string() && e["timestamp"].as_str().unwrap().parse::<u64>().is_ok());
    let e = find("hello 3164 over tcp");
    assert_eq!(
        (
            e["app_name"].as_str(),
            e["facility"].as_str(),
            e["severity"].as_str()
        ),
        (Some("app3164"), Some("auth"), Some("warning"))
    );
    assert_eq!(
        find("octet counted\nwith a newline inside")["app_name"],
        "counted"
    );
    assert_eq!(find("hello 5424 over udp")["app_name"], "udp5424");
    assert_eq!(find("hello 3164 over udp")["app_name"], "udp3164");
    // The malformed message is kept whole, without parsed headers, and counted.
    assert_eq!(
        find("this is not syslog").as_object().map(|h| h.len()),
        Some(0)
    );
    assert!(
        metrics.contains(
            "sluice_source_parse_errors_total{component=\"tcp_in\",kind=\"syslog_tcp\"} 1"
        ),
        "{metrics}"
    );
}

/// Each `prefix i` line must appear exactly once, and per prefix in increasing order.
fn assert_lines_exactly(lines: &[String], expected: &[(&str, usize)]) {
    let mut next: std::collections::HashMap<&str, usize> =
        expected.iter().map(|(p, _)| (*p, 0)).collect();
    for line in lines {
        let (prefix, i) = line.split_once(' ').unwrap();
        let n = next
            .get_mut(prefix)
            .unwrap_or_else(|| panic!("unexpected line {line:?}"));
        assert_eq!(
            i.parse::<usize>().unwrap(),
            *n,
            "{prefix}: missing, duplicated or reordered line"
        );
        *n += 1;
    }
    for (prefix, count) in expected {
        assert_eq!(next[prefix], *count, "{prefix}: wrong number of lines");
    }
}

#[test]
fn taildir_follows_appends_renames_copytruncate_and_new_files() {
    let agent = build_agent("tests/e2e/taildir.flow");
    let dir = temp_dir("taildir");
    let (logs, out) = (dir.join("logs"), dir.join("out"));
    std::fs::create_dir_all(&logs).unwrap();
    let a = logs.join("a.log");
    append_lines(&a, "a", 0..1_000);
    let mut child = start_in(&agent, &dir);
    let lines_at_least = |n: usize| {
        wait_until(Duration::from_secs(30), || {
            out.exists() && output_lines(&out).len() >= n
        })
    };
    lines_at_least(1_000);
    append_lines(&a, "a", 1_000..2_000);
    lines_at_least(2_000);
    // logrotate `create`: rename, the writer appends a little more to the old file,
    // then a new file appears under the old name.
    std::fs::rename(&a, logs.join("a.log.1")).unwrap();
    append_lines(&logs.join("a.log.1"), "a", 2_000..2_100);
    append_lines(&a, "b", 0..1_000);
    lines_at_least(3_100);
    // logrotate `copytruncate`: copy, truncate in place, keep writing.
    std::fs::copy(&a, dir.join("a.log.copy")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&a)
        .unwrap()
        .set_len(0)
        .unwrap();
    append_lines(&a, "c", 0..300);
    lines_at_least(3_400);
    // A new file matching the glob is picked up.
    append_lines(&logs.join("new.log"), "n", 0..100);
    lines_at_least(3_500);
    stop_cleanly(&mut child);
    assert_lines_exactly(
        &output_lines(&out),
        &[("a", 2_100), ("b", 1_000), ("c", 300), ("n", 100)],
    );
    // The renamed file, read to its end, is no longer in the positions.
    let positions = std::fs::read_to_string(dir.join("state/positions.json")).unwrap();
    assert!(!positions.contains("a.log.1"), "{positions}");
}

/// `tests/e2e/taildir.flow` run in scratch directory `name`, following `logs/app.log`,
/// which starts with `count` lines `prefix i`, all of them delivered.
struct TaildirRun {
    agent: PathBuf,
    dir: PathBuf,
    app: PathBuf,
    out: PathBuf,
    child: Running,
}

fn start_taildir(name: &str, prefix: &str, count: usize) -> TaildirRun {
    let agent = build_agent("tests/e2e/taildir.flow");
    let dir = temp_dir(name);
    let (logs, out) = (dir.join("logs"), dir.join("out"));
    std::fs::create_dir_all(&logs).unwrap();
    let app = logs.join("app.log");
    append_lines(&app, prefix, 0..count);
    let child = start_in(&agent, &dir);
    wait_until(Duration::from_secs(30), || {
        out.exists() && output_lines(&out).len() >= count
    });
    TaildirRun {
        agent,
        dir,
        app,
        out,
        child,
    }
}

#[test]
fn taildir_follows_a_file_renamed_within_its_glob_without_reading_it_again() {
    let TaildirRun {
        dir,
        app,
        out,
        mut child,
        ..
    } = start_taildir("taildir_rename_in_glob", "a", 1_000);
    // logrotate with `dateext`-style names that the glob still matches: the old file
    // keeps its lines and gets a few more, a new app.log starts.
    let rotated = dir.join("logs/app.1.log");
    std::fs::rename(&app, &rotated).unwrap();
    append_lines(&rotated, "a", 1_000..1_100);
    append_lines(&app, "b", 0..500);
    wait_until(Duration::from_secs(30), || {
        output_lines(&out).len() >= 1_600
    });
    // Several scans later, nothing of the renamed file has come again.
    std::thread::sleep(Duration::from_millis(500));
    stop_cleanly(&mut child);
    assert_lines_exactly(&output_lines(&out), &[("a", 1_100), ("b", 500)]);
    let positions = std::fs::read_to_string(dir.join("state/positions.json")).unwrap();
    assert!(positions.contains("app.1.log"), "{positions}");
}

/// Deletes `path` and writes `text` into a new file there until the new file gets the
/// old one's inode back (file systems reuse freed inodes); `false` if it never does.
fn recreate_with_same_inode(path: &Path, text: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(path).unwrap().ino();
    let dir = path.parent().unwrap();
    let mut spare = Vec::new();
    for i in 0..64 {
        std::fs::remove_file(path).unwrap();
        std::fs::write(path, text).unwrap();
        if std::fs::metadata(path).unwrap().ino() == inode {
            for f in spare {
                let _ = std::fs::remove_file(f);
            }
            return true;
        }
        // Keep the wrong inode busy under another name, so the next try gets another.
        let busy = dir.join(format!(".busy-{i}"));
        std::fs::rename(path, &busy).unwrap();
        std::fs::write(path, text).unwrap();
        spare.push(busy);
    }
    for f in spare {
        let _ = std::fs::remove_file(f);
    }
    false
}

#[test]
fn taildir_reads_a_new_file_on_a_reused_inode_from_its_start() {
    let TaildirRun {
        agent,
        dir,
        app,
        out,
        mut child,
    } = start_taildir("taildir_inode_reuse", "old", 100);
    stop_cleanly(&mut child);
    // While the agent is down the file is deleted, and a new, longer one gets its inode.
    let text: String = (0..300).map(|i| format!("new {i}\n")).collect();
    let reused = recreate_with_same_inode(&app, &text);
    if !can_run(
        reused,
        "SLUICE_REQUIRE_INODE_REUSE",
        "this file system did not hand the freed inode out again",
    ) {
        return;
    }
    let mut child = start_in(&agent, &dir);
    wait_until(Duration::from_secs(30), || output_lines(&out).len() >= 400);
    std::thread::sleep(Duration::from_millis(300));
    stop_cleanly(&mut child);
    // Resuming at the old offset would have skipped the new file's first lines.
    assert_lines_exactly(&output_lines(&out), &[("old", 100), ("new", 300)]);
}

#[test]
fn taildir_keeps_following_its_files_when_one_cannot_be_read() {
    const UNREADABLE: &str = "/sys/devices/system/cpu/power/autosuspend_delay_ms";
    let eio = std::fs::File::open(UNREADABLE)
        .and_then(|f| std::io::Read::read(&mut &f, &mut [0u8; 16]))
        .is_err();
    if !can_run(
        eio,
        "SLUICE_REQUIRE_EIO",
        &format!("{UNREADABLE} reads fine on this kernel: no unreadable file to test with"),
    ) {
        return;
    }
    let agent = build_agent("tests/e2e/taildir_bad_file.flow");
    let dir = temp_dir("taildir_bad");
    let (logs, out) = (dir.join("logs"), dir.join("out"));
    std::fs::create_dir_all(&logs).unwrap();
    append_lines(&logs.join("a.log"), "a", 0..500);
    let mut child = start_logged_in(&agent, &dir);
    wait_until(Duration::from_secs(30), || {
        out.exists() && output_lines(&out).len() >= 500
    });
    append_lines(&logs.join("a.log"), "a", 500..1_000);
    wait_until(Duration::from_secs(30), || {
        output_lines(&out).len() >= 1_000
    });
    assert!(
        child.try_wait().unwrap().is_none(),
        "the agent must keep running"
    );
    stop_cleanly(&mut child);
    assert_lines_exactly(&output_lines(&out), &[("a", 1_000)]);
    let stderr = stderr_of(&mut child);
    assert!(
        stderr.contains("cannot read this file; the source goes on with the others"),
        "{stderr}"
    );
    assert!(!stderr.contains("restarting"), "{stderr}");
}

#[test]
fn taildir_restart_resumes_with_no_loss_and_no_duplicates() {
    let TaildirRun {
        agent,
        dir,
        app: a,
        out,
        mut child,
    } = start_taildir("taildir_restart", "x", 500);
    stop_cleanly(&mut child);
    // Written while the agent is down, including a line cut in half by the stop.
    append_lines(&a, "x", 500..1_000);
    let mut child = start_in(&agent, &dir);
    wait_until(Duration::from_secs(30), || {
        output_lines(&out).len() >= 1_000
    });
    std::thread::sleep(Duration::from_millis(300));
    stop_cleanly(&mut child);
    assert_lines_exactly(&output_lines(&out), &[("x", 1_000)]);
}

#[test]
fn spooldir_reads_files_oldest_first_and_marks_them_completed() {
    let agent = build_agent("tests/e2e/spooldir.flow");
    let dir = temp_dir("spooldir");
    let (spool, out) = (dir.join("spool"), dir.join("out"));
    std::fs::create_dir_all(&spool).unwrap();
    // Written elsewhere and moved in, as spool files should be.
    for (name, prefix) in [
        ("first.log", "f"),
        ("second.log", "s"),
        ("partial.tmp", "t"),
    ] {
        let staged = dir.join(name);
        append_lines(&staged, prefix, 0..1_000);
        std::fs::rename(&staged, spool.join(name)).unwrap();
        std::thread::sleep(Duration::from_millis(20)); // distinct modification times
    }
    let mut child = start_in(&agent, &dir);
    wait_until(Duration::from_secs(30), || {
        spool.join("second.log.COMPLETED").exists()
    });
    stop_cleanly(&mut child);
    let lines = output_lines(&out);
    assert_lines_exactly(&lines, &[("f", 1_000), ("s", 1_000)]);
    assert!(lines[0].starts_with("f "), "the oldest file comes first");
    assert!(spool.join("first.log.COMPLETED").exists());
    assert!(
        spool.join("partial.tmp").exists(),
        "ignored files are left alone"
    );
}

#[test]
fn spooldir_resumes_inside_a_file_after_a_restart() {
    let agent = build_agent("tests/e2e/spooldir.flow");
    let dir = temp_dir("spooldir_restart");
    let (spool, out) = (dir.join("spool"), dir.join("out"));
    std::fs::create_dir_all(&spool).unwrap();
    let staged = dir.join("big.log");
    append_lines(&staged, "b", 0..200_000);
    std::fs::rename(&staged, spool.join("big.log")).unwrap();
    let mut child = start_in(&agent, &dir);
    wait_until(Duration::from_secs(30), || {
        out.exists() && output_lines(&out).len() >= 1_000
    });
    stop_cleanly(&mut child);
    // Stopped part-way: the rest must come from the saved position.
    assert!(
        !spool.join("big.log.COMPLETED").exists(),
        "the file finished before the stop; the test needs a bigger file"
    );
    assert!(dir.join("spool/.sluice-spool/position.json").exists());
    let mut child = start_in(&agent, &dir);
    wait_until(Duration::from_secs(60), || {
        spool.join("big.log.COMPLETED").exists()
    });
    stop_cleanly(&mut child);
    assert_lines_exactly(&output_lines(&out), &[("b", 200_000)]);
}

#[test]
fn netcat_survives_bad_clients() {
    let agent = build_agent("tests/e2e/netcat_limits.flow");
    let out = temp_dir("netcat_limits");
    let (port, metrics_port) = (free_port(), free_port());
    let mut child = Command::new(&agent)
        .env("OUT_DIR", &out)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("METRICS", format!("127.0.0.1:{metrics_port}"))
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    let connect = || {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => return s,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("{e}"),
            }
        }
    };
    // Idle clients take every connection slot; the idle timeout (1s) frees them, so a
    // later client is still served.
    let idle: Vec<TcpStream> = (0..10).map(|_| connect()).collect();
    std::thread::sleep(Duration::from_millis(200));
    {
        let mut late = connect();
        writeln!(late, "late client").unwrap();
    }
    wait_until(Duration::from_secs(15), || {
        output_lines_bytes(&out).contains(&b"late client".to_vec())
    });
    // A 10 MiB line with max_line = 64KiB: rejected and counted; the connection goes on.
    {
        let mut s = connect();
        let big = vec![b'x'; 10 * 1024 * 1024];
        s.write_all(&big).unwrap();
        s.write_all(b"\nafter the big line\n").unwrap();
    }
    // Invalid UTF-8, and a client that disconnects mid-line.
    {
        let mut s = connect();
        s.write_all(b"bytes \xff\xfe ok\npartial line without newline")
            .unwrap();
    }
    // 1,000 clients at once against max_connections = 10: all are served in turn.
    let clients: Vec<_> = (0..1_000)
        .map(|i| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                writeln!(s, "client {i}").unwrap();
            })
        })
        .collect();
    let mut peak = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while output_lines_bytes(&out).len() < 1_004 && Instant::now() < deadline {
        peak = peak.max(metric(
            metrics_port,
            "sluice_source_open_connections{component=\"tcp_in\"",
        ));
        std::thread::sleep(Duration::from_millis(10));
    }
    for c in clients {
        c.join().unwrap();
    }
    assert!(
        peak <= 10,
        "{peak} connections open at once, max_connections is 10"
    );
    assert_eq!(
        metric(
            metrics_port,
            "sluice_source_events_rejected_total{component=\"tcp_in\""
        ),
        1
    );
    drop(idle);
    stop_cleanly(&mut child);
    let lines = output_lines_bytes(&out);
    assert_eq!(lines.len(), 1_004, "lines: {}", lines.len());
    assert!(lines.contains(&b"after the big line".to_vec()));
    assert!(lines.contains(&b"bytes \xff\xfe ok".to_vec()));
    assert!(lines.contains(&b"partial line without newline".to_vec()));
    for i in 0..1_000 {
        assert!(
            lines.contains(&format!("client {i}").into_bytes()),
            "client {i} missing"
        );
    }
}

/// A tiny HTTP/1.1 server answering every request with the current `status`; bodies of
/// requests answered 200 are kept, one entry per line.
struct Downstream {
    status: std::sync::Arc<std::sync::atomic::AtomicU16>,
    accepted: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    port: u16,
}

impl Downstream {
    fn start(status: u16) -> Downstream {
        use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let status = Arc::new(AtomicU16::new(status));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(AtomicUsize::new(0));
        let (s, a, r) = (status.clone(), accepted.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let (status, accepted, requests) = (s.clone(), a.clone(), r.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut writer = stream;
                    loop {
                        let mut length = 0usize;
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            if let Some(v) =
                                line.to_ascii_lowercase().strip_prefix("content-length:")
                            {
                                length = v.trim().parse().unwrap();
                            }
                        }
                        let mut body = vec![0u8; length];
                        reader.read_exact(&mut body).unwrap();
                        requests.fetch_add(1, Ordering::SeqCst);
                        let code = status.load(Ordering::SeqCst);
                        if code == 200 {
                            let text = String::from_utf8(body).unwrap();
                            accepted
                                .lock()
                                .unwrap()
                                .extend(text.lines().map(str::to_owned));
                        }
                        write!(writer, "HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n").unwrap();
                    }
                });
            }
        });
        Downstream {
            status,
            accepted,
            requests,
            port,
        }
    }

    fn set(&self, status: u16) {
        self.status
            .store(status, std::sync::atomic::Ordering::SeqCst);
    }

    fn bodies(&self) -> Vec<String> {
        self.accepted
            .lock()
            .unwrap()
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["body"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }
}

/// `curl` as a user would run it; returns "STATUS RETRY-AFTER".
fn curl(url: &str, token: Option<&str>, body: &str) -> String {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %header{retry-after}",
        "--data-binary",
        "@-",
        url,
    ]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = pipe_through(&mut cmd, body.as_bytes());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn header_values_in_path_templates_never_leave_the_directory() {
    let agent = build_agent("tests/e2e/path_header.flow");
    let root = temp_dir("path_header");
    let out = root.join("out");
    let port = free_port();
    let mut child = Command::new(&agent)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("OUT_TEMPLATE", format!("{}/%{{svc}}", out.display()))
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/");
    wait_until(Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let hostile = ["..", "../..", "../escaped", "/etc", ".", "a/../../b", "web"];
    let events: Vec<String> = hostile
        .iter()
        .map(|svc| format!(r#"{{"headers":{{"svc":{svc:?}}},"body":"{svc}"}}"#))
        .collect();
    assert_eq!(curl(&url, None, &format!("[{}]", events.join(","))), "200");
    stop_cleanly(&mut child);
    // Everything written is under `out`, in one plain directory per value.
    let mut written = Vec::new();
    for entry in walk(&root) {
        assert!(
            entry.starts_with(&out),
            "{} is outside {}",
            entry.display(),
            out.display()
        );
        written.push(entry);
    }
    let dirs: std::collections::BTreeSet<String> = written
        .iter()
        .map(|f| {
            f.parent()
                .unwrap()
                .strip_prefix(&out)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        dirs.into_iter().collect::<Vec<_>>(),
        [".._..", ".._escaped", "_", "__", "_etc", "a_.._.._b", "web"]
    );
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn http_source_answers_slow_bodies_with_408_and_bounds_connections() {
    let agent = build_agent("tests/e2e/http_limits.flow");
    let port = free_port();
    let mut child = Command::new(&agent)
        .env("BIND", format!("127.0.0.1:{port}"))
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    wait_until(Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    std::thread::sleep(Duration::from_millis(200));
    // A client that announces 100 bytes and sends 10, then waits.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[{\"body\":")
        .unwrap();
    // While it holds the only connection slot, another client waits in the backlog.
    let url = format!("http://127.0.0.1:{port}/");
    let waiting = std::thread::spawn(move || {
        let started = Instant::now();
        let status = curl(&url, None, r#"[{"body":"after"}]"#);
        (status, started.elapsed())
    });
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match slow.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(slow);
    let (status, waited) = waiting.join().unwrap();
    assert_eq!(status, "200");
    assert!(
        waited >= Duration::from_millis(500),
        "the second client was served while the first held the only slot ({waited:?})"
    );
    stop_cleanly(&mut child);
}

/// An agent of an http flow started against `downstream` (its `BIND`, `TOKEN`,
/// `DOWNSTREAM` and `METRICS` set, plus `extra`), once its port accepts connections.
struct HttpAgent {
    child: Running,
    port: u16,
    metrics_port: u16,
    url: String,
}

fn start_http_agent(
    flow: &str,
    token: &str,
    downstream: &Downstream,
    extra: &[(&str, &str)],
) -> HttpAgent {
    let agent = build_agent(flow);
    let (port, metrics_port) = (free_port(), free_port());
    let child = Command::new(&agent)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("TOKEN", token)
        .env(
            "DOWNSTREAM",
            format!("http://127.0.0.1:{}/ingest", downstream.port),
        )
        .env("METRICS", format!("127.0.0.1:{metrics_port}"))
        .envs(extra.iter().copied())
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    wait_until(Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    HttpAgent {
        child,
        port,
        metrics_port,
        url: format!("http://127.0.0.1:{port}/"),
    }
}

fn flume_events(range: std::ops::Range<usize>) -> String {
    let events: Vec<String> = range
        .map(|i| format!(r#"{{"headers":{{"n":"{i}"}},"body":"event {i}"}}"#))
        .collect();
    format!("[{}]", events.join(","))
}

#[test]
fn http_source_and_sink_against_curl_and_a_flaky_downstream() {
    let downstream = Downstream::start(503); // failing at first
    let HttpAgent {
        mut child,
        metrics_port,
        url,
        ..
    } = start_http_agent("tests/e2e/http.flow", "s3cret", &downstream, &[]);
    let token = Some("s3cret");
    assert_eq!(curl(&url, None, &flume_events(0..1)), "401");
    assert_eq!(curl(&url, token, "[{\"body\": "), "400");
    assert_eq!(curl(&url, token, &"x".repeat(2_000)), "413");
    // The channel holds 20; the downstream fails, so nothing drains.
    assert_eq!(curl(&url, token, &flume_events(0..10)), "200");
    assert_eq!(curl(&url, token, &flume_events(10..20)), "200");
    wait_until(Duration::from_secs(10), || {
        downstream
            .requests
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 3
    });
    assert_eq!(
        curl(&url, token, &flume_events(20..30)),
        "503 1",
        "a full channel answers 503 with Retry-After"
    );
    // The downstream recovers: everything accepted arrives, nothing lost, no duplicates.
    downstream.set(200);
    wait_until(Duration::from_secs(30), || downstream.bodies().len() >= 20);
    assert_eq!(curl(&url, token, &flume_events(20..30)), "200");
    wait_until(Duration::from_secs(30), || downstream.bodies().len() >= 30);
    let mut bodies = downstream.bodies();
    bodies.sort_by_key(|b| b.trim_start_matches("event ").parse::<usize>().unwrap());
    assert_eq!(
        bodies,
        (0..30).map(|i| format!("event {i}")).collect::<Vec<_>>()
    );
    // A rotated API key (401): the batch is held and retried, not dropped, and arrives
    // once the downstream accepts again.
    downstream.set(401);
    let before = downstream
        .requests
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(curl(&url, token, &flume_events(30..35)), "200");
    wait_until(Duration::from_secs(30), || {
        downstream
            .requests
            .load(std::sync::atomic::Ordering::SeqCst)
            >= before + 3
    });
    assert_eq!(
        metric(
            metrics_port,
            "sluice_sink_batches_dropped_total{component=\"downstream\"",
        ),
        0
    );
    downstream.set(200);
    wait_until(Duration::from_secs(30), || downstream.bodies().len() >= 35);
    assert_eq!(
        downstream.bodies()[30..],
        (30..35).map(|i| format!("event {i}")).collect::<Vec<_>>()
    );
    stop_cleanly(&mut child);
}

#[test]
fn http_sink_drops_refused_batches_only_when_told_to() {
    http_sink_drops_and_counts("tests/e2e/http.flow");
}

#[test]
fn http_sink_in_a_group_counts_what_it_drops_under_its_own_name() {
    http_sink_drops_and_counts("tests/e2e/http_group.flow");
}

/// With `on_client_error = "drop"`, a batch refused with 404 is dropped and counted in
/// the `downstream` sink's metrics, whether it is drained directly or through a group.
fn http_sink_drops_and_counts(flow: &str) {
    let downstream = Downstream::start(404);
    let HttpAgent {
        mut child,
        metrics_port,
        url,
        ..
    } = start_http_agent(flow, "t", &downstream, &[("ON_CLIENT_ERROR", "drop")]);
    assert_eq!(curl(&url, Some("t"), &flume_events(0..5)), "200");
    wait_until(Duration::from_secs(30), || {
        metric(
            metrics_port,
            "sluice_sink_events_dropped_total{component=\"downstream\"",
        ) == 5
    });
    assert_eq!(
        metric(
            metrics_port,
            "sluice_sink_batches_dropped_total{component=\"downstream\"",
        ),
        1
    );
    downstream.set(200);
    assert_eq!(curl(&url, Some("t"), &flume_events(5..6)), "200");
    wait_until(Duration::from_secs(30), || !downstream.bodies().is_empty());
    assert_eq!(downstream.bodies(), ["event 5"]);
    stop_cleanly(&mut child);
}

#[test]
fn syslog_sources_survive_bad_input() {
    let SyslogAgent {
        mut child,
        out,
        tcp_port,
        udp_port,
        ..
    } = start_syslog_agent("syslog_bad");
    wait_until(Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", tcp_port)).is_ok()
    });
    {
        let mut s = TcpStream::connect(("127.0.0.1", tcp_port)).unwrap();
        // An octet count far over max_line (64KiB): skipped, counted; the stream goes on.
        s.write_all(b"99999999 ").unwrap();
        s.write_all(&vec![b'x'; 1024]).unwrap();
        drop(s);
        let mut s = TcpStream::connect(("127.0.0.1", tcp_port)).unwrap();
        s.write_all(b"<13>1 - - - - - - \xff\xfe not utf-8\n")
            .unwrap(); // invalid UTF-8 body
        s.write_all(b"<999>garbage pri\n").unwrap(); // malformed: kept raw
        s.write_all(&vec![b'y'; 100_000]).unwrap(); // over-long newline-framed line
        s.write_all(b"\n<13>1 - - - - - - after the long line\n")
            .unwrap();
        s.write_all(b"<13>1 - - - - - - cut off mid-mess").unwrap(); // disconnect mid-message
    }
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(b"", ("127.0.0.1", udp_port)).unwrap(); // empty datagram
    udp.send_to(b"\xff\xfe\xfd", ("127.0.0.1", udp_port))
        .unwrap();
    // A valid RFC 5424 message whose MSG is absent (every field NILVALUE): it once
    // panicked the UDP source, and everything after it was lost.
    udp.send_to(b"<13>1 - - - - - -", ("127.0.0.1", udp_port))
        .unwrap();
    udp.send_to(
        b"<13>1 - - - - - - after the nil message",
        ("127.0.0.1", udp_port),
    )
    .unwrap();
    wait_until(Duration::from_secs(30), || {
        output_lines(&out).len() >= 6
            && output_lines(&out)
                .iter()
                .any(|l| l.contains("after the nil message"))
    });
    stop_cleanly(&mut child);
    let bodies: Vec<String> = output_lines(&out)
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["body"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for expected in [
        "\u{fffd}\u{fffd} not utf-8",
        "<999>garbage pri",
        "after the long line",
        "cut off mid-mess",
        "after the nil message",
    ] {
        assert!(
            bodies.iter().any(|b| b == expected),
            "{expected:?} missing from {bodies:?}"
        );
    }
}

#[test]
fn http_source_rejects_bad_requests_cleanly() {
    let downstream = Downstream::start(200);
    let HttpAgent {
        mut child,
        port,
        url,
        ..
    } = start_http_agent("tests/e2e/http.flow", "t", &downstream, &[]);
    let raw = |request: &[u8]| {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request).unwrap();
        let mut response = String::new();
        let _ = s.read_to_string(&mut response);
        response.lines().next().unwrap_or("").to_owned()
    };
    // Not HTTP at all: the connection is closed with an error, the agent goes on.
    let garbage = raw(b"\x00\x01\x02 hello\r\n\r\n");
    assert!(!garbage.starts_with("HTTP/1.1 200"), "{garbage}");
    // A body larger than max_body sent with chunked encoding (no Content-Length).
    let mut chunked = b"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..4 {
        chunked.extend_from_slice(b"400\r\n");
        chunked.extend_from_slice(&[b'a'; 0x400]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert!(raw(&chunked).starts_with("HTTP/1.1 413"));
    // Invalid UTF-8 inside the JSON: 400, not a crash.
    let bad_json = b"[{\"body\":\"\xff\"}]";
    let mut request = format!("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", bad_json.len()).into_bytes();
    request.extend_from_slice(bad_json);
    assert!(raw(&request).starts_with("HTTP/1.1 400"));
    // GET is not how events are sent.
    assert!(
        raw(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").starts_with("HTTP/1.1 405")
    );
    // A client that disconnects mid-body changes nothing.
    {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 100\r\n\r\n[{\"bo").unwrap();
    }
    // And the source still works.
    assert_eq!(curl(&url, Some("t"), &flume_events(0..3)), "200");
    wait_until(Duration::from_secs(30), || downstream.bodies().len() >= 3);
    assert_eq!(downstream.bodies(), ["event 0", "event 1", "event 2"]);
    stop_cleanly(&mut child);
}

#[test]
fn http_source_answers_an_oversized_body_so_that_every_client_can_read_the_413() {
    let downstream = Downstream::start(200);
    let HttpAgent { mut child, url, .. } =
        start_http_agent("tests/e2e/http.flow", "t", &downstream, &[]);
    // Python's urllib writes the whole body before it reads the answer, like most Flume
    // HTTP clients. 16 MiB cannot sit in the socket buffers: answering without reading
    // it would reset the connection under the client's feet.
    let script = r#"
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=b"x" * (16 << 20),
                             headers={"Authorization": "Bearer t"})
try:
    urllib.request.urlopen(req, timeout=30)
    print("accepted")
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
except Exception as e:
    print("failed:", type(e).__name__, e)
"#;
    let out = Command::new("python3")
        .args(["-c", script, &url])
        .output()
        .expect("python3 is installed");
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(
        answer.starts_with("413 body over max_body"),
        "urllib must read the 413: {answer} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // curl asks `Expect: 100-continue` for a large body: the 413 comes before any of
    // the body is sent.
    let big = dir_with_file("http_expect", 8 << 20);
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_upload}"])
        .args([
            "-H",
            "Authorization: Bearer t",
            "-H",
            "Expect: 100-continue",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", big.display()))
        .arg(&url)
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&out.stdout);
    let (code, uploaded) = answer.split_once(' ').unwrap();
    assert_eq!(code, "413", "{answer}");
    assert!(
        uploaded.parse::<u64>().unwrap() < 1 << 20,
        "the body should not have been sent: {answer}"
    );
    // The source still takes events.
    assert_eq!(curl(&url, Some("t"), &flume_events(0..3)), "200");
    stop_cleanly(&mut child);
}

/// A file of `len` bytes in a fresh temporary directory.
fn dir_with_file(name: &str, len: usize) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("body");
    std::fs::write(&path, vec![b'x'; len]).unwrap();
    path
}

#[test]
fn http_source_commits_a_batch_into_every_channel_or_none() {
    let agent = build_agent("tests/e2e/http_replicate.flow");
    let dir = temp_dir("http_replicate");
    let out = dir.join("out");
    let downstream = Downstream::start(503); // refusing: `slow` fills up
    let port = free_port();
    let mut child = Command::new(&agent)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("OUT", &out)
        .env(
            "DOWNSTREAM",
            format!("http://127.0.0.1:{}/", downstream.port),
        )
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    wait_until(Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let url = format!("http://127.0.0.1:{port}/");
    // Two batches of 10 fill `slow` (capacity 20); the third finds no room in it.
    assert!(curl(&url, None, &flume_events(0..10)).starts_with("200"));
    assert!(curl(&url, None, &flume_events(10..20)).starts_with("200"));
    for _ in 0..3 {
        assert_eq!(curl(&url, None, &flume_events(20..30)), "503 1");
    }
    // The downstream recovers; the client's retry of the third batch goes through.
    downstream
        .status
        .store(200, std::sync::atomic::Ordering::SeqCst);
    wait_until(Duration::from_secs(30), || {
        curl(&url, None, &flume_events(20..30)).starts_with("200")
    });
    wait_until(Duration::from_secs(30), || {
        out.exists() && output_lines(&out).len() >= 30
    });
    wait_until(Duration::from_secs(30), || downstream.bodies().len() >= 30);
    std::thread::sleep(Duration::from_millis(300));
    stop_cleanly(&mut child);
    // Refused three times, then accepted once: every event once in each channel.
    let bodies: Vec<String> = output_lines(&out);
    let expected: Vec<String> = (0..30).map(|i| format!("event {i}")).collect();
    assert_eq!(bodies, expected, "the files sink");
    assert_eq!(downstream.bodies(), expected, "the http downstream");
}

/// A self-signed certificate for `localhost` and 127.0.0.1, made by the real `openssl`.
fn self_signed_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed");
    assert!(status.success());
    (cert, key)
}

/// POSTs `body` with curl over https; returns curl's HTTP status ("000" when TLS failed).
fn curl_https(url: &str, ca: Option<&Path>, body: &str) -> String {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["--max-time", "10", "--data-binary", body, url]);
    if let Some(ca) = ca {
        cmd.arg("--cacert").arg(ca);
    }
    let out = cmd.output().expect("curl is installed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn tls_for_http_in_and_out_netcat_and_tcp_with_real_clients() {
    let agent = build_agent("tests/e2e/tls.flow");
    let dir = temp_dir("tls");
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let (cert, key) = self_signed_cert(&dir);
    let (api, relay, lines) = (free_port(), free_port(), free_port());
    let mut child = Command::new(&agent)
        .env("CERT", &cert)
        .env("KEY", &key)
        .env("API", format!("127.0.0.1:{api}"))
        .env("RELAY_BIND", format!("127.0.0.1:{relay}"))
        .env("RELAY_URL", format!("https://127.0.0.1:{relay}/"))
        .env("LINES", format!("127.0.0.1:{lines}"))
        .env("OUT_DIR", &out_dir)
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    wait_until(Duration::from_secs(30), || {
        [api, relay, lines]
            .iter()
            .all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok())
    });
    let url = format!("https://127.0.0.1:{api}/");

    // curl trusts the certificate only when told to.
    assert_eq!(curl_https(&url, None, &flume_events(0..1)), "000");
    assert_eq!(curl_https(&url, Some(&cert), &flume_events(0..1)), "200");
    assert_eq!(curl_https(&url, Some(&cert), &flume_events(1..50)), "200");

    // A plain-text client on the TLS port fails its handshake; nothing it sent arrives.
    let mut plain = TcpStream::connect(("127.0.0.1", lines)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let _ = plain.write_all(b"plain 0\nplain 1\n");
    let mut rest = Vec::new();
    let _ = plain.read_to_end(&mut rest);

    // openssl s_client is a second real TLS client for netcat.
    let input: String = (0..50).map(|i| format!("direct {i}\n")).collect();
    let mut s_client = Command::new("openssl")
        .args(["s_client", "-quiet", "-no_ign_eof", "-verify_return_error"])
        .arg("-CAfile")
        .arg(&cert)
        .args(["-connect", &format!("127.0.0.1:{lines}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    s_client
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    assert!(wait(&mut s_client, Duration::from_secs(30)).success());

    // curl -> api -> https relay -> TLS tcp -> TLS netcat -> file: "event i" lines.
    wait_until(Duration::from_secs(30), || {
        output_lines(&out_dir).len() >= 100
    });
    stop_cleanly(&mut child);
    assert_lines_exactly(&output_lines(&out_dir), &[("event", 50), ("direct", 50)]);
}

/// Every example in `flows/` compiles into a working agent binary (the code generation
/// snapshots show what is generated; this shows it builds against the runtime).
#[test]
fn every_example_flow_builds_into_an_agent() {
    let mut flows: Vec<PathBuf> = std::fs::read_dir(workspace().join("flows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "flow"))
        .collect();
    flows.sort();
    assert!(flows.len() >= 8);
    for flow in flows {
        let relative = format!("flows/{}", flow.file_name().unwrap().to_string_lossy());
        let agent = build_agent(&relative);
        let out = Command::new(&agent).arg("--version").output().unwrap();
        assert!(out.status.success(), "{relative}: {out:?}");
        let version = String::from_utf8_lossy(&out.stdout);
        assert!(version.contains("(sluice "), "{relative}: {version}");
    }
}

/// `GET /metrics` on `port`, parsed by the Prometheus project's own parser:
/// (sample name, sorted labels) → value, for the families named in `names`.
fn scrape(port: u16, names: &[&str]) -> std::collections::BTreeMap<(String, String), f64> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    // Well-formed as a whole: # HELP and # TYPE everywhere, no duplicate series.
    check_prometheus_exposition(&text);
    let body = text
        .split_once("\r\n\r\n")
        .map_or(text.as_str(), |(_, b)| b);
    let script = r#"
import sys, json
from prometheus_client.parser import text_string_to_metric_families
names = set(sys.argv[1:])
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        if s.name in names:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            out.append([s.name, labels, s.value])
print(json.dumps(out))
"#;
    let mut python = Command::new("python3");
    python
        .args(["-c", script])
        .args(names)
        .stderr(Stdio::piped());
    let out = pipe_through(&mut python, body.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, String, f64)> = serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter().map(|(n, l, v)| ((n, l), v)).collect()
}

#[test]
fn prometheus_sinks_expose_counts_sums_and_latest_values_to_a_real_parser() {
    let agent = build_agent("tests/e2e/prometheus.flow");
    let (port, metrics_port, prom_port) = (free_port(), free_port(), free_port());
    let mut child = Command::new(&agent)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
        .env("PROM_ADDR", format!("127.0.0.1:{prom_port}"))
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    wait_for_port(port);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    for n in 0..300 {
        writeln!(stream, "{n}").unwrap();
    }
    drop(stream);
    let total = |m: &std::collections::BTreeMap<(String, String), f64>| -> f64 { m.values().sum() };
    wait_until(Duration::from_secs(30), || {
        total(&scrape(metrics_port, &["requests_total"])) == 300.0
            && total(&scrape(prom_port, &["bytes_total"])) == (0..300).sum::<u32>() as f64
            && scrape(metrics_port, &["last_bytes"]).len() == 3
    });
    let agent_side = scrape(metrics_port, &["requests_total", "last_bytes"]);
    let own_port = scrape(prom_port, &["bytes_total", "requests_total"]);
    // Computed independently: n % 3 gives the status; the sums and last values per status.
    for (rest, status) in [(0u32, "200"), (1, "300"), (2, "400")] {
        let label = format!("status={status}");
        let of = |name: &str| (name.to_owned(), label.clone());
        let ns: Vec<u32> = (0..300).filter(|n| n % 3 == rest).collect();
        assert_eq!(agent_side[&of("requests_total")], ns.len() as f64);
        assert_eq!(
            agent_side[&of("last_bytes")],
            f64::from(*ns.last().unwrap())
        );
        assert_eq!(
            own_port[&of("bytes_total")],
            f64::from(ns.iter().sum::<u32>())
        );
    }
    // Each sink's own port carries its metric alone.
    assert!(!own_port.keys().any(|(name, _)| name == "requests_total"));
    terminate(&child);
    assert!(wait(&mut child, Duration::from_secs(30)).success());
}
