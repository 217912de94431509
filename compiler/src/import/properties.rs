//! Reads a Java properties file the way Flume does (`java.util.Properties.load`, then
//! Flume's trim of each value): comments, continuation lines, the three separators,
//! backslash escapes and `\uXXXX`, the last occurrence of a key winning.

/// One `key = value` pair as Flume sees it, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub key: String,
    /// The value after unescaping and Flume's `trim()`.
    pub value: String,
    /// 1-based line of the key (the first line of a continued entry).
    pub line: usize,
    /// Index of the input file, for configurations spread over several files.
    pub file: usize,
    /// A `\` before a character that is not an escape vanished (`\d` became `d`).
    pub lost_backslash: bool,
}

/// A problem in the properties syntax itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxProblem {
    pub line: usize,
    pub message: String,
}

/// The properties of one file, in the order written (later duplicates included), and
/// the problems found while reading them.
#[derive(Debug, Default)]
pub struct Parsed {
    pub properties: Vec<Property>,
    pub problems: Vec<SyntaxProblem>,
    /// Bytes at or above 0x80 were seen (Flume 1.10+ reads the file as ISO-8859-1).
    pub non_ascii_line: Option<usize>,
}

/// Decodes the file: UTF-8 when it is valid UTF-8 (what the author wrote), else ISO-8859-1
/// (what Flume 1.10+ reads). The caller warns when `non_ascii_line` is set.
pub fn decode(bytes: &[u8]) -> (String, Option<usize>) {
    let first_high = bytes.iter().position(|b| *b >= 0x80);
    let line = first_high.map(|at| 1 + bytes[..at].iter().filter(|b| **b == b'\n').count());
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), line),
        Err(_) => (bytes.iter().map(|b| char::from(*b)).collect(), line),
    }
}

/// Parses the text of one file (`file` is its index among the inputs).
pub fn parse(bytes: &[u8], file: usize) -> Parsed {
    let (text, non_ascii_line) = decode(bytes);
    let mut parsed = Parsed {
        non_ascii_line,
        ..Parsed::default()
    };
    let lines = split_natural_lines(&text);
    let mut index = 0;
    while index < lines.len() {
        let first = index;
        let start = lines[index].trim_start_matches([' ', '\t', '\u{c}']);
        index += 1;
        if start.is_empty() || start.starts_with('#') || start.starts_with('!') {
            continue;
        }
        // Join continuation lines: a natural line ending in an odd number of
        // backslashes continues (counted per natural line, as Java does).
        let mut logical = String::new();
        let mut natural = start;
        loop {
            if !ends_with_odd_backslashes(natural) {
                logical.push_str(natural);
                break;
            }
            logical.push_str(&natural[..natural.len() - 1]);
            match lines.get(index) {
                Some(next) => {
                    natural = next.trim_start_matches([' ', '\t', '\u{c}']);
                    index += 1;
                }
                None => break,
            }
        }
        match split_entry(&logical) {
            Ok((key, value, lost_backslash)) => {
                if value.is_empty() {
                    parsed.problems.push(SyntaxProblem {
                        line: first + 1,
                        message: format!(
                            "`{key}` has an empty value, which Flume drops (\"Empty values are not supported\"); the component's default applies"
                        ),
                    });
                    // Kept: as the last occurrence of its key it still hides earlier ones.
                }
                parsed.properties.push(Property {
                    key,
                    value,
                    line: first + 1,
                    file,
                    lost_backslash,
                });
            }
            Err(message) => parsed.problems.push(SyntaxProblem {
                line: first + 1,
                message,
            }),
        }
    }
    parsed
}

/// Natural lines end at `\n`, `\r` or `\r\n`.
fn split_natural_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(at) => {
                lines.push(&rest[..at]);
                let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[at + skip..];
            }
            None => {
                lines.push(rest);
                rest = "";
            }
        }
    }
    lines
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.chars().rev().take_while(|c| *c == '\\').count() % 2 == 1
}

