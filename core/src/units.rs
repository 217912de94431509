//! Units of durations and byte sizes: one table each, read by the parser (literals such
//! as `30s`) and by the runtime (`env(...)` values such as `TIMEOUT=30s`).

use std::time::Duration;

/// Duration units and how many milliseconds each is.
pub const DURATION_UNITS: &[(&str, u64)] = &[
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// Byte-size units and how many bytes each is: decimal (`KB` = 1000) and binary
/// (`KiB` = 1024).
pub const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
];

/// Milliseconds per `unit`, if it is a duration unit.
pub fn millis_per(unit: &str) -> Option<u64> {
    lookup(DURATION_UNITS, unit)
}

/// Bytes per `unit`, if it is a byte-size unit.
pub fn bytes_per(unit: &str) -> Option<u64> {
    lookup(SIZE_UNITS, unit)
}

fn lookup(table: &[(&str, u64)], unit: &str) -> Option<u64> {
    table.iter().find(|(u, _)| *u == unit).map(|&(_, n)| n)
}

/// Why a duration or size text does not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitError {
    /// No digits before the unit.
    NoNumber,
    /// The unit is not in the table.
    UnknownUnit,
    /// The amount does not fit in 64 bits.
    TooLarge,
}

/// Parses a duration as written in a flow: `250ms`, `30s`, `5m`, `1h`, `7d` (`_` may
/// separate digits).
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let (amount, unit) = split(text)?;
    let per = millis_per(unit).ok_or(UnitError::UnknownUnit)?;
    amount
        .checked_mul(per)
        .map(Duration::from_millis)
        .ok_or(UnitError::TooLarge)
}

/// Parses a byte size as written in a flow: `512B`, `64KiB`, `10MB`.
pub fn parse_byte_size(text: &str) -> Result<u64, UnitError> {
    let (amount, unit) = split(text)?;
    let per = bytes_per(unit).ok_or(UnitError::UnknownUnit)?;
    amount.checked_mul(per).ok_or(UnitError::TooLarge)
}

/// `"64KiB"` → `(64, "KiB")`.
fn split(text: &str) -> Result<(u64, &str), UnitError> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let digits: String = number.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() {
        return Err(UnitError::NoNumber);
    }
    let amount = digits.parse().map_err(|_| UnitError::TooLarge)?;
    Ok((amount, unit))
}

/// `ms, s, m, h, d` — the units for messages.
pub fn duration_unit_list() -> String {
    names(DURATION_UNITS)
}

/// `B, KB, MB, ...` — the units for messages.
pub fn size_unit_list() -> String {
    names(SIZE_UNITS)
}

fn names(table: &[(&str, u64)]) -> String {
    table.iter().map(|(u, _)| *u).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_reads() {
        for (unit, millis) in DURATION_UNITS {
            assert_eq!(
                parse_duration(&format!("2{unit}")),
                Ok(Duration::from_millis(2 * millis))
            );
        }
        for (unit, bytes) in SIZE_UNITS {
            assert_eq!(parse_byte_size(&format!("3{unit}")), Ok(3 * bytes));
        }
    }

    #[test]
    fn bad_texts_are_errors() {
        assert_eq!(parse_duration("5 parsecs"), Err(UnitError::UnknownUnit));
        assert_eq!(parse_duration("ms"), Err(UnitError::NoNumber));
        assert_eq!(parse_byte_size("10"), Err(UnitError::UnknownUnit));
        assert_eq!(
            parse_byte_size("99999999999999999999B"),
            Err(UnitError::TooLarge)
        );
        assert_eq!(parse_byte_size("20000000TiB"), Err(UnitError::TooLarge));
        assert_eq!(parse_duration("1_000ms"), Ok(Duration::from_secs(1)));
    }
}
