//! Compressed text output, shared by the `file_roll` and `lake` sinks.

use std::io::{self, Write};

pub use crate::sinks::Compression;

impl Compression {
    /// The file name extension that says so (`.gz`, `.zst`), empty for `None`.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }
}

/// zstd's default level: as fast as gzip's fastest and a third smaller on logs.
const ZSTD_LEVEL: i32 = 3;

/// A writer that compresses what goes through it. Call [`Encoder::finish`] to end the
/// stream (a zstd frame, a gzip member); what was written before is a complete,
/// readable stream only after it.
pub enum Encoder<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    pub fn new(out: W, compression: Compression) -> io::Result<Encoder<W>> {
        Ok(match compression {
            Compression::None => Encoder::Plain(out),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::fast(),
            )),
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?),
        })
    }

    /// Ends the compressed stream and returns the writer it went to.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Plain(out) => Ok(out),
            Encoder::Gzip(gz) => gz.finish(),
            Encoder::Zstd(zstd) => zstd.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(out) => out.write(buf),
            Encoder::Gzip(gz) => gz.write(buf),
            Encoder::Zstd(zstd) => zstd.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Plain(out) => out.write_all(buf),
            Encoder::Gzip(gz) => gz.write_all(buf),
            Encoder::Zstd(zstd) => zstd.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(out) => out.flush(),
            Encoder::Gzip(gz) => gz.flush(),
            Encoder::Zstd(zstd) => zstd.flush(),
        }
    }
}

/// Compresses `data` as one complete stream (a zstd frame or a gzip member). Streams
/// concatenated this way read back as the concatenation of their data.
pub fn compress(data: &[u8], compression: Compression) -> io::Result<Vec<u8>> {
    let mut encoder = Encoder::new(Vec::with_capacity(data.len() / 4 + 64), compression)?;
    encoder.write_all(data)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn concatenated_streams_read_back_whole() {
        let parts: [&[u8]; 3] = [b"first line\n", b"", b"second line\nthird\n"];
        for compression in [Compression::Gzip, Compression::Zstd] {
            let mut file = Vec::new();
            for part in parts {
                file.extend(compress(part, compression).unwrap());
            }
            let mut text = String::new();
            match compression {
                Compression::Gzip => flate2::read::MultiGzDecoder::new(&file[..])
                    .read_to_string(&mut text)
                    .unwrap(),
                _ => zstd::stream::read::Decoder::new(&file[..])
                    .unwrap()
                    .read_to_string(&mut text)
                    .unwrap(),
            };
            assert_eq!(text, "first line\nsecond line\nthird\n", "{compression:?}");
        }
        assert_eq!(compress(b"x", Compression::None).unwrap(), b"x");
    }
}
