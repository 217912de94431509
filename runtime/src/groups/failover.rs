//! `failover`: the highest-priority healthy sink takes every batch.

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_macros::Component;

use crate::params::SinkRef;

/// Sends every batch to the highest-priority sink that is up; a failed sink is penalised
/// with growing backoff and takes over again once it recovers.
#[derive(Clone, Debug, Component)]
#[component(role = "group", kind = "failover")]
pub struct FailoverConfig {
    /// Member sinks; earlier sinks have higher priority unless `priorities` says otherwise.
    #[param(members)]
    pub sinks: Vec<SinkRef>,
    /// Sink name → priority (higher wins).
    pub priorities: Option<BTreeMap<String, i64>>,
    /// Longest time a failed sink is left out.
    #[param(default = "30s", min = 1)]
    pub max_penalty: Duration,
}

#[cfg(feature = "group-failover")]
pub use imp::Failover;

#[cfg(feature = "group-failover")]
mod imp {
    use crate::build::BuildGroup;
    use std::io;
    use std::sync::Arc;

    use super::FailoverConfig;
    use crate::event::Event;
    use crate::groups::{GroupMembers, Penalty};
    use crate::metrics::SinkCounters;
    use crate::pipeline::Sink;

    /// Sends each batch to the highest-priority member that is not penalised; a member
    /// that fails is penalised (1 s, doubling up to `max_penalty`) and the next one tried.
    /// Once its penalty is over, a recovered member takes over again.
    pub struct Failover<M: GroupMembers> {
        members: M,
        /// Member indexes, highest priority first.
        order: Vec<usize>,
        penalties: Vec<Penalty>,
        config: FailoverConfig,
        counters: Option<Arc<SinkCounters>>,
    }

    impl BuildGroup for FailoverConfig {
        type Group<M: GroupMembers> = Failover<M>;

        async fn build<M: GroupMembers>(self, members: M) -> io::Result<Failover<M>> {
            let config = self;
            let priority = |i: usize| {
                let name = M::NAMES[i];
                // Without priorities, earlier members come first.
                config
                    .priorities
                    .as_ref()
                    .and_then(|p| p.get(name).copied())
                    .unwrap_or(-(i as i64))
            };
            let mut order: Vec<usize> = (0..M::NAMES.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(priority(i)));
            Ok(Failover {
                members,
                order,
                penalties: vec![Penalty::default(); M::NAMES.len()],
                config,
                counters: None,
            })
        }
    }

    impl<M: GroupMembers> Sink for Failover<M> {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            let mut last_error = None;
            for &i in &self.order {
                if self.penalties[i].active() {
                    continue;
                }
                match self.members.write(i, batch).await {
                    Ok(()) => {
                        self.penalties[i].clear();
                        return Ok(());
                    }
                    Err(e) => {
                        if let Some(c) = &self.counters {
                            c.connection_failures.inc();
                        }
                        self.penalties[i].fail(self.config.max_penalty);
                        tracing::warn!(member = M::NAMES[i], error = %e, "failover member failed; trying the next");
                        last_error = Some(e);
                    }
                }
            }
            Err(last_error.unwrap_or_else(|| {
                io::Error::other("every member of the failover group is penalised")
            }))
        }

        async fn close(&mut self) -> io::Result<()> {
            self.members.close().await
        }

        fn bind_counters(&mut self, counters: Arc<SinkCounters>) {
            self.counters = Some(counters);
        }
    }
}
