//! Syntax errors, and the translation of pest's "expected one of these rules/tokens"
//! into a sentence a person can act on.

use std::collections::BTreeSet;

use crate::ast::Span;
use crate::parser::Rule;

/// A place where the text does not follow the grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
}

/// Turns a pest error from parsing the item that starts at `base` into a [`SyntaxError`]
/// with an absolute span, an "expected …, found …" message and a help line.
pub(crate) fn describe_pest_error(
    err: &pest::error::Error<Rule>,
    base: usize,
    src: &str,
) -> SyntaxError {
    let offset = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let attempts = err.parse_attempts();
    let furthest = attempts
        .as_ref()
        .map_or(offset, |a| a.max_position.max(offset));
    let mut pos = base + furthest;
    // pest reports the position before skipped whitespace; point at the offending token.
    while pos < src.len() && matches!(src.as_bytes()[pos], b' ' | b'\t') {
        pos += 1;
    }
    if let Some(open) = unclosed_quote(src, pos) {
        return SyntaxError {
            span: Span::new(open, open + 1),
            message: "unterminated string".into(),
            label: "this string is never closed".into(),
            help: Some(
                "close it with `\"` on the same line; strings cannot span lines (raw strings can)"
                    .into(),
            ),
        };
    }
    let (found, found_len) = found_at(src, pos);

    let mut expected = BTreeSet::new();
    let mut rules = Vec::new();
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &err.variant {
        rules.extend(positives.iter().copied());
    }
    if let Some(attempts) = attempts {
        for token in attempts.expected_tokens() {
            // `ParsingToken` is not exported by pest; its Display is the token text.
            if let Some(d) = describe_token(&token.to_string()) {
                expected.insert(d);
            }
        }
        for stack in attempts.call_stacks() {
            if let Some(parent) = stack.parent {
                rules.push(parent);
            }
        }
    }
    let at_item_start = furthest == 0;
    for rule in &rules {
        let is_item_rule = matches!(
            rule,
            Rule::item | Rule::agent | Rule::use_crate | Rule::component | Rule::flow | Rule::role
        );
        if is_item_rule && !at_item_start {
            continue;
        }
        if let Some(d) = describe_rule(*rule) {
            expected.insert(d.to_owned());
        }
    }
    // Alternatives that subsume others: a value covers its literal forms.
    if expected.contains("a value") {
        for covered in [
            "a string", "a name", "`[`", "`{`", "`(`", "`-`", "`!`", "`.`",
        ] {
            expected.remove(covered);
        }
    }
    if expected.remove("a unit") {
        expected.insert(format!(
            "a unit ({}, or {})",
            sluice_core::units::duration_unit_list(),
            sluice_core::units::size_unit_list()
        ));
    }

    let expected: Vec<String> = expected.into_iter().collect();
    let expected_text = match expected.as_slice() {
        [] => "something else".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    };
    let message = format!("expected {expected_text}, found {found}");
    let help = help_for(&rules, &expected_text, src, base);
    SyntaxError {
        span: Span::new(pos, pos + found_len),
        label: format!("expected {expected_text}"),
        message,
        help,
    }
}

/// The opening quote of a normal string left open on the line of `pos`, if any.
fn unclosed_quote(src: &str, pos: usize) -> Option<usize> {
    let line_start = src[..pos.min(src.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[line_start..]
        .find('\n')
        .map_or(src.len(), |i| line_start + i);
    let line = &src[line_start..line_end];
    if line.contains("r\"") || line.contains("r#") {
        return None; // raw strings have no escapes; this simple scan would misread them
    }
    let mut open = None;
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if open.is_some() => {
                chars.next();
            }
            '"' => {
                open = if open.is_some() {
                    None
                } else {
                    Some(line_start + i)
                }
            }
            '#' if open.is_none() => break,
            _ => {}
        }
    }
    open
}

