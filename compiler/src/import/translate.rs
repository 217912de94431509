//! What every translator shares: reading a component's properties (substituted, parsed,
//! marked as used), recording findings, and the declarations it produces.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use super::config::{as_env, Component, Prop};
use super::values;
use super::{Finding, Level};

/// A Sluice declaration being written: `ROLE NAME = KIND { params }`, with the importer's
/// comments above it.
#[derive(Debug, Clone)]
pub struct Decl {
    pub role: &'static str,
    pub name: String,
    pub kind: String,
    /// Parameter name and its value already written in `.flow` syntax.
    pub params: Vec<(String, String)>,
    pub notes: Vec<String>,
}

impl Decl {
    pub fn new(role: &'static str, name: &str, kind: &str) -> Self {
        Decl {
            role,
            name: name.to_owned(),
            kind: kind.to_owned(),
            params: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn set(&mut self, param: &str, value: impl Into<String>) {
        let value = value.into();
        match self.params.iter_mut().find(|(p, _)| p == param) {
            Some(slot) => slot.1 = value,
            None => self.params.push((param.to_owned(), value)),
        }
    }

    pub fn param(&self, param: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(p, _)| p == param)
            .map(|(_, v)| v.as_str())
    }
}

/// Collects findings for one import.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// The declaration being translated: findings pushed now concern it.
    pub subject: Option<String>,
}

/// Reads the properties of one Flume component (or of one interceptor or selector inside
/// it, under `prefix`) and remembers which were used, so the rest can be reported.
pub struct Reader<'a> {
    pub comp: &'a Component,
    /// What to call it in messages: "source `r1`", "interceptor `i1` of source `r1`".
    pub what: String,
    prefix: String,
    /// Shared with nested readers, so a key read through one counts for all.
    used: Rc<RefCell<BTreeSet<String>>>,
}

impl<'a> Reader<'a> {
    pub fn new(comp: &'a Component, what: String) -> Self {
        Reader {
            comp,
            what,
            prefix: String::new(),
            used: Rc::default(),
        }
    }

    /// A reader of the properties under `prefix` (e.g. `interceptors.i1.`).
    pub fn nested(&self, prefix: &str, what: String) -> Reader<'a> {
        Reader {
            comp: self.comp,
            what,
            prefix: format!("{}{prefix}", self.prefix),
            used: Rc::clone(&self.used),
        }
    }

    /// The raw property, marked as used.
    pub fn prop(&self, key: &str) -> Option<&'a Prop> {
        let full = format!("{}{key}", self.prefix);
        let prop = self.comp.get(&full)?;
        self.used.borrow_mut().insert(full);
        Some(prop)
    }

    /// Marks keys as handled without reading them.
    pub fn consume(&self, keys: &[&str]) {
        for key in keys {
            let _ = self.prop(key);
        }
    }

    /// Whether the key is set (without marking it used).
    pub fn has(&self, key: &str) -> bool {
        self.comp.get(&format!("{}{key}", self.prefix)).is_some()
    }

    /// Where a key was written, or else the component.
    pub fn line_of(&self, key: &str) -> (usize, usize) {
        match self.comp.get(&format!("{}{key}", self.prefix)) {
            Some(p) => (p.file, p.line),
            None => (self.comp.file, self.comp.line),
        }
    }

    /// The keys under this reader's prefix that start with `sub` (e.g. `mapping.`),
    /// with the rest of the key.
    pub fn keys_under(&self, sub: &str) -> Vec<String> {
        let full = format!("{}{sub}", self.prefix);
        self.comp
            .props
            .keys()
            .filter_map(|k| k.strip_prefix(&full).map(str::to_owned))
            .collect()
    }

    /// Properties under this reader's prefix that nothing used.
    pub fn unused(&self) -> Vec<(String, &'a Prop)> {
        let used = self.used.borrow();
        self.comp
            .props
            .iter()
            .filter(|(k, _)| k.starts_with(&self.prefix) && !used.contains(*k))
            .filter_map(|(k, p)| {
                let rest = &k[self.prefix.len()..];
                Some((rest.to_owned(), p)).filter(|_| !rest.is_empty())
            })
            .collect()
    }

    /// The plain text of a key; a value read from the environment is refused with an
    /// error (it would hold Flume's units or format, not Sluice's).
    pub fn text(&self, report: &mut Report, key: &str) -> Option<String> {
        let prop = self.prop(key)?;
        if let Some((name, _)) = as_env(&prop.value) {
            report.push(Level::Error, prop, "substitution", format!(
                "{} `{key}` comes from the environment variable `{name}`, but its value must be converted at import time (it is in Flume's units or format); set the value here",
                self.what
            ));
            return None;
        }
        Some(prop.value.clone())
    }

    /// A string parameter: `"…"` or `env("NAME")`.
    pub fn string(&self, key: &str) -> Option<String> {
        let prop = self.prop(key)?;
        Some(string_value(&prop.value))
    }

    /// An integer (Flume's `Integer.parseInt`/`Long.parseLong`).
    pub fn int(&self, report: &mut Report, key: &str) -> Option<i64> {
        let text = self.text(report, key)?;
        match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let prop = self.prop(key)?;
                report.push(
                    Level::Error,
                    prop,
                    "invalid-value",
                    format!(
                        "{} `{key}` = `{text}` is not an integer; Flume refuses it too",
                        self.what
                    ),
                );
                None
            }
        }
    }

    /// A non-negative integer, e.g. a capacity, milliseconds or bytes.
    pub fn count(&self, report: &mut Report, key: &str) -> Option<u64> {
        let n = self.int(report, key)?;
        match u64::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                let prop = self.prop(key)?;
                report.push(
                    Level::Error,
                    prop,
                    "invalid-value",
                    format!("{} `{key}` = {n} must not be negative", self.what),
                );
                None
            }
        }
    }

    /// A boolean as Java's `Boolean.parseBoolean` reads it: `true` in any case, else false.
    pub fn bool(&self, report: &mut Report, key: &str) -> Option<bool> {
        let text = self.text(report, key)?;
        Some(text.eq_ignore_ascii_case("true"))
    }
}

