//! The `nats` source and sink against a real nats-server with JetStream (started per
//! test on loopback, with token auth), with nats-py as the independent client that
//! publishes the input and reads the output: every message with its headers, kill -9
//! of the agent, a server frozen mid-stream, and a wrong token.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

const TOKEN: &str = "s3cret-nats-token";

/// A nats-server with JetStream on loopback, stopped when dropped.
struct Server {
    process: Running,
    port: u16,
    _turn: std::sync::MutexGuard<'static, ()>,
}

/// The tests take turns: servers, publishers and agents share two cores.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn nats_server() -> Option<PathBuf> {
    [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Whether the server and the Python client are here; CI sets `SLUICE_REQUIRE_BROKERS`.
fn server_available() -> bool {
    let python = Command::new("python3")
        .args(["-c", "import nats"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    can_run(
        nats_server().is_some() && python,
        "SLUICE_REQUIRE_BROKERS",
        "nats-server or nats-py is not installed (see .ci/run)",
    )
}

impl Server {
    fn start(dir: &Path) -> Server {
        let turn = TURN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let port = free_port();
        let store = dir.join("server");
        std::fs::create_dir_all(&store).unwrap();
        let log = std::fs::File::create(store.join("server.log")).unwrap();
        let process = Command::new(nats_server().unwrap())
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "--auth",
                TOKEN,
            ])
            .arg("-sd")
            .arg(&store)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .map(Running)
            .unwrap();
        wait_until(Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let server = Server {
            process,
            port,
            _turn: turn,
        };
        server.client(&["stream", "IN", "in.>"]);
        server.client(&["stream", "OUT", "out.>"]);
        server
    }

    fn url(&self) -> String {
        format!("nats://{TOKEN}@127.0.0.1:{}", self.port)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("python3");
        command
            .arg(workspace().join("tests/support/nats_client.py"))
            .arg(args[0])
            .arg(self.url())
            .args(&args[1..]);
        command
    }

    fn client(&self, args: &[&str]) {
        let status = self.command(args).status().unwrap();
        assert!(status.success(), "nats-py {args:?}");
    }

    fn publish_in_background(&self, first: usize, count: usize) -> Running {
        let (first, count) = (first.to_string(), count.to_string());
        self.command(&["publish", "in.events", &first, &count])
            .spawn()
            .map(Running)
            .unwrap()
    }

    fn consume(&self, expect: usize, idle_secs: u32) -> serde_json::Value {
        let out = self
            .command(&[
                "consume",
                "OUT",
                &expect.to_string(),
                &idle_secs.to_string(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `SIGSTOP` freezes the server (it answers nothing, like a hung or cut-off
    /// server); `SIGCONT` thaws it.
    fn signal(&self, signal: libc::c_int) {
        // SAFETY: signalling a child process this test started and still owns.
        unsafe {
            libc::kill(self.process.id() as libc::pid_t, signal);
        }
    }
}

fn start_relay(agent: &Path, dir: &Path, server: &Server, token: &str, metrics: u16) -> Running {
    std::fs::create_dir_all(dir).unwrap();
    let log = agent_log(dir);
    Command::new(agent)
        .current_dir(dir)
        .env("NATS_URL", format!("nats://127.0.0.1:{}", server.port))
        .env("NATS_TOKEN", token)
        .env("METRICS", format!("127.0.0.1:{metrics}"))
        .stderr(log)
        .spawn()
        .map(Running)
        .unwrap()
}

/// Events the sink delivered; 0 until the agent serves the counter.
fn delivered(metrics: u16) -> u64 {
    let name = "sluice_sink_drain_successes_total{component=\"output\"";
    metric_or_zero(metrics, name)
}

fn n(report: &serde_json::Value, key: &str) -> usize {
    report[key].as_u64().unwrap() as usize
}

#[test]
fn relay_delivers_every_message_with_its_headers_across_a_kill() {
    if !server_available() {
        return;
    }
    let total = 100_000;
    let agent = build_agent("tests/nats/relay.flow");
    let root = temp_dir("nats-relay");
    let server = Server::start(&root);
    let publisher = server.publish_in_background(0, total);
    let metrics = free_port();
    let dir = root.join("agent");
    let mut relay = start_relay(&agent, &dir, &server, TOKEN, metrics);
    wait_for_port(metrics);
    wait_until(Duration::from_secs(120), || delivered(metrics) >= 20_000);
    relay.kill().unwrap(); // SIGKILL: messages taken but not acknowledged come again
    relay.wait().unwrap();
    let mut relay = start_relay(&agent, &dir, &server, TOKEN, metrics);
    finish(publisher, "nats-py publishing the input");
    let report = server.consume(total, 15);
    stop_cleanly(&mut relay);
    eprintln!(
        "nats, kill -9 of the relay: {} of {total} delivered, {} duplicates",
        n(&report, "unique"),
        n(&report, "duplicates")
    );
    assert_eq!(n(&report, "unique"), total, "{report}");
    assert_eq!(n(&report, "header_mismatch"), 0, "headers lost: {report}");
    assert_eq!(report["bad"].as_array().unwrap().len(), 0, "{report}");
}

#[test]
fn relay_rides_out_a_server_frozen_for_20_seconds() {
    if !server_available() {
        return;
    }
    let total = 100_000;
    let agent = build_agent("tests/nats/relay.flow");
    let root = temp_dir("nats-outage");
    let server = Server::start(&root);
    let publisher = server.publish_in_background(0, total);
    let metrics = free_port();
    let mut relay = start_relay(&agent, &root.join("agent"), &server, TOKEN, metrics);
    wait_for_port(metrics);
    wait_until(Duration::from_secs(120), || delivered(metrics) >= 10_000);
    server.signal(libc::SIGSTOP);
    std::thread::sleep(Duration::from_secs(20));
    assert!(
        relay.try_wait().unwrap().is_none(),
        "the agent exited while the server was down"
    );
    server.signal(libc::SIGCONT);
    finish(publisher, "nats-py publishing the input");
    let report = server.consume(total, 20);
    stop_cleanly(&mut relay);
    eprintln!(
        "nats server frozen 20 s: {} of {total} delivered, {} duplicates",
        n(&report, "unique"),
        n(&report, "duplicates")
    );
    assert_eq!(n(&report, "unique"), total, "{report}");
}

#[test]
fn a_wrong_token_is_refused_clearly_and_retried() {
    if !server_available() {
        return;
    }
    let agent = build_agent("tests/nats/relay.flow");
    let root = temp_dir("nats-auth");
    let server = Server::start(&root);
    let metrics = free_port();
    let dir = root.join("agent");
    let mut relay = start_relay(&agent, &dir, &server, "wrong-token", metrics);
    wait_for_port(metrics);
    std::thread::sleep(Duration::from_secs(3));
    assert!(relay.try_wait().unwrap().is_none(), "the agent gave up");
    stop_cleanly(&mut relay);
    let log = std::fs::read_to_string(dir.join("agent.log")).unwrap();
    assert!(
        log.to_lowercase().contains("authorization violation"),
        "the refusal is not in the log:\n{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}
