//! Segment files: the append-only files a file channel writes, one at a time.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use crate::wal;

/// The segment being appended to.
pub(super) struct Writer {
    pub(super) file: File,
    pub(super) segment: u64,
    pub(super) offset: u64,
    /// Written since the last sync (only with an interval policy).
    pub(super) dirty: bool,
}

pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates segment `id` with its header, synced with its directory entry.
pub(super) fn new_segment(dir: &Path, id: u64) -> io::Result<Writer> {
    let path = wal::segment_path(dir, id);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    let ready = file
        .write_all(wal::SEGMENT_MAGIC)
        .and_then(|()| file.sync_all())
        .and_then(|()| sync_dir(dir));
    if let Err(e) = ready {
        // Leave no half-made segment behind to block the next attempt.
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    Ok(Writer {
        file,
        segment: id,
        offset: wal::SEGMENT_MAGIC.len() as u64,
        dirty: false,
    })
}
