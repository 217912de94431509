//! Flume interceptors → Sluice transforms (docs/design/flume-import-mapping.md §2.4).

use super::translate::{Decl, Reader, Report};
use super::values;
use super::Level;

/// Translates one interceptor into a transform named `name`; `None` when Sluice has no
/// counterpart or nothing to do (reported).
pub fn translate(r: &Reader, name: &str, report: &mut Report) -> Option<Decl> {
    let Some(kind) = r.prop("type").map(|p| p.value.clone()) else {
        report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `type`; Flume refuses the source", r.what),
        );
        return None;
    };
    // Aliases match case-insensitively; the builder classes are named in full.
    // A class name counts only when it is Flume's own (`com.acme.HostInterceptor` is not).
    let flume_class = !kind.contains('.') || kind.starts_with("org.apache.flume.");
    let short = if flume_class {
        kind.rsplit('.')
            .next()
            .unwrap_or(&kind)
            .trim_end_matches("$Builder")
            .to_ascii_lowercase()
    } else {
        String::new()
    };
    let mut d = match short.as_str() {
        "timestamp" | "timestampinterceptor" => {
            let mut d = Decl::new("transform", name, "timestamp");
            if let Some(h) = r.string("headerName") {
                d.set("header", h);
            }
            if r.bool(report, "preserveExisting") == Some(true) {
                d.set("preserve", "true");
            }
            d
        }
        "host" | "hostinterceptor" => {
            let mut d = Decl::new("transform", name, "host");
            if let Some(h) = r.string("hostHeader") {
                d.set("header", h);
            }
            let use_ip = r.bool(report, "useIP").unwrap_or(true);
            d.set("use_ip", if use_ip { "true" } else { "false" });
            if r.bool(report, "preserveExisting") == Some(true) {
                d.set("preserve", "true");
            }
            d
        }
        "static" | "staticinterceptor" => {
            let mut d = Decl::new("transform", name, "static");
            d.set(
                "key",
                r.string("key").unwrap_or_else(|| "\"key\"".to_owned()),
            );
            d.set(
                "value",
                r.string("value").unwrap_or_else(|| "\"value\"".to_owned()),
            );
            if r.bool(report, "preserveExisting") == Some(false) {
                d.set("preserve", "false");
            }
            d
        }
        "remove_header" | "removeheaderinterceptor" => remove_header(r, name, report)?,
        "uuidinterceptor" => {
            let mut d = Decl::new("transform", name, "uuid");
            if let Some(h) = r.string("headerName") {
                d.set("header", h);
            }
            if r.bool(report, "preserveExisting") == Some(false) {
                d.set("preserve", "false");
            }
            if r.text(report, "prefix").is_some_and(|p| !p.is_empty()) {
                report.push_at(
                    Level::Error,
                    r.line_of("prefix"),
                    "no-counterpart",
                    format!("{}: a prefix before the UUID is not available", r.what),
                );
            }
            d
        }
        "regex_filter" | "regexfilteringinterceptor" => {
            let mut d = Decl::new("transform", name, "regex_filter");
            let re = r.text(report, "regex").unwrap_or_else(|| ".*".to_owned());
            d.set("regex", regex(r, report, "regex", &re));
            if r.bool(report, "excludeEvents") == Some(true) {
                d.set("exclude", "true");
            }
            d
        }
        "regex_extractor" | "regexextractorinterceptor" => regex_extractor(r, name, report)?,
        "search_replace" | "searchandreplaceinterceptor" => {
            let mut d = Decl::new("transform", name, "search_replace");
            let Some(search) = r.text(report, "searchPattern") else {
                report.push_at(
                    Level::Error,
                    r.line_of("type"),
                    "missing-property",
                    format!("{} has no `searchPattern`; Flume refuses it", r.what),
                );
                return None;
            };
            d.set("search", regex(r, report, "searchPattern", &search));
            let replace = r.text(report, "replaceString").unwrap_or_default();
            d.set("replace", values::string(&java_replacement(&replace)));
            r.consume(&["charset"]);
            d
        }
        _ => {
            let why = if short.contains("morphline") {
                "Morphline is not available; express the steps as transforms (`set`, `json_extract`, `filter`)".to_owned()
            } else {
                format!("`{kind}` has no Sluice counterpart; write it as a transform component of your own (`sluice new component --role transform`)")
            };
            report.not_imported(r, &why);
            return None;
        }
    };
    d.notes.clear();
    report.leftovers(r, &[]);
    Some(d)
}

/// A Java regex as a Sluice regex literal; reports what the Rust engine refuses and the
/// backslashes the properties syntax ate.
fn regex(r: &Reader, report: &mut Report, key: &str, re: &str) -> String {
    if let Some(prop) = r.prop(key) {
        if prop.lost_backslash {
            report.push(Level::Warning, prop, "trap", format!(
                "{} `{key}`: a single backslash before a character that is not a properties escape vanished when Flume read the file (`\\d` became `d`); the import keeps what Flume used: `{re}`. Double the backslashes in the original if that was not meant", r.what));
        }
    }
    if let Err(e) = regex::Regex::new(re) {
        report.push_at(Level::Error, r.line_of(key), "invalid-value", format!(
            "{} `{key}` = `{re}` is not a regex Sluice's engine accepts (no look-around or back-references): {}", r.what, e.to_string().lines().last().unwrap_or("")));
    }
    values::regex(re)
}

