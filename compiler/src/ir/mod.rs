//! The IR: a checked flow, resolved and typed, in the shape the code generator walks.
//!
//! `check` finds the problems; [`lower`] turns a flow without errors into a [`Flow`]:
//! every component with its catalogue entry and its config as typed values (defaults
//! filled in, words resolved to enum variants, `env(...)` uses collected), the channels
//! each sink or group drains, each source's paths with their transform steps and
//! deliveries, and every expression typed. The code generator reads only this: it never
//! sees the AST, never resolves a name and never asks for a kind or parameter by name.

pub mod expr;
mod lower;
pub mod value;

use sluice_core::aggregate::{AggregateFn, WindowForm};
use sluice_runtime::catalogue::ComponentSpec;

pub use expr::{Expr, ExprKind, Literal};
pub use lower::lower;
pub use value::{Config, EnvUse, Field, Text, Value};

/// One agent: everything it runs, in the order it starts them.
#[derive(Clone, Debug)]
pub struct Flow {
    /// From the `agent` block, else the file stem.
    pub agent_name: String,
    /// The `.flow` file's name, for the generated header and logs.
    pub file_name: String,
    /// The `agent` block's settings.
    pub agent: Config,
    /// Channels on some path, in declaration order.
    pub channels: Vec<Component>,
    /// Each (channel, sink or group) drain, in the order the sinks are declared.
    pub drains: Vec<Drain>,
    /// Run-time transforms on some path, in declaration order.
    pub transforms: Vec<Component>,
    /// Sources on some path, in declaration order.
    pub sources: Vec<Source>,
    /// Every `env(...)` of the flow, in order.
    pub env: Vec<EnvUse>,
    /// The `capacity` rules whose values come from `env(...)`: checked when the agent
    /// starts, since `sluice check` cannot.
    pub env_rules: Vec<EnvRule>,
    /// The user's component crates whose kinds the flow uses, as dependencies of the agent.
    pub crates: Vec<Dependency>,
}

/// A crate the agent depends on: a line of its `[dependencies]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    pub name: String,
    /// Its `[package] name`, as cargo's messages call it.
    pub package: String,
    /// The TOML value: `{ path = "/abs/dir" }`.
    pub value: String,
}

/// `smaller <= larger`, where at least one side is an `env(...)` value.
#[derive(Clone, Debug)]
pub struct EnvRule {
    pub smaller: Operand,
    pub larger: Operand,
    /// The rule in words, for the agent's message.
    pub what: String,
}

pub use sluice_runtime::env::Operand;

/// A component the agent builds.
#[derive(Clone, Debug)]
pub struct Component {
    pub name: String,
    pub spec: &'static ComponentSpec,
    pub config: Config,
    /// Its settings need the runtime's TLS support (a `tls` block, an `https://` URL).
    pub needs_tls: bool,
    /// The events per transaction, as a field of its config (`batch_size`).
    pub batch_field: Option<&'static str>,
}

/// A sink or a group taking from one channel.
#[derive(Clone, Debug)]
pub struct Drain {
    pub channel: String,
    pub target: DrainTarget,
}

#[derive(Clone, Debug)]
pub enum DrainTarget {
    /// `instance` tells apart the copies of a sink drained from several channels.
    Sink {
        sink: Component,
        instance: Option<String>,
    },
    /// A group and its members, in its member order.
    Group {
        group: Component,
        members: Vec<Component>,
    },
}

/// A source and where its events go.
#[derive(Clone, Debug)]
pub struct Source {
    pub component: Component,
    pub paths: Vec<Path>,
}

/// One `flow` statement from a source.
#[derive(Clone, Debug)]
pub struct Path {
    /// The statement's first line, for comments in the generated code.
    pub text: String,
    pub steps: Vec<Step>,
    pub delivery: Delivery,
}

/// One transform of a path, in order.
#[derive(Clone, Debug)]
pub enum Step {
    /// A transform built at run time (`Flow::transforms`), applied per event.
    Runtime { name: String },
    /// A transform compiled into the agent: events must meet every condition, then the
    /// headers are set in order.
    Inline {
        name: String,
        kind: &'static str,
        /// The runtime feature the kind needs (its expression support).
        feature: &'static str,
        conditions: Vec<Expr>,
        headers: Vec<(String, Expr)>,
    },
    /// An `aggregate`: the events so far are absorbed into its windows, and the steps
    /// after it (and the delivery) apply to the windows it closes.
    Aggregate(Aggregate),
}

/// An `aggregate` transform, typed: what each event contributes and what each closed
/// (window, group) reports.
#[derive(Clone, Debug)]
pub struct Aggregate {
    pub name: String,
    pub feature: &'static str,
    pub window: WindowForm,
    /// The window's durations, as its form orders them (`hopping`: size, every).
    pub durations: Vec<std::time::Duration>,
    pub lateness: std::time::Duration,
    /// The event time; `None`: the time the event arrives.
    pub time: Option<Expr>,
    /// The group keys: the header each is reported as, and its expression.
    pub by: Vec<(String, Expr)>,
    pub emit: Vec<Emit>,
    pub max_groups: u64,
}

/// One value of an aggregate's `emit`.
#[derive(Clone, Debug)]
pub struct Emit {
    /// The output header (and JSON field).
    pub header: String,
    pub function: AggregateFn,
    /// The per-event argument (none for `count()`).
    pub arg: Option<Expr>,
    /// `quantile`'s fraction.
    pub fraction: f64,
    /// `top_k`'s count.
    pub count: u64,
}

/// Where a path's events go after its transforms.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// Into each of these channels (a copy each).
    Channels(Vec<String>),
    /// To the channel of the first arm whose patterns match the key.
    Route(Route),
}

#[derive(Clone, Debug)]
pub struct Route {
    pub key: Expr,
    pub arms: Vec<Arm>,
    /// The distinct channels the arms name, in order of first use.
    pub channels: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Arm {
    /// `None` for `_`.
    pub patterns: Option<Vec<Literal>>,
    /// `None` for `drop`.
    pub channel: Option<String>,
}
