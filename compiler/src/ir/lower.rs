//! Checked AST → [`Flow`]. Runs only on a flow without errors; what the runtime cannot
//! build yet becomes an `unsupported` diagnostic.

use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use sluice_dsl::{ArmTarget, FlowStmt, Item, Param, Patterns, ValueKind};
use sluice_runtime::catalogue::{self, ComponentSpec, ParamSpec, ParamType, Purpose, Role};
use sluice_runtime::env::EnvKind;

use super::value::{Config, EnvUse, Field, Text, Value};
use sluice_core::aggregate::{self, AggregateFn, WindowForm};

use super::{
    Aggregate, Arm, Component, Delivery, Dependency, Drain, DrainTarget, Emit, EnvRule, Expr, Flow,
    Literal, Operand, Path, Route, Source, Step,
};
use crate::check::{expr as types, Checked};
use crate::crates::Catalogue;
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::{self, Symbols};
use crate::source::SourceFile;

/// Lowers a checked flow. `Err` holds the diagnostics when the flow has errors or uses
/// what cannot be built yet.
pub fn lower(source: &SourceFile, checked: &Checked) -> Result<Flow, Vec<Diagnostic>> {
    let Some(topology) = checked.topology.as_ref().filter(|_| !checked.has_errors()) else {
        return Err(checked.diagnostics.clone());
    };
    let symbols = resolve::resolve(&checked.file, &checked.catalogue, &mut Vec::new());
    let mut lower = Lower {
        source,
        aggregates: Vec::new(),
        symbols: &symbols,
        env: Vec::new(),
        diags: Vec::new(),
        owner: String::new(),
    };
    let used = |name: &str| topology.references.contains_key(name);
    let of_role = |role: Role| {
        symbols
            .components
            .iter()
            .filter(move |c| c.role() == role && used(c.name()))
    };

    let channels: Vec<Component> = of_role(Role::Channel)
        .filter_map(|c| lower.component(c))
        .collect();

    // Each (channel, sink or group) pair once, in the order the sinks are declared.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for e in (&topology.graph).edge_references() {
        let is_drain = topology.role_of(e.source()) == Some(Role::Channel)
            && matches!(topology.role_of(e.target()), Some(Role::Sink | Role::Group));
        let pair = (
            topology.graph[e.source()].name.clone(),
            topology.graph[e.target()].name.clone(),
        );
        if is_drain && !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    pairs.sort_by_key(|(_, sink)| symbols.get(sink).map_or(0, |c| c.decl.span.start));
    let mut drains = Vec::new();
    for (channel, target) in &pairs {
        let Some(c) = symbols.get(target) else {
            continue;
        };
        let target = if c.role() == Role::Group {
            let Some(group) = lower.component(c) else {
                continue;
            };
            let members = lower.members(c);
            DrainTarget::Group { group, members }
        } else {
            let Some(sink) = lower.component(c) else {
                continue;
            };
            let several = pairs.iter().filter(|(_, s)| s == target).count() > 1;
            DrainTarget::Sink {
                sink,
                instance: several.then(|| channel.clone()),
            }
        };
        drains.push(Drain {
            channel: channel.clone(),
            target,
        });
    }

    let transforms: Vec<Component> = of_role(Role::Transform)
        .filter(|c| {
            c.spec
                .is_some_and(|s| !s.inline && s.kind != aggregate::KIND)
        })
        .filter_map(|c| lower.component(c))
        .collect();

    let flows: Vec<&FlowStmt> = checked
        .file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Flow(f) => Some(f),
            _ => None,
        })
        .collect();
    let mut sources = Vec::new();
    for c in of_role(Role::Source) {
        let Some(component) = lower.component(c) else {
            continue;
        };
        let paths = flows
            .iter()
            .filter(|f| f.head.name == c.name())
            .map(|f| lower.path(f))
            .collect();
        sources.push(Source { component, paths });
    }

    let agent_decl = symbols.agent;
    let agent_params = agent_decl
        .and_then(|a| a.params.as_ref())
        .map_or(&[][..], |b| b.params.as_slice());
    let agent = lower.config(
        catalogue::agent(),
        agent_params,
        sluice_dsl::Span::new(0, 0),
    );
    if !lower.diags.is_empty() {
        return Err(lower.diags);
    }
    let file_name = std::path::Path::new(&source.name)
        .file_name()
        .map_or(source.name.clone(), |f| f.to_string_lossy().into_owned());
    let env_rules = env_rules(&channels, &drains, &sources);
    let crates = crates_used(
        &checked.catalogue,
        &channels,
        &drains,
        &transforms,
        &sources,
    );
    Ok(Flow {
        agent_name: agent_decl.map_or_else(|| source.stem().to_owned(), |a| a.name.value.clone()),
        file_name,
        agent: agent.unwrap_or(Config {
            rust_type: catalogue::agent().rust_type,
            fields: Vec::new(),
        }),
        channels,
        drains,
        transforms,
        sources,
        env: lower.env,
        env_rules,
        crates,
    })
}

