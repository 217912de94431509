//! Rows of a table from events: each column's value taken from a header, the body, a
//! field of the body parsed as JSON, or the event time, and converted to the column's
//! type.
//!
//! A value that is missing (no such header or field, JSON `null`) is written as null. A
//! value that does not convert (`"abc"` for an `int`) is written as null too, and
//! counted, so a bad producer shows in the metrics instead of stopping the sink.

use std::borrow::Cow;

use serde_json::Value as Json;
use sluice_core::column::{ColumnSource, ColumnSpec, ColumnType};

use crate::event::Event;

/// One value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    Null,
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Unix milliseconds.
    Timestamp(i64),
}

/// A table's columns, in order.
#[derive(Clone, Debug)]
pub struct Table {
    pub columns: Vec<(String, ColumnSpec)>,
    /// Whether any column reads the body as JSON (parsed once per event then).
    json: bool,
}

impl Table {
    pub fn new(columns: Vec<(String, ColumnSpec)>) -> Table {
        let json = columns
            .iter()
            .any(|(_, c)| matches!(c.source, ColumnSource::Json(_)));
        Table { columns, json }
    }

    /// The columns written when a flow gives no schema: the event time and the body.
    pub fn default_columns() -> Table {
        Table::new(vec![
            (
                "timestamp".into(),
                ColumnSpec {
                    ty: ColumnType::Timestamp,
                    source: ColumnSource::Time,
                },
            ),
            (
                "body".into(),
                ColumnSpec {
                    ty: ColumnType::String,
                    source: ColumnSource::Body,
                },
            ),
        ])
    }

    /// Fills `row` with `event`'s values (`time` is its event time in Unix ms); returns
    /// how many values did not convert to their column's type.
    pub fn row<'e>(&self, event: &'e Event, time: i64, row: &mut Vec<Cell<'e>>) -> u64 {
        row.clear();
        let json = if self.json {
            serde_json::from_slice::<Json>(&event.body).ok()
        } else {
            None
        };
        let mut invalid = 0;
        for (_, spec) in &self.columns {
            let cell = match &spec.source {
                ColumnSource::Header(name) => match event.headers.get(name) {
                    Some(text) => from_text(Cow::Borrowed(text), spec.ty),
                    None => Some(Cell::Null),
                },
                ColumnSource::Body => from_text(event.body_text(), spec.ty),
                ColumnSource::Time => from_millis(time, spec.ty),
                ColumnSource::Json(path) => {
                    let field = path
                        .iter()
                        .try_fold(json.as_ref(), |v, key| v.map(|v| v.get(key)))
                        .flatten();
                    match field {
                        None | Some(Json::Null) => Some(Cell::Null),
                        Some(v) => from_json(v, spec.ty),
                    }
                }
            };
            row.push(cell.unwrap_or_else(|| {
                invalid += 1;
                Cell::Null
            }));
        }
        invalid
    }
}

/// Text converted to `ty`; `None` when it does not convert.
fn from_text(text: Cow<'_, str>, ty: ColumnType) -> Option<Cell<'_>> {
    let trimmed = text.trim();
    Some(match ty {
        ColumnType::String => Cell::Str(text),
        ColumnType::Int => Cell::Int(trimmed.parse().ok()?),
        ColumnType::Float => Cell::Float(trimmed.parse().ok().filter(|f: &f64| f.is_finite())?),
        ColumnType::Bool => Cell::Bool(match trimmed {
            "true" | "TRUE" | "True" | "1" => true,
            "false" | "FALSE" | "False" | "0" => false,
            _ => return None,
        }),
        ColumnType::Timestamp => Cell::Timestamp(parse_time(trimmed)?),
    })
}

/// Unix milliseconds converted to `ty`.
fn from_millis(ms: i64, ty: ColumnType) -> Option<Cell<'static>> {
    Some(match ty {
        ColumnType::Timestamp => Cell::Timestamp(ms),
        ColumnType::Int => Cell::Int(ms),
        ColumnType::Float => Cell::Float(ms as f64),
        ColumnType::String => Cell::Str(Cow::Owned(rfc3339(ms))),
        ColumnType::Bool => return None,
    })
}

/// A JSON value converted to `ty`.
fn from_json(value: &Json, ty: ColumnType) -> Option<Cell<'static>> {
    match (value, ty) {
        (Json::String(s), _) => from_text(Cow::Borrowed(s.as_str()), ty).map(owned),
        (Json::Bool(b), ColumnType::Bool) => Some(Cell::Bool(*b)),
        (Json::Number(n), ColumnType::Int) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                    .map(|f| f as i64)
            })
            .map(Cell::Int),
        (Json::Number(n), ColumnType::Float) => n.as_f64().map(Cell::Float),
        (Json::Number(n), ColumnType::Timestamp) => n.as_i64().map(Cell::Timestamp),
        (_, ColumnType::String) => Some(Cell::Str(Cow::Owned(value.to_string()))),
        _ => None,
    }
}

fn owned(cell: Cell<'_>) -> Cell<'static> {
    match cell {
        Cell::Str(s) => Cell::Str(Cow::Owned(s.into_owned())),
        Cell::Null => Cell::Null,
        Cell::Int(n) => Cell::Int(n),
        Cell::Float(f) => Cell::Float(f),
        Cell::Bool(b) => Cell::Bool(b),
        Cell::Timestamp(t) => Cell::Timestamp(t),
    }
}

pub use crate::time::{parse_time, rfc3339};

#[cfg(test)]
mod tests {
    use super::*;

    fn table(specs: &[(&str, &str)]) -> Table {
        Table::new(
            specs
                .iter()
                .map(|(n, s)| (n.to_string(), sluice_core::column::parse(n, s).unwrap()))
                .collect(),
        )
    }

    #[test]
    fn values_convert_or_become_null_and_counted() {
        let t = table(&[
            ("status", "int"),
            ("ms", "float body.req.ms"),
            ("ok", "bool .ok"),
            ("at", "timestamp .at"),
            ("msg", "string body.msg"),
            ("missing", "string"),
            ("time", "timestamp time"),
        ]);
        let mut e = Event::new(r#"{"req":{"ms":12.5},"msg":"hi"}"#);
        e.headers.set("status", "200");
        e.headers.set("ok", "true");
        e.headers.set("at", "2024-02-29T23:59:58.123Z");
        let mut row = Vec::new();
        assert_eq!(t.row(&e, 5, &mut row), 0);
        assert_eq!(
            row,
            vec![
                Cell::Int(200),
                Cell::Float(12.5),
                Cell::Bool(true),
                Cell::Timestamp(1_709_251_198_123),
                Cell::Str("hi".into()),
                Cell::Null,
                Cell::Timestamp(5),
            ]
        );
        let mut bad = Event::new("not json");
        bad.headers.set("status", "abc");
        bad.headers.set("ok", "maybe");
        bad.headers.set("at", "yesterday");
        assert_eq!(t.row(&bad, 5, &mut row), 3);
        assert_eq!(
            row[..5],
            [Cell::Null, Cell::Null, Cell::Null, Cell::Null, Cell::Null]
        );
        assert_eq!(rfc3339(1_709_251_198_123), "2024-02-29T23:59:58.123Z");
    }
}
