//! Transforms: per-event changes applied on a source's side of a flow (Flume's
//! interceptors). One file per kind.

crate::catalogue::registry! {
    timestamp::TimestampConfig,
    host::HostConfig,
    static_header::StaticConfig,
    remove_header::RemoveHeaderConfig,
    uuid::UuidConfig,
    regex_filter::RegexFilterConfig,
    regex_extractor::RegexExtractorConfig,
    search_replace::SearchReplaceConfig,
    filter::FilterConfig,
    set::SetConfig,
    json_extract::JsonExtractConfig,
    aggregate::AggregateConfig,
}
