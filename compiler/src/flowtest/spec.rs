//! Reads a `test "…" { send = {…}, expect = {…} }` block into a test case, checking
//! every name against the flow and typing every condition as the checker types
//! expressions.

use sluice_dsl::{Literal, MapEntry, Span, TestDecl, Value, ValueKind};
use sluice_runtime::event::Event;

use super::interp::Entry;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{self, DrainTarget, Flow, Step};
use crate::SourceFile;
use sluice_core::functions::ExprType;

/// One test of a flow.
pub struct TestCase {
    pub name: String,
    pub span: Span,
    pub sends: Vec<Send>,
    pub expects: Vec<Expect>,
}

/// Events injected at one place.
pub struct Send {
    pub entry: Entry,
    pub events: Vec<Event>,
}

/// What must have reached one channel, sink or group.
pub struct Expect {
    /// As written: a channel, sink or group name.
    pub target: String,
    pub span: Span,
    /// The channels whose events it sees.
    pub channels: Vec<String>,
    pub checks: Vec<Check>,
}

/// One expectation about the events that reached a target.
pub enum Check {
    /// `count = N`
    Count(u64, Span),
    /// `all = COND`: every event meets it (vacuously true for none).
    All(ir::Expr, Span),
    /// `any = COND`: at least one event meets it.
    Any(ir::Expr, Span),
    /// `none = COND`: no event meets it.
    NoneOf(ir::Expr, Span),
    /// `events = [COND, …]`: exactly as many events, the i-th meeting the i-th.
    Events(Vec<(ir::Expr, Span)>, Span),
}

/// Reads a test block; problems become diagnostics.
pub fn read(
    decl: &TestDecl,
    flow: &Flow,
    source: &SourceFile,
    diags: &mut Vec<Diagnostic>,
) -> TestCase {
    let mut case = TestCase {
        name: decl.name.value.clone(),
        span: decl.span,
        sends: Vec::new(),
        expects: Vec::new(),
    };
    for param in &decl.params.params {
        match param.name.name.as_str() {
            "send" => match &param.value.kind {
                ValueKind::Map(entries) => {
                    for entry in entries {
                        if let Some(send) = send(entry, flow, &source.text, diags) {
                            case.sends.push(send);
                        }
                    }
                }
                _ => diags.push(shape(&param.value, "`send` takes a map: `send = { SOURCE = [\"line\", { body = \"…\", headers = { k = \"v\" } }] }`")),
            },
            "expect" => match &param.value.kind {
                ValueKind::Map(entries) => {
                    for entry in entries {
                        if let Some(expect) = expect(entry, flow, diags) {
                            case.expects.push(expect);
                        }
                    }
                }
                _ => diags.push(shape(&param.value, "`expect` takes a map: `expect = { CHANNEL = { count = 1, all = .level == \"error\" } }`")),
            },
            other => diags.push(
                Diagnostic::new(Code::UnknownParam, param.name.span, format!("unknown test parameter `{other}`"))
                    .label("not a test parameter")
                    .help("a test has `send = { … }` and `expect = { … }`"),
            ),
        }
    }
    let written = |key: &str| decl.params.params.iter().any(|p| p.name.name == key);
    if !written("send") && !written("expect") {
        diags.push(
            Diagnostic::new(Code::MissingParam, decl.name.span, "the test sends nothing and expects nothing")
                .help("add `send = { SOURCE = [\"an event\"] }` and `expect = { CHANNEL = { count = 1 } }`"),
        );
    }
    case
}

fn shape(value: &Value, help: &str) -> Diagnostic {
    Diagnostic::new(
        Code::TypeMismatch,
        value.span,
        format!("unexpected {}", value.describe()),
    )
    .label("here")
    .help(help.to_owned())
}

fn names_of(flow: &Flow) -> (Vec<&str>, Vec<&str>) {
    let sources = flow
        .sources
        .iter()
        .map(|s| s.component.name.as_str())
        .collect();
    let mut transforms: Vec<&str> = Vec::new();
    for s in &flow.sources {
        for p in &s.paths {
            for step in &p.steps {
                let name = match step {
                    Step::Runtime { name } | Step::Inline { name, .. } => name.as_str(),
                    Step::Aggregate(a) => a.name.as_str(),
                };
                if !transforms.contains(&name) {
                    transforms.push(name);
                }
            }
        }
    }
    (sources, transforms)
}

