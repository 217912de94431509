//! The diagnostics corpus: `tests/ui/<code>/<case>.flow` are broken flows. For each, the
//! checker must report `<code>`, and the human rendering (plain, no colour) is snapshot
//! beside it as `<case>.snap`, holding the input and the output together. A few cases also
//! have their JSON output snapshot (`<case>.json.snap`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use miette::NamedSource;
use sluice_compiler::{check, render, Code, SourceFile};

/// Cases whose JSON output is snapshot too.
const JSON_CASES: &[&str] = &[
    "syntax/three_items_broken",
    "unknown-param/typo",
    "capacity/sink_batch_over_transaction",
    "lossy-buffer/taildir_to_memory",
];

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    entries
}

#[test]
fn every_broken_flow_reports_its_code_and_matches_its_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut per_code: BTreeMap<String, usize> = BTreeMap::new();
    for code_dir in sorted_entries(&root).into_iter().filter(|p| p.is_dir()) {
        let code = code_dir.file_name().unwrap().to_string_lossy().into_owned();
        for path in sorted_entries(&code_dir) {
            if path.extension().is_none_or(|e| e != "flow") {
                continue;
            }
            let case = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("readable case");
            let source =
                SourceFile::new(format!("{code}/{case}.flow"), text.clone()).with_dir(&code_dir);
            let mut checked = check(&source);
            // `sluice check` also reads the test blocks.
            let tests = sluice_compiler::flowtest::check_tests(&source, &checked);
            checked.diagnostics.extend(tests);
            assert!(
                checked.diagnostics.iter().any(|d| d.code.as_str() == code),
                "{code}/{case}.flow should report `{code}`, got {:?}",
                checked
                    .diagnostics
                    .iter()
                    .map(|d| d.code.as_str())
                    .collect::<Vec<_>>()
            );
            let named = NamedSource::new(source.name.clone(), source.text.clone());
            let rendered: String = checked
                .diagnostics
                .iter()
                .map(|d| render::human(&source, &named, d, false))
                .collect();
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(&code_dir);
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(true);
            settings.set_input_file(&path);
            settings.bind(|| {
                insta::assert_snapshot!(
                    case.clone(),
                    format!("{text}\n----- sluice check -----\n{rendered}")
                );
                if JSON_CASES.contains(&format!("{code}/{case}").as_str()) {
                    let json = render::json(&[(&source, &checked.diagnostics[..])]);
                    insta::assert_snapshot!(format!("{case}.json"), json);
                }
            });
            *per_code.entry(code.clone()).or_default() += 1;
        }
    }
    let total: usize = per_code.values().sum();
    assert!(total >= 60, "the corpus has only {total} cases");
    for code in Code::ALL {
        let n = per_code.get(code.as_str()).copied().unwrap_or(0);
        assert!(
            n >= 2,
            "code `{code}` has {n} corpus cases; every code needs at least 2"
        );
    }
}

#[test]
fn formatting_the_corpus_is_idempotent() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    for code_dir in sorted_entries(&root).into_iter().filter(|p| p.is_dir()) {
        for path in sorted_entries(&code_dir) {
            if path.extension().is_none_or(|e| e != "flow") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed = sluice_dsl::parse(&text);
            if !parsed.errors.is_empty() {
                continue;
            }
            let once = sluice_dsl::format(&text, &parsed.file);
            let reparsed = sluice_dsl::parse(&once);
            assert!(
                reparsed.errors.is_empty(),
                "{}: formatted text does not parse:\n{once}",
                path.display()
            );
            let twice = sluice_dsl::format(&once, &reparsed.file);
            assert_eq!(once, twice, "{}: fmt is not idempotent", path.display());
            assert_eq!(
                parsed.file.comments.len(),
                reparsed.file.comments.len(),
                "{}: fmt lost comments",
                path.display()
            );
        }
    }
}
