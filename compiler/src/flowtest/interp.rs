//! Runs a checked flow's paths in process, without sources, channels or sinks: events
//! are injected after a source (or at a transform) and collected per channel. Built-in
//! transforms are the runtime's own implementations, built from the flow's config;
//! `filter`, `set` and routes evaluate the flow's expressions with the runtime's
//! expression functions; aggregates are the runtime's aggregate stage. Nothing here
//! re-implements a component, so a test and an agent cannot disagree about one.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use sluice_core::aggregate::WindowForm;
use sluice_runtime::aggregate::stage::{self, Stage};
use sluice_runtime::aggregate::{Function as AggregateFunction, Spec, Window};
use sluice_runtime::build::BuildTransform;
use sluice_runtime::event::{static_name, Event};
use sluice_runtime::metrics::TransformCounters;
use sluice_runtime::params::RegexPattern;
use sluice_runtime::pipeline::Transform;
use sluice_runtime::transforms as t;

use super::eval::{self, Regexes};
use crate::ir::{self, Aggregate, Delivery, Flow, Step, Value};

/// Where injected events start: after a source, or at a transform of its paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Source(String),
    Transform(String),
}

/// The flow, ready to take events.
pub struct Interpreter<'f> {
    flow: &'f Flow,
    transforms: HashMap<String, Box<dyn Transform>>,
    aggregates: HashMap<String, Stage>,
    regexes: Regexes,
    /// Header names of `set`, interned once (the runtime keeps them for the process).
    names: HashMap<String, &'static str>,
    /// What reached each channel, in order.
    pub delivered: BTreeMap<String, Vec<Event>>,
}

impl<'f> Interpreter<'f> {
    /// Builds every runtime transform and aggregate of the flow; `Err` names what cannot
    /// run in process (a transform from a component crate).
    pub fn new(flow: &'f Flow) -> Result<Self, String> {
        let mut transforms = HashMap::new();
        for component in &flow.transforms {
            let built = build_transform(component)?;
            transforms.insert(component.name.clone(), built);
        }
        let mut aggregates = HashMap::new();
        for source in &flow.sources {
            for path in &source.paths {
                for step in &path.steps {
                    if let Step::Aggregate(a) = step {
                        aggregates
                            .entry(a.name.clone())
                            .or_insert_with(|| aggregate_stage(a));
                    }
                }
            }
        }
        Ok(Interpreter {
            flow,
            transforms,
            aggregates,
            regexes: Regexes::default(),
            names: HashMap::new(),
            delivered: BTreeMap::new(),
        })
    }

    /// Sends events in as `entry` would: along every path from the source, or every path
    /// through the transform from that transform on.
    pub fn send(&mut self, entry: &Entry, events: &[Event]) {
        let flow = self.flow;
        for source in &flow.sources {
            for path in &source.paths {
                let start = match entry {
                    Entry::Source(name) if *name == source.component.name => Some(0),
                    Entry::Source(_) => None,
                    Entry::Transform(name) => path.steps.iter().position(|s| step_name(s) == name),
                };
                if let Some(start) = start {
                    self.run(&path.steps[start..], &path.delivery, events.to_vec());
                }
            }
        }
    }

    /// Closes every aggregate's open windows, as an agent does at shutdown (upstream
    /// first), and sends them on.
    pub fn flush(&mut self) {
        let flow = self.flow;
        for source in &flow.sources {
            for path in &source.paths {
                for (i, step) in path.steps.iter().enumerate() {
                    if let Step::Aggregate(a) = step {
                        let windows = match self.aggregates.get(&a.name) {
                            Some(stage) => stage.flush(),
                            None => continue,
                        };
                        if !windows.is_empty() {
                            self.run(&path.steps[i + 1..], &path.delivery, windows);
                        }
                    }
                }
            }
        }
    }

