//! What a `sluice` source reads from a sender: frames (length, checksum, protobuf
//! message), decoded one after another as a connection would, with a small and the
//! default frame limit; every decoded message is turned into events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_runtime::event::Event;
use sluice_runtime::hop::{self, Body};

fuzz_target!(|data: &[u8]| {
    for max_frame in [64, hop::DEFAULT_MAX_FRAME] {
        for decoded in hop::decode_all(data, max_frame).into_iter().flatten() {
            if let Body::Batch(batch) = decoded {
                let _: Result<Vec<Event>, _> = batch.into_events(1 << 20);
            }
        }
    }
    // The payload alone, as if the length prefix had been right.
    let _ = hop::decode_payload(bytes::Bytes::copy_from_slice(data));
});
