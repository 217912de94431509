//! "Did you mean …?" suggestions by edit distance.

/// The candidate closest to `name`, if it is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let distance = strsim::damerau_levenshtein(name, c);
            let case_only = c.eq_ignore_ascii_case(name);
            (if case_only { 0 } else { distance }, c)
        })
        .filter(|(d, c)| *d <= limit || c.starts_with(name) && name.len() >= 3)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// `Some("did you mean `x`?")` when a close candidate exists.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["capacity", "transaction_capacity", "max_bytes"];
        assert_eq!(closest("capcity", names), Some("capacity"));
        assert_eq!(closest("max_byte", names), Some("max_bytes"));
        assert_eq!(closest("zzz", names), None);
    }
}