/// Why a Flume type without a Sluice counterpart is left out, in the cases every role
/// shares: no `type`, one of Flume's own classes, a class of someone else's (which a
/// component crate of the user's can replace when `scaffold` names the role), a plain
/// alias Sluice lacks.
pub fn no_counterpart(kind: &str, role: &str, scaffold: bool) -> String {
    if kind.is_empty() {
        "it has no `type`".to_owned()
    } else if kind.to_ascii_lowercase().starts_with("org.apache.flume.") {
        format!("Sluice has no counterpart for Flume's `{kind}`")
    } else if kind.contains('.') && scaffold {
        format!("`{kind}` is a custom or third-party class; write it as a component of your own (`sluice new component --role {role}`) and `use` it")
    } else if kind.contains('.') {
        format!("`{kind}` is a custom or third-party {role} class, which Sluice cannot load")
    } else {
        format!("Sluice has no counterpart for Flume's `{kind}` {role}")
    }
}

/// Keys every source or sink has, read by the wiring rather than by the translator:
/// `channels`, `channel`, `interceptors…`, `selector.…`.
fn is_wiring(key: &str) -> bool {
    matches!(key, "channels" | "channel" | "interceptors")
        || key.starts_with("interceptors.")
        || key.starts_with("selector.")
}

/// `"text"`, or `env("NAME")` / `env("NAME", "default")` for a value from `${env:…}`.
pub fn string_value(value: &str) -> String {
    match as_env(value) {
        Some((name, None)) => format!("env({})", values::string(name)),
        Some((name, Some(d))) => format!("env({}, {})", values::string(name), values::string(d)),
        None => values::string(value),
    }
}

impl Report {
    pub fn push(&mut self, level: Level, prop: &Prop, code: &'static str, message: String) {
        let mut finding = Finding::at(level, prop.file, prop.line, code, message);
        finding.subject = self.subject.clone();
        self.findings.push(finding);
    }

    pub fn push_at(
        &mut self,
        level: Level,
        (file, line): (usize, usize),
        code: &'static str,
        message: String,
    ) {
        let mut finding = Finding::at(level, file, line, code, message);
        finding.subject = self.subject.clone();
        self.findings.push(finding);
    }

    /// A component left out of the flow, and why (at its `type`).
    pub fn not_imported(&mut self, r: &Reader, why: &str) {
        let message = format!("{} is not imported: {why}", r.what);
        self.push_at(Level::Error, r.line_of("type"), "no-counterpart", message);
    }

    /// Reports the properties of a component that nothing translated. `known` lists keys
    /// with no Sluice counterpart whose loss only changes tuning; other keys are unknown
    /// to the importer. Each is a warning.
    pub fn leftovers(&mut self, reader: &Reader, known: &[&str]) {
        for (key, prop) in reader.unused() {
            if reader.prefix.is_empty() && is_wiring(&key) {
                continue; // read later, when the flows are built
            }
            // Reported once: not again by the reader of the enclosing component.
            let _ = reader.prop(&key);
            let known_key = known.iter().any(|k| {
                k.strip_suffix('*')
                    .map_or(*k == key, |p| key.starts_with(p))
            });
            let message = if known_key {
                format!(
                    "{} `{key}` has no Sluice counterpart; not carried over",
                    reader.what
                )
            } else {
                format!(
                    "{} `{key}` is not a property `sluice import` knows for this type; not carried over",
                    reader.what
                )
            };
            self.push(Level::Warning, prop, "not-carried-over", message);
        }
    }
}
