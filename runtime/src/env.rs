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

/// Every variable's problem at once, for `--check-env` and start-up.
pub fn check_all(vars: &[EnvVar]) -> Vec<EnvError> {
    vars.iter().filter_map(|v| raw(v).err()).collect()
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

from_env_newtype!(Address, Glob, RegexPattern, PathTemplate, Url);

impl<T: FromEnv> FromEnv for Option<T> {
    fn from_env(text: &str) -> Result<Self, String> {
        T::from_env(text).map(Some)
    }
}
