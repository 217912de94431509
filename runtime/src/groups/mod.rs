//! Sink groups: several sinks draining one channel together (Flume's sink processors).

crate::catalogue::registry! {
    failover::FailoverConfig,
    load_balance::LoadBalanceConfig,
}

/// The member sinks of a group, generated per group because members may be of different
/// kinds: `write` dispatches to member `index` with a `match`, no boxing.
#[cfg(feature = "agent")]
pub trait GroupMembers: Send + 'static {
    /// Member names, in the order of the group's `sinks` list.
    const NAMES: &'static [&'static str];

    fn write(
        &mut self,
        member: usize,
        batch: &[crate::event::Event],
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send;

    fn close(&mut self) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
}

/// How long a failed member is left out: doubling from one second up to `max`.
#[cfg(any(feature = "group-failover", feature = "group-load-balance"))]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Penalty {
    until: Option<std::time::Instant>,
    last: std::time::Duration,
}

#[cfg(any(feature = "group-failover", feature = "group-load-balance"))]
impl Penalty {
    pub(crate) fn active(&self) -> bool {
        self.until.is_some_and(|t| std::time::Instant::now() < t)
    }

    pub(crate) fn fail(&mut self, max: std::time::Duration) {
        let next = if self.last.is_zero() {
            std::time::Duration::from_secs(1)
        } else {
            self.last * 2
        };
        self.last = next.min(max);
        self.until = Some(std::time::Instant::now() + self.last);
    }

    pub(crate) fn clear(&mut self) {
        *self = Penalty::default();
    }
}
