//! Rust names for flow names, in one place. A flow may call a component `in` or `type`,
//! so every generated identifier gets a prefix. Prefixes differ in their first segment
//! (`ch_`, `sink_`, `src_`, `tf_`, `agg_`, `after_`, `config_`, `counters_`, `to_`), so no
//! two components' identifiers can be equal; type names (`AccessOutput`) are made unique by
//! [`TypeNames`], since camel case folds `a_b`, `a__b` and `ab` together.

use proc_macro2::{Ident, Span, TokenStream};
use sluice_runtime::catalogue::Role;

/// An identifier; a keyword (a field named `r#type`) is written raw.
pub fn ident(name: &str) -> Ident {
    let name = name.strip_prefix("r#").unwrap_or(name);
    if syn::parse_str::<Ident>(name).is_ok() {
        Ident::new(name, Span::call_site())
    } else {
        Ident::new_raw(name, Span::call_site())
    }
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

/// Aggregate `name`'s running state, as a local and a field of an `Output` struct.
pub fn aggregate(name: &str) -> Ident {
    ident(&format!("agg_{name}"))
}

/// The `Output` method that takes aggregate `name`'s closed windows down the rest of
/// its flow statement.
pub fn after_aggregate(name: &str) -> Ident {
    ident(&format!("after_{name}"))
}

/// The counters of inline transform `name`, as a field of an `Output` struct.
pub fn transform_counters(name: &str) -> Ident {
    ident(&format!("counters_{name}"))
}

/// `config_sink_out`: the config struct value of component `name` of `role`.
pub fn config(role: Role, name: &str) -> Ident {
    ident(&format!("config_{}_{name}", role.keyword()))
}

/// The batch a route fills for channel `name`.
pub fn route_batch(name: &str) -> Ident {
    ident(&format!("to_{name}"))
}

pub fn regex(index: usize) -> Ident {
    ident(&format!("RE_{index}"))
}

/// `access_logs` → `AccessLogs`.
fn camel_case(name: &str) -> String {
    let mut camel = String::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            camel.extend(first.to_uppercase());
            camel.push_str(chars.as_str());
        }
    }
    camel
}

/// The type names given out so far in one generated file: each new one is unique.
#[derive(Default)]
pub struct TypeNames(std::collections::HashSet<String>);

impl TypeNames {
    /// `access_logs` → `AccessLogsOutput`: the struct a source's events go through.
    pub fn output_struct(&mut self, source: &str) -> Ident {
        self.unique(format!("{}Output", camel_case(source)))
    }

    /// `per_minute` → `PerMinuteWindows`: where an aggregate's windows go.
    pub fn windows_struct(&mut self, aggregate: &str) -> Ident {
        self.unique(format!("{}Windows", camel_case(aggregate)))
    }

    /// `pool` → `PoolMembers`: a group's member sinks.
    pub fn members_struct(&mut self, group: &str) -> Ident {
        self.unique(format!("{}Members", camel_case(group)))
    }

    /// `base`, or `base2`, `base3`... when it is taken (deterministic: first come,
    /// first served in flow order).
    fn unique(&mut self, base: String) -> Ident {
        let mut name = base.clone();
        let mut n = 1;
        while !self.0.insert(name.clone()) {
            n += 1;
            name = format!("{base}{n}");
        }
        ident(&name)
    }
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
