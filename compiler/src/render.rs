//! Rendering diagnostics: `human` (miette's graphical report), `json` and `github`
//! (workflow commands that annotate a pull request).

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceFile;

/// Output format of `sluice check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
}

/// Renders one diagnostic as miette's graphical report. `color` adds ANSI colours.
pub fn human(
    source: &SourceFile,
    named: &NamedSource<String>,
    diag: &Diagnostic,
    color: bool,
) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let report = Report {
        diag,
        source: named,
        text_len: source.text.len(),
    };
    let mut out = String::new();
    // Rendering into a String cannot fail.
    let _ = handler.render_report(&mut out, &report);
    out
}

/// A miette view of a [`Diagnostic`] with its file.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: &'a NamedSource<String>,
    text_len: usize,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl Report<'_> {
    fn span(&self, span: sluice_dsl::Span) -> SourceSpan {
        let start = span.start.min(self.text_len);
        let end = span.end.clamp(start, self.text_len);
        SourceSpan::new(start.into(), end - start)
    }
}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = LabeledSpan::new_primary_with_span(
            Some(self.diag.label.clone()).filter(|l| !l.is_empty()),
            self.span(self.diag.span),
        );
        let notes =
            self.diag.notes.iter().map(|(span, text)| {
                LabeledSpan::new_with_span(Some(text.clone()), self.span(*span))
            });
        Some(Box::new(std::iter::once(primary).chain(notes)))
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: &'static str,
    code: &'static str,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    help: Option<&'a str>,
}

/// `{"diagnostics": [...]}` for every file's diagnostics.
pub fn json(files: &[(&SourceFile, &[Diagnostic])]) -> String {
    let diagnostics: Vec<JsonDiagnostic> = files
        .iter()
        .flat_map(|(source, diags)| {
            diags.iter().map(move |d| {
                let (start, end) = source.range(d.span);
                JsonDiagnostic {
                    severity: d.severity.as_str(),
                    code: d.code.as_str(),
                    message: &d.message,
                    file: &source.name,
                    line: start.line,
                    column: start.column,
                    end_line: end.line,
                    end_column: end.column,
                    help: d.help.as_deref(),
                }
            })
        })
        .collect();
    let doc = serde_json::json!({ "diagnostics": diagnostics });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// One GitHub Actions workflow command per diagnostic.
pub fn github(source: &SourceFile, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let (start, end) = source.range(d.span);
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            d.severity.as_str(),
            escape_property(&source.name),
            start.line,
            start.column,
            end.line,
            end.column,
            d.code.as_str(),
            escape_data(&message)
        ));
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
