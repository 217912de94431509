//! The checker never panics, whatever the input: random mutations of the example flows
//! (bytes deleted, duplicated, replaced) are checked and rendered in every format.

use proptest::prelude::*;
use sluice_compiler::{check_with, render, SourceFile};

fn examples() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../flows");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    out.sort();
    out
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Duplicate(usize, usize),
    Insert(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 1..80usize).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        (any::<usize>(), "[ -~\n]{1,8}").prop_map(|(a, s)| Edit::Insert(a, s)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut s = text.to_owned();
    for e in edits {
        let at = |i: usize, s: &str| {
            let mut i = i % (s.len() + 1);
            while !s.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        match e {
            Edit::Delete(a, n) => {
                let start = at(*a, &s);
                let end = at(start + n, &s).max(start);
                s.replace_range(start..end, "");
            }
            Edit::Duplicate(a, n) => {
                let start = at(*a, &s);
                let end = at(start + n, &s).max(start);
                let piece = s[start..end].to_owned();
                s.insert_str(end, &piece);
            }
            Edit::Insert(a, text) => {
                let i = at(*a, &s);
                s.insert_str(i, text);
            }
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn checker_never_panics_on_mutated_flows(which in 0..9usize, edits in prop::collection::vec(edit(), 1..6)) {
        let examples = examples();
        let text = apply(&examples[which % examples.len()], &edits);
        let source = SourceFile::new("mutated.flow", text);
        let checked = check_with(&source, false);
        let named = miette::NamedSource::new(source.name.clone(), source.text.clone());
        for d in &checked.diagnostics {
            prop_assert!(d.span.end <= source.text.len());
            let _ = render::human(&source, &named, d, false);
        }
        let _ = render::json(&[(&source, &checked.diagnostics[..])]);
        let _ = render::github(&source, &checked.diagnostics);
    }
}
