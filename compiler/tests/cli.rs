//! The `sluice` binary as a user runs it: exit codes, output formats, fmt --check.

use std::path::Path;
use std::process::Command;

fn sluice() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sluice"));
    // Paths in these tests are relative to the workspace root.
    cmd.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    cmd
}

#[test]
fn three_mistakes_are_reported_in_one_run_each_with_a_fix() {
    let out = sluice()
        .args(["check", "tests/ui/syntax/three_items_broken.flow"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("× ").count(), 3, "{stderr}");
    assert_eq!(stderr.matches("help:").count(), 3, "{stderr}");
    assert!(stderr.contains("3 errors"), "{stderr}");
}

#[test]
fn exit_codes_follow_the_spec() {
    let clean = sluice()
        .args(["check", "flows/quickstart.flow"])
        .output()
        .unwrap();
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    let warning = "tests/ui/unused/transform.flow";
    assert_eq!(
        sluice()
            .args(["check", warning])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        sluice()
            .args(["check", "--deny-warnings", warning])
            .output()
            .unwrap()
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        sluice()
            .args(["check", "no/such/file.flow"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        sluice()
            .args(["check", "--format", "yaml", warning])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_and_github_formats() {
    let out = sluice()
        .args([
            "check",
            "--format",
            "json",
            "tests/ui/capacity/sink_batch_over_transaction.flow",
            "flows/quickstart.flow",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let diags = json["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0]["code"], "capacity");
    assert_eq!(diags[0]["line"], 3);
    let out = sluice()
        .args([
            "check",
            "--format",
            "github",
            "tests/ui/unused/transform.flow",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("::warning file=tests/ui/unused/transform.flow,line=4,col=11,"),
        "{text}"
    );
    assert!(text.contains("title=unused::"), "{text}");
}

#[test]
fn fmt_check_shows_a_diff_and_fails_on_unformatted_files() {
    let dir = std::env::temp_dir().join(format!("sluice-fmt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("messy.flow");
    std::fs::write(
        &file,
        "source in=stdin # input\nchannel buf=memory{capacity=10,transaction_capacity=5}\n",
    )
    .unwrap();
    let out = sluice()
        .args(["fmt", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("+source in = stdin  # input"), "{diff}");
    assert!(sluice().arg("fmt").arg(&file).status().unwrap().success());
    let out = sluice()
        .args(["fmt", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "source in = stdin  # input\nchannel buf = memory {\n    capacity = 10\n    transaction_capacity = 5\n}\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn list_and_explain() {
    let list = sluice().arg("list").output().unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    for kind in [
        "taildir",
        "memory",
        "file_roll",
        "regex_extractor",
        "failover",
    ] {
        assert!(text.contains(kind), "{kind} missing from list");
    }
    let explain = sluice().args(["explain", "memory"]).output().unwrap();
    let text = String::from_utf8_lossy(&explain.stdout);
    assert!(
        text.contains("transaction_capacity (int, default 1_000)"),
        "{text}"
    );
    let typo = sluice().args(["explain", "tialdir"]).output().unwrap();
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("did you mean `taildir`?"));
}
