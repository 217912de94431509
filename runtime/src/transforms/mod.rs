//! Transforms: per-event changes applied on a source's side of a flow (Flume's
//! interceptors). One file per kind.

pub mod filter;
pub mod host;
pub mod json_extract;
pub mod regex_extractor;
pub mod regex_filter;
pub mod remove_header;
pub mod search_replace;
pub mod set;
pub mod static_header;
pub mod timestamp;
pub mod uuid;
