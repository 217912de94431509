use std::time::Duration;

use sluice_runtime::prelude::*;

/// How loud.
#[derive(Clone, Copy, Debug, ParamEnum)]
pub enum Loudness {
    Quiet,
    VeryLoud,
}

/// Where to echo.
#[derive(Clone, Debug, Params)]
pub struct Echo {
    /// Times to repeat.
    #[param(default = "1", min = 1, max = 10)]
    pub times: u32,
}

/// Writes each event's body, loudly.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "shout")]
pub struct ShoutConfig {
    /// Text before each body.
    #[param(default = "\"\"")]
    pub prefix: String,
    /// How loud.
    #[param(default = "\"quiet\"")]
    pub loudness: Loudness,
    /// Pause between lines.
    pub pause: Option<Duration>,
    /// Echo settings.
    pub echo: Option<Echo>,
    /// Events per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
}
