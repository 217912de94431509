//! Writing Flume values as Sluice values: strings, raw-string regexes, durations and
//! sizes in their largest exact unit, identifiers for component names.

/// A string literal, escaped for the `.flow` lexer.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A regex as a raw string (`r"…"`, with as many `#` as it needs); a regex holding a
/// newline or control character is written as an ordinary string.
pub fn regex(s: &str) -> String {
    if s.chars().any(|c| c.is_control()) {
        return string(s);
    }
    let mut hashes = 0;
    while s.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let h = "#".repeat(hashes);
    format!("r{h}\"{s}\"{h}")
}

/// Milliseconds as a duration in the largest unit that divides them exactly.
pub fn duration_ms(ms: u64) -> String {
    // The `.flow` lexer reads amounts as i64: larger is "for ever" anyway.
    let ms = ms.min(i64::MAX as u64);
    if ms == 0 {
        return "0s".to_owned();
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// Bytes as a size in the largest binary, then decimal, unit that divides them exactly.
pub fn size(bytes: u64) -> String {
    let bytes = bytes.min(i64::MAX as u64);
    if bytes == 0 {
        return "0B".to_owned();
    }
    for (unit, size) in [
        ("GiB", 1u64 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("GB", 1_000_000_000),
        ("MB", 1_000_000),
        ("KB", 1000),
    ] {
        if bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes}B")
}

/// An integer with `_` between thousands, as `sluice fmt` writes them.
pub fn int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Words the `.flow` grammar reserves; a Flume name equal to one gets a `_` suffix.
const RESERVED: &[&str] = &[
    "agent",
    "use",
    "source",
    "channel",
    "sink",
    "transform",
    "group",
    "flow",
    "route",
    "drop",
    "env",
    "body",
    "true",
    "false",
    "null",
];

/// A Flume component name as a Sluice identifier: every character outside
/// `[A-Za-z0-9_]` becomes `_`, a leading digit gets a `_` before it.
pub fn ident(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if RESERVED.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// A header reference: `.name`, or `."x-y"` for a name that is not an identifier.
pub fn header(name: &str) -> String {
    let plain = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&name);
    if plain {
        format!(".{name}")
    } else {
        format!(".{}", string(name))
    }
}

/// A string inside a Sluice template (`file_roll.dir`, `kafka.topic`): `%` doubled, the
/// escapes a caller keeps are written back by the caller.
pub fn template_literal(s: &str) -> String {
    s.replace('%', "%%")
}

/// A string inside a Sluice template where Flume also expands `%{header}`: those are
/// kept, every other `%` doubled.
pub fn template_keeping_headers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match (tail.starts_with("%{"), tail.find('}')) {
            (true, Some(end)) => {
                out.push_str(&tail[..=end]);
                rest = &tail[end + 1..];
            }
            _ => {
                out.push_str("%%");
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `host:port`, with an IPv6 address in brackets.
pub fn host_port(host: &str, port: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A comment line's text: control characters (which would end the comment) become spaces.
pub fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(duration_ms(30_000), "30s");
        assert_eq!(duration_ms(1500), "1500ms");
        assert_eq!(duration_ms(600_000), "10m");
        assert_eq!(size(1024), "1KiB");
        assert_eq!(size(524_288_000), "500MiB");
        assert_eq!(size(2500), "2500B");
        assert_eq!(size(640_000), "625KiB");
        assert_eq!(int(1_000_000), "1_000_000");
        assert_eq!(int(100), "100");
    }

    #[test]
    fn names_and_literals() {
        assert_eq!(ident("avro-appserver-src-1"), "avro_appserver_src_1");
        assert_eq!(ident("1st"), "_1st");
        assert_eq!(ident("drop"), "drop_");
        assert_eq!(header("State"), ".State");
        assert_eq!(header("x-y"), ".\"x-y\"");
        assert_eq!(regex(r#"a"b"#), r###"r#"a"b"#"###);
        assert_eq!(regex(r"(\d+)"), r#"r"(\d+)""#);
        assert_eq!(string("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(
            template_keeping_headers("logs-%{app}-100%"),
            "logs-%{app}-100%%"
        );
        assert_eq!(host_port("::1", "9"), "[::1]:9");
        assert_eq!(comment("a\nb\rc"), "a b c");
    }
}
