//! Expressions → Rust. Each expression becomes one Rust expression of type
//! `sluice_runtime::expr::Value` built from calls to `sluice_runtime::expr`; regex
//! literals become statics compiled once at start.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use sluice_dsl::{BinaryOp, Expr, ExprKind, Literal as Lit, UnaryOp};

use super::names;
use crate::check::expr::{self as types, Ty};

/// Collects the regexes the expressions use.
#[derive(Default)]
pub struct ExprGen {
    pub regexes: Vec<String>,
}

impl ExprGen {
    /// Compiles `expr`; `event` is a Rust expression of type `&Event`.
    pub fn compile(&mut self, expr: &Expr, event: &TokenStream) -> TokenStream {
        match &expr.kind {
            ExprKind::Lit(lit) => literal(lit),
            ExprKind::Header(name) => quote!(expr::header(#event, #name)),
            ExprKind::Body => quote!(expr::body(#event)),
            ExprKind::Ref(_) => quote!(Value::Null),
            ExprKind::Paren(inner) => self.compile(inner, event),
            ExprKind::Unary { op, operand } => {
                let x = self.compile(operand, event);
                match op {
                    UnaryOp::Not => quote!(expr::not(&#x)),
                    UnaryOp::Neg => quote!(expr::neg(&#x)),
                }
            }
            ExprKind::Call { func, args } => {
                let args: Vec<TokenStream> = args.iter().map(|a| self.compile(a, event)).collect();
                let f = names::ident(&func.name);
                match func.name.as_str() {
                    "coalesce" => quote!(expr::coalesce([#(#args),*])),
                    "now" | "hostname" => quote!(expr::#f()),
                    _ => quote!(expr::#f(#(&#args),*)),
                }
            }
            ExprKind::Binary { op, lhs, rhs, .. } => self.binary(*op, lhs, rhs, event),
        }
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, event: &TokenStream) -> TokenStream {
        if matches!(op, BinaryOp::Match | BinaryOp::NotMatch) {
            let l = self.compile(lhs, event);
            let pattern = match rhs.literal() {
                Some(Lit::Str(p)) => p.clone(),
                _ => String::new(),
            };
            let index = match self.regexes.iter().position(|r| *r == pattern) {
                Some(i) => i,
                None => {
                    self.regexes.push(pattern);
                    self.regexes.len() - 1
                }
            };
            let re = names::regex(index);
            let matched = quote!(expr::matches(&#l, &#re));
            return if op == BinaryOp::Match {
                matched
            } else {
                quote!(expr::not(&#matched))
            };
        }
        let l = self.compile(lhs, event);
        let r = self.compile(rhs, event);
        match op {
            BinaryOp::And => quote!(Value::Bool(expr::truthy(&#l) && expr::truthy(&#r))),
            BinaryOp::Or => quote!(Value::Bool(expr::truthy(&#l) || expr::truthy(&#r))),
            BinaryOp::Add => {
                let text = |e: &Expr| types::check(e, &mut Vec::new()) == Ty::Str;
                if text(lhs) || text(rhs) {
                    quote!(expr::concat(&#l, &#r))
                } else {
                    quote!(expr::add(&#l, &#r))
                }
            }
            _ => {
                let f = names::ident(match op {
                    BinaryOp::Eq => "eq",
                    BinaryOp::Ne => "ne",
                    BinaryOp::Lt => "lt",
                    BinaryOp::Le => "le",
                    BinaryOp::Gt => "gt",
                    BinaryOp::Ge => "ge",
                    BinaryOp::Sub => "sub",
                    BinaryOp::Mul => "mul",
                    BinaryOp::Div => "div",
                    _ => "rem",
                });
                quote!(expr::#f(&#l, &#r))
            }
        }
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
pub fn literal(lit: &Lit) -> TokenStream {
    match lit {
        Lit::Str(s) => quote!(expr::str_lit(#s)),
        Lit::Int(n) if *n < 0 => {
            let n = Literal::u64_unsuffixed(n.unsigned_abs());
            quote!(Value::Int(-#n))
        }
        Lit::Int(n) => {
            let n = Literal::i64_unsuffixed(*n);
            quote!(Value::Int(#n))
        }
        Lit::Float(f) => {
            let f = Literal::f64_unsuffixed(*f);
            quote!(Value::Float(#f))
        }
        Lit::Bool(b) => quote!(Value::Bool(#b)),
        Lit::Null | Lit::Duration(_) | Lit::Size(_) => quote!(Value::Null),
    }
}
