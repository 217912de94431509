//! `json_extract`: copies fields of a JSON body into headers.

use std::collections::BTreeMap;

use sluice_macros::Component;

/// Parses the body as JSON and sets headers from JSON pointers. Bodies that are not JSON
/// pass unchanged and are counted as parse errors.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "json_extract", planned)]
pub struct JsonExtractConfig {
    /// Header name → JSON pointer, e.g. `{ user = "/user/id", status = "/status" }`.
    pub fields: BTreeMap<String, String>,
}
