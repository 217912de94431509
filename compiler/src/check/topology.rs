//! Checks on the shape of the graph: `cycle`, `unfed-sink`, `dead-end`, `unused`,
//! `group-conflict`, `capacity`, `lossy-buffer`, `route-no-default`.

use std::collections::{HashMap, HashSet};

use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{Dfs, EdgeRef, IntoEdgeReferences};
use petgraph::Direction;
use sluice_dsl::{Item, Patterns, Step};
use sluice_runtime::catalogue::{Purpose, Role};

use super::values::int_param;
use crate::diagnostic::{Code, Diagnostic};
use crate::graph::{NodeKind, Topology};
use crate::resolve::Symbols;

pub fn check(
    file: &sluice_dsl::File,
    symbols: &Symbols,
    topo: &Topology,
    diags: &mut Vec<Diagnostic>,
) {
    cycles(topo, diags);
    unused(symbols, topo, diags);
    unfed_groups(topo, diags);
    dead_ends(topo, diags);
    group_conflicts(topo, diags);
    capacity(symbols, topo, diags);
    lossy_buffers(symbols, topo, diags);
    routes_without_default(file, diags);
}

fn cycles(topo: &Topology, diags: &mut Vec<Diagnostic>) {
    for scc in petgraph::algo::tarjan_scc(&topo.graph) {
        let is_cycle = scc.len() > 1 || topo.graph.contains_edge(scc[0], scc[0]);
        if !is_cycle {
            continue;
        }
        let mut nodes: Vec<NodeIndex> = scc;
        nodes.sort_by_key(|&n| topo.graph[n].span.start);
        let first = nodes[0];
        let path: Vec<&str> = nodes.iter().map(|&n| topo.graph[n].name.as_str()).collect();
        // Point at the reference that closes the cycle: an edge into `first` from inside.
        let closing = topo
            .graph
            .edges_directed(first, Direction::Incoming)
            .find(|e| nodes.contains(&e.source()))
            .map_or(topo.graph[first].span, |e| e.weight().span);
        let mut d = Diagnostic::new(
            Code::Cycle,
            closing,
            format!("events would loop forever: {} -> {}", path.join(" -> "), path[0]),
        )
        .label(format!("this reference to `{}` closes the cycle", path[0]))
        .help("events must flow from sources through channels to sinks; remove one of these references");
        for &n in &nodes {
            d = d.note(
                topo.graph[n].span,
                format!("`{}` is part of the cycle", topo.graph[n].name),
            );
        }
        diags.push(d);
    }
}

fn unused(symbols: &Symbols, topo: &Topology, diags: &mut Vec<Diagnostic>) {
    for c in &symbols.components {
        // An unused group is reported as `unfed-sink`.
        if topo.references.contains_key(c.name()) || c.role() == Role::Group {
            continue;
        }
        let help = match c.role() {
            Role::Source => format!("send its events somewhere: `flow {} -> CHANNEL`", c.name()),
            Role::Channel => format!(
                "feed and drain it: `flow SOURCE -> {0}` and `flow {0} -> SINK`",
                c.name()
            ),
            Role::Sink | Role::Group => {
                format!("drain a channel into it: `flow CHANNEL -> {}`", c.name())
            }
            Role::Transform => format!(
                "apply it in a flow: `flow SOURCE | {} -> CHANNEL`",
                c.name()
            ),
            Role::Agent => String::new(),
        };
        diags.push(
            Diagnostic::new(
                Code::Unused,
                c.decl.name.span,
                format!("{} `{}` is declared but never used", c.role(), c.name()),
            )
            .label("not referenced by any flow or group")
            .help(format!("{help}, or remove the declaration")),
        );
    }
}

/// Whether a channel drains into this node, directly or through the groups it belongs to.
fn fed_by_channel(topo: &Topology, node: NodeIndex) -> bool {
    let mut seen = HashSet::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        for e in topo.graph.edges_directed(n, Direction::Incoming) {
            match topo.role_of(e.source()) {
                Some(Role::Channel) => return true,
                Some(Role::Group) if e.weight().membership => stack.push(e.source()),
                _ => {}
            }
        }
    }
    false
}

