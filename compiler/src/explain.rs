//! Text for `sluice list` and `sluice explain KIND`, read from the catalogue.

use std::fmt::Write as _;

use sluice_runtime::catalogue::{self, ComponentSpec, Role};

use crate::crates::Catalogue;

const ROLES: [(Role, &str); 5] = [
    (Role::Source, "Sources"),
    (Role::Channel, "Channels"),
    (Role::Sink, "Sinks"),
    (Role::Transform, "Transforms"),
    (Role::Group, "Sink groups"),
];

/// Every kind, grouped by role, with its one-line summary; a user's kinds are marked
/// with their crate.
pub fn list(catalogue: &Catalogue) -> String {
    let mut out = String::new();
    for (role, title) in ROLES {
        let _ = writeln!(out, "{title}:");
        for spec in catalogue.all().filter(|c| c.role == role) {
            let origin = catalogue
                .crate_of(spec)
                .map(|c| format!(" [crate {}]", c.name))
                .unwrap_or_default();
            let _ = writeln!(out, "  {:<16} {}{origin}", spec.kind, spec.summary());
        }
        out.push('\n');
    }
    out.push_str("Run `sluice explain KIND` for a kind's parameters.\n");
    out
}

/// The kinds named `kind` (one per role that has it); `agent` explains the agent block.
pub fn find(catalogue: &Catalogue, kind: &str) -> Vec<&'static ComponentSpec> {
    catalogue.all().filter(|c| c.kind == kind).collect()
}

/// A kind's description and parameter table.
pub fn explain(spec: &ComponentSpec) -> String {
    let mut out = String::new();
    if spec.role == Role::Agent {
        let _ = writeln!(out, "agent \"NAME\" {{ ... }}\n");
    } else {
        let _ = writeln!(out, "{} NAME = {} {{ ... }}\n", spec.role, spec.kind);
    }
    let _ = writeln!(out, "{}\n", spec.doc);
    if spec.planned {
        out.push_str("Not yet available in built agents: `sluice check` validates it, `sluice build` refuses it.\n\n");
    }
    if spec.params.is_empty() {
        out.push_str("No parameters.\n");
        return out;
    }
    out.push_str("Parameters:\n");
    for p in &spec.params {
        let requirement = match (p.required, p.default) {
            (true, _) => "required".to_owned(),
            (false, Some(d)) => format!("default {d}"),
            (false, None) => "optional".to_owned(),
        };
        let _ = writeln!(out, "  {} ({}, {requirement})", p.name, p.ty.short_name());
        for line in p.doc.lines() {
            let _ = writeln!(out, "      {line}");
        }
        if let sluice_runtime::catalogue::ParamType::Record { fields, .. } = &p.ty {
            for f in fields {
                let req = if f.required { "required" } else { "optional" };
                let _ = writeln!(
                    out,
                    "      .{} ({}, {req}): {}",
                    f.name,
                    f.ty.short_name(),
                    f.summary()
                );
            }
        }
    }
    if !spec.requires_one_of.is_empty() {
        for group in spec.requires_one_of {
            let _ = writeln!(out, "\nAt least one of {} is required.", group.join(", "));
        }
    }
    out.push_str(&rules_text(spec));
    out
}

/// The component's rules between parameters, one sentence each.
fn rules_text(spec: &ComponentSpec) -> String {
    let mut out = String::new();
    for rule in spec.rules {
        let (param, word) = rule.when;
        let then = match rule.then {
            (name, None) => format!("`{name}` is required"),
            (name, Some(w)) => format!("`{name}` must be \"{w}\""),
        };
        let _ = writeln!(out, "\nWith `{param} = \"{word}\"`, {then}.");
    }
    out
}

/// The file name of a kind's page under `docs/components/` (`source-http.md`).
pub fn page_name(spec: &ComponentSpec) -> String {
    format!("{}-{}.md", spec.role, spec.kind)
}

/// `docs/components.md`: every kind by role with its summary, linking to its page.
pub fn components_markdown() -> String {
    let mut out = String::from(
        "# Components\n\n\
         Generated from the component catalogue (the runtime's config structs, whose doc \
         comments are the text here); `sluice list` and `sluice explain KIND` print the same. \
         Do not edit by hand: run `SLUICE_BLESS=1 cargo test -p sluice-compiler --test docs`.\n",
    );
    let agent: Vec<&ComponentSpec> = catalogue::all()
        .iter()
        .filter(|c| c.role == Role::Agent)
        .collect();
    for (title, specs) in
        std::iter::once(("The agent block", agent)).chain(ROLES.iter().map(|(role, title)| {
            (
                *title,
                catalogue::all()
                    .iter()
                    .filter(|c| c.role == *role)
                    .collect::<Vec<_>>(),
            )
        }))
    {
        let _ = writeln!(out, "\n## {title}\n");
        for spec in specs {
            let planned = if spec.planned {
                " *(not yet available in built agents)*"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "- [`{}`](components/{}){planned}: {}",
                spec.kind,
                page_name(spec),
                spec.summary()
            );
        }
    }
    out
}

/// One kind's page: description and parameter table.
pub fn component_page(spec: &ComponentSpec) -> String {
    let mut out = String::new();
    if spec.role == Role::Agent {
        out.push_str("# The `agent` block\n\n");
    } else {
        let _ = writeln!(out, "# `{}` ({})\n", spec.kind, spec.role);
        let _ = writeln!(
            out,
            "```\n{} NAME = {} {{ ... }}\n```\n",
            spec.role, spec.kind
        );
    }
    if spec.planned {
        out.push_str(
            "*Checked by `sluice check`; not yet available in built agents \
             (`sluice build` reports `unsupported`).*\n\n",
        );
    }
    let _ = writeln!(out, "{}\n", spec.doc.replace('\n', " "));
    if spec.params.is_empty() {
        out.push_str("No parameters.\n");
        return out;
    }
    out.push_str("| param | type | default | description |\n|---|---|---|---|\n");
    for p in &spec.params {
        let default = match (p.required, p.default) {
            (true, _) => "**required**".to_owned(),
            (false, Some(d)) => format!("`{d}`"),
            (false, None) => "unset".to_owned(),
        };
        let mut doc = p.doc.replace('\n', " ");
        if let sluice_runtime::catalogue::ParamType::Record { fields, .. } = &p.ty {
            let parts: Vec<String> = fields
                .iter()
                .map(|f| {
                    format!(
                        "`{}`{}: {}",
                        f.name,
                        if f.required { " (required)" } else { "" },
                        f.summary()
                    )
                })
                .collect();
            doc.push_str(&format!(" Fields: {}", parts.join("; ")));
        }
        let _ = writeln!(
            out,
            "| `{}` | {} | {default} | {} |",
            p.name,
            p.ty.short_name().replace('|', "\\|"),
            doc.replace('|', "\\|")
        );
    }
    for group in spec.requires_one_of {
        let _ = writeln!(out, "\nAt least one of {} is required.", group.join(", "));
    }
    out.push_str(&rules_text(spec));
    out
}
