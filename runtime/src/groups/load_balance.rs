//! `load_balance`: batches spread over several sinks.

use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::params::SinkRef;

/// Spreads batches over the member sinks; a failing sink is backed off and retried later.
#[derive(Clone, Debug, Component)]
#[component(role = "group", kind = "load_balance")]
pub struct LoadBalanceConfig {
    /// Member sinks.
    #[param(members)]
    pub sinks: Vec<SinkRef>,
    /// How the next sink is chosen.
    #[param(default = "\"round_robin\"")]
    pub selector: Selector,
    /// Leave a failed sink out for a growing time.
    #[param(default = "true")]
    pub backoff: bool,
    /// Longest time a failed sink is left out.
    #[param(default = "30s", min = 1)]
    pub max_backoff: Duration,
}

/// Sink selection order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum Selector {
    RoundRobin,
    Random,
}

#[cfg(feature = "group-load-balance")]
pub use imp::LoadBalance;

#[cfg(feature = "group-load-balance")]
mod imp {
    use crate::build::BuildGroup;
    use std::io;
    use std::sync::Arc;

    use super::{LoadBalanceConfig, Selector};
    use crate::event::Event;
    use crate::groups::{GroupMembers, Penalty};
    use crate::metrics::SinkCounters;
    use crate::pipeline::Sink;

    /// Spreads batches over the members; a member that fails is backed off (with
    /// `backoff`) and the batch goes to the next one.
    pub struct LoadBalance<M: GroupMembers> {
        members: M,
        next: usize,
        rng: u64,
        penalties: Vec<Penalty>,
        config: LoadBalanceConfig,
        counters: Option<Arc<SinkCounters>>,
    }

    impl BuildGroup for LoadBalanceConfig {
        type Group<M: GroupMembers> = LoadBalance<M>;

        async fn build<M: GroupMembers>(self, members: M) -> io::Result<LoadBalance<M>> {
            let config = self;
            Ok(LoadBalance {
                members,
                next: 0,
                rng: crate::time::now_millis() | 1,
                penalties: vec![Penalty::default(); M::NAMES.len()],
                config,
                counters: None,
            })
        }
    }

    impl<M: GroupMembers> LoadBalance<M> {
        fn start(&mut self) -> usize {
            let n = M::NAMES.len().max(1);
            match self.config.selector {
                Selector::RoundRobin => self.next % n,
                Selector::Random => {
                    // xorshift64: enough to spread load.
                    self.rng ^= self.rng << 13;
                    self.rng ^= self.rng >> 7;
                    self.rng ^= self.rng << 17;
                    (self.rng % n as u64) as usize
                }
            }
        }
    }

    impl<M: GroupMembers> Sink for LoadBalance<M> {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            let n = M::NAMES.len();
            let start = self.start();
            let mut last_error = None;
            for k in 0..n {
                let i = (start + k) % n;
                if self.config.backoff && self.penalties[i].active() {
                    continue;
                }
                match self.members.write(i, batch).await {
                    Ok(()) => {
                        self.penalties[i].clear();
                        self.next = i + 1;
                        return Ok(());
                    }
                    Err(e) => {
                        if let Some(c) = &self.counters {
                            c.connection_failures.inc();
                        }
                        if self.config.backoff {
                            self.penalties[i].fail(self.config.max_backoff);
                        }
                        tracing::warn!(member = M::NAMES[i], error = %e, "load_balance member failed; trying the next");
                        last_error = Some(e);
                    }
                }
            }
            Err(last_error.unwrap_or_else(|| {
                io::Error::other("every member of the load_balance group is backed off")
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
