//! `flow!{ … }`: a Sluice flow embedded in a Rust program.
//!
//! The flow is checked when the program compiles, by the same checker as `sluice check`:
//! each problem becomes a compile error at the token it is about. It expands to a
//! `sluice_runtime::embed::Embedded`, which the program runs on its own tokio runtime:
//!
//! ```ignore
//! let agent = sluice_flow::flow! {
//!     source orders = in_process { endpoint = "orders" }
//!     channel mem = memory
//!     sink out = logger
//!     flow orders -> mem -> out
//! };
//! agent.run().await?;
//! ```
//!
//! The flow is written as in a `.flow` file, with two differences the Rust tokenizer
//! imposes: comments are `//` (not `#`), and strings use Rust's quoting (`r"\d+"` for a
//! regex). A flow can also be given as one string literal: `flow!(r#"…"#)`. `use` paths
//! are relative to the program's crate directory. The program enables the runtime
//! features of the components it uses (`sluice-runtime = { features = ["agent",
//! "channel-memory", "source-in-process", …] }`); a missing one is a compile error
//! naming it.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2, TokenTree};
use quote::quote;
use sluice_compiler::{check_with, codegen, diagnostic::Severity, ir, SourceFile};

/// A flow checked at compile time, as a value to run (see the crate docs).
#[proc_macro]
pub fn flow(input: TokenStream) -> TokenStream {
    expand(input.into())
        .unwrap_or_else(|errors| {
            // The errors, then a value of the right type, so rustc reports nothing else.
            let errors = errors.into_compile_error();
            quote! {
                {
                    #errors
                    sluice_runtime::embed::Embedded::unbuildable()
                }
            }
        })
        .into()
}

fn expand(input: TokenStream2) -> syn::Result<TokenStream2> {
    let text = FlowText::from_tokens(input.clone())?;
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let source = SourceFile::new("flow.flow", text.text.clone()).with_dir(dir);
    // No cargo runs inside rustc: `use` takes crate directories only.
    let checked = check_with(&source, false);
    let flow = ir::lower(&source, &checked).map_err(|diagnostics| {
        let mut errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                let mut message = format!("[{}] {}", d.code, d.message);
                if !d.label.is_empty() {
                    message.push_str(&format!(": {}", d.label));
                }
                if let Some(help) = &d.help {
                    message.push_str(&format!("\nhelp: {help}"));
                }
                syn::Error::new(text.span_at(d.span.start), message)
            });
        let first = errors
            .next()
            .unwrap_or_else(|| syn::Error::new(Span::call_site(), "the flow cannot be built"));
        errors.fold(first, |mut all, e| {
            all.combine(e);
            all
        })
    })?;
    let (agent, features) = codegen::emit_embedded(&flow);
    let checks = features.iter().map(|feature| {
        let message = format!(
            "this flow needs sluice-runtime's feature `{feature}`: add it to the features of \
             `sluice-runtime` in Cargo.toml"
        );
        quote!(
            const _: () = ::std::assert!(
                sluice_runtime::catalogue::features::enabled(#feature),
                #message
            );
        )
    });
    Ok(quote! {
        {
            #(#checks)*
            #agent
        }
    })
}

/// The flow's text, rebuilt from the tokens where they stand (newlines end items), with
/// the span of each token for errors.
struct FlowText {
    text: String,
    /// (start offset in `text`, end offset, span), in order.
    tokens: Vec<(usize, usize, Span)>,
}

impl FlowText {
    fn from_tokens(input: TokenStream2) -> syn::Result<Self> {
        // `flow!(r#"…"#)`: the text as written.
        let trees: Vec<TokenTree> = input.clone().into_iter().collect();
        if let [TokenTree::Literal(literal)] = trees.as_slice() {
            if let Ok(lit) = syn::parse2::<syn::LitStr>(TokenTree::Literal(literal.clone()).into())
            {
                let text = lit.value();
                return Ok(FlowText {
                    tokens: vec![(0, text.len(), literal.span())],
                    text,
                });
            }
        }
        let mut out = FlowText {
            text: String::new(),
            tokens: Vec::new(),
        };
        let mut at = Position {
            line: first_line(&trees),
            column: 0,
        };
        out.push_stream(input, &mut at);
        out.text.push('\n');
        Ok(out)
    }

