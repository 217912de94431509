//! The topology of a flow file as a petgraph graph: one node per source, channel, sink and
//! group, one per transform *use* (each flow path has its own chain) and one per `route`.
//! Edges follow the events. Built from the flows and group memberships; wrong roles are
//! reported while building, and the edges are still added so later checks see the shape
//! the author wrote.

use std::collections::{HashMap, HashSet};

use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use sluice_dsl::{ArmTarget, File, FlowStmt, Ident, Item, Patterns, Route, Span, Step};
use sluice_runtime::catalogue::{Purpose, Role};

use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::Symbols;
use crate::suggest::did_you_mean;

/// What a node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Component(Role),
    /// A use of a transform in one flow path.
    TransformUse,
    Route,
    /// Where a route's `drop` arm sends events.
    Drop,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    /// The component's name (or `route`/`drop`).
    pub name: String,
    /// The component's kind (`memory`, `file_roll`, …), or the route key as written.
    pub detail: String,
    /// The declaration (for components) or the use (for transforms, routes).
    pub span: Span,
}

/// An edge: events move from `source` to `target`.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Where the flow or group wrote this edge.
    pub span: Span,
    /// Route match values, for route edges.
    pub label: Option<String>,
    /// A group → member edge (not a flow of events from a channel).
    pub membership: bool,
}

#[derive(Debug, Default)]
pub struct Topology {
    pub graph: StableDiGraph<Node, Edge>,
    components: HashMap<String, NodeIndex>,
    /// Every place a component's name is used (flows, group members).
    pub references: HashMap<String, Vec<Span>>,
    /// Names used in flow statements.
    pub flow_references: HashSet<String>,
    /// Routes in the file, for lints.
    pub routes: Vec<NodeIndex>,
}

impl Topology {
    pub fn node_of(&self, name: &str) -> Option<NodeIndex> {
        self.components.get(name).copied()
    }

    pub fn role_of(&self, node: NodeIndex) -> Option<Role> {
        match self.graph[node].kind {
            NodeKind::Component(role) => Some(role),
            _ => None,
        }
    }
}

/// Where a sink sends its events, as written (`"host:port"`, `env("TERMINAL")`): its
/// destination parameter, or its URL.
fn destination(component: &crate::resolve::Component, src: &str) -> Option<String> {
    let spec = component.spec?;
    let param = spec
        .param_for(Purpose::Destination)
        .or_else(|| spec.param_for(Purpose::TlsByScheme))?;
    let written = component
        .decl
        .params()
        .iter()
        .find(|p| p.name.name == param.name)?;
    src.get(written.value.span.start..written.value.span.end)
        .map(str::to_owned)
}

pub fn build(file: &File, src: &str, symbols: &Symbols, diags: &mut Vec<Diagnostic>) -> Topology {
    let mut builder = Builder {
        topo: Topology::default(),
        symbols,
        src,
        diags,
    };
    for component in &symbols.components {
        if component.role() == Role::Transform {
            continue;
        }
        let kind = component.decl.kind.name.clone();
        let detail = match destination(component, src) {
            Some(to) => format!("{kind} → {to}"),
            None => kind,
        };
        let node = builder.topo.graph.add_node(Node {
            kind: NodeKind::Component(component.role()),
            name: component.name().to_owned(),
            detail,
            span: component.decl.name.span,
        });
        builder
            .topo
            .components
            .insert(component.name().to_owned(), node);
    }
    for item in &file.items {
        if let Item::Flow(flow) = item {
            builder.flow(flow);
        }
    }
    builder.group_members();
    builder.topo
}

struct Builder<'s, 'a, 'd> {
    topo: Topology,
    symbols: &'s Symbols<'a>,
    src: &'s str,
    diags: &'d mut Vec<Diagnostic>,
}

