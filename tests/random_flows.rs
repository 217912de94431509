//! Random valid flows: whatever names and wiring a flow uses, if `sluice check` accepts
//! it, the generated crate compiles. The property runs on many flows for what can be
//! seen without rustc (the code parses, type and field names are unique); a bounded
//! sample (`SLUICE_RANDOM_FLOWS`, default 3) is compiled with `cargo check` against the
//! runtime. `bench/random_flows.sh` runs a longer sample.
//!
//! Names come from a pool of ones that broke code generation before or look like they
//! could: Rust keywords, names that camel-case alike (`a_b`, `a__b`, `ab`), names that
//! equal another component's generated identifiers (`x_config`, `counters_f`).

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use sluice_compiler::build::{write_crate, BuildOptions};
use sluice_compiler::{check, codegen, SourceFile};

const POOL: &[&str] = &[
    "type",
    "match",
    "in",
    "self_",
    "fn",
    "mod",
    "a_b",
    "a__b",
    "ab",
    "a1",
    "a_1",
    "_a",
    "x_config",
    "config_sink_x",
    "counters_f",
    "f_counters",
    "to_c",
    "ch_x",
    "batch",
    "events",
    "key",
    "target",
    "ctx",
    "value",
    "event",
    "output",
    "Output",
    "members",
    "run",
    "main",
    "AGENT",
    "sink_k",
    "k_from_c",
    "src",
    "buf",
    "logs",
];

/// One random flow's choices.
#[derive(Clone, Debug)]
struct Plan {
    /// 14 distinct names, one per component slot.
    names: Vec<&'static str>,
    /// How source 1 delivers: a list, a route, or two flows.
    first: u8,
    /// Source 1's transforms, as a permutation of (set, filter, static), and how many.
    chain: (Vec<usize>, usize),
    /// Source 2 uses the shared filter.
    shared_filter: bool,
    /// How source 2 delivers: straight, or a route with a `drop` arm.
    second: u8,
    /// Channel 2 drains into sink 1 (drained twice) or sink 2.
    c2_into_k1: bool,
    /// Channel 2 also drains into the group (a group drained twice).
    c2_into_group: bool,
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        Just(POOL.to_vec()).prop_shuffle(),
        0u8..3,
        (Just(vec![0usize, 1, 2]).prop_shuffle(), 0usize..=3),
        any::<bool>(),
        0u8..2,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(names, first, chain, shared_filter, second, c2_into_k1, c2_into_group)| Plan {
                names: names.into_iter().take(14).collect(),
                first,
                chain,
                shared_filter,
                second,
                c2_into_k1,
                c2_into_group,
            },
        )
}

/// The flow text of a plan. Every flow uses the same kinds, so every sample compiles
/// against one build of the runtime.
fn flow(plan: &Plan) -> String {
    let n = |i: usize| plan.names[i];
    let (s1, s2, set, filter, stat, c1, c2, c3, k1, k2, k3, k4, g) = (
        n(0),
        n(1),
        n(2),
        n(3),
        n(4),
        n(5),
        n(6),
        n(7),
        n(8),
        n(9),
        n(10),
        n(11),
        n(12),
    );
    let mut text = format!(
        "agent \"random\" {{ shutdown_timeout = 1s }}\n\
         source {s1} = seq {{ count = 5 }}\n\
         source {s2} = seq {{ count = 5, body = \"b\" }}\n\
         transform {set} = set {{ headers = {{ x = str(len(body) % 2), y = .x + \"!\" }} }}\n\
         transform {filter} = filter {{ when = .x != \"1\" || !exists(.y) }}\n\
         transform {stat} = static {{ key = \"k\", value = \"v\" }}\n\
         channel {c1} = memory\n\
         channel {c2} = memory\n\
         channel {c3} = memory\n\
         sink {k1} = null\n\
         sink {k2} = logger\n\
         sink {k3} = null\n\
         sink {k4} = null\n\
         group {g} = failover {{ sinks = [{k3}, {k4}] }}\n"
    );
    let transforms = [set, filter, stat];
    let chain: String = plan.chain.0[..plan.chain.1]
        .iter()
        .map(|&i| format!(" | {}", transforms[i]))
        .collect();
    match plan.first {
        0 => text += &format!("flow {s1}{chain} -> [{c1}, {c2}]\n"),
        1 => {
            text += &format!("flow {s1}{chain} -> route .x {{\n  \"1\" => {c1}\n  _ => {c2}\n}}\n")
        }
        _ => {
            text += &format!("flow {s1}{chain} -> {c1}\n");
            text += &format!("flow {s1} | {stat} -> {c2}\n");
        }
    }
    let shared = if plan.shared_filter {
        format!(" | {set} | {filter}")
    } else {
        String::new()
    };
    match plan.second {
        0 => text += &format!("flow {s2}{shared} -> {c3}\n"),
        _ => {
            text += &format!(
                "flow {s2}{shared} -> route body {{\n  \"b\", \"c\" => {c3}\n  \"d\" => drop\n  _ => {c2}\n}}\n"
            )
        }
    }
    text += &format!("flow {c1} -> {k1}\n");
    if plan.c2_into_k1 {
        text += &format!("flow {c2} -> {k1}\nflow {c2} -> {k2}\n");
    } else {
        text += &format!("flow {c2} -> {k2}\n");
    }
    text += &format!("flow {c3} -> {g}\n");
    if plan.c2_into_group {
        text += &format!("flow {c2} -> {g}\n");
    }
    text
}