/// The used crates that declare a kind the agent builds, in `use` order.
fn crates_used(
    catalogue: &Catalogue,
    channels: &[Component],
    drains: &[Drain],
    transforms: &[Component],
    sources: &[Source],
) -> Vec<Dependency> {
    let mut specs: Vec<&ComponentSpec> =
        channels.iter().chain(transforms).map(|c| c.spec).collect();
    specs.extend(sources.iter().map(|s| s.component.spec));
    for drain in drains {
        match &drain.target {
            DrainTarget::Sink { sink, .. } => specs.push(sink.spec),
            DrainTarget::Group { group, members } => {
                specs.push(group.spec);
                specs.extend(members.iter().map(|m| m.spec));
            }
        }
    }
    catalogue
        .crates
        .iter()
        .filter(|c| {
            specs
                .iter()
                .any(|s| c.specs.iter().any(|own| std::ptr::eq(*own, *s)))
        })
        .map(|c| Dependency {
            name: c.name.clone(),
            package: c.package.clone(),
            value: c.dependency.clone(),
        })
        .collect()
}

/// The value of `c`'s parameter with `purpose`, as a rule operand.
fn operand(c: &Component, purpose: Purpose) -> Option<Operand> {
    let name = c.spec.param_for(purpose)?.name;
    match c.config.get(name)? {
        Value::Int(n) => Some(Operand::Literal(*n)),
        Value::Env(e) => Some(Operand::Env(e.index)),
        _ => None,
    }
}

/// The `capacity` rules of `sluice check` (a transaction fits its channel, a batch fits a
/// transaction) where an `env(...)` value takes part, for the agent to check at start.
fn env_rules(channels: &[Component], drains: &[Drain], sources: &[Source]) -> Vec<EnvRule> {
    let mut rules = Vec::new();
    let mut rule = |smaller: Option<Operand>, larger: Option<Operand>, what: String| {
        if let (Some(smaller), Some(larger)) = (smaller, larger) {
            let from_env = [smaller, larger]
                .iter()
                .any(|o| matches!(o, Operand::Env(_)));
            if from_env {
                rules.push(EnvRule {
                    smaller,
                    larger,
                    what,
                });
            }
        }
    };
    let tx_of = |channel: &str| {
        channels
            .iter()
            .find(|c| c.name == channel)
            .and_then(|c| operand(c, Purpose::TransactionCapacity))
    };
    for c in channels {
        rule(
            operand(c, Purpose::TransactionCapacity),
            operand(c, Purpose::Capacity),
            format!(
                "channel `{}`: transaction_capacity must not exceed capacity",
                c.name
            ),
        );
    }
    for drain in drains {
        let takers: Vec<&Component> = match &drain.target {
            DrainTarget::Sink { sink, .. } => vec![sink],
            DrainTarget::Group { members, .. } => members.iter().collect(),
        };
        for sink in takers {
            rule(
                operand(sink, Purpose::Batch),
                tx_of(&drain.channel),
                format!(
                    "sink `{}` takes batches from channel `{}`: its batch size must not exceed the channel's transaction_capacity",
                    sink.name, drain.channel
                ),
            );
        }
    }
    for source in sources {
        for path in &source.paths {
            let channels = match &path.delivery {
                Delivery::Channels(list) => list.clone(),
                Delivery::Route(route) => route.channels.clone(),
            };
            for channel in channels {
                rule(
                    operand(&source.component, Purpose::Batch),
                    tx_of(&channel),
                    format!(
                        "source `{}` puts batches into channel `{channel}`: its batch size must not exceed the channel's transaction_capacity",
                        source.component.name
                    ),
                );
            }
        }
    }
    rules
}

