//! `env("NAME", "default")` values, resolved when the agent starts. Each names the flow
//! line it came from, so an unset variable is a clear error, not a mystery.

use std::fmt;

/// One `env(...)` use in the flow.
#[derive(Clone, Copy, Debug)]
pub struct EnvVar {
    pub name: &'static str,
    pub default: Option<&'static str>,
    /// `file.flow:LINE:COLUMN` of the `env(...)`.
    pub location: &'static str,
    /// What the value is for: ``source `gen`: rate``.
    pub param: &'static str,
    /// What the value must be, from the parameter's declaration: checked at start-up and
    /// by `--check-env` with the rules `sluice check` applies to a literal.
    pub kind: EnvKind,
}

/// What an `env(...)` value must read as.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EnvKind {
    /// Any text (strings, paths; globs and regexes are checked when their component
    /// starts).
    Text,
    Bool,
    /// An integer within inclusive bounds.
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    Float,
    /// A duration; bounds in milliseconds.
    Duration {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// A byte size; bounds in bytes.
    Size {
        min: Option<i64>,
        max: Option<i64>,
    },
    /// `host:port`.
    Address,
    /// An `http://` or `https://` URL.
    Url,
    /// A path template.
    Template,
    /// A storage location (a directory or `s3://bucket/prefix`).
    Storage,
    /// One of these words.
    Word(&'static [&'static str]),
    /// One of these words, or a duration.
    WordOrDuration(&'static [&'static str]),
}

/// A rule between two values of which at least one comes from `env(...)`: `smaller`
/// must not exceed `larger` (the `capacity` rule of `sluice check`).
#[derive(Clone, Copy, Debug)]
pub struct EnvRule {
    pub smaller: Operand,
    pub larger: Operand,
    /// The rule, for the message: ``channel `buf`: transaction_capacity <= capacity``.
    pub what: &'static str,
}

/// One side of an [`EnvRule`].
#[derive(Clone, Copy, Debug)]
pub enum Operand {
    /// A value written in the flow (or a default).
    Literal(i64),
    /// The value of `env_vars[index]`.
    Env(usize),
}

/// Why an `env(...)` could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvError {
    pub name: String,
    pub location: String,
    pub problem: String,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: env(\"{}\"): {}",
            self.location, self.name, self.problem
        )
    }
}

impl std::error::Error for EnvError {}

/// The raw text of a variable, or its default.
pub fn raw(var: &EnvVar) -> Result<String, EnvError> {
    match std::env::var(var.name) {
        Ok(v) => Ok(v),
        Err(std::env::VarError::NotPresent) => {
            var.default.map(str::to_owned).ok_or_else(|| EnvError {
                name: var.name.into(),
                location: var.location.into(),
                problem: "is not set and has no default".into(),
            })
        }
        Err(std::env::VarError::NotUnicode(_)) => Err(EnvError {
            name: var.name.into(),
            location: var.location.into(),
            problem: "is not valid UTF-8".into(),
        }),
    }
}

/// A variable's value parsed as the parameter's type.
pub fn get<T: FromEnv>(var: EnvVar) -> Result<T, EnvError> {
    let text = raw(&var)?;
    T::from_env(&text).map_err(|problem| EnvError {
        name: var.name.into(),
        location: var.location.into(),
        problem: format!("value {text:?} {problem}"),
    })
}

/// Every problem at once, for `--check-env` and start-up: each variable that is unset
/// or does not read as its parameter's kind, then each rule that does not hold.
pub fn check_all(vars: &[EnvVar], rules: &[EnvRule]) -> Vec<EnvError> {
    let mut errors = Vec::new();
    let mut numbers: Vec<Option<i64>> = Vec::with_capacity(vars.len());
    for var in vars {
        let checked = raw(var).and_then(|text| {
            check_kind(var.kind, text.trim())
                .map_err(|problem| error(var, format!("value {text:?} {problem}")))
                .map(|number| (text, number))
        });
        match checked {
            Ok((_, number)) => numbers.push(number),
            Err(e) => {
                errors.push(e);
                numbers.push(None);
            }
        }
    }
    for rule in rules {
        let value = |operand: Operand| match operand {
            Operand::Literal(n) => Some(n),
            Operand::Env(i) => numbers.get(i).copied().flatten(),
        };
        let (Some(smaller), Some(larger)) = (value(rule.smaller), value(rule.larger)) else {
            continue;
        };
        if smaller > larger {
            let from_env = [rule.smaller, rule.larger]
                .into_iter()
                .find_map(|o| match o {
                    Operand::Env(i) => vars.get(i),
                    Operand::Literal(_) => None,
                });
            if let Some(var) = from_env {
                errors.push(error(var, format!("{}: {smaller} > {larger}", rule.what)));
            }
        }
    }
    errors
}

fn error(var: &EnvVar, problem: String) -> EnvError {
    EnvError {
        name: var.name.into(),
        location: var.location.into(),
        problem: format!("{} ({})", problem, var.param),
    }
}

