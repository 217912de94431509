//! Which windows an event time belongs to: tumbling, hopping and session windows, in
//! milliseconds since the Unix epoch.

use std::time::Duration;

/// How time is cut into windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Back-to-back windows of `size`: each event is in exactly one.
    Tumbling { size: Duration },
    /// Windows of `size` starting every `every`: each event is in `size / every` of
    /// them (`every` divides `size`, or the last one is partial).
    Hopping { size: Duration, every: Duration },
    /// Per group, a window that lasts while events keep coming less than `gap` apart.
    Session { gap: Duration },
}

/// `[start, end)` in milliseconds.
pub type Span = (i64, i64);

/// The most windows one event belongs to: `hopping(size, every)` with `size / every`
/// above this keeps the newest ones (and `sluice check` refuses it).
pub const MAX_HOPS: usize = 1_000;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

impl Window {
    /// The fixed windows `time` falls in, oldest first. Session windows are not fixed:
    /// they are built per group (see [`super::Aggregator`]) and this returns the
    /// one-event session `[time, time + gap)`.
    pub fn spans(&self, time: i64) -> Vec<Span> {
        match *self {
            Window::Tumbling { size } => {
                let size = ms(size);
                let start = time.div_euclid(size) * size;
                vec![(start, start.saturating_add(size))]
            }
            Window::Hopping { size, every } => {
                let (size, every) = (ms(size), ms(every));
                let last = time.div_euclid(every) * every;
                let mut spans = Vec::new();
                let mut start = last;
                while start > time.saturating_sub(size) && spans.len() < MAX_HOPS {
                    spans.push((start, start.saturating_add(size)));
                    start = start.saturating_sub(every);
                }
                spans.reverse();
                spans
            }
            Window::Session { gap } => vec![(time, time.saturating_add(ms(gap)))],
        }
    }

    /// Whether windows of a group merge when they overlap (sessions).
    pub fn merges(&self) -> bool {
        matches!(self, Window::Session { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumbling_windows_hold_each_time_once_also_before_the_epoch() {
        let w = Window::Tumbling {
            size: Duration::from_secs(60),
        };
        assert_eq!(w.spans(0), vec![(0, 60_000)]);
        assert_eq!(w.spans(59_999), vec![(0, 60_000)]);
        assert_eq!(w.spans(60_000), vec![(60_000, 120_000)]);
        assert_eq!(w.spans(-1), vec![(-60_000, 0)]);
    }

    #[test]
    fn hopping_windows_hold_each_time_size_over_every_times() {
        let w = Window::Hopping {
            size: Duration::from_secs(5 * 60),
            every: Duration::from_secs(60),
        };
        let spans = w.spans(150_000);
        assert_eq!(spans.len(), 5);
        assert!(spans
            .iter()
            .all(|(s, e)| *s <= 150_000 && 150_000 < *e && e - s == 300_000));
        assert_eq!(spans[0], (-120_000, 180_000));
        assert_eq!(spans[4], (120_000, 420_000));
    }
}
