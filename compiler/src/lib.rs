//! The Sluice compiler: checks `.flow` files against the component catalogue and the
//! topology rules, and renders the problems it finds.
//!
//! Stages, each in its own module, data flowing one way: [`sluice_dsl::parse`] →
//! [`resolve`] → [`check`] (params, topology, conflicts, lints; problems are rendered by
//! [`render`]) → [`ir`] (the checked flow, resolved and typed) → [`codegen`] → [`build`]. The [`graph`] module holds the
//! petgraph topology that checks and `sluice graph` share.

pub mod build;
pub mod check;
pub mod codegen;
pub mod crates;
pub mod diagnostic;
pub mod explain;
pub mod flowtest;
pub mod graph;
pub mod graph_render;
pub mod import;
pub mod ir;
pub mod render;
pub mod resolve;
pub mod scaffold;
pub mod source;
mod suggest;

pub use check::{check, check_with, Checked};
pub use diagnostic::{Code, Diagnostic, Severity};
pub use source::SourceFile;
