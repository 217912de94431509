//! What a sink remembers of a take the destination acknowledged only in part: when the
//! same take comes back (rolled back, handed out again first), the records already
//! acknowledged are not sent a second time. A take is recognised by a checksum of its
//! events.

use crate::event::Event;

/// A CRC-32C of events' headers and bodies, to recognise a take handed out again.
pub fn checksum(events: &[Event]) -> u32 {
    let mut crc = 0;
    for event in events {
        for (name, value) in event.headers.iter() {
            crc = crc32c::crc32c_append(crc, name.as_bytes());
            crc = crc32c::crc32c_append(crc, &[0]);
            crc = crc32c::crc32c_append(crc, value.as_bytes());
            crc = crc32c::crc32c_append(crc, &[0]);
        }
        crc = crc32c::crc32c_append(crc, &event.body);
        crc = crc32c::crc32c_append(crc, &(event.body.len() as u64).to_le_bytes());
    }
    crc
}

/// Which records of a take were acknowledged, when some were not.
pub struct PartlyAcked {
    checksum: u32,
    done: Vec<bool>,
}

impl PartlyAcked {
    /// Remembers `done` (one flag per event of `batch`).
    pub fn new(batch: &[Event], done: Vec<bool>) -> PartlyAcked {
        PartlyAcked {
            checksum: checksum(batch),
            done,
        }
    }

    /// The flags remembered in `slot` if `batch` is the take they were for, else none
    /// acknowledged; empties `slot`.
    pub fn flags_for(slot: &mut Option<PartlyAcked>, batch: &[Event]) -> Vec<bool> {
        match slot.take() {
            Some(a) if a.done.len() == batch.len() && a.checksum == checksum(batch) => a.done,
            _ => vec![false; batch.len()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_take_gets_its_flags_back_and_another_take_does_not() {
        let take = vec![Event::new("a"), Event::new("b")];
        let other = vec![Event::new("a"), Event::new("c")];
        let mut slot = Some(PartlyAcked::new(&take, vec![true, false]));
        assert_eq!(PartlyAcked::flags_for(&mut slot, &take), vec![true, false]);
        assert!(slot.is_none());
        let mut slot = Some(PartlyAcked::new(&take, vec![true, false]));
        assert_eq!(
            PartlyAcked::flags_for(&mut slot, &other),
            vec![false, false]
        );
        let mut header = Event::new("a");
        header.headers.set("h", "1");
        assert_ne!(checksum(&[header]), checksum(&[Event::new("a")]));
    }
}
