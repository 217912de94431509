//! Reusable buffers for request bodies whose events outlive the request.
//!
//! An HTTP source reads a body of up to a mebibyte into one buffer and hands out its
//! events as slices of it, so the buffer lives until the sink has written the last of
//! them, on another thread. Allocated and freed that way, one per request, such
//! buffers left the `http_to_file` benchmark agent peaking at 35-72 MiB; with this
//! pool, at 28-33 MiB at the same CPU time (256 MiB of input, mimalloc's defaults).
//! Here a buffer whose last event is dropped goes back to a small shared pool, and the
//! next request reads into it: the same few buffers serve every request.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

/// Buffers below this size are not pooled: small allocations are cheap to make and
/// free anywhere, and a small body should not hold a large buffer.
pub const SMALLEST_POOLED: usize = 64 << 10;

/// A bounded stack of spare buffers, shared by the requests of one source.
#[derive(Debug)]
pub struct BodyPool {
    spare: Mutex<Vec<Vec<u8>>>,
    /// Most buffers kept while unused.
    keep: usize,
    /// Largest capacity worth keeping; a bigger buffer is freed when its events are.
    largest: usize,
    /// Most bytes allocated up front for a body not yet received: a client must send
    /// more before more is held for it.
    up_front: usize,
}

impl BodyPool {
    /// A pool that keeps up to `keep` unused buffers of at most `largest` bytes each,
    /// and allocates at most `up_front` bytes for a body before it arrives.
    pub fn new(keep: usize, largest: usize, up_front: usize) -> Arc<Self> {
        Arc::new(Self {
            spare: Mutex::new(Vec::with_capacity(keep)),
            keep,
            largest,
            up_front,
        })
    }

    /// An empty buffer for a body of `declared` bytes (`None`: unknown). A spare one
    /// when one fits it (without being much larger), else a new one sized for the
    /// declared length up to `up_front` bytes.
    pub fn take(&self, declared: Option<usize>) -> Vec<u8> {
        let Some(need) = declared.filter(|&n| n >= SMALLEST_POOLED) else {
            return Vec::with_capacity(declared.unwrap_or(0));
        };
        {
            let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
            let fits =
                |b: &Vec<u8>| b.capacity() >= need && b.capacity() <= size_class(need) + need / 4;
            if let Some(i) = spare.iter().position(fits) {
                return spare.swap_remove(i);
            }
        }
        Vec::with_capacity(size_class(need.min(self.up_front)))
    }

    /// Makes room in `buffer` for `more` bytes of a body of at most `cap` bytes (its
    /// declared length, or the most accepted): doubling, but never past `cap`, and in
    /// pool-sized steps so the buffer fits the next body of about the same size.
    pub fn grow(buffer: &mut Vec<u8>, more: usize, cap: Option<usize>) {
        let needed = buffer.len().saturating_add(more);
        if needed <= buffer.capacity() {
            return;
        }
        let doubled = buffer.capacity().saturating_mul(2).max(needed);
        let target = cap.map_or(doubled, |c| doubled.min(c).max(needed));
        buffer.reserve_exact(size_class(target) - buffer.len());
    }

    /// Freezes a filled buffer: the returned bytes give it back to the pool when their
    /// last slice is dropped.
    pub fn freeze(self: &Arc<Self>, buffer: Vec<u8>) -> Bytes {
        if buffer.capacity() < SMALLEST_POOLED {
            return Bytes::from(buffer);
        }
        Bytes::from_owner(Pooled {
            buffer,
            pool: Arc::clone(self),
        })
    }

    /// Takes back a buffer that is no longer referenced, if there is room for it.
    pub fn give_back(&self, mut buffer: Vec<u8>) {
        if buffer.capacity() < SMALLEST_POOLED || buffer.capacity() > self.largest {
            return;
        }
        buffer.clear();
        let mut spare = self.spare.lock().unwrap_or_else(PoisonError::into_inner);
        if spare.len() < self.keep {
            spare.push(buffer);
        }
    }

