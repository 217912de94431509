//! The typed syntax tree of a `.flow` file. Every node carries the byte [`Span`] it was
//! parsed from, so later stages can point diagnostics at the exact text.

use std::time::Duration;

/// A half-open byte range `start..end` into the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// A name written in the source: a component name, a kind, a parameter name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A whole parsed file. Items are in source order; comments are kept apart for the formatter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    pub comments: Vec<Comment>,
}

/// A `#` or `//` comment, without its line break.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Agent(AgentDecl),
    Use(UseDecl),
    Component(ComponentDecl),
    Flow(FlowStmt),
    Test(TestDecl),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Agent(a) => a.span,
            Item::Use(u) => u.span,
            Item::Component(c) => c.span,
            Item::Flow(f) => f.span,
            Item::Test(t) => t.span,
        }
    }
}

/// `agent "name" { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct AgentDecl {
    pub name: StringLit,
    pub params: Option<ParamBlock>,
    pub span: Span,
}

/// `test "name" { send = {...}, expect = {...} }`: a unit test of the flow, run by
/// `sluice test`; ignored by the agent.
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    pub name: StringLit,
    pub params: ParamBlock,
    pub span: Span,
}

/// `use "./components/shout"` or `use shout = { version = "0.3" }`: a crate of the
/// user's own components, whose kinds the flow can then declare like built-in ones.
#[derive(Clone, Debug, PartialEq)]
pub struct UseDecl {
    pub target: UseTarget,
    pub span: Span,
}

/// What a `use` item names.
#[derive(Clone, Debug, PartialEq)]
pub enum UseTarget {
    /// A crate directory, relative to the flow file.
    Path(StringLit),
    /// A crate by name, with its Cargo dependency settings (`version`, `path`, `git`, ...).
    Dependency { name: Ident, params: ParamBlock },
}

/// The role a component plays in the graph (shared with the catalogue and the runtime).
pub use sluice_core::Role;

/// `source NAME = KIND { PARAMS }` and its siblings for the other roles.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentDecl {
    pub role: Role,
    pub role_span: Span,
    pub name: Ident,
    pub kind: Ident,
    pub params: Option<ParamBlock>,
    pub span: Span,
}

impl ComponentDecl {
    /// The parameters written, or none when the block was omitted.
    pub fn params(&self) -> &[Param] {
        self.params.as_ref().map_or(&[], |b| &b.params)
    }
}

/// `{ a = 1, b = 2 }` after a component or agent.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamBlock {
    pub params: Vec<Param>,
    pub span: Span,
}

/// `name = value`
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub value: Value,
    pub span: Span,
}

/// The right-hand side of a parameter, a list element or a map entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    List(Vec<Value>),
    Map(Vec<MapEntry>),
    Env(EnvCall),
    /// Scalars (literals, references) are expressions too; see [`Expr::literal`].
    Expr(Expr),
}

impl Value {
    /// The literal, if this value is a plain literal.
    pub fn literal(&self) -> Option<&Literal> {
        match &self.kind {
            ValueKind::Expr(e) => e.literal(),
            _ => None,
        }
    }

    /// The referenced name, if this value is a bare name.
    pub fn reference(&self) -> Option<Ident> {
        match &self.kind {
            ValueKind::Expr(Expr {
                kind: ExprKind::Ref(name),
                span,
            }) => Some(Ident {
                name: name.clone(),
                span: *span,
            }),
            _ => None,
        }
    }

    /// A short word for the form of this value, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            ValueKind::List(_) => "a list",
            ValueKind::Map(_) => "a map",
            ValueKind::Env(_) => "env(...)",
            ValueKind::Expr(e) => e.describe(),
        }
    }
}

/// `key = value` inside a map. Keys are names or strings (`"X-Api-Key" = "..."`).
#[derive(Clone, Debug, PartialEq)]
pub struct MapEntry {
    pub key: Ident,
    pub value: Value,
    pub span: Span,
}

/// `env("NAME")` or `env("NAME", "default")`, resolved when the agent starts.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvCall {
    pub name: StringLit,
    pub default: Option<StringLit>,
}

/// A string literal with its escapes already decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StringLit {
    pub value: String,
    pub span: Span,
}

/// An expression: filter conditions, routing keys, computed headers, and plain literals.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Lit(Literal),
    /// `.level` — the header `level`; `null` when absent.
    Header(String),
    /// `body` — the event body as text.
    Body,
    /// A bare name: a reference to another component where a parameter takes one.
    Ref(String),
    Call {
        func: Ident,
        args: Vec<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Paren(Box<Expr>),
}

impl Expr {
    /// The literal, if this expression is one (parentheses are looked through).
    pub fn literal(&self) -> Option<&Literal> {
        match &self.kind {
            ExprKind::Lit(l) => Some(l),
            _ => None,
        }
    }

    pub fn describe(&self) -> &'static str {
        match &self.kind {
            ExprKind::Lit(l) => l.describe(),
            ExprKind::Ref(_) => "a name",
            _ => "an expression",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    NotMatch,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Match => "=~",
            BinaryOp::NotMatch => "!~",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::Match
            | BinaryOp::NotMatch => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 5,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Duration(Duration),
    /// A byte size, in bytes.
    Size(u64),
}

impl Literal {
    pub fn describe(&self) -> &'static str {
        match self {
            Literal::Str(_) => "a string",
            Literal::Int(_) => "an integer",
            Literal::Float(_) => "a float",
            Literal::Bool(_) => "a boolean",
            Literal::Null => "null",
            Literal::Duration(_) => "a duration",
            Literal::Size(_) => "a byte size",
        }
    }
}

/// `flow SOURCE | T1 | T2 -> TARGET -> TARGET ...`
#[derive(Clone, Debug, PartialEq)]
pub struct FlowStmt {
    pub head: Ident,
    pub transforms: Vec<Ident>,
    pub steps: Vec<Step>,
    pub span: Span,
}

/// One `-> target` of a flow.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Name(Ident),
    /// `[a, b]`: replicate into every listed channel.
    List {
        names: Vec<Ident>,
        span: Span,
    },
    Route(Route),
}

impl Step {
    pub fn span(&self) -> Span {
        match self {
            Step::Name(i) => i.span,
            Step::List { span, .. } => *span,
            Step::Route(r) => r.span,
        }
    }
}

/// `route KEY { "a", "b" => chan ... _ => other }`: the multiplexing selector.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub keyword_span: Span,
    pub key: Expr,
    pub arms: Vec<Arm>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arm {
    pub patterns: Patterns,
    pub target: ArmTarget,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Patterns {
    /// `_`: everything the other arms did not match.
    Wildcard(Span),
    /// One or more literals (each an [`Expr`] holding a [`Literal`]).
    Values(Vec<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ArmTarget {
    /// `drop`: discard the matched events explicitly.
    Drop(Span),
    Name(Ident),
}
