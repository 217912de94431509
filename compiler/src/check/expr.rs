//! Type checking of expressions (`when`, `route` keys, `set` values): every function
//! exists and gets the right number and kind of arguments, operators get operands they can
//! work with, regex literals compile.

use sluice_dsl::{BinaryOp, Expr, ExprKind, Literal, UnaryOp};

use crate::diagnostic::{Code, Diagnostic};
use crate::suggest::did_you_mean;

/// The static type of an expression.
pub use sluice_core::functions::ExprType as Ty;
use sluice_core::functions::{Arg, Function};

/// The names of every expression function.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    Function::ALL.into_iter().map(Function::name)
}

/// Checks an expression and returns its type; problems go to `diags`.
pub fn check(expr: &Expr, diags: &mut Vec<Diagnostic>) -> Ty {
    match &expr.kind {
        ExprKind::Lit(lit) => match lit {
            Literal::Str(_) => Ty::Str,
            Literal::Int(_) => Ty::Int,
            Literal::Float(_) => Ty::Float,
            Literal::Bool(_) => Ty::Bool,
            Literal::Null => Ty::Null,
            Literal::Duration(_) | Literal::Size(_) => {
                diags.push(
                    Diagnostic::new(
                        Code::ExprType,
                        expr.span,
                        format!("{} cannot be used in an expression", lit.describe()),
                    )
                    .label("not an expression value")
                    .help("write durations and sizes as plain numbers (milliseconds, bytes)"),
                );
                Ty::Any
            }
        },
        ExprKind::Header(_) => Ty::Header,
        ExprKind::Body => Ty::Str,
        ExprKind::Ref(name) => {
            diags.push(
                Diagnostic::new(
                    Code::UndefinedName,
                    expr.span,
                    format!("unknown name `{name}` in an expression"),
                )
                .label("not a header, literal or function")
                .help(format!(
                    "a header is written `.{name}`, a string `\"{name}\"`, the body `body`"
                )),
            );
            Ty::Any
        }
        ExprKind::Paren(inner) => check(inner, diags),
        ExprKind::Call { func, args } => check_call(expr, func, args, diags),
        ExprKind::Unary { op, operand } => {
            let ty = check(operand, diags);
            match op {
                UnaryOp::Not => {
                    if !ty.is_boolean() {
                        diags.push(operand_error(operand, "`!`", "a boolean", ty));
                    }
                    Ty::Bool
                }
                UnaryOp::Neg => {
                    if !ty.is_numeric() {
                        diags.push(operand_error(operand, "`-`", "a number", ty));
                    }
                    if ty == Ty::Int {
                        Ty::Int
                    } else {
                        Ty::Float
                    }
                }
            }
        }
        ExprKind::Binary { op, lhs, rhs, .. } => check_binary(*op, lhs, rhs, diags),
    }
}

fn operand_error(operand: &Expr, op: &str, needs: &str, found: Ty) -> Diagnostic {
    Diagnostic::new(
        Code::ExprType,
        operand.span,
        format!("{op} needs {needs}, found {}", found.describe()),
    )
    .label(format!("this is {}", found.describe()))
}

