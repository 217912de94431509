//! Reading newline-delimited events with a bound on line length: an over-long line is
//! skipped (and reported) without ever being held in memory whole.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// What [`LineReader::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line without its `\n` (and without a `\r` before it).
    Data(Bytes),
    /// A line longer than the limit was skipped.
    TooLong,
}

pub struct LineReader<R> {
    inner: R,
    buf: BytesMut,
    max_line: usize,
    /// Inside an over-long line: drop bytes until the next `\n`.
    skipping: bool,
    eof: bool,
}

/// A reader that splits a byte stream into frames (lines, syslog messages).
pub trait FrameReader: Send {
    /// A complete frame already buffered, without reading.
    fn buffered(&mut self) -> Option<Line>;

    /// The next frame, reading as needed; `None` at end of input.
    fn next(&mut self) -> impl std::future::Future<Output = std::io::Result<Option<Line>>> + Send;
}

impl<R: AsyncRead + Unpin + Send> FrameReader for LineReader<R> {
    fn buffered(&mut self) -> Option<Line> {
        LineReader::buffered(self)
    }

    fn next(&mut self) -> impl std::future::Future<Output = std::io::Result<Option<Line>>> + Send {
        LineReader::next(self)
    }
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub fn new(inner: R, max_line: usize) -> Self {
        LineReader {
            inner,
            buf: BytesMut::with_capacity(64 * 1024),
            max_line: max_line.max(1),
            skipping: false,
            eof: false,
        }
    }

    /// A complete line already in the buffer, without reading.
    pub fn buffered(&mut self) -> Option<Line> {
        loop {
            let newline = self.buf.iter().position(|&b| b == b'\n');
            match newline {
                Some(i) => {
                    let mut line = self.buf.split_to(i + 1);
                    if self.skipping {
                        self.skipping = false;
                        return Some(Line::TooLong);
                    }
                    line.truncate(i);
                    if line.last() == Some(&b'\r') {
                        line.truncate(i - 1);
                    }
                    if line.len() > self.max_line {
                        return Some(Line::TooLong);
                    }
                    return Some(Line::Data(line.freeze()));
                }
                None => {
                    if self.buf.len() > self.max_line {
                        // Too long already: drop what we have and skip to the newline.
                        self.buf.clear();
                        if !self.skipping {
                            self.skipping = true;
                        }
                        continue;
                    }
                    return None;
                }
            }
        }
    }

    /// The next line, reading as needed; `None` at end of input. A final line without
    /// `\n` is returned too.
    pub async fn next(&mut self) -> std::io::Result<Option<Line>> {
        loop {
            if let Some(line) = self.buffered() {
                return Ok(Some(line));
            }
            if self.eof {
                if self.skipping {
                    self.skipping = false;
                    self.buf.clear();
                    return Ok(Some(Line::TooLong));
                }
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let line = self.buf.split().freeze();
                return Ok(Some(Line::Data(line)));
            }
            self.buf.reserve(64 * 1024);
            let n = self.inner.read_buf(&mut self.buf).await?;
            if n == 0 {
                self.eof = true;
            }
        }
    }
}

/// Reads lines from `reader` and sends them to `out` in batches of up to `batch_size`
/// (a batch is sent as soon as no more complete lines are buffered: no waiting to fill
/// it). Returns at end of input, when shutdown begins, or when the channel closes.
pub async fn forward_lines<F, O>(
    reader: &mut F,
    out: &O,
    ctx: &crate::pipeline::SourceContext,
    batch_size: usize,
) -> std::io::Result<()>
where
    F: FrameReader,
    O: crate::pipeline::Output,
{
    forward_frames(reader, out, ctx, batch_size, None, crate::event::Event::new).await
}

/// Like [`forward_lines`], turning each frame into an event with `to_event`.
pub async fn forward_frames<F, O>(
    reader: &mut F,
    out: &O,
    ctx: &crate::pipeline::SourceContext,
    batch_size: usize,
    idle_timeout: Option<std::time::Duration>,
    to_event: impl Fn(Bytes) -> crate::event::Event,
) -> std::io::Result<()>
where
    F: FrameReader,
    O: crate::pipeline::Output,
{
    use crate::event::Event;
    let mut shutdown = ctx.shutdown.clone();
    loop {
        let idle = async {
            match idle_timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        let first = tokio::select! {
            line = reader.next() => line?,
            _ = shutdown.wait() => return Ok(()),
            _ = idle => {
                tracing::debug!(source = ctx.name, "closing an idle connection");
                return Ok(());
            }
        };
        let Some(first) = first else { return Ok(()) };
        let mut batch = Vec::with_capacity(batch_size.min(1024));
        let push = |line: Line, batch: &mut Vec<Event>| {
            ctx.counters.events_received.inc();
            match line {
                Line::Data(body) => batch.push(to_event(body)),
                Line::TooLong => {
                    ctx.counters.events_rejected.inc();
                    tracing::warn!(source = ctx.name, "line longer than max_line skipped");
                }
            }
        };
        push(first, &mut batch);
        while batch.len() < batch_size {
            match reader.buffered() {
                Some(line) => push(line, &mut batch),
                None => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        let n = batch.len() as u64;
        if out.send(batch).await.is_err() {
            return Ok(());
        }
        ctx.counters.events_accepted.add(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn splits_lines_and_skips_long_ones() {
        let input: &[u8] = b"a\r\nbbbbbbbbbb\ncc\nlast";
        let mut r = LineReader::new(input, 4);
        let mut out = Vec::new();
        while let Some(l) = r.next().await.unwrap() {
            out.push(l);
        }
        assert_eq!(
            out,
            [
                Line::Data(Bytes::from_static(b"a")),
                Line::TooLong,
                Line::Data(Bytes::from_static(b"cc")),
                Line::Data(Bytes::from_static(b"last")),
            ]
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_bytes_split_into_bounded_lines(
                input in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), any::<u8>()], 0..512),
                max_line in 1usize..32,
            ) {
                let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
                let lines = runtime.block_on(async {
                    let mut reader = LineReader::new(&input[..], max_line);
                    let mut lines = Vec::new();
                    while let Some(line) = reader.next().await.unwrap() {
                        lines.push(line);
                    }
                    lines
                });
                let mut data = 0;
                for line in lines {
                    if let Line::Data(bytes) = line {
                        prop_assert!(bytes.len() <= max_line);
                        prop_assert!(!bytes.contains(&b'\n'));
                        data += bytes.len();
                    }
                }
                prop_assert!(data <= input.len());
            }
        }
    }
}
