//! `sluice import`: turns an Apache Flume 1.x properties configuration into a `.flow`,
//! and reports, line by line, what it could not carry over.
//!
//! Stages: [`properties`] reads the files as Java does → [`config`] groups the keys into
//! one agent's components and substitutes `${…}` → the translators ([`sources`],
//! [`channels`], [`sinks`], [`interceptors`], [`wiring`]) produce declarations and flow
//! statements → [`emit`] writes, formats and checks the flow. The mapping it implements
//! is documented in `docs/import.md`.

mod channels;
mod config;
mod emit;
mod interceptors;
pub mod properties;
mod sinks;
mod sources;
mod translate;
mod values;
mod wiring;

use std::collections::BTreeMap;

use config::{Agent, Section};
use translate::{Decl, Reader, Report};

/// How serious a finding is. Only errors make the import incomplete (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Something was not carried over, or would change what is delivered.
    Error,
    /// Carried over with a difference the user should know about.
    Warning,
    /// For information: a renaming, a default made explicit.
    Note,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

/// One thing the importer has to say, at a line of an input file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub level: Level,
    /// Index into the inputs.
    #[serde(skip)]
    pub file: usize,
    /// 1-based line; 0 when the finding is about the whole configuration.
    pub line: usize,
    /// Stable code: `no-counterpart`, `not-carried-over`, `behaviour-change`, `trap`, …
    pub code: &'static str,
    pub message: String,
    /// The Sluice declaration it concerns, whose comment in the flow repeats it.
    #[serde(skip)]
    pub subject: Option<String>,
}

impl Finding {
    pub fn at(level: Level, file: usize, line: usize, code: &'static str, message: String) -> Self {
        Finding {
            level,
            file,
            line,
            code,
            message,
            subject: None,
        }
    }
}

/// One properties file to import.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Import options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The agent to import (`flume-ng agent -n NAME`); needed when the file has several.
    pub agent: Option<String>,
}

/// The produced flow and the report.
#[derive(Debug, Clone)]
pub struct Imported {
    pub agent: String,
    /// The `.flow` text, formatted.
    pub flow: String,
    /// Sorted by file and line.
    pub findings: Vec<Finding>,
    /// Flume name → Sluice name, where they differ.
    pub renames: Vec<(String, String)>,
}

impl Imported {
    /// Everything was carried over: no finding is an error.
    pub fn complete(&self) -> bool {
        !self.findings.iter().any(|f| f.level == Level::Error)
    }
}

/// Why nothing could be imported.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("no agent is configured: Flume keys look like `AGENT.sources = r1`")]
    NoAgent,
    #[error("the configuration holds several agents ({}); choose one with --agent NAME", .0.join(", "))]
    Ambiguous(Vec<String>),
    #[error("no agent named `{name}`; the configuration holds {}", .agents.join(", "))]
    UnknownAgent { name: String, agents: Vec<String> },
}

/// Imports the agent from the properties files (later files override earlier keys, as
/// `flume-ng --conf-file a --conf-file b` does).
pub fn import(inputs: &[Input], options: &Options) -> Result<Imported, ImportError> {
    let mut report = Report::default();
    let mut all = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let parsed = properties::parse(&input.bytes, index);
        for p in parsed.problems {
            let level = if p.message.contains("empty value") {
                Level::Note
            } else {
                Level::Error
            };
            report
                .findings
                .push(Finding::at(level, index, p.line, "properties", p.message));
        }
        if let Some(line) = parsed.non_ascii_line {
            report.findings.push(Finding::at(Level::Warning, index, line, "encoding",
                "non-ASCII text: Flume 1.10 and later read properties files as ISO-8859-1, so it saw other characters than these; the import reads the file as UTF-8 when it is valid UTF-8".to_owned()));
        }
        all.extend(parsed.properties);
    }
    let agents = config::agent_names(&all);
    let agent_name = match (&options.agent, agents.as_slice()) {
        (Some(name), _) if agents.contains(name) => name.clone(),
        (Some(name), _) => {
            return Err(ImportError::UnknownAgent {
                name: name.clone(),
                agents,
            })
        }
        (None, []) => return Err(ImportError::NoAgent),
        (None, [one]) => one.clone(),
        (None, _) => return Err(ImportError::Ambiguous(agents)),
    };
    let agent = config::build_agent(&all, &agent_name, &mut report.findings);
    let plan = Plan::build(&agent, &mut report);
    let source_name = inputs
        .first()
        .map_or("flume.properties", |i| i.name.as_str());
    let flow = emit::write(&agent, &plan, source_name, &mut report);
    let mut findings = report.findings;
    findings.sort_by_key(|f| (f.file, f.line == 0, f.line, f.level));
    findings.dedup();
    Ok(Imported {
        agent: agent_name,
        flow,
        findings,
        renames: plan.renames,
    })
}

