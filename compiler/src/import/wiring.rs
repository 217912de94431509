//! Channel selectors → flow statements and routes, sink processors → groups
//! (docs/design/flume-import-mapping.md §2.5, §2.6).

use super::translate::{Decl, Reader, Report};
use super::values;
use super::Level;

// Syslog's names by number, as the runtime writes them into `severity` and `facility`.
use sluice_runtime::syslog::{FACILITIES, SEVERITIES};

/// The flows of one source: `chain` is `src | t1 | t2`, `channels` the source's
/// channels (Flume name, Sluice name). Returns the flow statements.
pub fn source_flows(
    r: &Reader,
    chain: &str,
    channels: &[(String, String)],
    syslog: bool,
    report: &mut Report,
) -> Vec<String> {
    let sel = r.nested("selector.", format!("the selector of {}", r.what));
    let kind = sel
        .text(report, "type")
        .unwrap_or_else(|| "replicating".to_owned())
        .to_ascii_lowercase();
    let all: Vec<&str> = channels.iter().map(|(_, s)| s.as_str()).collect();
    let flows = match kind.as_str() {
        "replicating" | "org.apache.flume.channel.replicatingchannelselector" => {
            if let Some(optional) = sel.text(report, "optional") {
                report.push_at(Level::Warning, sel.line_of("optional"), "behaviour-change", format!(
                    "{}: the optional channels ({optional}) are required in Sluice: when one is full, the source waits instead of skipping it", sel.what));
            }
            vec![format!("flow {chain} -> {}", targets(&all))]
        }
        "multiplexing" | "org.apache.flume.channel.multiplexingchannelselector" => {
            multiplexing(&sel, chain, channels, syslog, report)
        }
        _ => {
            let why = if kind.contains("load_balancing") {
                "Sluice has no load-balancing channel selector; for parallelism, drain one channel with several sinks (they compete for events)".to_owned()
            } else {
                format!("selector `{kind}` has no Sluice counterpart")
            };
            report.push_at(
                Level::Error,
                sel.line_of("type"),
                "no-counterpart",
                format!(
                    "{}: {why}; the import sends every event to `{}`",
                    sel.what,
                    all.first().unwrap_or(&"?")
                ),
            );
            for k in sel.keys_under("") {
                let _ = sel.prop(&k);
            }
            all.first()
                .map(|c| vec![format!("flow {chain} -> {c}")])
                .unwrap_or_default()
        }
    };
    report.leftovers(&sel, &[]);
    flows
}

