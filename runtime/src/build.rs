//! The build contract of each role: how a component's config struct turns into the value
//! the agent runs. A generated agent calls `config.build(...)` through these traits, so
//! rustc checks every component against its role's contract when the runtime is
//! compiled (`cargo check --features full`), not when some agent is generated.
//!
//! A component implements the trait of its role on its config struct:
//!
//! ```ignore
//! impl BuildSink for NullConfig {
//!     type Sink = Null;
//!
//!     async fn build(self) -> io::Result<Null> {
//!         Ok(Null)
//!     }
//! }
//! ```

#![warn(missing_docs)]

use std::future::Future;
use std::io;
use std::sync::Arc;

use crate::groups::GroupMembers;
use crate::metrics::{ChannelCounters, TransformCounters};
use crate::pipeline::{Channel, Sink, Source, Transform};

/// A source's config: builds the source (binding its sockets, opening its files).
pub trait BuildSource {
    /// The source it builds.
    type Source: Source;

    /// Binds, opens and connects what the source needs; an error stops the agent at start.
    fn build(self) -> impl Future<Output = io::Result<Self::Source>> + Send;
}

/// A channel's config: builds the channel (recovering a durable one), given the counters
/// it keeps its size and fill in.
pub trait BuildChannel {
    /// The channel it builds.
    type Channel: Channel;

    /// Creates (or recovers) the channel; `counters` are its metrics.
    fn build(
        self,
        counters: Arc<ChannelCounters>,
    ) -> impl Future<Output = io::Result<Self::Channel>> + Send;
}

/// A sink's config: builds the sink (connections are opened on first use).
pub trait BuildSink {
    /// The sink it builds.
    type Sink: Sink;

    /// Creates the sink; an error stops the agent at start.
    fn build(self) -> impl Future<Output = io::Result<Self::Sink>> + Send;
}

/// A run-time transform's config (inline transforms such as `filter` have none: the code
/// generator compiles them into the agent).
pub trait BuildTransform {
    /// The transform it builds.
    type Transform: Transform;

    /// Sets up the transform (compiles its patterns...); `counters` are its metrics.
    fn build(
        self,
        counters: Arc<TransformCounters>,
    ) -> impl Future<Output = io::Result<Self::Transform>> + Send;
}

/// A sink group's config: builds the group sink around its generated members struct.
pub trait BuildGroup {
    /// The group sink it builds around members `M`.
    type Group<M: GroupMembers>: Sink;

    /// Creates the group sink around its members.
    fn build<M: GroupMembers>(
        self,
        members: M,
    ) -> impl Future<Output = io::Result<Self::Group<M>>> + Send;
}

/// The channel a channel config builds: `ChannelOf<MemoryConfig>` (for generated field types).
pub type ChannelOf<C> = <C as BuildChannel>::Channel;

/// The sink a sink config builds.
pub type SinkOf<C> = <C as BuildSink>::Sink;

/// The transform a transform config builds.
pub type TransformOf<C> = <C as BuildTransform>::Transform;
