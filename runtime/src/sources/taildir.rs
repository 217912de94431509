//! `taildir`: follows files matching globs across rotation (Flume's TAILDIR source).

use std::path::PathBuf;
use std::time::Duration;

use sluice_macros::Component;

use crate::params::{ByteSize, Glob};

/// Follows every file matching `files`, through rename and copytruncate rotation. A file
/// is known by its device, inode and a checksum of its first bytes, so a file renamed
/// within the globs goes on from where it was, and a new file that got an old file's
/// inode starts from its beginning. Positions are committed with the events into a
/// `file` channel, so after a crash exactly the uncommitted lines are read again; the
/// position file is the fallback for other channels.
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
    /// whenever reading pauses and at shutdown. Into a `file` channel, positions are
    /// also committed with every batch, and a crash repeats nothing; into a `memory`
    /// channel (which loses its events in a crash anyway), at most this much
    /// already-delivered input is read again.
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
    use std::os::unix::fs::{FileExt, MetadataExt};
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use super::TaildirConfig;
    use crate::event::Event;
    use crate::marks::{Mark, Resume};
    use crate::pipeline::{Output, Source, SourceContext};
    use crate::send_ahead::SendAhead;

    /// Batches a file may have read ahead of the send in flight; they go out together
    /// when it commits (group commit: one fsync of a durable channel for all of them).
    const SEND_AHEAD_BATCHES: usize = 4;

    /// Records batches the channels committed: the file's saved position moves past
    /// them. Returns whether there were any.
    fn note_committed(
        t: &mut Tracked,
        ahead: &mut SendAhead<'_, impl Output, (u64, Position)>,
        ctx: &SourceContext,
    ) -> bool {
        let done = ahead.committed();
        let any = !done.is_empty();
        for (count, next) in done {
            ctx.counters.events_accepted.add(count);
            t.committed = next;
        }
        any
    }

    /// A file identity that survives renames: device and inode.
    type FileId = (u64, u64);

    /// How many bytes at the start of a file its fingerprint covers (fewer while the
    /// file is shorter).
    const FINGERPRINT_BYTES: u64 = 256;

    /// A checksum of a file's first `len` bytes: tells a file apart from another that
    /// got the same inode after it was deleted, or from itself rewritten in place.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct Fingerprint {
        len: u64,
        crc: u32,
    }

    impl Fingerprint {
        /// Of the first `len` bytes of `file`; `None` if it is shorter than that now.
        fn of(file: &File, len: u64) -> io::Result<Option<Fingerprint>> {
            let mut buf = vec![0; usize::try_from(len).unwrap_or(0)];
            let mut filled = 0;
            while filled < buf.len() {
                match file.read_at(&mut buf[filled..], filled as u64)? {
                    0 => return Ok(None),
                    n => filled += n,
                }
            }
            Ok(Some(Fingerprint {
                len,
                crc: crc32c::crc32c(&buf),
            }))
        }

        /// Whether `file` still starts with the bytes this was taken of.
        fn matches(&self, file: &File) -> io::Result<bool> {
            if self.len == 0 {
                return Ok(true);
            }
            Ok(Fingerprint::of(file, self.len)? == Some(*self))
        }
    }

    /// How far a file has been read: everything before `pos` is committed.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    struct Position {
        pos: u64,
        /// Of the bytes before `pos` (at most [`FINGERPRINT_BYTES`] of them).
        fingerprint: Fingerprint,
    }

    impl Position {
        /// The position after reading up to `end` of `file`.
        fn advanced(&self, file: &File, end: u64) -> io::Result<Position> {
            let want = end.min(FINGERPRINT_BYTES);
            let fingerprint = if want > self.fingerprint.len {
                Fingerprint::of(file, want)?.unwrap_or(self.fingerprint)
            } else {
                self.fingerprint
            };
            Ok(Position {
                pos: end,
                fingerprint,
            })
        }

        /// As committed in a mark: position, fingerprint length and checksum.
        fn encode(&self) -> Vec<u8> {
            let mut value = Vec::with_capacity(20);
            value.extend_from_slice(&self.pos.to_le_bytes());
            value.extend_from_slice(&self.fingerprint.len.to_le_bytes());
            value.extend_from_slice(&self.fingerprint.crc.to_le_bytes());
            value
        }

        fn decode(value: &[u8]) -> Option<Position> {
            let pos = u64::from_le_bytes(value.get(0..8)?.try_into().ok()?);
            let len = u64::from_le_bytes(value.get(8..16)?.try_into().ok()?);
            let crc = u32::from_le_bytes(value.get(16..20)?.try_into().ok()?);
            (value.len() == 20 && len <= FINGERPRINT_BYTES).then_some(Position {
                pos,
                fingerprint: Fingerprint { len, crc },
            })
        }
    }

    /// A file's key in marks: device and inode.
    fn mark_key((dev, inode): FileId) -> Vec<u8> {
        let mut key = dev.to_le_bytes().to_vec();
        key.extend_from_slice(&inode.to_le_bytes());
        key
    }

    fn id_of_key(key: &[u8]) -> Option<FileId> {
        let dev = u64::from_le_bytes(key.get(0..8)?.try_into().ok()?);
        let inode = u64::from_le_bytes(key.get(8..16)?.try_into().ok()?);
        (key.len() == 16).then_some((dev, inode))
    }

    /// A followed file.
    struct Tracked {
        path: PathBuf,
        file: File,
        /// Where the next read starts: batches before it are read, maybe not committed.
        at: Position,
        /// Everything before this is committed; the position that is saved.
        committed: Position,
        /// No glob matches this file any more (moved away or deleted): drain it, then
        /// drop it.
        rotated: bool,
        lines: crate::file_lines::LinesAt,
    }

    pub struct Taildir {
        config: TaildirConfig,
        /// (directory to list, matcher, levels to descend).
        patterns: Vec<(PathBuf, globset::GlobMatcher, usize)>,
        /// Positions of files not followed yet: from the position file and the channel.
        saved: HashMap<FileId, Position>,
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

    fn read_positions(path: &Path) -> io::Result<HashMap<FileId, Position>> {
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
                // Written by a version without fingerprints: trusted as it is.
                let fingerprint = match (field("fingerprint_len"), field("fingerprint_crc")) {
                    (Some(len), Some(crc)) if len <= FINGERPRINT_BYTES => Fingerprint {
                        len,
                        crc: u32::try_from(crc).unwrap_or_default(),
                    },
                    _ => Fingerprint::default(),
                };
                saved.insert((dev, inode), Position { pos, fingerprint });
            }
        }
        Ok(saved)
    }

    /// Writes the positions atomically, after a commit.
    fn write_positions(path: &Path, files: &HashMap<FileId, Tracked>) -> io::Result<()> {
        let mut entries: Vec<serde_json::Value> = files
            .iter()
            .map(|(&(dev, inode), t)| {
                serde_json::json!({
                    "dev": dev,
                    "inode": inode,
                    "pos": t.committed.pos,
                    "fingerprint_len": t.committed.fingerprint.len,
                    "fingerprint_crc": t.committed.fingerprint.crc,
                    "path": t.path.to_string_lossy(),
                })
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

        /// Positions the channel committed are newer than the position file's.
        fn take_resume(&mut self, resume: &Resume, source: &str) {
            let mut resumed = 0;
            for (key, value) in resume.iter() {
                if let (Some(id), Some(at)) = (id_of_key(key), Position::decode(value)) {
                    self.saved.insert(id, at);
                    resumed += 1;
                }
            }
            if resumed > 0 {
                tracing::info!(
                    source,
                    files = resumed,
                    "resuming from the positions committed in the channel"
                );
            }
        }

        /// Where to start reading a newly found file.
        fn start_of(&mut self, id: FileId, file: &File, path: &Path, first_scan: bool) -> Position {
            match self.saved.remove(&id) {
                Some(saved) => match saved.fingerprint.matches(file) {
                    Ok(true) => saved,
                    Ok(false) => {
                        tracing::info!(
                            file = %path.display(),
                            "this file does not start with what was read from its inode \
                             before (a new file reusing the inode, or rewritten in place); \
                             reading it from the start"
                        );
                        Position::default()
                    }
                    Err(e) => {
                        tracing::warn!(file = %path.display(), error = %e, "cannot check the file's fingerprint; resuming at the saved position");
                        saved
                    }
                },
                None if first_scan && self.config.skip_to_end => {
                    let end = file.metadata().map(|m| m.len()).unwrap_or(0);
                    Position::default().advanced(file, end).unwrap_or_default()
                }
                None => Position::default(),
            }
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

    /// Reads lines of `t` from its committed position (a truncated file starts over)
    /// and the position after them.
    fn read_lines(
        t: &mut Tracked,
        max_line: usize,
        max_events: usize,
        ctx: &SourceContext,
        file_header: bool,
    ) -> io::Result<(Vec<Event>, Position)> {
        if t.file.metadata()?.len() < t.at.pos {
            tracing::info!(file = %t.path.display(), "file was truncated; reading it from the start");
            t.at = Position::default();
        }
        let header = file_header.then_some(t.path.as_path());
        let (events, end) = t.lines.read(
            &t.file,
            t.at.pos,
            t.rotated,
            max_line,
            max_events,
            &ctx.counters,
            header,
        )?;
        Ok((events, t.at.advanced(&t.file, end)?))
    }

    impl Source for Taildir {
        fn blocking_io(&self) -> bool {
            true
        }

        async fn run<O: Output>(mut self, out: O, ctx: SourceContext) -> io::Result<()> {
            let max_line = usize::try_from(self.config.max_line.0).unwrap_or(usize::MAX);
            let batch_size = self.config.batch_size.max(1) as usize;
            self.take_resume(&out.resume(), ctx.name);
            let mut shutdown = ctx.shutdown.clone();
            let mut files: HashMap<FileId, Tracked> = HashMap::new();
            let mut first_scan = true;
            // Positions of committed batches not yet written, and when they last were.
            let (mut unsaved, mut last_save) = (false, Instant::now());
            let positions = self.config.positions.clone();
            let save = |files: &HashMap<FileId, Tracked>| write_positions(&positions, files);
            loop {
                // Follow new files; follow renamed ones under their new name; notice
                // the ones no glob matches any more.
                let found = self.discover();
                let paths: HashMap<FileId, &PathBuf> =
                    found.iter().rev().map(|(p, id)| (*id, p)).collect();
                if !first_scan {
                    // Positions of files that are gone are forgotten (at start they are
                    // all kept for the first scan to find).
                    self.saved.retain(|id, _| paths.contains_key(id));
                }
                for (id, t) in files.iter_mut() {
                    match paths.get(id) {
                        Some(&path) => {
                            if *path != t.path {
                                tracing::info!(
                                    source = ctx.name,
                                    from = %t.path.display(),
                                    to = %path.display(),
                                    pos = t.at.pos,
                                    "file renamed; following it under its new name"
                                );
                                t.path = path.clone();
                            }
                            t.rotated = false;
                        }
                        None => t.rotated = true,
                    }
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
                    let at = self.start_of(id, &file, &path, first_scan);
                    tracing::info!(source = ctx.name, file = %path.display(), pos = at.pos, "following file");
                    files.insert(
                        id,
                        Tracked {
                            path,
                            file,
                            at,
                            committed: at,
                            rotated: false,
                            lines: crate::file_lines::LinesAt::new(),
                        },
                    );
                }
                first_scan = false;

                // Read and send, one file's batch at a time, each with the file's new
                // position, which counts only once the batch is committed.
                let mut progressed = false;
                let mut ids: Vec<FileId> = files.keys().copied().collect();
                ids.sort_by(|a, b| files[a].path.cmp(&files[b].path));
                for id in ids {
                    // This file's batches go out while the next ones are read.
                    let mut ahead =
                        SendAhead::new(&out, batch_size.saturating_mul(SEND_AHEAD_BATCHES));
                    loop {
                        let t = files.get_mut(&id).expect("listed above");
                        let (events, next) =
                            match read_lines(t, max_line, batch_size, &ctx, self.config.file_header) {
                                Ok(read) => read,
                                Err(e) => {
                                    tracing::error!(
                                        source = ctx.name,
                                        file = %t.path.display(),
                                        pos = t.at.pos,
                                        error = %e,
                                        retry_in_s = FILE_RETRY.as_secs(),
                                        "cannot read this file; the source goes on with the others"
                                    );
                                    let flushed = ahead.flush().await;
                                    let t = files.get_mut(&id).expect("listed above");
                                    note_committed(t, &mut ahead, &ctx);
                                    if flushed.is_err() {
                                        return save(&files);
                                    }
                                    // Resume where it stood when it is found again.
                                    self.saved.insert(id, t.committed);
                                    self.retry_at.insert(id, Instant::now() + FILE_RETRY);
                                    files.remove(&id);
                                    break;
                                }
                            };
                        if next.pos == t.at.pos {
                            break;
                        }
                        let count = events.len() as u64;
                        let mark = Mark {
                            source: ctx.name,
                            key: mark_key(id),
                            value: next.encode(),
                        };
                        t.at = next;
                        progressed = true;
                        let sent = ahead.send(events, Some(mark), (count, next)).await;
                        let t = files.get_mut(&id).expect("listed above");
                        unsaved |= note_committed(t, &mut ahead, &ctx);
                        if sent.is_err() {
                            return save(&files);
                        }
                        if last_save.elapsed() >= self.config.positions_interval {
                            if let Err(e) = save(&files) {
                                // Let the put in flight finish, so that a restarted
                                // source finds its mark.
                                let _ = ahead.flush().await;
                                return Err(e);
                            }
                            (unsaved, last_save) = (false, Instant::now());
                        }
                        if shutdown.is_triggered() {
                            let _ = ahead.flush().await;
                            let t = files.get_mut(&id).expect("listed above");
                            note_committed(t, &mut ahead, &ctx);
                            return save(&files);
                        }
                    }
                    let flushed = ahead.flush().await;
                    if let Some(t) = files.get_mut(&id) {
                        unsaved |= note_committed(t, &mut ahead, &ctx);
                        if flushed.is_ok() && t.committed != t.at {
                            // Everything read is committed. (After a truncation with
                            // nothing new to read, this moves the saved position back
                            // to the start too.)
                            t.committed = t.at;
                            unsaved = true;
                        }
                    }
                    if flushed.is_err() {
                        return save(&files);
                    }
                }
                // Files no glob matches any more, read to the end, are done. Their
                // positions stay known until a scan does not find them either, in case
                // they only slipped past this scan (a rename under way).
                let before = files.len();
                let saved = &mut self.saved;
                files.retain(|id, t| {
                    let done = t.rotated
                        && t.file.metadata().map(|m| m.len() <= t.at.pos).unwrap_or(true);
                    if done {
                        saved.insert(*id, t.at);
                    }
                    !done
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

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn positions_round_trip_through_marks() {
            let at = Position {
                pos: 12_345,
                fingerprint: Fingerprint { len: 256, crc: 7 },
            };
            assert_eq!(Position::decode(&at.encode()), Some(at));
            assert_eq!(Position::decode(&[1, 2, 3]), None);
            assert_eq!(id_of_key(&mark_key((3, 99))), Some((3, 99)));
        }

        #[test]
        fn a_fingerprint_tells_new_content_on_the_same_inode_apart() {
            let dir = std::env::temp_dir().join(format!("sluice-fp-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("a.log");
            std::fs::write(&path, "first line\nsecond line\n").unwrap();
            let file = File::open(&path).unwrap();
            let at = Position::default().advanced(&file, 11).unwrap();
            assert_eq!(at.fingerprint.len, 11);
            assert!(at.fingerprint.matches(&file).unwrap());
            std::fs::write(&path, "other text that is longer\n").unwrap();
            assert!(!at.fingerprint.matches(&File::open(&path).unwrap()).unwrap());
            std::fs::write(&path, "short").unwrap();
            assert!(!at.fingerprint.matches(&File::open(&path).unwrap()).unwrap());
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
