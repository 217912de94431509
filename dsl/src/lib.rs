//! The Sluice `.flow` language: grammar ([`flow.pest`](../src/flow.pest)), a typed AST in
//! which every node carries its byte span, the parser, and the canonical formatter.
//!
//! ```
//! let parsed = sluice_dsl::parse("source input = stdin\nflow input -> buf\n");
//! assert!(parsed.errors.is_empty());
//! assert_eq!(parsed.file.items.len(), 2);
//! ```

pub mod ast;
mod comments;
mod format;
mod parser;
mod syntax_error;

pub use ast::*;
pub use format::format;
pub use parser::{parse, parse_value, Parsed};
pub use syntax_error::SyntaxError;
