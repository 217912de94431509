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

/// A JSON string literal.
pub fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
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
}