fn send(entry: &MapEntry, flow: &Flow, src: &str, diags: &mut Vec<Diagnostic>) -> Option<Send> {
    let (sources, transforms) = names_of(flow);
    let name = entry.key.name.as_str();
    let at = if sources.contains(&name) {
        Entry::Source(name.to_owned())
    } else if transforms.contains(&name) {
        Entry::Transform(name.to_owned())
    } else {
        let known: Vec<&str> = sources.iter().chain(&transforms).copied().collect();
        diags.push(
            Diagnostic::new(
                Code::UndefinedName,
                entry.key.span,
                format!("`{name}` is not a source or transform of a flow"),
            )
            .label("events can be sent here only after a source, or at a transform on a path")
            .maybe_help(crate::suggest::did_you_mean(name, known.iter().copied())),
        );
        return None;
    };
    let ValueKind::List(items) = &entry.value.kind else {
        diags.push(shape(
            &entry.value,
            "events are a list: `[\"a line\", { body = \"…\", headers = { k = \"v\" } }]`",
        ));
        return None;
    };
    let events = items
        .iter()
        .filter_map(|item| event(item, src, diags))
        .collect();
    Some(Send { entry: at, events })
}

/// `"body"` or `{ body = "…", headers = { k = "v", n = 3 } }`.
fn event(value: &Value, src: &str, diags: &mut Vec<Diagnostic>) -> Option<Event> {
    match &value.kind {
        ValueKind::Expr(_) => match value.literal() {
            Some(Literal::Str(s)) => Some(Event::new(s.clone().into_bytes())),
            _ => {
                diags.push(shape(
                    value,
                    "an event is a string (its body) or `{ body = \"…\", headers = { … } }`",
                ));
                None
            }
        },
        ValueKind::Map(entries) => {
            let mut event = Event::new(Vec::<u8>::new());
            for e in entries {
                match (e.key.name.as_str(), &e.value.kind) {
                    ("body", _) => match e.value.literal() {
                        Some(Literal::Str(s)) => event.body = s.clone().into_bytes().into(),
                        _ => diags.push(shape(&e.value, "`body` is a string")),
                    },
                    ("headers", ValueKind::Map(headers)) => {
                        for h in headers {
                            match scalar_text(&h.value, src) {
                                Some(text) => event.headers.set(h.key.name.clone(), text),
                                None => diags.push(shape(
                                    &h.value,
                                    "a header value is a string, number or boolean",
                                )),
                            }
                        }
                    }
                    ("headers", _) => diags.push(shape(
                        &e.value,
                        "`headers` is a map: `headers = { level = \"error\" }`",
                    )),
                    (other, _) => diags.push(
                        Diagnostic::new(
                            Code::UnknownParam,
                            e.key.span,
                            format!("an event has no `{other}`"),
                        )
                        .label("unknown field")
                        .help("an event has `body` and `headers`"),
                    ),
                }
            }
            Some(event)
        }
        _ => {
            diags.push(shape(
                value,
                "an event is a string (its body) or `{ body = \"…\", headers = { … } }`",
            ));
            None
        }
    }
}

/// A header value: a string's text, or a number or boolean exactly as written
/// (`1.10` stays `1.10`, `-3` is `-3`).
fn scalar_text(value: &Value, src: &str) -> Option<String> {
    let written = || src.get(value.span.start..value.span.end).map(str::to_owned);
    if let ValueKind::Expr(sluice_dsl::Expr {
        kind: sluice_dsl::ExprKind::Unary { operand, .. },
        ..
    }) = &value.kind
    {
        return matches!(operand.literal(), Some(Literal::Int(_) | Literal::Float(_)))
            .then(written)
            .flatten()
            .map(|t| t.replace(' ', ""));
    }
    match value.literal()? {
        Literal::Str(s) => Some(s.clone()),
        Literal::Int(_) | Literal::Float(_) | Literal::Bool(_) => written(),
        _ => None,
    }
}

/// Why expectations cannot be about `name`, a sink or group: it is a group's member, or
/// it shares its channel with other sinks (which compete for the events).
fn not_observable(name: &str, flow: &Flow) -> Option<String> {
    for d in &flow.drains {
        if let DrainTarget::Group { group, members } = &d.target {
            if members.iter().any(|m| m.name == name) {
                return Some(format!(
                    "`{name}` is a member of group `{}`: expect on `{}` (its members share the events)",
                    group.name, group.name
                ));
            }
        }
    }
    let drain_name = |t: &DrainTarget| match t {
        DrainTarget::Sink { sink, .. } => sink.name.clone(),
        DrainTarget::Group { group, .. } => group.name.clone(),
    };
    for d in flow.drains.iter().filter(|d| drain_name(&d.target) == name) {
        let others: Vec<String> = flow
            .drains
            .iter()
            .filter(|o| o.channel == d.channel && drain_name(&o.target) != name)
            .map(|o| format!("`{}`", drain_name(&o.target)))
            .collect();
        if !others.is_empty() {
            return Some(format!(
                "`{name}` shares channel `{}` with {}, and they compete for its events: expect on `{}`",
                d.channel,
                others.join(", "),
                d.channel
            ));
        }
    }
    None
}

