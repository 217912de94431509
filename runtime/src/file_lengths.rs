//! A sink position made of files and their lengths (`file_roll`'s output files, the
//! `lake` sink's staging files): what a crash cuts them back to.
//!
//! Encoded as a u32 file count, then per file its path (u32 length, bytes) and its length
//! (u64), all little-endian.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Encodes `files` as a position.
pub fn encode<'a>(files: impl Iterator<Item = (&'a Path, u64)>) -> Vec<u8> {
    let files: Vec<(&Path, u64)> = files.collect();
    let mut out = (files.len() as u32).to_le_bytes().to_vec();
    for (path, len) in files {
        let bytes = path.as_os_str().as_bytes();
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
        out.extend_from_slice(&len.to_le_bytes());
    }
    out
}

/// Decodes a position; `None` if it is malformed.
pub fn decode(mut data: &[u8]) -> Option<Vec<(PathBuf, u64)>> {
    fn take<'a>(data: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let head = data.get(..n)?;
        *data = data.get(n..)?;
        Some(head)
    }
    let count = u32::from_le_bytes(take(&mut data, 4)?.try_into().ok()?);
    let mut files = Vec::new();
    for _ in 0..count {
        let n = u32::from_le_bytes(take(&mut data, 4)?.try_into().ok()?) as usize;
        let path = PathBuf::from(OsStr::from_bytes(take(&mut data, n)?));
        let len = u64::from_le_bytes(take(&mut data, 8)?.try_into().ok()?);
        files.push((path, len));
    }
    data.is_empty().then_some(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let encoded = encode([(Path::new("/tmp/a.stg"), 77), (Path::new("b"), 0)].into_iter());
        assert_eq!(
            decode(&encoded),
            Some(vec![
                (PathBuf::from("/tmp/a.stg"), 77),
                (PathBuf::from("b"), 0)
            ])
        );
        for cut in 0..encoded.len() {
            assert_eq!(decode(&encoded[..cut]), None);
        }
        assert_eq!(decode(&[255, 255, 255, 255]), None);
    }
}
