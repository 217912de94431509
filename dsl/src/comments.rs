//! Finds comments in source text. Comments are invisible to the grammar (pest skips them),
//! but the formatter must keep every one, so they are collected by this separate scan,
//! which knows enough about strings not to mistake `"#"` or `r"//"` for a comment.

use crate::ast::{Comment, Span};

/// Every `#` and `//` comment in `src`, in order, without the line break.
pub fn scan_comments(src: &str) -> Vec<Comment> {
    let bytes = src.as_bytes();
    let mut comments = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = skip_string(bytes, i),
            b'r' if starts_raw_string(bytes, i) => i = skip_raw_string(bytes, i),
            b'#' => i = take_comment(src, i, &mut comments),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = take_comment(src, i, &mut comments),
            _ => i += 1,
        }
    }
    comments
}

fn take_comment(src: &str, start: usize, out: &mut Vec<Comment>) -> usize {
    let end = src[start..].find('\n').map_or(src.len(), |n| start + n);
    let text = src[start..end].trim_end_matches('\r');
    out.push(Comment {
        text: text.trim_end().to_owned(),
        span: Span::new(start, start + text.len()),
    });
    end
}

/// Skips a `"..."` string starting at `start`; stops at a line break if it is unterminated.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `r"` or `r#"` that is not the tail of an identifier.
fn starts_raw_string(bytes: &[u8], i: usize) -> bool {
    let preceded_by_ident = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
    if preceded_by_ident {
        return false;
    }
    let mut j = i + 1;
    while bytes.get(j) == Some(&b'#') {
        j += 1;
    }
    bytes.get(j) == Some(&b'"')
}

fn skip_raw_string(bytes: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    let mut hashes = 0;
    while bytes.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    j += 1; // opening quote
    while j < bytes.len() {
        if bytes[j] == b'"'
            && bytes[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&b| b == b'#')
                .count()
                == hashes
        {
            return j + 1 + hashes;
        }
        j += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_both_comment_styles_and_ignores_strings() {
        let src = "a = \"#x\" # one\nb = r\"//\" // two\nc = r#\"a\"b\"# #three";
        let texts: Vec<_> = scan_comments(src).into_iter().map(|c| c.text).collect();
        assert_eq!(texts, ["# one", "// two", "#three"]);
    }
}