    fn run(&mut self, steps: &[Step], delivery: &Delivery, mut events: Vec<Event>) {
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Runtime { name } => {
                    if let Some(t) = self.transforms.get(name) {
                        events.retain_mut(|e| t.apply(e));
                    }
                }
                Step::Inline {
                    conditions,
                    headers,
                    ..
                } => {
                    let names: Vec<&'static str> = headers
                        .iter()
                        .map(|(h, _)| {
                            *self
                                .names
                                .entry(h.clone())
                                .or_insert_with(|| static_name(h))
                        })
                        .collect();
                    let regexes = &mut self.regexes;
                    events.retain_mut(|event| {
                        if !conditions
                            .iter()
                            .all(|c| eval::condition(c, event, regexes))
                        {
                            return false;
                        }
                        for ((_, value), name) in headers.iter().zip(&names) {
                            let value = eval::value(value, event, regexes);
                            sluice_runtime::expr::set_header(event, name, value);
                        }
                        true
                    });
                }
                Step::Aggregate(a) => {
                    let windows = self.absorb(a, &events);
                    if !windows.is_empty() {
                        self.run(&steps[i + 1..], delivery, windows);
                    }
                    return;
                }
            }
        }
        self.deliver(delivery, events);
    }

    /// The events into the aggregate; the windows that closed.
    fn absorb(&mut self, a: &Aggregate, events: &[Event]) -> Vec<Event> {
        let Some(stage) = self.aggregates.get(&a.name) else {
            return Vec::new();
        };
        let Ok(mut absorber) = stage.absorber() else {
            return Vec::new();
        };
        for event in events {
            let time = a
                .time
                .as_ref()
                .map(|e| eval::value(e, event, &mut self.regexes));
            let keys: Vec<String> =
                a.by.iter()
                    .map(|(_, e)| stage::key(eval::value(e, event, &mut self.regexes)))
                    .collect();
            let args: Vec<Option<sluice_runtime::expr::Value>> = a
                .emit
                .iter()
                .map(|e| {
                    e.arg
                        .as_ref()
                        .map(|x| eval::value(x, event, &mut self.regexes))
                })
                .collect();
            let inputs: Vec<_> = args
                .iter()
                .map(|v| v.as_ref().and_then(stage::input))
                .collect();
            absorber.add(time.as_ref(), keys, &inputs);
        }
        absorber.finish()
    }

    fn deliver(&mut self, delivery: &Delivery, events: Vec<Event>) {
        match delivery {
            Delivery::Channels(channels) => {
                for channel in channels {
                    self.delivered
                        .entry(channel.clone())
                        .or_default()
                        .extend(events.iter().cloned());
                }
            }
            Delivery::Route(route) => {
                for event in events {
                    let key = eval::value(&route.key, &event, &mut self.regexes);
                    let mut target = None;
                    let mut default = None;
                    for arm in &route.arms {
                        match &arm.patterns {
                            None => default = Some(&arm.channel),
                            Some(patterns) if target.is_none() => {
                                if patterns.iter().any(|p| {
                                    sluice_runtime::expr::matches_literal(&key, &eval::literal(p))
                                }) {
                                    target = Some(&arm.channel);
                                }
                            }
                            Some(_) => {}
                        }
                    }
                    if let Some(Some(channel)) = target.or(default) {
                        self.delivered
                            .entry(channel.clone())
                            .or_default()
                            .push(event);
                    }
                }
            }
        }
    }
}

fn step_name(step: &Step) -> &str {
    match step {
        Step::Runtime { name } | Step::Inline { name, .. } => name,
        Step::Aggregate(a) => &a.name,
    }
}

fn aggregate_stage(a: &Aggregate) -> Stage {
    let d = |i: usize| {
        a.durations
            .get(i)
            .copied()
            .unwrap_or(Duration::from_secs(60))
    };
    let window = match a.window {
        WindowForm::Tumbling => Window::Tumbling { size: d(0) },
        WindowForm::Hopping => Window::Hopping {
            size: d(0),
            every: d(1),
        },
        WindowForm::Session => Window::Session { gap: d(0) },
    };
    let functions = a
        .emit
        .iter()
        .map(|e| {
            AggregateFunction::from_checked(
                e.function,
                e.fraction,
                usize::try_from(e.count).unwrap_or(1),
            )
        })
        .collect();
    Stage::new(
        static_name(&a.name),
        Spec {
            window,
            lateness: a.lateness,
            functions,
            max_groups: usize::try_from(a.max_groups).unwrap_or(usize::MAX),
        },
        a.time.is_some(),
        a.by.iter().map(|(h, _)| static_name(h)).collect(),
        a.emit.iter().map(|e| static_name(&e.header)).collect(),
        Arc::new(TransformCounters::default()),
    )
}

fn env_name(v: Option<&Value>) -> String {
    match v {
        Some(Value::Env(e)) => e.name.clone(),
        _ => String::new(),
    }
}

