//! Every example in `flows/` is clean under `sluice check --deny-warnings`, already in
//! canonical format, and formats idempotently.

use std::path::{Path, PathBuf};

use sluice_compiler::{check, SourceFile};

fn flows() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../flows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("flows/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "flow"))
        .collect();
    files.sort();
    files
}

#[test]
fn there_are_at_least_eight_examples_and_a_quickstart() {
    let names: Vec<String> = flows()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 8, "only {} example flows", names.len());
    assert!(names.contains(&"quickstart.flow".to_owned()));
}

#[test]
fn every_example_checks_clean_with_no_warnings() {
    for path in flows() {
        let text = std::fs::read_to_string(&path).unwrap();
        let checked = check(&SourceFile::new(path.display().to_string(), text));
        assert!(
            checked.diagnostics.is_empty(),
            "{} has diagnostics: {:#?}",
            path.display(),
            checked.diagnostics
        );
    }
}

#[test]
fn every_example_is_canonically_formatted() {
    for path in flows() {
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = sluice_dsl::parse(&text);
        assert!(parsed.errors.is_empty());
        let formatted = sluice_dsl::format(&text, &parsed.file);
        assert_eq!(
            formatted,
            text,
            "{} is not in canonical format (run `sluice fmt`)",
            path.display()
        );
    }
}
