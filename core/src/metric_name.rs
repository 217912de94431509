//! Prometheus metric and label names, as the `prometheus` sink writes them: the checker
//! refuses a bad one at its span, and the sink checks again at start (for `env(...)`).

/// What is wrong with `name` as a metric or label name, if anything. Allowed:
/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved by Prometheus). Colons,
/// which Prometheus keeps for recording rules, are refused too.
pub fn problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Some("a name cannot be empty".into());
    };
    if !(first.is_ascii_alphabetic() || first == '_') {
        return Some(format!("`{name}` must start with a letter or `_`"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!(
            "`{name}` has `{bad}`: names take ASCII letters, digits and `_`"
        ));
    }
    if name.starts_with("__") {
        return Some(format!(
            "`{name}` starts with `__`, which Prometheus reserves"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn accepts_prometheus_names_and_refuses_the_rest() {
        for good in ["http_requests_total", "_x", "a1", "Status"] {
            assert_eq!(problem(good), None, "{good}");
        }
        for bad in ["", "1abc", "a-b", "a:b", "__name__", "ünïcode", "a b"] {
            assert!(problem(bad).is_some(), "{bad}");
        }
    }
}
