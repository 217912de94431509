//! An aggregate's window (`tumbling(1m)`) and the function calls of its `emit`
//! (`sum(int(.bytes))`), checked against `sluice_core::aggregate`: the form exists, it
//! gets the right number of arguments, and each argument is what the function needs
//! (`sum` of a string is an error at the string).

use sluice_core::aggregate::{AggregateArg, AggregateFn, WindowForm};
use sluice_dsl::{Expr, ExprKind, Literal, Param, Span, ValueKind};
use sluice_runtime::catalogue::ParamSpec;

use crate::check::expr::{self, Ty};
use crate::diagnostic::{Code, Diagnostic};
use crate::suggest::did_you_mean;

/// The most windows one event may belong to (the runtime keeps no more).
const MAX_HOPS: u128 = 1_000;

/// The call an expression is, looking through parentheses.
fn call(e: &Expr) -> Option<(&sluice_dsl::Ident, &[Expr])> {
    match &e.kind {
        ExprKind::Call { func, args } => Some((func, args)),
        ExprKind::Paren(inner) => call(inner),
        _ => None,
    }
}

pub(super) fn check_window(field: &ParamSpec, e: &Expr, diags: &mut Vec<Diagnostic>) {
    let forms: Vec<&str> = WindowForm::ALL.iter().map(|w| w.example()).collect();
    let Some((func, args)) = call(e) else {
        diags.push(
            Diagnostic::new(
                Code::TypeMismatch,
                e.span,
                format!("`{}` takes a window", field.name),
            )
            .label("not a window")
            .help(format!("write one of {}", forms.join(", "))),
        );
        return;
    };
    let Some(form) = WindowForm::from_name(&func.name) else {
        let names = WindowForm::ALL.map(WindowForm::name);
        let help = did_you_mean(&func.name, names.iter().copied())
            .unwrap_or_else(|| format!("windows are {}", forms.join(", ")));
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                func.span,
                format!("unknown window `{}`", func.name),
            )
            .label("not a window")
            .help(help),
        );
        return;
    };
    if args.len() != form.args().len() {
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                e.span,
                format!(
                    "`{}` takes {} ({})",
                    form.name(),
                    plural(form.args().len(), "duration"),
                    form.args().join(", ")
                ),
            )
            .label(format!("{} given", args.len()))
            .help(format!("e.g. `{}`", form.example())),
        );
        return;
    }
    let mut millis = Vec::new();
    for (arg, meaning) in args.iter().zip(form.args()) {
        match arg.literal() {
            Some(Literal::Duration(d)) if !d.is_zero() => millis.push(d.as_millis()),
            _ => diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    arg.span,
                    format!(
                        "the {meaning} of a {} window must be a duration above zero",
                        form.name()
                    ),
                )
                .label("expected a duration")
                .help(format!("e.g. `{}`", form.example())),
            ),
        }
    }
    if let (WindowForm::Hopping, [size, every]) = (form, millis.as_slice()) {
        let hops = size.div_ceil(*every.max(&1));
        if every <= size && hops > MAX_HOPS {
            diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    e.span,
                    format!(
                        "each event would be in {hops} windows; at most {MAX_HOPS} are allowed"
                    ),
                )
                .label("the step is too small for the size")
                .help("use a longer step, e.g. `hopping(5m, 1m)`"),
            );
        }
        if every > size {
            diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    e.span,
                    "a hopping window's step is longer than the window: events between windows would be lost",
                )
                .label("every > size")
                .help("use a step no longer than the size, or a tumbling window"),
            );
        }
    }
}

pub(super) fn check_call(e: &Expr, diags: &mut Vec<Diagnostic>) {
    let names: Vec<&str> = AggregateFn::ALL.iter().map(|f| f.name()).collect();
    let Some((func, args)) = call(e) else {
        diags.push(
            Diagnostic::new(
                Code::ExprType,
                e.span,
                "each value of `emit` is an aggregate function",
            )
            .label("not an aggregate function call")
            .help(format!(
                "aggregate functions are {}; compute per-event values inside them, e.g. `sum(int(.bytes))`",
                names.join(", ")
            )),
        );
        return;
    };
    let Some(function) = AggregateFn::from_name(&func.name) else {
        let help = did_you_mean(&func.name, names.iter().copied())
            .unwrap_or_else(|| format!("aggregate functions are {}", names.join(", ")));
        diags.push(
            Diagnostic::new(
                Code::UndefinedName,
                func.span,
                format!("unknown aggregate function `{}`", func.name),
            )
            .label("not an aggregate function")
            .help(help),
        );
        return;
    };
    let wanted = function.args();
    if args.len() != wanted.len() {
        diags.push(
            Diagnostic::new(
                Code::ExprType,
                e.span,
                format!(
                    "`{}` takes {}",
                    function.name(),
                    plural(wanted.len(), "argument")
                ),
            )
            .label(format!("{} given", args.len()))
            .help(format!("e.g. `{}`", function.example())),
        );
        return;
    }
    for (arg, kind) in args.iter().zip(wanted) {
        check_arg(function, *kind, arg, diags);
    }
}

