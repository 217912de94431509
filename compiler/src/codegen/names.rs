//! Rust names for flow names, in one place: a flow may call a component `in` or `type`,
//! so every generated identifier gets a role prefix or a suffix.

use proc_macro2::{Ident, Span, TokenStream};
use sluice_runtime::catalogue::Role;

pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

pub fn channel(name: &str) -> Ident {
    ident(&format!("ch_{name}"))
}

pub fn sink(name: &str) -> Ident {
    ident(&format!("sink_{name}"))
}

pub fn source(name: &str) -> Ident {
    ident(&format!("src_{name}"))
}

pub fn transform(name: &str) -> Ident {
    ident(&format!("tf_{name}"))
}

pub fn transform_counters(name: &str) -> Ident {
    ident(&format!("{name}_counters"))
}

/// `sink_out_config`: the config struct value of component `name` of `role`.
pub fn config(role: Role, name: &str) -> Ident {
    ident(&format!("{}_{name}_config", role.keyword()))
}

/// The batch a route fills for channel `name`.
pub fn route_batch(name: &str) -> Ident {
    ident(&format!("to_{name}"))
}

pub fn regex(index: usize) -> Ident {
    ident(&format!("RE_{index}"))
}

/// `access_logs` → `AccessLogsOutput`.
pub fn output_struct(source: &str) -> Ident {
    let mut camel = String::new();
    for part in source.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            camel.extend(first.to_uppercase());
            camel.push_str(chars.as_str());
        }
    }
    ident(&format!("{camel}Output"))
}

/// `pool` → `PoolMembers`.
pub fn members_struct(group: &str) -> Ident {
    let output = output_struct(group).to_string();
    ident(&format!("{}Members", output.trim_end_matches("Output")))
}

/// A `::`-separated path from the catalogue (`sluice_runtime::channels::memory::MemoryConfig`).
pub fn path(text: &str) -> TokenStream {
    let segments = text.split("::").map(ident);
    quote::quote!(#(#segments)::*)
}

/// A crate / binary name: lowercase letters, digits, `-` and `_`.
pub fn crate_name(agent: &str) -> String {
    let name: String = agent
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("agent_{name}")
    } else {
        name
    }
}
