//! The agent-to-agent protocol of the `sluice` sink and source (see `docs/protocol.md`).
//!
//! A connection carries frames, each
//!
//! ```text
//! length: u32 big-endian | crc32c(message): u32 little-endian | message: length - 4 bytes
//! ```
//!
//! where the message is a Protocol Buffers [`Frame`]. Framing is
//! `tokio_util::codec::LengthDelimitedCodec`, messages are `prost`: both well-kept, and
//! protobuf lets a client in any language be generated from the schema in the docs.
//!
//! The sender opens with [`Hello`] (protocol version, agent name, token); the receiver
//! answers [`Welcome`] or [`Refused`] and closes. Then the sender sends [`Batch`]es and
//! the receiver answers each with an [`Ack`] carrying the batch id, in order, once the
//! batch is committed to its channels (`Ok`), or when it has no room (`Busy`: back off
//! and send it again) or cannot take it (`Error`).

use std::io;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

use crate::event::Event;

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

/// Largest frame accepted unless configured otherwise.
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// Largest hello a receiver reads: before a sender is admitted, it cannot make the
/// receiver hold a large frame in memory.
pub const MAX_HELLO: usize = 64 << 10;

/// Compares a presented secret with the expected one in time that does not depend on
/// where they differ.
pub fn same_secret(presented: &str, expected: &str) -> bool {
    let (a, b) = (presented.as_bytes(), expected.as_bytes());
    let mut diff = a.len() ^ b.len();
    for (i, &x) in b.iter().enumerate() {
        diff |= usize::from(x ^ a.get(i).copied().unwrap_or(!x));
    }
    diff == 0
}

/// Every message, one per frame.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Frame {
    #[prost(oneof = "Body", tags = "1, 2, 3, 4, 5")]
    pub body: Option<Body>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Body {
    #[prost(message, tag = "1")]
    Hello(Hello),
    #[prost(message, tag = "2")]
    Welcome(Welcome),
    #[prost(message, tag = "3")]
    Refused(Refused),
    #[prost(message, tag = "4")]
    Batch(Batch),
    #[prost(message, tag = "5")]
    Ack(Ack),
}

/// Sender → receiver, first: who is sending, and the shared token if there is one.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Hello {
    #[prost(uint32, tag = "1")]
    pub version: u32,
    #[prost(string, tag = "2")]
    pub agent: String,
    #[prost(string, tag = "3")]
    pub token: String,
}

/// Receiver → sender: the hello is accepted.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Welcome {
    #[prost(uint32, tag = "1")]
    pub version: u32,
    #[prost(string, tag = "2")]
    pub agent: String,
}

/// Receiver → sender: the hello is refused (wrong version or token); the connection
/// closes after it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Refused {
    #[prost(string, tag = "1")]
    pub reason: String,
}

/// Sender → receiver: events to commit, as one transaction. Either `events`, or (with
/// a `compression` other than `None`) `compressed`: an [`Events`] message compressed,
/// `uncompressed_size` bytes before compression.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Batch {
    /// Chosen by the sender, increasing on a connection; echoed in the [`Ack`].
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(message, repeated, tag = "2")]
    pub events: Vec<WireEvent>,
    #[prost(enumeration = "Compression", tag = "3")]
    pub compression: i32,
    #[prost(bytes = "bytes", tag = "4")]
    pub compressed: Bytes,
    #[prost(uint64, tag = "5")]
    pub uncompressed_size: u64,
    /// Set on the first batch a sender sends after a batch of it was not taken: the
    /// receiver answers every batch after a refused one `Busy` without looking at it
    /// (so batches already in flight behind it cannot overtake it), until one comes
    /// with `resumes`.
    #[prost(bool, tag = "6")]
    pub resumes: bool,
}

/// The events of a batch, as compressed.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Events {
    #[prost(message, repeated, tag = "1")]
    pub events: Vec<WireEvent>,
}

/// How a batch's events are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
#[repr(i32)]
pub enum Compression {
    None = 0,
    /// LZ4 block format (no frame header).
    Lz4 = 1,
    /// A Zstandard frame.
    Zstd = 2,
}

