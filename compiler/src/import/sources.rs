//! Flume sources → Sluice sources (docs/design/flume-import-mapping.md §2.1).

use super::translate::{no_counterpart, Decl, Reader, Report};
use super::values;
use super::Level;

/// A translated source. Some Flume sources become several (one per port or file group),
/// each with transforms that must run first (the `port` or file-group headers).
pub struct SourceOut {
    pub decl: Decl,
    pub pre: Vec<Decl>,
    /// Flume puts one event at a time: the batch size follows the channels (rule 2).
    pub batch_from_channels: bool,
    /// Syslog headers: Flume's `Facility`/`Severity` are numbers, Sluice's are names.
    pub syslog: bool,
    /// The source re-sends what a crash lost if the channel did not keep it (and
    /// `sluice check`'s `lossy-buffer` lint does not already say so).
    pub replayable: bool,
}

impl SourceOut {
    fn new(decl: Decl) -> Self {
        SourceOut {
            decl,
            pre: Vec::new(),
            batch_from_channels: false,
            syslog: false,
            replayable: false,
        }
    }
}

/// Translates one source; `None` when Sluice has no counterpart (an error was reported).
pub fn translate(r: &Reader, name: &str, report: &mut Report) -> Option<Vec<SourceOut>> {
    let kind = r.prop("type").map(|p| p.value.clone()).unwrap_or_default();
    let lower = kind.to_ascii_lowercase();
    let out = match lower.as_str() {
        "netcat" | "org.apache.flume.source.netcatsource" => netcat(r, name, report),
        "netcatudp" | "org.apache.flume.source.netcatudpsource" => netcat_udp(r, name, report),
        "exec" | "org.apache.flume.source.execsource" => exec(r, name, report),
        "spooldir" | "org.apache.flume.source.spooldirectorysource" => spooldir(r, name, report),
        "taildir" | "org.apache.flume.source.taildir.taildirsource" => taildir(r, name, report),
        "syslogtcp" | "org.apache.flume.source.syslogtcpsource" => syslog(r, name, report, true),
        "syslogudp" | "org.apache.flume.source.syslogudpsource" => syslog(r, name, report, false),
        "multiport_syslogtcp" | "org.apache.flume.source.multiportsyslogtcpsource" => {
            multiport(r, name, report)
        }
        "http" | "org.apache.flume.source.http.httpsource" => http(r, name, report),
        "seq" | "org.apache.flume.source.sequencegeneratorsource" => seq(r, name, report),
        "org.apache.flume.source.stresssource" => stress(r, name, report),
        "avro"
        | "thrift"
        | "org.apache.flume.source.avrosource"
        | "org.apache.flume.source.thriftsource" => hop(r, name, report, &lower),
        "org.apache.flume.source.kafka.kafkasource" => kafka(r, name, report),
        _ => {
            let why = match lower.as_str() {
                "jms" | "org.apache.flume.source.jms.jmssource" => "Sluice has no JMS source; bridge the broker to Kafka and use the `kafka` source, or write the source as a component of your own (`sluice new component --role source`)".to_owned(),
                _ => no_counterpart(&kind, "source", true),
            };
            report.not_imported(r, &why);
            return None;
        }
    };
    Some(out)
}

/// `bind` + `port` (or `host` + `port`) → `"host:port"`.
fn address(
    r: &Reader,
    report: &mut Report,
    host_key: &str,
    default_host: Option<&str>,
) -> Option<String> {
    let host = r
        .text(report, host_key)
        .or_else(|| default_host.map(str::to_owned));
    let port = r.text(report, "port");
    match (host, port) {
        (Some(host), Some(port)) => {
            let host = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host
            };
            Some(values::string(&format!("{host}:{port}")))
        }
        _ => {
            let missing = if r.has("port") { host_key } else { "port" };
            report.push_at(
                Level::Error,
                r.line_of("type"),
                "missing-property",
                format!("{} has no `{missing}`; Flume refuses it too", r.what),
            );
            None
        }
    }
}

