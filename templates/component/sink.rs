//! `{{kind}}`: a sink that writes each event's body as one line to standard output.

use std::io::{self, Write};

use sluice_runtime::prelude::*;

/// Writes each event's body as one line to standard output.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "{{kind}}")]
pub struct {{Type}}Config {
    /// Text written before each body.
    #[param(default = "\"\"")]
    pub prefix: String,
    /// Events taken from the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

/// The running sink: where lines go, and what goes before each.
pub struct {{Type}}<W> {
    prefix: String,
    out: W,
}

impl<W: Write + Send + 'static> {{Type}}<W> {
    /// A sink writing to `out` instead of standard output (for tests).
    pub fn to(config: {{Type}}Config, out: W) -> Self {
        {{Type}} {
            prefix: config.prefix,
            out,
        }
    }
}

impl BuildSink for {{Type}}Config {
    type Sink = {{Type}}<io::Stdout>;

    async fn build(self) -> io::Result<Self::Sink> {
        Ok({{Type}}::to(self, io::stdout()))
    }
}

impl<W: Write + Send + 'static> Sink for {{Type}}<W> {
    /// `Ok` means every line is written and flushed: the agent then commits the batch.
    /// An `Err` makes the agent write the same batch again later.
    async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
        for event in batch {
            self.out.write_all(self.prefix.as_bytes())?;
            self.out.write_all(&event.body)?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use sluice_runtime::testing;

    use super::*;

    /// A `Write` the test can read back after the sink is gone.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writes_each_body_as_a_line_after_the_prefix() {
        let config = {{Type}}Config {
            prefix: "> ".into(),
            batch_size: 2,
        };
        let out = Shared::default();
        let events: Vec<Event> = ["a", "b", "c"].into_iter().map(Event::new).collect();
        let report = testing::block_on(testing::drain(
            {{Type}}::to(config, out.clone()),
            events,
            2,
            1,
        ))
        .unwrap();
        assert_eq!(report.delivered, 3);
        let written = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(written, "> a\n> b\n> c\n");
    }
}
