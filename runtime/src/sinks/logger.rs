//! `logger`: events printed to stdout, for trying flows out.

use sluice_macros::Component;

use super::TextFormat;
use crate::params::ByteSize;

/// Prints events to standard output in a human-readable form.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "logger")]
pub struct LoggerConfig {
    /// How each event is printed.
    #[param(default = "\"header_and_text\"")]
    pub format: TextFormat,
    /// Body bytes printed per event; the rest is elided.
    #[param(default = "1KiB", min = 1)]
    pub max_body: ByteSize,
    /// Events taken from the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "sink-logger")]
pub use imp::Logger;

#[cfg(feature = "sink-logger")]
mod imp {
    use std::io;

    use tokio::io::AsyncWriteExt;

    use crate::build::BuildSink;

    use super::LoggerConfig;
    use crate::event::Event;
    use crate::pipeline::Sink;
    use crate::sinks::format::write_line;

    pub struct Logger {
        config: LoggerConfig,
        buf: Vec<u8>,
        /// tokio's stdout: a write that blocks (a full pipe) blocks on a blocking-pool
        /// thread, not on an async worker.
        stdout: tokio::io::Stdout,
    }

    impl BuildSink for LoggerConfig {
        type Sink = Logger;

        async fn build(self) -> io::Result<Logger> {
            let config = self;
            Ok(Logger {
                config,
                buf: Vec::new(),
                stdout: tokio::io::stdout(),
            })
        }
    }

    impl Sink for Logger {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            self.buf.clear();
            let max = usize::try_from(self.config.max_body.0).unwrap_or(usize::MAX);
            for event in batch {
                if event.body.len() > max {
                    let mut shown = event.clone();
                    let omitted = event.body.len() - max;
                    let mut body = event.body.slice(..max).to_vec();
                    body.extend_from_slice(format!("… ({omitted} more bytes)").as_bytes());
                    shown.body = body.into();
                    write_line(&mut self.buf, &shown, self.config.format);
                } else {
                    write_line(&mut self.buf, event, self.config.format);
                }
            }
            self.stdout.write_all(&self.buf).await?;
            self.stdout.flush().await
        }
    }
}