fn netcat(r: &Reader, name: &str, report: &mut Report) -> Vec<SourceOut> {
    let mut d = Decl::new("source", name, "netcat");
    if let Some(bind) = address(r, report, "bind", None) {
        d.set("bind", bind);
    }
    let max = r.count(report, "max-line-length").unwrap_or(512);
    d.set("max_line", values::size(max));
    let acks = r.bool(report, "ack-every-event").unwrap_or(true);
    if acks {
        report.push_at(Level::Warning, r.line_of("ack-every-event"), "behaviour-change", format!(
            "{}: Flume answers `OK` after every line (`ack-every-event` is true by default); Sluice's netcat source sends nothing back, so a client that waits for `OK` stalls", r.what));
    }
    report.push_at(Level::Note, r.line_of("type"), "behaviour-change", format!(
        "{}: a line longer than `max_line` is skipped and counted, where Flume answers `FAILED` and closes the connection", r.what));
    r.consume(&["encoding"]);
    report.leftovers(r, &["encoding"]);
    vec![SourceOut {
        batch_from_channels: true,
        ..SourceOut::new(d)
    }]
}

fn netcat_udp(r: &Reader, name: &str, report: &mut Report) -> Vec<SourceOut> {
    let mut d = Decl::new("source", name, "netcat_udp");
    if let Some(bind) = address(r, report, "bind", None) {
        d.set("bind", bind);
    }
    report.push_at(Level::Note, r.line_of("type"), "behaviour-change", format!(
        "{}: Sluice takes the whole datagram as the body (less a final newline); Flume took the bytes up to the first newline", r.what));
    report.leftovers(r, &["remoteAddressHeader"]);
    vec![SourceOut {
        batch_from_channels: true,
        ..SourceOut::new(d)
    }]
}

fn exec(r: &Reader, name: &str, report: &mut Report) -> Vec<SourceOut> {
    let mut d = Decl::new("source", name, "exec");
    match r.string("command") {
        Some(c) => d.set("command", c),
        None => report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `command`", r.what),
        ),
    }
    if let Some(shell) = r.string("shell") {
        d.set("shell", shell);
    }
    if r.bool(report, "restart") == Some(true) {
        d.set("restart", "true");
        let ms = r.count(report, "restartThrottle").unwrap_or(10_000);
        d.set("restart_delay", values::duration_ms(ms));
    }
    d.set(
        "batch_size",
        values::int(r.int(report, "batchSize").unwrap_or(20)),
    );
    if let Some(cmd) = r.prop("command") {
        if cmd.value.contains("tail ") {
            report.push(Level::Warning, cmd, "trap", format!(
                "{} runs `tail`: events are lost when the agent stops or the channel fills, as Flume's guide warns; the `taildir` source follows files with a delivery guarantee", r.what));
        }
    }
    r.consume(&["logStdErr"]);
    report.leftovers(r, &["batchTimeout", "charset", "restartThrottle"]);
    vec![SourceOut::new(d)]
}

fn spooldir(r: &Reader, name: &str, report: &mut Report) -> Vec<SourceOut> {
    let mut d = Decl::new("source", name, "spooldir");
    match r.string("spoolDir") {
        Some(dir) => d.set("dir", dir),
        None => report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `spoolDir`", r.what),
        ),
    }
    if let Some(s) = r.string("fileSuffix") {
        d.set("completed_suffix", s);
    }
    if let Some(policy) = r.text(report, "deletePolicy") {
        if policy.eq_ignore_ascii_case("immediate") {
            d.set("delete_completed", "true");
        }
    }
    for (key, param) in [("includePattern", "include"), ("ignorePattern", "ignore")] {
        if let Some(re) = r.text(report, key) {
            if re == "^.*$" || re == "^$" {
                continue;
            }
            match regex_to_glob(&re) {
                Some(glob) => d.set(param, values::string(&glob)),
                None => report.push_at(Level::Error, r.line_of(key), "no-counterpart", format!(
                    "{} `{key}` = `{re}` is a regex that has no glob equivalent; Sluice's `{param}` takes a glob: write it by hand", r.what)),
            }
        }
    }
    for key in ["fileHeader", "basenameHeader"] {
        if r.bool(report, key) == Some(true) {
            report.push_at(Level::Error, r.line_of(key), "no-counterpart", format!(
                "{} `{key}`: Sluice's spooldir source sets no file-name header; routes or paths that read it will not find it", r.what));
        }
    }
    r.consume(&["fileHeaderKey", "basenameHeaderKey"]);
    if let Some(policy) = r.text(report, "trackingPolicy") {
        if policy.eq_ignore_ascii_case("tracker_dir") {
            report.push_at(Level::Error, r.line_of("trackingPolicy"), "no-counterpart", format!(
                "{} `trackingPolicy = tracker_dir` leaves files in place; Sluice renames completed files (or deletes them)", r.what));
        }
    }
    if let Some(ms) = r.count(report, "pollDelay") {
        d.set("poll_interval", values::duration_ms(ms));
    }
    if r.bool(report, "recursiveDirectorySearch") == Some(true) {
        report.push_at(
            Level::Error,
            r.line_of("recursiveDirectorySearch"),
            "no-counterpart",
            format!(
                "{} searches sub-directories; Sluice's spooldir reads one directory",
                r.what
            ),
        );
    }
    if let Some(deser) = r.text(report, "deserializer") {
        if !deser.eq_ignore_ascii_case("line") {
            report.push_at(
                Level::Error,
                r.line_of("deserializer"),
                "no-counterpart",
                format!(
                    "{} `deserializer = {deser}`: Sluice reads lines only",
                    r.what
                ),
            );
        }
    }
    let max = r
        .count(report, "deserializer.maxLineLength")
        .or_else(|| r.count(report, "bufferMaxLineLength"))
        .unwrap_or(2048);
    d.set("max_line", values::size(max));
    report.push_at(Level::Note, r.line_of("type"), "behaviour-change", format!(
        "{}: a line longer than `max_line` is skipped and counted; Flume cut it and sent the rest as the next event", r.what));
    d.set(
        "batch_size",
        values::int(r.int(report, "batchSize").unwrap_or(100)),
    );
    report.push_at(Level::Warning, r.line_of("type"), "trap", format!(
        "{}: Sluice does not read Flume's `.flumespool` tracking data; a file Flume had half read is read again from its start (duplicates). Let Flume finish the directory before switching", r.what));
    report.leftovers(
        r,
        &[
            "trackerDir",
            "consumeOrder",
            "maxBackoff",
            "inputCharset",
            "decodeErrorPolicy",
            "deserializer.*",
        ],
    );
    vec![SourceOut {
        replayable: false,
        ..SourceOut::new(d)
    }]
}