fn unfed_groups(topo: &Topology, diags: &mut Vec<Diagnostic>) {
    for n in topo.graph.node_indices() {
        let node = &topo.graph[n];
        let role = topo.role_of(n);
        // Sinks and groups named in flows are fed there, or the flow has its own error.
        let in_use = role == Some(Role::Group) || topo.references.contains_key(&node.name);
        if !matches!(role, Some(Role::Sink | Role::Group))
            || !in_use
            || topo.flow_references.contains(&node.name)
        {
            continue;
        }
        if fed_by_channel(topo, n) {
            continue;
        }
        // Report the outermost unfed group only; its members are unfed because of it.
        let in_unfed_group = topo
            .graph
            .edges_directed(n, Direction::Incoming)
            .any(|e| e.weight().membership);
        let fed_wrongly = topo
            .graph
            .edges_directed(n, Direction::Incoming)
            .any(|e| !e.weight().membership);
        if in_unfed_group || fed_wrongly {
            continue;
        }
        let what = if role == Some(Role::Group) {
            "group"
        } else {
            "sink"
        };
        diags.push(
            Diagnostic::new(
                Code::UnfedSink,
                node.span,
                format!(
                    "{what} `{}` is never fed: no channel drains into it",
                    node.name
                ),
            )
            .label("nothing flows here")
            .help(format!("add `flow CHANNEL -> {}`", node.name)),
        );
    }
}

fn dead_ends(topo: &Topology, diags: &mut Vec<Diagnostic>) {
    let reaches_sink = |start: NodeIndex| {
        let mut dfs = Dfs::new(&topo.graph, start);
        while let Some(n) = dfs.next(&topo.graph) {
            if matches!(topo.role_of(n), Some(Role::Sink | Role::Group)) {
                return true;
            }
        }
        false
    };
    for n in topo.graph.node_indices() {
        let node = &topo.graph[n];
        match topo.role_of(n) {
            Some(Role::Channel) => {
                let fed = topo
                    .graph
                    .edges_directed(n, Direction::Incoming)
                    .next()
                    .is_some();
                let drained = topo
                    .graph
                    .edges_directed(n, Direction::Outgoing)
                    .any(|e| matches!(topo.role_of(e.target()), Some(Role::Sink | Role::Group)));
                if fed && !drained {
                    diags.push(
                        Diagnostic::new(
                            Code::DeadEnd,
                            node.span,
                            format!(
                                "channel `{}` is never drained: its events reach no sink",
                                node.name
                            ),
                        )
                        .label("fills up and then blocks its sources")
                        .help(format!("add `flow {} -> SINK`", node.name)),
                    );
                }
            }
            Some(Role::Source) => {
                if !topo.references.contains_key(&node.name) || reaches_sink(n) {
                    continue;
                }
                // A channel on the way is reported itself; only report sources that reach none.
                let mut dfs = Dfs::new(&topo.graph, n);
                let mut reaches_channel = false;
                while let Some(m) = dfs.next(&topo.graph) {
                    reaches_channel |= topo.role_of(m) == Some(Role::Channel);
                }
                let has_out = topo
                    .graph
                    .edges_directed(n, Direction::Outgoing)
                    .next()
                    .is_some();
                if !reaches_channel && has_out {
                    diags.push(
                        Diagnostic::new(
                            Code::DeadEnd,
                            node.span,
                            format!("the events of source `{}` reach no sink", node.name),
                        )
                        .label("every path from here ends without a sink")
                        .help("route at least one case into a channel that drains into a sink"),
                    );
                }
            }
            _ => {}
        }
    }
}