/// Everything the flow will hold, in the order it is written.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub sources: Vec<Decl>,
    pub transforms: Vec<Decl>,
    pub channels: Vec<Decl>,
    pub sinks: Vec<Decl>,
    pub groups: Vec<Decl>,
    pub flows: Vec<String>,
    /// Comments for what was left out, by section.
    pub gaps: Vec<String>,
    pub renames: Vec<(String, String)>,
}

/// Sluice names for Flume's per-role names: one namespace, identifiers only.
struct Names {
    by_role: BTreeMap<(Section, String), String>,
    taken: std::collections::HashSet<String>,
    /// The next suffix to try per wanted name.
    next: std::collections::HashMap<String, usize>,
}

impl Names {
    fn new(agent: &Agent, renames: &mut Vec<(String, String)>) -> Self {
        let mut names = Names {
            by_role: BTreeMap::new(),
            taken: Default::default(),
            next: Default::default(),
        };
        let sections = [
            Section::Source,
            Section::Channel,
            Section::Sink,
            Section::SinkGroup,
        ];
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for s in sections {
            for n in agent.listed(s) {
                *count.entry(values::ident(n)).or_default() += 1;
            }
        }
        for s in sections {
            for n in agent.listed(s) {
                let base = values::ident(n);
                let wanted = if count[&base] > 1 {
                    format!("{base}_{}", s.noun().replace(' ', "_"))
                } else {
                    base
                };
                let sluice = names.unique(&wanted);
                if sluice != *n {
                    renames.push((format!("{} {n}", s.noun()), sluice.clone()));
                }
                names.by_role.insert((s, n.clone()), sluice);
            }
        }
        names
    }

