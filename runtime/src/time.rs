//! Wall-clock helpers: Unix milliseconds, UTC calendar fields for path templates, and
//! the host name. Small enough not to need a date crate.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// UTC calendar fields of a Unix time in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Utc {
    pub fn from_millis(ms: u64) -> Utc {
        Utc::from_unix_millis(i64::try_from(ms).unwrap_or(i64::MAX))
    }

    /// The fields of a Unix time in milliseconds, also before 1970.
    pub fn from_unix_millis(ms: i64) -> Utc {
        let secs = ms.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Utc {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
        }
    }
}

/// A time written as Unix milliseconds (digits only) or RFC 3339.
pub fn parse_time(text: &str) -> Option<i64> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    crate::syslog::parse_rfc3339(text).and_then(|ms| i64::try_from(ms).ok())
}

/// Unix milliseconds as RFC 3339 in UTC with milliseconds: `2024-02-29T23:59:58.123Z`.
pub fn rfc3339(ms: i64) -> String {
    let t = Utc::from_unix_millis(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        ms.rem_euclid(1000)
    )
}

/// The machine's host name (from the kernel), or `localhost`.
///
/// Read once and cached: expressions call it per event (`hostname()`), and reading
/// `/proc` each time would be blocking I/O on the event path.
pub fn hostname() -> String {
    static HOSTNAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOSTNAME
        .get_or_init(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .or_else(|| std::env::var("HOSTNAME").ok())
                .unwrap_or_else(|| "localhost".to_owned())
        })
        .clone()
}

/// Unix milliseconds of a UTC-offset calendar time (Howard Hinnant's days_from_civil).
#[allow(clippy::too_many_arguments)]
pub fn to_millis(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    millis: u32,
    offset_minutes: i64,
) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
        - offset_minutes * 60;
    (secs * 1000 + i64::from(millis)).max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_millis_inverts_from_millis() {
        for ms in [0u64, 951_782_400_000, 1_709_251_198_000, 4_102_444_800_000] {
            let t = Utc::from_millis(ms);
            assert_eq!(
                to_millis(t.year, t.month, t.day, t.hour, t.minute, t.second, 0, 0),
                ms
            );
        }
    }

    #[test]
    fn rfc3339_before_and_after_1970() {
        assert_eq!(rfc3339(1_709_251_198_123), "2024-02-29T23:59:58.123Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(-62_135_596_800_000), "0001-01-01T00:00:00.000Z");
        assert_eq!(parse_time("1709251198123"), Some(1_709_251_198_123));
        assert_eq!(
            parse_time("2024-02-29T23:59:58.123Z"),
            Some(1_709_251_198_123)
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn calendar_fields() {
        assert_eq!(
            Utc::from_millis(0),
            Utc {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0
            }
        );
        // 2024-02-29T23:59:58Z
        assert_eq!(
            Utc::from_millis(1_709_251_198_000),
            Utc {
                year: 2024,
                month: 2,
                day: 29,
                hour: 23,
                minute: 59,
                second: 58
            }
        );
    }
}
