//! Type checking of expressions (`when`, `route` keys, `set` values): every function
//! exists and gets the right number and kind of arguments, operators get operands they can
//! work with, regex literals compile.

use sluice_dsl::{BinaryOp, Expr, ExprKind, Literal, UnaryOp};

use crate::diagnostic::{Code, Diagnostic};
use crate::ir::expr as ir;
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
    typed(expr, diags).ty
}

/// Checks an expression and returns it typed, for the IR; problems go to `diags`.
pub fn typed(expr: &Expr, diags: &mut Vec<Diagnostic>) -> ir::Expr {
    match &expr.kind {
        ExprKind::Lit(lit) => match lit {
            Literal::Str(s) => {
                ir::Expr::new(Ty::Str, ir::ExprKind::Lit(ir::Literal::Str(s.clone())))
            }
            Literal::Int(n) => ir::Expr::new(Ty::Int, ir::ExprKind::Lit(ir::Literal::Int(*n))),
            Literal::Float(f) => {
                ir::Expr::new(Ty::Float, ir::ExprKind::Lit(ir::Literal::Float(*f)))
            }
            Literal::Bool(b) => ir::Expr::new(Ty::Bool, ir::ExprKind::Lit(ir::Literal::Bool(*b))),
            Literal::Null => ir::Expr::new(Ty::Null, ir::ExprKind::Lit(ir::Literal::Null)),
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
                invalid()
            }
        },
        ExprKind::Header(name) => ir::Expr::new(Ty::Header, ir::ExprKind::Header(name.clone())),
        ExprKind::Body => ir::Expr::new(Ty::Str, ir::ExprKind::Body),
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
            invalid()
        }
        ExprKind::Paren(inner) => typed(inner, diags),
        ExprKind::Call { func, args } => check_call(expr, func, args, diags),
        ExprKind::Unary { op, operand } => {
            let inner = typed(operand, diags);
            let ty = inner.ty;
            match op {
                UnaryOp::Not => {
                    if !ty.is_boolean() {
                        diags.push(operand_error(operand, "`!`", "a boolean", ty));
                    }
                    ir::Expr::new(Ty::Bool, ir::ExprKind::Not(Box::new(inner)))
                }
                UnaryOp::Neg => {
                    if !ty.is_numeric() {
                        diags.push(operand_error(operand, "`-`", "a number", ty));
                    }
                    let ty = if ty == Ty::Int { Ty::Int } else { Ty::Float };
                    ir::Expr::new(ty, ir::ExprKind::Neg(Box::new(inner)))
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

/// An expression the checker rejected.
fn invalid() -> ir::Expr {
    ir::Expr::new(Ty::Any, ir::ExprKind::Invalid)
}

fn check_binary(op: BinaryOp, lhs: &Expr, rhs: &Expr, diags: &mut Vec<Diagnostic>) -> ir::Expr {
    let left = typed(lhs, diags);
    let l = left.ty;
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
        let pattern = match rhs.literal() {
            Some(Literal::Str(p)) => p.clone(),
            _ => String::new(),
        };
        return ir::Expr::new(
            Ty::Bool,
            ir::ExprKind::Match {
                subject: Box::new(left),
                pattern,
                negated: op == BinaryOp::NotMatch,
            },
        );
    }
    let right = typed(rhs, diags);
    let r = right.ty;
    let ty = binary_type(op, (lhs, l), (rhs, r), diags);
    ir::Expr::new(
        ty,
        ir::ExprKind::Binary {
            op,
            lhs: Box::new(left),
            rhs: Box::new(right),
        },
    )
}

/// The type of `lhs op rhs` (not a regex match); operand problems go to `diags`.
fn binary_type(
    op: BinaryOp,
    (lhs, l): (&Expr, Ty),
    (rhs, r): (&Expr, Ty),
    diags: &mut Vec<Diagnostic>,
) -> Ty {
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
) -> ir::Expr {
    let typed_args: Vec<ir::Expr> = args.iter().map(|a| typed(a, diags)).collect();
    let arg_types: Vec<Ty> = typed_args.iter().map(|a| a.ty).collect();
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
        return invalid();
    };
    let ty = call_type(function, call, args, &arg_types, diags);
    ir::Expr::new(
        ty,
        ir::ExprKind::Call {
            function,
            args: typed_args,
        },
    )
}

/// The type of a call of `function`; argument problems go to `diags`.
fn call_type(
    function: Function,
    call: &Expr,
    args: &[Expr],
    arg_types: &[Ty],
    diags: &mut Vec<Diagnostic>,
) -> Ty {
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
    for (i, (arg, ty)) in args.iter().zip(arg_types).enumerate() {
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