fn group_conflicts(topo: &Topology, diags: &mut Vec<Diagnostic>) {
    let mut first_group: HashMap<NodeIndex, (NodeIndex, sluice_dsl::Span)> = HashMap::new();
    let mut edges: Vec<_> = (&topo.graph)
        .edge_references()
        .filter(|e| e.weight().membership)
        .collect();
    edges.sort_by_key(|e| e.weight().span.start);
    for e in edges {
        let (group, sink, span) = (e.source(), e.target(), e.weight().span);
        match first_group.get(&sink) {
            Some(&(other, first_span)) if other != group => diags.push(
                Diagnostic::new(
                    Code::GroupConflict,
                    span,
                    format!(
                        "sink `{}` is in two groups, `{}` and `{}`",
                        topo.graph[sink].name, topo.graph[other].name, topo.graph[group].name
                    ),
                )
                .label("second membership")
                .note(first_span, format!("already a member of `{}` here", topo.graph[other].name))
                .help("a sink takes its batches from one place; declare a second sink for the other group"),
            ),
            Some(_) => diags.push(
                Diagnostic::new(
                    Code::GroupConflict,
                    span,
                    format!("sink `{}` is listed twice in group `{}`", topo.graph[sink].name, topo.graph[group].name),
                )
                .label("listed again")
                .note(first_group[&sink].1, "first listed here")
                .help("remove the repeated name"),
            ),
            None => {
                first_group.insert(sink, (group, span));
            }
        }
    }
    for (&sink, &(group, member_span)) in &first_group {
        for e in topo.graph.edges_directed(sink, Direction::Incoming) {
            if e.weight().membership || topo.role_of(e.source()) != Some(Role::Channel) {
                continue;
            }
            diags.push(
                Diagnostic::new(
                    Code::GroupConflict,
                    e.weight().span,
                    format!(
                        "sink `{}` is drained directly here, but it is also a member of group `{}`",
                        topo.graph[sink].name, topo.graph[group].name
                    ),
                )
                .label("drained directly")
                .note(member_span, "member of the group here")
                .help(format!(
                    "drain the group instead: `flow {} -> {}`",
                    topo.graph[e.source()].name,
                    topo.graph[group].name
                )),
            );
        }
    }
}

fn capacity(symbols: &Symbols, topo: &Topology, diags: &mut Vec<Diagnostic>) {
    for channel in symbols
        .components
        .iter()
        .filter(|c| c.role() == Role::Channel && c.spec.is_some())
    {
        let (Some((cap, _)), Some((tx, tx_span))) = (
            int_param(channel, Purpose::Capacity),
            int_param(channel, Purpose::TransactionCapacity),
        ) else {
            continue;
        };
        if tx > cap {
            diags.push(
                Diagnostic::new(
                    Code::Capacity,
                    tx_span.unwrap_or(channel.decl.name.span),
                    format!(
                        "channel `{}` has transaction_capacity {tx} but capacity {cap}",
                        channel.name()
                    ),
                )
                .label("larger than the channel")
                .help(format!(
                    "a transaction must fit in the channel: set transaction_capacity <= {cap}"
                )),
            );
        }
        let Some(node) = topo.node_of(channel.name()) else {
            continue;
        };
        // Sinks draining it (directly or through groups), sources feeding it (through
        // transforms and routes).
        let mut drains = reach(
            topo,
            node,
            Direction::Outgoing,
            |k| matches!(k, NodeKind::Component(Role::Group)),
            |k| matches!(k, NodeKind::Component(Role::Sink)),
        );
        let mut feeders = reach(
            topo,
            node,
            Direction::Incoming,
            |k| matches!(k, NodeKind::TransformUse | NodeKind::Route),
            |k| matches!(k, NodeKind::Component(Role::Source)),
        );
        drains.sort_by_key(|&n| topo.graph[n].span.start);
        feeders.sort_by_key(|&n| topo.graph[n].span.start);
        for (n, verb) in drains
            .iter()
            .map(|&n| (n, "takes"))
            .chain(feeders.iter().map(|&n| (n, "puts")))
        {
            let Some(component) = symbols.get(&topo.graph[n].name) else {
                continue;
            };
            let Some((batch, batch_span)) = int_param(component, Purpose::Batch) else {
                continue;
            };
            if batch > tx {
                diags.push(
                    Diagnostic::new(
                        Code::Capacity,
                        batch_span.unwrap_or(component.decl.name.span),
                        format!(
                            "{} `{}` {verb} batches of {batch}, more than channel `{}` allows in one transaction ({tx})",
                            component.role(),
                            component.name(),
                            channel.name()
                        ),
                    )
                    .label(if batch_span.is_some() { "batch_size too large".to_owned() } else { format!("default batch_size is {batch}") })
                    .note(tx_span.unwrap_or(channel.decl.name.span), format!("transaction_capacity of `{}` is {tx}", channel.name()))
                    .help(format!("set batch_size <= {tx}, or raise the channel's transaction_capacity")),
                );
            }
        }
    }
}