struct Lower<'a> {
    source: &'a SourceFile,
    /// Each aggregate's flow statement, once lowered: an aggregate's windows go to one
    /// place, so it may be in only one.
    aggregates: Vec<(String, sluice_dsl::Span)>,
    symbols: &'a Symbols<'a>,
    env: Vec<EnvUse>,
    diags: Vec<Diagnostic>,
    /// The component whose config is being lowered (``source `gen` ``), for env uses.
    owner: String,
}

impl Lower<'_> {
    /// A component the runtime can build, or an `unsupported` diagnostic.
    fn component(&mut self, c: &resolve::Component) -> Option<Component> {
        let spec = c.spec?;
        if !spec.buildable() {
            self.diags.push(
                Diagnostic::new(
                    Code::Unsupported,
                    c.decl.kind.span,
                    format!(
                        "the {} kind `{}` cannot be built into an agent yet",
                        spec.role, spec.kind
                    ),
                )
                .label("checked, but not available in agents yet")
                .help(format!(
                    "available {} kinds: {}",
                    spec.role,
                    available(spec.role)
                )),
            );
            return None;
        }
        let params = c.decl.params();
        self.owner = format!("{} `{}`", spec.role, c.name());
        let config = self.config(spec, params, c.decl.name.span)?;
        Some(Component {
            name: c.name().to_owned(),
            spec,
            config,
            needs_tls: needs_tls(spec, params),
            batch_field: spec.param_for(Purpose::Batch).map(|p| p.name),
        })
    }

    /// The member sinks of group `c`, in its member order.
    fn members(&mut self, c: &resolve::Component) -> Vec<Component> {
        let Some(list) = c.spec.and_then(|s| s.param_for(Purpose::Members)) else {
            return Vec::new();
        };
        let names: Vec<String> = c
            .decl
            .params()
            .iter()
            .filter(|p| p.name.name == list.name)
            .filter_map(|p| match &p.value.kind {
                ValueKind::List(items) => Some(items),
                _ => None,
            })
            .flatten()
            .filter_map(|v| v.reference())
            .map(|i| i.name)
            .collect();
        names
            .iter()
            .filter_map(|n| self.symbols.get(n).copied())
            .filter_map(|m| self.component(&m))
            .collect()
    }

    fn path(&mut self, flow: &FlowStmt) -> Path {
        let text = self.source.text[flow.span.start..flow.span.end]
            .lines()
            .next()
            .unwrap_or("")
            .trim_end_matches('{')
            .trim()
            .to_owned();
        let steps = flow
            .transforms
            .iter()
            .filter_map(|t| self.symbols.get(&t.name).copied())
            .filter_map(|c| Some((c, c.spec?)))
            .filter_map(|(c, spec)| {
                Some(if spec.inline {
                    inline_step(c.name(), spec, c.decl.params())
                } else if spec.kind == aggregate::KIND {
                    Step::Aggregate(self.aggregate(&c, spec, flow)?)
                } else {
                    Step::Runtime {
                        name: c.name().to_owned(),
                    }
                })
            })
            .collect();
        let delivery = match flow.steps.first() {
            Some(sluice_dsl::Step::Name(channel)) => Delivery::Channels(vec![channel.name.clone()]),
            Some(sluice_dsl::Step::List { names, .. }) => {
                Delivery::Channels(names.iter().map(|n| n.name.clone()).collect())
            }
            Some(sluice_dsl::Step::Route(route)) => Delivery::Route(lower_route(route)),
            None => Delivery::Channels(Vec::new()),
        };
        Path {
            text,
            steps,
            delivery,
        }
    }

    /// An `aggregate` in the flow statement `flow`, typed; `None` (with a diagnostic)
    /// when it cannot be built.
    fn aggregate(
        &mut self,
        c: &resolve::Component,
        spec: &'static ComponentSpec,
        flow: &FlowStmt,
    ) -> Option<Aggregate> {
        let name = c.name().to_owned();
        if let Some((_, first)) = self.aggregates.iter().find(|(n, _)| *n == name) {
            let line = self.source.line_col(first.start).line;
            self.diags.push(
                Diagnostic::new(
                    Code::Unsupported,
                    flow.span,
                    format!("aggregate `{name}` is already in the flow statement on line {line}"),
                )
                .label("a second flow through the same aggregate")
                .help("an aggregate's windows go to one place: declare a second aggregate for this flow"),
            );
            return None;
        }
        self.aggregates.push((name.clone(), flow.span));
        let params = c.decl.params();
        self.owner = format!("transform `{name}`");
        let config = self.config(spec, params, c.decl.name.span)?;
        let expr_of = |param: &str| {
            params
                .iter()
                .find(|p| p.name.name == param)
                .map(|p| &p.value)
        };
        let window_call = match expr_of("window").map(|v| &v.kind) {
            Some(ValueKind::Expr(e)) => e,
            _ => return None,
        };
        let (form, args) = aggregate_call(window_call)?;
        let window = WindowForm::from_name(form)?;
        let durations = args
            .iter()
            .map(|a| match a.literal() {
                Some(sluice_dsl::Literal::Duration(d)) => Some(*d),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let time = match expr_of("time").map(|v| &v.kind) {
            Some(ValueKind::Expr(e)) => Some(typed(e)),
            _ => None,
        };
        let mut by = Vec::new();
        if let Some(ValueKind::List(items)) = expr_of("by").map(|v| &v.kind) {
            for (i, item) in items.iter().enumerate() {
                if let ValueKind::Expr(e) = &item.kind {
                    let header = match &e.kind {
                        sluice_dsl::ExprKind::Header(h) => h.clone(),
                        _ => format!("key_{i}"),
                    };
                    by.push((header, typed(e)));
                }
            }
        }
        let mut emit = Vec::new();
        if let Some(ValueKind::Map(entries)) = expr_of("emit").map(|v| &v.kind) {
            for entry in entries {
                let ValueKind::Expr(e) = &entry.value.kind else {
                    continue;
                };
                let (function, args) = aggregate_call(e)?;
                let function = AggregateFn::from_name(function)?;
                let literal = |i: usize| args.get(i).and_then(|a| a.literal());
                let fraction = match literal(1) {
                    Some(sluice_dsl::Literal::Float(f)) => *f,
                    Some(sluice_dsl::Literal::Int(n)) => *n as f64,
                    _ => 0.0,
                };
                let count = match literal(1) {
                    Some(sluice_dsl::Literal::Int(n)) => u64::try_from(*n).unwrap_or(1),
                    _ => 0,
                };
                emit.push(Emit {
                    header: entry.key.name.clone(),
                    function,
                    arg: args.first().map(typed),
                    fraction,
                    count,
                });
            }
        }
        let literal_of = |field: &str| match config.get(field) {
            Some(Value::Env(_)) => Err(field.to_owned()),
            other => Ok(other.cloned()),
        };
        let (lateness, max_groups) = match (literal_of("lateness"), literal_of("max_groups")) {
            (Ok(lateness), Ok(max_groups)) => (lateness, max_groups),
            (Err(field), _) | (_, Err(field)) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::Unsupported,
                        c.decl.name.span,
                        format!("the `{field}` of an aggregate cannot come from env(...) yet"),
                    )
                    .label("an aggregate with a value from env(...)")
                    .help("write the value in the flow"),
                );
                return None;
            }
        };
        Some(Aggregate {
            name,
            feature: spec.feature,
            window,
            durations,
            lateness: match lateness {
                Some(Value::Duration(d)) => d,
                _ => std::time::Duration::ZERO,
            },
            time,
            by,
            emit,
            max_groups: match max_groups {
                Some(Value::Int(n)) => u64::try_from(n).unwrap_or(1),
                _ => 100_000,
            },
        })
    }

    /// The config struct value of `spec` from the written params; `span` is where to
    /// point if it cannot be built.
    fn config(
        &mut self,
        spec: &'static ComponentSpec,
        written: &[Param],
        span: sluice_dsl::Span,
    ) -> Option<Config> {
        let written: Vec<(&str, &sluice_dsl::Value)> = written
            .iter()
            .map(|w| (w.name.name.as_str(), &w.value))
            .collect();
        match self.record(spec.rust_type, &spec.params, &written) {
            Ok(config) => Some(config),
            Err(problem) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::Unsupported,
                        span,
                        format!("cannot build {} `{}`: {problem}", spec.role, spec.kind),
                    )
                    .label("not buildable yet"),
                );
                None
            }
        }
    }

    /// One field per parameter: the written value, else the default, else absent.
    fn record(
        &mut self,
        rust_type: &'static str,
        params: &[ParamSpec],
        written: &[(&str, &sluice_dsl::Value)],
    ) -> Result<Config, String> {
        let mut fields = Vec::new();
        for p in params {
            let value = match written.iter().find(|(n, _)| *n == p.name) {
                Some((_, w)) => Some(self.value(w, &p.ty, Some(p))?),
                None => match p.default {
                    Some(d) => {
                        let v = sluice_dsl::parse_value(d)
                            .map_err(|e| format!("default of {}: {}", p.name, e.message))?;
                        Some(self.value(&v, &p.ty, Some(p))?)
                    }
                    None => None,
                },
            };
            fields.push(Field {
                name: p.name,
                value,
                optional: !p.required && p.default.is_none(),
            });
        }
        Ok(Config { rust_type, fields })
    }

    /// `value` as a value of `ty`; `param` is the parameter it is the whole value of (not
    /// an element of a list or map), whose bounds an `env(...)` must meet.
    fn value(
        &mut self,
        value: &sluice_dsl::Value,
        ty: &ParamType,
        param: Option<&ParamSpec>,
    ) -> Result<Value, String> {
        use sluice_dsl::Literal as Lit;
        if let ValueKind::Env(env) = &value.kind {
            let at = self.source.line_col(value.span.start);
            let file = std::path::Path::new(&self.source.name)
                .file_name()
                .map_or(self.source.name.clone(), |f| {
                    f.to_string_lossy().into_owned()
                });
            let use_ = EnvUse {
                name: env.name.value.clone(),
                default: env.default.as_ref().map(|d| d.value.clone()),
                location: format!("{file}:{}:{}", at.line, at.column),
                param: match param {
                    Some(p) => format!("{}: {}", self.owner, p.name),
                    None => self.owner.clone(),
                },
                kind: env_kind(ty, param),
                index: self.env.len(),
            };
            self.env.push(use_.clone());
            return Ok(Value::Env(use_));
        }
        let text = || match value.literal() {
            Some(Lit::Str(s)) => Some(s.clone()),
            _ => value.reference().map(|r| r.name),
        };
        Ok(match ty {
            ParamType::Bool => match value.literal() {
                Some(Lit::Bool(b)) => Value::Bool(*b),
                _ => return Err("expected a boolean".into()),
            },
            ParamType::Int => match value.literal() {
                Some(Lit::Int(n)) => Value::Int(*n),
                _ => return Err("expected an integer".into()),
            },
            ParamType::Float => match value.literal() {
                Some(Lit::Int(n)) => Value::Float(*n as f64),
                Some(Lit::Float(f)) => Value::Float(*f),
                _ => return Err("expected a number".into()),
            },
            ParamType::Duration => match value.literal() {
                Some(Lit::Duration(d)) => Value::Duration(*d),
                _ => return Err("expected a duration".into()),
            },
            ParamType::ByteSize => match value.literal() {
                Some(Lit::Size(n)) => Value::Size(*n),
                _ => return Err("expected a byte size".into()),
            },
            ParamType::String => Value::Text(Text::String, text().ok_or("expected a string")?),
            ParamType::Path => Value::Text(Text::Path, text().ok_or("expected a path")?),
            ParamType::Glob
            | ParamType::Regex
            | ParamType::Template
            | ParamType::Url
            | ParamType::Address
            | ParamType::Storage
            | ParamType::Column
            | ParamType::MetricName
            | ParamType::Ref(_) => Value::Text(Text::Newtype, text().ok_or("expected a string")?),
            ParamType::Enum(words) => Value::Word {
                words: *words,
                word: text().ok_or("expected a word")?,
            },
            ParamType::EnumOrDuration(words) => match value.literal() {
                Some(Lit::Duration(d)) => Value::Interval {
                    words: *words,
                    every: *d,
                },
                _ => Value::Word {
                    words: *words,
                    word: text().ok_or("expected a word or a duration")?,
                },
            },
            ParamType::List(inner) => {
                let ValueKind::List(items) = &value.kind else {
                    return Err("expected a list".into());
                };
                Value::List(
                    items
                        .iter()
                        .map(|v| self.value(v, inner, None))
                        .collect::<Result<_, _>>()?,
                )
            }
            ParamType::Map(inner) => {
                let ValueKind::Map(entries) = &value.kind else {
                    return Err("expected a map".into());
                };
                let mut pairs = Vec::new();
                for e in entries {
                    pairs.push((e.key.name.clone(), self.value(&e.value, inner, None)?));
                }
                Value::Map(pairs)
            }
            ParamType::BoolExpr
            | ParamType::ScalarExpr
            | ParamType::Window
            | ParamType::Aggregate => Value::Text(
                Text::Newtype,
                self.source.text[value.span.start..value.span.end].to_owned(),
            ),
            ParamType::Record { rust_type, fields } => {
                let ValueKind::Map(entries) = &value.kind else {
                    return Err("expected a block `{ ... }`".into());
                };
                let written: Vec<(&str, &sluice_dsl::Value)> = entries
                    .iter()
                    .map(|e| (e.key.name.as_str(), &e.value))
                    .collect();
                Value::Record(self.record(rust_type, fields, &written)?)
            }
        })
    }
}

