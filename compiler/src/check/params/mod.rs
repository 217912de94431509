//! Parameter checks against the catalogue: `unknown-param`, `missing-param`,
//! `type-mismatch`, `invalid-value` (ranges, regexes, globs, addresses, URLs, templates,
//! enum words), references to other components, and the expressions of `when`/`set`.
//!
//! `fields` walks the written parameters against the declared ones; `literals` checks a
//! literal or `env(...)` value against its type and range; `validators` checks the
//! content of strings (regexes, globs, templates, URLs, addresses) and gives examples.

mod aggregate;
mod fields;
mod literals;
mod validators;

pub use validators::example;

use sluice_dsl::{Param, Span};
use sluice_runtime::catalogue::ComponentSpec;

use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::Symbols;
use fields::Ctx;
use validators::check_group_names;

/// Checks the params written for one component (or the agent block) against its spec.
/// `header` is the span to point at for a missing parameter.
pub fn check_params(
    spec: &ComponentSpec,
    what: &str,
    params: &[Param],
    header: Span,
    symbols: &Symbols,
    diags: &mut Vec<Diagnostic>,
) {
    let ctx = Ctx { symbols, what };
    ctx.check_fields(
        &spec.params,
        spec.kind,
        params.iter().map(|p| (&p.name, &p.value)),
        header,
        diags,
    );
    check_group_names(spec, params, diags);
    if spec.kind == sluice_core::aggregate::KIND {
        aggregate::check_output_headers(params, diags);
    }
    check_rules(spec, params, header, diags);
    for group in spec.requires_one_of {
        if !params.iter().any(|p| group.contains(&p.name.name.as_str())) {
            let names: Vec<String> = group.iter().map(|n| format!("`{n}`")).collect();
            diags.push(
                Diagnostic::new(
                    Code::MissingParam,
                    header,
                    format!("{what} needs {}", names.join(" or ")),
                )
                .label(format!("set {}", names.join(" or ")))
                .help(format!("e.g. `{} = \"x-debug\"`", group[0])),
            );
        }
    }
}

/// The word a parameter holds: as written (a string or a bare word), else its default;
/// `None` when it is given otherwise (`env(...)`) or has no default. With the span it
/// was written at, if it was.
fn word_of(spec: &ComponentSpec, params: &[Param], name: &str) -> Option<(String, Option<Span>)> {
    match params.iter().find(|p| p.name.name == name) {
        Some(p) => match (p.value.literal(), p.value.reference()) {
            (Some(sluice_dsl::Literal::Str(s)), _) => Some((s.clone(), Some(p.value.span))),
            (_, Some(ident)) => Some((ident.name, Some(p.value.span))),
            _ => None,
        },
        None => spec
            .param(name)
            .and_then(|p| p.default)
            .map(|d| (d.trim_matches('"').to_owned(), None)),
    }
}

/// The component's rules between parameters (see `ParamRule`).
fn check_rules(spec: &ComponentSpec, params: &[Param], header: Span, diags: &mut Vec<Diagnostic>) {
    for rule in spec.rules {
        let (when_param, when_word) = rule.when;
        let Some((word, span)) = word_of(spec, params, when_param) else {
            continue;
        };
        if word != when_word {
            continue;
        }
        let (then_param, then_word) = rule.then;
        let (holds, wanted) = match then_word {
            None => (
                params.iter().any(|p| p.name.name == then_param),
                format!("`{then_param}`"),
            ),
            Some(then_word) => (
                word_of(spec, params, then_param).is_none_or(|(w, _)| w == then_word),
                format!("`{then_param} = \"{then_word}\"`"),
            ),
        };
        if holds {
            continue;
        }
        let mut d = Diagnostic::new(
            Code::InvalidValue,
            span.unwrap_or(header),
            format!("`{when_param} = \"{when_word}\"` needs {wanted}"),
        )
        .label(format!("needs {wanted}"));
        if !rule.help.is_empty() {
            d = d.help(rule.help);
        }
        diags.push(d);
    }
}
