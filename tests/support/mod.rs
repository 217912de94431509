//! Helpers shared by the end-to-end and crash tests: building agents from flow files
//! into one shared target directory, running them, and reading what they wrote.

#![allow(dead_code)] // each test binary uses its own subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sluice_compiler::build::{build_crate, BuildOptions};
use sluice_compiler::{check, codegen, SourceFile};

/// A running agent, killed if the test fails before it exits (so a failed test never
/// leaves agents behind).
pub struct Running(pub Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Checks, generates and builds `path` (relative to the workspace) into a release agent.
pub fn build_agent(path: &str) -> PathBuf {
    build_agent_from(&workspace().join(path), path)
}

/// Like [`build_agent`] for a flow file anywhere; `path` names it in messages.
pub fn build_agent_from(full: &Path, path: &str) -> PathBuf {
    try_build_agent(full, path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Checks, generates and builds the flow at `full`; a failed build is returned.
pub fn try_build_agent(
    full: &Path,
    path: &str,
) -> Result<PathBuf, sluice_compiler::build::BuildError> {
    build(full, path, false)
}

/// Like [`build_agent`], with exactly the runtime features the flow needs, as `sluice
/// build` does (other test agents share one feature set: [`shared_test_features`]).
pub fn build_agent_exact(path: &str) -> PathBuf {
    build(&workspace().join(path), path, true).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn build(
    full: &Path,
    path: &str,
    exact: bool,
) -> Result<PathBuf, sluice_compiler::build::BuildError> {
    let dir = full.parent().unwrap_or(Path::new("."));
    let source = SourceFile::new(path, std::fs::read_to_string(full).unwrap()).with_dir(dir);
    let checked = check(&source);
    assert!(!checked.has_errors(), "{path}: {:#?}", checked.diagnostics);
    let mut generated =
        codegen::generate(&source, &checked).unwrap_or_else(|d| panic!("{path}: {d:#?}"));
    if !exact && std::env::var_os("SLUICE_TEST_EXACT_FEATURES").is_none() {
        generated.features = shared_test_features(&generated.features);
    }
    let target = workspace().join("target");
    let options = BuildOptions {
        cache_dir: Some(target.join("sluice-cache")),
        target_dir: Some(target.join("agents")),
        ..Default::default()
    };
    build_crate(&generated, path, &options)
}

/// Components whose dependencies are heavy (librdkafka's C build, parquet and
/// object_store, async-nats): test agents compile them only when their flow uses them.
const HEAVY_FEATURES: [&[&str]; 3] = [
    &["source-kafka", "sink-kafka"],
    &["source-nats", "sink-nats"],
    &["sink-lake"],
];

/// The runtime features a test agent is built with: every light component of the
/// runtime's `full` set, plus each heavy family the flow uses.
///
/// A release build of `sluice-runtime` costs 20–40 s for each distinct feature set,
/// and the test flows use about fifty of them: built exactly, they were most of CI's
/// time. With one shared set per heavy family, the runtime is compiled four times and
/// each agent costs only its own small crate. What unification could hide, a flow
/// that needs a feature codegen did not enable, is caught elsewhere: `random_flows`
/// checks generated crates with exactly their features, `.ci/run` builds every feature
/// alone, the e2e test `agents_compile_only_the_components_their_flow_uses` checks the
/// features that flow settings turn on (`tls`, `expr-regex`) and builds the quickstart
/// exactly, and the bench builds exactly. Set `SLUICE_TEST_EXACT_FEATURES` (any value)
/// to build every test agent with exactly its own.
fn shared_test_features(flow_features: &[String]) -> Vec<String> {
    static LIGHT: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let light = LIGHT.get_or_init(|| {
        let manifest = std::fs::read_to_string(workspace().join("runtime/Cargo.toml"))
            .expect("runtime/Cargo.toml");
        let full = manifest
            .lines()
            .find_map(|l| l.strip_prefix("full = ["))
            .expect("runtime/Cargo.toml has a `full = [...]` feature");
        full.trim_end_matches(']')
            .split(',')
            .map(|f| f.trim().trim_matches('"').to_owned())
            .filter(|f| !f.is_empty() && !HEAVY_FEATURES.iter().any(|h| h.contains(&f.as_str())))
            .collect()
    });
    let mut features: Vec<String> = flow_features.to_vec();
    features.extend(light.iter().cloned());
    for family in HEAVY_FEATURES {
        if family.iter().any(|f| flow_features.iter().any(|g| g == f)) {
            features.extend(family.iter().map(|f| (*f).to_owned()));
        }
    }
    features.sort();
    features.dedup();
    features
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = workspace()
        .join("target/e2e")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits for the agent to exit, killing it after `limit`.
pub fn wait(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("agent did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn terminate(child: &Child) {
    // SAFETY: sending a signal to a child process we started and still own.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
}

/// Lines of every output file in `dir`, files in the order they were written.
pub fn output_lines(dir: &Path) -> Vec<String> {
    let mut files: Vec<(String, u64, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let (stamp, n) = name.rsplit_once('-').unwrap();
            (stamp.to_owned(), n.parse().unwrap(), p)
        })
        .collect();
    files.sort();
    let mut lines = Vec::new();
    for (_, _, path) in files {
        let mut text = String::new();
        std::fs::File::open(path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        lines.extend(text.lines().map(str::to_owned));
    }
    lines
}

/// The output files' bytes, concatenated in name order.
pub fn output_bytes(dir: &Path) -> Vec<u8> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| std::fs::read(f).unwrap())
        .collect()
}

/// Lines of the output files as bytes (bodies need not be UTF-8).
pub fn output_lines_bytes(dir: &Path) -> Vec<Vec<u8>> {
    output_bytes(dir)
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "condition not reached within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn metric(metrics_port: u16, name: &str) -> u64 {
    let mut s = TcpStream::connect(("127.0.0.1", metrics_port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in {text}"))
}

/// Waits (30 s at most) until something accepts connections on `port` on loopback.
pub fn wait_for_port(port: u16) {
    wait_until(Duration::from_secs(30), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
}

/// Waits (180 s at most) for a helper process, such as a client producing the input,
/// and expects it to succeed.
pub fn finish(mut helper: Running, what: &str) {
    let status = wait(&mut helper, Duration::from_secs(180));
    assert!(status.success(), "{what} failed");
}

/// `dir/agent.log`, opened for appending: where a test sends an agent's log, so a
/// failure (or a restart of the agent) can be read afterwards.
pub fn agent_log(dir: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("agent.log"))
        .unwrap()
}

/// Like [`metric`], but 0 while the agent does not serve it yet (or not at all).
pub fn metric_or_zero(metrics_port: u16, name: &str) -> u64 {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", metrics_port)) else {
        return 0;
    };
    let mut text = String::new();
    if s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").is_err()
        || s.read_to_string(&mut text).is_err()
    {
        return 0;
    }
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn append_lines(path: &Path, prefix: &str, range: std::ops::Range<usize>) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut text = String::new();
    for i in range {
        text.push_str(&format!("{prefix} {i}\n"));
    }
    f.write_all(text.as_bytes()).unwrap();
}

/// A TCP server on `port` collecting every line it receives as a number.
pub struct Collector {
    pub received: std::sync::Arc<std::sync::Mutex<Vec<u64>>>,
}

impl Collector {
    pub fn start(listener: TcpListener) -> Collector {
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let sink = sink.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(stream).lines().map_while(Result::ok) {
                        if let Ok(n) = line.parse() {
                            sink.lock().unwrap().push(n);
                        }
                    }
                });
            }
        });
        Collector { received }
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    pub fn numbers(&self) -> Vec<u64> {
        self.received.lock().unwrap().clone()
    }
}

/// Starts `agent` in `dir` (flows with relative paths run in a scratch directory),
/// its log discarded.
pub fn start_in(agent: &Path, dir: &Path) -> Running {
    Command::new(agent)
        .current_dir(dir)
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap()
}

/// Starts `agent` in `dir` with its log piped, for a test that reads it.
pub fn start_logged_in(agent: &Path, dir: &Path) -> Running {
    Command::new(agent)
        .current_dir(dir)
        .stderr(Stdio::piped())
        .spawn()
        .map(Running)
        .unwrap()
}

/// Sends SIGTERM and expects a clean exit within 30 seconds.
pub fn stop_cleanly(child: &mut Running) {
    terminate(child);
    assert!(wait(child, Duration::from_secs(30)).success());
}

/// Checks a `/metrics` response with the Prometheus project's own text-format parser
/// (Python's `prometheus_client`): it must parse, every family must have `# HELP` and
/// `# TYPE`, and no series may appear twice (Prometheus rejects the whole scrape then).
/// Returns how many series there are.
pub fn check_prometheus_exposition(response: &str) -> usize {
    let body = response
        .split_once("\r\n\r\n")
        .map_or(response, |(_, body)| body);
    let script = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
seen = set()
for family in text_string_to_metric_families(sys.stdin.read()):
    if family.type == "unknown":
        sys.exit(f"{family.name}: no # TYPE")
    if not family.documentation:
        sys.exit(f"{family.name}: no # HELP")
    for sample in family.samples:
        key = (sample.name, tuple(sorted(sample.labels.items())))
        if key in seen:
            sys.exit(f"duplicate series {key}")
        seen.add(key)
print(len(seen))
"#;
    let mut python = Command::new("python3");
    python.args(["-c", script]).stderr(Stdio::piped());
    let out = pipe_through(&mut python, body.as_bytes());
    assert!(
        out.status.success(),
        "the Prometheus parser rejects /metrics: {}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Runs `cmd` with `input` on its standard input; its output.
pub fn pipe_through(cmd: &mut Command, input: &[u8]) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Whether a test that needs something of the machine can run: when it cannot, it says
/// why and is skipped, unless the environment variable `require` is set, which makes
/// that a failure.
pub fn can_run(available: bool, require: &str, why_not: &str) -> bool {
    if !available {
        assert!(
            std::env::var_os(require).is_none(),
            "{require} is set, but {why_not}"
        );
        eprintln!("skipped: {why_not}");
    }
    available
}

/// Everything a finished child wrote to its piped stderr.
pub fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        stderr.read_to_string(&mut text).unwrap();
    }
    text
}

/// `id 00001234` lines: fixed width, so a torn line can never pass for another id.
pub fn id_line(i: usize) -> String {
    format!("id {i:08}")
}

pub fn append_ids(path: &Path, range: std::ops::Range<usize>) {
    use std::io::Write;
    let mut text = String::with_capacity(range.len() * 12);
    for i in range {
        text.push_str(&id_line(i));
        text.push('\n');
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// What the output files hold: ids seen (with repeats) and lines that are not whole ids.
#[derive(Default)]
pub struct Delivered {
    pub ids: Vec<usize>,
    /// Partial lines; allowed only as the last line of a file (a write cut by the kill).
    pub torn_at_end: usize,
}

/// A file's content; `.gz` and `.zst` files decompressed by the real `gzip` and `zstd`
/// tools, which must read them whole.
pub fn read_maybe_compressed(path: &Path) -> Vec<u8> {
    let tool = match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => "gzip",
        Some("zst") => "zstd",
        _ => return std::fs::read(path).unwrap(),
    };
    let out = Command::new(tool).arg("-dc").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "{tool} cannot read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn delivered(out: &Path) -> Delivered {
    let mut d = Delivered::default();
    let Ok(entries) = std::fs::read_dir(out) else {
        return d;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let data = read_maybe_compressed(&path);
        let text = String::from_utf8_lossy(&data);
        let lines: Vec<&str> = text.split_terminator('\n').collect();
        for (n, line) in lines.iter().enumerate() {
            let id = line
                .strip_prefix("id ")
                .filter(|digits| digits.len() == 8)
                .and_then(|digits| digits.parse().ok());
            match id {
                Some(id) => d.ids.push(id),
                None => {
                    let last = n + 1 == lines.len() && !text.ends_with('\n');
                    assert!(
                        last,
                        "{}: bad line {line:?} inside the file",
                        path.display()
                    );
                    d.torn_at_end += 1;
                }
            }
        }
    }
    d
}
