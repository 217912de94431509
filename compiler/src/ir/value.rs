//! Parameter values after checking: typed, defaults filled in, ready to be written as the
//! config struct literal of a component.

use std::time::Duration;

use sluice_runtime::catalogue::EnumWords;
use sluice_runtime::env::EnvKind;

/// A config struct's value: one field per parameter, in declaration order.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Path of the struct.
    pub rust_type: &'static str,
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: &'static str,
    /// `None`: an optional parameter left out.
    pub value: Option<Value>,
    /// The field is an `Option`.
    pub optional: bool,
}

impl Config {
    /// The value of field `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.value.as_ref())
    }
}

/// What kind of Rust value a piece of text becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text {
    String,
    Path,
    /// One of the runtime's string newtypes (`Address`, `Glob`, ...), built with `into`.
    Newtype,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Duration(Duration),
    Size(u64),
    Text(Text, String),
    /// A variant of an enum parameter.
    Word {
        words: EnumWords,
        word: String,
    },
    /// The duration case of a word-or-duration parameter (`fsync = 1s`).
    Interval {
        words: EnumWords,
        every: Duration,
    },
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
    Record(Config),
    /// An `env(...)`, resolved when the agent starts.
    Env(EnvUse),
}

/// One `env(...)` of the flow.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvUse {
    pub name: String,
    pub default: Option<String>,
    /// `file.flow:LINE:COL`, for the agent's error messages.
    pub location: String,
    /// What it is for: ``source `gen`: rate``.
    pub param: String,
    /// What its value must read as.
    pub kind: EnvKind,
    /// Its place in `Flow::env`.
    pub index: usize,
}
