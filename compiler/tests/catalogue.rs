//! The catalogue is consistent: every default is a valid value of its parameter, every
//! required parameter has a usable example, and SPEC §3's rule holds — no sink's default
//! `batch_size` exceeds any channel's default `transaction_capacity`.

use sluice_compiler::check::params::example;
use sluice_compiler::{check, Code, SourceFile};
use sluice_runtime::catalogue::{self, Purpose, Role};

#[test]
fn every_default_and_example_passes_the_parameter_checks() {
    for spec in catalogue::all() {
        let mut params: Vec<String> = Vec::new();
        for p in &spec.params {
            match (p.required, p.default) {
                (true, _) => params.push(format!("{} = {}", p.name, example(&p.ty))),
                (false, Some(d)) => params.push(format!("{} = {d}", p.name)),
                _ => {}
            }
        }
        for group in spec.requires_one_of {
            params.push(format!("{} = \"x\"", group[0]));
        }
        let text = match spec.role {
            Role::Agent => format!("agent \"a\" {{\n{}\n}}\n", params.join("\n")),
            role => format!(
                "{role} under_test = {} {{\n{}\n}}\n",
                spec.kind,
                params.join("\n")
            ),
        };
        let checked = check(&SourceFile::new("catalogue.flow", text.clone()));
        let param_errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| {
                matches!(
                    d.code,
                    Code::Syntax
                        | Code::TypeMismatch
                        | Code::InvalidValue
                        | Code::UnknownParam
                        | Code::MissingParam
                        | Code::ExprType
                )
            })
            .collect();
        assert!(
            param_errors.is_empty(),
            "{} {}:\n{text}\n{param_errors:#?}",
            spec.role,
            spec.kind
        );
    }
}

#[test]
fn default_batch_sizes_fit_default_transaction_capacities() {
    let default_of = |spec: &catalogue::ComponentSpec, purpose: Purpose| -> Option<i64> {
        spec.param_for(purpose)?
            .default?
            .replace('_', "")
            .parse()
            .ok()
    };
    let smallest_tx = catalogue::all()
        .iter()
        .filter(|s| s.role == Role::Channel)
        .filter_map(|s| default_of(s, Purpose::TransactionCapacity))
        .min()
        .expect("channels have transaction_capacity defaults");
    for spec in catalogue::all()
        .iter()
        .filter(|s| matches!(s.role, Role::Sink | Role::Source))
    {
        if let Some(batch) = default_of(spec, Purpose::Batch) {
            assert!(
                batch <= smallest_tx,
                "{} {}: default batch_size {batch} > {smallest_tx}",
                spec.role,
                spec.kind
            );
        }
    }
}

#[test]
fn kinds_are_unique_per_role_and_documented() {
    let mut seen = std::collections::HashSet::new();
    for spec in catalogue::all() {
        assert!(
            seen.insert((spec.role, spec.kind)),
            "{} {} registered twice",
            spec.role,
            spec.kind
        );
        assert!(!spec.doc.is_empty(), "{} has no doc comment", spec.kind);
        for p in &spec.params {
            assert!(
                !p.doc.is_empty(),
                "{}.{} has no doc comment",
                spec.kind,
                p.name
            );
        }
    }
}

/// The cargo features of `runtime/Cargo.toml`: each name and what it enables.
fn runtime_features() -> Vec<(String, String)> {
    let manifest = include_str!("../../runtime/Cargo.toml");
    let section = manifest
        .split("[features]")
        .nth(1)
        .expect("runtime/Cargo.toml has [features]");
    section
        .lines()
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split_once(" = "))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

/// A component is one file plus one registry line: its feature, the `full` list (which
/// CI's per-feature check reads) and its docs page follow from its declaration. This test
/// says what is missing when they do not.
#[test]
fn every_component_has_its_feature_in_the_runtime_manifest_and_in_full() {
    let features = runtime_features();
    let full = &features
        .iter()
        .find(|(name, _)| name == "full")
        .expect("a `full` feature")
        .1;
    for spec in catalogue::all()
        .iter()
        .filter(|s| s.role != Role::Agent && s.buildable())
    {
        let declared = features.iter().find(|(name, _)| name == spec.feature);
        let Some((_, enables)) = declared else {
            panic!(
                "{} {}: add `{} = [\"agent\", ...its dependencies]` to [features] in runtime/Cargo.toml",
                spec.role, spec.kind, spec.feature
            );
        };
        assert!(
            enables.contains("\"agent\""),
            "feature {} must enable \"agent\"",
            spec.feature
        );
        assert!(
            full.contains(&format!("\"{}\"", spec.feature)),
            "{} {}: add \"{}\" to the `full` feature of runtime/Cargo.toml (CI checks each feature of `full` alone)",
            spec.role,
            spec.kind,
            spec.feature
        );
    }
}

/// The features the code generator adds besides the components' own exist.
#[test]
fn support_features_exist() {
    let features = runtime_features();
    for feature in catalogue::features::ALL {
        assert!(
            features.iter().any(|(name, _)| name == feature),
            "runtime/Cargo.toml has no feature `{feature}`"
        );
    }
}

/// Every component file under `runtime/src/{sources,channels,sinks,transforms,groups}/`
/// that derives `Component` is in the registry (`catalogue::all`).
#[test]
fn every_component_file_is_registered() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/src");
    for role in [
        Role::Source,
        Role::Channel,
        Role::Sink,
        Role::Transform,
        Role::Group,
    ] {
        let dir = root.join(format!("{}s", role.keyword()));
        for entry in std::fs::read_dir(&dir).unwrap() {
            let mut path = entry.unwrap().path();
            if path.is_dir() {
                // A component split into several files declares itself in its `mod.rs`.
                path = path.join("mod.rs");
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for attribute in text.split("#[component(").skip(1) {
                let kind = attribute
                    .split("kind = \"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or_else(|| panic!("{}: #[component] without a kind", path.display()));
                assert!(
                    catalogue::find(role, kind).is_some(),
                    "{} declares {role} `{kind}` but catalogue::all() does not list it: add its \
                     line to runtime/src/catalogue.rs",
                    path.display()
                );
            }
        }
    }
}

/// Every purpose attribute word names the purpose the catalogue says it does (the derive
/// turns the word into the variant).
#[test]
fn purpose_words_name_their_variants() {
    for (word, purpose) in Purpose::ATTRIBUTES {
        let variant = catalogue::EnumWords::variant(word);
        assert_eq!(format!("{purpose:?}"), variant);
    }
}
