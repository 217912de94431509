//! `set`: computes headers from expressions.

use std::collections::BTreeMap;

use sluice_macros::Component;

use crate::params::ScalarExpr;

/// Sets each header in `headers` to the value of its expression; numbers are written as
/// decimal text and a `null` result leaves the header untouched.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "set", inline)]
pub struct SetConfig {
    /// Header name → expression, e.g. `{ level = upper(.level), size = len(body) }`.
    pub headers: BTreeMap<String, ScalarExpr>,
}