/// Splits a logical line into its unescaped key and value (the value trimmed as Flume
/// does), and whether a backslash vanished from the value.
fn split_entry(line: &str) -> Result<(String, String, bool), String> {
    let chars: Vec<char> = line.chars().collect();
    let mut at = 0;
    let mut escaped = false;
    while at < chars.len() {
        let c = chars[at];
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if matches!(c, '=' | ':' | ' ' | '\t' | '\u{c}') {
            break;
        }
        at += 1;
    }
    let raw_key: String = chars[..at].iter().collect();
    let mut rest = &chars[at..];
    while let Some((c, tail)) = rest.split_first() {
        if matches!(c, ' ' | '\t' | '\u{c}') {
            rest = tail;
        } else {
            break;
        }
    }
    if let Some((c, tail)) = rest.split_first() {
        if matches!(c, '=' | ':') {
            rest = tail;
        }
    }
    while let Some((c, tail)) = rest.split_first() {
        if matches!(c, ' ' | '\t' | '\u{c}') {
            rest = tail;
        } else {
            break;
        }
    }
    let raw_value: String = rest.iter().collect();
    let (key, _) = unescape(&raw_key)?;
    let (value, lost) = unescape(&raw_value)?;
    Ok((key, java_trim(&value).to_owned(), lost))
}

/// Java's `String.trim()`: strips every character up to U+0020 at both ends.
pub fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// Applies the properties escapes: `\t \n \r \f`, `\uXXXX`, and `\` + any other
/// character gives that character.
fn unescape(raw: &str) -> Result<(String, bool), String> {
    let mut out = String::with_capacity(raw.len());
    let mut lost = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4)
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| format!("malformed \\uxxxx escape `\\u{hex}`"))?;
                // A lone surrogate half cannot be a `char`; Java would keep it.
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            Some(other) => {
                if !matches!(other, '\\' | '=' | ':' | ' ' | '#' | '!' | '"' | '\'') {
                    lost = true;
                }
                out.push(other);
            }
            None => {}
        }
    }
    Ok((out, lost))
}

/// Writes a key and value so that [`parse`] reads them back unchanged (used by tests).
pub fn escape_entry(key: &str, value: &str) -> String {
    fn esc(s: &str, is_key: bool) -> String {
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\u{c}' => out.push_str("\\f"),
                '=' | ':' | '#' | '!' => {
                    out.push('\\');
                    out.push(c);
                }
                ' ' if is_key || i == 0 => out.push_str("\\ "),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
                c => out.push(c),
            }
        }
        out
    }
    format!("{} = {}", esc(key, true), esc(value, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text.as_bytes(), 0)
            .properties
            .into_iter()
            .map(|p| (p.key, p.value))
            .collect()
    }

    #[test]
    fn separators_comments_and_continuations() {
        let text = "# comment\n! also\n  a.b = 1\na.c:2\na.d 3\na.e = = x\n\
                    a.f = one \\\n    two\na.g = keep # this\n# cont \\\na.h=4\n";
        assert_eq!(
            pairs(text),
            [
                ("a.b", "1"),
                ("a.c", "2"),
                ("a.d", "3"),
                ("a.e", "= x"),
                ("a.f", "one two"),
                ("a.g", "keep # this"),
                ("a.h", "4"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn escapes_and_lost_backslashes() {
        let parsed = parse(br"a.r = (\\d):(\d) \u0041\t", 0);
        let p = &parsed.properties[0];
        assert_eq!(p.value, "(\\d):(d) A");
        assert!(p.lost_backslash);
        assert!(!parse(br"a.r = \\d", 0).properties[0].lost_backslash);
        assert!(parse(br"a.r = \u00zz", 0).problems[0]
            .message
            .contains("malformed"));
    }

    #[test]
    fn empty_values_are_kept_with_a_problem() {
        let parsed = parse(b"a.x =\na.y = 1\n", 0);
        assert_eq!(parsed.properties.len(), 2);
        assert_eq!(parsed.properties[0].value, "");
        assert_eq!(parsed.problems[0].line, 1);
    }

    #[test]
    fn line_endings_and_latin1() {
        assert_eq!(pairs("a.b=1\r\na.c=2\ra.d=3").len(), 3);
        let parsed = parse(b"a.b = caf\xe9\n", 0);
        assert_eq!(parsed.properties[0].value, "caf\u{e9}");
        assert_eq!(parsed.non_ascii_line, Some(1));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_parse_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse(&bytes, 0);
        }

        #[test]
        fn escaped_entries_read_back(
            key in "[a-z.\\-_ =:#\\\\]{1,12}",
            value in "[ -~\\t\\n]{1,24}",
        ) {
            let line = escape_entry(&key, &value);
            let parsed = parse(line.as_bytes(), 0);
            proptest::prop_assert_eq!(parsed.properties.len(), 1);
            if let Some(p) = parsed.properties.first() {
                proptest::prop_assert_eq!(&p.key, &key);
                proptest::prop_assert_eq!(&p.value, java_trim(&value));
            }
        }
    }
}
