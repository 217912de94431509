//! The canonical layout of a `.flow` file.
//!
//! Rules: four-space indents; one parameter per line; lists and maps inline when they fit
//! in [`MAX_WIDTH`] columns and hold no comments, else one element per line; flows on one
//! line, with route arms one per line and their `=>` aligned; literals keep the spelling
//! the author chose (`10_000`, raw strings); at most one blank line is kept between lines,
//! and every comment is kept — own-line comments before the line that follows them,
//! end-of-line comments at the end of their line.

use crate::ast::*;

/// Lines longer than this are broken where the layout allows it.
pub const MAX_WIDTH: usize = 100;

/// Formats a parsed file. `file` must come from `src` without syntax errors.
pub fn format(src: &str, file: &File) -> String {
    let mut f = Formatter {
        src,
        comments: &file.comments,
        next_comment: 0,
        out: String::with_capacity(src.len()),
        last_pos: 0,
        at_block_start: true,
    };
    for item in &file.items {
        f.line_start(item.span().start, 0);
        match item {
            Item::Agent(agent) => {
                f.out.push_str("agent ");
                f.out.push_str(f.text(agent.name.span));
                f.block(agent.params.as_ref(), 0);
            }
            Item::Use(u) => match &u.target {
                UseTarget::Path(path) => {
                    f.out.push_str("use ");
                    f.out.push_str(f.text(path.span));
                }
                UseTarget::Dependency { name, params } => {
                    f.out.push_str(&format!("use {} =", name.name));
                    if params.params.is_empty() && !f.has_comments_in(params.span) {
                        f.out.push_str(" {}");
                    } else {
                        f.block(Some(params), 0);
                    }
                }
            },
            Item::Component(c) => {
                let header = format!("{} {} = {}", c.role, c.name.name, c.kind.name);
                f.out.push_str(&header);
                f.block(c.params.as_ref(), 0);
            }
            Item::Flow(flow) => f.flow(flow),
            Item::Test(test) => {
                f.out.push_str("test ");
                f.out.push_str(f.text(test.name.span));
                if test.params.params.is_empty() && !f.has_comments_in(test.params.span) {
                    f.out.push_str(" {}");
                } else {
                    f.block(Some(&test.params), 0);
                }
            }
        }
        f.line_end(item.span().end);
    }
    f.flush_comments(src.len(), 0);
    while f.out.ends_with("\n\n") {
        f.out.pop();
    }
    f.out
}

struct Formatter<'a> {
    src: &'a str,
    comments: &'a [Comment],
    next_comment: usize,
    out: String,
    /// End of the last piece of source written; blank lines are looked for after it.
    last_pos: usize,
    /// True right after `{` or at the start of the file: no blank line goes here.
    at_block_start: bool,
}

