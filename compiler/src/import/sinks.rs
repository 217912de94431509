//! Flume sinks → Sluice sinks (docs/design/flume-import-mapping.md §2.3).

use super::config::as_env;
use super::sources::{kafka_security, string_list};
use super::translate::{no_counterpart, string_value, Decl, Reader, Report};
use super::values;
use super::Level;

/// A translated sink. `batch` is Flume's effective batch size (`None`: Flume has none,
/// so it follows the channel's transaction capacity).
pub struct SinkOut {
    pub decl: Decl,
    pub batch: Option<u64>,
    /// Path templates with time escapes: events without a `timestamp` header matter.
    pub time_escapes: bool,
}

/// Translates one sink; `None` when Sluice has no counterpart (an error was reported).
pub fn translate(r: &Reader, name: &str, report: &mut Report) -> Option<SinkOut> {
    let kind = r.prop("type").map(|p| p.value.clone()).unwrap_or_default();
    let lower = kind.to_ascii_lowercase();
    let out = match lower.as_str() {
        "logger" | "org.apache.flume.sink.loggersink" => logger(r, name, report),
        "null" | "org.apache.flume.sink.nullsink" => {
            let mut d = Decl::new("sink", name, "null");
            let batch = r.count(report, "batchSize").unwrap_or(100);
            d.set("batch_size", values::int(batch as i64));
            report.leftovers(r, &[]);
            SinkOut {
                decl: d,
                batch: Some(batch),
                time_escapes: false,
            }
        }
        "file_roll" | "org.apache.flume.sink.rollingfilesink" => file_roll(r, name, report),
        "avro"
        | "thrift"
        | "org.apache.flume.sink.avrosink"
        | "org.apache.flume.sink.thriftsink" => hop(r, name, report, &lower),
        "hdfs" | "org.apache.flume.sink.hdfs.hdfseventsink" => hdfs(r, name, report),
        "hive" | "org.apache.flume.sink.hive.hivesink" => hive(r, name, report),
        "org.apache.flume.sink.kafka.kafkasink" => kafka(r, name, report),
        "http" | "org.apache.flume.sink.http.httpsink" => http(r, name, report),
        _ => {
            let why = match lower.as_str() {
                "hbase" | "hbase2" | "asynchbase" => "Sluice has no HBase writer; write the sink as a component of your own (`sluice new component --role sink`)".to_owned(),
                "elasticsearch" => "Sluice has no Elasticsearch sink (the `http` sink cannot produce `_bulk` requests)".to_owned(),
                _ => no_counterpart(&kind, "sink", true),
            };
            report.not_imported(r, &why);
            return None;
        }
    };
    Some(out)
}

fn logger(r: &Reader, name: &str, report: &mut Report) -> SinkOut {
    let mut d = Decl::new("sink", name, "logger");
    let max = r.count(report, "maxBytesToLog").unwrap_or(16);
    d.set("max_body", values::size(max));
    report.push_at(Level::Note, r.line_of("type"), "behaviour-change", format!(
        "{}: events are printed to standard output as headers and text, not logged through log4j as a hex dump", r.what));
    report.leftovers(r, &[]);
    SinkOut {
        decl: d,
        batch: None,
        time_escapes: false,
    }
}

/// Serializer → `format` for line-oriented sinks.
fn serializer(r: &Reader, report: &mut Report, prefix: &str, d: &mut Decl) {
    let key = format!("{prefix}serializer");
    let serializer = r.text(report, &key).unwrap_or_else(|| "TEXT".to_owned());
    match serializer.to_ascii_uppercase().as_str() {
        "TEXT" | "ORG.APACHE.FLUME.SERIALIZATION.BODYTEXTEVENTSERIALIZER$BUILDER" => d.set("format", "\"text\""),
        "HEADER_AND_TEXT" | "ORG.APACHE.FLUME.SERIALIZATION.HEADERANDBODYTEXTEVENTSERIALIZER$BUILDER" => d.set("format", "\"header_and_text\""),
        _ => report.push_at(Level::Error, r.line_of(&key), "no-counterpart", format!(
            "{} `{key} = {serializer}`: Sluice writes text, header and text, JSON lines (and, in `lake`, Parquet or CSV); not Avro containers or custom serializers", r.what)),
    }
    if r.bool(report, &format!("{key}.appendNewline")) == Some(false) {
        report.push_at(
            Level::Error,
            r.line_of(&format!("{key}.appendNewline")),
            "no-counterpart",
            format!(
                "{} writes events without a newline between them; Sluice always ends each with one",
                r.what
            ),
        );
    }
    for k in r.keys_under(&format!("{key}.")) {
        let _ = r.prop(&format!("{key}.{k}"));
    }
}

