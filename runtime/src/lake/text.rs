//! NDJSON and CSV rows.

use std::io::{self, Write};

use super::table::{rfc3339, Cell, Table};
use crate::event::Event;
use crate::sinks::format::json_string;

/// Appends `row` as one JSON object line, keyed by the table's column names.
pub fn ndjson_row(out: &mut Vec<u8>, table: &Table, row: &[Cell<'_>]) {
    out.push(b'{');
    for (i, ((name, _), cell)) in table.columns.iter().zip(row).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_string(out, name);
        out.push(b':');
        match cell {
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::Str(s) => json_string(out, s),
            Cell::Timestamp(ms) => json_string(out, &rfc3339(*ms)),
            scalar => write_scalar(out, scalar),
        }
    }
    out.extend_from_slice(b"}\n");
}

/// Appends a whole event as one flat JSON object line: each header as a string field,
/// then `body` (a header named `body` is left out: the body wins).
pub fn ndjson_event(out: &mut Vec<u8>, event: &Event) {
    out.push(b'{');
    for (name, value) in event.headers.iter().filter(|(n, _)| *n != "body") {
        json_string(out, name);
        out.push(b':');
        json_string(out, value);
        out.push(b',');
    }
    out.extend_from_slice(b"\"body\":");
    json_string(out, &event.body_text());
    out.extend_from_slice(b"}\n");
}

/// Appends the CSV header line: the column names.
pub fn csv_header(out: &mut Vec<u8>, table: &Table) {
    for (i, (name, _)) in table.columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        csv_field(out, name);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends `row` as one CSV record (RFC 4180: CRLF line ends, fields quoted when they
/// hold a comma, quote or line break; null is an empty field).
pub fn csv_row(out: &mut Vec<u8>, row: &[Cell<'_>]) {
    for (i, cell) in row.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match cell {
            Cell::Null => {}
            Cell::Str(s) => csv_field(out, s),
            Cell::Timestamp(ms) => out.extend_from_slice(rfc3339(*ms).as_bytes()),
            scalar => write_scalar(out, scalar),
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// A number or boolean, written the same in JSON and CSV (other cells write nothing).
fn write_scalar(out: &mut Vec<u8>, cell: &Cell<'_>) {
    match cell {
        Cell::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Cell::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Cell::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Cell::Null | Cell::Str(_) | Cell::Timestamp(_) => {}
    }
}

fn csv_field(out: &mut Vec<u8>, s: &str) {
    // An empty string is quoted so that it reads back as "", not as null.
    let quote = s.is_empty()
        || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        || s.starts_with(' ')
        || s.ends_with(' ');
    if !quote {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    for part in s.split('"').enumerate() {
        if part.0 > 0 {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(part.1.as_bytes());
    }
    out.push(b'"');
}

/// Writes `buf` to `out` and empties it once it holds more than `limit` bytes.
pub fn spill(buf: &mut Vec<u8>, out: &mut impl Write, limit: usize) -> io::Result<()> {
    if buf.len() >= limit {
        out.write_all(buf)?;
        buf.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let mut out = Vec::new();
        let row = [
            Cell::Str(Cow::Borrowed("plain")),
            Cell::Str(Cow::Borrowed("a,\"b\"\nc")),
            Cell::Null,
            Cell::Str(Cow::Borrowed("")),
            Cell::Int(-3),
            Cell::Float(0.5),
            Cell::Bool(false),
            Cell::Timestamp(0),
        ];
        csv_row(&mut out, &row);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "plain,\"a,\"\"b\"\"\nc\",,\"\",-3,0.5,false,1970-01-01T00:00:00.000Z\r\n"
        );
    }

    #[test]
    fn whole_events_are_flat_objects() {
        let mut e = Event::new("say \"hi\"");
        e.headers.set("host", "web-1");
        e.headers.set("body", "shadowed");
        let mut out = Vec::new();
        ndjson_event(&mut out, &e);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"host\":\"web-1\",\"body\":\"say \\\"hi\\\"\"}\n"
        );
    }
}
