//! A literal or `env(...)` value against its parameter's type: words, ranges, and what
//! an environment value must read as.

use sluice_dsl::{Literal, Span};
use sluice_runtime::catalogue::{ParamSpec, ParamType, Purpose};

use super::fields::Ctx;
use super::validators::{example, validate_string};
use crate::diagnostic::{Code, Diagnostic};
use crate::suggest::did_you_mean;

impl Ctx<'_, '_> {
    pub(super) fn check_word(
        &self,
        field: &ParamSpec,
        words: &[&str],
        word: &str,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) {
        if words.contains(&word) {
            return;
        }
        let help = did_you_mean(word, words.iter().copied())
            .unwrap_or_else(|| format!("`{}` is one of: {}", field.name, words.join(", ")));
        diags.push(
            Diagnostic::new(
                Code::InvalidValue,
                span,
                format!("`{word}` is not a valid `{}`", field.name),
            )
            .label(format!("expected one of {}", words.join(", ")))
            .help(help),
        );
    }

    pub(super) fn check_literal(
        &self,
        field: &ParamSpec,
        ty: &ParamType,
        lit: &Literal,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) {
        let mismatch = |help: Option<String>| {
            Diagnostic::new(
                Code::TypeMismatch,
                span,
                format!(
                    "`{}` takes {}, found {}",
                    field.name,
                    ty.describe(),
                    lit.describe()
                ),
            )
            .label(format!("expected {}", ty.describe()))
            .help(help.unwrap_or_else(|| format!("for example `{} = {}`", field.name, example(ty))))
        };
        if field.purpose == Some(Purpose::Secret) {
            if let Literal::Str(_) = lit {
                let var = field.name.to_ascii_uppercase();
                diags.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        span,
                        format!(
                            "`{}` is a secret: it must not be written in the flow file",
                            field.name
                        ),
                    )
                    .label("a secret in plain text")
                    .help(format!(
                        "read it from the environment at start: `{} = env(\"{var}\")`",
                        field.name
                    )),
                );
                return;
            }
        }
        match (ty, lit) {
            (ParamType::Bool, Literal::Bool(_)) => {}
            (ParamType::Bool, Literal::Str(s)) if s == "true" || s == "false" => {
                diags.push(mismatch(Some(format!(
                    "booleans are not quoted: `{} = {s}`",
                    field.name
                ))))
            }
            (ParamType::Int, Literal::Int(n)) => {
                self.check_range(field, *n, &n.to_string(), span, diags)
            }
            (ParamType::Float, Literal::Int(_) | Literal::Float(_)) => {}
            (ParamType::Duration, Literal::Duration(d)) => {
                let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
                self.check_range(field, ms, "the duration", span, diags)
            }
            (ParamType::Duration, Literal::Int(n)) => diags.push(mismatch(Some(format!(
                "add a unit: `{n}ms`, `{n}s`, `{n}m`, `{n}h` or `{n}d`"
            )))),
            (ParamType::Duration | ParamType::EnumOrDuration(_), Literal::Str(s))
                if sluice_runtime::params::parse_duration(s).is_ok() =>
            {
                diags.push(mismatch(Some(format!(
                    "durations are not quoted: `{} = {s}`",
                    field.name
                ))))
            }
            (ParamType::EnumOrDuration(_), Literal::Duration(_)) => {}
            (ParamType::ByteSize, Literal::Size(bytes)) => {
                let n = i64::try_from(*bytes).unwrap_or(i64::MAX);
                self.check_range(field, n, "the size", span, diags)
            }
            (ParamType::ByteSize, Literal::Int(n)) => diags.push(mismatch(Some(format!(
                "add a unit: `{n}B`, `{n}KiB`, `{n}MiB`, `{n}KB` or `{n}MB`"
            )))),
            (ParamType::ByteSize, Literal::Str(s))
                if sluice_runtime::params::parse_byte_size(s).is_ok() =>
            {
                diags.push(mismatch(Some(format!(
                    "sizes are not quoted: `{} = {s}`",
                    field.name
                ))))
            }
            (ParamType::Enum(words) | ParamType::EnumOrDuration(words), Literal::Str(s)) => {
                self.check_word(field, words, s, span, diags)
            }
            (ParamType::Ref(_), Literal::Str(s)) => diags.push(mismatch(Some(format!(
                "component names are not quoted: `{s}`"
            )))),
            (ParamType::List(_), Literal::Str(s)) => diags.push(mismatch(Some(format!(
                "wrap it in brackets: `{} = [\"{}\"]`",
                field.name,
                s.escape_default()
            )))),
            (_, Literal::Str(s)) if is_stringly(ty) => {
                if let Some(d) = validate_string(field, ty, s, span, self.what) {
                    diags.push(d);
                }
            }
            _ => diags.push(mismatch(None)),
        }
    }

    pub(super) fn check_range(
        &self,
        field: &ParamSpec,
        n: i64,
        shown: &str,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) {
        let shown = if shown.starts_with("the ") {
            shown.to_owned()
        } else {
            format!("`{shown}`")
        };
        let bound = |b: i64| match field.ty {
            ParamType::Duration => format!("{b}ms"),
            ParamType::ByteSize => format!("{b} bytes"),
            _ => b.to_string(),
        };
        if let Some(min) = field.min.filter(|&m| n < m) {
            diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    span,
                    format!(
                        "`{}` must be at least {}, but {shown} is less",
                        field.name,
                        bound(min)
                    ),
                )
                .label("too small")
                .help(format!(
                    "{}; the default is {}",
                    field.summary(),
                    field.default.unwrap_or("unset")
                )),
            );
        }
        if let Some(max) = field.max.filter(|&m| n > m) {
            diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    span,
                    format!(
                        "`{}` must be at most {}, but {shown} is more",
                        field.name,
                        bound(max)
                    ),
                )
                .label("too large"),
            );
        }
    }

    pub(super) fn check_env(
        &self,
        field: &ParamSpec,
        ty: &ParamType,
        env: &sluice_dsl::EnvCall,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) {
        if !is_scalar(ty) {
            diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    span,
                    format!(
                        "`{}` takes {}, which env(...) cannot provide",
                        field.name,
                        ty.describe()
                    ),
                )
                .label("env(...) gives one string")
                .help("use env(...) for the scalar values inside it instead"),
            );
            return;
        }
        if env.name.value.is_empty()
            || !env
                .name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    env.name.span,
                    format!("`{}` is not an environment variable name", env.name.value),
                )
                .label("letters, digits and `_` only"),
            );
        }
        if let Some(default) = &env.default {
            if field.purpose == Some(Purpose::Secret) {
                diags.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        default.span,
                        format!(
                            "`{}` is a secret: a default for it would be written in the flow file",
                            field.name
                        ),
                    )
                    .label("a secret in plain text")
                    .help(format!(
                        "drop the default: `{} = env(\"{}\")` (the agent refuses to start without it)",
                        field.name, env.name.value
                    )),
                );
                return;
            }
            if let Err(problem) = parse_as(ty, &default.value) {
                diags.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        default.span,
                        format!(
                            "the default of env(\"{}\") is not {}",
                            env.name.value,
                            ty.describe()
                        ),
                    )
                    .label(problem)
                    .help(format!(
                        "for example `env(\"{}\", \"{}\")`",
                        env.name.value,
                        example(ty).trim_matches('"')
                    )),
                );
            } else if is_stringly(ty) {
                if let Some(d) = validate_string(field, ty, &default.value, default.span, self.what)
                {
                    diags.push(d);
                }
            }
        }
    }
}

