//! A file channel segment as recovery finds it on disk: scanned from its start and from
//! inside, every record parsed and decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_runtime::wal::{self, Parsed};

fuzz_target!(|data: &[u8]| {
    for start in [0, wal::SEGMENT_MAGIC.len() as u64, data.len() as u64 / 2] {
        let scan = wal::scan(data, start);
        assert!(scan.good_end <= (data.len() as u64).max(start));
    }
    let mut rest = data;
    while let Parsed::Record { payload, len, .. } = wal::parse(rest) {
        let _ = wal::decode_event(payload);
        match rest.get(len..) {
            Some(next) if len > 0 => rest = next,
            _ => break,
        }
    }
});
