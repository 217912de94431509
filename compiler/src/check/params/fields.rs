//! Written parameters against declared ones: unknown, missing, duplicate, and each value
//! against its declared type.

use std::collections::HashMap;

use sluice_dsl::{Ident, Span, Value, ValueKind};
use sluice_runtime::catalogue::{ParamSpec, ParamType};

use super::aggregate;
use super::validators::example;
use crate::check::expr::{self, Ty};
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::Symbols;
use crate::suggest::did_you_mean;

pub(super) struct Ctx<'s, 'a> {
    pub(super) symbols: &'s Symbols<'a>,
    pub(super) what: &'s str,
}

impl Ctx<'_, '_> {
    pub(super) fn check_fields<'v>(
        &self,
        fields: &[ParamSpec],
        owner: &str,
        written: impl Iterator<Item = (&'v Ident, &'v Value)>,
        header: Span,
        diags: &mut Vec<Diagnostic>,
    ) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for (name, value) in written {
            if let Some(first) = seen.insert(name.name.as_str(), name.span) {
                diags.push(
                    Diagnostic::new(
                        Code::DuplicateName,
                        name.span,
                        format!("parameter `{}` is set twice", name.name),
                    )
                    .label("set again here")
                    .note(first, "first set here")
                    .help("remove one of them"),
                );
                continue;
            }
            match fields.iter().find(|f| f.name == name.name) {
                Some(field) => self.check_value(field, &field.ty, value, diags),
                None => {
                    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                    let help = did_you_mean(&name.name, names.iter().copied())
                        .unwrap_or_else(|| format!("`{owner}` takes: {}", names.join(", ")));
                    diags.push(
                        Diagnostic::new(
                            Code::UnknownParam,
                            name.span,
                            format!("unknown parameter `{}` for {}", name.name, self.what),
                        )
                        .label(format!("not a parameter of `{owner}`"))
                        .help(help),
                    );
                }
            }
        }
        for field in fields.iter().filter(|f| f.required) {
            if !seen.contains_key(field.name) {
                diags.push(
                    Diagnostic::new(
                        Code::MissingParam,
                        header,
                        format!(
                            "{} is missing the required parameter `{}`",
                            self.what, field.name
                        ),
                    )
                    .label(format!("needs `{}`", field.name))
                    .help(format!(
                        "add `{} = {}` ({})",
                        field.name,
                        example(&field.ty),
                        field.summary().trim_end_matches('.').to_lowercase()
                    )),
                );
            }
        }
    }

    pub(super) fn check_value(
        &self,
        field: &ParamSpec,
        ty: &ParamType,
        value: &Value,
        diags: &mut Vec<Diagnostic>,
    ) {
        match (&value.kind, ty) {
            (ValueKind::Env(env), _) => self.check_env(field, ty, env, value.span, diags),
            (ValueKind::List(items), ParamType::List(inner)) => {
                for item in items {
                    self.check_value(field, inner, item, diags);
                }
            }
            (ValueKind::Map(entries), ParamType::Map(inner)) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for entry in entries {
                    if let Some(first) = seen.insert(entry.key.name.as_str(), entry.key.span) {
                        diags.push(
                            Diagnostic::new(
                                Code::DuplicateName,
                                entry.key.span,
                                format!("key `{}` is set twice", entry.key.name),
                            )
                            .label("set again here")
                            .note(first, "first set here"),
                        );
                    }
                    self.check_value(field, inner, &entry.value, diags);
                }
            }
            (ValueKind::Map(entries), ParamType::Record { fields, .. }) => {
                let inner = Ctx {
                    symbols: self.symbols,
                    what: &format!("`{}` of {}", field.name, self.what),
                };
                inner.check_fields(
                    fields,
                    field.name,
                    entries.iter().map(|e| (&e.key, &e.value)),
                    value.span,
                    diags,
                );
            }
            (ValueKind::Expr(e), ParamType::BoolExpr) => {
                let ty = expr::check(e, diags);
                if !matches!(ty, Ty::Bool | Ty::Any) {
                    let mut d = Diagnostic::new(
                        Code::ExprType,
                        e.span,
                        format!(
                            "`{}` must be a condition, but this is {}",
                            field.name,
                            ty.describe()
                        ),
                    )
                    .label("not a boolean");
                    if ty == Ty::Header {
                        d = d.help("compare the header, e.g. `.level == \"ERROR\"`, or test it with `exists(.level)`");
                    } else {
                        d = d.help("use a comparison, e.g. `.status >= 500`");
                    }
                    diags.push(d);
                }
            }
            (ValueKind::Expr(e), ParamType::ScalarExpr) => {
                expr::check(e, diags);
            }
            (ValueKind::Expr(e), ParamType::Window) => aggregate::check_window(field, e, diags),
            (ValueKind::Expr(e), ParamType::Aggregate) => aggregate::check_call(e, diags),
            (ValueKind::Expr(e), _) => {
                if let Some(lit) = e.literal() {
                    self.check_literal(field, ty, lit, value.span, diags);
                } else if let Some(name) = value.reference() {
                    self.check_reference(field, ty, &name, diags);
                } else {
                    diags.push(self.mismatch(field, ty, value));
                }
            }
            _ => diags.push(self.mismatch(field, ty, value)),
        }
    }

    pub(super) fn mismatch(&self, field: &ParamSpec, ty: &ParamType, value: &Value) -> Diagnostic {
        let help = match ty {
            ParamType::List(_) => format!(
                "wrap it in brackets, e.g. `{} = {}`",
                field.name,
                example(ty)
            ),
            _ => format!("for example `{} = {}`", field.name, example(ty)),
        };
        Diagnostic::new(
            Code::TypeMismatch,
            value.span,
            format!(
                "`{}` takes {}, found {}",
                field.name,
                ty.describe(),
                value.describe()
            ),
        )
        .label(format!("expected {}", ty.describe()))
        .help(help)
    }

    pub(super) fn check_reference(
        &self,
        field: &ParamSpec,
        ty: &ParamType,
        name: &Ident,
        diags: &mut Vec<Diagnostic>,
    ) {
        match ty {
            ParamType::Ref(role) => match self.symbols.get(&name.name) {
                None => {
                    let help = did_you_mean(&name.name, self.symbols.names_of(*role))
                        .unwrap_or_else(|| {
                            format!("declare it: `{role} {} = KIND {{ ... }}`", name.name)
                        });
                    diags.push(
                        Diagnostic::new(
                            Code::UndefinedName,
                            name.span,
                            format!("no {role} named `{}`", name.name),
                        )
                        .label("not declared")
                        .help(help),
                    );
                }
                Some(c) if c.role() != *role => diags.push(
                    Diagnostic::new(
                        Code::WrongRole,
                        name.span,
                        format!(
                            "`{}` takes {role}s, but `{}` is a {}",
                            field.name,
                            name.name,
                            c.role()
                        ),
                    )
                    .label(format!("a {}, not a {role}", c.role()))
                    .note(
                        c.decl.name.span,
                        format!("`{}` is declared here", name.name),
                    ),
                ),
                Some(_) => {}
            },
            ParamType::Enum(words) | ParamType::EnumOrDuration(words) => {
                self.check_word(field, words, &name.name, name.span, diags)
            }
            _ => diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    name.span,
                    format!(
                        "`{}` takes {}, found the bare name `{}`",
                        field.name,
                        ty.describe(),
                        name.name
                    ),
                )
                .label(format!("expected {}", ty.describe()))
                .help(match ty {
                    ParamType::String | ParamType::Path | ParamType::Template => {
                        format!("strings are quoted: `{} = \"{}\"`", field.name, name.name)
                    }
                    _ => format!("for example `{} = {}`", field.name, example(ty)),
                }),
            ),
        }
    }
}
