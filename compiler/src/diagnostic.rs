//! Diagnostics are values: a stable code, a severity, the primary span with its label,
//! secondary labels and a help line. Checks collect them; the CLI renders them.

use std::fmt;

use sluice_dsl::Span;

/// The stable diagnostic codes of SPEC §4. Their spelling is public interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    Syntax,
    DuplicateName,
    UndefinedName,
    UnknownKind,
    UnknownParam,
    MissingParam,
    TypeMismatch,
    InvalidValue,
    Capacity,
    WrongRole,
    Cycle,
    UnfedSink,
    DeadEnd,
    Unused,
    GroupConflict,
    BindConflict,
    PathConflict,
    LossyBuffer,
    RouteNoDefault,
    ExprType,
    /// A `use` item whose crate cannot be found or read.
    BadCrate,
    /// A kind declared by a used crate that already exists (built in or in another crate).
    KindConflict,
    /// Beyond SPEC §4: a kind or value the checker accepts but `sluice build` cannot
    /// compile into an agent yet.
    Unsupported,
    /// From `sluice test`: an expectation of a flow's `test` block that did not hold.
    TestFailed,
}

impl Code {
    /// The codes of SPEC §4 (the checker's); `Unsupported` comes from `sluice build`.
    pub const ALL: [Code; 22] = [
        Code::Syntax,
        Code::DuplicateName,
        Code::UndefinedName,
        Code::UnknownKind,
        Code::UnknownParam,
        Code::MissingParam,
        Code::TypeMismatch,
        Code::InvalidValue,
        Code::Capacity,
        Code::WrongRole,
        Code::Cycle,
        Code::UnfedSink,
        Code::DeadEnd,
        Code::Unused,
        Code::GroupConflict,
        Code::BindConflict,
        Code::PathConflict,
        Code::LossyBuffer,
        Code::RouteNoDefault,
        Code::ExprType,
        Code::BadCrate,
        Code::KindConflict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "syntax",
            Code::DuplicateName => "duplicate-name",
            Code::UndefinedName => "undefined-name",
            Code::UnknownKind => "unknown-kind",
            Code::UnknownParam => "unknown-param",
            Code::MissingParam => "missing-param",
            Code::TypeMismatch => "type-mismatch",
            Code::InvalidValue => "invalid-value",
            Code::Capacity => "capacity",
            Code::WrongRole => "wrong-role",
            Code::Cycle => "cycle",
            Code::UnfedSink => "unfed-sink",
            Code::DeadEnd => "dead-end",
            Code::Unused => "unused",
            Code::GroupConflict => "group-conflict",
            Code::BindConflict => "bind-conflict",
            Code::PathConflict => "path-conflict",
            Code::LossyBuffer => "lossy-buffer",
            Code::RouteNoDefault => "route-no-default",
            Code::ExprType => "expr-type",
            Code::BadCrate => "bad-crate",
            Code::KindConflict => "kind-conflict",
            Code::Unsupported => "unsupported",
            Code::TestFailed => "test-failed",
        }
    }

    /// The severity a diagnostic of this code has.
    pub fn severity(self) -> Severity {
        match self {
            Code::Unused | Code::LossyBuffer | Code::RouteNoDefault => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in a flow file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    pub label: String,
    /// Other places that explain the problem (e.g. the first declaration of a duplicate).
    pub notes: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic of `code` at `span`, with the code's severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            span,
            label: String::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn note(mut self, span: Span, text: impl Into<String>) -> Self {
        self.notes.push((span, text.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }
}

/// Sorts diagnostics into source order (then by code) and removes exact repeats.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        (a.span.start, a.span.end, a.code, &a.message).cmp(&(
            b.span.start,
            b.span.end,
            b.code,
            &b.message,
        ))
    });
    diagnostics.dedup();
}