/// A runtime transform built from its checked config, as the agent builds it.
fn build_transform(c: &ir::Component) -> Result<Box<dyn Transform>, String> {
    let cfg = &c.config;
    let text = |name: &str| -> std::io::Result<String> {
        match cfg.get(name) {
            Some(Value::Text(_, s)) => Ok(s.clone()),
            Some(Value::Env(e)) => std::env::var(&e.name)
                .ok()
                .or_else(|| e.default.clone())
                .ok_or_else(|| {
                    std::io::Error::other(format!(
                        "transform `{}`: set ${} (its `{name}` reads it)",
                        c.name, e.name
                    ))
                }),
            _ => Ok(String::new()),
        }
    };
    let opt_text = |name: &str| cfg.get(name).map(|_| text(name)).transpose();
    let flag = |name: &str| -> std::io::Result<bool> {
        match cfg.get(name) {
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Env(_)) => match text(name)?.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                other => Err(std::io::Error::other(format!(
                    "transform `{}`: `{name}` must be true or false, ${} is `{other}`",
                    c.name,
                    env_name(cfg.get(name))
                ))),
            },
            _ => Ok(false),
        }
    };
    // A list or map item: text, or an env(...) resolved as the agent does.
    let item = |v: &Value| -> std::io::Result<Option<String>> {
        match v {
            Value::Text(_, s) => Ok(Some(s.clone())),
            Value::Env(e) => std::env::var(&e.name)
                .ok()
                .or_else(|| e.default.clone())
                .map(Some)
                .ok_or_else(|| {
                    std::io::Error::other(format!("transform `{}`: set ${}", c.name, e.name))
                }),
            _ => Ok(None),
        }
    };
    let counters = Arc::new(TransformCounters::default());
    let built: std::io::Result<Box<dyn Transform>> = sluice_runtime::testing::block_on(async {
        Ok(match c.spec.kind {
            "timestamp" => Box::new(
                t::timestamp::TimestampConfig {
                    header: text("header")?,
                    preserve: flag("preserve")?,
                }
                .build(counters)
                .await?,
            ) as Box<dyn Transform>,
            "host" => Box::new(
                t::host::HostConfig {
                    header: text("header")?,
                    use_ip: flag("use_ip")?,
                    preserve: flag("preserve")?,
                }
                .build(counters)
                .await?,
            ),
            "static" => Box::new(
                t::static_header::StaticConfig {
                    key: text("key")?,
                    value: text("value")?,
                    preserve: flag("preserve")?,
                }
                .build(counters)
                .await?,
            ),
            "remove_header" => Box::new(
                t::remove_header::RemoveHeaderConfig {
                    name: opt_text("name")?,
                    regex: opt_text("regex")?.map(RegexPattern),
                }
                .build(counters)
                .await?,
            ),
            "uuid" => Box::new(
                t::uuid::UuidConfig {
                    header: text("header")?,
                    preserve: flag("preserve")?,
                }
                .build(counters)
                .await?,
            ),
            "regex_filter" => Box::new(
                t::regex_filter::RegexFilterConfig {
                    regex: RegexPattern(text("regex")?),
                    exclude: flag("exclude")?,
                }
                .build(counters)
                .await?,
            ),
            "regex_extractor" => Box::new(
                t::regex_extractor::RegexExtractorConfig {
                    regex: RegexPattern(text("regex")?),
                    names: match cfg.get("names") {
                        Some(Value::List(items)) => {
                            let mut names = Vec::new();
                            for v in items {
                                names.extend(item(v)?);
                            }
                            names
                        }
                        _ => Vec::new(),
                    },
                }
                .build(counters)
                .await?,
            ),
            "search_replace" => Box::new(
                t::search_replace::SearchReplaceConfig {
                    search: RegexPattern(text("search")?),
                    replace: text("replace")?,
                }
                .build(counters)
                .await?,
            ),
            "json_extract" => Box::new(
                t::json_extract::JsonExtractConfig {
                    fields: match cfg.get("fields") {
                        Some(Value::Map(entries)) => {
                            let mut fields = BTreeMap::new();
                            for (k, v) in entries {
                                if let Some(pointer) = item(v)? {
                                    fields.insert(k.clone(), pointer);
                                }
                            }
                            fields
                        }
                        _ => BTreeMap::new(),
                    },
                }
                .build(counters)
                .await?,
            ),
            other => {
                return Err(std::io::Error::other(format!(
                    "transform `{}` of kind `{other}` comes from a component crate; `sluice test` runs built-in transforms only",
                    c.name
                )))
            }
        })
    });
    built.map_err(|e| e.to_string())
}
