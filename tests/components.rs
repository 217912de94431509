//! Users' own components, the way a user meets them: `sluice new component` writes a
//! crate, its unit test passes with `cargo test`, a flow `use`s it, and the built agent
//! runs it beside built-in kinds. A crate that stops compiling is reported as the
//! user's crate, with its own file and line, not as an internal error.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod support;

use sluice_compiler::build::BuildError;
use sluice_compiler::scaffold::{self, NewComponent};
use sluice_runtime::catalogue::Role;
use support::*;

/// Runs `cargo test` in `dir` with the shared target directory; returns its output.
fn cargo_test(dir: &Path) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["test", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", workspace().join("target/components"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "cargo test in {}:\n{text}",
        dir.display()
    );
    text
}

fn scaffold(root: &Path, role: Role, kind: &str) -> PathBuf {
    let dir = root.join("components").join(kind);
    scaffold::new_component(&NewComponent {
        role,
        kind: kind.into(),
        dir: dir.clone(),
        cache_dir: Some(workspace().join("target/sluice-cache")),
    })
    .unwrap();
    dir
}

const FLOW: &str = r#"agent "shout" # named like the crate of its sink: the build must tell them apart

use "./components/shout"
use "./components/counter"
use "./components/upper"

source count = counter { count = 5, interval = 1ms }
source greet = seq { count = 3, body = "hello" }
transform up = upper
channel mem = memory
sink out = shout { prefix = "got " }

flow count -> mem -> out
flow greet | up -> mem -> out
"#;

#[test]
fn scaffolded_components_pass_their_tests_and_run_in_an_agent() {
    let root = temp_dir("components");
    let sink = scaffold(&root, Role::Sink, "shout");
    let source = scaffold(&root, Role::Source, "counter");
    let transform = scaffold(&root, Role::Transform, "upper");
    for dir in [&sink, &source, &transform] {
        let output = cargo_test(dir);
        assert!(output.contains("1 passed"), "{}: {output}", dir.display());
        assert!(
            !output.contains("warning"),
            "the template compiles with warnings:\n{output}"
        );
    }

    let flow = root.join("own.flow");
    std::fs::write(&flow, FLOW).unwrap();
    let agent = build_agent_from(&flow, "own.flow");
    let mut child = Command::new(&agent)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    let stdout = child.0.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap());
    let status = wait(&mut child, Duration::from_secs(60));
    assert!(status.success(), "{status}");
    let mut lines: Vec<String> = reader.join().unwrap().lines().map(str::to_owned).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "got 0",
            "got 1",
            "got 2",
            "got 3",
            "got 4",
            "got HELLO",
            "got HELLO",
            "got HELLO"
        ]
    );

    // The user breaks their sink: the build names their crate and file.
    let lib = sink.join("src/lib.rs");
    let good = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, good.replace("self.out.flush()", "self.out.flush();")).unwrap();
    match try_build_agent(&flow, "own.flow") {
        Err(BuildError::ComponentCrate { name, output, .. }) => {
            assert_eq!(name, "shout");
            assert!(
                output.contains("components/shout/src/lib.rs"),
                "rustc's message should point into the crate:\n{output}"
            );
            assert!(!output.contains("Compiling "), "{output}");
        }
        other => panic!("expected the component crate's error, got {other:?}"),
    }

    // The sink's struct stops matching what sluice reads from its declaration (a
    // `ByteSize` of its own, not the runtime's): the build says so instead of showing
    // an internal error.
    let mismatched = good
        .replace(
            "pub struct ShoutConfig {",
            "pub struct ShoutConfig {\n    /// Longest line.\n    #[param(default = \"1KiB\")]\n    pub limit: ByteSize,",
        )
        .replace(
            "/// The running sink",
            "/// A size of its own.\n#[derive(Clone, Debug)]\npub struct ByteSize(pub u64);\n\n\
             impl sluice_runtime::catalogue::ParamValue for ByteSize {\n    \
             fn param_type() -> sluice_runtime::catalogue::ParamType {\n        \
             sluice_runtime::catalogue::ParamType::ByteSize\n    }\n}\n\n/// The running sink",
        );
    std::fs::write(&lib, mismatched).unwrap();
    match try_build_agent(&flow, "own.flow") {
        Err(BuildError::ComponentMismatch { crates, output, .. }) => {
            assert!(crates.contains("shout"), "{crates}");
            assert!(output.contains("ByteSize"), "{output}");
        }
        other => panic!("expected a mismatch between the crate and its declaration, got {other:?}"),
    }
    std::fs::write(&lib, good).unwrap();
}