fn taildir(r: &Reader, name: &str, report: &mut Report) -> Vec<SourceOut> {
    let groups: Vec<String> = r
        .text(report, "filegroups")
        .map(|g| g.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if groups.is_empty() {
        report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `filegroups`", r.what),
        );
    }
    let positions = r.text(report, "positionFile");
    if positions.is_some() {
        report.push_at(Level::Warning, r.line_of("positionFile"), "trap", format!(
            "{}: Sluice cannot read Flume's position file (its entries lack the device number); the import writes a new one beside it. Start with `skip_to_end = true`, or let Flume stop at a known place", r.what));
    }
    let positions_base = positions.unwrap_or_else(|| format!("/var/lib/sluice/{name}.json"));
    let file_header = r.bool(report, "fileHeader") == Some(true);
    if let Some(key) = r.text(report, "fileHeaderKey") {
        if file_header && key != "file" {
            report.push_at(
                Level::Warning,
                r.line_of("fileHeaderKey"),
                "not-carried-over",
                format!(
                    "{}: Sluice's file header is always `file`, not `{key}`",
                    r.what
                ),
            );
        }
    }
    let skip = r.bool(report, "skipToEnd") == Some(true);
    let write_pos = r.count(report, "writePosInterval");
    let batch = r.int(report, "batchSize").unwrap_or(100);
    // File groups with their own headers become sources of their own.
    let header_groups: Vec<&String> = groups
        .iter()
        .filter(|g| !r.keys_under(&format!("headers.{g}.")).is_empty())
        .collect();
    let split = !header_groups.is_empty() && groups.len() > 1;
    let sets: Vec<Vec<&String>> = if split {
        groups.iter().map(|g| vec![g]).collect()
    } else {
        vec![groups.iter().collect()]
    };
    let mut out = Vec::new();
    for set in sets {
        let source_name = if split {
            format!("{name}_{}", values::ident(set[0]))
        } else {
            name.to_owned()
        };
        let mut d = Decl::new("source", &source_name, "taildir");
        let mut files = Vec::new();
        for g in &set {
            let Some(pattern) = r.text(report, &format!("filegroups.{g}")) else {
                report.push_at(
                    Level::Error,
                    r.line_of("filegroups"),
                    "missing-property",
                    format!("{}: file group `{g}` has no `filegroups.{g}`", r.what),
                );
                continue;
            };
            let (dir, file) = match pattern.rsplit_once('/') {
                Some((dir, file)) => (format!("{}/", glob_escape(dir)), file),
                None => (String::new(), pattern.as_str()),
            };
            match regex_to_glob(file) {
                Some(glob) => files.push(values::string(&format!("{dir}{glob}"))),
                None => report.push_at(Level::Error, r.line_of(&format!("filegroups.{g}")), "no-counterpart", format!(
                    "{}: the file name pattern `{file}` is a regex with no glob equivalent; write the glob by hand", r.what)),
            }
        }
        d.set("files", format!("[{}]", files.join(", ")));
        let stem = positions_base
            .strip_suffix(".json")
            .unwrap_or(&positions_base);
        let positions = if split {
            format!("{stem}.sluice.{}.json", values::ident(set[0]))
        } else {
            format!("{stem}.sluice.json")
        };
        d.set("positions", values::string(&positions));
        if skip {
            d.set("skip_to_end", "true");
        }
        if file_header {
            d.set("file_header", "true");
        }
        if let Some(ms) = write_pos {
            d.set("positions_interval", values::duration_ms(ms));
        }
        d.set("batch_size", values::int(batch));
        let mut source = SourceOut {
            replayable: false,
            ..SourceOut::new(d)
        };
        for g in &set {
            for key in r.keys_under(&format!("headers.{g}.")) {
                if let Some(value) = r.string(&format!("headers.{g}.{key}")) {
                    let mut t = Decl::new(
                        "transform",
                        &format!("{source_name}_{}", values::ident(&key)),
                        "static",
                    );
                    t.set("key", values::string(&key));
                    t.set("value", value);
                    t.set("preserve", "false");
                    source.pre.push(t);
                }
            }
        }
        out.push(source);
    }
    if split {
        report.push_at(Level::Note, r.line_of("filegroups"), "renamed", format!(
            "{}: its file groups set different headers, so each became a source of its own ({})", r.what,
            out.iter().map(|s| format!("`{}`", s.decl.name)).collect::<Vec<_>>().join(", ")));
    }
    report.leftovers(
        r,
        &[
            "byteOffsetHeader",
            "idleTimeout",
            "maxBatchCount",
            "backoffSleepIncrement",
            "maxBackoffSleep",
            "cachePatternMatching",
        ],
    );
    out
}

