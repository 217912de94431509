//! Typed expressions: what the checker learned about an expression (every node's static
//! type, each call resolved to a [`Function`], regex operands as patterns), so the code
//! generator emits Rust without looking anything up again.

use sluice_core::functions::{ExprType, Function};
pub use sluice_dsl::BinaryOp;

/// An expression and its static type.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub ty: ExprType,
    pub kind: ExprKind,
}

/// A literal value of an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Lit(Literal),
    /// The value of a header; `null` when absent.
    Header(String),
    /// The body as text.
    Body,
    Not(Box<Expr>),
    Neg(Box<Expr>),
    /// Any binary operator but `=~`/`!~`.
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `subject =~ pattern` (or `!~` when `negated`).
    Match {
        subject: Box<Expr>,
        pattern: String,
        negated: bool,
    },
    Call {
        function: Function,
        args: Vec<Expr>,
    },
    /// What an expression the checker rejected stands for (never reaches code
    /// generation: a flow with errors is not generated).
    Invalid,
}

impl Expr {
    pub fn new(ty: ExprType, kind: ExprKind) -> Expr {
        Expr { ty, kind }
    }

    /// Whether the value is always `true` or `false`, never `null`: comparisons and the
    /// boolean connectives are; `!x` is when `x` is. Such an expression can be evaluated
    /// as a plain Rust `bool`.
    pub fn never_null_bool(&self) -> bool {
        match &self.kind {
            ExprKind::Lit(Literal::Bool(_)) => true,
            ExprKind::Binary { op, .. } => matches!(
                op,
                BinaryOp::And
                    | BinaryOp::Or
                    | BinaryOp::Eq
                    | BinaryOp::Ne
                    | BinaryOp::Lt
                    | BinaryOp::Le
                    | BinaryOp::Gt
                    | BinaryOp::Ge
            ),
            ExprKind::Not(inner) => inner.never_null_bool(),
            ExprKind::Call { function, .. } => *function == Function::Exists,
            _ => false,
        }
    }
}
