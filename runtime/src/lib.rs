//! The Sluice agent runtime.
//!
//! Every component kind has its own module under `sources/`, `channels/`, `sinks/`,
//! `transforms/` and `groups/`. Its config struct, with `#[derive(Component)]`, is the one
//! declaration of its parameters: [`catalogue::all`] lists them for the compiler.

// Lets `#[derive(Component)]`, which names `::sluice_runtime`, work inside this crate.
extern crate self as sluice_runtime;

pub mod agent;
pub mod catalogue;
pub mod channels;
pub mod groups;
pub mod params;
pub mod sinks;
pub mod sources;
pub mod tls;
pub mod transforms;