fn syslog(r: &Reader, name: &str, report: &mut Report, tcp: bool) -> Vec<SourceOut> {
    let mut d = Decl::new(
        "source",
        name,
        if tcp { "syslog_tcp" } else { "syslog_udp" },
    );
    if !r.has("host") {
        report.push_at(
            Level::Warning,
            r.line_of("type"),
            "invalid-value",
            format!(
                "{} has no `host`; listening on every interface (0.0.0.0)",
                r.what
            ),
        );
    }
    if let Some(bind) = address(r, report, "host", Some("0.0.0.0")) {
        d.set("bind", bind);
    }
    if tcp {
        let size = r.count(report, "eventSize").unwrap_or(2500);
        d.set("max_line", values::size(size));
        tls(r, report, &mut d);
    }
    keep_fields(r, report);
    let out = SourceOut {
        batch_from_channels: true,
        syslog: true,
        ..SourceOut::new(d)
    };
    // Flume's syslog sources put one event at a time: `batchSize` is not theirs.
    report.leftovers(
        r,
        &[
            "clientIPHeader",
            "clientHostnameHeader",
            "exclude-protocols",
            "include-protocols",
            "exclude-cipher-suites",
            "include-cipher-suites",
            "keystore-type",
        ],
    );
    vec![out]
}

fn keep_fields(r: &Reader, report: &mut Report) {
    if let Some(keep) = r.text(report, "keepFields") {
        if !keep.eq_ignore_ascii_case("none") && !keep.eq_ignore_ascii_case("false") {
            report.push_at(Level::Error, r.line_of("keepFields"), "no-counterpart", format!(
                "{} `keepFields = {keep}`: Sluice's body is always the message alone; the priority, time and host are in the headers", r.what));
        }
    }
}

