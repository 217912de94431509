//! IR config values → Rust expressions of the config structs' field types.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use sluice_runtime::catalogue::EnumWords;

use super::names;
use crate::ir::{Config, EnvUse, Text, Value};

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

/// `EnvVar { name: "PORT", default: Some("9000"), location: "f.flow:3:9" }`.
pub fn env_var(env: &EnvUse) -> TokenStream {
    let name = &env.name;
    let location = &env.location;
    let default = match &env.default {
        Some(d) => quote!(Some(#d)),
        None => quote!(None),
    };
    quote!(EnvVar { name: #name, default: #default, location: #location })
}

fn millis(d: &std::time::Duration) -> TokenStream {
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
        Value::Int(n) if *n < 0 => {
            let lit = Literal::u64_unsuffixed(n.unsigned_abs());
            quote!(-#lit)
        }
        Value::Int(n) => {
            let lit = Literal::i64_unsuffixed(*n);
            quote!(#lit)
        }
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
            let var = env_var(env);
            quote!(sluice_runtime::env::get(#var)?)
        }
    }
}