    fn push_stream(&mut self, stream: TokenStream2, at: &mut Position) {
        for tree in stream {
            match tree {
                TokenTree::Group(group) => {
                    let (open, close) = match group.delimiter() {
                        proc_macro2::Delimiter::Brace => ("{", "}"),
                        proc_macro2::Delimiter::Bracket => ("[", "]"),
                        proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                        proc_macro2::Delimiter::None => ("", ""),
                    };
                    self.push_token(open, group.span_open(), at);
                    self.push_stream(group.stream(), at);
                    self.push_token(close, group.span_close(), at);
                }
                other => {
                    let text = other.to_string();
                    self.push_token(&text, other.span(), at);
                }
            }
        }
    }

    /// Writes `token` at its line and column, after newlines and spaces as needed.
    fn push_token(&mut self, token: &str, span: Span, at: &mut Position) {
        if token.is_empty() {
            return;
        }
        let start = span.start();
        if start.line > at.line {
            for _ in at.line..start.line {
                self.text.push('\n');
            }
            at.line = start.line;
            at.column = 0;
        }
        let pad = start.column.saturating_sub(at.column);
        // Tokens on one line stay apart even when the columns are unknown.
        let pad = if pad == 0 && needs_space(&self.text, token) {
            1
        } else {
            pad
        };
        self.text.extend(std::iter::repeat_n(' ', pad));
        let begin = self.text.len();
        self.text.push_str(token);
        self.tokens.push((begin, self.text.len(), span));
        at.column += pad + token.chars().count();
        // A token spanning lines (a multi-line string) moves the position on.
        let end = span.end();
        if end.line > at.line {
            at.line = end.line;
            at.column = end.column;
        }
    }

    /// The span of the token at `offset` of the text (or the nearest one before it).
    fn span_at(&self, offset: usize) -> Span {
        self.tokens
            .iter()
            .rev()
            .find(|(start, _, _)| *start <= offset)
            .or(self.tokens.first())
            .map_or_else(Span::call_site, |(_, _, span)| *span)
    }
}

struct Position {
    line: usize,
    column: usize,
}

fn first_line(trees: &[TokenTree]) -> usize {
    trees.first().map_or(1, |t| t.span().start().line)
}

/// Whether two adjacent tokens would merge into one if written without a space.
fn needs_space(text: &str, next: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '"';
    match (text.chars().last(), next.chars().next()) {
        (Some(a), Some(b)) => word(a) && word(b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> TokenStream2 {
        text.parse().expect("test input tokenizes")
    }

    #[test]
    fn the_text_keeps_line_breaks_so_items_stay_apart() {
        let text = FlowText::from_tokens(tokens(
            "source a = seq { count = 3 }\nchannel c = memory\nsink s = logger\nflow a -> c -> s",
        ))
        .unwrap();
        let lines: Vec<&str> = text.text.lines().collect();
        assert_eq!(
            lines,
            [
                "source a = seq { count = 3 }",
                "channel c = memory",
                "sink s = logger",
                "flow a -> c -> s"
            ]
        );
    }

    #[test]
    fn headers_operators_and_units_come_back_as_written() {
        let text = FlowText::from_tokens(tokens(
            "transform f = filter { when = .path =~ r\"^/api\" && len(body) > 10 }\nchannel c = memory { max_bytes = 64KiB }",
        ))
        .unwrap();
        assert!(
            text.text.contains(".path =~ r\"^/api\" && len(body) > 10"),
            "{}",
            text.text
        );
        assert!(text.text.contains("max_bytes = 64KiB"), "{}", text.text);
    }

    #[test]
    fn a_problem_is_an_error_at_its_token() {
        let errors = expand(tokens(
            "source a = seq\nchannel c = memory\nsink s = loger\nflow a -> c -> s",
        ))
        .unwrap_err();
        let messages: Vec<String> = errors.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("[unknown-kind] unknown sink kind `loger`"),
            "{messages:?}"
        );
        assert!(
            messages[0].contains("did you mean `logger`?"),
            "{messages:?}"
        );
        let errors = expand(tokens(
            "source a = seq\nchannel c = memory\nsink s = loger\nflow a -> c -> s",
        ))
        .unwrap_err();
        let at = errors.span().start();
        assert_eq!((at.line, at.column), (3, 9));
    }

    #[test]
    fn a_flow_in_a_string_literal_is_read_as_written() {
        let expanded = expand(tokens(
            "r#\"source a = seq # generator\nchannel c = memory\nsink s = logger\nflow a -> c -> s\"#",
        ))
        .unwrap()
        .to_string();
        assert!(expanded.contains("Embedded :: new"), "{expanded}");
        assert!(expanded.contains("\"channel-memory\""), "{expanded}");
    }
}