/// Whether `text` reads as `kind`; the number it stands for, when it is one (integers,
/// sizes in bytes, durations in milliseconds), for the rules.
fn check_kind(kind: EnvKind, text: &str) -> Result<Option<i64>, String> {
    let range = |n: i64, min: Option<i64>, max: Option<i64>, unit: &str| {
        if let Some(min) = min.filter(|&m| n < m) {
            return Err(format!("is below the minimum {min}{unit}"));
        }
        if let Some(max) = max.filter(|&m| n > m) {
            return Err(format!("is above the maximum {max}{unit}"));
        }
        Ok(Some(n))
    };
    match kind {
        EnvKind::Text => Ok(None),
        EnvKind::Bool => bool::from_env(text).map(|_| None),
        EnvKind::Float => f64::from_env(text).map(|_| None),
        EnvKind::Int { min, max } => range(i64::from_env(text)?, min, max, ""),
        EnvKind::Duration { min, max } => {
            let ms = crate::params::parse_duration(text)?.as_millis();
            range(i64::try_from(ms).unwrap_or(i64::MAX), min, max, " ms")
        }
        EnvKind::Size { min, max } => {
            let bytes = crate::params::parse_byte_size(text)?.0;
            range(i64::try_from(bytes).unwrap_or(i64::MAX), min, max, " bytes")
        }
        EnvKind::Address => sluice_core::address::problem(text).map_or(Ok(None), Err),
        EnvKind::Url => sluice_core::url::parse_http(text).map(|_| None),
        EnvKind::Storage => sluice_core::url::parse_storage(text).map(|_| None),
        EnvKind::Template => sluice_core::template::parse(text)
            .map(|_| None)
            .map_err(|e| e.to_string()),
        EnvKind::Word(words) => {
            if words.contains(&text) {
                Ok(None)
            } else {
                Err(format!("is not one of {}", words.join(", ")))
            }
        }
        EnvKind::WordOrDuration(words) => {
            if words.contains(&text) || crate::params::parse_duration(text).is_ok() {
                Ok(None)
            } else {
                Err(format!("is not {} or a duration", words.join(", ")))
            }
        }
    }
}

/// Types a parameter given by `env(...)` can have.
pub trait FromEnv: Sized {
    fn from_env(text: &str) -> Result<Self, String>;
}

macro_rules! from_env_via_parse {
    ($($ty:ty => $what:literal),*) => {
        $(impl FromEnv for $ty {
            fn from_env(text: &str) -> Result<Self, String> {
                text.trim().replace('_', "").parse().map_err(|_| concat!("is not ", $what).to_owned())
            }
        })*
    };
}

from_env_via_parse!(u64 => "a whole number", i64 => "an integer", u32 => "a whole number", usize => "a whole number", f64 => "a number", bool => "true or false");

impl FromEnv for String {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
}

impl FromEnv for std::path::PathBuf {
    fn from_env(text: &str) -> Result<Self, String> {
        Ok(text.into())
    }
}

impl FromEnv for std::time::Duration {
    fn from_env(text: &str) -> Result<Self, String> {
        crate::params::parse_duration(text)
    }
}

impl FromEnv for crate::params::ByteSize {
    fn from_env(text: &str) -> Result<Self, String> {
        crate::params::parse_byte_size(text)
    }
}

macro_rules! from_env_newtype {
    ($($ty:ident),*) => {
        $(impl FromEnv for crate::params::$ty {
            fn from_env(text: &str) -> Result<Self, String> {
                Ok(crate::params::$ty(text.to_owned()))
            }
        })*
    };
}

from_env_newtype!(
    Address,
    Glob,
    RegexPattern,
    PathTemplate,
    Url,
    StorageUrl,
    Column,
    MetricName
);

impl<T: FromEnv> FromEnv for Option<T> {
    fn from_env(text: &str) -> Result<Self, String> {
        T::from_env(text).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &'static str, default: &'static str, kind: EnvKind) -> EnvVar {
        EnvVar {
            name,
            default: Some(default),
            location: "f.flow:1:1",
            param: "source `gen`: rate",
            kind,
        }
    }

    #[test]
    fn values_are_checked_like_literals() {
        let int = EnvKind::Int {
            min: Some(1),
            max: None,
        };
        let vars = [
            var("SLUICE_TEST_PORT", "abc", int),
            var("SLUICE_TEST_RATE", "0", int),
            var("SLUICE_TEST_ADDR", "localhost", EnvKind::Address),
            var("SLUICE_TEST_OK", "5", int),
            var("SLUICE_TEST_FMT", "xml", EnvKind::Word(&["text", "json"])),
        ];
        let errors: Vec<String> = check_all(&vars, &[])
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            errors,
            [
                "f.flow:1:1: env(\"SLUICE_TEST_PORT\"): value \"abc\" is not an integer (source `gen`: rate)",
                "f.flow:1:1: env(\"SLUICE_TEST_RATE\"): value \"0\" is below the minimum 1 (source `gen`: rate)",
                "f.flow:1:1: env(\"SLUICE_TEST_ADDR\"): value \"localhost\" missing `:port` (source `gen`: rate)",
                "f.flow:1:1: env(\"SLUICE_TEST_FMT\"): value \"xml\" is not one of text, json (source `gen`: rate)",
            ]
        );
    }

    #[test]
    fn rules_compare_env_values_with_literals() {
        let int = EnvKind::Int {
            min: Some(1),
            max: None,
        };
        let vars = [var("SLUICE_TEST_TX", "5000", int)];
        let rule = EnvRule {
            smaller: Operand::Env(0),
            larger: Operand::Literal(1000),
            what: "channel `buf`: transaction_capacity <= capacity",
        };
        let errors = check_all(&vars, &[rule]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0]
            .to_string()
            .contains("channel `buf`: transaction_capacity <= capacity: 5000 > 1000"));
    }
}
