//! `redact`: masks long runs of digits in the body (card and account numbers).

use std::io;

use sluice_runtime::prelude::*;

/// Replaces every run of at least `min_digits` digits in the body (spaces and dashes
/// between digits count as part of the run) with `mask`, one per digit, keeping the
/// last `keep_last` digits. Events are never dropped.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "redact")]
pub struct RedactConfig {
    /// The shortest run of digits that is masked.
    #[param(default = "12", min = 1)]
    pub min_digits: u64,
    /// Digits left visible at the end of each run.
    #[param(default = "0", min = 0)]
    pub keep_last: u64,
    /// The character written in place of each masked digit.
    #[param(default = "\"*\"")]
    pub mask: String,
}

pub struct Redact {
    min_digits: usize,
    keep_last: usize,
    mask: u8,
}

impl BuildTransform for RedactConfig {
    type Transform = Redact;

    async fn build(self, _counters: Arc<TransformCounters>) -> io::Result<Redact> {
        let mask = match self.mask.as_bytes() {
            [byte] if byte.is_ascii() => *byte,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("mask must be one ASCII character, not {:?}", self.mask),
                ))
            }
        };
        Ok(Redact {
            min_digits: usize::try_from(self.min_digits).unwrap_or(usize::MAX),
            keep_last: usize::try_from(self.keep_last).unwrap_or(usize::MAX),
            mask,
        })
    }
}

impl Redact {
    /// The body with its long digit runs masked, or `None` when nothing changes.
    pub fn redact(&self, body: &[u8]) -> Option<Vec<u8>> {
        let mut out = body.to_vec();
        let mut changed = false;
        let mut i = 0;
        while i < out.len() {
            if !out[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            // A run: digits, with single spaces or dashes between them.
            let start = i;
            let mut digits = Vec::new();
            let mut end = i;
            while end < out.len() {
                if out[end].is_ascii_digit() {
                    digits.push(end);
                    end += 1;
                } else if matches!(out[end], b' ' | b'-')
                    && out.get(end + 1).is_some_and(u8::is_ascii_digit)
                {
                    end += 1;
                } else {
                    break;
                }
            }
            if digits.len() >= self.min_digits {
                let masked = digits.len().saturating_sub(self.keep_last);
                for &at in &digits[..masked] {
                    out[at] = self.mask;
                }
                changed |= masked > 0;
            }
            i = end.max(start + 1);
        }
        changed.then_some(out)
    }
}

impl Transform for Redact {
    fn apply(&self, event: &mut Event) -> bool {
        if let Some(body) = self.redact(&event.body) {
            event.body = body.into();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use sluice_runtime::testing;

    use super::*;

    fn redact(min_digits: usize, keep_last: usize) -> Redact {
        Redact {
            min_digits,
            keep_last,
            mask: b'*',
        }
    }

    #[test]
    fn masks_long_runs_and_keeps_short_ones() {
        let kept = testing::apply(
            &redact(12, 4),
            [
                "paid with 4111 1111 1111 1111 today",
                "order 12345 shipped",
                "iban DE89-3704-0044-0532-0130-00",
            ]
            .map(Event::new),
        );
        let bodies: Vec<String> = kept.iter().map(|e| e.body_text().into_owned()).collect();
        assert_eq!(
            bodies,
            [
                "paid with **** **** **** 1111 today",
                "order 12345 shipped",
                "iban DE**-****-****-****-**30-00",
            ]
        );
    }

    #[test]
    fn any_bytes_are_safe() {
        let r = redact(3, 1);
        for body in [
            &b""[..],
            b"\xff\xfe123",
            b"1",
            b"1-",
            b"-1 2 3 4",
            b"9 9 9 9 9 9 9 9 ",
        ] {
            let _ = r.redact(body);
        }
        assert_eq!(r.redact(b"\xff1234").unwrap(), b"\xff***4");
    }
}