fn multiport(r: &Reader, name: &str, report: &mut Report) -> Vec<SourceOut> {
    let ports: Vec<String> = r
        .text(report, "ports")
        .map(|p| p.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if ports.is_empty() {
        report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `ports`", r.what),
        );
    }
    let host = r
        .text(report, "host")
        .unwrap_or_else(|| "0.0.0.0".to_owned());
    let size = r.count(report, "eventSize").unwrap_or(2500);
    let batch = r.int(report, "batchSize").unwrap_or(100);
    let port_header = r.text(report, "portHeader");
    keep_fields(r, report);
    let mut out = Vec::new();
    for port in &ports {
        let source_name = format!("{name}_{}", values::ident(port).trim_start_matches('_'));
        let mut d = Decl::new("source", &source_name, "syslog_tcp");
        d.set("bind", values::string(&values::host_port(&host, port)));
        d.set("max_line", values::size(size));
        d.set("batch_size", values::int(batch));
        tls(r, report, &mut d);
        let mut s = SourceOut {
            syslog: true,
            ..SourceOut::new(d)
        };
        if let Some(h) = &port_header {
            let mut t = Decl::new("transform", &format!("{source_name}_port"), "static");
            t.set("key", values::string(h));
            t.set("value", values::string(port));
            t.set("preserve", "false");
            s.pre.push(t);
        }
        out.push(s);
    }
    if ports.len() > 1 {
        report.push_at(
            Level::Note,
            r.line_of("ports"),
            "renamed",
            format!(
                "{} listens on {} ports: it became one `syslog_tcp` source per port",
                r.what,
                ports.len()
            ),
        );
    }
    report.leftovers(
        r,
        &[
            "clientIPHeader",
            "clientHostnameHeader",
            "charset.*",
            "readBufferSize",
            "numProcessors",
        ],
    );
    out
}

/// Flume's `ssl`/`keystore*` → `tls = { cert, key }` placeholders: the JKS store must be
/// converted to PEM by hand.
fn tls(r: &Reader, report: &mut Report, d: &mut Decl) {
    let on = r
        .bool(report, "ssl")
        .or_else(|| r.bool(report, "enableSSL"))
        == Some(true);
    r.consume(&[
        "keystore",
        "keystore-password",
        "keystorePassword",
        "keystore-type",
        "keystoreType",
    ]);
    if on {
        d.set(
            "tls",
            "{ cert = \"/etc/sluice/tls/cert.pem\", key = \"/etc/sluice/tls/key.pem\" }",
        );
        report.push_at(Level::Warning, r.line_of("ssl"), "manual-step", format!(
            "{}: TLS needs a PEM certificate and key; convert the Java keystore (`keytool -importkeystore -deststoretype PKCS12`, then `openssl pkcs12 -nodes`) and set the paths in `tls`", r.what));
    }
}

fn http(r: &Reader, name: &str, report: &mut Report) -> Vec<SourceOut> {
    let mut d = Decl::new("source", name, "http");
    let host = r
        .text(report, "bind")
        .unwrap_or_else(|| "0.0.0.0".to_owned());
    match r.text(report, "port") {
        Some(port) => d.set("bind", values::string(&values::host_port(&host, &port))),
        None => report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `port`", r.what),
        ),
    }
    let handler = r
        .text(report, "handler")
        .unwrap_or_else(|| "org.apache.flume.source.http.JSONHandler".to_owned());
    if handler.ends_with("JSONHandler") {
        d.set("format", "\"flume_json\"");
    } else if handler.ends_with("BlobHandler") {
        d.set("format", "\"raw\"");
        report.push_at(
            Level::Warning,
            r.line_of("handler"),
            "behaviour-change",
            format!(
                "{}: the request parameters do not become headers, as BlobHandler made them",
                r.what
            ),
        );
    } else {
        report.push_at(Level::Error, r.line_of("handler"), "no-counterpart", format!(
            "{} uses the custom handler `{handler}`; Sluice's http source reads Flume JSON, NDJSON or raw bodies (`format`)", r.what));
        r.consume(&["handler.*"]);
        for key in r.keys_under("handler.") {
            let _ = r.prop(&format!("handler.{key}"));
        }
    }
    tls(r, report, &mut d);
    report.push_at(Level::Warning, r.line_of("type"), "security", format!(
        "{}: Flume's HTTP source accepts anyone; Sluice can require a bearer token: add `auth_token = env(\"HTTP_TOKEN\")` once the clients send it", r.what));
    let jetty: Vec<String> = [
        "QueuedThreadPool.",
        "HttpConfiguration.",
        "SslContextFactory.",
        "ServerConnector.",
    ]
    .iter()
    .flat_map(|p| r.keys_under(p).into_iter().map(move |k| format!("{p}{k}")))
    .collect();
    for key in jetty {
        let _ = r.prop(&key);
        report.push_at(
            Level::Warning,
            r.line_of(&key),
            "not-carried-over",
            format!("{} `{key}` tunes Jetty; not carried over", r.what),
        );
    }
    report.leftovers(
        r,
        &[
            "exclude-protocols",
            "include-protocols",
            "exclude-cipher-suites",
            "include-cipher-suites",
            "excludeProtocols",
        ],
    );
    vec![SourceOut {
        replayable: false,
        ..SourceOut::new(d)
    }]
}

