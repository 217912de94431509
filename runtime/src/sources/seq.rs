//! `seq`: a generator for tests and load (Flume's seq and stress sources).

use sluice_macros::Component;

/// Generates events: bodies `0`, `1`, `2`, … (or `body` for every event), then stops.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "seq")]
pub struct SeqConfig {
    /// How many events to generate; without it the source runs until the agent stops.
    #[param(min = 0)]
    pub count: Option<u64>,
    /// Events per second at most; without it, as fast as the channel takes them.
    #[param(min = 1)]
    pub rate: Option<u64>,
    /// A fixed body for every event instead of the sequence number.
    pub body: Option<String>,
    /// Events put into the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "source-seq")]
pub use imp::Seq;

#[cfg(feature = "source-seq")]
mod imp {
    use crate::build::BuildSource;
    use std::io;
    use std::time::Duration;

    use bytes::Bytes;

    use super::SeqConfig;
    use crate::event::Event;
    use crate::pipeline::{Output, Source, SourceContext};

    pub struct Seq {
        config: SeqConfig,
    }

    impl BuildSource for SeqConfig {
        type Source = Seq;

        async fn build(self) -> io::Result<Seq> {
            let config = self;
            Ok(Seq { config })
        }
    }

    impl Source for Seq {
        async fn run<O: Output>(self, out: O, ctx: SourceContext) -> io::Result<()> {
            let total = self.config.count.unwrap_or(u64::MAX);
            let batch_size = self.config.batch_size.max(1);
            let fixed = self.config.body.map(Bytes::from);
            // With a rate, send one batch per tick of batch_size/rate seconds.
            let mut ticker = self.config.rate.map(|rate| {
                let per_batch = batch_size.min(rate).max(1);
                let period = Duration::from_secs_f64(per_batch as f64 / rate as f64);
                (per_batch, tokio::time::interval(period))
            });
            let mut next = 0u64;
            while next < total && !ctx.shutdown.is_triggered() {
                let mut n = batch_size.min(total - next);
                if let Some((per_batch, ticker)) = ticker.as_mut() {
                    n = n.min(*per_batch);
                    ticker.tick().await;
                }
                let batch: Vec<Event> = (next..next + n)
                    .map(|i| match &fixed {
                        Some(body) => Event::new(body.clone()),
                        None => Event::new(i.to_string()),
                    })
                    .collect();
                ctx.counters.events_received.add(n);
                if out.send(batch).await.is_err() {
                    break;
                }
                ctx.counters.events_accepted.add(n);
                next += n;
            }
            Ok(())
        }
    }
}