    fn unique(&mut self, wanted: &str) -> String {
        let mut name = wanted.to_owned();
        let n = self.next.entry(wanted.to_owned()).or_insert(2);
        while self.taken.contains(&name) {
            name = format!("{wanted}_{n}");
            *n += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    fn get(&self, section: Section, flume: &str) -> String {
        self.by_role
            .get(&(section, flume.to_owned()))
            .cloned()
            .unwrap_or_else(|| values::ident(flume))
    }
}

impl Plan {
    fn build(agent: &Agent, report: &mut Report) -> Plan {
        let mut plan = Plan::default();
        check_lists(agent, report);
        let mut names = Names::new(agent, &mut plan.renames);

        // Channels first: sources and sinks size their batches from them.
        let mut channels: BTreeMap<String, channels::ChannelOut> = BTreeMap::new();
        for flume in agent.listed(Section::Channel) {
            let Some(comp) = agent.component(Section::Channel, flume) else {
                continue;
            };
            let name = names.get(Section::Channel, flume);
            let r = Reader::new(comp, format!("channel `{flume}`"));
            report.subject = Some(name.clone());
            match channels::translate(&r, &name, report) {
                Some(out) => {
                    plan.channels.push(out.decl.clone());
                    channels.insert(flume.clone(), out);
                }
                None => plan.gaps.push(gap(&r, comp)),
            }
        }
        if agent.listed(Section::Channel).is_empty() {
            let at = agent
                .list_lines
                .get(&Section::Source)
                .copied()
                .unwrap_or((0, 0));
            report.push_at(
                Level::Error,
                at,
                "invalid-config",
                format!(
                    "agent `{}` lists no channels; Flume refuses an agent without one",
                    agent.name
                ),
            );
        }

        let mut fed: Vec<String> = Vec::new();
        for flume in agent.listed(Section::Source) {
            let Some(comp) = agent.component(Section::Source, flume) else {
                continue;
            };
            let name = names.get(Section::Source, flume);
            let r = Reader::new(comp, format!("source `{flume}`"));
            report.subject = Some(name.clone());
            let wired = source_channels(&r, agent, report);
            let Some(outs) = sources::translate(&r, &name, report) else {
                plan.gaps.push(gap(&r, comp));
                continue;
            };
            let known: Vec<(String, String)> = wired
                .iter()
                .filter(|c| channels.contains_key(*c))
                .map(|c| (c.clone(), names.get(Section::Channel, c)))
                .collect();
            let min_tx = known
                .iter()
                .filter_map(|(c, _)| channels.get(c))
                .map(|c| c.transaction_capacity)
                .min();
            // Interceptors, in order, shared by the source's flows.
            let mut chain_tail = Vec::new();
            let list = r
                .text(report, "interceptors")
                .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
                .unwrap_or_default();
            for i in &list {
                let ir = r.nested(
                    &format!("interceptors.{i}."),
                    format!("interceptor `{i}` of source `{flume}`"),
                );
                let t_name = names.unique(&format!(
                    "{name}_{}",
                    values::ident(i).trim_start_matches('_')
                ));
                match interceptors::translate(&ir, &t_name, report) {
                    Some(t) => {
                        chain_tail.push(t.name.clone());
                        plan.transforms.push(t);
                    }
                    None => plan.gaps.push(format!(
                        "interceptor `{i}` of source `{flume}` (line {}) is not imported",
                        ir.line_of("type").1
                    )),
                }
            }
            for k in r.keys_under("interceptors.") {
                if !list.iter().any(|i| k.starts_with(&format!("{i}."))) {
                    let _ = r.prop(&format!("interceptors.{k}"));
                    report.push_at(Level::Warning, r.line_of(&format!("interceptors.{k}")), "unlisted", format!("{}: `interceptors.{k}` belongs to an interceptor not listed in `interceptors`; Flume ignores it", r.what));
                }
            }
            let mut flow_sets = Vec::new();
            for mut out in outs {
                if out.decl.name != name {
                    out.decl.name = names.unique(&out.decl.name);
                }
                for t in &mut out.pre {
                    t.name = names.unique(&t.name);
                }
                if out.batch_from_channels {
                    let batch = min_tx.unwrap_or(100).min(100);
                    out.decl.set("batch_size", values::int(batch as i64));
                }
                if let (Some(batch), Some(tx)) = (
                    out.decl
                        .param("batch_size")
                        .and_then(|b| b.replace('_', "").parse::<u64>().ok()),
                    min_tx,
                ) {
                    if batch > tx {
                        report.push_at(Level::Error, r.line_of("batchSize"), "capacity", format!(
                            "{}: batch size {batch} is larger than the transaction capacity {tx} of its channel; Flume 1.9 and later refuse to start, and so does Sluice. Lower the batch size or raise `transactionCapacity`", r.what));
                    }
                }
                if out.replayable
                    && known
                        .iter()
                        .any(|(c, _)| channels.get(c).is_some_and(|c| !c.durable))
                {
                    report.push_at(Level::Warning, r.line_of("channels"), "trap", format!(
                        "{}: its offsets or acknowledgements are committed once the events are in the channel, so what a memory channel holds at a crash is lost for good; use a `file` channel for no loss", r.what));
                }
                let mut chain = vec![out.decl.name.clone()];
                chain.extend(out.pre.iter().map(|t| t.name.clone()));
                chain.extend(chain_tail.iter().cloned());
                flow_sets.push((chain.join(" | "), out.syslog));
                plan.transforms.append(&mut out.pre);
                plan.sources.push(out.decl);
            }
            if !known.is_empty() {
                for (chain, syslog) in flow_sets {
                    plan.flows
                        .extend(wiring::source_flows(&r, &chain, &known, syslog, report));
                }
                fed.extend(known.iter().map(|(f, _)| f.clone()));
            }
            r.consume(&["channels"]);
        }

        // Sinks, then groups that gather them.
        let mut sink_channel: BTreeMap<String, String> = BTreeMap::new();
        for flume in agent.listed(Section::Sink) {
            let Some(comp) = agent.component(Section::Sink, flume) else {
                continue;
            };
            let name = names.get(Section::Sink, flume);
            let r = Reader::new(comp, format!("sink `{flume}`"));
            report.subject = Some(name.clone());
            let channel = r.text(report, "channel");
            let Some(mut out) = sinks::translate(&r, &name, report) else {
                plan.gaps.push(gap(&r, comp));
                continue;
            };
            match channel {
                None => report.push_at(Level::Error, r.line_of("type"), "invalid-config", format!(
                    "{} has no `channel`{}; Flume removes it", r.what, if r.has("channels") { " (`channels` is the source's key)" } else { "" })),
                Some(c) if !agent.listed(Section::Channel).contains(&c) => report.push_at(Level::Error, r.line_of("channel"), "invalid-config", format!(
                    "{} reads channel `{c}`, which is not in the agent's `channels`; Flume removes the sink", r.what)),
                Some(c) => {
                    if let Some(ch) = channels.get(&c) {
                        let tx = ch.transaction_capacity;
                        match out.batch {
                            None => out.decl.set("batch_size", values::int(tx.min(100) as i64)),
                            Some(b) if b > tx => report.push_at(Level::Error, r.line_of("type"), "capacity", format!(
                                "{}: batch size {b} is larger than the transaction capacity {tx} of channel `{c}`; Flume 1.9 and later refuse to start, and so does Sluice", r.what)),
                            Some(_) => {}
                        }
                        if out.time_escapes {
                            report.push_at(Level::Note, r.line_of("type"), "trap", format!(
                                "{}: Flume jams on an event without a numeric `timestamp` header (its path has time escapes); Sluice uses the write time for such events", r.what));
                        }
                        sink_channel.insert(flume.clone(), c);
                    }
                }
            }
            r.consume(&["channels"]);
            plan.sinks.push(out.decl);
        }
        let mut grouped: BTreeMap<String, String> = BTreeMap::new();
        for flume in agent.listed(Section::SinkGroup) {
            let Some(comp) = agent.component(Section::SinkGroup, flume) else {
                continue;
            };
            let r = Reader::new(comp, format!("sink group `{flume}`"));
            let members: Vec<String> = r
                .text(report, "sinks")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
            let mut valid = Vec::new();
            for m in &members {
                if !agent.listed(Section::Sink).contains(m) {
                    report.push_at(
                        Level::Error,
                        r.line_of("sinks"),
                        "invalid-config",
                        format!(
                            "{} names sink `{m}`, which is not in the agent's `sinks`",
                            r.what
                        ),
                    );
                } else if let Some(other) = grouped.get(m) {
                    report.push_at(Level::Error, r.line_of("sinks"), "invalid-config", format!("{}: sink `{m}` is already in group `{other}`; Flume keeps it in one group only", r.what));
                } else {
                    valid.push((m.clone(), names.get(Section::Sink, m)));
                }
            }
            let name = names.get(Section::SinkGroup, flume);
            report.subject = Some(name.clone());
            let Some(decl) = wiring::group(&r, &name, &valid, report) else {
                continue;
            };
            let feeding: Vec<&String> = valid
                .iter()
                .filter_map(|(m, _)| sink_channel.get(m))
                .collect();
            let mut distinct = feeding.clone();
            distinct.dedup();
            if distinct.len() > 1 {
                report.push_at(Level::Error, r.line_of("sinks"), "no-counterpart", format!(
                    "{}: its sinks read different channels; a Sluice group drains one channel. Give them one channel", r.what));
            }
            if let Some(channel) = feeding.first() {
                plan.flows.push(format!(
                    "flow {} -> {}",
                    names.get(Section::Channel, channel),
                    decl.name
                ));
            }
            for (m, _) in &valid {
                grouped.insert(m.clone(), flume.clone());
            }
            plan.groups.push(decl);
        }
        for flume in agent.listed(Section::Sink) {
            if grouped.contains_key(flume) {
                continue;
            }
            if let Some(c) = sink_channel.get(flume) {
                plan.flows.push(format!(
                    "flow {} -> {}",
                    names.get(Section::Channel, c),
                    names.get(Section::Sink, flume)
                ));
            }
        }
        report.subject = None;
        let drained: Vec<&String> = sink_channel.values().collect();
        for c in channels.keys() {
            if fed.contains(c) && !drained.contains(&c) {
                let comp = agent.component(Section::Channel, c);
                let at = comp.map_or((0, 0), |c| (c.file, c.line));
                report.push_at(Level::Error, at, "dead-end", format!(
                    "channel `{c}` is fed but no sink reads it; Flume fills it and then blocks its sources, Sluice refuses it (`dead-end`). Add a sink"));
            }
        }
        plan
    }
}

/// The channels a source names, keeping those the agent lists (as Flume does).
fn source_channels(r: &Reader, agent: &Agent, report: &mut Report) -> Vec<String> {
    let Some(list) = r.text(report, "channels") else {
        report.push_at(
            Level::Error,
            r.line_of("type"),
            "invalid-config",
            format!(
                "{} has no `channels`{}; Flume removes it",
                r.what,
                if r.has("channel") {
                    " (`channel` is the sink's key)"
                } else {
                    ""
                }
            ),
        );
        r.consume(&["channel"]);
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in list.split_whitespace() {
        if agent.listed(Section::Channel).iter().any(|l| l == c) {
            if !out.iter().any(|o| o == c) {
                out.push(c.to_owned());
            }
        } else {
            report.push_at(Level::Error, r.line_of("channels"), "invalid-config", format!(
                "{} names channel `{c}`, which is not in the agent's `channels`; Flume leaves it out", r.what));
        }
    }
    out
}

/// Listed names without properties, and properties of names that are not listed.
fn check_lists(agent: &Agent, report: &mut Report) {
    for section in [
        Section::Source,
        Section::Channel,
        Section::Sink,
        Section::SinkGroup,
    ] {
        let listed = agent.listed(section);
        for name in listed {
            if agent.component(section, name).is_none() {
                let at = agent.list_lines.get(&section).copied().unwrap_or((0, 0));
                report.push_at(Level::Error, at, "invalid-config", format!(
                    "{} `{name}` is listed but has no properties; Flume removes it (\"Configuration empty\")", section.noun()));
            }
        }
        for ((s, name), comp) in &agent.components {
            if *s != section || listed.contains(name) {
                continue;
            }
            let hint = listed
                .iter()
                .min_by_key(|l| strsim::damerau_levenshtein(name, l))
                .filter(|l| strsim::damerau_levenshtein(name, l) <= 2)
                .map(|l| format!("; did you mean `{l}`?"))
                .unwrap_or_default();
            report.push_at(Level::Warning, (comp.file, comp.line), "unlisted", format!(
                "{} `{name}` is configured but not listed in `{}.{}`; Flume ignores it, and so does the import{hint}", section.noun(), agent.name, section.key()));
        }
    }
}

/// The comment left where a component could not be imported.
fn gap(r: &Reader, comp: &config::Component) -> String {
    format!(
        "{} (type `{}`, line {}) is not imported; see the report",
        r.what,
        comp.type_name().unwrap_or("?"),
        r.line_of("type").1
    )
}

/// The report as text, one finding per line: `FILE:LINE: LEVEL[CODE]: MESSAGE`.
pub fn render_human(imported: &Imported, inputs: &[Input]) -> String {
    let mut out = String::new();
    for f in &imported.findings {
        let file = inputs.get(f.file).map_or("?", |i| i.name.as_str());
        out.push_str(&format!(
            "{file}:{}: {}[{}]: {}\n",
            f.line,
            f.level.as_str(),
            f.code,
            values::comment(&f.message)
        ));
    }
    if !imported.renames.is_empty() {
        out.push_str("renamed (Sluice names are identifiers in one namespace):\n");
        for (from, to) in &imported.renames {
            out.push_str(&format!("  {from} -> {to}\n"));
        }
    }
    let count = |l: Level| imported.findings.iter().filter(|f| f.level == l).count();
    out.push_str(&format!(
        "imported agent `{}`: {} errors, {} warnings, {} notes; {}\n",
        imported.agent,
        count(Level::Error),
        count(Level::Warning),
        count(Level::Note),
        if imported.complete() {
            "everything was carried over"
        } else {
            "the flow is incomplete: see the errors above and the `# sluice import:` comments in it"
        }
    ));
    out
}

/// The report and the flow as one JSON document.
pub fn render_json(imported: &Imported, inputs: &[Input]) -> String {
    let findings: Vec<serde_json::Value> = imported
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "file": inputs.get(f.file).map_or("?", |i| i.name.as_str()),
                "line": f.line,
                "level": f.level,
                "code": f.code,
                "message": f.message,
            })
        })
        .collect();
    let renames: Vec<serde_json::Value> = imported
        .renames
        .iter()
        .map(|(from, to)| serde_json::json!({ "flume": from, "sluice": to }))
        .collect();
    let doc = serde_json::json!({
        "agent": imported.agent,
        "complete": imported.complete(),
        "findings": findings,
        "renames": renames,
        "flow": imported.flow,
    });
    format!("{doc:#}\n")
}