    /// How many unused buffers the pool holds.
    pub fn spare(&self) -> usize {
        self.spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// `n` rounded up to a multiple of 64 KiB when it is that large (bodies of nearly the
/// same size then share buffers), else `n`.
fn size_class(n: usize) -> usize {
    if n < SMALLEST_POOLED {
        return n;
    }
    n.div_ceil(SMALLEST_POOLED).saturating_mul(SMALLEST_POOLED)
}

/// A pooled buffer behind a [`Bytes`]: dropped with its last slice, it goes home.
struct Pooled {
    buffer: Vec<u8>,
    pool: Arc<BodyPool>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.buffer
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.buffer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn filled(pool: &Arc<BodyPool>, len: usize) -> Vec<u8> {
        let mut buffer = pool.take(Some(len));
        BodyPool::grow(&mut buffer, len, Some(len));
        buffer.resize(len, b'x');
        buffer
    }

    #[test]
    fn a_buffer_returns_when_its_last_slice_is_dropped() {
        let pool = BodyPool::new(2, 4 * MIB, MIB);
        let mut buffer = filled(&pool, 100_000);
        buffer[..8].copy_from_slice(b"one\ntwo\n");
        let address = buffer.as_ptr();
        let body = pool.freeze(buffer);
        let first = body.slice(0..3);
        let second = body.slice(4..7);
        drop(body);
        drop(first);
        assert_eq!(pool.spare(), 0, "a slice still uses the buffer");
        assert_eq!(&second[..], b"two");
        drop(second);
        assert_eq!(pool.spare(), 1);
        let again = pool.take(Some(99_000));
        assert_eq!(again.as_ptr(), address, "the same allocation is reused");
        assert!(again.is_empty() && again.capacity() >= 100_000);
    }

    #[test]
    fn bodies_of_about_the_same_size_share_buffers() {
        let pool = BodyPool::new(2, 4 * MIB, MIB);
        // Just over the up-front limit: grown once, to a 64 KiB multiple.
        let first = filled(&pool, MIB + 119);
        assert_eq!(first.capacity(), MIB + 64 * 1024);
        let address = first.as_ptr();
        drop(pool.freeze(first));
        let mut second = pool.take(Some(MIB + 250));
        assert_eq!(second.as_ptr(), address);
        BodyPool::grow(&mut second, MIB + 250, Some(MIB + 250));
        assert_eq!(second.as_ptr(), address, "no reallocation");
    }

    #[test]
    fn small_bodies_get_small_buffers_of_their_own() {
        let pool = BodyPool::new(2, 4 * MIB, MIB);
        drop(pool.freeze(filled(&pool, MIB)));
        assert_eq!(pool.spare(), 1);
        let small = pool.take(Some(200));
        assert!(
            small.capacity() < 1024,
            "a small body does not take a 1 MiB spare"
        );
        drop(pool.freeze(small));
        assert_eq!(pool.spare(), 1, "small buffers are not kept");
        // Nor does a body of half the size.
        assert!(pool.take(Some(MIB / 2)).capacity() < MIB);
        assert_eq!(pool.spare(), 1);
    }

    #[test]
    fn growth_stops_at_the_declared_length_and_the_up_front_limit_holds() {
        let pool = BodyPool::new(2, 4 * MIB, MIB);
        let mut buffer = pool.take(Some(10 * MIB));
        assert_eq!(
            buffer.capacity(),
            MIB,
            "no more than up_front before the body comes"
        );
        buffer.resize(MIB, 0);
        BodyPool::grow(&mut buffer, 1, Some(MIB + 10));
        assert_eq!(buffer.capacity(), MIB + 64 * 1024);
        // Unknown length: doubling.
        let mut unknown = pool.take(None);
        BodyPool::grow(&mut unknown, 100, None);
        assert!(unknown.capacity() >= 100);
    }

    #[test]
    fn keeps_at_most_keep_buffers_and_none_too_large() {
        let pool = BodyPool::new(2, 4 * MIB, MIB);
        for _ in 0..3 {
            pool.give_back(Vec::with_capacity(MIB));
        }
        assert_eq!(pool.spare(), 2);
        let pool = BodyPool::new(2, 4 * MIB, MIB);
        pool.give_back(Vec::with_capacity(8 * MIB));
        assert_eq!(pool.spare(), 0);
    }
}
