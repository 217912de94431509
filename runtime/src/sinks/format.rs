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

/// A JSON string literal. Runs of characters that need no escape are copied whole; they
/// are found eight bytes at a time.
pub fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            match escape_mask(word) {
                0 => {
                    i += 8;
                    continue;
                }
                // Straight to the first byte that needs an escape.
                mask => i += (mask.trailing_zeros() / 8) as usize,
            }
        }
        let b = bytes[i];
        i += 1;
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i - 1]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Which of the eight bytes in `word` (little-endian) must be escaped in a JSON string:
/// a control character (below 0x20), `"` or `\`. The classic has-less-than and
/// has-zero-byte word tricks: zero exactly when none does, and the lowest set bit is
/// always in the first byte that does (borrows only spill into higher bytes).
fn escape_mask(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    below_space | quote | backslash
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

    proptest::proptest! {
        #[test]
        fn json_strings_read_back_as_the_same_text(s in "(?s).{0,40}", pad in 0usize..9) {
            // Padding shifts the text across the eight-byte words.
            let text = format!("{}{s}", "x".repeat(pad));
            let mut out = Vec::new();
            json_string(&mut out, &text);
            let parsed: String = serde_json::from_slice(&out).unwrap();
            proptest::prop_assert_eq!(parsed, text);
        }

        #[test]
        fn the_word_check_finds_the_first_byte_to_escape(word: [u8; 8]) {
            let first = word.iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\');
            let mask = escape_mask(u64::from_le_bytes(word));
            let found = (mask != 0).then(|| (mask.trailing_zeros() / 8) as usize);
            proptest::prop_assert_eq!(found, first);
        }
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