impl<'a> Formatter<'a> {
    fn text(&self, span: Span) -> &'a str {
        &self.src[span.start..span.end]
    }

    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str("    ");
        }
    }

    /// Writes the comments that start before `pos`, each on its own line.
    fn flush_comments(&mut self, pos: usize, indent: usize) {
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.span.start >= pos {
                break;
            }
            self.blank_line_before(comment.span.start);
            self.indent(indent);
            self.out.push_str(&comment.text);
            self.out.push('\n');
            self.last_pos = comment.span.end;
            self.next_comment += 1;
        }
    }

    fn blank_line_before(&mut self, pos: usize) {
        let gap = &self.src[self.last_pos.min(pos)..pos];
        let mut segments = gap.split('\n');
        segments.next();
        segments.next_back();
        let blank = segments.any(|s| s.trim().is_empty());
        if blank && !self.at_block_start {
            self.out.push('\n');
        }
        self.at_block_start = false;
    }

    /// Starts a line for the node at `pos`: its leading comments, a kept blank line, indent.
    fn line_start(&mut self, pos: usize, indent: usize) {
        self.flush_comments(pos, indent);
        self.blank_line_before(pos);
        self.indent(indent);
        self.last_pos = pos;
    }

    /// Ends the line of a node ending at `end`: an end-of-line comment on the same source
    /// line is kept there; comments from inside the node follow on their own lines.
    fn line_end(&mut self, end: usize) {
        let mut inner = Vec::new();
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.span.start < end {
                inner.push(comment);
                self.next_comment += 1;
                continue;
            }
            // An end-of-line comment belongs to the last node on its line: only closing
            // brackets and commas may stand between this node and the comment.
            let gap = &self.src[end..comment.span.start];
            if gap
                .chars()
                .all(|c| matches!(c, ' ' | '\t' | ',' | '}' | ']' | ')'))
            {
                self.out.push_str("  ");
                self.out.push_str(&comment.text);
                self.last_pos = comment.span.end;
                self.next_comment += 1;
            }
            break;
        }
        let line = self.out.rsplit('\n').next().unwrap_or("");
        let indent = (line.len() - line.trim_start().len()) / 4;
        self.out.push('\n');
        for comment in inner {
            self.indent(indent);
            self.out.push_str(&comment.text);
            self.out.push('\n');
        }
        self.last_pos = self.last_pos.max(end);
    }

    /// Ends the line after an opening bracket of `span`. A comment after the bracket stays
    /// there only when the bracketed text spans lines in the source; on a one-line block
    /// it belongs to the end of the whole line and is written there.
    fn open_line_end(&mut self, span: Span) {
        if self.text(span).contains('\n') {
            self.line_end(span.start + 1);
        } else {
            self.out.push('\n');
            self.last_pos = span.start + 1;
        }
    }

    fn has_comments_in(&self, span: Span) -> bool {
        self.comments[self.next_comment..]
            .iter()
            .any(|c| c.span.start >= span.start && c.span.start < span.end)
    }

    /// ` { params }` after an item header; nothing when there are no params and no comments.
    fn block(&mut self, block: Option<&ParamBlock>, indent: usize) {
        let Some(block) = block else { return };
        if block.params.is_empty() && !self.has_comments_in(block.span) {
            return;
        }
        self.out.push_str(" {");
        self.open_line_end(block.span);
        self.at_block_start = true;
        for param in &block.params {
            self.line_start(param.span.start, indent + 1);
            self.out.push_str(&param.name.name);
            self.out.push_str(" = ");
            self.value(&param.value, indent + 1);
            self.line_end(param.span.end);
        }
        self.close_block(block.span.end, indent);
    }

    /// Comments before the closing `}` at `end - 1`, then the brace itself.
    fn close_block(&mut self, end: usize, indent: usize) {
        let close = end - 1;
        self.flush_comments(close, indent + 1);
        self.at_block_start = true; // no blank line before `}`
        self.line_start(close, indent);
        self.out.push('}');
        self.last_pos = end;
    }

    fn value(&mut self, value: &Value, indent: usize) {
        let inline = self.inline_value(value);
        let line_so_far = self
            .out
            .rsplit('\n')
            .next()
            .map_or(0, |l| l.chars().count());
        let fits = line_so_far + inline.chars().count() <= MAX_WIDTH;
        let multiline = !fits || self.has_comments_in(value.span);
        match &value.kind {
            ValueKind::List(items) if multiline => {
                self.out.push('[');
                self.open_line_end(value.span);
                self.at_block_start = true;
                for item in items {
                    self.line_start(item.span.start, indent + 1);
                    self.value(item, indent + 1);
                    self.out.push(',');
                    self.line_end(item.span.end);
                }
                self.flush_comments(value.span.end - 1, indent + 1);
                self.at_block_start = true;
                self.line_start(value.span.end - 1, indent);
                self.out.push(']');
                self.last_pos = value.span.end;
            }
            ValueKind::Map(entries) if multiline => {
                self.out.push('{');
                self.open_line_end(value.span);
                self.at_block_start = true;
                for entry in entries {
                    self.line_start(entry.span.start, indent + 1);
                    self.out.push_str(self.text(entry.key.span));
                    self.out.push_str(" = ");
                    self.value(&entry.value, indent + 1);
                    self.line_end(entry.span.end);
                }
                self.close_block(value.span.end, indent);
            }
            _ => {
                self.out.push_str(&inline);
                self.last_pos = value.span.end;
            }
        }
    }

    fn inline_value(&self, value: &Value) -> String {
        match &value.kind {
            ValueKind::List(items) => {
                let items: Vec<String> = items.iter().map(|v| self.inline_value(v)).collect();
                format!("[{}]", items.join(", "))
            }
            ValueKind::Map(entries) if entries.is_empty() => "{}".to_owned(),
            ValueKind::Map(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{} = {}",
                            self.text(e.key.span),
                            self.inline_value(&e.value)
                        )
                    })
                    .collect();
                format!("{{ {} }}", entries.join(", "))
            }
            ValueKind::Env(env) => match &env.default {
                Some(d) => format!("env({}, {})", self.text(env.name.span), self.text(d.span)),
                None => format!("env({})", self.text(env.name.span)),
            },
            ValueKind::Expr(e) => self.expr(e),
        }
    }

    fn expr(&self, expr: &Expr) -> String {
        match &expr.kind {
            ExprKind::Lit(_) => {
                let text = self.text(expr.span);
                match text.strip_prefix('-') {
                    Some(rest) => format!("-{}", rest.trim_start()),
                    None => text.to_owned(),
                }
            }
            ExprKind::Header(_) => self.text(expr.span).to_owned(),
            ExprKind::Body => "body".to_owned(),
            ExprKind::Ref(name) => name.clone(),
            ExprKind::Call { func, args } => {
                let args: Vec<String> = args.iter().map(|a| self.expr(a)).collect();
                format!("{}({})", func.name, args.join(", "))
            }
            ExprKind::Unary { op, operand } => {
                let sym = match op {
                    UnaryOp::Not => "!",
                    UnaryOp::Neg => "-",
                };
                format!("{sym}{}", self.expr(operand))
            }
            ExprKind::Binary { op, lhs, rhs, .. } => {
                format!("{} {} {}", self.expr(lhs), op.symbol(), self.expr(rhs))
            }
            ExprKind::Paren(inner) => format!("({})", self.expr(inner)),
        }
    }

    fn flow(&mut self, flow: &FlowStmt) {
        self.out.push_str("flow ");
        self.out.push_str(&flow.head.name);
        for t in &flow.transforms {
            self.out.push_str(" | ");
            self.out.push_str(&t.name);
        }
        for step in &flow.steps {
            self.out.push_str(" -> ");
            match step {
                Step::Name(name) => self.out.push_str(&name.name),
                Step::List { names, .. } => {
                    let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
                    self.out.push('[');
                    self.out.push_str(&names.join(", "));
                    self.out.push(']');
                }
                Step::Route(route) => self.route(route),
            }
        }
    }

    fn route(&mut self, route: &Route) {
        self.out.push_str("route ");
        let key = self.expr(&route.key);
        self.out.push_str(&key);
        self.out.push_str(" {");
        if route.arms.is_empty() && !self.has_comments_in(route.span) {
            self.out.push('}');
            return;
        }
        self.line_end(route.key.span.end);
        self.at_block_start = true;
        let patterns: Vec<String> = route
            .arms
            .iter()
            .map(|arm| match &arm.patterns {
                Patterns::Wildcard(_) => "_".to_owned(),
                Patterns::Values(values) => {
                    let values: Vec<String> = values.iter().map(|v| self.expr(v)).collect();
                    values.join(", ")
                }
            })
            .collect();
        let width = patterns
            .iter()
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(0);
        for (arm, pattern) in route.arms.iter().zip(&patterns) {
            self.line_start(arm.span.start, 1);
            let target = match &arm.target {
                ArmTarget::Drop(_) => "drop",
                ArmTarget::Name(name) => name.name.as_str(),
            };
            self.out.push_str(&format!("{pattern:<width$} => {target}"));
            self.line_end(arm.span.end);
        }
        self.close_block(route.span.end, 0);
    }
}
