//! `sluice graph`: the dot output of every example renders with Graphviz, and the shapes
//! are stable (snapshot of one flow in both formats).
//!
//! Graphviz must be installed for the render test; CI installs it and sets
//! `SLUICE_REQUIRE_DOT=1` so a missing `dot` fails instead of skipping.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use sluice_compiler::{check, graph_render, SourceFile};

fn load(name: &str) -> SourceFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../flows")
        .join(name);
    SourceFile::new(name, std::fs::read_to_string(path).unwrap())
}

#[test]
fn dot_output_of_every_example_renders_with_graphviz() {
    if Command::new("dot").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("SLUICE_REQUIRE_DOT").is_none(),
            "graphviz `dot` is not installed"
        );
        eprintln!("skipping: graphviz `dot` is not installed");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flows");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let checked = check(&load(&name));
        let dot = graph_render::dot(&name, checked.topology.as_ref().expect("no syntax errors"));
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{name}: dot failed: {}\n{dot}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("<svg"),
            "{name}: no svg"
        );
    }
}

#[test]
fn graph_of_the_syslog_fanout_example() {
    let checked = check(&load("syslog_fanout.flow"));
    let topology = checked.topology.as_ref().unwrap();
    insta::assert_snapshot!(
        "syslog_fanout_dot",
        graph_render::dot("syslog_fanout", topology)
    );
    insta::assert_snapshot!("syslog_fanout_mermaid", graph_render::mermaid(topology));
}

#[test]
fn a_sink_shows_where_it_sends_its_events() {
    let source = SourceFile::new(
        "tiers.flow",
        r#"
source logs = stdin
channel buf = memory
sink next_tier = sluice { addr = "collector-1.internal:7070" }
sink api = http { url = env("API_URL") }
flow logs -> buf -> next_tier
flow logs -> buf2 -> api
channel buf2 = memory
"#
        .to_owned(),
    );
    let checked = check(&source);
    let topology = checked.topology.as_ref().unwrap();
    let dot = graph_render::dot("tiers", topology);
    assert!(
        dot.contains(r#"next_tier (sluice → \"collector-1.internal:7070\")"#),
        "{dot}"
    );
    assert!(dot.contains(r#"api (http → env(\"API_URL\"))"#), "{dot}");
    let mermaid = graph_render::mermaid(topology);
    assert!(mermaid.contains("collector-1.internal:7070"), "{mermaid}");
}