fn seq(r: &Reader, name: &str, report: &mut Report) -> Vec<SourceOut> {
    let mut d = Decl::new("source", name, "seq");
    if let Some(n) = r.int(report, "totalEvents") {
        if n < i64::MAX {
            d.set("count", values::int(n));
        }
    }
    d.set(
        "batch_size",
        values::int(r.int(report, "batchSize").unwrap_or(1)),
    );
    report.leftovers(r, &[]);
    vec![SourceOut::new(d)]
}

fn stress(r: &Reader, name: &str, report: &mut Report) -> Vec<SourceOut> {
    let mut d = Decl::new("source", name, "seq");
    let size = r.count(report, "size").unwrap_or(500);
    d.set(
        "body",
        values::string(&"x".repeat(usize::try_from(size.min(1 << 20)).unwrap_or(500))),
    );
    report.push_at(
        Level::Note,
        r.line_of("size"),
        "behaviour-change",
        format!(
            "{}: each body is {size} `x` bytes (Flume filled them with 0x7F)",
            r.what
        ),
    );
    let total = [
        r.int(report, "maxTotalEvents"),
        r.int(report, "maxSuccessfulEvents"),
    ]
    .into_iter()
    .flatten()
    .filter(|n| *n > 0)
    .min();
    if let Some(n) = total {
        d.set("count", values::int(n));
    }
    if let Some(rate) = r.int(report, "maxEventsPerSecond").filter(|n| *n > 0) {
        d.set("rate", values::int(rate));
    }
    d.set(
        "batch_size",
        values::int(r.int(report, "batchSize").unwrap_or(1)),
    );
    report.leftovers(r, &[]);
    vec![SourceOut::new(d)]
}

fn hop(r: &Reader, name: &str, report: &mut Report, kind: &str) -> Vec<SourceOut> {
    let mut d = Decl::new("source", name, "sluice");
    if let Some(bind) = address(r, report, "bind", None) {
        d.set("bind", bind);
    }
    tls(r, report, &mut d);
    let flavour = if kind.contains("thrift") {
        "Thrift"
    } else {
        "Avro"
    };
    report.push_at(Level::Warning, r.line_of("type"), "wire-change", format!(
        "{}: Flume's {flavour} source became Sluice's `sluice` source (the agent-to-agent hop), which speaks the Sluice protocol, not {flavour}: migrate every sending agent too (their {flavour} sinks become `sluice` sinks)", r.what));
    report.push_at(Level::Warning, r.line_of("type"), "security", format!(
        "{}: set `token = env(\"HOP_TOKEN\")` (and the same on the senders) or `tls.client_ca` so that only your agents can send", r.what));
    for key in ["kerberos", "ipFilter"] {
        if r.bool(report, key) == Some(true) {
            report.push_at(
                Level::Error,
                r.line_of(key),
                "no-counterpart",
                format!(
                    "{} `{key}`: not available; use `tls.client_ca` or `token`",
                    r.what
                ),
            );
        }
    }
    report.leftovers(
        r,
        &[
            "threads",
            "compression-type",
            "exclude-protocols",
            "include-protocols",
            "exclude-cipher-suites",
            "include-cipher-suites",
            "ipFilterRules",
            "agent-principal",
            "agent-keytab",
        ],
    );
    vec![SourceOut {
        replayable: false,
        ..SourceOut::new(d)
    }]
}

