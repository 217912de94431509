//! Parameter checks against the catalogue: `unknown-param`, `missing-param`,
//! `type-mismatch`, `invalid-value` (ranges, regexes, globs, addresses, URLs, templates,
//! enum words), references to other components, and the expressions of `when`/`set`.

use std::collections::HashMap;

use sluice_dsl::{Ident, Literal, Param, Span, Value, ValueKind};
use sluice_runtime::catalogue::{ComponentSpec, ParamSpec, ParamType};

use super::expr::{self, regex_error_summary, Ty};
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::Symbols;
use crate::suggest::did_you_mean;

/// Checks the params written for one component (or the agent block) against its spec.
/// `header` is the span to point at for a missing parameter.
pub fn check_params(
    spec: &ComponentSpec,
    what: &str,
    params: &[Param],
    header: Span,
    symbols: &Symbols,
    diags: &mut Vec<Diagnostic>,
) {
    let ctx = Ctx { symbols, what };
    ctx.check_fields(
        &spec.params,
        spec.kind,
        params.iter().map(|p| (&p.name, &p.value)),
        header,
        diags,
    );
    check_group_names(spec, params, diags);
    for group in spec.requires_one_of {
        if !params.iter().any(|p| group.contains(&p.name.name.as_str())) {
            let names: Vec<String> = group.iter().map(|n| format!("`{n}`")).collect();
            diags.push(
                Diagnostic::new(
                    Code::MissingParam,
                    header,
                    format!("{what} needs {}", names.join(" or ")),
                )
                .label(format!("set {}", names.join(" or ")))
                .help(format!("e.g. `{} = \"x-debug\"`", group[0])),
            );
        }
    }
}

struct Ctx<'s, 'a> {
    symbols: &'s Symbols<'a>,
    what: &'s str,
}

