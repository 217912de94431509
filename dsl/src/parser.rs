//! Source text → [`File`]. The grammar lives in `flow.pest`; this module drives it one
//! top-level item at a time so one run reports a syntax error in every broken item, and
//! turns pest's pairs into the typed AST.

use std::time::Duration;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;

use crate::ast::*;
use crate::comments::scan_comments;
use crate::syntax_error::{describe_pest_error, SyntaxError};

#[derive(pest_derive::Parser)]
#[grammar = "flow.pest"]
pub(crate) struct FlowParser;

/// The result of parsing: the items that parsed, and an error for each that did not.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub file: File,
    pub errors: Vec<SyntaxError>,
}

/// Parses a whole `.flow` source. Never panics; broken items become [`SyntaxError`]s and
/// parsing resumes at the next line that starts a top-level item.
pub fn parse(src: &str) -> Parsed {
    pest::set_error_detail(true);
    let mut file = File {
        items: Vec::new(),
        comments: scan_comments(src),
    };
    let mut errors = Vec::new();
    let mut pos = skip_trivia(src, 0);
    while pos < src.len() {
        match FlowParser::parse(Rule::item, &src[pos..]) {
            Ok(mut pairs) => {
                let pair = pairs.next().expect("pest returns the item pair on success");
                let end = pos + pair.as_span().end();
                let mut builder = Builder {
                    base: pos,
                    errors: &mut errors,
                };
                if let Some(item) = builder.item(pair) {
                    file.items.push(item);
                }
                pos = skip_trivia(src, end);
            }
            Err(err) => {
                errors.push(describe_pest_error(&err, pos, src));
                pos = skip_trivia(src, next_item_start(src, pos));
            }
        }
    }
    Parsed { file, errors }
}

/// Parses a single value (`10_000`, `"text"`, `30s`, `[1, 2]`), e.g. a catalogue default.
pub fn parse_value(text: &str) -> Result<Value, SyntaxError> {
    let mut errors = Vec::new();
    let result = match FlowParser::parse(Rule::value, text) {
        Ok(pairs) if pairs.as_str().len() == text.trim_end().len() => {
            let pair = pairs
                .into_iter()
                .next()
                .expect("pest returns the value pair on success");
            let mut builder = Builder {
                base: 0,
                errors: &mut errors,
            };
            Ok(builder.value(pair))
        }
        Ok(_) => Err(SyntaxError {
            span: Span::new(0, text.len()),
            message: format!("`{text}` is not a single value"),
            label: "not a value".into(),
            help: None,
        }),
        Err(err) => Err(describe_pest_error(&err, 0, text)),
    };
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => result,
    }
}

/// Skips spaces, line breaks and comments.
fn skip_trivia(src: &str, mut pos: usize) -> usize {
    let bytes = src.as_bytes();
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\r' | b'\n' => pos += 1,
            b'#' => pos = line_end(src, pos),
            b'/' if bytes.get(pos + 1) == Some(&b'/') => pos = line_end(src, pos),
            _ => break,
        }
    }
    pos
}

fn line_end(src: &str, pos: usize) -> usize {
    src[pos..].find('\n').map_or(src.len(), |i| pos + i)
}

const ITEM_KEYWORDS: [&str; 9] = [
    "agent",
    "test",
    "use",
    "source",
    "channel",
    "sink",
    "transform",
    "group",
    "flow",
];

/// Where to resume after a broken item: the first later line that starts like an item
/// (`KEYWORD NAME` — a keyword followed by `=` is a parameter, not an item).
fn next_item_start(src: &str, item_start: usize) -> usize {
    let mut line_start = line_end(src, item_start);
    while line_start < src.len() {
        let line_start_next = line_end(src, line_start + 1);
        let line = &src[line_start + 1..line_start_next];
        let trimmed = line.trim_start();
        for kw in ITEM_KEYWORDS {
            if let Some(rest) = trimmed.strip_prefix(kw) {
                let starts_item = rest.starts_with([' ', '\t'])
                    && rest
                        .trim_start()
                        .starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '"');
                if starts_item {
                    return line_start + 1 + (line.len() - trimmed.len());
                }
            }
        }
        line_start = line_start_next;
    }
    src.len()
}

