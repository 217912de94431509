//! `sluice graph`: the topology as Graphviz dot or Mermaid, nodes labelled `name (kind)`
//! and shaped by role, route edges labelled with their match values.

use std::fmt::Write as _;

use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use sluice_runtime::catalogue::Role;

use crate::graph::{NodeKind, Topology};

/// Graph output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

fn label(topo: &Topology, n: petgraph::stable_graph::NodeIndex) -> String {
    let node = &topo.graph[n];
    match node.kind {
        NodeKind::Route => format!("route {}", node.detail),
        NodeKind::Drop => "drop".to_owned(),
        _ => format!("{} ({})", node.name, node.detail),
    }
}

pub fn dot(name: &str, topo: &Topology) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", escape(name));
    out.push_str("    rankdir=LR;\n    node [fontname=\"Helvetica\"];\n");
    for n in topo.graph.node_indices() {
        let shape = match topo.graph[n].kind {
            NodeKind::Component(Role::Source) => "shape=invhouse",
            NodeKind::Component(Role::Channel) => "shape=cylinder",
            NodeKind::Component(Role::Sink) => "shape=house",
            NodeKind::Component(Role::Group) => "shape=box3d",
            NodeKind::TransformUse => "shape=box, style=rounded",
            NodeKind::Route => "shape=diamond",
            NodeKind::Drop => "shape=point",
            NodeKind::Component(_) => "shape=box",
        };
        let _ = writeln!(
            out,
            "    n{} [label=\"{}\", {shape}];",
            n.index(),
            escape(&label(topo, n))
        );
    }
    for e in (&topo.graph).edge_references() {
        let mut attrs = Vec::new();
        if let Some(l) = &e.weight().label {
            attrs.push(format!("label=\"{}\"", escape(l)));
        }
        if e.weight().membership {
            attrs.push("style=dashed".to_owned());
        }
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(
            out,
            "    n{} -> n{}{attrs};",
            e.source().index(),
            e.target().index()
        );
    }
    out.push_str("}\n");
    out
}

pub fn mermaid(topo: &Topology) -> String {
    let mut out = String::from("flowchart LR\n");
    for n in topo.graph.node_indices() {
        let text = mermaid_escape(&label(topo, n));
        let shape = match topo.graph[n].kind {
            NodeKind::Component(Role::Source) => format!("[/\"{text}\"/]"),
            NodeKind::Component(Role::Channel) => format!("[(\"{text}\")]"),
            NodeKind::Component(Role::Sink) => format!("[\\\"{text}\"\\]"),
            NodeKind::Component(Role::Group) => format!("[[\"{text}\"]]"),
            NodeKind::TransformUse => format!("(\"{text}\")"),
            NodeKind::Route => format!("{{\"{text}\"}}"),
            NodeKind::Drop => "((drop))".to_owned(),
            NodeKind::Component(_) => format!("[\"{text}\"]"),
        };
        let _ = writeln!(out, "    n{}{shape}", n.index());
    }
    for e in (&topo.graph).edge_references() {
        let arrow = if e.weight().membership { "-.->" } else { "-->" };
        match &e.weight().label {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "    n{} {arrow}|\"{}\"| n{}",
                    e.source().index(),
                    mermaid_escape(l),
                    e.target().index()
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "    n{} {arrow} n{}",
                    e.source().index(),
                    e.target().index()
                );
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
}
