//! Parameter values → Rust expressions of the config structs' field types, and the
//! `env(...)` uses the agent resolves at start.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use sluice_dsl::{Literal as Lit, Param, Value, ValueKind};
use sluice_runtime::catalogue::{ComponentSpec, ParamSpec, ParamType};

use super::names;
use crate::source::SourceFile;

/// One `env(...)` of the flow.
#[derive(Clone, Debug)]
pub struct EnvUse {
    pub name: String,
    pub default: Option<String>,
    pub location: String,
}

impl EnvUse {
    pub fn tokens(&self) -> TokenStream {
        let name = &self.name;
        let location = &self.location;
        let default = match &self.default {
            Some(d) => quote!(Some(#d)),
            None => quote!(None),
        };
        quote!(EnvVar { name: #name, default: #default, location: #location })
    }
}

/// Builds config struct literals, collecting env uses.
pub struct ValueGen<'a> {
    pub source: &'a SourceFile,
    pub env: Vec<EnvUse>,
}

impl ValueGen<'_> {
    /// `MemoryConfig { capacity: 1_000, max_bytes: None, ... }`, defaults filled in.
    pub fn config(
        &mut self,
        spec: &ComponentSpec,
        written: &[Param],
    ) -> Result<TokenStream, String> {
        let written: Vec<(&str, &Value)> = written
            .iter()
            .map(|w| (w.name.name.as_str(), &w.value))
            .collect();
        self.struct_literal(spec.rust_type, &spec.params, &written)
    }

    /// A struct literal of `rust_type` with one field per parameter: the written
    /// value, else the default, else `None`.
    fn struct_literal(
        &mut self,
        rust_type: &str,
        params: &[ParamSpec],
        written: &[(&str, &Value)],
    ) -> Result<TokenStream, String> {
        let ty = names::path(rust_type);
        let mut fields = Vec::new();
        for p in params {
            let name = names::ident(p.name);
            let value = match written.iter().find(|(n, _)| *n == p.name) {
                Some((_, w)) => Some(self.value(w, &p.ty)?),
                None => match p.default {
                    Some(d) => {
                        let v = sluice_dsl::parse_value(d)
                            .map_err(|e| format!("default of {}: {}", p.name, e.message))?;
                        Some(self.value(&v, &p.ty)?)
                    }
                    None => None,
                },
            };
            let optional = !p.required && p.default.is_none();
            fields.push(match (value, optional) {
                (Some(v), true) => quote!(#name: Some(#v)),
                (Some(v), false) => quote!(#name: #v),
                (None, _) => quote!(#name: None),
            });
        }
        Ok(quote!(#ty { #(#fields),* }))
    }

    fn value(&mut self, value: &Value, ty: &ParamType) -> Result<TokenStream, String> {
        if let ValueKind::Env(env) = &value.kind {
            let at = self.source.line_col(value.span.start);
            let file = std::path::Path::new(&self.source.name)
                .file_name()
                .map_or(self.source.name.clone(), |f| {
                    f.to_string_lossy().into_owned()
                });
            let var = EnvUse {
                name: env.name.value.clone(),
                default: env.default.as_ref().map(|d| d.value.clone()),
                location: format!("{file}:{}:{}", at.line, at.column),
            };
            let tokens = var.tokens();
            self.env.push(var);
            return Ok(quote!(sluice_runtime::env::get(#tokens)?));
        }
        let text = || match value.literal() {
            Some(Lit::Str(s)) => Some(s.clone()),
            _ => value.reference().map(|r| r.name),
        };
        Ok(match ty {
            ParamType::Bool => match value.literal() {
                Some(Lit::Bool(b)) => quote!(#b),
                _ => return Err("expected a boolean".into()),
            },
            ParamType::Int => match value.literal() {
                Some(Lit::Int(n)) if *n < 0 => {
                    let lit = Literal::u64_unsuffixed(n.unsigned_abs());
                    quote!(-#lit)
                }
                Some(Lit::Int(n)) => {
                    let lit = Literal::i64_unsuffixed(*n);
                    quote!(#lit)
                }
                _ => return Err("expected an integer".into()),
            },
            ParamType::Float => match value.literal() {
                Some(Lit::Int(n)) => {
                    let lit = Literal::f64_unsuffixed(*n as f64);
                    quote!(#lit)
                }
                Some(Lit::Float(f)) => {
                    let lit = Literal::f64_unsuffixed(*f);
                    quote!(#lit)
                }
                _ => return Err("expected a number".into()),
            },
            ParamType::Duration => match value.literal() {
                Some(Lit::Duration(d)) => {
                    let ms = Literal::u64_unsuffixed(d.as_millis() as u64);
                    quote!(::std::time::Duration::from_millis(#ms))
                }
                _ => return Err("expected a duration".into()),
            },
            ParamType::ByteSize => match value.literal() {
                Some(Lit::Size(n)) => {
                    let lit = Literal::u64_unsuffixed(*n);
                    quote!(sluice_runtime::params::ByteSize(#lit))
                }
                _ => return Err("expected a byte size".into()),
            },
            ParamType::String => {
                let s = text().ok_or("expected a string")?;
                quote!(String::from(#s))
            }
            ParamType::Path => {
                let s = text().ok_or("expected a path")?;
                quote!(::std::path::PathBuf::from(#s))
            }
            ParamType::Glob
            | ParamType::Regex
            | ParamType::Template
            | ParamType::Url
            | ParamType::Address => {
                let s = text().ok_or("expected a string")?;
                quote!(#s.into())
            }
            ParamType::Enum(_) => {
                let s = text().ok_or("expected a word")?;
                quote!(sluice_runtime::params::word(#s))
            }
            ParamType::EnumOrDuration(_) => match value.literal() {
                Some(Lit::Duration(d)) => {
                    let ms = Literal::u64_unsuffixed(d.as_millis() as u64);
                    quote!(sluice_runtime::params::FsyncPolicy::Interval(::std::time::Duration::from_millis(#ms)))
                }
                _ => {
                    let s = text().ok_or("expected a word or a duration")?;
                    quote!(sluice_runtime::params::word(#s))
                }
            },
            ParamType::List(inner) => {
                let ValueKind::List(items) = &value.kind else {
                    return Err("expected a list".into());
                };
                let items = items
                    .iter()
                    .map(|v| self.value(v, inner))
                    .collect::<Result<Vec<_>, _>>()?;
                quote!(vec![#(#items),*])
            }
            ParamType::Map(inner) => {
                let ValueKind::Map(entries) = &value.kind else {
                    return Err("expected a map".into());
                };
                let mut pairs = Vec::new();
                for e in entries {
                    let key = &e.key.name;
                    let v = self.value(&e.value, inner)?;
                    pairs.push(quote!((String::from(#key), #v)));
                }
                quote!([#(#pairs),*].into_iter().collect())
            }
            ParamType::Ref(_) => {
                let s = text().ok_or("expected a name")?;
                quote!(#s.into())
            }
            ParamType::BoolExpr | ParamType::ScalarExpr => {
                let src = &self.source.text[value.span.start..value.span.end];
                quote!(#src.into())
            }
            ParamType::Record { rust_type, fields } => {
                let ValueKind::Map(entries) = &value.kind else {
                    return Err("expected a block `{ ... }`".into());
                };
                let written: Vec<(&str, &Value)> = entries
                    .iter()
                    .map(|e| (e.key.name.as_str(), &e.value))
                    .collect();
                self.struct_literal(rust_type, fields, &written)?
            }
        })
    }
}
