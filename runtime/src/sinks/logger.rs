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
    #[param(default = "100", min = 1)]
    pub batch_size: u64,
}
