//! `taildir`: follows files matching globs across rotation (Flume's TAILDIR source).

use std::path::PathBuf;
use std::time::Duration;

use sluice_macros::Component;

use crate::params::{ByteSize, Glob};

/// Follows every file matching `files`, through rename and copytruncate rotation. The
/// position file is written only after a batch is committed, so a restart neither loses
/// nor repeats committed lines.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "taildir", planned, replayable)]
pub struct TaildirConfig {
    /// Globs of the files to follow, e.g. `["/var/log/nginx/*.log"]`.
    pub files: Vec<Glob>,
    /// JSON file recording how far each file has been read.
    #[param(path_key)]
    pub positions: PathBuf,
    /// Longest line accepted; longer lines are counted as rejected and skipped.
    #[param(default = "64KiB", min = 1)]
    pub max_line: ByteSize,
    /// Start new files at their end instead of their beginning.
    #[param(default = "false")]
    pub skip_to_end: bool,
    /// Add the file's path as the `file` header.
    #[param(default = "false")]
    pub file_header: bool,
    /// How often to look for new data and new files.
    #[param(default = "250ms", min = 1)]
    pub poll_interval: Duration,
    /// Events put into the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
}
