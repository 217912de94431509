//! `bind-conflict` and `path-conflict`: two components that would fight over one port or
//! one set of files. Which params bind and which name files is asked of the catalogue.

use sluice_dsl::Span;
use sluice_runtime::catalogue::{self, ComponentSpec};

use super::values::string_param;
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::{Component, Symbols};

struct Bind {
    owner: String,
    protocol: &'static str,
    host: String,
    port: u16,
    span: Span,
}

pub fn check(symbols: &Symbols, diags: &mut Vec<Diagnostic>) {
    binds(symbols, diags);
    paths(symbols, diags);
}

fn binds(symbols: &Symbols, diags: &mut Vec<Diagnostic>) {
    let mut seen: Vec<Bind> = Vec::new();
    let agent = agent_binds(symbols);
    let components = symbols
        .components
        .iter()
        .filter_map(|c| c.spec.map(|s| (c, s)));
    let mut found: Vec<Bind> = agent;
    for (component, spec) in components {
        for param in spec.params.iter().filter(|p| p.binds.is_some()) {
            let Some((addr, span)) = string_param(component, param.name) else {
                continue;
            };
            if let Some((host, port)) = split_address(&addr) {
                found.push(Bind {
                    owner: format!("{} `{}`", component.role(), component.name()),
                    protocol: param.binds.unwrap_or("tcp"),
                    host,
                    port,
                    span,
                });
            }
        }
    }
    found.sort_by_key(|b| b.span.start);
    for bind in found {
        if bind.port == 0 {
            continue; // port 0 = any free port
        }
        if let Some(first) = seen.iter().find(|s| {
            s.protocol == bind.protocol && s.port == bind.port && hosts_overlap(&s.host, &bind.host)
        }) {
            diags.push(
                Diagnostic::new(
                    Code::BindConflict,
                    bind.span,
                    format!(
                        "{} listens on {} port {}, which {} already uses",
                        bind.owner,
                        bind.protocol.to_uppercase(),
                        bind.port,
                        first.owner
                    ),
                )
                .label("port already bound")
                .note(first.span, format!("{} binds it here", first.owner))
                .help("give each listener its own port"),
            );
        } else {
            seen.push(bind);
        }
    }
}

fn agent_binds(symbols: &Symbols) -> Vec<Bind> {
    let Some(agent) = symbols.agent else {
        return Vec::new();
    };
    let Some(spec) = Some(catalogue::agent()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for param in agent.params.iter().flat_map(|b| &b.params) {
        let binds = spec.param(&param.name.name).and_then(|p| p.binds);
        let (Some(protocol), Some(sluice_dsl::Literal::Str(addr))) = (binds, param.value.literal())
        else {
            continue;
        };
        if let Some((host, port)) = split_address(addr) {
            out.push(Bind {
                owner: "the agent's metrics endpoint".into(),
                protocol,
                host,
                port,
                span: param.value.span,
            });
        }
    }
    out
}

fn split_address(addr: &str) -> Option<(String, u16)> {
    let (host, port) = addr.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    Some((host.to_owned(), port.parse().ok()?))
}

fn hosts_overlap(a: &str, b: &str) -> bool {
    let wildcard = |h: &str| matches!(h, "0.0.0.0" | "::" | "");
    a == b || wildcard(a) || wildcard(b)
}

fn paths(symbols: &Symbols, diags: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(String, String, Span)> = Vec::new();
    for component in &symbols.components {
        let Some(spec) = component.spec else { continue };
        let Some((key, span)) = path_key(component, spec) else {
            continue;
        };
        let owner = format!("{} `{}`", component.role(), component.name());
        if let Some((_, first_owner, first_span)) = seen.iter().find(|(k, _, _)| *k == key) {
            diags.push(
                Diagnostic::new(
                    Code::PathConflict,
                    span,
                    format!("{owner} writes to `{key}`, which {first_owner} also writes"),
                )
                .label("same path")
                .note(*first_span, format!("{first_owner} uses it here"))
                .help("give each component its own directory or file name"),
            );
        } else {
            seen.push((key, owner, span));
        }
    }
}

/// The files a component writes, as one string (e.g. `dir/prefix`), and where it was set.
fn path_key(component: &Component, spec: &ComponentSpec) -> Option<(String, Span)> {
    let mut parts = Vec::new();
    let mut span = None;
    for param in spec.params.iter().filter(|p| p.path_key) {
        let (value, value_span) = string_param(component, param.name)?;
        span.get_or_insert(value_span);
        parts.push(value.trim_end_matches('/').to_owned());
    }
    if parts.is_empty() {
        return None;
    }
    Some((parts.join("/"), span?))
}
