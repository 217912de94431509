//! `taildir`: follows files matching globs across rotation (Flume's TAILDIR source).

use std::path::PathBuf;
use std::time::Duration;

use sluice_macros::Component;

use crate::params::{ByteSize, Glob};

/// Follows every file matching `files`, through rename and copytruncate rotation. The
/// position file is written only after a batch is committed, so a restart neither loses
/// nor repeats committed lines.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "taildir", replayable)]
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
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
    /// Most time between writes of `positions` while reading; they are also written
    /// whenever reading pauses and at shutdown. After a crash, at most this much
    /// already-delivered input is read again (duplicates, never loss).
    #[param(default = "1s", min = 1)]
    pub positions_interval: Duration,
}

#[cfg(feature = "source-taildir")]
pub use imp::Taildir;

#[cfg(feature = "source-taildir")]
mod imp {
    use crate::build::BuildSource;
    use std::collections::HashMap;
    use std::fs::File;
    use std::io;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use super::TaildirConfig;
    use crate::event::Event;
    use crate::pipeline::{Output, Source, SourceContext};

    /// A file identity that survives renames.
    type FileId = (u64, u64);

    /// A followed file. `pos` is the committed offset: everything before it has been put
    /// into the channel.
    struct Tracked {
        path: PathBuf,
        file: File,
        pos: u64,
        /// The path no longer leads to this file (renamed or deleted): drain it, then drop it.
        rotated: bool,
        lines: crate::file_lines::LinesAt,
    }

    pub struct Taildir {
        config: TaildirConfig,
        /// (directory to list, matcher, levels to descend).
        patterns: Vec<(PathBuf, globset::GlobMatcher, usize)>,
        saved: HashMap<FileId, u64>,
        /// Files that failed to open or read, and when to try them again.
        retry_at: HashMap<FileId, Instant>,
    }

    /// How long a file that cannot be opened or read is left alone before another try.
    const FILE_RETRY: Duration = Duration::from_secs(30);

    impl BuildSource for TaildirConfig {
        type Source = Taildir;

        async fn build(self) -> io::Result<Taildir> {
            let config = self;
            let mut patterns = Vec::new();
            for glob in &config.files {
                let matcher = globset::Glob::new(&glob.0)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?
                    .compile_matcher();
                let prefix = static_prefix(&glob.0);
                // How many directory levels below the prefix the glob reaches.
                let depth = if glob.0.contains("**") {
                    usize::MAX
                } else {
                    Path::new(&glob.0).components().count() - prefix.components().count()
                };
                patterns.push((prefix, matcher, depth));
            }
            let saved = read_positions(&config.positions)?;
            Ok(Taildir {
                config,
                patterns,
                saved,
                retry_at: HashMap::new(),
            })
        }
    }

    /// The directory part of a glob before its first wildcard.
    fn static_prefix(glob: &str) -> PathBuf {
        let mut prefix = PathBuf::new();
        for component in Path::new(glob).components() {
            let text = component.as_os_str().to_string_lossy();
            if text.contains(['*', '?', '[', '{']) {
                break;
            }
            prefix.push(component);
        }
        if prefix.as_os_str() == glob {
            prefix.pop(); // a plain file name: list its directory
        }
        prefix
    }

