//! `sluice import`: the corpus in `tests/import/*.properties` (configurations in the
//! shapes of Flume's user guide, written for these tests) is imported, and the report and
//! flow of each are snapshot beside it. Every produced flow must parse, be formatted as
//! `sluice fmt` writes it, and pass `sluice check` whenever the import was complete. One
//! imported configuration is built into an agent and run.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sluice_compiler::import::{self, Input, Options};
use sluice_compiler::{check, SourceFile};

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("import");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "properties"))
        .collect();
    files.sort();
    files
}

/// Imports a corpus file; a first line `# --agent NAME` chooses the agent.
fn import_file(path: &Path) -> (import::Imported, Vec<Input>) {
    let bytes = std::fs::read(path).unwrap();
    let agent = String::from_utf8_lossy(&bytes)
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# --agent "))
        .map(|a| a.trim().to_owned());
    let name = format!("{}", path.file_name().unwrap().to_string_lossy());
    let inputs = vec![Input { name, bytes }];
    let imported = import::import(&inputs, &Options { agent }).expect("an agent to import");
    (imported, inputs)
}

#[test]
fn every_configuration_imports_to_a_checked_flow_and_matches_its_snapshot() {
    let files = corpus();
    assert!(files.len() >= 25, "the corpus went missing");
    let (mut complete, mut incomplete) = (0, 0);
    for path in files {
        let (imported, inputs) = import_file(&path);
        let case = path.file_stem().unwrap().to_string_lossy().into_owned();
        let parsed = sluice_dsl::parse(&imported.flow);
        assert!(
            parsed.errors.is_empty(),
            "{case}: the flow does not parse:\n{}",
            imported.flow
        );
        assert_eq!(
            sluice_dsl::format(&imported.flow, &parsed.file),
            imported.flow,
            "{case}: the flow is not formatted"
        );
        let checked = check(&SourceFile::new(
            format!("{case}.flow"),
            imported.flow.clone(),
        ));
        if imported.complete() {
            complete += 1;
            assert!(
                !checked.has_errors(),
                "{case}: complete, but `sluice check` fails: {:#?}",
                checked.diagnostics
            );
        } else {
            incomplete += 1;
            assert!(
                imported
                    .findings
                    .iter()
                    .any(|f| f.level == import::Level::Error),
                "{case}: incomplete without an error"
            );
        }
        let report = import::render_human(&imported, &inputs);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(path.parent().unwrap());
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(&path);
        settings.bind(|| {
            insta::assert_snapshot!(case, format!("{report}\n{}", imported.flow));
        });
    }
    assert!(
        complete >= 10 && incomplete >= 10,
        "{complete} complete, {incomplete} incomplete"
    );
}

#[test]
fn later_files_override_earlier_keys() {
    let base = b"a1.sources = r1\na1.channels = c1\na1.sinks = k1\n\
                 a1.sources.r1.type = seq\na1.sources.r1.channels = c1\n\
                 a1.channels.c1.type = memory\na1.channels.c1.capacity = 100\n\
                 a1.sinks.k1.type = null\na1.sinks.k1.channel = c1\n";
    let overrides = b"a1.channels.c1.capacity = 5000\na1.channels.c1.transactionCapacity = 500\n";
    let inputs = vec![
        Input {
            name: "base.properties".into(),
            bytes: base.to_vec(),
        },
        Input {
            name: "override.properties".into(),
            bytes: overrides.to_vec(),
        },
    ];
    let imported = import::import(&inputs, &Options::default()).unwrap();
    assert!(imported.complete(), "{:#?}", imported.findings);
    assert!(
        imported.flow.contains("capacity = 5_000"),
        "{}",
        imported.flow
    );
    assert!(
        imported.flow.contains("transaction_capacity = 500"),
        "{}",
        imported.flow
    );
}

#[test]
fn several_agents_need_a_choice() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("import/two_agents.properties");
    let inputs = vec![Input {
        name: "two".into(),
        bytes: std::fs::read(path).unwrap(),
    }];
    let err = import::import(&inputs, &Options::default()).unwrap_err();
    assert_eq!(
        err,
        import::ImportError::Ambiguous(vec!["edge".into(), "collector".into()])
    );
    let edge = import::import(
        &inputs,
        &Options {
            agent: Some("edge".into()),
        },
    )
    .unwrap();
    assert!(edge.flow.contains("sink k1 = sluice"), "{}", edge.flow);
    assert!(matches!(
        import::import(
            &inputs,
            &Options {
                agent: Some("nope".into())
            }
        ),
        Err(import::ImportError::UnknownAgent { .. })
    ));
}

/// The imported agent runs: Flume's seq → static interceptor → memory → file_roll, with
/// the directory from the environment, writes every number once with its header.
#[test]
fn an_imported_configuration_builds_and_delivers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("import/seq_file_roll.properties");
    let (imported, _) = import_file(&path);
    assert!(imported.complete(), "{:#?}", imported.findings);
    let dir = support::temp_dir("import");
    let flow = dir.join("imported.flow");
    std::fs::write(&flow, &imported.flow).unwrap();
    let agent = support::build_agent_from(&flow, "imported.flow");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut child = support::Running(
        std::process::Command::new(&agent)
            .env("OUT_DIR", &out)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let status = support::wait(&mut child, Duration::from_secs(60));
    assert!(status.success(), "the agent failed: {status}");
    let lines = support::output_lines(&out);
    assert_eq!(lines.len(), 500, "{:?}", &lines[..lines.len().min(5)]);
    let mut numbers: Vec<u64> = lines
        .iter()
        .map(|l| {
            assert!(l.contains("origin=flume"), "{l}");
            l.rsplit(' ').next().unwrap().parse().unwrap()
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (0..500).collect::<Vec<_>>());
}
