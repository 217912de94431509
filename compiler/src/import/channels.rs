//! Flume channels → Sluice channels (docs/design/flume-import-mapping.md §2.2).

use super::translate::{no_counterpart, Decl, Reader, Report};
use super::values;
use super::Level;

/// A translated channel and its effective sizes (Flume's defaults made explicit).
pub struct ChannelOut {
    pub decl: Decl,
    pub transaction_capacity: u64,
    pub durable: bool,
}

/// Translates one channel; `None` when Sluice has no counterpart (an error was reported).
pub fn translate(r: &Reader, name: &str, report: &mut Report) -> Option<ChannelOut> {
    let kind = r.prop("type").map(|p| p.value.clone()).unwrap_or_default();
    let lower = kind.to_ascii_lowercase();
    let out = match lower.as_str() {
        "memory" | "org.apache.flume.channel.memorychannel" => memory(r, name, report, 100, 100),
        "org.apache.flume.channel.pseudotxnmemorychannel" => memory(r, name, report, 50, 50),
        "file" | "org.apache.flume.channel.file.filechannel" => file(r, name, report, 1_000_000),
        "spillablememory" | "org.apache.flume.channel.spillablememorychannel" => {
            spillable(r, name, report)
        }
        "jdbc" | "org.apache.flume.channel.jdbc.jdbcchannel" => {
            report.push_at(
                Level::Warning,
                r.line_of("type"),
                "behaviour-change",
                format!(
                    "{}: Sluice has no JDBC channel; a `file` channel gives the same durability",
                    r.what
                ),
            );
            let max = r.count(report, "maximum.capacity").filter(|n| *n > 0);
            // The database settings have no use any more.
            for (key, _) in r.unused() {
                let _ = r.prop(&key);
            }
            file(r, name, report, max.unwrap_or(1_000_000))
        }
        _ => {
            let why = if lower.contains("kafkachannel") {
                "Sluice offers no Kafka channel; keep a `file` channel, and add a `kafka` sink (and a `kafka` source in the consuming agent) if Kafka must carry the events".to_owned()
            } else {
                no_counterpart(&kind, "channel", false)
            };
            report.not_imported(r, &why);
            return None;
        }
    };
    Some(out)
}

fn memory(r: &Reader, name: &str, report: &mut Report, cap: u64, tx: u64) -> ChannelOut {
    let spillable = r.has("memoryCapacity");
    let mut d = Decl::new("channel", name, "memory");
    let set = r.has("capacity");
    let capacity = r.count(report, "capacity").unwrap_or(cap);
    let transaction = r.count(report, "transactionCapacity").unwrap_or(tx);
    d.set("capacity", values::int(capacity as i64));
    d.set("transaction_capacity", values::int(transaction as i64));
    if !set && !spillable {
        report.push_at(Level::Note, r.line_of("type"), "trap", format!(
            "{}: Flume's memory channel holds {capacity} events by default; kept, though Sluice's default is 10_000", r.what));
    }
    if let Some(bytes) = r.count(report, "byteCapacity").filter(|b| *b > 0) {
        let buffer = r
            .count(report, "byteCapacityBufferPercentage")
            .unwrap_or(20)
            .min(100);
        // Flume's effective limit; below one 100-byte slot it means no limit at all.
        let effective = u128::from(bytes) * u128::from(100 - buffer) / 100;
        if effective >= 100 {
            d.set(
                "max_bytes",
                values::size(u64::try_from(effective).unwrap_or(u64::MAX)),
            );
        }
    }
    r.consume(&["byteCapacityBufferPercentage"]);
    if r.has("keep-alive") {
        let _ = r.prop("keep-alive");
    }
    report.leftovers(r, &[]);
    ChannelOut {
        decl: d,
        transaction_capacity: transaction,
        durable: false,
    }
}