/// What an `env(...)` value for `ty` must read as, with `param`'s bounds.
fn env_kind(ty: &ParamType, param: Option<&ParamSpec>) -> EnvKind {
    let (min, max) = param.map_or((None, None), |p| (p.min, p.max));
    match ty {
        ParamType::Bool => EnvKind::Bool,
        ParamType::Int => EnvKind::Int { min, max },
        ParamType::Float => EnvKind::Float,
        ParamType::Duration => EnvKind::Duration { min, max },
        ParamType::ByteSize => EnvKind::Size { min, max },
        ParamType::Address => EnvKind::Address,
        ParamType::Url => EnvKind::Url,
        ParamType::Storage => EnvKind::Storage,
        ParamType::Template => EnvKind::Template,
        ParamType::Enum(words) => EnvKind::Word(words.words),
        ParamType::EnumOrDuration(words) => EnvKind::WordOrDuration(words.words),
        _ => EnvKind::Text,
    }
}

/// An inline transform: its boolean-expression params are conditions, its
/// map-of-expressions params set headers.
fn inline_step(name: &str, spec: &'static ComponentSpec, params: &[Param]) -> Step {
    let mut conditions = Vec::new();
    let mut headers = Vec::new();
    for param in params {
        let Some(declared) = spec.param(&param.name.name) else {
            continue;
        };
        match (&declared.ty, &param.value.kind) {
            (ParamType::BoolExpr, ValueKind::Expr(e)) => conditions.push(typed(e)),
            (ParamType::Map(inner), ValueKind::Map(entries))
                if **inner == ParamType::ScalarExpr =>
            {
                for entry in entries {
                    if let ValueKind::Expr(e) = &entry.value.kind {
                        headers.push((entry.key.name.clone(), typed(e)));
                    }
                }
            }
            _ => {}
        }
    }
    Step::Inline {
        name: name.to_owned(),
        kind: spec.kind,
        feature: spec.feature,
        conditions,
        headers,
    }
}

