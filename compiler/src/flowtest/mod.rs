//! `sluice test`: runs the `test` blocks of a flow file in process.
//!
//! Stages: the flow is checked and lowered to the IR as for `sluice build`; [`spec`]
//! reads each test block (names checked against the flow, conditions typed); for each
//! test a fresh [`interp::Interpreter`] takes the events sent, flushes the aggregates
//! as a shutdown would, and the expectations are evaluated on what reached each channel.
//! A failed expectation is a diagnostic (`test-failed`) at the expectation, with the
//! event that broke it. See docs/testing.md.

pub mod eval;
pub mod interp;
pub mod spec;

use std::time::{Duration, Instant};

use sluice_dsl::{Item, Span};
use sluice_runtime::event::Event;

use crate::diagnostic::{Code, Diagnostic};
use crate::{check, ir, SourceFile};
use interp::Interpreter;
use spec::{Check, Expect, TestCase};

/// The outcome of one test.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    pub span: Span,
    /// Empty when the test passed.
    pub failures: Vec<Diagnostic>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Everything `sluice test` found in one file.
#[derive(Debug, Default)]
pub struct FileReport {
    /// Why the tests could not run: the flow's or the tests' own errors.
    pub problems: Vec<Diagnostic>,
    pub outcomes: Vec<Outcome>,
}

/// The `test` blocks of a file, in order.
fn test_decls(file: &sluice_dsl::File) -> Vec<&sluice_dsl::TestDecl> {
    file.items
        .iter()
        .filter_map(|i| match i {
            Item::Test(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// The mistakes in a checked flow's `test` blocks (unknown names, conditions of the
/// wrong type, duplicate names); none when the flow has errors of its own or no tests.
pub fn check_tests(source: &SourceFile, checked: &crate::Checked) -> Vec<Diagnostic> {
    let tests = test_decls(&checked.file);
    if tests.is_empty() || checked.has_errors() {
        return Vec::new();
    }
    let Ok(flow) = ir::lower(source, checked) else {
        return Vec::new();
    };
    let mut diags = Vec::new();
    for (i, decl) in tests.iter().enumerate() {
        if let Some(first) = tests[..i].iter().find(|t| t.name.value == decl.name.value) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    decl.name.span,
                    format!("a second test named {:?}", decl.name.value),
                )
                .label("same name as an earlier test")
                .note(first.name.span, "the first one")
                .help("give each test its own name, so a failure says which one"),
            );
        }
        spec::read(decl, &flow, source, &mut diags);
    }
    diags
}

/// Runs the tests of a flow file.
pub fn run(source: &SourceFile) -> FileReport {
    let mut report = FileReport::default();
    let checked = check(source);
    let tests = test_decls(&checked.file);
    if tests.is_empty() {
        return report;
    }
    let flow = match ir::lower(source, &checked) {
        Ok(flow) => flow,
        Err(diags) => {
            report.problems = diags
                .into_iter()
                .filter(|d| d.severity == crate::Severity::Error)
                .collect();
            return report;
        }
    };
    report.problems = check_tests(source, &checked);
    if !report.problems.is_empty() {
        return report;
    }
    let cases: Vec<TestCase> = tests
        .iter()
        .map(|decl| spec::read(decl, &flow, source, &mut Vec::new()))
        .collect();
    for case in &cases {
        let started = Instant::now();
        let failures = match run_case(case, &flow) {
            Ok(f) => f,
            Err(why) => vec![Diagnostic::new(Code::TestFailed, case.span, why)],
        };
        report.outcomes.push(Outcome {
            name: case.name.clone(),
            span: case.span,
            failures,
            elapsed: started.elapsed(),
        });
    }
    report
}

fn run_case(case: &TestCase, flow: &ir::Flow) -> Result<Vec<Diagnostic>, String> {
    let mut interp = Interpreter::new(flow)?;
    for send in &case.sends {
        interp.send(&send.entry, &send.events);
    }
    interp.flush();
    let mut failures = Vec::new();
    for expect in &case.expects {
        let events: Vec<&Event> = expect
            .channels
            .iter()
            .flat_map(|c| interp.delivered.get(c).into_iter().flatten())
            .collect();
        evaluate(expect, &events, &mut failures);
    }
    Ok(failures)
}

fn evaluate(expect: &Expect, events: &[&Event], failures: &mut Vec<Diagnostic>) {
    let target = &expect.target;
    let mut regexes = eval::Regexes::default();
    let fail = |span: Span, message: String, shown: &[(usize, &Event)]| {
        let mut d = Diagnostic::new(Code::TestFailed, span, message).label("this expectation");
        if !shown.is_empty() {
            let lines: Vec<String> = shown
                .iter()
                .take(5)
                .map(|(i, e)| format!("event {}: {}", i + 1, describe(e)))
                .collect();
            d = d.help(lines.join("\n"));
        }
        d
    };
    let numbered: Vec<(usize, &Event)> = events.iter().copied().enumerate().collect();
    for check in &expect.checks {
        match check {
            Check::Count(n, span) => {
                if events.len() as u64 != *n {
                    failures.push(fail(
                        *span,
                        format!(
                            "expected {n} event{} at `{target}`, got {}",
                            plural(*n),
                            events.len()
                        ),
                        &numbered,
                    ));
                }
            }
            Check::All(cond, span) => {
                let bad: Vec<(usize, &Event)> = numbered
                    .iter()
                    .filter(|(_, e)| !eval::condition(cond, e, &mut regexes))
                    .copied()
                    .collect();
                if !bad.is_empty() {
                    failures.push(fail(
                        *span,
                        format!(
                            "{} of {} events at `{target}` do not meet the condition",
                            bad.len(),
                            events.len()
                        ),
                        &bad,
                    ));
                }
            }
            Check::Any(cond, span) => {
                if !events
                    .iter()
                    .any(|e| eval::condition(cond, e, &mut regexes))
                {
                    failures.push(fail(
                        *span,
                        format!(
                            "none of the {} events at `{target}` meets the condition",
                            events.len()
                        ),
                        &numbered,
                    ));
                }
            }
            Check::NoneOf(cond, span) => {
                let bad: Vec<(usize, &Event)> = numbered
                    .iter()
                    .filter(|(_, e)| eval::condition(cond, e, &mut regexes))
                    .copied()
                    .collect();
                if !bad.is_empty() {
                    failures.push(fail(
                        *span,
                        format!(
                            "{} event{} at `{target}` meet the condition, which none should",
                            bad.len(),
                            plural(bad.len() as u64)
                        ),
                        &bad,
                    ));
                }
            }
            Check::Events(conds, span) => {
                if conds.len() != events.len() {
                    failures.push(fail(
                        *span,
                        format!(
                            "expected {} event{} at `{target}` in this order, got {}",
                            conds.len(),
                            plural(conds.len() as u64),
                            events.len()
                        ),
                        &numbered,
                    ));
                }
                for ((i, event), (cond, cond_span)) in numbered.iter().zip(conds) {
                    if !eval::condition(cond, event, &mut regexes) {
                        failures.push(fail(
                            *cond_span,
                            format!("event {} at `{target}` does not meet its condition", i + 1),
                            &[(*i, event)],
                        ));
                    }
                }
            }
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `body "…" headers {k="v", …}`, cut to a readable length.
pub fn describe(event: &Event) -> String {
    let mut body = event.body_text().into_owned();
    if body.chars().count() > 120 {
        body = body.chars().take(117).collect::<String>() + "...";
    }
    let headers: Vec<String> = event
        .headers
        .iter()
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("body {body:?} headers {{{}}}", headers.join(", "))
}
