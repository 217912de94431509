//! The sources' marks a file channel holds: the latest value per (source, key), in
//! commit order, at most [`MAX_MARKS_PER_SOURCE`] per source.

use std::collections::HashMap;

use crate::marks::{Mark, Marks, MAX_MARKS_PER_SOURCE};
use crate::wal::StoredMark;

/// One source's marks: key → (when it was last committed, value).
type SourceMarks = HashMap<Vec<u8>, (u64, Vec<u8>)>;

#[derive(Default)]
pub(super) struct MarkTable {
    /// source → its marks.
    sources: HashMap<String, SourceMarks>,
    clock: u64,
}

impl MarkTable {
    /// The table the recovered marks build, applied in commit order.
    pub(super) fn recovered(marks: Vec<StoredMark>) -> MarkTable {
        let mut table = MarkTable::default();
        for mark in marks {
            table.set(&mark.source, mark.key, mark.value);
        }
        table
    }

    pub(super) fn commit(&mut self, mark: &Mark) {
        self.set(mark.source, mark.key.clone(), mark.value.clone());
    }

    fn set(&mut self, source: &str, key: Vec<u8>, value: Vec<u8>) {
        self.clock += 1;
        let keys = match self.sources.get_mut(source) {
            Some(keys) => keys,
            None => self.sources.entry(source.to_owned()).or_default(),
        };
        if keys.len() >= MAX_MARKS_PER_SOURCE && !keys.contains_key(&key) {
            let oldest = keys
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                keys.remove(&oldest);
            }
        }
        keys.insert(key, (self.clock, value));
    }

    /// What `source`'s marks are now.
    pub(super) fn of(&self, source: &str) -> Marks {
        self.sources
            .get(source)
            .map(|keys| {
                keys.iter()
                    .map(|(k, (_, v))| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every mark, oldest first, as a `MARKS` record lists them.
    pub(super) fn encode(&self, buf: &mut Vec<u8>) {
        let mut all: Vec<(u64, &str, &[u8], &[u8])> = self
            .sources
            .iter()
            .flat_map(|(source, keys)| {
                keys.iter()
                    .map(move |(k, (at, v))| (*at, source.as_str(), k.as_slice(), v.as_slice()))
            })
            .collect();
        all.sort_unstable_by_key(|m| m.0);
        crate::wal::encode_marks(buf, all.into_iter().map(|(_, s, k, v)| (s, k, v)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(source: &str, key: &str, value: &str) -> StoredMark {
        StoredMark {
            source: source.into(),
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn the_latest_value_per_key_wins_and_a_snapshot_round_trips() {
        let table = MarkTable::recovered(vec![
            stored("logs", "a", "1"),
            stored("logs", "b", "5"),
            stored("logs", "a", "2"),
            stored("other", "a", "9"),
        ]);
        assert_eq!(table.of("logs")[&b"a".to_vec()], b"2");
        let mut buf = Vec::new();
        table.encode(&mut buf);
        let crate::wal::Parsed::Record { payload, .. } = crate::wal::parse(&buf) else {
            panic!("not a record")
        };
        let again = MarkTable::recovered(crate::wal::decode_marks(payload).unwrap());
        assert_eq!(again.of("logs"), table.of("logs"));
        assert_eq!(again.of("other"), table.of("other"));
    }

    #[test]
    fn the_least_recently_committed_mark_goes_first() {
        let mut table = MarkTable::default();
        for i in 0..MAX_MARKS_PER_SOURCE + 1 {
            table.set("logs", i.to_string().into_bytes(), b"v".to_vec());
        }
        let marks = table.of("logs");
        assert_eq!(marks.len(), MAX_MARKS_PER_SOURCE);
        assert!(!marks.contains_key(b"0".as_slice()));
    }
}
