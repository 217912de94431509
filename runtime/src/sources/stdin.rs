//! `stdin`: one event per line of standard input.

use sluice_macros::Component;

use crate::params::ByteSize;

/// Reads standard input, one event per line; stops at end of input.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "stdin")]
pub struct StdinConfig {
    /// Longest line accepted; longer lines are counted as rejected and skipped.
    #[param(default = "64KiB", min = 1)]
    pub max_line: ByteSize,
    /// Events put into the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}

#[cfg(feature = "source-stdin")]
pub use imp::Stdin;

#[cfg(feature = "source-stdin")]
mod imp {
    use crate::build::BuildSource;
    use std::io;

    use super::StdinConfig;
    use crate::lines::{forward_lines, LineReader};
    use crate::pipeline::{Output, Source, SourceContext};

    pub struct Stdin {
        config: StdinConfig,
    }

    impl BuildSource for StdinConfig {
        type Source = Stdin;

        async fn build(self) -> io::Result<Stdin> {
            let config = self;
            Ok(Stdin { config })
        }
    }

    impl Source for Stdin {
        async fn run<O: Output>(self, out: O, ctx: SourceContext) -> io::Result<()> {
            let max_line = usize::try_from(self.config.max_line.0).unwrap_or(usize::MAX);
            let mut reader = LineReader::new(tokio::io::stdin(), max_line);
            forward_lines(&mut reader, &out, &ctx, self.config.batch_size as usize).await
        }
    }
}