fn file(r: &Reader, name: &str, report: &mut Report, default_capacity: u64) -> ChannelOut {
    let mut d = Decl::new("channel", name, "file");
    let data = r.text(report, "dataDirs");
    let checkpoint = r.text(report, "checkpointDir");
    let dirs: Vec<&str> = data
        .as_deref()
        .map(|d| {
            d.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if dirs.len() > 1 {
        report.push_at(
            Level::Warning,
            r.line_of("dataDirs"),
            "not-carried-over",
            format!(
                "{} stripes over {} data directories; Sluice's file channel writes one (`dir`)",
                r.what,
                dirs.len()
            ),
        );
    }
    let base = dirs.first().map(|s| s.to_string()).or(checkpoint.clone());
    let dir = match base {
        Some(b) => format!("{}-sluice", b.trim_end_matches('/')),
        None => format!("/var/lib/sluice/{name}"),
    };
    d.set("dir", values::string(&dir));
    let jdbc = r
        .comp
        .type_name()
        .is_some_and(|t| t.to_ascii_lowercase().contains("jdbc"));
    if !jdbc {
        report.push_at(Level::Warning, r.line_of("type"), "trap", format!(
            "{}: Sluice cannot read Flume's file channel; it gets a new directory ({dir}). Drain the Flume channel (stop its sources, wait until it is empty) before switching", r.what));
    }
    let capacity = r.count(report, "capacity").unwrap_or(default_capacity);
    let transaction = r.count(report, "transactionCapacity").unwrap_or(10_000);
    d.set("capacity", values::int(capacity as i64));
    d.set("transaction_capacity", values::int(transaction as i64));
    if let Some(size) = r.count(report, "maxFileSize") {
        d.set("segment_size", values::size(size));
    }
    match r.bool(report, "fsyncPerTransaction") {
        Some(false) => {
            let seconds = r.count(report, "fsyncInterval").unwrap_or(5);
            d.set("fsync", values::duration_ms(seconds.saturating_mul(1000)));
        }
        _ => d.set("fsync", "\"every_commit\""),
    }
    let encryption: Vec<String> = r.keys_under("encryption.");
    if !encryption.is_empty() {
        for key in &encryption {
            let _ = r.prop(&format!("encryption.{key}"));
        }
        report.push_at(Level::Error, r.line_of(&format!("encryption.{}", encryption[0])), "no-counterpart", format!(
            "{} encrypts its data at rest; Sluice's file channel does not: put its directory on an encrypted file system", r.what));
    }
    r.consume(&["keep-alive"]);
    report.leftovers(
        r,
        &[
            "checkpointInterval",
            "minimumRequiredSpace",
            "useDualCheckpoints",
            "backupCheckpointDir",
            "compressBackupCheckpoint",
            "use-log-replay-v1",
            "use-fast-replay",
            "checkpointOnClose",
            "write-timeout",
            "checkpoint-timeout",
        ],
    );
    ChannelOut {
        decl: d,
        transaction_capacity: transaction,
        durable: true,
    }
}

fn spillable(r: &Reader, name: &str, report: &mut Report) -> ChannelOut {
    let memory_capacity = r.count(report, "memoryCapacity").unwrap_or(10_000);
    let overflow = r.count(report, "overflowCapacity").unwrap_or(100_000_000);
    r.consume(&["overflowTimeout", "avgEventSize"]);
    if overflow == 0 {
        // The transaction capacity is the file channel's (10 000), within the capacity.
        let mut out = memory(
            r,
            name,
            report,
            memory_capacity,
            memory_capacity.clamp(1, 10_000),
        );
        out.decl
            .set("capacity", values::int(memory_capacity as i64));
        return out;
    }
    r.consume(&["byteCapacity", "byteCapacityBufferPercentage"]);
    let total = memory_capacity
        .saturating_add(overflow)
        .min(i64::MAX as u64);
    let mut out = file(r, name, report, total);
    out.decl.set("capacity", values::int(total as i64));
    if memory_capacity > 0 {
        report.push_at(Level::Note, r.line_of("type"), "behaviour-change", format!(
            "{}: a spillable memory channel became a `file` channel holding {} events; every event now goes to disk", r.what, total));
    }
    out
}