/// The generated `main.rs` of a flow that must check clean.
fn generate(text: &str) -> codegen::Generated {
    let source = SourceFile::new("random.flow", text.to_owned());
    let checked = check(&source);
    assert!(
        !checked.has_errors(),
        "the generator wrote a flow with errors:\n{text}\n{:#?}",
        checked.diagnostics
    );
    codegen::generate(&source, &checked)
        .unwrap_or_else(|d| panic!("cannot generate:\n{text}\n{d:#?}"))
}

/// Problems rustc would report that a syntax tree shows: two items with one name, two
/// fields with one name.
fn duplicate_names(main_rs: &str) -> Option<String> {
    let file = syn::parse_file(main_rs).expect("generated code parses");
    let mut items = HashSet::new();
    for item in &file.items {
        let (name, fields) = match item {
            syn::Item::Struct(s) => (s.ident.to_string(), Some(&s.fields)),
            syn::Item::Fn(f) => (f.sig.ident.to_string(), None),
            syn::Item::Static(s) => (s.ident.to_string(), None),
            syn::Item::Const(c) => (c.ident.to_string(), None),
            _ => continue,
        };
        if !items.insert(name.clone()) {
            return Some(format!("item `{name}` is defined twice"));
        }
        let mut seen = HashSet::new();
        for field in fields.into_iter().flatten() {
            let field = field
                .ident
                .as_ref()
                .map(|i| i.to_string())
                .unwrap_or_default();
            if !seen.insert(field.clone()) {
                return Some(format!("`{name}` has the field `{field}` twice"));
            }
        }
    }
    None
}

proptest! {
    #![proptest_config(Config { cases: 200, failure_persistence: None, ..Config::default() })]

    #[test]
    fn every_checked_flow_generates_code_without_clashing_names(plan in plan()) {
        let text = flow(&plan);
        let generated = generate(&text);
        if let Some(problem) = duplicate_names(&generated.main_rs) {
            panic!("{problem}\n--- flow ---\n{text}\n--- main.rs ---\n{}", generated.main_rs);
        }
    }
}

#[test]
fn a_sample_of_random_flows_compiles() {
    let count: usize = std::env::var("SLUICE_RANDOM_FLOWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let seed = std::env::var("SLUICE_RANDOM_FLOWS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_u64);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = workspace.join("target");
    for i in 0..count {
        let plan = plan().new_tree(&mut runner).unwrap().current();
        let text = flow(&plan);
        let generated = generate(&text);
        let crate_dir = target.join("random-flows").join(format!("flow{i}"));
        let options = BuildOptions {
            cache_dir: Some(target.join("sluice-cache")),
            emit_crate: Some(crate_dir.clone()),
            ..Default::default()
        };
        write_crate(&generated, "random.flow", &options).unwrap();
        let output = Command::new(env!("CARGO"))
            .arg("check")
            .arg("--quiet")
            .arg("--manifest-path")
            .arg(crate_dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target.join("agents"))
            .env("RUSTFLAGS", "-D warnings")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "random flow {i} (seed {seed}) does not compile:\n{text}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
