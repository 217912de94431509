//! Four components written outside Sluice, one per role, used by `example.flow` with
//! `use "."`:
//!
//! - [`loadavg`]: a source reading the kernel's load averages from `/proc/loadavg`;
//! - [`RedactConfig`]: a transform masking long digit runs (card numbers, account numbers);
//! - [`priority`]: a channel handing out `priority = "high"` events before the others;
//! - [`jsonl`]: a sink appending events to a file as JSON lines.
//!
//! Each is one module: its config struct (`#[derive(Component)]`, read by `sluice
//! check` without compiling this crate) and the role's `Build*` trait and runtime trait.
//! A module may stay private when its config struct is re-exported (`redact`): the
//! agent names it by its public path.

pub mod jsonl;
pub mod loadavg;
pub mod priority;
mod redact;

pub use redact::{Redact, RedactConfig};