    fn read_positions(path: &Path) -> io::Result<HashMap<FileId, u64>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashMap::new()),
            Err(e) => return Err(e),
        };
        let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("positions file {} is not valid: {e}", path.display()),
            )
        })?;
        let mut saved = HashMap::new();
        for entry in doc.as_array().into_iter().flatten() {
            let field = |k: &str| entry.get(k).and_then(serde_json::Value::as_u64);
            if let (Some(dev), Some(inode), Some(pos)) =
                (field("dev"), field("inode"), field("pos"))
            {
                saved.insert((dev, inode), pos);
            }
        }
        Ok(saved)
    }

    /// Writes the positions atomically, after a commit.
    fn write_positions(path: &Path, files: &HashMap<FileId, Tracked>) -> io::Result<()> {
        let mut entries: Vec<serde_json::Value> = files
            .iter()
            .map(|(&(dev, inode), t)| {
                serde_json::json!({ "dev": dev, "inode": inode, "pos": t.pos, "path": t.path.to_string_lossy() })
            })
            .collect();
        entries.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
        crate::file_lines::write_atomically(
            path,
            serde_json::Value::Array(entries).to_string().as_bytes(),
        )
    }

    impl Taildir {
        /// Every file the globs match now, with its identity.
        fn discover(&self) -> Vec<(PathBuf, FileId)> {
            let mut found = Vec::new();
            for (root, matcher, depth) in &self.patterns {
                let root = if root.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    root.as_path()
                };
                walk(root, *depth, &mut |path| {
                    let path = path.strip_prefix("./").unwrap_or(path);
                    if matcher.is_match(path) {
                        if let Ok(meta) = std::fs::metadata(path) {
                            if meta.is_file() {
                                found.push((path.to_path_buf(), (meta.dev(), meta.ino())));
                            }
                        }
                    }
                });
            }
            found.sort();
            found.dedup();
            found
        }
    }

    fn walk(dir: &Path, depth: usize, visit: &mut impl FnMut(&Path)) {
        if depth == 0 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => walk(&path, depth - 1, visit),
                Ok(_) => visit(&path),
                Err(_) => {}
            }
        }
    }

    /// Reads lines of `t` from its committed position; a truncated file starts over.
    fn read_lines(
        t: &mut Tracked,
        max_line: usize,
        max_events: usize,
        ctx: &SourceContext,
        file_header: bool,
    ) -> io::Result<(Vec<Event>, u64)> {
        if t.file.metadata()?.len() < t.pos {
            tracing::info!(file = %t.path.display(), "file was truncated; reading it from the start");
            t.pos = 0;
        }
        let header = file_header.then_some(t.path.as_path());
        t.lines.read(
            &t.file,
            t.pos,
            t.rotated,
            max_line,
            max_events,
            &ctx.counters,
            header,
        )
    }

    impl Source for Taildir {
        fn blocking_io(&self) -> bool {
            true
        }

        async fn run<O: Output>(mut self, out: O, ctx: SourceContext) -> io::Result<()> {
            let max_line = usize::try_from(self.config.max_line.0).unwrap_or(usize::MAX);
            let batch_size = self.config.batch_size.max(1) as usize;
            let mut shutdown = ctx.shutdown.clone();
            let mut files: HashMap<FileId, Tracked> = HashMap::new();
            let mut first_scan = true;
            // Positions of committed batches not yet written, and when they last were.
            let (mut unsaved, mut last_save) = (false, Instant::now());
            let positions = self.config.positions.clone();
            let save = |files: &HashMap<FileId, Tracked>| write_positions(&positions, files);
            loop {
                // Follow new files; notice renamed and deleted ones.
                let found = self.discover();
                for t in files.values_mut() {
                    t.rotated = !found
                        .iter()
                        .any(|(p, id)| *p == t.path && files_id(&t.file) == Some(*id));
                }
                for (path, id) in found {
                    let waiting = self.retry_at.get(&id).is_some_and(|t| Instant::now() < *t);
                    if files.contains_key(&id) || waiting {
                        continue;
                    }
                    let file = match File::open(&path) {
                        Ok(file) => file,
                        Err(e) => {
                            tracing::error!(
                                source = ctx.name,
                                file = %path.display(),
                                error = %e,
                                retry_in_s = FILE_RETRY.as_secs(),
                                "cannot open this file; the source goes on with the others"
                            );
                            self.retry_at.insert(id, Instant::now() + FILE_RETRY);
                            continue;
                        }
                    };
                    let pos = match self.saved.remove(&id) {
                        Some(pos) => pos,
                        None if first_scan && self.config.skip_to_end => {
                            file.metadata().map(|m| m.len()).unwrap_or(0)
                        }
                        None => 0,
                    };
                    tracing::info!(source = ctx.name, file = %path.display(), pos, "following file");
                    files.insert(
                        id,
                        Tracked {
                            path,
                            file,
                            pos,
                            rotated: false,
                            lines: crate::file_lines::LinesAt::new(),
                        },
                    );
                }
                first_scan = false;

                // Read and send, one file's batch at a time, advancing positions only after
                // each batch is committed.
                let mut progressed = false;
                let mut ids: Vec<FileId> = files.keys().copied().collect();
                ids.sort_by(|a, b| files[a].path.cmp(&files[b].path));
                for id in ids {
                    loop {
                        let t = files.get_mut(&id).expect("listed above");
                        let (events, end) =
                            match read_lines(t, max_line, batch_size, &ctx, self.config.file_header) {
                                Ok(read) => read,
                                Err(e) => {
                                    tracing::error!(
                                        source = ctx.name,
                                        file = %t.path.display(),
                                        pos = t.pos,
                                        error = %e,
                                        retry_in_s = FILE_RETRY.as_secs(),
                                        "cannot read this file; the source goes on with the others"
                                    );
                                    // Resume where it stood when it is found again.
                                    self.saved.insert(id, t.pos);
                                    self.retry_at.insert(id, Instant::now() + FILE_RETRY);
                                    files.remove(&id);
                                    break;
                                }
                            };
                        if end == t.pos {
                            break;
                        }
                        let count = events.len() as u64;
                        if !events.is_empty() && out.send(events).await.is_err() {
                            return save(&files);
                        }
                        ctx.counters.events_accepted.add(count);
                        let t = files.get_mut(&id).expect("listed above");
                        t.pos = end;
                        unsaved = true;
                        if last_save.elapsed() >= self.config.positions_interval {
                            save(&files)?;
                            (unsaved, last_save) = (false, Instant::now());
                        }
                        progressed = true;
                        if shutdown.is_triggered() {
                            return save(&files);
                        }
                    }
                }
                // Rotated files read to the end are done.
                let before = files.len();
                files.retain(|_, t| {
                    !(t.rotated && t.file.metadata().map(|m| m.len() <= t.pos).unwrap_or(true))
                });
                if files.len() != before || (unsaved && !progressed) {
                    save(&files)?;
                    (unsaved, last_save) = (false, Instant::now());
                }
                if !progressed {
                    tokio::select! {
                        _ = tokio::time::sleep(self.config.poll_interval) => {}
                        _ = shutdown.wait() => return save(&files),
                    }
                }
            }
        }
    }

    fn files_id(file: &File) -> Option<FileId> {
        file.metadata().ok().map(|m| (m.dev(), m.ino()))
    }
}
