//! An HTTP request body; the first byte picks the format (flume_json, ndjson, raw).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sluice_runtime::sources::http::{parse_body, HttpSourceFormat};

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let format = match first % 3 {
        0 => HttpSourceFormat::FlumeJson,
        1 => HttpSourceFormat::Ndjson,
        _ => HttpSourceFormat::Raw,
    };
    let _ = parse_body(format, Bytes::copy_from_slice(body));
});