fn lower_route(route: &sluice_dsl::Route) -> Route {
    let mut channels: Vec<String> = Vec::new();
    let mut arms = Vec::new();
    for arm in &route.arms {
        let channel = match &arm.target {
            ArmTarget::Drop(_) => None,
            ArmTarget::Name(n) => {
                if !channels.contains(&n.name) {
                    channels.push(n.name.clone());
                }
                Some(n.name.clone())
            }
        };
        let patterns = match &arm.patterns {
            Patterns::Wildcard(_) => None,
            Patterns::Values(values) => Some(
                values
                    .iter()
                    .map(|v| match v.literal() {
                        Some(sluice_dsl::Literal::Str(s)) => Literal::Str(s.clone()),
                        Some(sluice_dsl::Literal::Int(n)) => Literal::Int(*n),
                        Some(sluice_dsl::Literal::Float(f)) => Literal::Float(*f),
                        Some(sluice_dsl::Literal::Bool(b)) => Literal::Bool(*b),
                        _ => Literal::Null,
                    })
                    .collect(),
            ),
        };
        arms.push(Arm { patterns, channel });
    }
    Route {
        key: typed(&route.key),
        arms,
        channels,
    }
}

/// The function name and arguments of a call (looking through parentheses), as in an
/// aggregate's `window` and `emit`.
fn aggregate_call(e: &sluice_dsl::Expr) -> Option<(&str, &[sluice_dsl::Expr])> {
    match &e.kind {
        sluice_dsl::ExprKind::Call { func, args } => Some((func.name.as_str(), args)),
        sluice_dsl::ExprKind::Paren(inner) => aggregate_call(inner),
        _ => None,
    }
}

/// The expression typed by the checker (which accepted it: nothing to report).
fn typed(e: &sluice_dsl::Expr) -> Expr {
    types::typed(e, &mut Vec::new())
}

/// Whether a component needs TLS: it writes a `tls` block, or a URL that decides TLS by
/// its scheme is not a plain `http://` literal (`env(...)` may give `https://`).
fn needs_tls(spec: &ComponentSpec, params: &[Param]) -> bool {
    params.iter().any(|p| {
        let Some(purpose) = spec.param(&p.name.name).and_then(|d| d.purpose) else {
            return false;
        };
        match purpose {
            Purpose::Tls => true,
            Purpose::TlsByScheme => !matches!(
                p.value.literal(),
                Some(sluice_dsl::Literal::Str(url))
                    if url.starts_with(sluice_core::url::PLAIN_SCHEME)
            ),
            _ => false,
        }
    })
}

fn available(role: Role) -> String {
    catalogue::all()
        .iter()
        .filter(|c| c.role == role && c.buildable())
        .map(|c| c.kind)
        .collect::<Vec<_>>()
        .join(", ")
}
