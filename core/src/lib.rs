//! The vocabulary that the `.flow` language, the checker and the runtime share.
//!
//! Each table here exists once: the parser reads `30s` with [`units`], an agent reads
//! `env("TIMEOUT")` with the same table; the checker types `len(body)` with
//! [`functions`], the runtime implements exactly the functions listed there; the
//! checker validates a path template or a URL with [`template`] and [`url`], and the
//! component that uses it at run time parses it with the same code.
//!
//! No dependencies, no features: every crate of the workspace and every generated agent
//! links it.

pub mod address;
pub mod aggregate;
pub mod column;
pub mod functions;
pub mod metric_name;
pub mod role;
pub mod template;
pub mod units;
pub mod url;

pub use role::Role;