fn kafka(r: &Reader, name: &str, report: &mut Report) -> Vec<SourceOut> {
    let mut d = Decl::new("source", name, "kafka");
    match r.text(report, "kafka.bootstrap.servers") {
        Some(servers) => d.set("brokers", string_list(servers.split(','))),
        None => report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `kafka.bootstrap.servers`", r.what),
        ),
    }
    if r.has("kafka.topics.regex") {
        report.push_at(Level::Error, r.line_of("kafka.topics.regex"), "no-counterpart", format!("{} subscribes by regex; Sluice's kafka source takes a list of topic names (`topics`)", r.what));
        r.consume(&["kafka.topics.regex"]);
    }
    match r
        .text(report, "kafka.topics")
        .or_else(|| r.text(report, "topic"))
    {
        Some(topics) => d.set("topics", string_list(topics.split(','))),
        None if !r.has("kafka.topics.regex") => report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `kafka.topics`", r.what),
        ),
        None => {}
    }
    let group = r
        .string("kafka.consumer.group.id")
        .or_else(|| r.string("groupId"))
        .unwrap_or_else(|| "\"flume\"".to_owned());
    d.set("group", group);
    if let Some(reset) = r.text(report, "kafka.consumer.auto.offset.reset") {
        match reset.as_str() {
            "earliest" | "latest" => d.set("start", values::string(&reset)),
            other => report.push_at(
                Level::Warning,
                r.line_of("kafka.consumer.auto.offset.reset"),
                "not-carried-over",
                format!(
                    "{}: `auto.offset.reset = {other}` has no counterpart; `start` stays `latest`",
                    r.what
                ),
            ),
        }
    }
    if let Some(ms) = r.count(report, "kafka.consumer.session.timeout.ms") {
        d.set("session_timeout", values::duration_ms(ms));
    }
    if let Some(id) = r.string("kafka.consumer.group.instance.id") {
        d.set("instance", id);
    }
    d.set(
        "batch_size",
        values::int(r.int(report, "batchSize").unwrap_or(1000)),
    );
    d.set(
        "batch_timeout",
        values::duration_ms(r.count(report, "batchDurationMillis").unwrap_or(1000)),
    );
    if r.bool(report, "useFlumeEventFormat") == Some(true) {
        report.push_at(
            Level::Error,
            r.line_of("useFlumeEventFormat"),
            "no-counterpart",
            format!(
                "{}: records in Flume's Avro event format are not decoded",
                r.what
            ),
        );
    }
    kafka_security(r, report, &mut d, "kafka.consumer.");
    if r.bool(report, "setTopicHeader") == Some(false) {
        report.push_at(Level::Warning, r.line_of("setTopicHeader"), "behaviour-change", format!("{}: Sluice always sets the `topic` header; add a `remove_header` transform if it must go", r.what));
    }
    r.consume(&["topicHeader"]);
    report.leftovers(
        r,
        &[
            "backoffSleepIncrement",
            "maxBackoffSleep",
            "zookeeperConnect",
            "migrateZookeeperOffsets",
            "header.*",
            "kafka.consumer.*",
            "timestampHeader",
        ],
    );
    vec![SourceOut {
        replayable: true,
        ..SourceOut::new(d)
    }]
}

/// Kafka's `security.protocol`, SASL and SSL settings under `prefix` → `tls`/`sasl`.
pub fn kafka_security(r: &Reader, report: &mut Report, d: &mut Decl, prefix: &str) {
    let key = |k: &str| format!("{prefix}{k}");
    let protocol = r
        .text(report, &key("security.protocol"))
        .unwrap_or_else(|| "PLAINTEXT".to_owned())
        .to_ascii_uppercase();
    let ssl = protocol.contains("SSL");
    if ssl {
        let mut tls = Vec::new();
        if r.has(&key("ssl.truststore.location")) {
            tls.push("ca = \"/etc/sluice/tls/kafka-ca.pem\"".to_owned());
            report.push_at(Level::Warning, r.line_of(&key("ssl.truststore.location")), "manual-step", format!(
                "{}: convert the truststore to a PEM CA file (`keytool -exportcert -rfc`) and set `tls.ca`", r.what));
        }
        if r.has(&key("ssl.keystore.location")) {
            tls.push("cert = \"/etc/sluice/tls/kafka-cert.pem\"".to_owned());
            tls.push("key = \"/etc/sluice/tls/kafka-key.pem\"".to_owned());
            report.push_at(Level::Warning, r.line_of(&key("ssl.keystore.location")), "manual-step", format!(
                "{}: convert the keystore to a PEM certificate and key and set `tls.cert` and `tls.key`", r.what));
        }
        // An empty `ssl.endpoint.identification.algorithm` never reaches Kafka: Flume
        // drops empty values. Flume's own switch is this one.
        if r.bool(report, "ssl.disableTLSHostnameVerification") == Some(true) {
            tls.push("insecure_skip_verify = true".to_owned());
            report.push_at(Level::Warning, r.line_of("type"), "security", format!("{}: host name verification was off; Sluice's `insecure_skip_verify` skips all certificate checks", r.what));
        }
        d.set("tls", format!("{{ {} }}", tls.join(", ")));
    }
    r.consume(&[
        &key("ssl.truststore.location"),
        &key("ssl.truststore.password"),
        &key("ssl.truststore.type"),
        &key("ssl.keystore.location"),
        &key("ssl.keystore.password"),
        &key("ssl.keystore.type"),
        &key("ssl.key.password"),
    ]);
    if protocol.starts_with("SASL") {
        let mechanism = r
            .text(report, &key("sasl.mechanism"))
            .unwrap_or_else(|| "GSSAPI".to_owned());
        let mech = match mechanism.as_str() {
            "PLAIN" => Some("plain"),
            "SCRAM-SHA-256" => Some("scram_sha256"),
            "SCRAM-SHA-512" => Some("scram_sha512"),
            _ => None,
        };
        match mech {
            Some(m) => {
                let jaas = r.text(report, &key("sasl.jaas.config")).unwrap_or_default();
                let user = jaas_field(&jaas, "username").unwrap_or_else(|| {
                    report.push_at(Level::Warning, r.line_of(&key("sasl.jaas.config")), "manual-step", format!(
                        "{}: no `username=\"…\"` found in the JAAS configuration; set `sasl.username`", r.what));
                    "USER".to_owned()
                });
                let var = format!("{}_KAFKA_PASSWORD", d.name.to_ascii_uppercase());
                d.set("sasl", format!("{{ mechanism = \"{m}\", username = {}, password = env({}) }}", values::string(&user), values::string(&var)));
                report.push_at(Level::Warning, r.line_of(&key("sasl.jaas.config")), "secret", format!("{}: the SASL password is read from the environment variable `{var}`; export it before starting the agent", r.what));
            }
            None => report.push_at(Level::Error, r.line_of(&key("sasl.mechanism")), "no-counterpart", format!(
                "{}: SASL mechanism `{mechanism}` (Kerberos) is not supported; Sluice speaks PLAIN and SCRAM", r.what)),
        }
        r.consume(&[&key("sasl.kerberos.service.name"), &key("sasl.jaas.config")]);
    }
}

