//! The event model: string headers plus a byte body. Events move in batches.

#![warn(missing_docs)]

use std::borrow::Cow;

use bytes::Bytes;
pub use compact_str::CompactString as HeaderValue;

/// One event: headers (name → value) and a body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// Name → value pairs, in the order they were set.
    pub headers: Headers,
    /// The payload: any bytes (a log line without its newline, a JSON document...).
    pub body: Bytes,
}

/// Events move between components in batches.
pub type Batch = Vec<Event>;

impl Event {
    /// An event with `body` and no headers.
    pub fn new(body: impl Into<Bytes>) -> Self {
        Event {
            headers: Headers::default(),
            body: body.into(),
        }
    }

    /// The body as text, with invalid UTF-8 replaced.
    pub fn body_text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// Approximate memory held by the event, for byte limits.
    pub fn size(&self) -> usize {
        self.body.len() + self.headers.size()
    }
}

/// Event headers. Few per event, so a small vector beats a map: no hashing, one
/// allocation, insertion order kept for output.
///
/// Names are `Cow<'static, str>`: the names a flow configures (and literals in the
/// runtime) are borrowed for the whole run, so setting them allocates nothing; names
/// that arrive with the data are owned. Values are [`HeaderValue`]s, which keep up to
/// 24 bytes inline: a status code, a host name or a method costs no allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(Cow<'static, str>, HeaderValue)>);

/// A header name from the flow's configuration, kept for the whole run so that events
/// can borrow it. Call it once per name when a component is built, not per event.
pub fn static_name(name: &str) -> &'static str {
    Box::leak(name.to_owned().into_boxed_str())
}

impl Headers {
    /// The value of header `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether header `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// Sets `name`, replacing an existing value. A `&'static str` name is borrowed;
    /// pass a `String` for a name known only at run time.
    pub fn set(&mut self, name: impl Into<Cow<'static, str>>, value: impl Into<HeaderValue>) {
        let (name, value) = (name.into(), value.into());
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((name, value)),
        }
    }

    /// Removes header `name`; returns its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(i).1.into_string())
    }

    /// Keeps the headers for which `keep(name, value)` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        self.0.retain(|(k, v)| keep(k, v));
    }

    /// Every (name, value), in the order they were set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_str()))
    }

    /// Whether no header is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Makes room for `additional` more headers.
    pub fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }

    /// How many headers are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn size(&self) -> usize {
        self.0.iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}

impl<K: Into<String>, V: Into<HeaderValue>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut h = Headers::default();
        for (k, v) in iter {
            h.set(k.into(), v);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_and_keeps_order() {
        let mut h = Headers::default();
        h.set("a", "1");
        h.set("b", "2");
        h.set("a", "3");
        assert_eq!(h.iter().collect::<Vec<_>>(), [("a", "3"), ("b", "2")]);
        assert_eq!(h.remove("a"), Some("3".into()));
        assert_eq!(h.get("a"), None);
    }
}
