//! Sinks: where events leave the agent. One file per kind.

crate::catalogue::registry! {
    logger::LoggerConfig,
    null::NullConfig,
    file_roll::FileRollConfig,
    tcp::TcpSinkConfig,
    http::HttpSinkConfig,
    sluice::SluiceSinkConfig,
    kafka::KafkaSinkConfig,
    nats::NatsSinkConfig,
    lake::LakeConfig,
    in_process::InProcessSinkConfig,
    prometheus::PrometheusConfig,
}
#[cfg(feature = "agent")]
pub mod format;

use sluice_macros::ParamEnum;

/// How a text file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// How a sink writes each event as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum TextFormat {
    /// The body, one event per line.
    Text,
    /// `{"headers":{...},"body":"..."}` per line.
    Json,
    /// `{headers} body` per line, like Flume's header_and_text serializer.
    HeaderAndText,
}