fn pratt() -> &'static PrattParser<Rule> {
    use std::sync::OnceLock;
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::or, Assoc::Left))
            .op(Op::infix(Rule::and, Assoc::Left))
            .op(Op::infix(Rule::eq, Assoc::Left)
                | Op::infix(Rule::ne, Assoc::Left)
                | Op::infix(Rule::lt, Assoc::Left)
                | Op::infix(Rule::le, Assoc::Left)
                | Op::infix(Rule::gt, Assoc::Left)
                | Op::infix(Rule::ge, Assoc::Left)
                | Op::infix(Rule::re_match, Assoc::Left)
                | Op::infix(Rule::re_not_match, Assoc::Left))
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left)
                | Op::infix(Rule::div, Assoc::Left)
                | Op::infix(Rule::rem, Assoc::Left))
            .op(Op::prefix(Rule::not) | Op::prefix(Rule::neg))
    })
}

/// Turns pest pairs into AST nodes, shifting spans by `base` (the item's offset in the file).
/// Problems pest cannot see (bad escapes, integers out of range) are pushed to `errors`.
struct Builder<'e> {
    base: usize,
    errors: &'e mut Vec<SyntaxError>,
}

impl Builder<'_> {
    /// The pair's span in the file. pest lets a rule that ends in an optional or repeated
    /// part swallow the whitespace and comments skipped before it; those are trimmed so a
    /// span ends at the node's last token.
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        let len = trimmed_len(s.as_str());
        Span::new(self.base + s.start(), self.base + s.start() + len)
    }

    fn error(&mut self, span: Span, message: impl Into<String>, help: Option<&str>) {
        let message = message.into();
        self.errors.push(SyntaxError {
            span,
            label: message.clone(),
            message,
            help: help.map(str::to_owned),
        });
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        Ident {
            span: self.span(&pair),
            name: pair.as_str().to_owned(),
        }
    }

    fn item(&mut self, pair: Pair<Rule>) -> Option<Item> {
        let inner = pair.into_inner().next()?;
        Some(match inner.as_rule() {
            Rule::agent => Item::Agent(self.agent(inner)),
            Rule::use_crate => Item::Use(self.use_crate(inner)),
            Rule::component => Item::Component(self.component(inner)),
            Rule::flow => Item::Flow(self.flow(inner)),
            Rule::test_block => Item::Test(self.test(inner)),
            _ => unreachable!("item is agent | use_crate | component | flow | test_block"),
        })
    }

    fn agent(&mut self, pair: Pair<Rule>) -> AgentDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // kw_agent
        let name = self.string(inner.next().expect("agent name"));
        let params = inner.next().map(|p| self.params(p));
        AgentDecl { name, params, span }
    }

    fn test(&mut self, pair: Pair<Rule>) -> TestDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // kw_test
        let name = self.string(inner.next().expect("test name"));
        let params = self.params(inner.next().expect("test params"));
        TestDecl { name, params, span }
    }

    fn use_crate(&mut self, pair: Pair<Rule>) -> UseDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // kw_use
        let first = inner.next().expect("use target");
        let target = match first.as_rule() {
            Rule::string => UseTarget::Path(self.string(first)),
            _ => UseTarget::Dependency {
                name: self.ident(first),
                params: self.params(inner.next().expect("use params")),
            },
        };
        UseDecl { target, span }
    }

    fn component(&mut self, pair: Pair<Rule>) -> ComponentDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let role_pair = inner.next().expect("role");
        let role_span = self.span(&role_pair);
        let role = match role_pair.into_inner().next().map(|p| p.as_rule()) {
            Some(Rule::kw_source) => Role::Source,
            Some(Rule::kw_channel) => Role::Channel,
            Some(Rule::kw_sink) => Role::Sink,
            Some(Rule::kw_transform) => Role::Transform,
            _ => Role::Group,
        };
        let name = self.ident(inner.next().expect("name"));
        let kind = self.ident(inner.next().expect("kind"));
        let params = inner.next().map(|p| self.params(p));
        ComponentDecl {
            role,
            role_span,
            name,
            kind,
            params,
            span,
        }
    }

    fn params(&mut self, pair: Pair<Rule>) -> ParamBlock {
        let span = self.span(&pair);
        let params = pair
            .into_inner()
            .map(|param| {
                let span = self.span(&param);
                let mut inner = param.into_inner();
                let name = self.ident(inner.next().expect("param name"));
                let value = self.value(inner.next().expect("param value"));
                Param { name, value, span }
            })
            .collect();
        ParamBlock { params, span }
    }

    fn value(&mut self, pair: Pair<Rule>) -> Value {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect("value has one child");
        let kind = match inner.as_rule() {
            Rule::list => ValueKind::List(inner.into_inner().map(|v| self.value(v)).collect()),
            Rule::map => ValueKind::Map(
                inner
                    .into_inner()
                    .map(|entry| {
                        let span = self.span(&entry);
                        let mut parts = entry.into_inner();
                        let key_pair = parts.next().expect("map key");
                        let key = if key_pair.as_rule() == Rule::string {
                            let s = self.string(key_pair);
                            Ident {
                                name: s.value,
                                span: s.span,
                            }
                        } else {
                            self.ident(key_pair)
                        };
                        let value = self.value(parts.next().expect("map value"));
                        MapEntry { key, value, span }
                    })
                    .collect(),
            ),
            Rule::env_call => {
                let mut parts = inner.into_inner();
                parts.next(); // kw_env
                let name = self.string(parts.next().expect("env name"));
                let default = parts.next().map(|d| self.string(d));
                ValueKind::Env(EnvCall { name, default })
            }
            Rule::expr => ValueKind::Expr(self.expr(inner)),
            other => unreachable!("unexpected value rule {other:?}"),
        };
        Value { kind, span }
    }

    fn expr(&mut self, pair: Pair<Rule>) -> Expr {
        let pairs = pair.into_inner();
        // The Pratt parser takes closures; collect errors in a local list to satisfy the
        // borrow checker, then append them.
        let base = self.base;
        let mut local_errors = Vec::new();
        let expr = {
            let cell = std::cell::RefCell::new(Builder {
                base,
                errors: &mut local_errors,
            });
            let expr = pratt()
                .map_primary(|p| cell.borrow_mut().primary(p))
                .map_prefix(|op, operand| {
                    let b = cell.borrow();
                    let op_span = b.span(&op);
                    Expr {
                        span: op_span.to(operand.span),
                        kind: ExprKind::Unary {
                            op: if op.as_rule() == Rule::not {
                                UnaryOp::Not
                            } else {
                                UnaryOp::Neg
                            },
                            operand: Box::new(operand),
                        },
                    }
                })
                .map_infix(|lhs, op, rhs| {
                    let b = cell.borrow();
                    let op_span = b.span(&op);
                    let op = match op.as_rule() {
                        Rule::or => BinaryOp::Or,
                        Rule::and => BinaryOp::And,
                        Rule::eq => BinaryOp::Eq,
                        Rule::ne => BinaryOp::Ne,
                        Rule::lt => BinaryOp::Lt,
                        Rule::le => BinaryOp::Le,
                        Rule::gt => BinaryOp::Gt,
                        Rule::ge => BinaryOp::Ge,
                        Rule::re_match => BinaryOp::Match,
                        Rule::re_not_match => BinaryOp::NotMatch,
                        Rule::add => BinaryOp::Add,
                        Rule::sub => BinaryOp::Sub,
                        Rule::mul => BinaryOp::Mul,
                        Rule::div => BinaryOp::Div,
                        _ => BinaryOp::Rem,
                    };
                    Expr {
                        span: lhs.span.to(rhs.span),
                        kind: ExprKind::Binary {
                            op,
                            op_span,
                            lhs: Box::new(lhs),
                            rhs: Box::new(rhs),
                        },
                    }
                })
                .parse(pairs);
            expr
        };
        self.errors.extend(local_errors);
        expr
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::paren => ExprKind::Paren(Box::new(
                self.expr(pair.into_inner().next().expect("inner")),
            )),
            Rule::call => {
                let mut inner = pair.into_inner();
                let func = self.ident(inner.next().expect("function name"));
                let args = inner.map(|a| self.expr(a)).collect();
                ExprKind::Call { func, args }
            }
            Rule::header => {
                let name = pair.into_inner().next().expect("header name");
                if name.as_rule() == Rule::string {
                    ExprKind::Header(self.string(name).value)
                } else {
                    ExprKind::Header(name.as_str().to_owned())
                }
            }
            Rule::body => ExprKind::Body,
            Rule::reference => ExprKind::Ref(pair.as_str().to_owned()),
            _ => ExprKind::Lit(self.literal(pair)),
        };
        Expr { kind, span }
    }

    fn literal(&mut self, pair: Pair<Rule>) -> Literal {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::integer => match parse_digits(pair.as_str()) {
                Some(n) => Literal::Int(n),
                None => {
                    self.error(
                        span,
                        "integer is too large",
                        Some("integers must fit in 64 bits (at most 9_223_372_036_854_775_807)"),
                    );
                    Literal::Int(0)
                }
            },
            Rule::float => Literal::Float(pair.as_str().replace('_', "").parse().unwrap_or(0.0)),
            Rule::boolean => Literal::Bool(pair.as_str() == "true"),
            Rule::null => Literal::Null,
            Rule::string => Literal::Str(self.string(pair).value),
            Rule::duration => {
                let mut inner = pair.into_inner();
                let amount = parse_digits(inner.next().expect("digits").as_str());
                let unit = inner.next().expect("unit").as_str();
                // The grammar only admits units of the table.
                let millis_per_unit = sluice_core::units::millis_per(unit).unwrap_or(0);
                match amount.and_then(|n| (n as u64).checked_mul(millis_per_unit)) {
                    Some(ms) => Literal::Duration(Duration::from_millis(ms)),
                    None => {
                        self.error(span, "duration is too large", None);
                        Literal::Duration(Duration::ZERO)
                    }
                }
            }
            Rule::size => {
                let mut inner = pair.into_inner();
                let amount = parse_digits(inner.next().expect("digits").as_str());
                let unit = inner.next().expect("unit").as_str();
                let bytes_per_unit = sluice_core::units::bytes_per(unit).unwrap_or(0);
                match amount.and_then(|n| (n as u64).checked_mul(bytes_per_unit)) {
                    Some(bytes) => Literal::Size(bytes),
                    None => {
                        self.error(span, "byte size is too large", None);
                        Literal::Size(0)
                    }
                }
            }
            other => unreachable!("not a literal: {other:?}"),
        }
    }

    fn string(&mut self, pair: Pair<Rule>) -> StringLit {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect("string has one form");
        let text = inner.as_str();
        let value = if inner.as_rule() == Rule::raw_string {
            let hashes = text[1..].chars().take_while(|&c| c == '#').count();
            text[2 + hashes..text.len() - 1 - hashes].to_owned()
        } else {
            match unescape(&text[1..text.len() - 1]) {
                Ok(s) => s,
                Err((offset, len, message)) => {
                    let start = span.start + 1 + offset;
                    self.error(
                        Span::new(start, start + len),
                        message,
                        Some(
                            "valid escapes are \\n \\r \\t \\0 \\\\ \\\" \\' and \\u{XXXX}; \
                             for regexes use a raw string, r\"...\"",
                        ),
                    );
                    String::new()
                }
            }
        };
        StringLit { value, span }
    }

    fn flow(&mut self, pair: Pair<Rule>) -> FlowStmt {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        inner.next(); // kw_flow
        let head = self.ident(inner.next().expect("flow head"));
        let mut transforms = Vec::new();
        let mut steps = Vec::new();
        for part in inner {
            match part.as_rule() {
                Rule::pipe_step => {
                    transforms.push(self.ident(part.into_inner().next().expect("transform")))
                }
                Rule::arrow_step => {
                    let target = part.into_inner().next().expect("target");
                    steps.push(match target.as_rule() {
                        Rule::route => Step::Route(self.route(target)),
                        Rule::channel_list => Step::List {
                            span: self.span(&target),
                            names: target.into_inner().map(|i| self.ident(i)).collect(),
                        },
                        _ => Step::Name(self.ident(target)),
                    });
                }
                _ => {}
            }
        }
        FlowStmt {
            head,
            transforms,
            steps,
            span,
        }
    }

    fn route(&mut self, pair: Pair<Rule>) -> Route {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let keyword_span = self.span(&inner.next().expect("kw_route"));
        let key = self.expr(inner.next().expect("route key"));
        let arms = inner
            .map(|arm| {
                let span = self.span(&arm);
                let mut parts = arm.into_inner();
                let pats = parts.next().expect("patterns");
                let patterns = if pats.as_rule() == Rule::wildcard {
                    Patterns::Wildcard(self.span(&pats))
                } else {
                    Patterns::Values(pats.into_inner().map(|p| self.pattern(p)).collect())
                };
                let target = parts.next().expect("arm target");
                let target = if target.as_rule() == Rule::kw_drop {
                    ArmTarget::Drop(self.span(&target))
                } else {
                    ArmTarget::Name(self.ident(target))
                };
                Arm {
                    patterns,
                    target,
                    span,
                }
            })
            .collect();
        Route {
            keyword_span,
            key,
            arms,
            span,
        }
    }

    fn pattern(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let mut parts = pair.into_inner().peekable();
        let negative = parts.peek().map(|p| p.as_rule()) == Some(Rule::neg);
        if negative {
            parts.next();
        }
        let lit = self.literal(parts.next().expect("pattern literal"));
        let lit = match (negative, lit) {
            (true, Literal::Int(n)) => Literal::Int(-n),
            (true, Literal::Float(f)) => Literal::Float(-f),
            (true, other) => {
                self.error(span, "only numbers can be negated in a route pattern", None);
                other
            }
            (false, other) => other,
        };
        Expr {
            kind: ExprKind::Lit(lit),
            span,
        }
    }
}

