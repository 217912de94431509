//! A syslog message (one UDP datagram, or one framed TCP message) in every format.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sluice_runtime::sources::syslog_tcp::SyslogFormat;

fuzz_target!(|data: &[u8]| {
    let message = Bytes::copy_from_slice(data);
    for format in [
        SyslogFormat::Auto,
        SyslogFormat::Rfc5424,
        SyslogFormat::Rfc3164,
    ] {
        if let Some(event) = sluice_runtime::syslog::parse(&message, format) {
            assert!(event.body.len() <= data.len());
        }
    }
});
