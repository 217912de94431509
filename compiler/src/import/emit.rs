//! Writes the plan as a `.flow`, formats it as `sluice fmt` would, and checks it: what
//! `sluice check` says about the result becomes part of the report.

use super::config::Agent;
use super::translate::{Decl, Report};
use super::{values, Finding, Level, Plan};
use crate::{check_with, Severity, SourceFile};

/// The flow text for the plan.
pub fn write(agent: &Agent, plan: &Plan, input_name: &str, report: &mut Report) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "# Imported from {} (Flume agent `{}`) by `sluice import`.\n",
        values::comment(input_name),
        values::comment(&agent.name)
    ));
    text.push_str("# Flume's defaults are written out; the import's report lists what differs.\n");
    for gap in &plan.gaps {
        text.push_str(&format!("# sluice import: {}\n", values::comment(gap)));
    }
    text.push_str(&format!("agent {}\n", values::string(&agent.name)));
    for decls in [
        &plan.sources,
        &plan.transforms,
        &plan.channels,
        &plan.sinks,
        &plan.groups,
    ] {
        if decls.is_empty() {
            continue;
        }
        text.push('\n');
        for d in decls.iter() {
            // Each gap is commented where it is, as well as in the report.
            let gaps: Vec<&str> = report
                .findings
                .iter()
                .filter(|f| f.level == Level::Error && f.subject.as_deref() == Some(&d.name))
                .map(|f| f.message.as_str())
                .collect();
            for gap in gaps {
                text.push_str(&format!("# sluice import: {}\n", values::comment(gap)));
            }
            text.push_str(&decl(d));
        }
    }
    if !plan.flows.is_empty() {
        text.push('\n');
        for f in &plan.flows {
            text.push_str(f);
            text.push('\n');
        }
    }
    let parsed = sluice_dsl::parse(&text);
    if !parsed.errors.is_empty() {
        // A bug in the importer: say so rather than hand out a broken file.
        report.findings.push(Finding::at(
            Level::Error,
            0,
            0,
            "internal",
            "the produced flow does not parse; please report this configuration".to_owned(),
        ));
        return text;
    }
    let formatted = sluice_dsl::format(&text, &parsed.file);
    let source = SourceFile::new("imported.flow".to_owned(), formatted.clone());
    // What the importer already reported at the Flume lines is not repeated.
    let said: Vec<&'static str> = report
        .findings
        .iter()
        .map(|f| f.code)
        .filter(|c| matches!(*c, "capacity" | "dead-end"))
        .collect();
    for d in check_with(&source, false).diagnostics {
        if said.contains(&d.code.as_str()) {
            continue;
        }
        let at = source.line_col(d.span.start);
        let level = match d.severity {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
        };
        report.findings.push(Finding::at(
            level,
            0,
            0,
            "check",
            format!(
                "the produced flow, line {}: {}[{}]: {}",
                at.line,
                d.severity.as_str(),
                d.code.as_str(),
                d.message
            ),
        ));
    }
    formatted
}

fn decl(d: &Decl) -> String {
    let mut out = String::new();
    for note in &d.notes {
        out.push_str(&format!("# {}\n", values::comment(note)));
    }
    out.push_str(&format!("{} {} = {}", d.role, d.name, d.kind));
    if d.params.is_empty() {
        out.push('\n');
        return out;
    }
    out.push_str(" {\n");
    for (param, value) in &d.params {
        out.push_str(&format!("    {param} = {value}\n"));
    }
    out.push_str("}\n");
    out
}
