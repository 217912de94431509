//! `spooldir`: ingests whole files dropped into a directory (Flume's spooling directory).

use std::path::PathBuf;
use std::time::Duration;

use sluice_macros::Component;

use crate::params::{ByteSize, Glob};

/// Reads each file placed in `dir`, line by line; when it is committed, renames it with
/// `completed_suffix` (or deletes it). Files must not change after they are dropped in.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "spooldir", planned, replayable)]
pub struct SpooldirConfig {
    /// The spool directory.
    #[param(path_key)]
    pub dir: PathBuf,
    /// Suffix added to a file once all its events are committed.
    #[param(default = "\".COMPLETED\"")]
    pub completed_suffix: String,
    /// Delete completed files instead of renaming them.
    #[param(default = "false")]
    pub delete_completed: bool,
    /// Only read files whose name matches this glob.
    pub include: Option<Glob>,
    /// Skip files whose name matches this glob.
    pub ignore: Option<Glob>,
    /// Longest line accepted; longer lines are counted as rejected and skipped.
    #[param(default = "64KiB", min = 1)]
    pub max_line: ByteSize,
    /// How often to look for new files.
    #[param(default = "500ms", min = 1)]
    pub poll_interval: Duration,
    /// Events put into the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
}
