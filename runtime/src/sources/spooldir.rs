//! `spooldir`: ingests whole files dropped into a directory (Flume's spooling directory).

use std::path::PathBuf;
use std::time::Duration;

use sluice_macros::Component;

use crate::params::{ByteSize, Glob};

/// Reads each file placed in `dir`, line by line; when it is committed, renames it with
/// `completed_suffix` (or deletes it). Files must not change after they are dropped in.
/// Into a `file` channel, the position in the current file is committed with every
/// batch, so a crash repeats nothing.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "spooldir", replayable)]
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
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "source-spooldir")]
pub use imp::Spooldir;

#[cfg(feature = "source-spooldir")]
mod imp {
    use crate::build::BuildSource;
    use std::collections::HashSet;
    use std::fs::File;
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::path::PathBuf;
    use std::time::SystemTime;

    use super::SpooldirConfig;
    use crate::file_lines::{write_atomically, LinesAt};
    use crate::marks::Mark;
    use crate::pipeline::{Output, Source, SourceContext};

    /// Where the spooldir remembers how far into the current file it got.
    const TRACKER_DIR: &str = ".sluice-spool";

    /// The key of the one mark a spooldir commits: its place in the current file.
    const MARK_KEY: &[u8] = b"current";

    pub struct Spooldir {
        config: SpooldirConfig,
        include: Option<globset::GlobMatcher>,
        ignore: Option<globset::GlobMatcher>,
        tracker: PathBuf,
        /// The place the channel committed last, newer than the tracker's.
        resumed: Option<Place>,
    }