fn check_binary(op: BinaryOp, lhs: &Expr, rhs: &Expr, diags: &mut Vec<Diagnostic>) -> Ty {
    let l = check(lhs, diags);
    if matches!(op, BinaryOp::Match | BinaryOp::NotMatch) {
        if !l.is_textual() && !l.is_numeric() {
            diags.push(operand_error(lhs, &format!("`{}`", op.symbol()), "text", l));
        }
        match rhs.literal() {
            Some(Literal::Str(pattern)) => {
                if let Err(err) = regex::Regex::new(pattern) {
                    diags.push(
                        Diagnostic::new(Code::InvalidValue, rhs.span, "invalid regex")
                            .label(regex_error_summary(&err))
                            .help("regexes use Rust `regex` syntax; write them as raw strings, r\"...\""),
                    );
                }
            }
            _ => diags.push(
                Diagnostic::new(
                    Code::ExprType,
                    rhs.span,
                    format!("the right side of `{}` must be a regex literal", op.symbol()),
                )
                .label("not a string literal")
                .help("regexes are compiled once when the agent starts; write one, e.g. r\"^5\\d\\d$\""),
            ),
        }
        return Ty::Bool;
    }
    let r = check(rhs, diags);
    let sym = format!("`{}`", op.symbol());
    match op {
        BinaryOp::Or | BinaryOp::And => {
            for (side, ty) in [(lhs, l), (rhs, r)] {
                if !ty.is_boolean() {
                    let mut d = operand_error(side, &sym, "booleans on both sides", ty);
                    if ty == Ty::Header {
                        d = d.help(
                            "compare the header (`.x == \"y\"`) or test it with `exists(.x)`",
                        );
                    }
                    diags.push(d);
                }
            }
            Ty::Bool
        }
        BinaryOp::Eq | BinaryOp::Ne => Ty::Bool,
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            for (side, ty) in [(lhs, l), (rhs, r)] {
                if ty == Ty::Bool {
                    diags.push(operand_error(side, &sym, "numbers or text to order", ty));
                }
            }
            Ty::Bool
        }
        BinaryOp::Add if l == Ty::Str || r == Ty::Str => {
            for (side, ty) in [(lhs, l), (rhs, r)] {
                if ty == Ty::Bool {
                    diags.push(operand_error(side, &sym, "text or numbers", ty));
                }
            }
            Ty::Str
        }
        _ => {
            for (side, ty) in [(lhs, l), (rhs, r)] {
                if !ty.is_numeric() {
                    diags.push(operand_error(side, &sym, "numbers", ty));
                }
            }
            if l == Ty::Int && r == Ty::Int {
                Ty::Int
            } else {
                Ty::Float
            }
        }
    }
}

fn check_call(
    call: &Expr,
    func: &sluice_dsl::Ident,
    args: &[Expr],
    diags: &mut Vec<Diagnostic>,
) -> Ty {
    let arg_types: Vec<Ty> = args.iter().map(|a| check(a, diags)).collect();
    let Some(function) = Function::from_name(&func.name) else {
        let help = did_you_mean(&func.name, function_names()).unwrap_or_else(|| {
            format!(
                "functions are: {}",
                function_names().collect::<Vec<_>>().join(", ")
            )
        });
        diags.push(
            Diagnostic::new(
                Code::UndefinedName,
                func.span,
                format!("unknown function `{}`", func.name),
            )
            .label("not a function")
            .help(help),
        );
        return Ty::Any;
    };
    let sig = function.signature();
    let arity_ok = if sig.variadic {
        args.len() >= sig.params.len()
    } else {
        args.len() == sig.params.len()
    };
    if !arity_ok {
        let wanted = match (sig.variadic, sig.params.len()) {
            (true, n) => format!("at least {n} argument{}", if n == 1 { "" } else { "s" }),
            (false, 0) => "no arguments".to_owned(),
            (false, 1) => "1 argument".to_owned(),
            (false, n) => format!("{n} arguments"),
        };
        diags.push(
            Diagnostic::new(
                Code::ExprType,
                call.span,
                format!("`{}` takes {wanted}, given {}", sig.name, args.len()),
            )
            .label("wrong number of arguments")
            .help(format!("for example: {}", sig.example)),
        );
        return sig.returns;
    }
    for (i, (arg, ty)) in args.iter().zip(&arg_types).enumerate() {
        let expected = sig.params.get(i).or(sig.params.last()).copied();
        match expected {
            Some(Arg::Text) if !ty.is_textual() => diags.push(
                operand_error(arg, &format!("`{}`", sig.name), "text", *ty)
                    .help(format!("convert it first, e.g. `{}(str(...))`", sig.name)),
            ),
            Some(Arg::HeaderRef) if !matches!(arg.kind, ExprKind::Header(_)) => diags.push(
                Diagnostic::new(
                    Code::ExprType,
                    arg.span,
                    format!("`{}` takes a header, like `.trace_id`", sig.name),
                )
                .label("not a header"),
            ),
            _ => {}
        }
    }
    if function == Function::Coalesce {
        let first = arg_types
            .iter()
            .copied()
            .find(|t| *t != Ty::Null)
            .unwrap_or(Ty::Null);
        return if arg_types.iter().all(|t| *t == first || *t == Ty::Null) {
            first
        } else {
            Ty::Any
        };
    }
    sig.returns
}

/// The last line of a `regex` error, which says what is wrong.
pub fn regex_error_summary(err: &regex::Error) -> String {
    let text = err.to_string();
    text.lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .map(|l| {
            l.trim_start()
                .trim_start_matches("error:")
                .trim()
                .to_owned()
        })
        .unwrap_or(text)
}
