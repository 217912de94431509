//! The `sluice` binary as a user runs it: exit codes, output formats, fmt --check.

use std::io::Write;
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

/// The bash script registers `_sluice`, and bash completes commands and options with it.
#[test]
fn bash_completes_commands_and_options_from_the_generated_script() {
    let out = sluice().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    let dir = std::env::temp_dir().join(format!("sluice-completions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("sluice.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let complete = |line: &str| -> Vec<String> {
        let words: Vec<&str> = line.split(' ').collect();
        let program = format!(
            "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT={}\n_sluice sluice '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
            words.len() - 1,
            line.len(),
            words[words.len() - 1],
            words[words.len().saturating_sub(2)],
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(program)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(complete("sluice ch"), ["check"]);
    assert!(complete("sluice c").contains(&"completions".to_owned()));
    assert!(complete("sluice check --f").contains(&"--format".to_owned()));
    assert!(complete("sluice completions z").contains(&"zsh".to_owned()));
    // Every other shell gets a script too.
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = sluice().args(["completions", shell]).output().unwrap();
        assert!(out.status.success() && out.stdout.len() > 500, "{shell}");
    }
    let bad = sluice().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sluice man` is a page groff renders, naming every command; `--dir` writes one page
/// per command.
#[test]
fn man_pages_render_and_cover_every_command() {
    let out = sluice().arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH sluice 1"),
        "{page}"
    );
    let commands = [
        "check",
        "fmt",
        "graph",
        "build",
        "run",
        "new",
        "list",
        "explain",
        "completions",
        "man",
    ];
    for command in commands {
        assert!(page.contains(command), "`{command}` missing from sluice(1)");
    }
    let rendered = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-cbou"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn();
    if let Ok(mut groff) = rendered {
        groff
            .stdin
            .take()
            .unwrap()
            .write_all(page.as_bytes())
            .unwrap();
        let out = groff.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("SYNOPSIS"), "{text}");
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "groff is needed to render the manual page (CI installs groff-base)"
        );
    }
    let dir = std::env::temp_dir().join(format!("sluice-man-{}", std::process::id()));
    let out = sluice().args(["man", "--dir"]).arg(&dir).output().unwrap();
    assert!(out.status.success());
    for command in commands {
        let path = dir.join(format!("sluice-{command}.1"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(&format!("sluice-{command}")),
            "{}",
            path.display()
        );
    }
    assert!(dir.join("sluice.1").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `contrib/pre-commit` in a real git repository: a staged flow with a mistake, an
/// unformatted layout or a failing test stops the commit; a clean one passes.
#[test]
fn the_pre_commit_hook_stops_commits_of_broken_flows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let repo = std::env::temp_dir().join(format!("sluice-hook-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(repo.join("flows")).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    let hook = || {
        Command::new(root.join("contrib/pre-commit"))
            .env("SLUICE", env!("CARGO_BIN_EXE_sluice"))
            .current_dir(&repo)
            .output()
            .unwrap()
    };
    // Nothing staged: nothing to say.
    assert!(hook().status.success());
    let good = std::fs::read_to_string(root.join("flows/quickstart.flow")).unwrap();
    std::fs::write(repo.join("flows/a.flow"), &good).unwrap();
    git(&["add", "flows/a.flow"]);
    let out = hook();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A misspelled kind is staged: refused, with the diagnostic.
    std::fs::write(
        repo.join("flows/a.flow"),
        good.replace("= memory", "= memroy"),
    )
    .unwrap();
    git(&["add", "flows/a.flow"]);
    let out = hook();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("memroy"));
    // The working tree is fixed but the broken version is still what is staged.
    std::fs::write(repo.join("flows/a.flow"), &good).unwrap();
    assert_eq!(hook().status.code(), Some(1));
    git(&["add", "flows/a.flow"]);
    assert!(hook().status.success());
    // Unformatted: refused with the diff.
    std::fs::write(
        repo.join("flows/a.flow"),
        good.replace("    count = 20", "  count   = 20"),
    )
    .unwrap();
    git(&["add", "flows/a.flow"]);
    let out = hook();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("count"));
    // A failing test block: refused, with the failure.
    std::fs::write(
        repo.join("flows/a.flow"),
        good.replace("count = 2\n", "count = 3\n"),
    )
    .unwrap();
    git(&["add", "flows/a.flow"]);
    let out = hook();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected 3 events"));
    let _ = std::fs::remove_dir_all(&repo);
}

/// `sluice import`: 0 when everything was carried over, 1 when not (the flow is still
/// written), 2 on usage and I/O errors; JSON holds the flow and the findings.
#[test]
fn import_exit_codes_outputs_and_json() {
    let dir = std::env::temp_dir().join(format!("sluice-import-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_flow = dir.join("simple.flow");
    let ok = sluice()
        .args(["import", "tests/import/simple_netcat.properties", "-o"])
        .arg(&out_flow)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert_eq!(ok.status.code(), Some(0), "{stderr}");
    assert!(ok.stdout.is_empty(), "the flow went to the file");
    assert!(stderr.contains("everything was carried over"), "{stderr}");
    let written = std::fs::read_to_string(&out_flow).unwrap();
    assert!(written.contains("source r1 = netcat"), "{written}");
    // The written flow is checked clean by `sluice check`.
    let checked = sluice().arg("check").arg(&out_flow).output().unwrap();
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    let partial = sluice()
        .args(["import", "tests/import/unsupported_components.properties"])
        .output()
        .unwrap();
    assert_eq!(partial.status.code(), Some(1));
    let flow = String::from_utf8_lossy(&partial.stdout);
    assert!(flow.contains("# sluice import: source `jms`"), "{flow}");
    let report = String::from_utf8_lossy(&partial.stderr);
    assert!(
        report.contains("unsupported_components.properties:6: error[no-counterpart]"),
        "{report}"
    );

    let json = sluice()
        .args([
            "import",
            "--format",
            "json",
            "tests/import/unsupported_components.properties",
        ])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["complete"], false);
    assert_eq!(doc["agent"], "a1");
    assert!(doc["flow"].as_str().unwrap().contains("agent \"a1\""));
    let first = &doc["findings"][0];
    assert_eq!(first["level"], "error");
    assert_eq!(first["line"], 6);
    assert_eq!(first["code"], "no-counterpart");

    let ambiguous = sluice()
        .args(["import", "tests/import/two_agents.properties"])
        .output()
        .unwrap();
    assert_eq!(ambiguous.status.code(), Some(2));
    let message = String::from_utf8_lossy(&ambiguous.stderr);
    assert!(
        message.contains("edge, collector") && message.contains("--agent"),
        "{message}"
    );
    let missing = sluice()
        .args(["import", "no/such.properties"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sluice test`: 0 when the tests pass, 1 when one fails (reported at its span in every
/// format), 2 on I/O errors.
#[test]
fn test_exit_codes_and_formats() {
    let ok = sluice()
        .args(["test", "flows/quickstart.flow"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert_eq!(ok.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("2 passed, 0 failed"), "{stderr}");

    let dir = std::env::temp_dir().join(format!("sluice-test-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.flow");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../flows/quickstart.flow"),
    )
    .unwrap()
    .replace("count = 2", "count = 5");
    std::fs::write(&broken, text).unwrap();
    let failed = sluice().arg("test").arg(&broken).output().unwrap();
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("expected 5 events at `console`, got 2")
    );

    let json = sluice()
        .args(["test", "--format", "json"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["failed"], 1);
    assert_eq!(doc["passed"], 1);
    let failure = &doc["files"][0]["tests"][0]["failures"][0];
    assert_eq!(failure["code"], "test-failed");
    assert!(failure["line"].as_u64().unwrap() > 30);

    let github = sluice()
        .args(["test", "--format", "github"])
        .arg(&broken)
        .output()
        .unwrap();
    let annotations = String::from_utf8_lossy(&github.stdout);
    assert!(annotations.starts_with("::error file="), "{annotations}");
    assert!(annotations.contains("title=test-failed"), "{annotations}");

    let missing = sluice().args(["test", "no/such.flow"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
