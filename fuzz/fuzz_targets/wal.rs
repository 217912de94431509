//! A file channel segment as recovery finds it on disk: scanned from its start and from
//! inside, damage salvaged, every record parsed and decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_runtime::wal::{self, Parsed};

fuzz_target!(|data: &[u8]| {
    for start in [0, wal::SEGMENT_MAGIC.len() as u64, data.len() as u64 / 2] {
        let scan = wal::scan(data, start);
        assert!(scan.good_end <= (data.len() as u64).max(start));
        if let Some(corrupt) = scan.corrupt_at {
            let (kept, _, _) = wal::salvage(data, corrupt);
            assert!(kept.len() <= data.len());
        }
        let _ = wal::marks_in(data, start);
    }
    let mut rest = data;
    while let Parsed::Record { payload, len, .. } = wal::parse(rest) {
        let _ = wal::decode_event(payload);
        let _ = wal::decode_commit(payload);
        let _ = wal::decode_marks(payload);
        match rest.get(len..) {
            Some(next) if len > 0 => rest = next,
            _ => break,
        }
    }
});