/// `examples/components`: a source, a transform, a channel and a sink written outside
/// Sluice, tested by their own crate and run beside built-in kinds.
#[test]
fn the_example_components_pass_their_tests_and_run_in_an_agent() {
    let krate = workspace().join("examples/components");
    let output = cargo_test(&krate);
    assert!(output.contains("7 passed"), "{output}");
    assert!(!output.contains("warning"), "{output}");

    let agent = build_agent("examples/components/example.flow");
    let out = temp_dir("example_components").join("events.jsonl");
    let mut child = Command::new(&agent)
        .env("OUT", &out)
        .stderr(Stdio::null())
        .spawn()
        .map(Running)
        .unwrap();
    let status = wait(&mut child, Duration::from_secs(60));
    assert!(status.success(), "{status}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let loads = lines
        .iter()
        .filter(|e| e["headers"]["load1"].is_string())
        .count();
    let payments: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|e| e["body"].as_str().is_some_and(|b| b.starts_with("card")))
        .collect();
    assert_eq!((loads, payments.len(), lines.len()), (5, 20, 25));
    for payment in payments {
        assert_eq!(payment["body"], "card **** **** **** 1111 paid");
        assert_eq!(payment["headers"]["priority"], "high");
    }
}

/// `use NAME = { … }` names a crate like a Cargo dependency: cargo resolves it (here a
/// renamed path dependency), sluice reads it under the dependency's name, and the agent
/// depends on it exactly as written.
#[test]
fn a_crate_named_like_a_dependency_is_fetched_read_and_depended_on() {
    let root = temp_dir("components_dependency");
    scaffold(&root, Role::Sink, "shout");
    let text = "use loud = { path = \"./components/shout\", package = \"shout\" }\n\n\
                source gen = seq { count = 3 }\nchannel mem = memory\n\
                sink out = shout { prefix = \"> \", batch_size = 10 }\nflow gen -> mem -> out\n";
    let flow = root.join("dependency.flow");
    std::fs::write(&flow, text).unwrap();
    let source = sluice_compiler::SourceFile::new("dependency.flow", text).with_dir(&root);
    let checked = sluice_compiler::check(&source);
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
    let generated = sluice_compiler::codegen::generate(&source, &checked).unwrap();
    let manifest = generated.cargo_toml("dependency.flow", "/runtime");
    let shout_dir = std::fs::canonicalize(root.join("components/shout")).unwrap();
    assert!(
        manifest.contains(&format!(
            "loud = {{ path = \"{}\", package = \"shout\" }}",
            shout_dir.display()
        )),
        "{manifest}"
    );
    assert!(
        generated.main_rs.contains("loud::ShoutConfig"),
        "{}",
        generated.main_rs
    );
    // From git: the agent is pinned to the commit whose declarations were checked.
    let repo = root.join("components/shout");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(&repo)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "shout"]);
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&repo)
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
    let text = text.replace(
        "use loud = { path = \"./components/shout\", package = \"shout\" }",
        &format!(
            "use shout = {{ git = \"file://{}\", branch = \"main\" }}",
            shout_dir.display()
        ),
    );
    let source = sluice_compiler::SourceFile::new("dependency.flow", text).with_dir(&root);
    let checked = sluice_compiler::check(&source);
    assert!(!checked.has_errors(), "{:#?}", checked.diagnostics);
    let generated = sluice_compiler::codegen::generate(&source, &checked).unwrap();
    let manifest = generated.cargo_toml("dependency.flow", "/runtime");
    assert!(
        manifest.contains(&format!("rev = \"{head}\"")),
        "{manifest}"
    );
    assert!(!manifest.contains("branch"), "{manifest}");

    // Without fetching (the fuzzer, `flow!`), the same item is an error, not a cargo run.
    let offline = sluice_compiler::check_with(&source, false);
    assert!(offline
        .diagnostics
        .iter()
        .any(|d| d.code.as_str() == "bad-crate"));
}
