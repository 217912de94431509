//! One of two crates declaring the same transform kind.

use sluice_runtime::prelude::*;

/// Uppercases (a).
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "upper")]
pub struct UpperConfig {}
