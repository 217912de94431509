//! `file`: a durable channel backed by a write-ahead log.

use std::path::PathBuf;

use sluice_macros::Component;

use crate::params::{ByteSize, FsyncPolicy};

/// Buffers events in append-only, checksummed segment files under `dir`; committed events
/// survive `kill -9` and restarts. Only one agent may use a directory at a time.
#[derive(Clone, Debug, Component)]
#[component(role = "channel", kind = "file", durable)]
pub struct FileChannelConfig {
    /// Directory for segments and the checkpoint.
    #[param(path_key)]
    pub dir: PathBuf,
    /// Most events held at once.
    #[param(capacity, default = "1_000_000", min = 1)]
    pub capacity: u64,
    /// Most bytes of segments on disk; unlimited when unset.
    #[param(min = 1)]
    pub max_bytes: Option<ByteSize>,
    /// Most events in one take; a put is one transaction, whatever its size
    #[param(transaction_capacity, default = "10_000", min = 1)]
    pub transaction_capacity: u64,
    /// `"every_commit"` syncs before each commit returns; a duration syncs at most that
    /// long after a commit (faster; a power loss can lose that interval).
    #[param(default = "\"every_commit\"")]
    pub fsync: FsyncPolicy,
    /// Size at which a segment file is closed and a new one started.
    #[param(default = "64MiB", min = 4096)]
    pub segment_size: ByteSize,
}

// The implementation, by responsibility: `channel` (puts, takes, commits, checkpoints),
// `segment` (the files it appends to), `reader` (reading committed records back),
// `recovery` (what a restart finds on disk).
#[cfg(feature = "channel-file")]
mod channel;
#[cfg(feature = "channel-file")]
mod marks;
#[cfg(feature = "channel-file")]
mod reader;
#[cfg(feature = "channel-file")]
mod recovery;
#[cfg(feature = "channel-file")]
mod segment;
#[cfg(all(test, feature = "channel-file"))]
mod tests;

#[cfg(feature = "channel-file")]
pub use channel::FileChannel;