/// `field="value"` (spaces allowed around `=`) in a JAAS configuration line.
fn jaas_field(jaas: &str, field: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r#"\b{}\s*=\s*"([^"]*)""#, regex::escape(field))).ok()?;
    Some(re.captures(jaas)?.get(1)?.as_str().to_owned())
}

/// `["a", "b"]` from comma-separated text, trimmed, empty parts left out.
pub fn string_list<'s>(parts: impl Iterator<Item = &'s str>) -> String {
    let items: Vec<String> = parts
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(values::string)
        .collect();
    format!("[{}]", items.join(", "))
}

fn glob_escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut out, c| {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

/// A Java regex full-matched against file names → an equivalent glob, for the simple
/// forms (`.*`, `.+`, literals, escaped literals, `[...]` classes). `None` otherwise.
pub fn regex_to_glob(re: &str) -> Option<String> {
    let re = re.strip_prefix('^').unwrap_or(re);
    let re = re
        .strip_suffix('$')
        .filter(|r| !r.ends_with('\\'))
        .unwrap_or(re);
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '.' if next == Some('*') => {
                out.push('*');
                i += 2;
            }
            '.' if next == Some('+') => {
                out.push_str("?*");
                i += 2;
            }
            '.' => {
                out.push('?');
                i += 1;
            }
            '\\' => {
                let lit = next?;
                if lit.is_ascii_alphanumeric() {
                    return None; // \d, \w, \s …
                }
                out.push_str(&glob_escape(&lit.to_string()));
                i += 2;
            }
            '[' => {
                let end = chars[i..].iter().position(|c| *c == ']')? + i;
                let class: String = chars[i + 1..end].iter().collect();
                if class.contains('\\') || class.contains('[') {
                    return None;
                }
                let class = class
                    .strip_prefix('^')
                    .map_or(class.clone(), |c| format!("!{c}"));
                out.push_str(&format!("[{class}]"));
                i = end + 1;
            }
            '*' | '+' | '?' | '(' | ')' | '|' | '{' | '}' | '^' | '$' => return None,
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::regex_to_glob;

    #[test]
    fn simple_regexes_become_globs() {
        assert_eq!(regex_to_glob(".*log.*").as_deref(), Some("*log*"));
        assert_eq!(regex_to_glob("^app\\.log$").as_deref(), Some("app.log"));
        assert_eq!(regex_to_glob("example.log").as_deref(), Some("example?log"));
        assert_eq!(regex_to_glob("[^.].+\\.gz").as_deref(), Some("[!.]?*.gz"));
        assert_eq!(regex_to_glob("a(b|c)"), None);
        assert_eq!(regex_to_glob("\\d+"), None);
    }
}
