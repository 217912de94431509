//! Flume's configuration model: the agents in the properties, each agent's component
//! lists and per-component properties, and `${…}` substitution in values.

use std::collections::BTreeMap;

use super::properties::Property;
use super::{Finding, Level};

/// A component property after substitution, with where it was written.
#[derive(Debug, Clone)]
pub struct Prop {
    pub value: String,
    pub line: usize,
    pub file: usize,
    pub lost_backslash: bool,
}

/// A Flume role's key word in the properties (`sources`, `channels`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Source,
    Channel,
    Sink,
    SinkGroup,
    ConfigFilter,
}

impl Section {
    pub fn key(self) -> &'static str {
        match self {
            Section::Source => "sources",
            Section::Channel => "channels",
            Section::Sink => "sinks",
            Section::SinkGroup => "sinkgroups",
            Section::ConfigFilter => "configfilters",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Section::Source => "source",
            Section::Channel => "channel",
            Section::Sink => "sink",
            Section::SinkGroup => "sink group",
            Section::ConfigFilter => "config filter",
        }
    }

    const ALL: [Section; 5] = [
        Section::Source,
        Section::Channel,
        Section::Sink,
        Section::SinkGroup,
        Section::ConfigFilter,
    ];
}

/// One component: its properties by key (`type`, `hdfs.path`, `interceptors.i1.type`).
#[derive(Debug, Clone, Default)]
pub struct Component {
    pub props: BTreeMap<String, Prop>,
    /// Where its first property was written.
    pub line: usize,
    pub file: usize,
}

impl Component {
    pub fn get(&self, key: &str) -> Option<&Prop> {
        self.props.get(key)
    }

    /// The `type`, as written.
    pub fn type_name(&self) -> Option<&str> {
        self.get("type").map(|p| p.value.as_str())
    }
}

/// One agent of the file.
#[derive(Debug, Default)]
pub struct Agent {
    pub name: String,
    /// Listed names per section, in the order first written (Flume keeps a set).
    pub lists: BTreeMap<Section, Vec<String>>,
    pub list_lines: BTreeMap<Section, (usize, usize)>,
    pub components: BTreeMap<(Section, String), Component>,
}

impl Agent {
    pub fn listed(&self, section: Section) -> &[String] {
        self.lists.get(&section).map_or(&[], |v| v.as_slice())
    }

    pub fn component(&self, section: Section, name: &str) -> Option<&Component> {
        self.components.get(&(section, name.to_owned()))
    }
}

/// The agents named in the properties, in the order they first appear.
pub fn agent_names(properties: &[Property]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in properties {
        if let Some((agent, rest)) = p.key.split_once('.') {
            if !agent.is_empty() && !rest.is_empty() && !names.iter().any(|n| n == agent) {
                names.push(agent.to_owned());
            }
        }
    }
    names
}

