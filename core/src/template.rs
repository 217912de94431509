//! Path templates (`/var/log/%{service}/%Y-%m-%d`): the grammar the checker validates
//! and `file_roll` fills in per event.

use std::fmt;

/// One piece of a parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    /// `%{name}`: the value of header `name`.
    Header(String),
}

/// Why a template does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// `%{}`.
    EmptyHeader,
    /// `%{name` with no `}`.
    Unclosed(String),
    /// `%q`.
    UnknownEscape(char),
    /// A lone `%` at the end.
    TrailingPercent,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::EmptyHeader => f.write_str("`%{}` needs a header name"),
            TemplateError::Unclosed(name) => write!(f, "`%{{{name}` is not closed with `}}`"),
            TemplateError::UnknownEscape(c) => write!(f, "unknown escape `%{c}`"),
            TemplateError::TrailingPercent => {
                f.write_str("a lone `%` ends the template (write `%%`)")
            }
        }
    }
}

impl std::error::Error for TemplateError {}

/// What the escapes mean, for help texts.
pub const SYNTAX_HELP: &str =
    "templates use %Y %m %d %H %M %S, %% for a percent sign, and %{header}";

/// Parses a template into text and placeholders; adjacent text is merged.
pub fn parse(template: &str) -> Result<Vec<Part>, TemplateError> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        let part = match chars.next() {
            Some('%') => {
                text.push('%');
                continue;
            }
            Some('Y') => Part::Year,
            Some('m') => Part::Month,
            Some('d') => Part::Day,
            Some('H') => Part::Hour,
            Some('M') => Part::Minute,
            Some('S') => Part::Second,
            Some('{') => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if !closed {
                    return Err(TemplateError::Unclosed(name));
                }
                if name.is_empty() {
                    return Err(TemplateError::EmptyHeader);
                }
                Part::Header(name)
            }
            Some(other) => return Err(TemplateError::UnknownEscape(other)),
            None => return Err(TemplateError::TrailingPercent),
        };
        if !text.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut text)));
        }
        parts.push(part);
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_errors() {
        assert_eq!(
            parse("/out/%Y/%{host}%%x"),
            Ok(vec![
                Part::Text("/out/".into()),
                Part::Year,
                Part::Text("/".into()),
                Part::Header("host".into()),
                Part::Text("%x".into()),
            ])
        );
        assert_eq!(parse("%{}"), Err(TemplateError::EmptyHeader));
        assert_eq!(
            parse("a%{host"),
            Err(TemplateError::Unclosed("host".into()))
        );
        assert_eq!(parse("%q"), Err(TemplateError::UnknownEscape('q')));
        assert_eq!(parse("50%"), Err(TemplateError::TrailingPercent));
    }
}
