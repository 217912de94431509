//! What a restart finds on disk: the directory lock, and the segments from the
//! checkpoint on, with torn or corrupt tails cut back.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use super::channel::other;
use crate::wal::{self, Pos};

/// Takes the exclusive lock on `dir/lock`, writing this process id into it.
pub(super) fn lock_dir(dir: &Path) -> io::Result<File> {
    let path = dir.join("lock");
    let mut lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = lock.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(io::Error::new(
                io::ErrorKind::ResourceBusy,
                format!(
                    "file channel {}: the directory is in use by another agent{}; \
                     each file channel needs its own `dir`",
                    dir.display(),
                    if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {holder})")
                    }
                ),
            ));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(other(e, dir)),
    }
    lock.set_len(0)?;
    lock.write_all(std::process::id().to_string().as_bytes())?;
    Ok(lock)
}

/// What recovery found: live segments (id → size after repair), where consumers
/// resume, how many committed events lie ahead of them, and the sources' marks in the
/// order they were committed.
pub(super) struct Recovered {
    pub(super) segments: BTreeMap<u64, u64>,
    pub(super) start: Pos,
    pub(super) events: u64,
    pub(super) marks: Vec<wal::StoredMark>,
    /// The sinks' positions, as of the checkpoint.
    pub(super) sink_positions: std::collections::BTreeMap<String, Vec<u8>>,
}

pub(super) fn recover(dir: &Path) -> io::Result<Recovered> {
    let ids = wal::list_segments(dir)?;
    let checkpoint = match wal::read_checkpoint(dir) {
        Ok(c) => c,
        Err(why) => {
            tracing::warn!(
                dir = %dir.display(),
                problem = %why,
                "checkpoint is unreadable; rebuilding it from the segments \
                 (events in them may be delivered again)"
            );
            None
        }
    };
    if checkpoint.is_none() && !ids.is_empty() {
        tracing::info!(dir = %dir.display(), "no checkpoint; replaying every segment");
    }
    let (checkpoint, sink_positions) = match checkpoint {
        Some(c) => (Some(c.pos), c.sinks),
        None => (None, Default::default()),
    };
    let mut start =
        checkpoint.unwrap_or_else(|| Pos::start_of(ids.first().copied().unwrap_or(1)));
    // A checkpoint that points into a deleted segment resumes at the next one.
    if !ids.contains(&start.segment) {
        if let Some(&next) = ids.iter().find(|&&id| id > start.segment) {
            start = Pos::start_of(next);
        }
    }
    let mut segments = BTreeMap::new();
    let mut events = 0;
    let mut marks = Vec::new();
    for id in ids {
        let path = wal::segment_path(dir, id);
        if id < start.segment {
            std::fs::remove_file(&path)?;
            continue;
        }
        let data = std::fs::read(&path)?;
        if data.len() < wal::SEGMENT_MAGIC.len() || &data[..8] != wal::SEGMENT_MAGIC {
            let aside = path.with_extension("corrupt");
            tracing::error!(
                segment = %path.display(),
                moved_to = %aside.display(),
                bytes = data.len(),
                "segment has no valid header; moved aside, its events are lost"
            );
            std::fs::rename(&path, &aside)?;
            continue;
        }
        let from = if id == start.segment {
            start.offset.max(8).min(data.len() as u64)
        } else {
            8
        };
        let scan = wal::scan(&data, from);
        if let Some(damaged) = scan.corrupt_at {
            if let Some((data, salvaged)) = repair(&path, &data, &scan, damaged)? {
                events += scan.events + salvaged;
                // Marks only from before the damage: what is framed after it could be
                // bytes inside a damaged event (say, a crafted HTTP body). The sources
                // fall back to older positions: duplicates, never a skip.
                marks.extend(wal::marks_in(&data, scan.good_end));
                segments.insert(id, data.len() as u64);
                continue;
            }
        }
        if scan.good_end < data.len() as u64 {
            tracing::warn!(
                segment = %path.display(),
                problem = scan.problem.unwrap_or("trailing bytes"),
                dropped_bytes = data.len() as u64 - scan.good_end,
                dropped_records = scan.dropped_records,
                "cut the segment back to its last committed transaction; \
                 the dropped records were never acknowledged"
            );
            let file = OpenOptions::new().write(true).open(&path)?;
            file.set_len(scan.good_end)?;
            file.sync_all()?;
        }
        events += scan.events;
        marks.extend(wal::marks_in(&data, scan.good_end));
        segments.insert(id, scan.good_end);
    }
    if segments.is_empty() {
        start = Pos::start_of(start.segment);
    }
    Ok(Recovered {
        segments,
        start,
        events,
        marks,
        sink_positions,
    })
}

/// A segment with a damaged record: the original is copied aside (`<id>.wal.damaged`).
/// If committed transactions can still be framed after the damage, the segment is
/// rewritten as its good part followed by them, and the new bytes and the number of
/// events salvaged are returned; if not, `None`: the segment is cut back as usual.
fn repair(
    path: &Path,
    data: &[u8],
    scan: &wal::Scan,
    damaged: u64,
) -> io::Result<Option<(Vec<u8>, u64)>> {
    let aside = aside_path(path);
    if let Err(e) = std::fs::copy(path, &aside) {
        tracing::error!(
            segment = %path.display(),
            error = %e,
            "cannot copy the damaged segment aside; cutting it back to its last good commit"
        );
        return Ok(None);
    }
    let (tail, salvaged, transactions) = wal::salvage(data, damaged);
    if transactions == 0 {
        tracing::error!(
            segment = %path.display(),
            copied_to = %aside.display(),
            "damaged record with nothing committed after it; the original is kept aside"
        );
        return Ok(None);
    }
    let mut repaired = data[..scan.good_end as usize].to_vec();
    repaired.extend_from_slice(&tail);
    tracing::error!(
        segment = %path.display(),
        copied_to = %aside.display(),
        problem = scan.problem.unwrap_or("damaged record"),
        at = damaged,
        salvaged_events = salvaged,
        salvaged_transactions = transactions,
        lost_bytes = data.len() - repaired.len(),
        "damaged record in the middle of a segment; kept every committed transaction \
         before and after it, the damaged one is lost (the original is kept aside)"
    );
    let temp = path.with_extension("wal.repairing");
    let rewritten = File::create(&temp)
        .and_then(|mut file| {
            file.write_all(&repaired)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path))
        .and_then(|()| match path.parent() {
            Some(dir) => File::open(dir)?.sync_all(),
            None => Ok(()),
        });
    if let Err(e) = rewritten {
        let _ = std::fs::remove_file(&temp);
        tracing::error!(
            segment = %path.display(),
            error = %e,
            "cannot rewrite the damaged segment; cutting it back to its last good commit"
        );
        return Ok(None);
    }
    Ok(Some((repaired, salvaged)))
}

/// `<segment>.damaged`, or `<segment>.damaged.N` if that is taken by an earlier repair.
fn aside_path(path: &Path) -> std::path::PathBuf {
    let base = path.with_extension("wal.damaged");
    let mut candidate = base.clone();
    let mut n = 1;
    while candidate.exists() {
        candidate = base.with_extension(format!("damaged.{n}"));
        n += 1;
    }
    candidate
}
