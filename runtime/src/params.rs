//! The types parameters are declared with. Each says, through [`ParamValue`], which
//! [`ParamType`] the checker expects; at run time each holds the checked value.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::catalogue::{ParamType, ParamValue, Role};

macro_rules! param_types {
    ($($ty:ty => $pt:expr),* $(,)?) => {
        $(impl ParamValue for $ty {
            fn param_type() -> ParamType {
                $pt
            }
        })*
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

/// A boolean expression; the code generator compiles it into the agent. Holds the source
/// text, for logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoolExpr(pub String);

/// An expression giving a scalar; compiled into the agent like [`BoolExpr`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalarExpr(pub String);

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
    BoolExpr => ParamType::BoolExpr,
    ScalarExpr => ParamType::ScalarExpr,
    SinkRef => ParamType::Ref(Role::Sink),
    FsyncPolicy => ParamType::EnumOrDuration(&["every_commit"]),
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
