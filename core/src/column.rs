//! Column specs of a table-writing sink's `schema` (`"int"`, `"string body"`,
//! `"float body.latency"`, `"timestamp time"`): the grammar the checker validates and the
//! `lake` sink reads its columns with.
//!
//! A spec is a type, optionally followed by where the value comes from:
//!
//! | source | value |
//! |---|---|
//! | (none) | the header named like the column |
//! | `.name` | header `name` |
//! | `body` | the body as text |
//! | `body.a.b` | field `b` of object `a` of the body parsed as JSON |
//! | `time` | the event time (its `timestamp` header, else when it was written) |

use std::fmt;

/// The type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    String,
    Int,
    Float,
    Bool,
    /// A point in time, stored with millisecond precision in UTC.
    Timestamp,
}

impl ColumnType {
    /// Every type, as written.
    pub const WORDS: [&'static str; 5] = ["string", "int", "float", "bool", "timestamp"];

    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Int => "int",
            ColumnType::Float => "float",
            ColumnType::Bool => "bool",
            ColumnType::Timestamp => "timestamp",
        }
    }

    fn from_word(word: &str) -> Option<ColumnType> {
        Some(match word {
            "string" => ColumnType::String,
            "int" => ColumnType::Int,
            "float" => ColumnType::Float,
            "bool" => ColumnType::Bool,
            "timestamp" => ColumnType::Timestamp,
            _ => return None,
        })
    }
}

/// Where a column's value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ColumnSource {
    Header(String),
    Body,
    /// A field of the body parsed as JSON, by its path of object keys.
    Json(Vec<String>),
    /// The event time.
    Time,
}

/// A parsed column spec.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ColumnSpec {
    pub ty: ColumnType,
    pub source: ColumnSource,
}

/// Why a spec does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnError {
    Empty,
    UnknownType(String),
    BadSource(String),
}

impl fmt::Display for ColumnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnError::Empty => f.write_str("the column spec is empty"),
            ColumnError::UnknownType(t) => write!(
                f,
                "unknown column type `{t}` (one of {})",
                ColumnType::WORDS.join(", ")
            ),
            ColumnError::BadSource(s) => write!(
                f,
                "`{s}` is not a column source (`.header`, `body`, `body.field`, `time`)"
            ),
        }
    }
}

impl std::error::Error for ColumnError {}

/// What a spec looks like, for help texts.
pub const SYNTAX_HELP: &str = "a column is a type (string, int, float, bool, timestamp), optionally followed by its source: `.header`, `body`, `body.field.sub` (JSON) or `time`; without a source it is the header named like the column";

/// Parses the spec of column `name`.
pub fn parse(name: &str, spec: &str) -> Result<ColumnSpec, ColumnError> {
    let mut words = spec.split_whitespace();
    let ty_word = words.next().ok_or(ColumnError::Empty)?;
    let ty = ColumnType::from_word(ty_word)
        .ok_or_else(|| ColumnError::UnknownType(ty_word.to_owned()))?;
    let source = match (words.next(), words.next()) {
        (None, _) => ColumnSource::Header(name.to_owned()),
        (Some(source), None) => parse_source(source)?,
        (Some(_), Some(_)) => {
            let rest = spec.trim().strip_prefix(ty_word).unwrap_or(spec).trim();
            return Err(ColumnError::BadSource(rest.to_owned()));
        }
    };
    Ok(ColumnSpec { ty, source })
}

fn parse_source(source: &str) -> Result<ColumnSource, ColumnError> {
    let bad = || ColumnError::BadSource(source.to_owned());
    if let Some(header) = source.strip_prefix('.') {
        if header.is_empty() {
            return Err(bad());
        }
        return Ok(ColumnSource::Header(header.to_owned()));
    }
    match source {
        "body" => return Ok(ColumnSource::Body),
        "time" => return Ok(ColumnSource::Time),
        _ => {}
    }
    let path = source.strip_prefix("body.").ok_or_else(bad)?;
    let keys: Vec<String> = path.split('.').map(str::to_owned).collect();
    if keys.iter().any(String::is_empty) {
        return Err(bad());
    }
    Ok(ColumnSource::Json(keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let spec = |s| parse("status", s);
        assert_eq!(
            spec("int"),
            Ok(ColumnSpec {
                ty: ColumnType::Int,
                source: ColumnSource::Header("status".into())
            })
        );
        assert_eq!(spec("string body").unwrap().source, ColumnSource::Body);
        assert_eq!(
            spec(" timestamp  time ").unwrap().source,
            ColumnSource::Time
        );
        assert_eq!(
            spec("float body.req.ms").unwrap().source,
            ColumnSource::Json(vec!["req".into(), "ms".into()])
        );
        assert_eq!(
            spec("string .x-forwarded-for").unwrap().source,
            ColumnSource::Header("x-forwarded-for".into())
        );
        assert_eq!(spec(""), Err(ColumnError::Empty));
        assert_eq!(
            spec("integer"),
            Err(ColumnError::UnknownType("integer".into()))
        );
        for bad in ["int .", "int body.", "int body..x", "int host", "int .a .b"] {
            assert!(matches!(spec(bad), Err(ColumnError::BadSource(_))), "{bad}");
        }
    }
}
