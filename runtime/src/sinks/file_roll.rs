//! `file_roll`: events written to rolling files.

use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use super::TextFormat;
use crate::params::{ByteSize, PathTemplate};

/// Writes events to files under `dir`, starting a new file every `roll_interval` or
/// `roll_size`. `dir` and `prefix` may use `%Y %m %d %H %M` (event time, UTC) and
/// `%{header}`.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "file_roll")]
pub struct FileRollConfig {
    /// Directory the files go in (a template).
    #[param(path_key)]
    pub dir: PathTemplate,
    /// Start of each file name (a template); a timestamp and counter follow it.
    #[param(default = "\"events\"", path_key)]
    pub prefix: PathTemplate,
    /// Start a new file after this long; `0s` never rolls by time.
    #[param(default = "30s")]
    pub roll_interval: Duration,
    /// Start a new file once it reaches this size.
    #[param(min = 1)]
    pub roll_size: Option<ByteSize>,
    /// How each event is written.
    #[param(default = "\"text\"")]
    pub format: TextFormat,
    /// Compress files as they are written.
    #[param(default = "\"none\"")]
    pub compression: Compression,
    /// fsync each batch before committing it (slower; survives power loss).
    #[param(default = "false")]
    pub fsync: bool,
    /// Events taken from the channel per transaction.
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
}

/// File compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}