/// Builds one agent from the properties (the last occurrence of a key wins), substituting
/// `${…}` in values. Problems become findings.
pub fn build_agent(properties: &[Property], agent: &str, findings: &mut Vec<Finding>) -> Agent {
    let mut latest: BTreeMap<&str, &Property> = BTreeMap::new();
    for p in properties {
        latest.insert(p.key.as_str(), p);
    }
    let globals: BTreeMap<&str, &str> =
        latest.iter().map(|(k, p)| (*k, p.value.as_str())).collect();
    let prefix = format!("{agent}.");
    let mut out = Agent {
        name: agent.to_owned(),
        ..Agent::default()
    };
    let mut filters: BTreeMap<String, String> = BTreeMap::new();
    // Config filters first: substitution in the other values depends on them.
    for (key, p) in &latest {
        if let Some(rest) = key.strip_prefix(&format!("{prefix}configfilters.")) {
            if let Some(name) = rest.strip_suffix(".type") {
                filters.insert(name.to_owned(), p.value.clone());
            }
        }
    }
    // Flume drops empty values after the last occurrence of a key won.
    latest.retain(|_, p| !p.value.is_empty());
    let mut ordered: Vec<&&Property> = latest.values().collect();
    ordered.sort_by_key(|p| (p.file, p.line));
    for p in ordered {
        let Some(rest) = p.key.strip_prefix(&prefix) else {
            continue;
        };
        let value = substitute(&p.value, &globals, &filters, p, findings);
        let Some(value) = value else {
            continue;
        };
        let prop = Prop {
            value,
            line: p.line,
            file: p.file,
            lost_backslash: p.lost_backslash,
        };
        if let Some(section) = Section::ALL.iter().find(|s| s.key() == rest) {
            let mut names: Vec<String> = Vec::new();
            for n in prop.value.split_whitespace() {
                if !names.iter().any(|m| m == n) {
                    names.push(n.to_owned());
                }
            }
            out.lists.insert(*section, names);
            out.list_lines.insert(*section, (p.file, p.line));
            continue;
        }
        let parsed = Section::ALL.iter().find_map(|s| {
            let tail = rest.strip_prefix(s.key())?.strip_prefix('.')?;
            let (name, param) = tail.split_once('.')?;
            (!name.is_empty() && !param.is_empty()).then_some((*s, name, param))
        });
        let Some((section, name, param)) = parsed else {
            findings.push(Finding::at(
                Level::Warning,
                p.file,
                p.line,
                "invalid-property",
                format!("`{}` is not a property Flume reads (it expects `{agent}.sources`, `{agent}.sources.NAME.PARAM`, …); ignored, as Flume ignores it", p.key),
            ));
            continue;
        };
        let component = out
            .components
            .entry((section, name.to_owned()))
            .or_insert_with(|| Component {
                line: p.line,
                file: p.file,
                ..Component::default()
            });
        component.line = component.line.min(p.line);
        component.props.insert(param.to_owned(), prop);
    }
    out
}

/// Resolves `${…}` in a value. A value that is exactly `${env:X}` (or `${env:X:-d}`, or
/// an `env` config filter's `${f['X']}`) becomes the marker `\u{0}env:X\u{0}d`, which the
/// translators turn into `env("X", "d")`; a reference to another property is replaced by
/// its value; anything else that needs the JVM is an error and the value is dropped.
fn substitute(
    value: &str,
    globals: &BTreeMap<&str, &str>,
    filters: &BTreeMap<String, String>,
    at: &Property,
    findings: &mut Vec<Finding>,
) -> Option<String> {
    if !value.contains("${") {
        return Some(value.to_owned());
    }
    let mut out = String::new();
    // Owned, so a referenced property's value can be put back in front and scanned.
    let mut rest = value.to_owned();
    let mut env_refs: Vec<(String, Option<String>)> = Vec::new();
    let mut depth_budget = 32;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = rest[start + 2..].to_owned();
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest.clear();
            break;
        };
        let inner = after[..end].to_owned();
        let inner = inner.as_str();
        rest = after[end + 1..].to_owned();
        if let Some(env) = inner.strip_prefix("env:") {
            let (name, default) = match env.split_once(":-") {
                Some((n, d)) => (n, Some(d.to_owned())),
                None => (env, None),
            };
            env_refs.push((name.to_owned(), default));
            out.push_str(&format!("${{env:{env}}}"));
        } else if let Some((filter, key)) = filter_reference(inner) {
            match filters.get(filter).map(String::as_str) {
                Some("env") => {
                    env_refs.push((key.to_owned(), None));
                    out.push_str(&format!("${{env:{key}}}"));
                }
                Some(other) => {
                    findings.push(Finding::at(Level::Error, at.file, at.line, "substitution",
                        format!("`{}` reads `{key}` through the `{other}` config filter `{filter}`, which runs outside the configuration; Sluice reads secrets and settings from the environment: export it and write `env(\"{key}\")`", at.key)));
                    return None;
                }
                None => {
                    findings.push(Finding::at(Level::Error, at.file, at.line, "substitution",
                        format!("`{}` uses the config filter `{filter}`, which is not declared (`configfilters.{filter}.type`)", at.key)));
                    return None;
                }
            }
        } else if let Some((name, default)) =
            inner.split_once(":-").filter(|(n, _)| !n.contains(':'))
        {
            // `${NAME:-default}`: another property, else the environment, else the default.
            match globals.get(name) {
                Some(other) => rest = format!("{other}{rest}"),
                None => {
                    env_refs.push((name.to_owned(), Some(default.to_owned())));
                    out.push_str(&format!("${{env:{name}:-{default}}}"));
                }
            }
        } else if let Some((lookup, _)) = inner.split_once(':') {
            findings.push(Finding::at(Level::Error, at.file, at.line, "substitution",
                format!("`{}` uses the `${{{lookup}:…}}` lookup, which needs the JVM; set the value itself, or read it from the environment with `${{env:NAME}}`", at.key)));
            return None;
        } else if let Some(other) = globals.get(inner) {
            depth_budget -= 1;
            if depth_budget == 0 {
                findings.push(Finding::at(
                    Level::Error,
                    at.file,
                    at.line,
                    "substitution",
                    format!(
                        "`{}`: substitutions nest too deep (a property refers to itself?)",
                        at.key
                    ),
                ));
                return None;
            }
            rest = format!("{other}{rest}");
        } else {
            // Flume 1.8/1.9 with EnvVarResolverProperties: an environment variable.
            findings.push(Finding::at(Level::Warning, at.file, at.line, "substitution",
                format!("`${{{inner}}}` names no property; read as the environment variable `{inner}` (Flume 1.8's EnvVarResolverProperties)")));
            env_refs.push((inner.to_owned(), None));
            out.push_str(&format!("${{env:{inner}}}"));
        }
    }
    out.push_str(&rest);
    let whole = value.len() >= 3
        && value.starts_with("${")
        && value.get(2..).and_then(|v| v.find('}')) == Some(value.len() - 3);
    match env_refs.as_slice() {
        [] => Some(out),
        [(name, default)] if whole => Some(env_marker(name, default.as_deref())),
        _ => {
            findings.push(Finding::at(Level::Error, at.file, at.line, "substitution",
                format!("`{}` = `{value}` embeds an environment variable in a longer value; Sluice has no string interpolation: put the whole value in one variable and use `${{env:NAME}}`", at.key)));
            None
        }
    }
}