impl Ctx<'_, '_> {
    fn check_fields<'v>(
        &self,
        fields: &[ParamSpec],
        owner: &str,
        written: impl Iterator<Item = (&'v Ident, &'v Value)>,
        header: Span,
        diags: &mut Vec<Diagnostic>,
    ) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for (name, value) in written {
            if let Some(first) = seen.insert(name.name.as_str(), name.span) {
                diags.push(
                    Diagnostic::new(
                        Code::DuplicateName,
                        name.span,
                        format!("parameter `{}` is set twice", name.name),
                    )
                    .label("set again here")
                    .note(first, "first set here")
                    .help("remove one of them"),
                );
                continue;
            }
            match fields.iter().find(|f| f.name == name.name) {
                Some(field) => self.check_value(field, &field.ty, value, diags),
                None => {
                    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                    let help = did_you_mean(&name.name, names.iter().copied())
                        .unwrap_or_else(|| format!("`{owner}` takes: {}", names.join(", ")));
                    diags.push(
                        Diagnostic::new(
                            Code::UnknownParam,
                            name.span,
                            format!("unknown parameter `{}` for {}", name.name, self.what),
                        )
                        .label(format!("not a parameter of `{owner}`"))
                        .help(help),
                    );
                }
            }
        }
        for field in fields.iter().filter(|f| f.required) {
            if !seen.contains_key(field.name) {
                diags.push(
                    Diagnostic::new(
                        Code::MissingParam,
                        header,
                        format!(
                            "{} is missing the required parameter `{}`",
                            self.what, field.name
                        ),
                    )
                    .label(format!("needs `{}`", field.name))
                    .help(format!(
                        "add `{} = {}` ({})",
                        field.name,
                        example(&field.ty),
                        field.summary().trim_end_matches('.').to_lowercase()
                    )),
                );
            }
        }
    }

    fn check_value(
        &self,
        field: &ParamSpec,
        ty: &ParamType,
        value: &Value,
        diags: &mut Vec<Diagnostic>,
    ) {
        match (&value.kind, ty) {
            (ValueKind::Env(env), _) => self.check_env(field, ty, env, value.span, diags),
            (ValueKind::List(items), ParamType::List(inner)) => {
                for item in items {
                    self.check_value(field, inner, item, diags);
                }
            }
            (ValueKind::Map(entries), ParamType::Map(inner)) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for entry in entries {
                    if let Some(first) = seen.insert(entry.key.name.as_str(), entry.key.span) {
                        diags.push(
                            Diagnostic::new(
                                Code::DuplicateName,
                                entry.key.span,
                                format!("key `{}` is set twice", entry.key.name),
                            )
                            .label("set again here")
                            .note(first, "first set here"),
                        );
                    }
                    self.check_value(field, inner, &entry.value, diags);
                }
            }
            (ValueKind::Map(entries), ParamType::Record { fields, .. }) => {
                let inner = Ctx {
                    symbols: self.symbols,
                    what: &format!("`{}` of {}", field.name, self.what),
                };
                inner.check_fields(
                    fields,
                    field.name,
                    entries.iter().map(|e| (&e.key, &e.value)),
                    value.span,
                    diags,
                );
            }
            (ValueKind::Expr(e), ParamType::BoolExpr) => {
                let ty = expr::check(e, diags);
                if !matches!(ty, Ty::Bool | Ty::Any) {
                    let mut d = Diagnostic::new(
                        Code::ExprType,
                        e.span,
                        format!(
                            "`{}` must be a condition, but this is {}",
                            field.name,
                            ty.describe()
                        ),
                    )
                    .label("not a boolean");
                    if ty == Ty::Header {
                        d = d.help("compare the header, e.g. `.level == \"ERROR\"`, or test it with `exists(.level)`");
                    } else {
                        d = d.help("use a comparison, e.g. `.status >= 500`");
                    }
                    diags.push(d);
                }
            }
            (ValueKind::Expr(e), ParamType::ScalarExpr) => {
                expr::check(e, diags);
            }
            (ValueKind::Expr(e), _) => {
                if let Some(lit) = e.literal() {
                    self.check_literal(field, ty, lit, value.span, diags);
                } else if let Some(name) = value.reference() {
                    self.check_reference(field, ty, &name, diags);
                } else {
                    diags.push(self.mismatch(field, ty, value));
                }
            }
            _ => diags.push(self.mismatch(field, ty, value)),
        }
    }

    fn mismatch(&self, field: &ParamSpec, ty: &ParamType, value: &Value) -> Diagnostic {
        let help = match ty {
            ParamType::List(_) => format!(
                "wrap it in brackets, e.g. `{} = {}`",
                field.name,
                example(ty)
            ),
            _ => format!("for example `{} = {}`", field.name, example(ty)),
        };
        Diagnostic::new(
            Code::TypeMismatch,
            value.span,
            format!(
                "`{}` takes {}, found {}",
                field.name,
                ty.describe(),
                value.describe()
            ),
        )
        .label(format!("expected {}", ty.describe()))
        .help(help)
    }

    fn check_reference(
        &self,
        field: &ParamSpec,
        ty: &ParamType,
        name: &Ident,
        diags: &mut Vec<Diagnostic>,
    ) {
        match ty {
            ParamType::Ref(role) => match self.symbols.get(&name.name) {
                None => {
                    let help = did_you_mean(&name.name, self.symbols.names_of(*role))
                        .unwrap_or_else(|| {
                            format!("declare it: `{role} {} = KIND {{ ... }}`", name.name)
                        });
                    diags.push(
                        Diagnostic::new(
                            Code::UndefinedName,
                            name.span,
                            format!("no {role} named `{}`", name.name),
                        )
                        .label("not declared")
                        .help(help),
                    );
                }
                Some(c) if c.role() != *role => diags.push(
                    Diagnostic::new(
                        Code::WrongRole,
                        name.span,
                        format!(
                            "`{}` takes {role}s, but `{}` is a {}",
                            field.name,
                            name.name,
                            c.role()
                        ),
                    )
                    .label(format!("a {}, not a {role}", c.role()))
                    .note(
                        c.decl.name.span,
                        format!("`{}` is declared here", name.name),
                    ),
                ),
                Some(_) => {}
            },
            ParamType::Enum(words) | ParamType::EnumOrDuration(words) => {
                self.check_word(field, words, &name.name, name.span, diags)
            }
            _ => diags.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    name.span,
                    format!(
                        "`{}` takes {}, found the bare name `{}`",
                        field.name,
                        ty.describe(),
                        name.name
                    ),
                )
                .label(format!("expected {}", ty.describe()))
                .help(match ty {
                    ParamType::String | ParamType::Path | ParamType::Template => {
                        format!("strings are quoted: `{} = \"{}\"`", field.name, name.name)
                    }
                    _ => format!("for example `{} = {}`", field.name, example(ty)),
                }),
            ),
        }
    }

    fn check_word(
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

    fn check_literal(
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

    fn check_range(
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

    fn check_env(
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

fn is_stringly(ty: &ParamType) -> bool {
    matches!(
        ty,
        ParamType::String
            | ParamType::Path
            | ParamType::Glob
            | ParamType::Regex
            | ParamType::Template
            | ParamType::Url
            | ParamType::Address
    )
}

fn is_scalar(ty: &ParamType) -> bool {
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
fn parse_as(ty: &ParamType, text: &str) -> Result<(), String> {
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

/// Checks the content of a string given for a string-like type.
fn validate_string(
    field: &ParamSpec,
    ty: &ParamType,
    s: &str,
    span: Span,
    what: &str,
) -> Option<Diagnostic> {
    let invalid = |message: String, label: String| {
        Some(Diagnostic::new(Code::InvalidValue, span, message).label(label))
    };
    match ty {
        ParamType::Path | ParamType::Template | ParamType::Glob if s.is_empty() => invalid(
            format!("`{}` of {what} is empty", field.name),
            "expected a path".into(),
        ),
        ParamType::Regex => regex::Regex::new(s).err().and_then(|err| {
            invalid(
                format!("invalid regex in `{}`", field.name),
                regex_error_summary(&err),
            )
            .map(|d| {
                d.help(
                    "regexes use Rust `regex` syntax; raw strings (r\"...\") avoid double escaping",
                )
            })
        }),
        ParamType::Glob => globset::Glob::new(s).err().and_then(|err| {
            invalid(
                format!("invalid glob in `{}`", field.name),
                err.kind().to_string(),
            )
            .map(|d| d.help("globs use `*`, `?`, `[abc]`, `{a,b}` and `**`"))
        }),
        ParamType::Template => sluice_core::template::parse(s).err().and_then(|problem| {
            invalid(
                format!("invalid path template in `{}`", field.name),
                problem.to_string(),
            )
            .map(|d| d.help(sluice_core::template::SYNTAX_HELP))
        }),
        ParamType::Url => sluice_core::url::parse_http(s).err().and_then(|problem| {
            invalid(format!("invalid URL in `{}`", field.name), problem)
                .map(|d| d.help("for example \"http://127.0.0.1:8080/ingest\""))
        }),
        ParamType::Address => address_problem(s).and_then(|problem| {
            invalid(format!("invalid address in `{}`", field.name), problem).map(|d| {
                d.help(
                    "write `host:port`, e.g. \"0.0.0.0:514\", \"127.0.0.1:9000\" or \"[::1]:9000\"",
                )
            })
        }),
        _ => None,
    }
}

/// Why `s` is not a `host:port` address, if it is not.
pub fn address_problem(s: &str) -> Option<String> {
    if s.parse::<std::net::SocketAddr>().is_ok() {
        return None;
    }
    let Some((host, port)) = s.rsplit_once(':') else {
        return Some("missing `:port`".into());
    };
    if port.parse::<u16>().is_err() {
        return Some(format!("`{port}` is not a port number (0-65535)"));
    }
    if host.is_empty() {
        return Some("missing host (use 0.0.0.0 to listen on every interface)".into());
    }
    let looks_numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
    if looks_numeric {
        return Some(format!("`{host}` is not an IPv4 address"));
    }
    if host.starts_with('[') || host.contains(':') {
        return Some(format!("`{host}` is not an IPv6 address"));
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Some(format!("`{host}` is not a host name"));
    }
    None
}

/// A sample value of a type, in flow syntax, for help lines.
pub fn example(ty: &ParamType) -> String {
    match ty {
        ParamType::Bool => "true".into(),
        ParamType::Int => "100".into(),
        ParamType::Float => "0.5".into(),
        ParamType::String => "\"text\"".into(),
        ParamType::Duration => "30s".into(),
        ParamType::ByteSize => "64KiB".into(),
        ParamType::Path => "\"/var/lib/sluice/data\"".into(),
        ParamType::Glob => "\"/var/log/*.log\"".into(),
        ParamType::Regex => "r\"^(\\S+)\"".into(),
        ParamType::Template => "\"/var/log/out/%Y-%m-%d\"".into(),
        ParamType::Url => "\"http://127.0.0.1:8080/ingest\"".into(),
        ParamType::Address => "\"0.0.0.0:6000\"".into(),
        ParamType::Enum(words) => words.first().map_or("\"\"".into(), |w| w.to_string()),
        ParamType::EnumOrDuration(words) => words.first().map_or("1s".into(), |w| w.to_string()),
        ParamType::List(inner) => format!("[{}]", example(inner)),
        ParamType::Map(inner) => format!("{{ name = {} }}", example(inner)),
        ParamType::Record { fields, .. } => {
            let required: Vec<String> = fields
                .iter()
                .filter(|f| f.required)
                .map(|f| format!("{} = {}", f.name, example(&f.ty)))
                .collect();
            format!("{{ {} }}", required.join(", "))
        }
        ParamType::Ref(role) => format!("{role}_name"),
        ParamType::BoolExpr => ".level == \"ERROR\"".into(),
        ParamType::ScalarExpr => "upper(.level)".into(),
    }
}

/// A list that names a regex's capture groups (`#[param(groups_of = "regex")]`) must have
/// one name per group.
fn check_group_names(spec: &ComponentSpec, params: &[Param], diags: &mut Vec<Diagnostic>) {
    for field in spec.params.iter() {
        let Some(regex_param) = field.groups_of else {
            continue;
        };
        let written = |name: &str| params.iter().find(|p| p.name.name == name);
        let (Some(names), Some(regex)) = (written(field.name), written(regex_param)) else {
            continue;
        };
        let (ValueKind::List(items), Some(Literal::Str(pattern))) =
            (&names.value.kind, regex.value.literal())
        else {
            continue;
        };
        let Ok(compiled) = regex::Regex::new(pattern) else {
            continue;
        };
        let groups = compiled.captures_len() - 1;
        if groups != items.len() {
            diags.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    names.value.span,
                    format!("`{}` has {} names but `{regex_param}` has {groups} capture groups", field.name, items.len()),
                )
                .label(format!("expected {groups} names"))
                .note(regex.value.span, format!("{groups} capture groups here"))
                .help("give one name per `( )` group; use `(?: )` for groups that should not become headers"),
            );
        }
    }
}
