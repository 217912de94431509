//! Agents forwarding to agents over the `sluice` sink and source: three tiers with a
//! collector killed mid-stream, a receiver that stays full, mutual TLS, and bad input.

mod support;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

const TOKEN: &str = "tier-secret";

/// Starts `agent` in `dir` with `env`, its log discarded.
fn start_with(agent: &Path, dir: &Path, env: &[(&str, String)]) -> Running {
    std::fs::create_dir_all(dir).unwrap();
    Command::new(agent)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap()
}

fn addr(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

/// The unique ids in `out` and how many lines repeated one.
fn unique_ids(out: &Path) -> (HashSet<usize>, usize) {
    let d = delivered(out);
    let unique: HashSet<usize> = d.ids.iter().copied().collect();
    let duplicates = d.ids.len() - unique.len();
    (unique, duplicates)
}

#[test]
fn three_tiers_deliver_every_event_when_a_collector_is_killed_mid_stream() {
    let total = 200_000;
    let edge_agent = build_agent("tests/e2e/tier_edge.flow");
    let collector_agent = build_agent("tests/e2e/tier_collector.flow");
    let terminal_agent = build_agent("tests/e2e/tier_terminal.flow");
    let root = temp_dir("tiers");
    let (terminal_port, a_port, b_port) = (free_port(), free_port(), free_port());
    let mut terminal = start_with(
        &terminal_agent,
        &root.join("terminal"),
        &[
            ("BIND", addr(terminal_port)),
            ("TOKEN", TOKEN.into()),
            ("METRICS", addr(free_port())),
        ],
    );
    wait_for_port(terminal_port);
    let collector = |name: &str, port: u16| {
        start_with(
            &collector_agent,
            &root.join(name),
            &[
                ("BIND", addr(port)),
                ("TOKEN", TOKEN.into()),
                ("TERMINAL", addr(terminal_port)),
                ("METRICS", addr(free_port())),
            ],
        )
    };
    let mut a = collector("collector_a", a_port);
    let mut b = collector("collector_b", b_port);
    wait_for_port(a_port);
    wait_for_port(b_port);
    let edge_dir = root.join("edge");
    std::fs::create_dir_all(edge_dir.join("logs")).unwrap();
    let log = edge_dir.join("logs/ids.log");
    let mut edge = start_with(
        &edge_agent,
        &edge_dir,
        &[
            ("COLLECTOR_A", addr(a_port)),
            ("COLLECTOR_B", addr(b_port)),
            ("TOKEN", TOKEN.into()),
        ],
    );
    let out = root.join("terminal/out");
    // The stream arrives over a few seconds; collector A dies in the middle of it.
    let started = Instant::now();
    for chunk in 0..20 {
        append_ids(&log, chunk * 10_000..(chunk + 1) * 10_000);
        std::thread::sleep(Duration::from_millis(100));
        if chunk == 10 {
            wait_until(Duration::from_secs(60), || {
                unique_ids(&out).0.len() >= 50_000
            });
            a.kill().unwrap(); // SIGKILL
            a.wait().unwrap();
        }
        if chunk == 14 {
            a = collector("collector_a", a_port);
        }
    }
    let (mut last, mut since) = (0, Instant::now());
    loop {
        let seen = unique_ids(&out).0.len();
        if seen >= total || since.elapsed() > Duration::from_secs(20) {
            break;
        }
        if seen != last {
            (last, since) = (seen, Instant::now());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for child in [&mut edge, &mut a, &mut b, &mut terminal] {
        stop_cleanly(child);
    }
    let (unique, duplicates) = unique_ids(&out);
    let missing: Vec<usize> = (0..total).filter(|i| !unique.contains(i)).collect();
    eprintln!(
        "three tiers: {total} events, collector A killed and restarted, {} lost, {duplicates} \
         duplicates, {:.1}s",
        missing.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        missing.is_empty(),
        "lost {} ids, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}

/// A self-signed CA and a certificate signed by it, made by the real `openssl`:
/// (ca.pem, cert.pem, key.pem) under `dir/name`.
fn ca_and_cert(dir: &Path, name: &str, cn: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(&dir)
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("openssl is installed");
        assert!(status.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &format!("/CN={name} CA"),
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        &format!("/CN={cn}"),
        "-keyout",
        "key.pem",
        "-out",
        "req.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "req.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "cert.pem",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

#[test]
fn mutual_tls_admits_only_clients_with_a_certificate_from_the_client_ca() {
    let root = temp_dir("tiers_mtls");
    let (server_ca, server_cert, server_key) = ca_and_cert(&root, "server", "localhost");
    let (client_ca, client_cert, client_key) = ca_and_cert(&root, "client", "edge-1");
    let (_, rogue_cert, rogue_key) = ca_and_cert(&root, "rogue", "edge-2");
    let receiver_agent = build_agent("tests/e2e/tier_mtls_receiver.flow");
    let sender_agent = build_agent("tests/e2e/tier_mtls_sender.flow");
    let (port, metrics) = (free_port(), free_port());
    let path = |p: &PathBuf| p.display().to_string();
    let mut receiver = start_with(
        &receiver_agent,
        &root.join("receiver"),
        &[
            ("BIND", addr(port)),
            ("METRICS", addr(metrics)),
            ("CERT", path(&server_cert)),
            ("KEY", path(&server_key)),
            ("CLIENT_CA", path(&client_ca)),
        ],
    );
    wait_for_port(port);
    let sender = |name: &str, cert: &PathBuf, key: &PathBuf, ids: std::ops::Range<usize>| {
        let dir = root.join(name);
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        append_ids(&dir.join("logs/ids.log"), ids);
        start_with(
            &sender_agent,
            &dir,
            &[
                ("RECEIVER", addr(port)),
                ("CA", path(&server_ca)),
                ("CERT", path(cert)),
                ("KEY", path(key)),
            ],
        )
    };
    wait_for_port(metrics);
    // A certificate from another CA: refused at the handshake, counted, and nothing
    // it holds gets through, however often it retries.
    let mut rogue = sender("rogue", &rogue_cert, &rogue_key, 1_000..1_100);
    wait_until(Duration::from_secs(30), || {
        metric(
            metrics,
            "sluice_source_connections_refused_total{component=\"edges\"",
        ) >= 2
    });
    // The right certificate passes.
    let mut good = sender("good", &client_cert, &client_key, 0..100);
    let out = root.join("receiver/out");
    wait_until(Duration::from_secs(30), || delivered(&out).ids.len() >= 100);
    std::thread::sleep(Duration::from_millis(500));
    for child in [&mut rogue, &mut good, &mut receiver] {
        stop_cleanly(child);
    }
    let mut ids = delivered(&out).ids;
    ids.sort_unstable();
    assert_eq!(
        ids,
        (0..100).collect::<Vec<_>>(),
        "only the good sender's events"
    );
}

#[test]
fn a_receiver_full_for_a_while_holds_the_sender_back_and_loses_nothing() {
    let root = temp_dir("tiers_busy");
    let receiver_agent = build_agent("tests/e2e/tier_busy_receiver.flow");
    let sender_agent = build_agent("tests/e2e/tier_busy_sender.flow");
    let (port, downstream_port, sender_metrics) = (free_port(), free_port(), free_port());
    // The receiver's own downstream is away: its small channel fills and stays full.
    let mut receiver = start_with(
        &receiver_agent,
        &root.join("receiver"),
        &[("BIND", addr(port)), ("DOWNSTREAM", addr(downstream_port))],
    );
    wait_for_port(port);
    let sender_dir = root.join("sender");
    std::fs::create_dir_all(sender_dir.join("logs")).unwrap();
    let total = 20_000u64;
    let text: String = (0..total).map(|i| format!("{i}\n")).collect();
    std::fs::write(sender_dir.join("logs/n.log"), text).unwrap();
    let mut sender = start_with(
        &sender_agent,
        &sender_dir,
        &[("RECEIVER", addr(port)), ("METRICS", addr(sender_metrics))],
    );
    wait_for_port(sender_metrics);
    // Held back: busy answers count as failed deliveries, and the backlog waits in the
    // sender's file channel instead of its memory.
    wait_until(Duration::from_secs(30), || {
        metric(
            sender_metrics,
            "sluice_sink_connection_failures_total{component=\"onward\"",
        ) >= 3
    });
    let held = Instant::now();
    let mut peak_rss = 0;
    while held.elapsed() < Duration::from_secs(30) {
        peak_rss = peak_rss.max(rss_kib(sender.id()));
        std::thread::sleep(Duration::from_millis(500));
    }
    // The downstream comes back: everything flows, once each, in order.
    let collector = Collector::start(std::net::TcpListener::bind(addr(downstream_port)).unwrap());
    wait_until(Duration::from_secs(60), || {
        collector.count() as u64 >= total
    });
    std::thread::sleep(Duration::from_millis(300));
    stop_cleanly(&mut sender);
    stop_cleanly(&mut receiver);
    eprintln!("busy receiver: sender held 30 s, peak RSS {peak_rss} KiB");
    assert_eq!(collector.numbers(), (0..total).collect::<Vec<u64>>());
    assert!(
        peak_rss < 200 * 1024,
        "the sender's memory stays bounded: {peak_rss} KiB"
    );
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// One raw connection to the receiver: sends `bytes`, returns what came back before
/// the receiver closed (or 5 s passed).
fn raw_exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(bytes);
    let mut back = Vec::new();
    let _ = s.read_to_end(&mut back);
    back
}

#[test]
fn bad_input_to_the_receiver_is_refused_and_counted_and_others_go_on() {
    use sluice_runtime::hop::{self, Body, Hello};
    let root = temp_dir("tiers_bad");
    let receiver_agent = build_agent("tests/e2e/tier_terminal.flow");
    let (port, metrics) = (free_port(), free_port());
    let dir = root.join("receiver");
    let mut receiver = start_with(
        &receiver_agent,
        &dir,
        &[
            ("BIND", addr(port)),
            ("TOKEN", TOKEN.into()),
            ("METRICS", addr(metrics)),
        ],
    );
    wait_for_port(port);
    let hello = |version: u32, token: &str| {
        hop::encode(Body::Hello(Hello {
            version,
            agent: "test".into(),
            token: token.into(),
        }))
        .unwrap()
        .to_vec()
    };
    // Garbage bytes, a frame claiming 4 GiB, a truncated frame, a bad checksum: the
    // connection is closed, nothing else happens.
    raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    raw_exchange(port, &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    let whole = hello(hop::VERSION, TOKEN);
    raw_exchange(port, &whole[..whole.len() - 3]);
    let mut bad_crc = whole.clone();
    bad_crc[5] ^= 0xff;
    raw_exchange(port, &bad_crc);
    // An old protocol version and a wrong token: refused with a reason.
    let old = raw_exchange(port, &hello(0, TOKEN));
    assert!(
        String::from_utf8_lossy(&old).contains("protocol version 0"),
        "{old:?}"
    );
    let wrong = raw_exchange(port, &hello(hop::VERSION, "guess"));
    assert!(
        String::from_utf8_lossy(&wrong).contains("wrong token"),
        "{wrong:?}"
    );
    let refused = || {
        metric(
            metrics,
            "sluice_source_connections_refused_total{component=\"collectors\"",
        )
    };
    // Refusals are counted: at least the bad checksum, version 0 and the wrong token.
    wait_until(Duration::from_secs(10), || refused() >= 3);
    std::thread::sleep(Duration::from_millis(200));
    let before = refused();
    // A hello over 64 KiB: refused before the receiver holds it in memory.
    raw_exchange(port, &hello(hop::VERSION, &"x".repeat(100_000)));
    wait_until(Duration::from_secs(10), || refused() > before);
    // The receiver still serves a proper sender.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&whole).unwrap();
    let mut event = sluice_runtime::event::Event::new(id_line(7));
    event.headers.set("host", "edge");
    let batch = hop::encode(Body::Batch(
        hop::Batch::new(1, &[event], hop::Compression::Zstd).unwrap(),
    ))
    .unwrap();
    s.write_all(&batch).unwrap();
    // Welcome, then the batch's acknowledgement once it is committed.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let acked = loop {
        let frames = hop::decode_all(&got, hop::DEFAULT_MAX_FRAME);
        if let Some(Ok(Body::Ack(ack))) = frames.get(1) {
            break ack.clone();
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the receiver closed the connection: {frames:?}");
        got.extend_from_slice(&buf[..n]);
    };
    assert_eq!((acked.id, acked.status), (1, hop::Status::Ok as i32));
    drop(s);
    let out = dir.join("out");
    wait_until(Duration::from_secs(30), || delivered(&out).ids == [7]);
    assert!(
        receiver.try_wait().unwrap().is_none(),
        "the receiver keeps running"
    );
    stop_cleanly(&mut receiver);
}