/// What sits at `pos`, in words, and how many bytes to underline.
fn found_at(src: &str, pos: usize) -> (String, usize) {
    let rest = &src[pos.min(src.len())..];
    let Some(c) = rest.chars().next() else {
        return ("end of file".into(), 0);
    };
    if c == '\n' || c == '\r' {
        return ("end of line".into(), 0);
    }
    if c.is_alphanumeric() || c == '_' {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        return (format!("`{word}`"), word.len());
    }
    if c == '"' {
        let len = rest[1..].find(['"', '\n']).map_or(rest.len(), |i| i + 2);
        return ("a string".into(), len.min(rest.len()));
    }
    for op in ["->", "=>", "==", "!=", "<=", ">=", "&&", "||", "=~", "!~"] {
        if rest.starts_with(op) {
            return (format!("`{op}`"), 2);
        }
    }
    (format!("`{c}`"), c.len_utf8())
}

fn describe_token(token: &str) -> Option<String> {
    Some(match token {
        "BUILTIN_RULE" => return None,
        t if t.len() == 4 && t.is_char_boundary(1) && t[1..].starts_with("..") => return None,
        " " | "\t" | "#" | "//" | "_" | "\"" | "r" | "e" | "E" | "+" | "." => return None,
        "\n" | "\r\n" | "\r" => "end of line".into(),
        t if sluice_core::units::millis_per(t).is_some()
            || sluice_core::units::bytes_per(t).is_some() =>
        {
            "a unit".into()
        }
        "true" | "false" | "null" | "body" | "env" => return None,
        t if t.chars().all(|c| c.is_ascii_alphabetic()) => format!("`{t}`"),
        "||" | "&&" | "==" | "!=" | "=~" | "!~" | "<=" | ">=" | "<" | ">" | "-" | "*" | "/"
        | "%" | "!" => return None,
        t => format!("`{t}`"),
    })
}

fn describe_rule(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::item | Rule::agent | Rule::use_crate | Rule::component | Rule::flow | Rule::role => {
            "an item (`agent`, `use`, `source`, `channel`, `sink`, `transform`, `group` or `flow`)"
        }
        Rule::ident | Rule::reference => "a name",
        Rule::string | Rule::normal_string | Rule::raw_string => "a string",
        Rule::value | Rule::expr | Rule::integer | Rule::float | Rule::duration | Rule::size => {
            "a value"
        }
        Rule::param => "a parameter (`name = value`)",
        Rule::map_entry => "a map entry (`key = value`)",
        Rule::arrow_step => "`->`",
        Rule::pipe_step => "`|`",
        Rule::arm | Rule::patterns | Rule::pattern | Rule::wildcard => {
            "a route arm (`\"value\" => target`)"
        }
        Rule::duration_unit | Rule::size_unit => "a unit",
        _ => return None,
    })
}

/// A line on how the construct being parsed is written.
fn help_for(rules: &[Rule], expected: &str, src: &str, base: usize) -> Option<String> {
    let item_start = &src[base..];
    let text = if rules
        .iter()
        .any(|r| matches!(r, Rule::arm | Rule::patterns | Rule::pattern))
    {
        "route arms are `\"A\", \"B\" => channel`, one per line, with `_ => channel` as the default"
    } else if item_start.starts_with("flow") {
        "a flow is `flow SOURCE | TRANSFORM -> CHANNEL` or `flow CHANNEL -> SINK`; \
         `[a, b]` replicates, `route EXPR { ... }` multiplexes"
    } else if item_start.starts_with("agent") {
        "the agent is declared as `agent \"NAME\" { metrics = \"127.0.0.1:9464\" }`"
    } else if expected.contains("a value")
        || rules
            .iter()
            .any(|r| matches!(r, Rule::param | Rule::value | Rule::expr))
    {
        "parameters are written `name = value`, separated by newlines or commas"
    } else if ["source", "channel", "sink", "transform", "group"]
        .iter()
        .any(|k| item_start.starts_with(k))
    {
        "a component is declared as `ROLE NAME = KIND { param = value }`, e.g. \
         `channel buf = memory { capacity = 10_000 }`"
    } else {
        "a file holds `agent`, `use`, `source`, `channel`, `sink`, `transform`, `group`, \
         `flow` and `test` items, one per line"
    };
    Some(text.to_owned())
}