/// How much larger than the frame limit a batch may grow when decompressed.
pub const MAX_EXPANSION: usize = 8;

impl Batch {
    /// A batch of `events`, compressed with `compression`.
    pub fn new(id: u64, events: &[Event], compression: Compression) -> io::Result<Batch> {
        let events: Vec<WireEvent> = events.iter().map(WireEvent::from).collect();
        if compression == Compression::None {
            return Ok(Batch {
                id,
                events,
                ..Batch::default()
            });
        }
        let plain = prost::Message::encode_to_vec(&Events { events });
        let compressed = match compression {
            Compression::Lz4 => lz4_flex::block::compress(&plain),
            Compression::Zstd => zstd::bulk::compress(&plain, 3)?,
            Compression::None => unreachable!("handled above"),
        };
        Ok(Batch {
            id,
            events: Vec::new(),
            compression: compression as i32,
            compressed: Bytes::from(compressed),
            uncompressed_size: plain.len() as u64,
            resumes: false,
        })
    }

    /// The batch's events, decompressed if need be; at most `max_size` bytes of them
    /// (a compressed batch claiming more is refused before it is decompressed).
    pub fn into_events(self, max_size: usize) -> Result<Vec<Event>, FrameError> {
        let wire = match Compression::try_from(self.compression) {
            Ok(Compression::None) => self.events,
            Ok(codec) => {
                let size = usize::try_from(self.uncompressed_size)
                    .ok()
                    .filter(|&n| n <= max_size)
                    .ok_or(FrameError::TooLarge(self.uncompressed_size))?;
                let plain = match codec {
                    Compression::Lz4 => lz4_flex::block::decompress(&self.compressed, size)
                        .map_err(|e| FrameError::Decompress(e.to_string()))?,
                    _ => zstd::bulk::decompress(&self.compressed, size)
                        .map_err(|e| FrameError::Decompress(e.to_string()))?,
                };
                if plain.len() != size {
                    return Err(FrameError::Decompress(format!(
                        "{} bytes decompressed, {size} announced",
                        plain.len()
                    )));
                }
                let events: Events = prost::Message::decode(plain.as_slice())?;
                events.events
            }
            Err(_) => return Err(FrameError::UnknownCompression(self.compression)),
        };
        Ok(wire.into_iter().map(Event::from).collect())
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct WireEvent {
    /// In the event's order.
    #[prost(message, repeated, tag = "1")]
    pub headers: Vec<Header>,
    #[prost(bytes = "bytes", tag = "2")]
    pub body: Bytes,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Header {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// Receiver → sender: what became of batch `id`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Ack {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(enumeration = "Status", tag = "2")]
    pub status: i32,
    /// Why, for `Busy` and `Error`.
    #[prost(string, tag = "3")]
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
#[repr(i32)]
pub enum Status {
    /// Committed to every channel.
    Ok = 0,
    /// No room now: nothing was committed; send it again later.
    Busy = 1,
    /// Not taken (the receiver is shutting down, or the batch is malformed).
    Error = 2,
}

impl From<&Event> for WireEvent {
    fn from(event: &Event) -> WireEvent {
        WireEvent {
            headers: event
                .headers
                .iter()
                .map(|(name, value)| Header {
                    name: name.to_owned(),
                    value: value.to_owned(),
                })
                .collect(),
            body: event.body.clone(),
        }
    }
}

impl From<WireEvent> for Event {
    fn from(wire: WireEvent) -> Event {
        let mut event = Event::new(wire.body);
        for header in wire.headers {
            event.headers.set(header.name, header.value.as_str());
        }
        event
    }
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("connection: {0}")]
    Io(#[from] io::Error),
    #[error("frame checksum mismatch")]
    Checksum,
    #[error("frame too short for its checksum")]
    Short,
    #[error("not a protocol message: {0}")]
    Decode(#[from] prost::DecodeError),
    #[error("frame without a message")]
    Empty,
    #[error("a batch of {0} bytes once decompressed is over the limit")]
    TooLarge(u64),
    #[error("cannot decompress the batch: {0}")]
    Decompress(String),
    #[error("unknown compression {0}")]
    UnknownCompression(i32),
}

/// The frame codec: `LengthDelimitedCodec` with the checksum inside.
fn codec(max_frame: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(4)
        .big_endian()
        .max_frame_length(max_frame.saturating_add(4))
        .new_codec()
}

/// The message in one frame's payload (checksum, then the protobuf bytes).
pub fn decode_payload(mut payload: Bytes) -> Result<Body, FrameError> {
    if payload.len() < 4 {
        return Err(FrameError::Short);
    }
    let crc = payload.get_u32_le();
    if crc32c::crc32c(&payload) != crc {
        return Err(FrameError::Checksum);
    }
    let frame: Frame = prost::Message::decode(payload)?;
    frame.body.ok_or(FrameError::Empty)
}

/// Every frame in `bytes`, as a receiver would read them; stops at the first error or
/// at an incomplete frame. For the fuzz target and property tests.
pub fn decode_all(bytes: &[u8], max_frame: usize) -> Vec<Result<Body, FrameError>> {
    let mut codec = codec(max_frame);
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(payload)) => {
                let body = decode_payload(payload.freeze());
                let failed = body.is_err();
                out.push(body);
                if failed {
                    return out;
                }
            }
            Ok(None) => return out,
            Err(e) => {
                out.push(Err(FrameError::Io(e)));
                return out;
            }
        }
    }
}

/// A frame's bytes for `body`.
pub fn encode(body: Body) -> io::Result<Bytes> {
    let frame = Frame { body: Some(body) };
    let mut payload = BytesMut::with_capacity(4 + prost::Message::encoded_len(&frame));
    payload.put_u32_le(0);
    prost::Message::encode(&frame, &mut payload).map_err(io::Error::other)?;
    let crc = crc32c::crc32c(&payload[4..]);
    payload[..4].copy_from_slice(&crc.to_le_bytes());
    let mut out = BytesMut::with_capacity(payload.len() + 4);
    codec(usize::MAX - 4).encode(payload.freeze(), &mut out)?;
    Ok(out.freeze())
}

/// Reads frames from one side of a connection.
pub struct FrameReader<R> {
    reader: R,
    codec: LengthDelimitedCodec,
    buf: BytesMut,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(reader: R, max_frame: usize) -> Self {
        FrameReader {
            reader,
            codec: codec(max_frame),
            buf: BytesMut::with_capacity(64 * 1024),
        }
    }

    /// Changes the largest frame accepted from now on.
    pub fn set_max_frame(&mut self, max_frame: usize) {
        self.codec.set_max_frame_length(max_frame.saturating_add(4));
    }

    /// The next message; `Ok(None)` when the peer closed the connection between frames.
    pub async fn next(&mut self) -> Result<Option<Body>, FrameError> {
        loop {
            if let Some(payload) = self.codec.decode(&mut self.buf)? {
                return decode_payload(payload.freeze()).map(Some);
            }
            if self.reader.read_buf(&mut self.buf).await? == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(FrameError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed inside a frame",
                )));
            }
        }
    }
}