/// Java's `replaceAll` replacement (`$1`, `\$`) → the regex crate's (`${1}`, `$$`).
pub fn java_replacement(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => {}
            },
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    n.push(d);
                    chars.next();
                }
                out.push_str(&format!("${{{n}}}"));
            }
            c => out.push(c),
        }
    }
    out
}

fn remove_header(r: &Reader, name: &str, report: &mut Report) -> Option<Decl> {
    let mut d = Decl::new("transform", name, "remove_header");
    let mut alternatives = Vec::new();
    if let Some(m) = r.text(report, "matching") {
        alternatives.push(m);
    }
    if let Some(list) = r.text(report, "fromList") {
        let sep = r
            .text(report, "fromListSeparator")
            .unwrap_or_else(|| r"\s*,\s*".to_owned());
        match regex::Regex::new(&sep) {
            Ok(sep) => alternatives.extend(
                sep.split(&list)
                    .filter(|s| !s.is_empty())
                    .map(regex::escape),
            ),
            Err(_) => report.push_at(
                Level::Error,
                r.line_of("fromListSeparator"),
                "invalid-value",
                format!(
                    "{}: `fromListSeparator` is not a regex Sluice accepts",
                    r.what
                ),
            ),
        }
    }
    let with_name = r.string("withName");
    if with_name.is_none() && alternatives.is_empty() {
        report.push_at(
            Level::Note,
            r.line_of("type"),
            "not-carried-over",
            format!(
                "{} names no header to remove (Flume then does nothing); left out",
                r.what
            ),
        );
        return None;
    }
    if let Some(n) = with_name {
        d.set("name", n);
    }
    if !alternatives.is_empty() {
        // Flume matches whole header names.
        let re = format!("^(?:{})$", alternatives.join("|"));
        d.set("regex", values::regex(&re));
    }
    Some(d)
}

fn regex_extractor(r: &Reader, name: &str, report: &mut Report) -> Option<Decl> {
    let mut d = Decl::new("transform", name, "regex_extractor");
    let Some(re) = r.text(report, "regex") else {
        report.push_at(
            Level::Error,
            r.line_of("type"),
            "missing-property",
            format!("{} has no `regex`", r.what),
        );
        return None;
    };
    let serializers: Vec<String> = r
        .text(report, "serializers")
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let mut names = Vec::new();
    for s in &serializers {
        match r.text(report, &format!("serializers.{s}.type")) {
            None => {}
            Some(t) if t == "DEFAULT" => {}
            Some(t) if t.contains("MillisSerializer") => {
                report.push_at(Level::Error, r.line_of(&format!("serializers.{s}.type")), "no-counterpart", format!(
                    "{}: serializer `{s}` turns a date into milliseconds; Sluice's transforms cannot parse dates", r.what));
                r.consume(&[&format!("serializers.{s}.pattern")]);
            }
            Some(t) => report.push_at(Level::Error, r.line_of(&format!("serializers.{s}.type")), "no-counterpart", format!(
                "{}: serializer `{s}` has type `{t}`; only `DEFAULT` (uppercase, as Flume checks it) is available", r.what)),
        }
        match r.string(&format!("serializers.{s}.name")) {
            Some(n) => names.push(n),
            None => report.push_at(
                Level::Error,
                r.line_of("serializers"),
                "missing-property",
                format!("{}: serializer `{s}` has no `name`", r.what),
            ),
        }
    }
    let groups = regex::Regex::new(&re).map(|c| c.captures_len() - 1).ok();
    let literal = regex(r, report, "regex", &re);
    match groups {
        Some(g) if g < names.len() => {
            report.push_at(Level::Warning, r.line_of("serializers"), "not-carried-over", format!(
                "{}: {} serializers for {g} groups; Flume ignored the extra ones, and so does the import", r.what, names.len()));
            names.truncate(g);
        }
        Some(g) if g > names.len() => report.push_at(Level::Error, r.line_of("serializers"), "invalid-value", format!(
            "{}: the regex has {g} groups but {} serializers name them; Sluice needs a name per group: make the extra groups non-capturing `(?:…)`", r.what, names.len())),
        _ => {}
    }
    d.set("regex", literal);
    d.set("names", format!("[{}]", names.join(", ")));
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::java_replacement;

    #[test]
    fn replacement_syntax() {
        assert_eq!(
            java_replacement("The hungry $2 ate $1"),
            "The hungry ${2} ate ${1}"
        );
        assert_eq!(java_replacement(r"cost \$5"), "cost $$5");
        assert_eq!(java_replacement("$1a"), "${1}a");
    }
}