fn targets(channels: &[&str]) -> String {
    match channels {
        [one] => (*one).to_owned(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Flume splits selector channel lists on single spaces; each name must be one of the
/// source's channels.
fn selector_list(
    sel: &Reader,
    key: &str,
    channels: &[(String, String)],
    report: &mut Report,
) -> Vec<String> {
    let Some(text) = sel.text(report, key) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in text.split(' ') {
        match channels.iter().find(|(f, _)| f == name) {
            Some((_, s)) => {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
            None if name.is_empty() => report.push_at(Level::Error, sel.line_of(key), "invalid-config", format!(
                "{} `{key}` = `{text}` has two spaces in a row or a tab; Flume splits on single spaces and fails with \"Selector channel not found\"", sel.what)),
            None => report.push_at(Level::Error, sel.line_of(key), "invalid-config", format!(
                "{} `{key}` names `{name}`, which is not one of the source's channels; Flume fails with \"Selector channel not found\"", sel.what)),
        }
    }
    out
}

fn multiplexing(
    sel: &Reader,
    chain: &str,
    channels: &[(String, String)],
    syslog: bool,
    report: &mut Report,
) -> Vec<String> {
    let mut header = sel
        .text(report, "header")
        .unwrap_or_else(|| "flume.selector.header".to_owned());
    let mut mapping: Vec<(String, Vec<String>)> = Vec::new();
    for value in sel.keys_under("mapping.") {
        let list = selector_list(sel, &format!("mapping.{value}"), channels, report);
        if list.is_empty() {
            report.push_at(
                Level::Error,
                sel.line_of(&format!("mapping.{value}")),
                "invalid-config",
                format!("{}: `mapping.{value}` names no channel", sel.what),
            );
            continue;
        }
        mapping.push((value, list));
    }
    let default = selector_list(sel, "default", channels, report);
    let optional = sel.keys_under("optional.");
    if !optional.is_empty() {
        let first = format!("optional.{}", optional[0]);
        for value in &optional {
            let _ = sel.prop(&format!("optional.{value}"));
        }
        report.push_at(Level::Warning, sel.line_of(&first), "behaviour-change", format!(
            "{}: Sluice has no optional channels; the `optional.*` channels are left out (events for them go only to the required ones)", sel.what));
    }
    // Syslog's numeric Severity/Facility headers are names in Sluice.
    let renames: Option<&[&str]> = match header.as_str() {
        "Severity" if syslog => Some(&SEVERITIES),
        "Facility" if syslog => Some(&FACILITIES),
        _ => None,
    };
    if let Some(names) = renames {
        let lower = header.to_ascii_lowercase();
        report.push_at(Level::Warning, sel.line_of("header"), "behaviour-change", format!(
            "{}: Flume's syslog header `{header}` holds numbers; Sluice's `{lower}` holds names, so the mapping was rewritten (`0` → `{}`, …)", sel.what, names[0]));
        for (value, _) in &mut mapping {
            if let Some(name) = value.parse::<usize>().ok().and_then(|n| names.get(n)) {
                *value = (*name).to_owned();
            }
        }
        header = lower;
    }
    if default.is_empty() {
        report.push_at(Level::Warning, sel.line_of("header"), "trap", format!(
            "{}: there is no `default`, so events whose `{header}` matches no mapping are dropped (as in Flume); the route says so with `_ => drop`", sel.what));
    }
    let reference = values::header(&header);
    let simple = mapping.iter().all(|(_, l)| l.len() == 1) && default.len() <= 1;
    if simple {
        // One route: values with the same channel share an arm.
        let mut arms: Vec<(Vec<String>, String)> = Vec::new();
        for (value, list) in &mapping {
            match arms.iter_mut().find(|(_, c)| *c == list[0]) {
                Some(arm) => arm.0.push(value.clone()),
                None => arms.push((vec![value.clone()], list[0].clone())),
            }
        }
        return vec![route(
            chain,
            &reference,
            &arms,
            default.first().map(String::as_str),
        )];
    }
    // The general case: one flow per channel, each deciding whether the event goes there.
    let mut union: Vec<String> = Vec::new();
    for c in mapping.iter().flat_map(|(_, l)| l).chain(&default) {
        if !union.contains(c) {
            union.push(c.clone());
        }
    }
    report.push_at(Level::Note, sel.line_of("header"), "behaviour-change", format!(
        "{}: a value maps to several channels, so each channel got a flow of its own; the transforms before the route run once per flow (values they generate, such as `uuid`, differ between the copies)", sel.what));
    union
        .iter()
        .map(|c| {
            let to_c: Vec<String> = mapping
                .iter()
                .filter(|(_, l)| l.contains(c))
                .map(|(v, _)| v.clone())
                .collect();
            let in_default = default.contains(c);
            let mut arms: Vec<(Vec<String>, String)> = Vec::new();
            if !to_c.is_empty() {
                arms.push((to_c, c.clone()));
            }
            if in_default {
                let others: Vec<String> = mapping
                    .iter()
                    .filter(|(_, l)| !l.contains(c))
                    .map(|(v, _)| v.clone())
                    .collect();
                if !others.is_empty() {
                    arms.push((others, "drop".to_owned()));
                }
            }
            route(chain, &reference, &arms, in_default.then_some(c.as_str()))
        })
        .collect()
}

fn route(
    chain: &str,
    reference: &str,
    arms: &[(Vec<String>, String)],
    default: Option<&str>,
) -> String {
    let mut text = format!("flow {chain} -> route {reference} {{\n");
    for (patterns, target) in arms {
        let patterns: Vec<String> = patterns.iter().map(|p| values::string(p)).collect();
        text.push_str(&format!("    {} => {target}\n", patterns.join(", ")));
    }
    text.push_str(&format!("    _ => {}\n}}", default.unwrap_or("drop")));
    text
}

/// A sink group → a Sluice group, or `None` for Flume's `default` processor (no group).
/// `members` are the Sluice names of the group's sinks, in the order listed.
pub fn group(
    r: &Reader,
    name: &str,
    members: &[(String, String)],
    report: &mut Report,
) -> Option<Decl> {
    let kind = r
        .text(report, "processor.type")
        .unwrap_or_else(|| "default".to_owned())
        .to_ascii_lowercase();
    let names: Vec<&str> = members.iter().map(|(_, s)| s.as_str()).collect();
    // Aliases, or the processors' class names.
    let kind = match kind.as_str() {
        "org.apache.flume.sink.defaultsinkprocessor" => "default".to_owned(),
        "org.apache.flume.sink.failoversinkprocessor" => "failover".to_owned(),
        "org.apache.flume.sink.loadbalancingsinkprocessor" => "load_balance".to_owned(),
        _ => kind,
    };
    let decl = match kind.as_str() {
        "default" => {
            if members.len() > 1 {
                report.push_at(
                    Level::Error,
                    r.line_of("processor.type"),
                    "invalid-config",
                    format!(
                        "{} uses the `default` processor with {} sinks; Flume allows one",
                        r.what,
                        members.len()
                    ),
                );
            }
            None
        }
        "failover" => {
            let mut d = Decl::new("group", name, "failover");
            let mut prioritised: Vec<(i64, &str, &str)> = Vec::new();
            let mut next_unset = -1;
            for (flume, sluice) in members {
                let p = match r.int(report, &format!("processor.priority.{flume}")) {
                    Some(p) => p,
                    None => {
                        report.push_at(Level::Warning, r.line_of("sinks"), "trap", format!(
                            "{}: sink `{flume}` has no priority; Flume gave it {next_unset} in an order that depends on hashing. The import keeps the listed order", r.what));
                        next_unset -= 1;
                        next_unset + 1
                    }
                };
                if let Some((_, other, _)) = prioritised.iter().find(|(q, _, _)| *q == p) {
                    report.push_at(Level::Error, r.line_of(&format!("processor.priority.{flume}")), "trap", format!(
                        "{}: sinks `{other}` and `{flume}` share priority {p}; Flume silently leaves one of them out of the group. Give them different priorities", r.what));
                }
                prioritised.push((p, flume, sluice));
            }
            prioritised.sort_by_key(|p| std::cmp::Reverse(p.0));
            d.set(
                "sinks",
                format!(
                    "[{}]",
                    prioritised
                        .iter()
                        .map(|(_, _, s)| *s)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            // The order of `sinks` is the priority; explicit ones only when none is negative
            // (Flume numbers the unset ones -1, -2, …).
            if prioritised.iter().all(|(p, _, _)| *p >= 0) {
                let priorities: Vec<String> = prioritised
                    .iter()
                    .map(|(p, _, s)| format!("{s} = {p}"))
                    .collect();
                d.set("priorities", format!("{{ {} }}", priorities.join(", ")));
            }
            let penalty = r.count(report, "processor.maxpenalty").unwrap_or(30_000);
            d.set("max_penalty", values::duration_ms(penalty));
            Some(d)
        }
        "load_balance" => {
            let mut d = Decl::new("group", name, "load_balance");
            d.set("sinks", format!("[{}]", names.join(", ")));
            match r
                .text(report, "processor.selector")
                .map(|s| s.to_ascii_lowercase())
            {
                None => {}
                Some(s) if s == "round_robin" || s == "random" => {
                    d.set("selector", values::string(&s))
                }
                Some(other) => report.push_at(
                    Level::Error,
                    r.line_of("processor.selector"),
                    "no-counterpart",
                    format!(
                        "{}: selector `{other}` is not available (round_robin or random)",
                        r.what
                    ),
                ),
            }
            let backoff = r.bool(report, "processor.backoff").unwrap_or(false);
            d.set("backoff", if backoff { "true" } else { "false" });
            if let Some(ms) = r.count(report, "processor.selector.maxTimeOut") {
                d.set("max_backoff", values::duration_ms(ms));
            }
            Some(d)
        }
        other => {
            report.push_at(Level::Error, r.line_of("processor.type"), "no-counterpart", format!("{}: processor `{other}` has no Sluice counterpart; its sinks are wired without a group", r.what));
            None
        }
    };
    report.leftovers(r, &[]);
    decl
}
