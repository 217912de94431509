//! Typed expressions → Rust. A value becomes one Rust expression of type
//! `sluice_runtime::expr::Value` built from calls to `sluice_runtime::expr`; a condition
//! whose type says it is never `null` becomes a plain `bool` (`a && b`, `!c`). Regex
//! literals become statics compiled once at start.

use proc_macro2::{Literal as Lit, TokenStream};
use quote::quote;
use sluice_core::functions::{ExprType, Function};

use super::names;
use crate::ir::expr::BinaryOp;
use crate::ir::{Expr, ExprKind, Literal};

/// Collects the regexes the expressions use.
#[derive(Default)]
pub struct ExprGen {
    pub regexes: Vec<String>,
}

impl ExprGen {
    /// `expr` as a `Value`; `event` is a Rust expression of type `&Event`.
    pub fn value(&mut self, expr: &Expr, event: &TokenStream) -> TokenStream {
        match &expr.kind {
            ExprKind::Lit(lit) => literal(lit),
            ExprKind::Header(name) => quote!(expr::header(#event, #name)),
            ExprKind::Body => quote!(expr::body(#event)),
            ExprKind::Invalid => quote!(Value::Null),
            ExprKind::Not(x) => {
                let x = self.value(x, event);
                quote!(expr::not(&#x))
            }
            ExprKind::Neg(x) => {
                let x = self.value(x, event);
                quote!(expr::neg(&#x))
            }
            ExprKind::Call { function, args } => {
                let args: Vec<TokenStream> = args.iter().map(|a| self.value(a, event)).collect();
                let f = names::ident(function.name());
                match function {
                    Function::Coalesce => quote!(expr::coalesce([#(#args),*])),
                    _ => quote!(expr::#f(#(&#args),*)),
                }
            }
            ExprKind::Binary {
                op: BinaryOp::And | BinaryOp::Or,
                ..
            } => {
                let b = self.condition(expr, event);
                quote!(Value::Bool(#b))
            }
            ExprKind::Match {
                subject,
                pattern,
                negated,
            } => {
                let subject = self.value(subject, event);
                let re = self.regex(pattern);
                let matched = quote!(expr::matches(&#subject, &#re));
                if *negated {
                    quote!(expr::not(&#matched))
                } else {
                    matched
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let text = lhs.ty == ExprType::Str || rhs.ty == ExprType::Str;
                let l = self.value(lhs, event);
                let r = self.value(rhs, event);
                let f = names::ident(match op {
                    BinaryOp::Eq => "eq",
                    BinaryOp::Ne => "ne",
                    BinaryOp::Lt => "lt",
                    BinaryOp::Le => "le",
                    BinaryOp::Gt => "gt",
                    BinaryOp::Ge => "ge",
                    BinaryOp::Add if text => "concat",
                    BinaryOp::Add => "add",
                    BinaryOp::Sub => "sub",
                    BinaryOp::Mul => "mul",
                    BinaryOp::Div => "div",
                    _ => "rem",
                });
                quote!(expr::#f(&#l, &#r))
            }
        }
    }

    /// `expr` as a Rust `bool`: `true` only when it evaluates to `true` (`null` is false).
    pub fn condition(&mut self, expr: &Expr, event: &TokenStream) -> TokenStream {
        match &expr.kind {
            ExprKind::Lit(Literal::Bool(b)) => quote!(#b),
            ExprKind::Binary { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
                let l = self.condition(lhs, event);
                let r = self.condition(rhs, event);
                if *op == BinaryOp::And {
                    quote!((#l && #r))
                } else {
                    quote!((#l || #r))
                }
            }
            ExprKind::Not(inner) if inner.never_null_bool() => {
                let inner = self.condition(inner, event);
                quote!(!#inner)
            }
            _ => {
                let v = self.value(expr, event);
                quote!(expr::truthy(&#v))
            }
        }
    }

    fn regex(&mut self, pattern: &str) -> proc_macro2::Ident {
        let index = match self.regexes.iter().position(|r| r == pattern) {
            Some(i) => i,
            None => {
                self.regexes.push(pattern.to_owned());
                self.regexes.len() - 1
            }
        };
        names::regex(index)
    }

    /// `static RE_0: LazyLock<Regex> = ...;` for each regex, and the statements that
    /// compile them all at start.
    pub fn statics(&self) -> (TokenStream, TokenStream) {
        let mut statics = Vec::new();
        let mut forces = Vec::new();
        for (i, pattern) in self.regexes.iter().enumerate() {
            let name = names::regex(i);
            statics.push(quote! {
                static #name: ::std::sync::LazyLock<expr::Regex> = ::std::sync::LazyLock::new(|| {
                    expr::Regex::new(#pattern).expect("regex checked by sluice check")
                });
            });
            forces.push(quote!(::std::sync::LazyLock::force(&#name);));
        }
        (quote!(#(#statics)*), quote!(#(#forces)*))
    }
}

/// A literal as a `Value`.
pub fn literal(lit: &Literal) -> TokenStream {
    match lit {
        Literal::Str(s) => quote!(expr::str_lit(#s)),
        Literal::Int(n) if *n < 0 => {
            let n = Lit::u64_unsuffixed(n.unsigned_abs());
            quote!(Value::Int(-#n))
        }
        Literal::Int(n) => {
            let n = Lit::i64_unsuffixed(*n);
            quote!(Value::Int(#n))
        }
        Literal::Float(f) => {
            let f = Lit::f64_unsuffixed(*f);
            quote!(Value::Float(#f))
        }
        Literal::Bool(b) => quote!(Value::Bool(#b)),
        Literal::Null => quote!(Value::Null),
    }
}
