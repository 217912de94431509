//! Channels: transactional buffers between sources and sinks. One file per kind.

crate::catalogue::registry! {
    memory::MemoryConfig,
    file::FileChannelConfig,
}