/// Writes one message as a frame and flushes it.
pub async fn send<W: AsyncWrite + Unpin>(writer: &mut W, body: Body) -> io::Result<()> {
    let bytes = encode(body)?;
    writer.write_all(&bytes).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> Body {
        let mut event = Event::new("hello");
        event.headers.set("host", "web-1");
        event.headers.set("ü", "ç");
        Body::Batch(Batch::new(7, &[event, Event::new("")], Compression::None).unwrap())
    }

    #[test]
    fn frames_round_trip_with_headers_in_order() {
        let bytes = encode(batch()).unwrap();
        let decoded = decode_all(&bytes, DEFAULT_MAX_FRAME);
        assert_eq!(decoded.len(), 1);
        let Ok(Body::Batch(b)) = &decoded[0] else {
            panic!("{decoded:?}")
        };
        let event = Event::from(b.events[0].clone());
        assert_eq!(event.body_text(), "hello");
        let headers: Vec<(&str, &str)> = event.headers.iter().collect();
        assert_eq!(headers, [("host", "web-1"), ("ü", "ç")]);
    }

    #[test]
    fn damage_size_and_truncation_are_errors_not_panics() {
        let bytes = encode(batch()).unwrap();
        // A flipped byte in the message: the checksum catches it.
        let mut flipped = bytes.to_vec();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            decode_all(&flipped, DEFAULT_MAX_FRAME)[0],
            Err(FrameError::Checksum)
        ));
        // A frame claiming 4 GiB.
        let huge = [0xff, 0xff, 0xff, 0xff, 1, 2, 3];
        assert!(matches!(
            decode_all(&huge, DEFAULT_MAX_FRAME)[0],
            Err(FrameError::Io(_))
        ));
        // Truncated: nothing yet, no error.
        assert!(decode_all(&bytes[..bytes.len() - 3], DEFAULT_MAX_FRAME).is_empty());
    }

    #[test]
    fn a_compressed_batch_claiming_too_much_is_refused_before_decompressing() {
        let events: Vec<Event> = (0..100).map(|i| Event::new(format!("line {i}"))).collect();
        for compression in [Compression::Lz4, Compression::Zstd] {
            let mut batch = Batch::new(1, &events, compression).unwrap();
            batch.uncompressed_size = u64::MAX;
            assert!(matches!(
                batch.clone().into_events(1 << 20),
                Err(FrameError::TooLarge(_))
            ));
            batch.uncompressed_size = 10;
            assert!(
                batch.into_events(1 << 20).is_err(),
                "a wrong size is an error"
            );
        }
        let unknown = Batch {
            compression: 9,
            ..Batch::default()
        };
        assert!(matches!(
            unknown.into_events(1 << 20),
            Err(FrameError::UnknownCompression(9))
        ));
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cre", "s3cret"));
        assert!(!same_secret("s3cret!", "s3cret"));
        assert!(!same_secret("S3cret", "s3cret"));
        assert!(!same_secret("", "s3cret"));
        assert!(same_secret("", ""));
    }

    #[test]
    fn the_fuzz_seeds_are_what_they_claim() {
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/hop");
        let read = |name: &str| std::fs::read(seeds.join(name)).unwrap();
        let frames = decode_all(&read("hello_then_batch"), DEFAULT_MAX_FRAME);
        assert!(matches!(&frames[0], Ok(Body::Hello(h)) if h.version == 1 && h.token == "secret"));
        assert!(matches!(&frames[1], Ok(Body::Batch(b)) if b.id == 7 && b.events.len() == 2));
        let frames = decode_all(&read("ack_busy"), DEFAULT_MAX_FRAME);
        assert!(matches!(&frames[0], Ok(Body::Ack(a)) if a.status == Status::Busy as i32));
        assert!(decode_all(&read("huge_length"), DEFAULT_MAX_FRAME)[0].is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_bytes_decode_without_panicking(
                data in proptest::collection::vec(any::<u8>(), 0..512),
            ) {
                let _ = decode_all(&data, 1024);
            }

            #[test]
            fn any_events_round_trip(
                bodies in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
                headers in proptest::collection::vec(("[a-z]{1,8}", "\\PC{0,8}"), 0..4),
            ) {
                let events: Vec<Event> = bodies
                    .into_iter()
                    .map(|b| {
                        let mut e = Event::new(b);
                        for (k, v) in &headers {
                            e.headers.set(k.clone(), v.as_str());
                        }
                        e
                    })
                    .collect();
                for compression in [Compression::None, Compression::Lz4, Compression::Zstd] {
                    let body = Body::Batch(Batch::new(1, &events, compression).unwrap());
                    let bytes = encode(body).unwrap();
                    let decoded = decode_all(&bytes, DEFAULT_MAX_FRAME);
                    let Some(Ok(Body::Batch(b))) = decoded.into_iter().next() else {
                        return Err(TestCaseError::fail("no batch"));
                    };
                    let back = b.into_events(DEFAULT_MAX_FRAME).unwrap();
                    prop_assert_eq!(&back, &events);
                }
            }
        }
    }
}