impl Builder<'_, '_, '_> {
    /// Looks a name up, recording the reference; reports `undefined-name`.
    fn lookup(&mut self, name: &Ident, expected: &[Role]) -> Option<Role> {
        self.topo.flow_references.insert(name.name.clone());
        self.topo
            .references
            .entry(name.name.clone())
            .or_default()
            .push(name.span);
        if let Some(c) = self.symbols.get(&name.name) {
            return Some(c.role());
        }
        let candidates: Vec<&str> = expected
            .iter()
            .flat_map(|r| self.symbols.names_of(*r))
            .collect();
        let expected_words: Vec<&str> = expected.iter().map(|r| r.keyword()).collect();
        let help = did_you_mean(&name.name, candidates.iter().copied())
            .or_else(|| did_you_mean(&name.name, self.symbols.names()))
            .unwrap_or_else(|| {
                format!(
                    "declare it, e.g. `{} {} = KIND {{ ... }}`",
                    expected_words.first().copied().unwrap_or("channel"),
                    name.name
                )
            });
        self.diags.push(
            Diagnostic::new(
                Code::UndefinedName,
                name.span,
                format!("`{}` is not declared", name.name),
            )
            .label(format!(
                "expected the name of a {}",
                expected_words.join(" or ")
            ))
            .help(help),
        );
        None
    }

    fn wrong_role(&mut self, name: &Ident, role: Role, message: String, help: &str) {
        let mut d = Diagnostic::new(Code::WrongRole, name.span, message)
            .label(format!("`{}` is a {role}", name.name))
            .help(help);
        if let Some(c) = self.symbols.get(&name.name) {
            d = d.note(
                c.decl.name.span,
                format!("`{}` is declared here", name.name),
            );
        }
        self.diags.push(d);
    }

    fn edge(&mut self, from: NodeIndex, to: NodeIndex, span: Span, label: Option<String>) {
        self.topo.graph.add_edge(
            from,
            to,
            Edge {
                span,
                label,
                membership: false,
            },
        );
    }

    fn flow(&mut self, flow: &FlowStmt) {
        let Some(head_role) = self.lookup(&flow.head, &[Role::Source, Role::Channel]) else {
            for t in &flow.transforms {
                self.lookup(t, &[Role::Transform]);
            }
            self.steps_after_unknown(flow);
            return;
        };
        let head = self.topo.node_of(&flow.head.name);
        match head_role {
            Role::Source | Role::Channel => {}
            other => self.wrong_role(
                &flow.head,
                other,
                format!(
                    "a flow starts at a source or a channel, but `{}` is a {other}",
                    flow.head.name
                ),
                "write `flow SOURCE -> CHANNEL` or `flow CHANNEL -> SINK`",
            ),
        }
        let mut current = head;
        let mut current_role = head_role;
        for t in &flow.transforms {
            let role = self.lookup(t, &[Role::Transform]);
            match role {
                Some(Role::Transform) if head_role == Role::Channel => self.wrong_role(
                    &flow.head,
                    Role::Channel,
                    format!(
                        "transforms run on a source's side, but `{}` is a channel",
                        flow.head.name
                    ),
                    "apply the transform where a source feeds the channel: `flow SOURCE | T -> CHANNEL`",
                ),
                Some(Role::Transform) => {}
                Some(other) => self.wrong_role(
                    t,
                    other,
                    format!("only transforms can follow `|`, but `{}` is a {other}", t.name),
                    "use `->` to move events into a channel, sink or group",
                ),
                None => {}
            }
            if role == Some(Role::Transform) {
                let node = self.topo.graph.add_node(Node {
                    kind: NodeKind::TransformUse,
                    name: t.name.clone(),
                    detail: self
                        .symbols
                        .get(&t.name)
                        .map_or(String::new(), |c| c.decl.kind.name.clone()),
                    span: t.span,
                });
                if let Some(prev) = current {
                    self.edge(prev, node, t.span, None);
                }
                current = Some(node);
            }
        }
        let last = flow.steps.len().saturating_sub(1);
        for (i, step) in flow.steps.iter().enumerate() {
            let after = current_role;
            match step {
                Step::Name(name) => {
                    let expected: &[Role] = match after {
                        Role::Source => &[Role::Channel],
                        _ => &[Role::Sink, Role::Group],
                    };
                    let Some(role) = self.lookup(name, expected) else {
                        // Assume the author meant the expected role: no cascade of errors.
                        current = None;
                        current_role = expected[0];
                        continue;
                    };
                    self.check_step(after, &flow.steps[..i], flow, name, role);
                    let node = self.topo.node_of(&name.name);
                    if let (Some(from), Some(to)) = (current, node) {
                        self.edge(from, to, name.span, None);
                    }
                    current = node;
                    current_role = role;
                }
                Step::List { names, span } => {
                    if after != Role::Source {
                        self.diags.push(
                            Diagnostic::new(
                                Code::WrongRole,
                                *span,
                                format!("only a source replicates into a list of channels, not a {after}"),
                            )
                            .label("a list of channels here")
                            .help("a channel drains into one sink or group: `flow CHANNEL -> SINK`"),
                        );
                    }
                    for name in names {
                        match self.lookup(name, &[Role::Channel]) {
                            Some(Role::Channel) => {
                                if let (Some(from), Some(to)) = (current, self.topo.node_of(&name.name)) {
                                    self.edge(from, to, name.span, None);
                                }
                            }
                            Some(other) => self.wrong_role(
                                name,
                                other,
                                format!("a list after `->` names channels, but `{}` is a {other}", name.name),
                                "replicate into channels, then drain each: `flow src -> [a, b]`, `flow a -> sink_a`",
                            ),
                            None => {}
                        }
                    }
                    if i != last {
                        self.diags.push(
                            Diagnostic::new(
                                Code::WrongRole,
                                flow.steps[i + 1].span(),
                                "nothing can follow a list of channels",
                            )
                            .label("after the list")
                            .help("drain each channel in its own flow: `flow a -> sink_a`"),
                        );
                        return;
                    }
                }
                Step::Route(route) => {
                    if after != Role::Source {
                        self.diags.push(
                            Diagnostic::new(
                                Code::WrongRole,
                                route.keyword_span,
                                format!("only a source's events can be routed, not a {after}'s"),
                            )
                            .label("route here")
                            .help("write `flow SOURCE | TRANSFORMS -> route EXPR { ... }`"),
                        );
                    }
                    self.route(route, current);
                    if i != last {
                        self.diags.push(
                            Diagnostic::new(
                                Code::WrongRole,
                                flow.steps[i + 1].span(),
                                "nothing can follow a route",
                            )
                            .label("after the route")
                            .help(
                                "drain each routed channel in its own flow: `flow errors -> sink`",
                            ),
                        );
                        return;
                    }
                }
            }
        }
    }

    /// `wrong-role` for `-> name` after a node of role `after`.
    fn check_step(
        &mut self,
        after: Role,
        before: &[Step],
        flow: &FlowStmt,
        name: &Ident,
        role: Role,
    ) {
        let prev_name = before
            .iter()
            .rev()
            .find_map(|s| match s {
                Step::Name(n) => Some(n.name.as_str()),
                _ => None,
            })
            .unwrap_or(&flow.head.name);
        match (after, role) {
            (Role::Source, Role::Channel) | (Role::Channel, Role::Sink | Role::Group) => {}
            (Role::Source, Role::Sink | Role::Group) => self.wrong_role(
                name,
                role,
                format!("events from source `{prev_name}` must pass through a channel before {role} `{}`", name.name),
                &format!("insert a channel: `flow {prev_name} -> buf -> {}` with `channel buf = memory`", name.name),
            ),
            (Role::Sink | Role::Group, _) => self.wrong_role(
                name,
                role,
                format!("{after} `{prev_name}` is where events leave the agent; nothing can follow it"),
                "end the flow at the sink or group",
            ),
            (Role::Channel, Role::Channel) => self.wrong_role(
                name,
                role,
                format!("channel `{prev_name}` cannot feed another channel `{}`", name.name),
                "a channel drains into a sink or a group; sources feed channels",
            ),
            (_, other) => self.wrong_role(
                name,
                other,
                format!("`{}` is a {other} and cannot be a step of a flow", name.name),
                "use `|` for transforms and `->` for channels, sinks and groups",
            ),
        }
    }

    fn route(&mut self, route: &Route, from: Option<NodeIndex>) {
        let node = self.topo.graph.add_node(Node {
            kind: NodeKind::Route,
            name: "route".into(),
            detail: self.src[route.key.span.start..route.key.span.end].to_owned(),
            span: route.keyword_span,
        });
        self.topo.routes.push(node);
        if let Some(from) = from {
            self.edge(from, node, route.keyword_span, None);
        }
        for arm in &route.arms {
            let label = match &arm.patterns {
                Patterns::Wildcard(_) => "_".to_owned(),
                Patterns::Values(values) => values
                    .iter()
                    .map(|v| self.src[v.span.start..v.span.end].to_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            match &arm.target {
                ArmTarget::Drop(span) => {
                    let drop = self.topo.graph.add_node(Node {
                        kind: NodeKind::Drop,
                        name: "drop".into(),
                        detail: String::new(),
                        span: *span,
                    });
                    self.edge(node, drop, *span, Some(label));
                }
                ArmTarget::Name(name) => match self.lookup(name, &[Role::Channel]) {
                    Some(Role::Channel) => {
                        if let Some(to) = self.topo.node_of(&name.name) {
                            self.edge(node, to, name.span, Some(label));
                        }
                    }
                    Some(other) => self.wrong_role(
                        name,
                        other,
                        format!("a route sends events into channels, but `{}` is a {other}", name.name),
                        "route into a channel, then drain it: `\"ERROR\" => errors` and `flow errors -> sink`",
                    ),
                    None => {}
                },
            }
        }
    }

    /// Records references in steps of a flow whose head is unknown (no edges can be drawn).
    fn steps_after_unknown(&mut self, flow: &FlowStmt) {
        for step in &flow.steps {
            match step {
                Step::Name(n) => {
                    self.lookup(n, &[Role::Channel, Role::Sink, Role::Group]);
                }
                Step::List { names, .. } => {
                    for n in names {
                        self.lookup(n, &[Role::Channel]);
                    }
                }
                Step::Route(route) => self.route(route, None),
            }
        }
    }

    /// Group → member edges from each group's sink references.
    fn group_members(&mut self) {
        for group in self
            .symbols
            .components
            .iter()
            .filter(|c| c.role() == Role::Group)
        {
            let Some(spec) = group.spec else { continue };
            let Some(group_node) = self.topo.node_of(group.name()) else {
                continue;
            };
            for param in group.decl.params() {
                let is_member_list = spec
                    .param(&param.name.name)
                    .is_some_and(|p| p.purpose == Some(Purpose::Members));
                let sluice_dsl::ValueKind::List(items) = &param.value.kind else {
                    continue;
                };
                if !is_member_list {
                    continue;
                }
                for item in items {
                    let Some(name) = item.reference() else {
                        continue;
                    };
                    self.topo
                        .references
                        .entry(name.name.clone())
                        .or_default()
                        .push(name.span);
                    let Some(member) = self.topo.node_of(&name.name) else {
                        continue;
                    };
                    let is_sink_or_group =
                        matches!(self.topo.role_of(member), Some(Role::Sink | Role::Group));
                    if is_sink_or_group {
                        self.topo.graph.add_edge(
                            group_node,
                            member,
                            Edge {
                                span: name.span,
                                label: None,
                                membership: true,
                            },
                        );
                    }
                }
            }
        }
    }
}