    /// A place in a spool file: which file (path, inode and size, which a spool file
    /// never changes) and how far.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Place {
        path: PathBuf,
        inode: u64,
        size: u64,
        pos: u64,
    }

    impl Place {
        /// Inode, size, position, then the path's bytes.
        fn encode(&self) -> Vec<u8> {
            let mut value = self.inode.to_le_bytes().to_vec();
            value.extend_from_slice(&self.size.to_le_bytes());
            value.extend_from_slice(&self.pos.to_le_bytes());
            value.extend_from_slice(self.path.as_os_str().as_bytes());
            value
        }

        fn decode(value: &[u8]) -> Option<Place> {
            let word = |at: usize| -> Option<u64> {
                Some(u64::from_le_bytes(value.get(at..at + 8)?.try_into().ok()?))
            };
            let (inode, size, pos) = (word(0)?, word(8)?, word(16)?);
            let path = PathBuf::from(std::ffi::OsStr::from_bytes(value.get(24..)?));
            Some(Place {
                path,
                inode,
                size,
                pos,
            })
        }
    }

    impl BuildSource for SpooldirConfig {
        type Source = Spooldir;

        async fn build(self) -> io::Result<Spooldir> {
            let config = self;
            let matcher =
                |g: &Option<crate::params::Glob>| -> io::Result<Option<globset::GlobMatcher>> {
                    g.as_ref()
                        .map(|g| {
                            globset::Glob::new(&g.0)
                                .map(|g| g.compile_matcher())
                                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
                        })
                        .transpose()
                };
            let meta = std::fs::metadata(&config.dir).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("spool directory {}: {e}", config.dir.display()),
                )
            })?;
            if !meta.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a directory", config.dir.display()),
                ));
            }
            Ok(Spooldir {
                include: matcher(&config.include)?,
                ignore: matcher(&config.ignore)?,
                tracker: config.dir.join(TRACKER_DIR).join("position.json"),
                config,
                resumed: None,
            })
        }
    }

    /// The file being read: its identity and size when picked up, to notice changes.
    struct Current {
        path: PathBuf,
        file: File,
        inode: u64,
        size: u64,
        modified: Option<SystemTime>,
        pos: u64,
    }

    impl Spooldir {
        /// The oldest eligible file (by modification time, then name).
        fn next_file(&self, failed: &HashSet<PathBuf>) -> Option<PathBuf> {
            let mut candidates: Vec<(SystemTime, PathBuf)> = std::fs::read_dir(&self.config.dir)
                .ok()?
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let path = entry.path();
                    let meta = entry.metadata().ok()?;
                    let eligible = meta.is_file()
                        && !name.starts_with('.')
                        && !name.ends_with(&self.config.completed_suffix)
                        && self.include.as_ref().is_none_or(|m| m.is_match(&name))
                        && !self.ignore.as_ref().is_some_and(|m| m.is_match(&name))
                        && !failed.contains(&path);
                    eligible.then(|| (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), path))
                })
                .collect();
            candidates.sort();
            candidates.into_iter().next().map(|(_, p)| p)
        }

        fn open(&mut self, path: PathBuf) -> io::Result<Current> {
            let file = File::open(&path)?;
            let meta = file.metadata()?;
            // Resume inside this file if the channel or the tracker says we were
            // reading it; the channel's place is the newer.
            // Used once: after this file, the tracker takes over.
            let committed = self
                .resumed
                .take()
                .filter(|p| p.path == path && p.inode == meta.ino() && p.size == meta.len())
                .map(|p| p.pos);
            let pos = committed.unwrap_or_else(|| {
                std::fs::read_to_string(&self.tracker)
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                    .filter(|v| {
                        v["path"].as_str() == Some(&path.to_string_lossy())
                            && v["inode"].as_u64() == Some(meta.ino())
                    })
                    .and_then(|v| v["pos"].as_u64())
                    .unwrap_or(0)
            });
            Ok(Current {
                path,
                inode: meta.ino(),
                size: meta.len(),
                modified: meta.modified().ok(),
                pos,
                file,
            })
        }

        fn save(&self, current: &Current) -> io::Result<()> {
            let record = serde_json::json!({ "path": current.path.to_string_lossy(), "inode": current.inode, "pos": current.pos });
            write_atomically(&self.tracker, record.to_string().as_bytes())
        }

        /// Renames (or deletes) a fully committed file, then forgets its position.
        fn complete(&self, current: &Current) -> io::Result<()> {
            if self.config.delete_completed {
                std::fs::remove_file(&current.path)?;
            } else {
                let mut done = current.path.clone().into_os_string();
                done.push(&self.config.completed_suffix);
                std::fs::rename(&current.path, done)?;
            }
            match std::fs::remove_file(&self.tracker) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        }

        fn changed(current: &Current) -> bool {
            match std::fs::metadata(&current.path) {
                Ok(meta) => {
                    meta.len() != current.size
                        || meta.modified().ok() != current.modified
                        || meta.ino() != current.inode
                }
                Err(_) => true,
            }
        }
    }

    impl Source for Spooldir {
        fn blocking_io(&self) -> bool {
            true
        }

        async fn run<O: Output>(mut self, out: O, ctx: SourceContext) -> io::Result<()> {
            let max_line = usize::try_from(self.config.max_line.0).unwrap_or(usize::MAX);
            let batch_size = self.config.batch_size.max(1) as usize;
            self.resumed = out.resume().get(MARK_KEY).and_then(Place::decode);
            let mut shutdown = ctx.shutdown.clone();
            let mut failed: HashSet<PathBuf> = HashSet::new();
            loop {
                let Some(path) = self.next_file(&failed) else {
                    tokio::select! {
                        _ = tokio::time::sleep(self.config.poll_interval) => continue,
                        _ = shutdown.wait() => return Ok(()),
                    }
                };
                let mut current = match self.open(path.clone()) {
                    Ok(current) => current,
                    Err(e) => {
                        tracing::error!(
                            source = ctx.name,
                            file = %path.display(),
                            error = %e,
                            "cannot open this spool file; skipping it (the source goes on with the others)"
                        );
                        failed.insert(path);
                        continue;
                    }
                };
                tracing::info!(source = ctx.name, file = %current.path.display(), pos = current.pos, "reading spool file");
                let mut broken = false;
                let mut lines = LinesAt::new();
                loop {
                    if Self::changed(&current) {
                        tracing::error!(
                            source = ctx.name,
                            file = %current.path.display(),
                            "spool file changed after it was picked up; files must be complete when placed in the \
                             spool directory (write elsewhere, then move them in). Skipping it."
                        );
                        broken = true;
                        break;
                    }
                    let read = lines.read(
                        &current.file,
                        current.pos,
                        true,
                        max_line,
                        batch_size,
                        &ctx.counters,
                        None,
                    );
                    let (events, end) = match read {
                        Ok(read) => read,
                        Err(e) => {
                            tracing::error!(
                                source = ctx.name,
                                file = %current.path.display(),
                                pos = current.pos,
                                error = %e,
                                "cannot read this spool file; skipping the rest of it (the source goes on with the others)"
                            );
                            broken = true;
                            break;
                        }
                    };
                    if end == current.pos {
                        break;
                    }
                    let count = events.len() as u64;
                    let place = Place {
                        path: current.path.clone(),
                        inode: current.inode,
                        size: current.size,
                        pos: end,
                    };
                    let mark = Mark {
                        source: ctx.name,
                        key: MARK_KEY.to_vec(),
                        value: place.encode(),
                    };
                    if out.send_marked(events, Some(&mark)).await.is_err() {
                        return Ok(());
                    }
                    ctx.counters.events_accepted.add(count);
                    current.pos = end;
                    self.save(&current)?;
                    if shutdown.is_triggered() {
                        return Ok(());
                    }
                }
                if broken {
                    failed.insert(current.path.clone());
                    continue;
                }
                if let Err(e) = self.complete(&current) {
                    tracing::error!(
                        source = ctx.name,
                        file = %current.path.display(),
                        error = %e,
                        "cannot mark this spool file completed; leaving it (the source goes on with the others)"
                    );
                    failed.insert(current.path.clone());
                    continue;
                }
                // No place in a file any more: a new file that gets this name and inode
                // (with `delete_completed`) must start at its beginning.
                let done = Mark {
                    source: ctx.name,
                    key: MARK_KEY.to_vec(),
                    value: Vec::new(),
                };
                if out.send_marked(Vec::new(), Some(&done)).await.is_err() {
                    return Ok(());
                }
                tracing::info!(source = ctx.name, file = %current.path.display(), "spool file completed");
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn places_round_trip_through_marks() {
            let place = Place {
                path: PathBuf::from("spool/app-ü.log"),
                inode: 42,
                size: 5_000,
                pos: 1_000,
            };
            assert_eq!(Place::decode(&place.encode()), Some(place));
            assert_eq!(Place::decode(b"short"), None);
        }
    }
}
