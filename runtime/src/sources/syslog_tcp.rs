//! `syslog_tcp`: syslog over TCP, RFC 3164 and RFC 5424.

use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::params::{Address, ByteSize};
use crate::tls::TlsServerConfig;

/// Receives syslog over TCP with octet-counting or newline framing; the parsed fields
/// become headers (`host`, `facility`, `severity`, `app_name`, `procid`, `msgid`,
/// `timestamp`) and the message the body. Unparseable messages are kept whole as the body.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "syslog_tcp")]
pub struct SyslogTcpConfig {
    /// Address to listen on, e.g. `"0.0.0.0:5514"`.
    #[param(binds = "tcp")]
    pub bind: Address,
    /// Message format; `auto` tells RFC 5424 from RFC 3164 per message.
    #[param(default = "\"auto\"")]
    pub format: SyslogFormat,
    /// Longest message accepted; longer ones are counted as rejected and skipped.
    #[param(default = "64KiB", min = 1)]
    pub max_line: ByteSize,
    /// Connections served at once.
    #[param(default = "1024", min = 1)]
    pub max_connections: u64,
    /// Close a connection that sends nothing for this long, freeing its slot; `0s` never.
    #[param(default = "5m")]
    pub idle_timeout: Duration,
    /// Events put into the channel per transaction.
    #[param(batch, default = "100", min = 1)]
    pub batch_size: u64,
    /// Serve TLS instead of plain TCP.
    #[param(tls)]
    pub tls: Option<TlsServerConfig>,
}

/// Which syslog format to expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum SyslogFormat {
    Auto,
    Rfc3164,
    Rfc5424,
}

#[cfg(feature = "source-syslog-tcp")]
pub use imp::{OctetFramer, SyslogTcp};

#[cfg(feature = "source-syslog-tcp")]
mod imp {
    use crate::build::BuildSource;
    use std::io;
    use std::sync::Arc;

    use bytes::{Buf, Bytes, BytesMut};
    use tokio::io::{AsyncRead, AsyncReadExt};

    use super::{SyslogFormat, SyslogTcpConfig};
    use crate::event::Event;
    use crate::lines::{forward_frames, FrameReader, Line};
    use crate::listen::TcpServer;
    use crate::pipeline::{Output, Source, SourceContext};

    /// RFC 6587 framing: each message is either `LEN SP MSG` (octet counting) or ends
    /// with a newline (non-transparent framing), decided per message by its first byte.
    pub struct OctetFramer<R> {
        inner: R,
        buf: BytesMut,
        max: usize,
        /// Bytes of an over-long octet-counted message still to discard.
        skip: usize,
        /// Inside an over-long newline-framed message.
        skipping_line: bool,
        eof: bool,
    }

    impl<R: AsyncRead + Unpin + Send> OctetFramer<R> {
        pub fn new(inner: R, max: usize) -> Self {
            OctetFramer {
                inner,
                buf: BytesMut::with_capacity(64 * 1024),
                max: max.max(1),
                skip: 0,
                skipping_line: false,
                eof: false,
            }
        }
    }

