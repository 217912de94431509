//! `loadavg`: the kernel's load averages, read from `/proc/loadavg` every `interval`.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use sluice_runtime::prelude::*;
use sluice_runtime::tokio;

/// Reads the 1, 5 and 15 minute load averages every `interval`: the body is the file's
/// line, the headers `load1`, `load5` and `load15` its first three numbers.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "loadavg")]
pub struct LoadavgConfig {
    /// The file to read (Linux's `/proc/loadavg`, or a file of the same format).
    #[param(default = "\"/proc/loadavg\"")]
    pub path: PathBuf,
    /// Time between two readings.
    #[param(default = "10s", min = 1)]
    pub interval: Duration,
    /// How many readings to take; without it, until the agent stops.
    #[param(min = 1)]
    pub count: Option<u64>,
}

pub struct Loadavg {
    config: LoadavgConfig,
}

impl BuildSource for LoadavgConfig {
    type Source = Loadavg;

    /// Reads the file once, so a wrong path stops the agent at start.
    async fn build(self) -> io::Result<Loadavg> {
        std::fs::read_to_string(&self.path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot read {}: {e}", self.path.display()),
            )
        })?;
        Ok(Loadavg { config: self })
    }
}

/// The event of one reading; `None` when the line does not hold three numbers.
pub fn reading(line: &str) -> Option<Event> {
    let line = line.trim();
    let mut numbers = line.split_whitespace().take(3);
    let mut event = Event::new(line.to_owned());
    for name in ["load1", "load5", "load15"] {
        let value = numbers.next()?;
        value.parse::<f64>().ok()?;
        event.headers.set(name, value);
    }
    Some(event)
}

impl Source for Loadavg {
    async fn run<O: Output>(self, out: O, mut ctx: SourceContext) -> io::Result<()> {
        let total = self.config.count.unwrap_or(u64::MAX);
        let mut sent = 0;
        while sent < total && !ctx.shutdown.is_triggered() {
            // A few bytes from procfs: reading them in place blocks for microseconds.
            let text = std::fs::read_to_string(&self.config.path)?;
            ctx.counters.events_received.add(1);
            match reading(&text) {
                Some(event) => {
                    if out.send(vec![event]).await.is_err() {
                        break;
                    }
                    ctx.counters.events_accepted.add(1);
                }
                // Counted, not fatal: a reading is lost, the next one may be fine.
                None => ctx.counters.parse_errors.add(1),
            }
            sent += 1;
            if sent < total {
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
    fn a_reading_has_the_three_averages_as_headers() {
        let event = reading("0.52 0.58 0.59 1/467 12345\n").unwrap();
        assert_eq!(event.headers.get("load1"), Some("0.52"));
        assert_eq!(event.headers.get("load15"), Some("0.59"));
        assert!(reading("garbage").is_none());
        assert!(reading("").is_none());
    }

    #[test]
    fn reads_the_real_file_count_times() {
        let config = LoadavgConfig {
            path: "/proc/loadavg".into(),
            interval: Duration::from_millis(1),
            count: Some(3),
        };
        let source = testing::block_on(config.build()).unwrap();
        let sent = testing::block_on(testing::collect_source(source, 10, Duration::from_secs(10)))
            .unwrap();
        assert_eq!(sent.len(), 3);
        assert!(sent.iter().all(|e| e.headers.get("load5").is_some()));
    }
}
