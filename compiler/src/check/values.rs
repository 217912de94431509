//! The value a component's parameter has after defaults: what checks that compare
//! components (capacity, conflicts) read.

use sluice_dsl::{Literal, Span};
use sluice_runtime::catalogue::Purpose;

use crate::resolve::Component;

/// The value of the integer parameter that plays `purpose` (e.g. a sink's batch size)
/// and, when it was written, where.
pub fn int_param(component: &Component, purpose: Purpose) -> Option<(i64, Option<Span>)> {
    let name = component.spec?.param_for(purpose)?.name;
    if let Some(param) = component.decl.params().iter().find(|p| p.name.name == name) {
        return match param.value.literal() {
            Some(Literal::Int(n)) => Some((*n, Some(param.value.span))),
            _ => None,
        };
    }
    let default = component.spec?.param(name)?.default?;
    default.replace('_', "").parse().ok().map(|n| (n, None))
}

/// A string parameter's value (a written literal or the default), if it is known at check
/// time. `env(...)` values are not.
pub fn string_param(component: &Component, name: &str) -> Option<(String, Span)> {
    if let Some(param) = component.decl.params().iter().find(|p| p.name.name == name) {
        return match param.value.literal() {
            Some(Literal::Str(s)) => Some((s.clone(), param.value.span)),
            _ => None,
        };
    }
    let default = component.spec?.param(name)?.default?;
    let unquoted = default.strip_prefix('"')?.strip_suffix('"')?;
    Some((unquoted.to_owned(), component.decl.name.span))
}
