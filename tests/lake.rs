//! The `lake` sink against independent readers: DuckDB reads the Parquet, NDJSON and CSV
//! files back (Hive partitions, column types, every value), boto3 lists and fetches what
//! went to a real S3 server (moto in server mode, with signature checking, started per
//! test on loopback), and kill -9 in the middle of 500,000 events loses nothing and
//! leaves no partial file where readers look.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

/// The tests take turns: agents, DuckDB and the S3 server share two cores.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn python_has(modules: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether DuckDB (and for S3, boto3 and moto) are here; CI sets
/// `SLUICE_REQUIRE_BROKERS`.
fn readers_available(s3: bool) -> bool {
    let modules = if s3 {
        "duckdb, boto3, moto, flask"
    } else {
        "duckdb"
    };
    can_run(
        python_has(modules),
        "SLUICE_REQUIRE_BROKERS",
        "duckdb, boto3 or moto[server] is not installed for python3 (see .ci/run)",
    )
}

fn script() -> PathBuf {
    workspace().join("tests/support/lake_check.py")
}

/// Appends events `first..first + count` to `dir/input/events.log`.
fn generate(dir: &Path, first: usize, count: usize, specials: bool) {
    std::fs::create_dir_all(dir.join("input")).unwrap();
    let mut command = Command::new("python3");
    command
        .arg(script())
        .arg("generate")
        .arg(dir.join("input/events.log"))
        .args([first.to_string(), count.to_string()]);
    if specials {
        command.arg("--specials");
    }
    assert!(command.status().unwrap().success(), "generating the input");
}

/// `lake_check.py check ROOT FORMAT …`, ready for more arguments or environment.
fn check_command(root: &Path, format: &str, extra: &[&str]) -> Command {
    let mut command = Command::new("python3");
    command
        .arg(script())
        .arg("check")
        .arg(root)
        .arg(format)
        .args(extra);
    command
}

