//! `{{kind}}`: a source that emits a counter, `0`, `1`, `2`, … once per `interval`.

use std::io;
use std::time::Duration;

use sluice_runtime::prelude::*;
use sluice_runtime::tokio;

/// Emits a counter as the event body, once per `interval`, `count` times (or until the
/// agent stops).
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "{{kind}}")]
pub struct {{Type}}Config {
    /// How many events to emit; without it, the source runs until the agent stops.
    #[param(min = 0)]
    pub count: Option<u64>,
    /// Time between two events.
    #[param(default = "1s")]
    pub interval: Duration,
    /// Events put into the channel per transaction.
    #[param(batch, default = "1", min = 1)]
    pub batch_size: u64,
}

/// The running source.
pub struct {{Type}} {
    config: {{Type}}Config,
}

impl BuildSource for {{Type}}Config {
    type Source = {{Type}};

    /// Building is where a source binds sockets or opens files, so that a problem
    /// stops the agent at start with a clear error.
    async fn build(self) -> io::Result<{{Type}}> {
        Ok({{Type}} { config: self })
    }
}

impl Source for {{Type}} {
    /// Runs until `count` events are sent or the agent stops (`ctx.shutdown`).
    /// `out.send` returns when the channel has the batch: that is the backpressure.
    async fn run<O: Output>(self, out: O, mut ctx: SourceContext) -> io::Result<()> {
        let total = self.config.count.unwrap_or(u64::MAX);
        let batch_size = self.config.batch_size.max(1);
        let mut next = 0u64;
        while next < total && !ctx.shutdown.is_triggered() {
            let n = batch_size.min(total - next);
            let batch: Vec<Event> = (next..next + n).map(|i| Event::new(i.to_string())).collect();
            ctx.counters.events_received.add(n);
            if out.send(batch).await.is_err() {
                break; // the agent is stopping
            }
            ctx.counters.events_accepted.add(n);
            next += n;
            if next < total {
                // Wait for the next tick, or less if the agent stops meanwhile.
                tokio::select! {
                    _ = tokio::time::sleep(self.config.interval) => {}
                    _ = ctx.shutdown.wait() => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sluice_runtime::testing;

    use super::*;

    #[test]
    fn counts_from_zero_and_stops_at_count() {
        let config = {{Type}}Config {
            count: Some(5),
            interval: Duration::from_millis(1),
            batch_size: 2,
        };
        let source = testing::block_on(config.build()).unwrap();
        let sent = testing::block_on(testing::collect_source(source, 100, Duration::from_secs(10)))
            .unwrap();
        let bodies: Vec<String> = sent.iter().map(|e| e.body_text().into_owned()).collect();
        assert_eq!(bodies, ["0", "1", "2", "3", "4"]);
    }
}
