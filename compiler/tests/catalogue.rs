//! The catalogue is consistent: every default is a valid value of its parameter, every
//! required parameter has a usable example, and SPEC §3's rule holds — no sink's default
//! `batch_size` exceeds any channel's default `transaction_capacity`.

use sluice_compiler::check::params::example;
use sluice_compiler::{check, Code, SourceFile};
use sluice_runtime::catalogue::{self, Role};

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
    let default_of = |spec: &catalogue::ComponentSpec, name: &str| -> Option<i64> {
        spec.param(name)?.default?.replace('_', "").parse().ok()
    };
    let smallest_tx = catalogue::all()
        .iter()
        .filter(|s| s.role == Role::Channel)
        .filter_map(|s| default_of(s, "transaction_capacity"))
        .min()
        .expect("channels have transaction_capacity defaults");
    for spec in catalogue::all()
        .iter()
        .filter(|s| matches!(s.role, Role::Sink | Role::Source))
    {
        if let Some(batch) = default_of(spec, "batch_size") {
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
