//! Writing an event as a line of text in a sink's `format`.

use super::TextFormat;
use crate::event::Event;

/// Appends `event` in `format` to `out`, with a trailing newline.
pub fn write_line(out: &mut Vec<u8>, event: &Event, format: TextFormat) {
    match format {
        TextFormat::Text => out.extend_from_slice(&event.body),
        TextFormat::Json => {
            out.extend_from_slice(b"{\"headers\":{");
            for (i, (k, v)) in event.headers.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_string(out, k);
                out.push(b':');
                json_string(out, v);
            }
            out.extend_from_slice(b"},\"body\":");
            json_string(out, &event.body_text());
            out.push(b'}');
        }
        TextFormat::HeaderAndText => {
            out.push(b'{');
            for (i, (k, v)) in event.headers.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                out.extend_from_slice(k.as_bytes());
                out.push(b'=');
                out.extend_from_slice(v.as_bytes());
            }
            out.extend_from_slice(b"} ");
            out.extend_from_slice(&event.body);
        }
    }
    out.push(b'\n');
}

/// A JSON string literal. Runs of characters that need no escape are copied whole.
pub fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let mut e = Event::new("a \"b\"");
        e.headers.set("k", "v");
        let mut out = Vec::new();
        write_line(&mut out, &e, TextFormat::Json);
        write_line(&mut out, &e, TextFormat::HeaderAndText);
        write_line(&mut out, &e, TextFormat::Text);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"headers\":{\"k\":\"v\"},\"body\":\"a \\\"b\\\"\"}\n{k=v} a \"b\"\na \"b\"\n"
        );
    }

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls_and_keep_unicode() {
        let mut out = Vec::new();
        json_string(&mut out, "tab\there \"q\" back\\slash\nnew \u{1} ünï €");
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, r#""tab\there \"q\" back\\slash\nnew \u0001 ünï €""#);
        let parsed: String = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, "tab\there \"q\" back\\slash\nnew \u{1} ünï €");
    }
}