fn check_arg(function: AggregateFn, kind: AggregateArg, arg: &Expr, diags: &mut Vec<Diagnostic>) {
    let name = function.name();
    match kind {
        AggregateArg::Number => {
            let ty = expr::check(arg, diags);
            if !matches!(ty, Ty::Int | Ty::Float | Ty::Any) {
                diags.push(
                    Diagnostic::new(
                        Code::ExprType,
                        arg.span,
                        format!("`{name}` needs a number, but this is {}", ty.describe()),
                    )
                    .label("not a number")
                    .help(format!(
                        "convert it, e.g. `{}`; values that do not convert are counted and skipped",
                        function.example()
                    )),
                );
            }
        }
        AggregateArg::Value => {
            expr::check(arg, diags);
        }
        AggregateArg::Fraction => match arg.literal() {
            Some(Literal::Float(f)) if (0.0..=1.0).contains(f) => {}
            Some(Literal::Int(n)) if *n == 0 || *n == 1 => {}
            _ => diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    arg.span,
                    format!("`{name}` needs a fraction between 0 and 1"),
                )
                .label("expected e.g. 0.99")
                .help(format!("e.g. `{}`", function.example())),
            ),
        },
        AggregateArg::Count => match arg.literal() {
            Some(Literal::Int(n)) if (1..=100).contains(n) => {}
            _ => diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    arg.span,
                    format!("`{name}` needs a count between 1 and 100"),
                )
                .label("expected e.g. 10")
                .help(format!("e.g. `{}`", function.example())),
            ),
        },
    }
}

/// The headers of an aggregate's output events are `window_start`, `window_end`, one per
/// group key (its header name, or `key_N`) and one per `emit` value: two with one name
/// would overwrite each other, so each name must be used once.
pub(super) fn check_output_headers(params: &[Param], diags: &mut Vec<Diagnostic>) {
    let mut taken: Vec<(String, &str, Option<Span>)> = vec![
        ("window_start".into(), "the window's start", None),
        ("window_end".into(), "the window's end", None),
    ];
    let mut claim = |name: String, what: &'static str, span: Span, diags: &mut Vec<Diagnostic>| {
        if let Some((_, other, at)) = taken.iter().find(|(n, _, _)| *n == name) {
            let mut d = Diagnostic::new(
                Code::InvalidValue,
                span,
                format!("output header `{name}` is already {other}"),
            )
            .label(format!("{what} `{name}`"))
            .help(match what {
                "a group key" => "copy it to another header with `set` first, or write the key as an expression (reported as `key_N`)".to_owned(),
                _ => format!("give the value another name, e.g. `{name}_value`"),
            });
            if let Some(at) = at {
                d = d.note(*at, "first used here");
            }
            diags.push(d);
        } else {
            taken.push((name, what, Some(span)));
        }
    };
    let value = |name: &str| {
        params
            .iter()
            .find(|p| p.name.name == name)
            .map(|p| &p.value)
    };
    if let Some(ValueKind::List(items)) = value("by").map(|v| &v.kind) {
        for (i, item) in items.iter().enumerate() {
            let name = match &item.kind {
                ValueKind::Expr(e) => match &e.kind {
                    ExprKind::Header(h) => h.clone(),
                    _ => format!("key_{i}"),
                },
                _ => format!("key_{i}"),
            };
            claim(name, "a group key", item.span, diags);
        }
    }
    if let Some(ValueKind::Map(entries)) = value("emit").map(|v| &v.kind) {
        for entry in entries {
            claim(
                entry.key.name.clone(),
                "an emit value",
                entry.key.span,
                diags,
            );
        }
    }
}

fn plural(n: usize, what: &str) -> String {
    match n {
        0 => format!("no {what}s"),
        1 => format!("one {what}"),
        n => format!("{n} {what}s"),
    }
}
