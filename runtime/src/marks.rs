//! Read positions that travel with the events: a source attaches a [`Mark`] (where it
//! has read up to, in one of its inputs) to a batch, and a durable channel stores it in
//! the same commit record as the batch's events. After a crash the source resumes from
//! the marks its channels committed, so it reads again exactly what was not committed:
//! no duplicates, no loss. Channels that are not durable ignore marks.

#![warn(missing_docs)]

use std::collections::HashMap;

/// Marks a source may keep in a channel; past this, the least recently updated go
/// (a source whose marks are gone falls back to its own position file).
pub const MAX_MARKS_PER_SOURCE: usize = 4096;

/// A source's position in one of its inputs, committed with the events read before it.
/// `key` names the input (for `taildir`, the file's device and inode) and `value` is
/// the source's own encoding of where it stands; the channel stores both unread.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Mark {
    /// The source the position belongs to.
    pub source: &'static str,
    /// Which input of the source (a file's identity, a partition).
    pub key: Vec<u8>,
    /// How far into it the source has read, in the source's own encoding.
    pub value: Vec<u8>,
}

/// The marks one durable channel holds for one source: key → value.
pub type Marks = HashMap<Vec<u8>, Vec<u8>>;

/// The positions a source resumes from, as its durable channels committed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    marks: Marks,
}

impl Resume {
    /// Combines what each of a source's channels holds (`None` for a channel that is
    /// not durable). A key counts only when every durable channel holds the same value
    /// for it: a crash between the puts of one batch into two channels leaves them
    /// disagreeing, and the source then falls back to its older position file for that
    /// input (duplicates in one channel, never loss in the other).
    pub fn agreed(channels: Vec<Option<Marks>>) -> Resume {
        let mut durable = channels.into_iter().flatten();
        let Some(mut marks) = durable.next() else {
            return Resume::default();
        };
        for other in durable {
            marks.retain(|key, value| other.get(key) == Some(value));
        }
        Resume { marks }
    }

    /// The committed value for input `key`, if the channels agree on one.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.marks.get(key).map(Vec::as_slice)
    }

    /// Every committed (key, value).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.marks.iter().map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    /// Whether nothing was committed (or the channels disagree on everything).
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(pairs: &[(&str, &str)]) -> Marks {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn only_keys_every_durable_channel_agrees_on_count() {
        let resume = Resume::agreed(vec![
            Some(marks(&[("a", "1"), ("b", "2"), ("c", "3")])),
            None,
            Some(marks(&[("a", "1"), ("b", "9")])),
        ]);
        assert_eq!(resume.get(b"a"), Some(&b"1"[..]));
        assert_eq!(resume.get(b"b"), None, "disagreeing channels");
        assert_eq!(resume.get(b"c"), None, "missing in one channel");
    }

    #[test]
    fn no_durable_channel_means_no_marks() {
        assert!(Resume::agreed(vec![None, None]).is_empty());
        assert!(Resume::agreed(Vec::new()).is_empty());
    }
}