/// The channels a channel, sink or group name sees.
fn channels_of(name: &str, flow: &Flow) -> Option<Vec<String>> {
    if flow.channels.iter().any(|c| c.name == name) {
        return Some(vec![name.to_owned()]);
    }
    let channels: Vec<String> = flow
        .drains
        .iter()
        .filter(|d| match &d.target {
            DrainTarget::Sink { sink, .. } => sink.name == name,
            DrainTarget::Group { group, .. } => group.name == name,
        })
        .map(|d| d.channel.clone())
        .collect();
    (!channels.is_empty()).then_some(channels)
}

fn expect(entry: &MapEntry, flow: &Flow, diags: &mut Vec<Diagnostic>) -> Option<Expect> {
    let name = entry.key.name.as_str();
    if let Some(why) = not_observable(name, flow) {
        diags.push(
            Diagnostic::new(Code::WrongRole, entry.key.span, why)
                .label("a test cannot tell which events reach this sink"),
        );
        return None;
    }
    let Some(channels) = channels_of(name, flow) else {
        let mut known: Vec<&str> = flow.channels.iter().map(|c| c.name.as_str()).collect();
        for d in &flow.drains {
            known.push(match &d.target {
                DrainTarget::Sink { sink, .. } => sink.name.as_str(),
                DrainTarget::Group { group, .. } => group.name.as_str(),
            });
        }
        diags.push(
            Diagnostic::new(
                Code::UndefinedName,
                entry.key.span,
                format!("`{name}` is not a channel, sink or group of a flow"),
            )
            .label("expectations are about what reaches a channel, sink or group")
            .maybe_help(crate::suggest::did_you_mean(name, known.iter().copied())),
        );
        return None;
    };
    let ValueKind::Map(checks) = &entry.value.kind else {
        diags.push(shape(
            &entry.value,
            "an expectation is a map: `{ count = 2, all = .level == \"error\" }`",
        ));
        return None;
    };
    let mut out = Vec::new();
    for (i, c) in checks.iter().enumerate() {
        let span = c.span;
        let once = matches!(c.key.name.as_str(), "count" | "events");
        if once {
            if let Some(first) = checks[..i].iter().find(|p| p.key.name == c.key.name) {
                diags.push(
                    Diagnostic::new(Code::DuplicateName, c.key.span, format!("`{}` is given twice", c.key.name))
                        .label("second one")
                        .note(first.key.span, "first one")
                        .help("keep one; `all`, `any` and `none` may repeat, `count` and `events` may not"),
                );
                continue;
            }
        }
        match c.key.name.as_str() {
            "count" => match c.value.literal() {
                Some(Literal::Int(n)) if *n >= 0 => out.push(Check::Count(*n as u64, span)),
                _ => diags.push(shape(&c.value, "`count` is a whole number: `count = 0` says nothing reaches it")),
            },
            key @ ("all" | "any" | "none") => {
                let Some(cond) = condition(&c.value, diags) else { continue };
                out.push(match key {
                    "all" => Check::All(cond, span),
                    "any" => Check::Any(cond, span),
                    _ => Check::NoneOf(cond, span),
                });
            }
            "events" => match &c.value.kind {
                ValueKind::List(items) => {
                    let conds = items.iter().filter_map(|i| condition(i, diags).map(|e| (e, i.span))).collect();
                    out.push(Check::Events(conds, span));
                }
                _ => diags.push(shape(&c.value, "`events` is a list of conditions, one per event in order: `events = [body == \"a\", .n == \"2\"]`")),
            },
            other => diags.push(
                Diagnostic::new(Code::UnknownParam, c.key.span, format!("unknown expectation `{other}`"))
                    .label("not an expectation")
                    .help("expectations are `count`, `all`, `any`, `none` and `events`"),
            ),
        }
    }
    Some(Expect {
        target: name.to_owned(),
        span: entry.span,
        channels,
        checks: out,
    })
}

/// A condition, typed as the checker types `filter`'s `when`.
fn condition(value: &Value, diags: &mut Vec<Diagnostic>) -> Option<ir::Expr> {
    let ValueKind::Expr(e) = &value.kind else {
        diags.push(shape(
            value,
            "a condition is an expression: `.level == \"error\"`, `contains(body, \"x\")`",
        ));
        return None;
    };
    let before = diags.len();
    let typed = crate::check::expr::typed(e, diags);
    if diags.len() != before {
        return None;
    }
    if !matches!(typed.ty, ExprType::Bool | ExprType::Any) {
        let help = if typed.ty == ExprType::Header {
            "compare the header, e.g. `.level == \"ERROR\"`, or test it with `exists(.level)`"
        } else {
            "use a comparison, e.g. `.status >= 500`"
        };
        diags.push(
            Diagnostic::new(
                Code::ExprType,
                e.span,
                "an expectation must be a condition, but this is not a boolean",
            )
            .label("not a boolean")
            .help(help),
        );
        return None;
    }
    Some(typed)
}
