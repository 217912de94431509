//! Parameter checks against the catalogue: `unknown-param`, `missing-param`,
//! `type-mismatch`, `invalid-value` (ranges, regexes, globs, addresses, URLs, templates,
//! enum words), references to other components, and the expressions of `when`/`set`.
//!
//! `fields` walks the written parameters against the declared ones; `literals` checks a
//! literal or `env(...)` value against its type and range; `validators` checks the
//! content of strings (regexes, globs, templates, URLs, addresses) and gives examples.

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