/// `f1['key']`, `f1["key"]` or `f1[key]`: a config filter reference.
fn filter_reference(inner: &str) -> Option<(&str, &str)> {
    let (filter, rest) = inner.split_once('[')?;
    let key = rest.strip_suffix(']')?;
    let key = key.trim_matches(|c| c == '\'' || c == '"');
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    (valid(filter) && valid(key)).then_some((filter, key))
}

const ENV_MARK: char = '\u{0}';

fn env_marker(name: &str, default: Option<&str>) -> String {
    format!("{ENV_MARK}{name}{ENV_MARK}{}", default.unwrap_or("\u{1}"))
}

/// A value that came from `${env:NAME}`: the variable and its default.
pub fn as_env(value: &str) -> Option<(&str, Option<&str>)> {
    let rest = value.strip_prefix(ENV_MARK)?;
    let (name, default) = rest.split_once(ENV_MARK)?;
    Some((name, (default != "\u{1}").then_some(default)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::properties;

    fn agent(text: &str) -> (Agent, Vec<Finding>) {
        let parsed = properties::parse(text.as_bytes(), 0);
        let mut findings = Vec::new();
        let agent = build_agent(&parsed.properties, "a", &mut findings);
        (agent, findings)
    }

    fn value(agent: &Agent, key: &str) -> String {
        let comp = agent.component(Section::Sink, "k").expect("sink k");
        comp.get(key).expect(key).value.clone()
    }

    #[test]
    fn references_resolve_through_other_properties_and_env() {
        let (a, f) = agent(
            "DIR = /data\nINNER = ${env:OUT}\na.sinks.k.dir = ${DIR}/x\na.sinks.k.out = ${INNER}\n",
        );
        assert_eq!(value(&a, "dir"), "/data/x");
        assert_eq!(as_env(&value(&a, "out")), Some(("OUT", None)));
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn a_later_empty_value_hides_an_earlier_one() {
        let (a, _) = agent("a.sinks.k.x = 5\na.sinks.k.y = 1\na.sinks.k.x =\n");
        let comp = a.component(Section::Sink, "k").unwrap();
        assert!(comp.get("x").is_none());
        assert_eq!(comp.get("y").unwrap().value, "1");
    }

    #[test]
    fn self_references_and_odd_values_end() {
        let (_, f) = agent("A = ${A}\na.sinks.k.x = ${A}\na.sinks.k.y = ${\na.sinks.k.z = ${}\n");
        assert!(
            f.iter().any(|f| f.message.contains("nest too deep")),
            "{f:?}"
        );
    }
}
