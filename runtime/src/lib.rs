//! The Sluice agent runtime.
//!
//! Every component kind has its own module under `sources/`, `channels/`, `sinks/`,
//! `transforms/` and `groups/`. Its config struct, with `#[derive(Component)]`, is the one
//! declaration of its parameters: [`catalogue::all`] lists them for the compiler.
//!
//! With no cargo features this crate is only that catalogue. The `agent` feature adds the
//! event model, channels, drivers, metrics and shutdown; each component's implementation
//! sits behind its own feature (`source-netcat`, `sink-file-roll`, …) so a generated agent
//! compiles only what its flow uses.

// Lets `#[derive(Component)]`, which names `::sluice_runtime`, work inside this crate.
extern crate self as sluice_runtime;

pub mod agent_config;
pub mod catalogue;
pub mod channels;
pub mod env;
pub mod groups;
pub mod kafka;
pub mod params;
pub mod sinks;
pub mod sources;
pub mod tls;
pub mod transforms;

/// The derives a component declares itself with (see [`catalogue`]).
pub use sluice_macros::{Component, ParamEnum, Params};

/// The async runtime and byte buffers the agent runs on, for components to use the
/// same versions (`sluice_runtime::tokio::net::TcpStream`, `sluice_runtime::bytes::Bytes`).
#[cfg(feature = "agent")]
pub use {bytes, tokio};

/// Allocations in a generated agent go through mimalloc (see the `mimalloc` feature).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
#[cfg(feature = "mimalloc")]
pub mod allocator;

#[cfg(any(feature = "sink-sluice", feature = "sink-kafka", feature = "sink-nats"))]
pub mod acked;
#[cfg(feature = "agent")]
pub mod agent;
#[cfg(feature = "transform-aggregate")]
pub mod aggregate;
#[cfg(feature = "source-http")]
pub mod body_pool;
#[cfg(feature = "agent")]
pub mod build;
#[cfg(any(feature = "sink-file-roll", feature = "sink-lake"))]
pub mod compress;
#[cfg(feature = "agent")]
pub mod embed;
#[cfg(feature = "agent")]
pub mod event;
#[cfg(feature = "agent")]
pub mod expr;
#[cfg(any(feature = "sink-file-roll", feature = "sink-lake"))]
pub mod file_lengths;
#[cfg(any(feature = "source-taildir", feature = "source-spooldir"))]
pub mod file_lines;
#[cfg(feature = "hop")]
pub mod hop;
#[cfg(feature = "sink-lake")]
pub mod lake;
#[cfg(feature = "agent")]
pub mod lines;
#[cfg(feature = "agent")]
pub mod listen;
#[cfg(feature = "agent")]
pub mod marks;
#[cfg(feature = "agent")]
pub mod metrics;
#[cfg(any(feature = "source-nats", feature = "sink-nats"))]
pub mod nats;
#[cfg(any(feature = "sink-file-roll", feature = "sink-lake"))]
pub mod path_template;
#[cfg(feature = "agent")]
pub mod pipeline;
#[cfg(feature = "agent")]
pub mod send_ahead;
#[cfg(feature = "agent")]
pub mod shutdown;
#[cfg(feature = "agent")]
pub mod supervise;
#[cfg(feature = "agent")]
pub mod syslog;
#[cfg(feature = "agent")]
pub mod testing;
#[cfg(feature = "agent")]
pub mod time;
#[cfg(any(feature = "channel-file", feature = "sink-lake"))]
pub mod wal;

/// What generated agents import.
#[cfg(feature = "agent")]
pub mod prelude {
    pub use crate::agent::{AgentContext, AgentError, AgentInfo};
    pub use crate::build::{
        BuildChannel, BuildGroup, BuildSink, BuildSource, BuildTransform, ChannelOf, SinkOf,
        TransformOf,
    };
    pub use crate::env::{EnvKind, EnvRule, EnvVar, Operand};
    pub use crate::event::{Batch, Event};
    pub use crate::expr::{self, Value};
    pub use crate::marks::{Mark, Resume};
    pub use crate::metrics::{ChannelCounters, SinkCounters, SourceCounters, TransformCounters};
    pub use crate::params::ByteSize;
    pub use crate::pipeline::{
        Channel, Closed, Output, Sink, Source, SourceContext, Taken, Transform,
    };
    pub use crate::{Component, ParamEnum, Params};
    pub use std::sync::Arc;
}