pub(super) fn is_stringly(ty: &ParamType) -> bool {
    matches!(
        ty,
        ParamType::String
            | ParamType::Path
            | ParamType::Glob
            | ParamType::Regex
            | ParamType::Template
            | ParamType::Url
            | ParamType::Address
            | ParamType::Storage
            | ParamType::Column
            | ParamType::MetricName
    )
}

pub(super) fn is_scalar(ty: &ParamType) -> bool {
    is_stringly(ty)
        || matches!(
            ty,
            ParamType::Bool
                | ParamType::Int
                | ParamType::Float
                | ParamType::Duration
                | ParamType::ByteSize
                | ParamType::Enum(_)
                | ParamType::EnumOrDuration(_)
        )
}

/// Whether `text` (an env default, or an env value at start-up) reads as a value of `ty`.
pub(super) fn parse_as(ty: &ParamType, text: &str) -> Result<(), String> {
    use sluice_runtime::params::{parse_byte_size, parse_duration};
    match ty {
        ParamType::Bool => match text {
            "true" | "false" => Ok(()),
            _ => Err("expected `true` or `false`".into()),
        },
        ParamType::Int => text
            .replace('_', "")
            .parse::<i64>()
            .map(drop)
            .map_err(|_| "not an integer".into()),
        ParamType::Float => text
            .parse::<f64>()
            .map(drop)
            .map_err(|_| "not a number".into()),
        ParamType::Duration => parse_duration(text).map(drop),
        ParamType::ByteSize => parse_byte_size(text).map(drop),
        ParamType::Enum(words) => {
            if words.contains(&text) {
                Ok(())
            } else {
                Err(format!("expected one of {}", words.join(", ")))
            }
        }
        ParamType::EnumOrDuration(words) => {
            if words.contains(&text) || parse_duration(text).is_ok() {
                Ok(())
            } else {
                Err(format!("expected {} or a duration", words.join(", ")))
            }
        }
        _ => Ok(()),
    }
}
