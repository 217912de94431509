//! The generated `main.rs` of every flow in `flows/` is snapshot, after the flow it was
//! generated from: it is the product's
//! assembly language and should read like code a person would write. Flows that use
//! kinds the runtime cannot build yet snapshot the `unsupported` diagnostics instead.

use std::path::Path;

use miette::NamedSource;
use sluice_compiler::{check, codegen, render, SourceFile};

#[test]
fn generated_main_rs_of_every_example() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flows");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".flow"))
        .collect();
    names.sort();
    let mut generated = 0;
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let source = SourceFile::new(name.clone(), text.clone());
        let checked = check(&source);
        assert!(!checked.has_errors(), "{name} has errors");
        let snapshot = match codegen::generate(&source, &checked) {
            Ok(g) => {
                generated += 1;
                format!("features: {}\n\n{}", g.features.join(", "), g.main_rs)
            }
            Err(diags) => {
                let named = NamedSource::new(source.name.clone(), source.text.clone());
                let rendered: String = diags
                    .iter()
                    .map(|d| render::human(&source, &named, d, false))
                    .collect();
                format!("not buildable yet:\n{rendered}")
            }
        };
        let stem = name.trim_end_matches(".flow").to_owned();
        // The input beside the output, so a reviewer reads both in one place.
        let snapshot = format!("==> flows/{name} <==\n{text}\n==> main.rs <==\n{snapshot}");
        insta::with_settings!({ input_file => dir.join(&name) }, {
            insta::assert_snapshot!(format!("generated_{stem}"), snapshot);
        });
    }
    assert!(
        generated >= 3,
        "only {generated} example flows can be built"
    );
}

/// A source with two flows into one channel commits its read position only with the
/// second put: a crash between the two puts must not record the position as if both
/// had been made.
#[test]
fn a_source_with_two_flows_into_one_channel_commits_its_mark_with_the_last_put() {
    let text = r#"
source logs = taildir {
    files = ["/var/log/*.log"]
    positions = "/tmp/positions.json"
}
channel wal = file { dir = "/tmp/wal" }
sink out = null
flow logs | errors -> wal -> out
flow logs -> wal
transform errors = filter { when = contains(body, "ERROR") }
"#;
    let source = SourceFile::new("two_flows.flow".to_owned(), text.to_owned());
    let checked = check(&source);
    assert!(!checked.has_errors(), "the flow has errors");
    let main_rs = codegen::generate(&source, &checked).unwrap().main_rs;
    assert_eq!(
        main_rs.matches("put_marked(events, None)").count()
            + main_rs.matches("put_marked(events.clone(), None)").count(),
        1,
        "{main_rs}"
    );
    assert_eq!(
        main_rs.matches("put_marked(events, mark)").count(),
        1,
        "{main_rs}"
    );
}
