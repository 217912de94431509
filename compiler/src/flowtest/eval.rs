//! Evaluates typed expressions on an event with the runtime's own expression functions
//! (`sluice_runtime::expr`), the ones compiled agents call: an expression means the same
//! in `sluice test` as in an agent. The shape of the evaluation mirrors the code
//! generator's (`codegen/exprs.rs`): `&&`/`||` short-circuit, `null` conditions are false.

use std::borrow::Cow;
use std::collections::HashMap;

use sluice_core::functions::{ExprType, Function};
use sluice_runtime::event::Event;
use sluice_runtime::expr::{self, Value};

use crate::ir::expr::BinaryOp;
use crate::ir::{Expr, ExprKind, Literal};

/// Compiled regexes of `=~`, by pattern.
#[derive(Default)]
pub struct Regexes(HashMap<String, expr::Regex>);

impl Regexes {
    fn get(&mut self, pattern: &str) -> Option<&expr::Regex> {
        if !self.0.contains_key(pattern) {
            // The checker compiled the pattern already; a failure here cannot happen.
            let re = expr::Regex::new(pattern).ok()?;
            self.0.insert(pattern.to_owned(), re);
        }
        self.0.get(pattern)
    }
}

/// The value of `e` for `event`.
pub fn value(e: &Expr, event: &Event, regexes: &mut Regexes) -> Value<'static> {
    match &e.kind {
        ExprKind::Lit(lit) => literal(lit),
        ExprKind::Header(name) => expr::owned(expr::header(event, name)),
        ExprKind::Body => expr::owned(expr::body(event)),
        ExprKind::Invalid => Value::Null,
        ExprKind::Not(x) => expr::not(&value(x, event, regexes)),
        ExprKind::Neg(x) => expr::neg(&value(x, event, regexes)),
        ExprKind::Call { function, args } => {
            let args: Vec<Value> = args.iter().map(|a| value(a, event, regexes)).collect();
            match function {
                Function::Coalesce => expr::owned(expr::coalesce(args)),
                f => expr::call(*f, &args),
            }
        }
        ExprKind::Binary {
            op: BinaryOp::And | BinaryOp::Or,
            ..
        } => Value::Bool(condition(e, event, regexes)),
        ExprKind::Match {
            subject,
            pattern,
            negated,
        } => {
            let subject = value(subject, event, regexes);
            let matched = match regexes.get(pattern) {
                Some(re) => expr::matches(&subject, re),
                None => Value::Null,
            };
            if *negated {
                expr::not(&matched)
            } else {
                matched
            }
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let text = lhs.ty == ExprType::Str || rhs.ty == ExprType::Str;
            let l = value(lhs, event, regexes);
            let r = value(rhs, event, regexes);
            match op {
                BinaryOp::Eq => expr::eq(&l, &r),
                BinaryOp::Ne => expr::ne(&l, &r),
                BinaryOp::Lt => expr::lt(&l, &r),
                BinaryOp::Le => expr::le(&l, &r),
                BinaryOp::Gt => expr::gt(&l, &r),
                BinaryOp::Ge => expr::ge(&l, &r),
                BinaryOp::Add if text => expr::concat(&l, &r),
                BinaryOp::Add => expr::add(&l, &r),
                BinaryOp::Sub => expr::sub(&l, &r),
                BinaryOp::Mul => expr::mul(&l, &r),
                BinaryOp::Div => expr::div(&l, &r),
                _ => expr::rem(&l, &r),
            }
        }
    }
}

/// Whether `e` is `true` for `event` (`null` is false).
pub fn condition(e: &Expr, event: &Event, regexes: &mut Regexes) -> bool {
    match &e.kind {
        ExprKind::Lit(Literal::Bool(b)) => *b,
        ExprKind::Binary { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
            let l = condition(lhs, event, regexes);
            if *op == BinaryOp::And {
                l && condition(rhs, event, regexes)
            } else {
                l || condition(rhs, event, regexes)
            }
        }
        ExprKind::Not(inner) if inner.never_null_bool() => !condition(inner, event, regexes),
        _ => expr::truthy(&value(e, event, regexes)),
    }
}

/// A literal as a value.
pub fn literal(lit: &Literal) -> Value<'static> {
    match lit {
        Literal::Str(s) => Value::Str(Cow::Owned(s.clone())),
        Literal::Int(n) => Value::Int(*n),
        Literal::Float(f) => Value::Float(*f),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Null => Value::Null,
    }
}
