//! IR config values → Rust expressions of the config structs' field types.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use sluice_runtime::catalogue::EnumWords;

use super::names;
use sluice_runtime::env::EnvKind;

use crate::ir::{Config, EnvRule, EnvUse, Operand, Text, Value};

/// `MemoryConfig { capacity: 1_000, max_bytes: None, ... }`.
pub fn config(config: &Config) -> TokenStream {
    let ty = names::path(config.rust_type);
    let fields = config.fields.iter().map(|f| {
        let name = names::ident(f.name);
        match (&f.value, f.optional) {
            (Some(v), true) => {
                let v = value(v);
                quote!(#name: Some(#v))
            }
            (Some(v), false) => {
                let v = value(v);
                quote!(#name: #v)
            }
            (None, _) => quote!(#name: None),
        }
    });
    quote!(#ty { #(#fields),* })
}

/// `EnvVar { name: "PORT", default: Some("9000"), location: "f.flow:3:9", ... }`.
pub fn env_var(env: &EnvUse) -> TokenStream {
    let name = &env.name;
    let location = &env.location;
    let param = &env.param;
    let default = match &env.default {
        Some(d) => quote!(Some(#d)),
        None => quote!(None),
    };
    let kind = env_kind(&env.kind);
    quote!(EnvVar { name: #name, default: #default, location: #location, param: #param, kind: #kind })
}

/// `EnvRule { smaller: Operand::Env(0), larger: Operand::Literal(1000), what: "..." }`.
pub fn env_rule(rule: &EnvRule) -> TokenStream {
    let operand = |o: &Operand| match o {
        Operand::Env(i) => {
            let i = Literal::usize_unsuffixed(*i);
            quote!(Operand::Env(#i))
        }
        Operand::Literal(n) => {
            let n = int(*n);
            quote!(Operand::Literal(#n))
        }
    };
    let (smaller, larger, what) = (operand(&rule.smaller), operand(&rule.larger), &rule.what);
    quote!(EnvRule { smaller: #smaller, larger: #larger, what: #what })
}

fn env_kind(kind: &EnvKind) -> TokenStream {
    let bound = |b: &Option<i64>| match b {
        Some(n) => {
            let n = int(*n);
            quote!(Some(#n))
        }
        None => quote!(None),
    };
    match kind {
        EnvKind::Text => quote!(EnvKind::Text),
        EnvKind::Bool => quote!(EnvKind::Bool),
        EnvKind::Float => quote!(EnvKind::Float),
        EnvKind::Int { min, max } => {
            let (min, max) = (bound(min), bound(max));
            quote!(EnvKind::Int { min: #min, max: #max })
        }
        EnvKind::Duration { min, max } => {
            let (min, max) = (bound(min), bound(max));
            quote!(EnvKind::Duration { min: #min, max: #max })
        }
        EnvKind::Size { min, max } => {
            let (min, max) = (bound(min), bound(max));
            quote!(EnvKind::Size { min: #min, max: #max })
        }
        EnvKind::Address => quote!(EnvKind::Address),
        EnvKind::Url => quote!(EnvKind::Url),
        EnvKind::Storage => quote!(EnvKind::Storage),
        EnvKind::Template => quote!(EnvKind::Template),
        EnvKind::Word(words) => quote!(EnvKind::Word(&[#(#words),*])),
        EnvKind::WordOrDuration(words) => quote!(EnvKind::WordOrDuration(&[#(#words),*])),
    }
}

/// An integer literal, negative ones included.
fn int(n: i64) -> TokenStream {
    if n < 0 {
        let lit = Literal::u64_unsuffixed(n.unsigned_abs());
        quote!(-#lit)
    } else {
        let lit = Literal::i64_unsuffixed(n);
        quote!(#lit)
    }
}

pub(super) fn millis(d: &std::time::Duration) -> TokenStream {
    let ms = Literal::u64_unsuffixed(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    quote!(::std::time::Duration::from_millis(#ms))
}

/// `sluice_runtime::sinks::TextFormat::Json` for word `json`.
fn variant(words: &EnumWords, word: &str) -> TokenStream {
    let ty = names::path(words.rust_type);
    let variant = names::ident(&EnumWords::variant(word));
    quote!(#ty::#variant)
}

fn value(v: &Value) -> TokenStream {
    match v {
        Value::Bool(b) => quote!(#b),
        Value::Int(n) => int(*n),
        Value::Float(f) => {
            let lit = Literal::f64_unsuffixed(*f);
            quote!(#lit)
        }
        Value::Duration(d) => millis(d),
        Value::Size(n) => {
            let lit = Literal::u64_unsuffixed(*n);
            quote!(sluice_runtime::params::ByteSize(#lit))
        }
        Value::Text(Text::String, s) => quote!(String::from(#s)),
        Value::Text(Text::Path, s) => quote!(::std::path::PathBuf::from(#s)),
        Value::Text(Text::Newtype, s) => quote!(#s.into()),
        Value::Word { words, word } => variant(words, word),
        Value::Interval { words, every } => {
            let ty = names::path(words.rust_type);
            let every = millis(every);
            quote!(#ty::Interval(#every))
        }
        Value::List(items) => {
            let items = items.iter().map(value);
            quote!(vec![#(#items),*])
        }
        Value::Map(entries) => {
            let pairs = entries.iter().map(|(k, v)| {
                let v = value(v);
                quote!((String::from(#k), #v))
            });
            quote!([#(#pairs),*].into_iter().collect())
        }
        Value::Record(c) => config(c),
        Value::Env(env) => {
            let index = Literal::usize_unsuffixed(env.index);
            quote!(sluice_runtime::env::get(AGENT.env_vars[#index])?)
        }
    }
}
