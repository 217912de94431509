//! A TCP stream split into messages: syslog octet counting mixed with newlines, and
//! plain lines. The first byte picks the length limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_runtime::lines::{FrameReader, Line, LineReader};
use sluice_runtime::sources::syslog_tcp::OctetFramer;

async fn frames(mut reader: impl FrameReader, max: usize) {
    while let Ok(Some(frame)) = reader.next().await {
        if let Line::Data(bytes) = frame {
            assert!(bytes.len() <= max);
        }
    }
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let max = usize::from(first) + 1;
    RUNTIME.with(|runtime| {
        runtime.block_on(async {
            frames(OctetFramer::new(stream, max), max).await;
            frames(LineReader::new(stream, max), max).await;
        })
    });
});