/// Runs a check and returns its report.
fn report_of(mut command: Command) -> serde_json::Value {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "lake_check.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// DuckDB's report on the lake at `root` (see tests/support/lake_check.py).
fn check(root: &Path, format: &str, extra: &[&str]) -> serde_json::Value {
    report_of(check_command(root, format, extra))
}

fn start(agent: &Path, dir: &Path, env: &[(&str, &str)], metrics: u16) -> Running {
    let mut command = Command::new(agent);
    command
        .current_dir(dir)
        .env("METRICS", format!("127.0.0.1:{metrics}"))
        .stderr(agent_log(dir));
    for (k, v) in env {
        command.env(k, v);
    }
    let running = command.spawn().map(Running).unwrap();
    wait_for_port(metrics);
    running
}

fn sink_metric(metrics: u16, name: &str) -> u64 {
    metric_or_zero(metrics, &format!("sluice_sink_{name}{{component=\"lake\""))
}

fn n(report: &serde_json::Value, key: &str) -> u64 {
    report[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
}

/// Rows per partition that events `0..count` make (see `partition_of` in the script).
fn expected_partitions(count: u64, specials: bool) -> serde_json::Map<String, serde_json::Value> {
    let days = ["2024-02-29", "2024-03-01", "2024-03-02"];
    let apps = ["web", "api", "db"];
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for i in 0..count {
        let app = if specials && i == 11 {
            ".._.._etc"
        } else {
            apps[(i % 3) as usize]
        };
        *counts
            .entry(format!("dt={}/app={app}", days[(i / 3 % 3) as usize]))
            .or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::from(v)))
        .collect()
}

/// Runs the agent over 3,000 events (with a value that does not convert, one that is
/// missing and an app that tries to leave the lake) in `format`, and checks what DuckDB
/// reads while the agent still runs: partitions idle for a second were published.
fn formats_read_back(format: &str, compression: &str) -> serde_json::Value {
    let _turn = turn();
    let agent = build_agent("tests/lake/lake.flow");
    let dir = temp_dir(&format!("lake-{format}"));
    let total = 3_000;
    generate(&dir, 0, total, true);
    let metrics = free_port();
    let mut running = start(
        &agent,
        &dir,
        &[
            ("LAKE_URL", "lake"),
            ("FORMAT", format),
            ("COMPRESSION", compression),
        ],
        metrics,
    );
    // Ten partitions (three days by three apps, and the escaped one), each published
    // by idle_timeout while the agent runs.
    wait_until(Duration::from_secs(60), || {
        sink_metric(metrics, "files_published_total") >= 10
    });
    let report = check(&dir.join("lake"), format, &["--specials"]);
    assert_eq!(sink_metric(metrics, "values_invalid_total"), 1, "id 7's ms");
    stop_cleanly(&mut running);
    assert_eq!(n(&report, "rows"), total as u64, "{report}");
    assert_eq!(n(&report, "unique"), total as u64, "{report}");
    assert_eq!(report["bad"], serde_json::json!([]), "{report}");
    assert_eq!(report["leftovers"], serde_json::json!([]), "{report}");
    assert_eq!(
        report["partitions"].as_object().unwrap(),
        &expected_partitions(total as u64, true),
        "{report}"
    );
    report
}

#[test]
fn parquet_partitions_types_and_values_read_back_by_duckdb() {
    if !readers_available(false) {
        return;
    }
    let report = formats_read_back("parquet", "zstd");
    let types = &report["types"];
    for (column, ty) in [
        ("id", "BIGINT"),
        ("service", "VARCHAR"),
        ("ms", "DOUBLE"),
        ("ok", "BOOLEAN"),
        ("at", "TIMESTAMP WITH TIME ZONE"),
        ("msg", "VARCHAR"),
        ("dt", "DATE"),
    ] {
        assert_eq!(types[column], ty, "{column}: {types}");
    }
}

#[test]
fn ndjson_zstd_and_csv_gzip_read_back_by_duckdb() {
    if !readers_available(false) {
        return;
    }
    for (format, compression) in [("ndjson", "zstd"), ("csv", "gzip")] {
        let report = formats_read_back(format, compression);
        let types = &report["types"];
        assert_eq!(types["id"], "BIGINT", "{format}: {types}");
        assert_eq!(types["ok"], "BOOLEAN", "{format}: {types}");
        assert_eq!(types["ms"], "DOUBLE", "{format}: {types}");
    }
}

/// The number of distinct ids in the lake (DuckDB), 0 while it has no file.
fn unique_ids(root: &Path, format: &str) -> u64 {
    n(&check(root, format, &[]), "unique")
}

#[test]
fn kill_9_while_writing_loses_nothing_and_shows_no_partial_file() {
    if !readers_available(false) {
        return;
    }
    let _turn = turn();
    let agent = build_agent("tests/lake/lake.flow");
    let dir = temp_dir("lake-crash");
    let total = 500_000;
    generate(&dir, 0, total, false);
    let env = [("LAKE_URL", "lake"), ("ROLL_SIZE", "2MiB")];
    let metrics = free_port();
    let mut running = start(&agent, &dir, &env, metrics);
    wait_until(Duration::from_secs(120), || {
        sink_metric(metrics, "drain_successes_total") >= 150_000
            && sink_metric(metrics, "files_published_total") >= 5
    });
    // Whatever readers can see mid-stream is whole: DuckDB reads every visible file.
    let before = check(&dir.join("lake"), "parquet", &[]);
    assert_eq!(before["bad"], serde_json::json!([]), "{before}");
    running.kill().unwrap();
    running.wait().unwrap();
    // A file cut short by the kill is hidden (`.name.inprogress`), and replaced when
    // its staging file is published again after the restart.
    let after_kill = check(&dir.join("lake"), "parquet", &[]);
    for leftover in after_kill["leftovers"].as_array().unwrap() {
        let name = Path::new(leftover.as_str().unwrap()).file_name().unwrap();
        assert!(
            name.to_string_lossy().starts_with('.'),
            "visible leftover: {after_kill}"
        );
    }

    let mut running = start(&agent, &dir, &env, metrics);
    wait_until(Duration::from_secs(240), || {
        unique_ids(&dir.join("lake"), "parquet") >= total as u64
    });
    stop_cleanly(&mut running);
    let report = check(&dir.join("lake"), "parquet", &[]);
    eprintln!(
        "lake, kill -9 of the agent: {} of {total} events published, {} duplicates, {} files",
        n(&report, "unique"),
        n(&report, "duplicates"),
        report["files"].as_array().unwrap().len()
    );
    assert_eq!(n(&report, "unique"), total as u64, "{report}");
    assert_eq!(n(&report, "duplicates"), 0, "{report}");
    assert_eq!(report["bad"], serde_json::json!([]), "{report}");
    assert_eq!(report["leftovers"], serde_json::json!([]), "{report}");
    assert_eq!(
        report["partitions"].as_object().unwrap(),
        &expected_partitions(total as u64, false)
    );
    let staged = std::fs::read_dir(dir.join("staging"))
        .unwrap()
        .filter(|e| {
            let path = e.as_ref().unwrap().path();
            path.extension().is_some_and(|x| x == "stg")
        })
        .count();
    assert_eq!(staged, 0, "staging files left after a clean stop");
}

/// moto in server mode on loopback, checking request signatures: only the access key
/// created through its IAM API, with its secret, may write.
struct S3Server {
    _process: Running,
    endpoint: String,
    key_id: String,
    secret: String,
}

impl S3Server {
    /// Starts the server; with `check_signatures`, only the key created here may write.
    fn start(dir: &Path, check_signatures: bool) -> S3Server {
        let port = free_port();
        let log = std::fs::File::create(dir.join("moto.log")).unwrap();
        let mut command = Command::new("python3");
        if check_signatures {
            // The first four requests (the user, its key, its policy, the bucket) are
            // made without credentials; every later one must be signed by that key.
            command.env("INITIAL_NO_AUTH_ACTION_COUNT", "4");
        }
        let process = command
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .map(Running)
            .unwrap();
        wait_for_port(port);
        let endpoint = format!("http://127.0.0.1:{port}");
        let setup = r#"
import boto3, json, sys
from botocore.config import Config
ep = sys.argv[1]
anon = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **anon)
iam.create_user(UserName="sluice")
key = iam.create_access_key(UserName="sluice")["AccessKey"]
iam.put_user_policy(UserName="sluice", PolicyName="lake", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **anon).create_bucket(Bucket="lake")
print(json.dumps([key["AccessKeyId"], key["SecretAccessKey"]]))
"#;
        let out = Command::new("python3")
            .args(["-c", setup, &endpoint])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "moto setup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let [key_id, secret]: [String; 2] = serde_json::from_slice(&out.stdout).unwrap();
        S3Server {
            _process: process,
            endpoint,
            key_id,
            secret,
        }
    }

    /// What the bucket holds under `prefix`, downloaded to `into` and read by DuckDB.
    fn check(&self, into: &Path, format: &str, extra: &[&str]) -> serde_json::Value {
        let _ = std::fs::remove_dir_all(into);
        std::fs::create_dir_all(into).unwrap();
        let mut command = check_command(into, format, extra);
        command
            .args(["--s3", &self.endpoint, "lake", "raw/events"])
            .env("AWS_ACCESS_KEY_ID", &self.key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret);
        report_of(command)
    }
}