/// The length of `text` without trailing whitespace and comments.
fn trimmed_len(text: &str) -> usize {
    let mut len = text.trim_end().len();
    if text[..len].contains(['#', '/']) {
        if let Some(last) = scan_comments(&text[..len]).last() {
            if last.span.end == len {
                len = text[..last.span.start].trim_end().len();
            }
        }
    }
    len
}

/// `10_000` → 10000; `None` when it does not fit in an `i64`.
fn parse_digits(text: &str) -> Option<i64> {
    text.bytes()
        .filter(|b| *b != b'_')
        .try_fold(0i64, |acc, b| {
            acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        })
}

/// Decodes the escapes of a normal string body. On error returns the byte offset and length
/// of the bad escape within `body` and a message.
fn unescape(body: &str) -> Result<String, (usize, usize, String)> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, esc)) = chars.next() else {
            return Err((i, 1, "unfinished escape".into()));
        };
        match esc {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            '0' => out.push('\0'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            'u' => {
                let rest = &body[i + 2..];
                let close = rest.find('}').unwrap_or(rest.len());
                let len = 2 + close + 1;
                let hex = rest.get(1..close).unwrap_or("");
                match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if rest.starts_with('{') && !hex.is_empty() => out.push(ch),
                    _ => {
                        return Err((
                            i,
                            len.min(body.len() - i),
                            format!(
                                "invalid unicode escape `{}`",
                                &body[i..(i + len).min(body.len())]
                            ),
                        ))
                    }
                }
                for _ in 0..close + 1 {
                    chars.next();
                }
            }
            other => {
                return Err((
                    i,
                    1 + other.len_utf8(),
                    format!("unknown escape `\\{other}` in string"),
                ))
            }
        }
    }
    Ok(out)
}