fn file_roll(r: &Reader, name: &str, report: &mut Report) -> SinkOut {
    let mut d = Decl::new("sink", name, "file_roll");
    match r.prop("sink.directory").map(|p| p.value.as_str()) {
        // Flume does not expand escapes here; Sluice's `dir` is a template.
        Some(dir) if as_env(dir).is_some() => d.set("dir", string_value(dir)),
        Some(dir) => d.set("dir", values::string(&values::template_literal(dir))),
        None => report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `sink.directory`", r.what),
        ),
    }
    if let Some(prefix) = r.text(report, "sink.pathManager.prefix") {
        d.set("prefix", values::string(&values::template_literal(&prefix)));
    }
    let interval = r.count(report, "sink.rollInterval").unwrap_or(30);
    d.set(
        "roll_interval",
        values::duration_ms(interval.saturating_mul(1000)),
    );
    serializer(r, report, "sink.", &mut d);
    let batch = r.count(report, "sink.batchSize").unwrap_or(100);
    d.set("batch_size", values::int(batch as i64));
    if r.text(report, "sink.pathManager")
        .is_some_and(|m| !m.eq_ignore_ascii_case("default"))
    {
        report.push_at(
            Level::Warning,
            r.line_of("sink.pathManager"),
            "not-carried-over",
            format!("{}: only the default path manager is available", r.what),
        );
    }
    report.push_at(
        Level::Note,
        r.line_of("type"),
        "behaviour-change",
        format!(
            "{}: files are named `PREFIX-YYYYMMDDTHHMMSS-N.log`, not Flume's `PREFIXMILLIS-N`",
            r.what
        ),
    );
    report.leftovers(r, &["sink.pathManager.extension"]);
    SinkOut {
        decl: d,
        batch: Some(batch),
        time_escapes: false,
    }
}

fn hop(r: &Reader, name: &str, report: &mut Report, kind: &str) -> SinkOut {
    let mut d = Decl::new("sink", name, "sluice");
    match (r.text(report, "hostname"), r.text(report, "port")) {
        (Some(host), Some(port)) => d.set("addr", values::string(&values::host_port(&host, &port))),
        _ => report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} needs `hostname` and `port`", r.what),
        ),
    }
    let batch = r.count(report, "batch-size").unwrap_or(100);
    d.set("batch_size", values::int(batch as i64));
    let timeout = [
        r.count(report, "connect-timeout"),
        r.count(report, "request-timeout"),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(20_000);
    d.set("timeout", values::duration_ms(timeout));
    if r.bool(report, "ssl") == Some(true) {
        let mut tls = Vec::new();
        if r.has("truststore") {
            tls.push("ca = \"/etc/sluice/tls/ca.pem\"");
            report.push_at(
                Level::Warning,
                r.line_of("truststore"),
                "manual-step",
                format!(
                    "{}: convert the truststore to a PEM CA file and set `tls.ca`",
                    r.what
                ),
            );
        }
        if r.bool(report, "trust-all-certs") == Some(true) {
            tls.push("insecure_skip_verify = true");
        }
        d.set("tls", format!("{{ {} }}", tls.join(", ")));
    }
    r.consume(&[
        "truststore",
        "truststore-password",
        "truststore-type",
        "trust-all-certs",
    ]);
    if r.bool(report, "kerberos") == Some(true) {
        report.push_at(
            Level::Error,
            r.line_of("kerberos"),
            "no-counterpart",
            format!(
                "{}: Kerberos is not available; use TLS and a `token`",
                r.what
            ),
        );
    }
    let flavour = if kind.contains("thrift") {
        "Thrift"
    } else {
        "Avro"
    };
    report.push_at(Level::Warning, r.line_of("type"), "wire-change", format!(
        "{}: Flume's {flavour} sink became Sluice's `sluice` sink, which speaks the Sluice protocol: the receiving agent must be a Sluice agent with a `sluice` source", r.what));
    report.leftovers(
        r,
        &[
            "reset-connection-interval",
            "connection-reset-interval",
            "compression-type",
            "compression-level",
            "exclude-protocols",
            "maxIoWorkers",
            "client-principal",
            "client-keytab",
            "server-principal",
        ],
    );
    SinkOut {
        decl: d,
        batch: Some(batch),
        time_escapes: false,
    }
}