#[test]
fn s3_refused_credentials_then_objects_uploaded_and_read_back() {
    if !readers_available(true) {
        return;
    }
    let _turn = turn();
    let agent = build_agent("tests/lake/lake.flow");
    let dir = temp_dir("lake-s3");
    let server = S3Server::start(&dir, true);
    // One partition and no compression: a 12 MB file, uploaded in parts. Not Hive-style
    // (`dt=`): moto's signature check rejects keys with `=` even from boto3.
    let total = 100_000;
    generate(&dir, 0, total, false);
    let mut env: Vec<(&str, String)> = vec![
        ("LAKE_URL", "s3://lake/raw/events".to_owned()),
        ("S3_ENDPOINT", server.endpoint.clone()),
        ("FORMAT", "ndjson".to_owned()),
        ("COMPRESSION", "none".to_owned()),
        ("PARTITION", "2024-01-01/all".to_owned()),
        ("AWS_ACCESS_KEY_ID", server.key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", "not-the-secret".to_owned()),
    ];
    let metrics = free_port();
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut running = start(&agent, &dir, &pairs, metrics);
    wait_until(Duration::from_secs(60), || {
        sink_metric(metrics, "connection_failures_total") >= 2
    });
    assert_eq!(sink_metric(metrics, "files_published_total"), 0);
    stop_cleanly(&mut running);
    let refused = server.check(&dir.join("s3-refused"), "ndjson", &[]);
    assert_eq!(refused["keys"], serde_json::json!([]), "{refused}");
    let log = std::fs::read_to_string(dir.join("agent.log")).unwrap();
    assert!(
        log.contains("publishing failed") && log.contains("SignatureDoesNotMatch"),
        "the refusal is logged with S3's reason: {log}"
    );

    // The right secret: what was staged is published, nothing is lost or doubled.
    env.retain(|(k, _)| *k != "AWS_SECRET_ACCESS_KEY");
    env.push(("AWS_SECRET_ACCESS_KEY", server.secret.clone()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut running = start(&agent, &dir, &pairs, metrics);
    // Every event went into the staging file in the first run (the channel is
    // empty): publishing it is all that is left.
    wait_until(Duration::from_secs(120), || {
        sink_metric(metrics, "files_published_total") >= 1
    });
    stop_cleanly(&mut running);
    let report = server.check(
        &dir.join("s3-read"),
        "ndjson-plain",
        &["--partition", "2024-01-01/all"],
    );
    assert_eq!(n(&report, "unique"), total as u64, "{report}");
    assert_eq!(n(&report, "duplicates"), 0, "{report}");
    assert_eq!(report["bad"], serde_json::json!([]), "{report}");
    assert_eq!(n(&report, "incomplete_uploads"), 0, "{report}");
    let keys = report["keys"].as_array().unwrap();
    assert!(
        keys.iter().all(|k| k
            .as_str()
            .unwrap()
            .starts_with("raw/events/2024-01-01/all/part-")),
        "{report}"
    );
}

#[test]
fn a_staging_directory_in_use_is_refused_at_start() {
    if !readers_available(false) {
        return;
    }
    let _turn = turn();
    let agent = build_agent("tests/lake/lake.flow");
    let dir = temp_dir("lake-staging-lock");
    generate(&dir, 0, 10, false);
    let metrics = free_port();
    let mut first = start(&agent, &dir, &[("LAKE_URL", "lake")], metrics);
    // A second agent, with its own channel, pointed at the first one's staging files.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let second = Command::new(&agent)
        .current_dir(&other)
        .env("STAGING", dir.join("staging"))
        .env("LAKE_URL", "lake2")
        .env("METRICS", format!("127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    stop_cleanly(&mut first);
    let log = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{log}");
    assert!(log.contains("is in use by another lake sink"), "{log}");
}

/// A tmpfs mounted at a path, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a `size` tmpfs at `path`; `None` where mounting is not permitted.
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Tmpfs(path.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_staging_disk_is_retried_without_loss_or_duplicates() {
    if !readers_available(false) {
        return;
    }
    let _turn = turn();
    let agent = build_agent("tests/lake/lake.flow");
    let dir = temp_dir("lake-full-disk");
    // 8 MB of input through a 2 MiB staging disk: writes fail with ENOSPC until
    // publishing the files already staged frees room.
    let Some(_disk) = Tmpfs::mount(&dir.join("staging"), "2m") else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    let total = 60_000;
    generate(&dir, 0, total, false);
    let metrics = free_port();
    let mut running = start(&agent, &dir, &[("LAKE_URL", "lake")], metrics);
    wait_until(Duration::from_secs(120), || {
        unique_ids(&dir.join("lake"), "parquet") >= total as u64
    });
    let failures = sink_metric(metrics, "connection_failures_total");
    stop_cleanly(&mut running);
    let report = check(&dir.join("lake"), "parquet", &[]);
    assert_eq!(n(&report, "unique"), total as u64, "{report}");
    assert_eq!(n(&report, "duplicates"), 0, "{report}");
    assert_eq!(report["bad"], serde_json::json!([]), "{report}");
    let log = std::fs::read_to_string(dir.join("agent.log")).unwrap();
    assert!(
        failures > 0 && log.contains("No space left on device"),
        "the full disk was hit and reported ({failures} failures): {log}"
    );
}

#[test]
fn s3_hive_partitions_land_under_their_keys() {
    if !readers_available(true) {
        return;
    }
    let _turn = turn();
    let agent = build_agent("tests/lake/lake.flow");
    let dir = temp_dir("lake-s3-hive");
    // Without signature checks: moto's rejects keys with `=` (see the test above).
    let server = S3Server::start(&dir, false);
    let total = 3_000;
    generate(&dir, 0, total, true);
    let metrics = free_port();
    let env = [
        ("LAKE_URL", "s3://lake/raw/events"),
        ("S3_ENDPOINT", server.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", server.key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", server.secret.as_str()),
    ];
    let mut running = start(&agent, &dir, &env, metrics);
    wait_until(Duration::from_secs(60), || {
        sink_metric(metrics, "files_published_total") >= 10
    });
    stop_cleanly(&mut running);
    let report = server.check(&dir.join("s3-read"), "parquet", &["--specials"]);
    assert_eq!(n(&report, "unique"), total as u64, "{report}");
    assert_eq!(report["bad"], serde_json::json!([]), "{report}");
    assert_eq!(
        report["partitions"].as_object().unwrap(),
        &expected_partitions(total as u64, true),
        "{report}"
    );
    for key in report["keys"].as_array().unwrap() {
        let key = key.as_str().unwrap();
        let parts: Vec<&str> = key.split('/').collect();
        assert!(
            parts.len() == 5
                && parts[..2] == ["raw", "events"]
                && parts[2].starts_with("dt=2024-")
                && parts[3].starts_with("app=")
                && !key.contains('%')
                && !parts.contains(&".."),
            "key {key}"
        );
    }
}
