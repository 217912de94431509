//! Helpers, but no component.

/// Adds one.
pub fn add_one(n: u64) -> u64 {
    n + 1
}
