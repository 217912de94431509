//! The grammar's unit keywords and `sluice_core::units` are one table: every unit the
//! grammar admits has a value there, and every unit there reads as a literal.

use sluice_dsl::{parse_value, Literal};

/// The alternatives of a `NAME = { "a" | "b" }` rule in `flow.pest`.
fn grammar_units(rule: &str) -> Vec<String> {
    let grammar = include_str!("../src/flow.pest");
    let line = grammar
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{rule} ")))
        .unwrap_or_else(|| panic!("flow.pest has no rule {rule}"));
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn grammar_units_are_the_core_tables() {
    let mut durations = grammar_units("duration_unit");
    let mut sizes = grammar_units("size_unit");
    durations.sort();
    sizes.sort();
    let mut core_durations: Vec<String> = sluice_core::units::DURATION_UNITS
        .iter()
        .map(|(u, _)| u.to_string())
        .collect();
    let mut core_sizes: Vec<String> = sluice_core::units::SIZE_UNITS
        .iter()
        .map(|(u, _)| u.to_string())
        .collect();
    core_durations.sort();
    core_sizes.sort();
    assert_eq!(
        durations, core_durations,
        "flow.pest duration_unit vs sluice_core::units"
    );
    assert_eq!(
        sizes, core_sizes,
        "flow.pest size_unit vs sluice_core::units"
    );
}

#[test]
fn every_unit_reads_as_its_value() {
    for (unit, millis) in sluice_core::units::DURATION_UNITS {
        let v = parse_value(&format!("3{unit}")).expect("parses");
        assert_eq!(
            v.literal(),
            Some(&Literal::Duration(std::time::Duration::from_millis(
                3 * millis
            )))
        );
    }
    for (unit, bytes) in sluice_core::units::SIZE_UNITS {
        let v = parse_value(&format!("3{unit}")).expect("parses");
        assert_eq!(v.literal(), Some(&Literal::Size(3 * bytes)), "{unit}");
    }
}
