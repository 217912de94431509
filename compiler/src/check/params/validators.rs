//! The content of string values (regexes, globs, templates, URLs, addresses), examples
//! of each type for help texts, and capture-group names against their regex.

use sluice_dsl::{Literal, Param, Span, ValueKind};
use sluice_runtime::catalogue::{ComponentSpec, ParamSpec, ParamType};

use crate::check::expr::regex_error_summary;
use crate::diagnostic::{Code, Diagnostic};

/// Checks the content of a string given for a string-like type.
pub(super) fn validate_string(
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
        ParamType::Storage => sluice_core::url::parse_storage(s).err().and_then(|problem| {
            invalid(format!("invalid location in `{}`", field.name), problem).map(|d| {
                d.help("write a directory (\"/data/lake\", \"file:///data/lake\") or \"s3://bucket/prefix\"")
            })
        }),
        ParamType::Column => sluice_core::column::parse("column", s).err().and_then(|problem| {
            let help = match &problem {
                sluice_core::column::ColumnError::UnknownType(ty) => {
                    crate::suggest::did_you_mean(ty, sluice_core::column::ColumnType::WORDS)
                }
                _ => None,
            };
            invalid(format!("invalid column in `{}`", field.name), problem.to_string())
                .map(|d| d.help(help.unwrap_or_else(|| sluice_core::column::SYNTAX_HELP.into())))
        }),
        ParamType::MetricName => sluice_core::metric_name::problem(s).and_then(|problem| {
            invalid(format!("invalid name in `{}`", field.name), problem)
                .map(|d| d.help("Prometheus names look like \"http_requests_total\" or \"status\""))
        }),
        ParamType::Url => sluice_core::url::parse_http(s).err().and_then(|problem| {
            invalid(format!("invalid URL in `{}`", field.name), problem)
                .map(|d| d.help("for example \"http://127.0.0.1:8080/ingest\""))
        }),
        ParamType::Address => sluice_core::address::problem(s).and_then(|problem| {
            invalid(format!("invalid address in `{}`", field.name), problem).map(|d| {
                d.help(
                    "write `host:port`, e.g. \"0.0.0.0:514\", \"127.0.0.1:9000\" or \"[::1]:9000\"",
                )
            })
        }),
        _ => None,
    }
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
        ParamType::Storage => "\"s3://bucket/logs\"".into(),
        ParamType::Column => "\"int .status\"".into(),
        ParamType::MetricName => "\"requests_total\"".into(),
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
        ParamType::Window => "tumbling(1m)".into(),
        ParamType::Aggregate => "count()".into(),
    }
}

/// A list that names a regex's capture groups (`#[param(groups_of = "regex")]`) must have
/// one name per group.
pub(super) fn check_group_names(
    spec: &ComponentSpec,
    params: &[Param],
    diags: &mut Vec<Diagnostic>,
) {
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
