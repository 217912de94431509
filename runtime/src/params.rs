//! The types parameters are declared with. Each says, through [`ParamValue`], which
//! [`ParamType`] the checker expects; at run time each holds the checked value.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::catalogue::{ParamType, ParamValue, Role};

macro_rules! param_types {
    ($($ty:ident => $pt:expr),* $(,)?) => {
        $(impl ParamValue for $ty {
            fn param_type() -> ParamType {
                $pt
            }
        })*

        /// The parameter type of a type written `name` (its last path segment: `u32`,
        /// `Duration`, `ByteSize`), for readers of Rust syntax that cannot ask rustc
        /// (`sluice check` reading a user's component crate). `Option`, `Vec` and
        /// `BTreeMap<String, _>` wrap these; [`Columns`] is a map of columns.
        pub fn named_type(name: &str) -> Option<ParamType> {
            match name {
                $(stringify!($ty) => Some($pt),)*
                "Columns" => Some(Columns::param_type()),
                _ => None,
            }
        }
    };
}

/// A size in bytes, written `512B`, `64KiB`, `16MiB`, `10MB`...
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

/// A `host:port` address, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address(pub String);

/// A file name glob, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob(pub String);

/// A regular expression, as written; compiled when the agent starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegexPattern(pub String);

/// A path template: `%Y %m %d %H %M` and `%{header}` are filled in per event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathTemplate(pub String);

/// An `http://` or `https://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url(pub String);

/// Where files are stored: a directory, `file:///dir` or `s3://bucket/prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageUrl(pub String);

/// A table column's spec: its type and source (see [`sluice_core::column`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column(pub String);

/// A Prometheus metric or label name (see [`sluice_core::metric_name`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricName(pub String);

/// Named columns in the order they are written (a map in the flow).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns(pub Vec<(String, Column)>);

impl FromIterator<(String, Column)> for Columns {
    fn from_iter<I: IntoIterator<Item = (String, Column)>>(iter: I) -> Self {
        Columns(iter.into_iter().collect())
    }
}

impl ParamValue for Columns {
    fn param_type() -> ParamType {
        ParamType::Map(Box::new(ParamType::Column))
    }
}

/// A boolean expression; the code generator compiles it into the agent. Holds the source
/// text, for logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoolExpr(pub String);

/// An expression giving a scalar; compiled into the agent like [`BoolExpr`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalarExpr(pub String);

/// An aggregate's window (`tumbling(1m)`), as written; the code generator reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowSpec(pub String);

/// An aggregate function call (`sum(int(.bytes))`), as written; the code generator
/// compiles it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateExpr(pub String);

/// The name of a sink in the same flow file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkRef(pub String);

/// When the file channel forces its writes to disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Before every commit returns: nothing acknowledged is ever lost.
    EveryCommit,
    /// At most this long after a commit: a power loss can lose the last interval.
    Interval(Duration),
}

param_types! {
    bool => ParamType::Bool,
    i64 => ParamType::Int,
    u64 => ParamType::Int,
    u32 => ParamType::Int,
    usize => ParamType::Int,
    f64 => ParamType::Float,
    String => ParamType::String,
    Duration => ParamType::Duration,
    ByteSize => ParamType::ByteSize,
    PathBuf => ParamType::Path,
    Address => ParamType::Address,
    Glob => ParamType::Glob,
    RegexPattern => ParamType::Regex,
    PathTemplate => ParamType::Template,
    Url => ParamType::Url,
    StorageUrl => ParamType::Storage,
    Column => ParamType::Column,
    MetricName => ParamType::MetricName,
    BoolExpr => ParamType::BoolExpr,
    ScalarExpr => ParamType::ScalarExpr,
    WindowSpec => ParamType::Window,
    AggregateExpr => ParamType::Aggregate,
    SinkRef => ParamType::Ref(Role::Sink),
    FsyncPolicy => ParamType::EnumOrDuration(crate::catalogue::EnumWords {
        words: &["every_commit"],
        rust_type: "sluice_runtime::params::FsyncPolicy",
    }),
}

macro_rules! from_str_newtypes {
    ($($ty:ident),*) => {
        $(impl From<&str> for $ty {
            fn from(s: &str) -> Self {
                $ty(s.to_owned())
            }
        })*
    };
}

from_str_newtypes!(
    Address,
    Glob,
    RegexPattern,
    PathTemplate,
    Url,
    StorageUrl,
    Column,
    MetricName,
    BoolExpr,
    ScalarExpr,
    WindowSpec,
    AggregateExpr,
    SinkRef
);

impl crate::env::FromEnv for FsyncPolicy {
    fn from_env(text: &str) -> Result<Self, String> {
        match text.trim() {
            "every_commit" => Ok(FsyncPolicy::EveryCommit),
            other => parse_duration(other).map(FsyncPolicy::Interval),
        }
    }
}

/// A value written as a word in the flow (an enum, `every_commit`): used by generated
/// code, after `sluice check` has accepted the word.
pub fn word<T: crate::env::FromEnv>(word: &str) -> T {
    match T::from_env(word) {
        Ok(v) => v,
        Err(problem) => {
            panic!("`{word}` {problem}: the flow was not checked by this version of sluice")
        }
    }
}

impl<T: ParamValue> ParamValue for Option<T> {
    fn param_type() -> ParamType {
        T::param_type()
    }
}

impl<T: ParamValue> ParamValue for Vec<T> {
    fn param_type() -> ParamType {
        ParamType::List(Box::new(T::param_type()))
    }
}

impl<T: ParamValue> ParamValue for BTreeMap<String, T> {
    fn param_type() -> ParamType {
        ParamType::Map(Box::new(T::param_type()))
    }
}

/// Parses a duration as written in a flow: `250ms`, `30s`, `5m`, `1h`, `7d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    use sluice_core::units::{self, UnitError};
    units::parse_duration(text).map_err(|e| match e {
        UnitError::TooLarge => format!("duration `{}` is too large", text.trim()),
        UnitError::NoNumber | UnitError::UnknownUnit => format!(
            "`{}` is not a duration (a number and one of {}, e.g. 250ms, 30s, 5m)",
            text.trim(),
            units::duration_unit_list()
        ),
    })
}

/// Parses a byte size as written in a flow: `512B`, `64KiB`, `10MB`...
pub fn parse_byte_size(text: &str) -> Result<ByteSize, String> {
    use sluice_core::units::{self, UnitError};
    units::parse_byte_size(text)
        .map(ByteSize)
        .map_err(|e| match e {
            UnitError::TooLarge => format!("byte size `{}` is too large", text.trim()),
            UnitError::NoNumber | UnitError::UnknownUnit => format!(
                "`{}` is not a byte size (a number and one of {}, e.g. 512B, 64KiB, 10MB)",
                text.trim(),
                units::size_unit_list()
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse_like_the_language() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_byte_size("64KiB"), Ok(ByteSize(65_536)));
        assert_eq!(parse_byte_size("10MB"), Ok(ByteSize(10_000_000)));
        assert!(parse_byte_size("10").is_err());
    }
}