    impl<R: AsyncRead + Unpin + Send> FrameReader for OctetFramer<R> {
        fn buffered(&mut self) -> Option<Line> {
            loop {
                if self.skip > 0 {
                    let n = self.skip.min(self.buf.len());
                    self.buf.advance(n);
                    self.skip -= n;
                    if self.skip > 0 {
                        return None;
                    }
                    return Some(Line::TooLong);
                }
                // Stray line breaks between messages.
                while !self.skipping_line && matches!(self.buf.first(), Some(b'\n' | b'\r')) {
                    self.buf.advance(1);
                }
                let first = *self.buf.first()?;
                if first.is_ascii_digit() && !self.skipping_line {
                    let digits = self
                        .buf
                        .iter()
                        .take(11)
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                    match self.buf.get(digits) {
                        None if digits < 11 => return None, // need more bytes
                        Some(b' ') => {
                            let len: usize = std::str::from_utf8(&self.buf[..digits])
                                .ok()?
                                .parse()
                                .ok()?;
                            if len > self.max {
                                self.buf.advance(digits + 1);
                                self.skip = len;
                                continue;
                            }
                            if self.buf.len() < digits + 1 + len {
                                return None;
                            }
                            self.buf.advance(digits + 1);
                            return Some(Line::Data(self.buf.split_to(len).freeze()));
                        }
                        _ => {} // not octet counting after all: a line that starts with digits
                    }
                }
                match self.buf.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        let line = self.buf.split_to(i + 1);
                        if std::mem::take(&mut self.skipping_line) || i > self.max {
                            return Some(Line::TooLong);
                        }
                        let mut line = line.freeze();
                        line.truncate(i);
                        return Some(Line::Data(line));
                    }
                    None if self.buf.len() > self.max => {
                        self.buf.clear();
                        self.skipping_line = true;
                        return None;
                    }
                    None => return None,
                }
            }
        }

        async fn next(&mut self) -> io::Result<Option<Line>> {
            loop {
                if let Some(frame) = self.buffered() {
                    return Ok(Some(frame));
                }
                if self.eof {
                    if self.skip > 0 || self.skipping_line {
                        self.skip = 0;
                        self.skipping_line = false;
                        return Ok(Some(Line::TooLong));
                    }
                    if self.buf.iter().all(|b| b.is_ascii_whitespace()) {
                        return Ok(None);
                    }
                    // The unterminated rest (say, an octet count cut short) is bounded
                    // like every other message.
                    let rest = self.buf.split().freeze();
                    if rest.len() > self.max {
                        return Ok(Some(Line::TooLong));
                    }
                    return Ok(Some(Line::Data(rest)));
                }
                self.buf.reserve(64 * 1024);
                if self.inner.read_buf(&mut self.buf).await? == 0 {
                    self.eof = true;
                }
            }
        }
    }

    pub struct SyslogTcp {
        config: SyslogTcpConfig,
        server: TcpServer,
    }

    impl BuildSource for SyslogTcpConfig {
        type Source = SyslogTcp;

        async fn build(self) -> io::Result<SyslogTcp> {
            let config = self;
            let server = TcpServer::bind(&config.bind.0, config.tls.as_ref()).await?;
            Ok(SyslogTcp { config, server })
        }
    }

    /// A syslog message as an event; unparseable ones are kept whole and counted.
    pub(crate) fn to_event(message: Bytes, format: SyslogFormat, ctx: &SourceContext) -> Event {
        crate::syslog::parse(&message, format).unwrap_or_else(|| {
            ctx.counters.parse_errors.inc();
            Event::new(message)
        })
    }

    impl Source for SyslogTcp {
        async fn run<O: Output>(self, out: O, ctx: SourceContext) -> io::Result<()> {
            let out = Arc::new(out);
            let max = usize::try_from(self.config.max_line.0).unwrap_or(usize::MAX);
            let (batch_size, format) = (self.config.batch_size as usize, self.config.format);
            let idle = Some(self.config.idle_timeout).filter(|t| !t.is_zero());
            let max_connections =
                usize::try_from(self.config.max_connections).unwrap_or(usize::MAX);
            let conn_ctx = ctx.clone();
            self.server.serve(max_connections, &ctx, move |stream, peer| {
                let (out, ctx) = (out.clone(), conn_ctx.clone());
                async move {
                    let mut framer = OctetFramer::new(stream, max);
                    let convert = |m| to_event(m, format, &ctx);
                    if let Err(e) = forward_frames(&mut framer, &out, &ctx, batch_size, idle, convert).await {
                        tracing::debug!(source = ctx.name, %peer, error = %e, "connection ended with an error");
                    }
                }
            })
            .await
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        mod properties {
            use super::*;
            use proptest::prelude::*;

            /// Octet counts, syslog-looking text and line breaks, mixed.
            fn piece() -> impl Strategy<Value = Vec<u8>> {
                prop_oneof![
                    "[0-9]{1,12} ".prop_map(String::into_bytes),
                    "<[0-9]{1,3}>1 - - - - - -".prop_map(String::into_bytes),
                    Just(b"\n".to_vec()),
                    proptest::collection::vec(any::<u8>(), 0..16),
                ]
            }

            proptest! {
                #[test]
                fn any_stream_frames_into_bounded_messages(
                    pieces in proptest::collection::vec(piece(), 0..24),
                    max in 1usize..64,
                ) {
                    let input: Vec<u8> = pieces.concat();
                    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
                    let frames = runtime.block_on(async {
                        let mut framer = OctetFramer::new(&input[..], max);
                        let mut frames = Vec::new();
                        while let Some(frame) = framer.next().await.unwrap() {
                            frames.push(frame);
                        }
                        frames
                    });
                    for frame in frames {
                        if let Line::Data(bytes) = frame {
                            prop_assert!(bytes.len() <= max);
                        }
                    }
                }
            }
        }

        /// Found by the `framing` fuzz target: digits cut short at the end of the stream
        /// were returned whole, longer than the limit.
        #[tokio::test]
        async fn an_unterminated_rest_longer_than_the_limit_is_rejected() {
            let input: &[u8] = b"\0\0\0\0\0\0\0\n32";
            let mut f = OctetFramer::new(input, 1);
            assert_eq!(f.next().await.unwrap(), Some(Line::TooLong));
            assert_eq!(f.next().await.unwrap(), Some(Line::TooLong));
            assert_eq!(f.next().await.unwrap(), None);
        }

        #[tokio::test]
        async fn octet_counting_and_newlines_mix() {
            let input: &[u8] = b"5 hello11 hello\nworld<13>plain line\n3 abc\n\n999 xyz";
            let mut f = OctetFramer::new(input, 100);
            let mut frames = Vec::new();
            while let Some(frame) = f.next().await.unwrap() {
                frames.push(frame);
            }
            assert_eq!(
                frames,
                [
                    Line::Data(Bytes::from_static(b"hello")),
                    Line::Data(Bytes::from_static(b"hello\nworld")),
                    Line::Data(Bytes::from_static(b"<13>plain line")),
                    Line::Data(Bytes::from_static(b"abc")),
                    Line::TooLong,
                ]
            );
        }
    }
}