/// The path escapes Sluice templates share with Flume.
const SHARED_ESCAPES: &[char] = &['Y', 'm', 'd', 'H', 'M', 'S', '%'];

/// A Flume escaped path or prefix as a Sluice template; `Err` names an escape Sluice
/// lacks. The flag says whether time escapes occur.
fn template(text: &str) -> Result<(String, bool), String> {
    let mut out = String::new();
    let mut time = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('{') => {
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                out.push_str(&format!("%{{{name}}}"));
            }
            Some(e) if SHARED_ESCAPES.contains(&e) => {
                time |= e != '%';
                out.push('%');
                out.push(e);
            }
            Some(e) => return Err(format!("%{e}")),
            None => return Err("%".to_owned()),
        }
    }
    Ok((out, time))
}

fn hdfs(r: &Reader, name: &str, report: &mut Report) -> SinkOut {
    let path = r.text(report, "hdfs.path").unwrap_or_default();
    let (scheme, rest) = match path.split_once("://") {
        Some((s, rest)) => (s.to_ascii_lowercase(), rest.to_owned()),
        None => (String::new(), path.clone()),
    };
    let to_lake = matches!(scheme.as_str(), "s3a" | "s3" | "s3n");
    let mut d = Decl::new("sink", name, if to_lake { "lake" } else { "file_roll" });
    let mut time_escapes = false;
    match scheme.as_str() {
        "hdfs" | "viewfs" | "webhdfs" => report.push_at(Level::Error, r.line_of("hdfs.path"), "no-counterpart", format!(
            "{} writes to HDFS (`{path}`); Sluice has no HDFS writer. Point it at S3 (`s3a://` → the `lake` sink) or a local directory (`file://`), then import again", r.what)),
        "" if path.is_empty() => report.push_at(Level::Error, r.line_of("type"), "missing-property", format!("{} has no `hdfs.path`", r.what)),
        "" => report.push_at(Level::Error, r.line_of("hdfs.path"), "no-counterpart", format!(
            "{}: `hdfs.path = {path}` has no scheme, so Hadoop resolves it against `fs.defaultFS` (HDFS on a cluster). If it is a local directory, write `file://{path}` and import again", r.what)),
        "file" | "s3a" | "s3" | "s3n" => {}
        other => report.push_at(Level::Error, r.line_of("hdfs.path"), "no-counterpart", format!(
            "{} writes to `{other}://`; Sluice writes local directories (`file_roll`, `lake`) and S3-compatible stores (`lake`)", r.what)),
    }
    let converted = if to_lake {
        // The static prefix is the location; the escaped rest becomes `partition`.
        let cut = rest
            .find('%')
            .map_or(rest.len(), |at| rest[..at].rfind('/').unwrap_or(0));
        let (location, partition) = rest.split_at(cut);
        d.set(
            "url",
            values::string(&format!("s3://{}", location.trim_end_matches('/'))),
        );
        d.set(
            "staging_dir",
            values::string(&format!("/var/lib/sluice/{name}-staging")),
        );
        let partition = partition.trim_start_matches('/');
        match template(partition) {
            Ok((t, time)) => {
                time_escapes = time;
                d.set(
                    "partition",
                    values::string(if t.is_empty() { "%Y-%m-%d" } else { &t }),
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    } else {
        let dir = if scheme == "file" {
            rest.clone()
        } else {
            path.clone()
        };
        match template(&dir) {
            Ok((t, time)) => {
                time_escapes = time;
                d.set("dir", values::string(&t));
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    if let Err(escape) = converted {
        report.push_at(Level::Error, r.line_of("hdfs.path"), "no-counterpart", format!(
            "{}: the path escape `{escape}` has no Sluice counterpart (Sluice templates take %Y %m %d %H %M %S and %{{header}})", r.what));
    }
    let prefix = r
        .text(report, "hdfs.filePrefix")
        .unwrap_or_else(|| "FlumeData".to_owned());
    if to_lake {
        if prefix.contains('%') {
            report.push_at(Level::Warning, r.line_of("hdfs.filePrefix"), "not-carried-over", format!("{}: the lake's `prefix` is plain text; move the escapes of `{prefix}` into `partition`", r.what));
        }
        d.set("prefix", values::string(&prefix.replace('%', "")));
    } else {
        match template(&prefix) {
            Ok((t, time)) => {
                time_escapes |= time;
                d.set("prefix", values::string(&t));
            }
            Err(escape) => report.push_at(
                Level::Error,
                r.line_of("hdfs.filePrefix"),
                "no-counterpart",
                format!(
                    "{}: the escape `{escape}` in `hdfs.filePrefix` has no Sluice counterpart",
                    r.what
                ),
            ),
        }
    }
    // File type and codec.
    // Flume compares the file type without regard to case.
    let file_type =
        r.text(report, "hdfs.fileType")
            .map(|t| match t.to_ascii_lowercase().as_str() {
                "sequencefile" => "SequenceFile".to_owned(),
                "datastream" => "DataStream".to_owned(),
                "compressedstream" => "CompressedStream".to_owned(),
                _ => t,
            });
    let codec = r.text(report, "hdfs.codeC").map(|c| c.to_ascii_lowercase());
    match file_type.as_deref() {
        None | Some("SequenceFile") => report.push_at(Level::Error, r.line_of(if file_type.is_some() { "hdfs.fileType" } else { "type" }), "no-counterpart", format!(
            "{} writes Hadoop SequenceFiles{}; Sluice writes text, NDJSON, Parquet or CSV. Set `hdfs.fileType = DataStream` (text) to accept the change", r.what, if file_type.is_none() { " (Flume's default `hdfs.fileType`)" } else { "" })),
        Some("DataStream") | Some("CompressedStream") => {}
        Some(other) => report.push_at(Level::Error, r.line_of("hdfs.fileType"), "invalid-value", format!("{} `hdfs.fileType = {other}` is not a Flume file type", r.what)),
    }
    if to_lake {
        d.set("format", "\"ndjson\"");
        report.push_at(Level::Warning, r.line_of("hdfs.path"), "behaviour-change", format!(
            "{}: the `lake` sink writes one JSON object per event (headers and body); set `format = \"parquet\"` and a `schema` for files query engines read best", r.what));
    } else {
        serializer(r, report, "hdfs.", &mut d);
        if file_type.is_none() {
            d.set("format", "\"text\"");
        }
    }
    match codec.as_deref() {
        None => {}
        Some("gzip") | Some("gzipcodec") => d.set("compression", "\"gzip\""),
        Some("snappy") | Some("snappycodec") if to_lake => {
            d.set("compression", "\"zstd\"");
            report.push_at(
                Level::Warning,
                r.line_of("hdfs.codeC"),
                "behaviour-change",
                format!(
                    "{}: NDJSON files are compressed with zstd (snappy is for Parquet only)",
                    r.what
                ),
            );
        }
        Some(other) => report.push_at(
            Level::Error,
            r.line_of("hdfs.codeC"),
            "no-counterpart",
            format!(
                "{}: codec `{other}` is not available; Sluice compresses with gzip or zstd{}",
                r.what,
                if to_lake {
                    " (and snappy in Parquet)"
                } else {
                    ""
                }
            ),
        ),
    }
    if file_type.as_deref() == Some("DataStream") && codec.is_some() {
        report.push_at(
            Level::Note,
            r.line_of("hdfs.codeC"),
            "behaviour-change",
            format!(
                "{}: Flume ignores `hdfs.codeC` with DataStream; the import compresses",
                r.what
            ),
        );
    }
    // Rolling: Flume's defaults make tiny files; say so instead of copying them silently.
    let interval = r.count(report, "hdfs.rollInterval");
    let size = r.count(report, "hdfs.rollSize");
    let count = r.count(report, "hdfs.rollCount");
    if interval.is_none() && size.is_none() && count.is_none() {
        report.push_at(Level::Warning, r.line_of("type"), "trap", format!(
            "{} left Flume's roll defaults (every 30 s, 1 KiB or 10 events: a file per 10 events); the import uses Sluice's defaults instead. Set `roll_interval`, `roll_size`{} if you want others", r.what, if to_lake { ", `roll_count`" } else { "" }));
    } else {
        match interval.unwrap_or(30) {
            // A lake always rolls by time; Flume's 0 (never) is left to the default.
            0 if to_lake => report.push_at(Level::Warning, r.line_of("hdfs.rollInterval"), "behaviour-change", format!(
                "{}: Flume never rolled by time (`hdfs.rollInterval = 0`); a lake publishes at least every `roll_interval` (default 5m)", r.what)),
            seconds => d.set("roll_interval", values::duration_ms(seconds.saturating_mul(1000))),
        }
        match size.unwrap_or(1024) {
            0 => {}
            bytes => d.set("roll_size", values::size(bytes)),
        }
        match count.unwrap_or(10) {
            0 => {}
            n if to_lake => d.set("roll_count", values::int(n as i64)),
            n => report.push_at(
                Level::Warning,
                r.line_of("hdfs.rollCount"),
                "not-carried-over",
                format!(
                    "{}: `file_roll` does not roll by event count ({n}); it rolls by time and size",
                    r.what
                ),
            ),
        }
    }
    if let Some(ms) = r.count(report, "hdfs.idleTimeout").filter(|s| *s > 0) {
        d.set("idle_timeout", values::duration_ms(ms.saturating_mul(1000)));
    }
    let batch = r.count(report, "hdfs.batchSize").unwrap_or(100);
    d.set("batch_size", values::int(batch as i64));
    if let Some(n) = r.int(report, "hdfs.maxOpenFiles") {
        d.set(
            if to_lake {
                "max_open_partitions"
            } else {
                "max_open_files"
            },
            values::int(n),
        );
    }
    time_zone(r, report, &mut d, "hdfs.", to_lake, time_escapes);
    rounding(r, report, "hdfs.");
    if r.bool(report, "hdfs.useLocalTimeStamp") == Some(true) {
        report.push_at(Level::Warning, r.line_of("hdfs.useLocalTimeStamp"), "behaviour-change", format!(
            "{}: Sluice uses the event's `timestamp` header when there is one, and the write time otherwise; to always use the write time, remove the header before this sink", r.what));
    }
    if !to_lake {
        report.push_at(Level::Note, r.line_of("type"), "behaviour-change", format!(
            "{}: Flume's HDFS sink became a `file_roll` sink; files are written in place under their final names (no `.tmp` suffix while open)", r.what));
    }
    report.leftovers(
        r,
        &[
            "hdfs.fileSuffix",
            "hdfs.inUsePrefix",
            "hdfs.inUseSuffix",
            "hdfs.emptyInUseSuffix",
            "hdfs.writeFormat",
            "hdfs.callTimeout",
            "hdfs.minBlockReplicas",
            "hdfs.threadsPoolSize",
            "hdfs.rollTimerPoolSize",
            "hdfs.closeTries",
            "hdfs.retryInterval",
            "hdfs.kerberosPrincipal",
            "hdfs.kerberosKeytab",
            "hdfs.proxyUser",
            "serializer*",
        ],
    );
    SinkOut {
        decl: d,
        batch: Some(batch),
        time_escapes,
    }
}

fn time_zone(
    r: &Reader,
    report: &mut Report,
    d: &mut Decl,
    prefix: &str,
    lake: bool,
    escapes: bool,
) {
    let key = format!("{prefix}timeZone");
    match r.text(report, &key) {
        Some(zone) if lake && (zone == "UTC" || zone == "GMT") => d.set("time_zone", "\"UTC\""),
        Some(zone) if lake && zone.len() == 6 && (zone.starts_with('+') || zone.starts_with('-')) => d.set("time_zone", values::string(&zone)),
        Some(zone) if zone == "UTC" || zone == "GMT" => {}
        Some(zone) => report.push_at(Level::Warning, r.line_of(&key), "behaviour-change", format!(
            "{}: time zone `{zone}` is not carried over; Sluice writes {} time escapes in UTC{}", r.what, if lake { "partition" } else { "path" }, if lake { " or a fixed offset (`time_zone = \"+02:00\"`)" } else { "" })),
        None if escapes => report.push_at(Level::Warning, r.line_of("type"), "behaviour-change", format!(
            "{}: Flume expanded the time escapes in the JVM's local time zone; Sluice uses UTC", r.what)),
        None => {}
    }
}

fn rounding(r: &Reader, report: &mut Report, prefix: &str) {
    let key = format!("{prefix}round");
    if r.bool(report, &key) == Some(true) {
        let value = r
            .text(report, &format!("{prefix}roundValue"))
            .unwrap_or_else(|| "1".to_owned());
        let unit = r
            .text(report, &format!("{prefix}roundUnit"))
            .unwrap_or_else(|| "second".to_owned());
        report.push_at(Level::Warning, r.line_of(&key), "not-carried-over", format!(
            "{}: rounding the time down to {value} {unit} is not carried over; write the path at the precision you want (e.g. `%H` instead of `%H%M`)", r.what));
    }
    r.consume(&[
        &format!("{prefix}roundValue"),
        &format!("{prefix}roundUnit"),
    ]);
}

fn hive(r: &Reader, name: &str, report: &mut Report) -> SinkOut {
    let mut d = Decl::new("sink", name, "lake");
    let db = r
        .text(report, "hive.database")
        .unwrap_or_else(|| "default".to_owned());
    let table = r
        .text(report, "hive.table")
        .unwrap_or_else(|| "table".to_owned());
    r.consume(&["hive.metastore"]);
    d.set(
        "url",
        values::string(&format!("s3://CHANGE-ME/{db}.db/{table}")),
    );
    report.push_at(Level::Error, r.line_of("hive.table"), "manual-step", format!(
        "{}: Sluice writes files into the table's location and lets the engine discover them (`MSCK REPAIR TABLE`); set `url` to the LOCATION of `{db}.{table}` (`SHOW CREATE TABLE`), which the import cannot know", r.what));
    if let Some(partition) = r.text(report, "hive.partition") {
        let parts: Vec<String> = partition
            .split(',')
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "col{}={}",
                    i + 1,
                    match template(v.trim()) {
                        Ok((t, _)) => t,
                        Err(escape) => {
                            report.push_at(
                                Level::Error,
                                r.line_of("hive.partition"),
                                "no-counterpart",
                                format!(
                                    "{}: the partition escape `{escape}` has no Sluice counterpart",
                                    r.what
                                ),
                            );
                            String::new()
                        }
                    }
                )
            })
            .collect();
        d.set("partition", values::string(&parts.join("/")));
        report.push_at(Level::Warning, r.line_of("hive.partition"), "manual-step", format!(
            "{}: Flume lists partition values only; rename `col1`, `col2`… in `partition` to the table's partition columns", r.what));
    }
    match r.text(report, "serializer").map(|s| s.to_ascii_uppercase()) {
        Some(s) if s == "JSON" => d.set("format", "\"ndjson\""),
        Some(s) if s == "DELIMITED" => {
            d.set("format", "\"ndjson\"");
            report.push_at(Level::Warning, r.line_of("serializer"), "manual-step", format!(
                "{}: the delimited fields are written as NDJSON events; for CSV or Parquet columns, split the body into headers (`regex_extractor`) and declare a `schema`", r.what));
        }
        _ => {}
    }
    for k in r.keys_under("serializer.") {
        let _ = r.prop(&format!("serializer.{k}"));
    }
    let batch = r.count(report, "batchSize").unwrap_or(15_000);
    d.set("batch_size", values::int(batch as i64));
    time_zone(r, report, &mut d, "", true, true);
    rounding(r, report, "");
    report.push_at(Level::Note, r.line_of("type"), "behaviour-change", format!(
        "{}: Flume streamed into a transactional (ACID) table; Sluice publishes whole files, for an external table", r.what));
    r.consume(&["useLocalTimeStamp"]);
    report.leftovers(
        r,
        &[
            "hive.txnsPerBatchAsk",
            "heartBeatInterval",
            "autoCreatePartitions",
            "maxOpenConnections",
            "callTimeout",
        ],
    );
    SinkOut {
        decl: d,
        batch: Some(batch),
        time_escapes: true,
    }
}

fn kafka(r: &Reader, name: &str, report: &mut Report) -> SinkOut {
    let mut d = Decl::new("sink", name, "kafka");
    match r
        .text(report, "kafka.bootstrap.servers")
        .or_else(|| r.text(report, "brokerList"))
    {
        Some(servers) => d.set("brokers", string_list(servers.split(','))),
        None => report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `kafka.bootstrap.servers`", r.what),
        ),
    }
    let topic = r
        .text(report, "kafka.topic")
        .or_else(|| r.text(report, "topic"))
        .unwrap_or_else(|| "default-flume-topic".to_owned());
    d.set(
        "topic",
        values::string(&values::template_keeping_headers(&topic)),
    );
    if r.bool(report, "allowTopicOverride") != Some(false) {
        report.push_at(Level::Warning, r.line_of("type"), "behaviour-change", format!(
            "{}: Flume sent an event carrying a `topic` header to that topic (`allowTopicOverride`); Sluice sends every event to `topic`. To keep the override, set `topic = \"%{{topic}}\"` and give every event the header", r.what));
    }
    r.consume(&["topicHeader"]);
    if r.has("kafka.flumeBatchSize") {
        report.push_at(Level::Warning, r.line_of("kafka.flumeBatchSize"), "trap", format!(
            "{}: Flume ignores `kafka.flumeBatchSize` (the key is `flumeBatchSize`), so its batch size stayed 100", r.what));
        r.consume(&["kafka.flumeBatchSize"]);
    }
    let batch = r
        .count(report, "flumeBatchSize")
        .or_else(|| r.count(report, "batchSize"))
        .unwrap_or(100);
    d.set("batch_size", values::int(batch as i64));
    match r.text(report, "kafka.producer.acks").or_else(|| r.text(report, "requiredAcks")).as_deref() {
        Some("0") => d.set("acks", "\"none\""),
        Some("1") => d.set("acks", "\"leader\""),
        Some("-1") | Some("all") => d.set("acks", "\"all\""),
        Some(other) => report.push_at(Level::Error, r.line_of("kafka.producer.acks"), "invalid-value", format!("{}: `acks = {other}` is not a Kafka setting", r.what)),
        None => report.push_at(Level::Note, r.line_of("type"), "behaviour-change", format!(
            "{}: Flume waited for the leader only (`acks = 1`); Sluice's default waits for every in-sync replica (`acks = \"all\"`), which is safer", r.what)),
    }
    match r.text(report, "kafka.producer.compression.type") {
        Some(c) if matches!(c.as_str(), "none" | "gzip" | "snappy" | "lz4" | "zstd") => {
            d.set("compression", values::string(&c))
        }
        Some(c) => report.push_at(
            Level::Error,
            r.line_of("kafka.producer.compression.type"),
            "invalid-value",
            format!("{}: compression `{c}` is not available", r.what),
        ),
        None => d.set("compression", "\"none\""),
    }
    if let Some(ms) = r.count(report, "kafka.producer.linger.ms") {
        d.set("linger", values::duration_ms(ms));
    }
    if let Some(bytes) = r.count(report, "kafka.producer.max.request.size") {
        d.set("max_record_size", values::size(bytes));
    }
    let header_keys = r.keys_under("header.");
    if header_keys.is_empty() {
        d.set("headers", "false");
    } else {
        for k in &header_keys {
            let _ = r.prop(&format!("header.{k}"));
        }
        report.push_at(Level::Warning, r.line_of(&format!("header.{}", header_keys[0])), "behaviour-change", format!(
            "{}: Sluice sends every event header as a record header, under its own name; Flume sent only the listed ones, renamed", r.what));
    }
    for key in ["defaultPartitionId", "partitionIdHeader"] {
        if r.has(key) {
            r.consume(&[key]);
            report.push_at(Level::Error, r.line_of(key), "no-counterpart", format!("{} `{key}`: choosing partitions by number is not available; Sluice partitions by `key`", r.what));
        }
    }
    if r.bool(report, "useFlumeEventFormat") == Some(true) {
        report.push_at(
            Level::Error,
            r.line_of("useFlumeEventFormat"),
            "no-counterpart",
            format!(
                "{}: records in Flume's Avro event format are not written",
                r.what
            ),
        );
    }
    kafka_security(r, report, &mut d, "kafka.producer.");
    report.push_at(Level::Note, r.line_of("type"), "behaviour-change", format!(
        "{}: Flume used an event's `key` header as the record key when it had one; no `key` is set here, because Sluice would send events without the header under the key `unknown`, all to one partition", r.what));
    report.leftovers(r, &["timestampHeader", "kafka.producer.*"]);
    SinkOut {
        decl: d,
        batch: Some(batch),
        time_escapes: false,
    }
}

fn http(r: &Reader, name: &str, report: &mut Report) -> SinkOut {
    let mut d = Decl::new("sink", name, "http");
    match r.string("endpoint") {
        Some(url) => d.set("url", url),
        None => report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `endpoint`", r.what),
        ),
    }
    let timeout = r.count(report, "connectTimeout").unwrap_or(5000)
        + r.count(report, "requestTimeout").unwrap_or(5000);
    d.set("timeout", values::duration_ms(timeout));
    d.set("batch_size", "1");
    if let Some(accept) = r.text(report, "acceptHeader") {
        d.set(
            "headers",
            format!("{{ \"Accept\" = {} }}", values::string(&accept)),
        );
    }
    r.consume(&[
        "contentTypeHeader",
        "defaultBackoff",
        "defaultRollback",
        "defaultIncrementMetrics",
    ]);
    let rollback_4xx = r.keys_under("rollback.").into_iter().any(|code| {
        let off = r.bool(report, &format!("rollback.{code}")) == Some(false);
        off && code.starts_with('4')
    });
    if rollback_4xx {
        d.set("on_client_error", "\"drop\"");
    }
    for prefix in ["backoff.", "incrementMetrics."] {
        for k in r.keys_under(prefix) {
            let _ = r.prop(&format!("{prefix}{k}"));
        }
    }
    report.push_at(Level::Error, r.line_of("type"), "wire-change", format!(
        "{}: Flume POSTed each event's body alone; Sluice's http sink POSTs batches as NDJSON (or Flume JSON) with the headers. The receiving service must accept that; this import sends one event per request", r.what));
    report.leftovers(r, &[]);
    SinkOut {
        decl: d,
        batch: Some(1),
        time_escapes: false,
    }
}