/// The nodes `found` reached from `start` going `direction`, walking on through nodes
/// for which `through` holds.
fn reach(
    topo: &Topology,
    start: NodeIndex,
    direction: Direction,
    through: impl Fn(&NodeKind) -> bool,
    found: impl Fn(&NodeKind) -> bool,
) -> Vec<NodeIndex> {
    let mut out = Vec::new();
    let mut stack: Vec<NodeIndex> = topo.graph.neighbors_directed(start, direction).collect();
    let mut seen = HashSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        let kind = &topo.graph[n].kind;
        if found(kind) {
            out.push(n);
        } else if through(kind) {
            stack.extend(topo.graph.neighbors_directed(n, direction));
        }
    }
    out
}

fn lossy_buffers(symbols: &Symbols, topo: &Topology, diags: &mut Vec<Diagnostic>) {
    for source in symbols
        .components
        .iter()
        .filter(|c| c.spec.is_some_and(|s| s.replayable))
    {
        let Some(start) = topo.node_of(source.name()) else {
            continue;
        };
        let mut stack = vec![start];
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            for e in topo.graph.edges_directed(n, Direction::Outgoing) {
                let target = e.target();
                match &topo.graph[target].kind {
                    // What follows an aggregate are its windows, and the open ones are
                    // lost on a crash whatever the channel (docs/analytics.md): a
                    // replay could not restore them, so no warning past one.
                    NodeKind::TransformUse
                        if symbols
                            .get(&topo.graph[target].name)
                            .and_then(|c| c.spec)
                            .is_some_and(|s| s.kind == sluice_core::aggregate::KIND) => {}
                    NodeKind::TransformUse | NodeKind::Route => stack.push(target),
                    NodeKind::Component(Role::Channel) => {
                        let channel = symbols.get(&topo.graph[target].name);
                        let durable = channel.and_then(|c| c.spec).is_none_or(|s| s.durable);
                        if !durable {
                            diags.push(
                                Diagnostic::new(
                                    Code::LossyBuffer,
                                    e.weight().span,
                                    format!(
                                        "{} source `{}` can replay its input, but channel `{}` loses what it buffers on a crash",
                                        source.decl.kind.name,
                                        source.name(),
                                        topo.graph[target].name
                                    ),
                                )
                                .label("in-memory channel")
                                .help(format!(
                                    "use a durable channel: `channel {} = file {{ dir = \"/var/lib/sluice/{}\" }}`",
                                    topo.graph[target].name, topo.graph[target].name
                                )),
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

fn routes_without_default(file: &sluice_dsl::File, diags: &mut Vec<Diagnostic>) {
    for item in &file.items {
        let Item::Flow(flow) = item else { continue };
        for step in &flow.steps {
            let Step::Route(route) = step else { continue };
            if !route
                .arms
                .iter()
                .any(|a| matches!(a.patterns, Patterns::Wildcard(_)))
            {
                diags.push(
                    Diagnostic::new(
                        Code::RouteNoDefault,
                        route.keyword_span,
                        "this route has no `_` arm: events matching no case are dropped silently",
                    )
                    .label("no default case")
                    .help("add `_ => CHANNEL`, or `_ => drop` to discard them on purpose"),
                );
            }
        }
    }
}
