//! Channels: transactional buffers between sources and sinks. One file per kind.

pub mod file;
pub mod memory;
