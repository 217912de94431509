//! Syslog message parsing shared by `syslog_tcp` and `syslog_udp`: RFC 5424 and RFC 3164
//! (BSD), told apart per message in `auto` mode. Parsed fields become headers:
//!
//! | header | from |
//! |---|---|
//! | `facility`, `severity` | PRI, as names (`local0`, `err`, …) |
//! | `timestamp` | the message's time, as Unix milliseconds (RFC 3164 has no year: the current one) |
//! | `host` | HOSTNAME |
//! | `app_name`, `procid` | APP-NAME and PROCID (RFC 3164: the tag and `[pid]`) |
//! | `msgid`, `structured_data` | RFC 5424 only, when not `-` |
//!
//! The body is the message text. A message that does not parse is kept whole as the body
//! and counted as a parse error.

use bytes::Bytes;

use crate::event::Event;
use crate::sources::syslog_tcp::SyslogFormat;

/// Facility names by number (RFC 5424 §6.2.1), as the `facility` header holds them.
pub const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// Severity names by number (RFC 5424 §6.2.1), as the `severity` header holds them.
pub const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Parses one message; `None` when it is not valid syslog in the requested format.
pub fn parse(message: &Bytes, format: SyslogFormat) -> Option<Event> {
    let data = message.as_ref();
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    let data = data.strip_suffix(b"\r").unwrap_or(data);
    let (pri, rest) = parse_pri(data)?;
    let mut event = Event::new(Bytes::new());
    event
        .headers
        .set("facility", FACILITIES[usize::from(pri / 8)]);
    event
        .headers
        .set("severity", SEVERITIES[usize::from(pri % 8)]);
    let is_5424 = rest.len() > 2 && rest[0].is_ascii_digit() && rest[1] == b' ';
    let body = match (format, is_5424) {
        (SyslogFormat::Rfc5424, _) | (SyslogFormat::Auto, true) => parse_5424(rest, &mut event)?,
        _ => parse_3164(rest, &mut event)?,
    };
    event.body = share(message, body);
    Some(event)
}

/// `part` as `Bytes` sharing `whole`'s buffer when it lies inside it (the parsers return
/// subslices of their input), else a copy: never an out-of-range slice.
fn share(whole: &Bytes, part: &[u8]) -> Bytes {
    if part.is_empty() {
        return Bytes::new();
    }
    let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    match start.checked_add(part.len()) {
        Some(end) if end <= whole.len() => whole.slice(start..end),
        _ => Bytes::copy_from_slice(part),
    }
}

/// The empty tail of `data`: an empty subslice that still points into it.
fn tail(data: &[u8]) -> &[u8] {
    &data[data.len()..]
}

fn parse_pri(data: &[u8]) -> Option<(u8, &[u8])> {
    let rest = data.strip_prefix(b"<")?;
    let end = rest.iter().take(4).position(|&b| b == b'>')?;
    let digits = std::str::from_utf8(&rest[..end]).ok()?;
    let pri: u8 = digits.parse().ok().filter(|p| *p < 192)?;
    Some((pri, &rest[end + 1..]))
}

/// Splits off the next space-separated token.
fn token(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = data.iter().position(|&b| b == b' ').unwrap_or(data.len());
    if end == 0 {
        return None;
    }
    let rest = data.get(end + 1..).unwrap_or(tail(data));
    Some((&data[..end], rest))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn set_unless_nil(event: &mut Event, name: &'static str, value: &[u8]) {
    if value != b"-" {
        event.headers.set(name, text(value));
    }
}

fn parse_5424<'a>(rest: &'a [u8], event: &mut Event) -> Option<&'a [u8]> {
    let (version, rest) = token(rest)?;
    if version != b"1" {
        return None;
    }
    let (timestamp, rest) = token(rest)?;
    if timestamp != b"-" {
        let ms = parse_rfc3339(std::str::from_utf8(timestamp).ok()?)?;
        event.headers.set("timestamp", ms.to_string());
    }
    let (host, rest) = token(rest)?;
    set_unless_nil(event, "host", host);
    let (app, rest) = token(rest)?;
    set_unless_nil(event, "app_name", app);
    let (procid, rest) = token(rest)?;
    set_unless_nil(event, "procid", procid);
    let (msgid, rest) = token(rest)?;
    set_unless_nil(event, "msgid", msgid);
    // STRUCTURED-DATA: `-` or one or more `[...]` elements (`]` may be escaped).
    let sd_end = if rest.starts_with(b"-") {
        1
    } else if rest.starts_with(b"[") {
        let mut i = 0;
        let mut escaped = false;
        let mut in_element = false;
        loop {
            let b = *rest.get(i)?;
            match (b, in_element, escaped) {
                (b'\\', true, false) => escaped = true,
                (b'[', false, _) => in_element = true,
                (b']', true, false) => in_element = false,
                _ => escaped = false,
            }
            i += 1;
            if !in_element && rest.get(i) != Some(&b'[') {
                break i;
            }
        }
    } else {
        return None;
    };
    set_unless_nil(event, "structured_data", &rest[..sd_end]);
    let msg = rest.get(sd_end + 1..).unwrap_or(tail(rest));
    Some(msg.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(msg))
}

const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn parse_3164<'a>(rest: &'a [u8], event: &mut Event) -> Option<&'a [u8]> {
    // "Mmm dd hh:mm:ss " (day padded with a space), then HOSTNAME, then TAG[PID]: MSG.
    let mut rest = rest;
    if rest.len() >= 16 && rest[15] == b' ' {
        if let Some(ms) = parse_bsd_time(&rest[..15]) {
            event.headers.set("timestamp", ms.to_string());
            rest = &rest[16..];
            let (host, after) = token(rest)?;
            event.headers.set("host", text(host));
            rest = after;
        }
    }
    let tag_end = rest
        .iter()
        .position(|&b| b == b':' || b == b'[' || b == b' ')
        .unwrap_or(0);
    if tag_end > 0 && tag_end <= 48 {
        event.headers.set("app_name", text(&rest[..tag_end]));
        let mut after = &rest[tag_end..];
        if after.starts_with(b"[") {
            if let Some(close) = after.iter().position(|&b| b == b']') {
                event.headers.set("procid", text(&after[1..close]));
                after = &after[close + 1..];
            }
        }
        if let Some(msg) = after
            .strip_prefix(b": ")
            .or_else(|| after.strip_prefix(b":"))
        {
            return Some(msg);
        }
    }
    Some(rest)
}

fn parse_bsd_time(t: &[u8]) -> Option<u64> {
    let month = MONTHS.iter().position(|m| *m == &t[..3])? as u32 + 1;
    let day: u32 = std::str::from_utf8(&t[4..6]).ok()?.trim().parse().ok()?;
    let clock = std::str::from_utf8(&t[7..15]).ok()?;
    let mut parts = clock.split(':').map(|p| p.parse::<u32>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    let year = crate::time::Utc::from_millis(crate::time::now_millis()).year;
    Some(crate::time::to_millis(year, month, day, h, m, s, 0, 0))
}

/// `2024-02-29T23:59:58.123Z` or with an offset (`+02:00`) → Unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || (b[10] != b'T' && b[10] != b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (year, month, day) = (num(0..4)? as i64, num(5..7)?, num(8..10)?);
    let (h, m, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut millis = 0u32;
    if b.get(i) == Some(&b'.') {
        let digits: String = s[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        millis = format!("{digits:0<3}")[..3].parse().ok()?;
        i += 1 + digits.len();
    }
    let offset_minutes: i64 = match b.get(i)? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let oh = s.get(i + 1..i + 3)?.parse::<i64>().ok()?;
            let om = s.get(i + 4..i + 6)?.parse::<i64>().ok()?;
            let total = oh * 60 + om;
            if *sign == b'+' {
                total
            } else {
                -total
            }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    Some(crate::time::to_millis(
        year,
        month,
        day,
        h,
        m,
        sec,
        millis,
        offset_minutes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str, format: SyslogFormat) -> Option<Event> {
        parse(&Bytes::copy_from_slice(s.as_bytes()), format)
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let e = parsed(
            r#"<165>1 2024-02-29T23:59:58.123Z web01 nginx 4242 ID47 [exampleSDID@32473 iut="3" eventSource="App\]x"] hello world"#,
            SyslogFormat::Auto,
        )
        .unwrap();
        let h = |k| e.headers.get(k).map(str::to_owned);
        assert_eq!(h("facility").as_deref(), Some("local4"));
        assert_eq!(h("severity").as_deref(), Some("notice"));
        assert_eq!(h("timestamp").as_deref(), Some("1709251198123"));
        assert_eq!(h("host").as_deref(), Some("web01"));
        assert_eq!(h("app_name").as_deref(), Some("nginx"));
        assert_eq!(h("procid").as_deref(), Some("4242"));
        assert_eq!(h("msgid").as_deref(), Some("ID47"));
        assert_eq!(
            h("structured_data").as_deref(),
            Some(r#"[exampleSDID@32473 iut="3" eventSource="App\]x"]"#)
        );
        assert_eq!(&e.body[..], b"hello world");
    }

    #[test]
    fn rfc5424_nil_fields_and_offsets() {
        let e = parsed(
            "<13>1 2024-02-29T23:59:58+01:00 - - - - - msg",
            SyslogFormat::Rfc5424,
        )
        .unwrap();
        assert_eq!(e.headers.get("timestamp"), Some("1709247598000"));
        assert_eq!(e.headers.get("host"), None);
        assert_eq!(&e.body[..], b"msg");
    }

    #[test]
    fn rfc3164() {
        let e = parsed(
            "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed",
            SyslogFormat::Auto,
        )
        .unwrap();
        assert_eq!(e.headers.get("facility"), Some("auth"));
        assert_eq!(e.headers.get("severity"), Some("crit"));
        assert_eq!(e.headers.get("host"), Some("mymachine"));
        assert_eq!(e.headers.get("app_name"), Some("su"));
        assert_eq!(e.headers.get("procid"), Some("230"));
        assert!(e.headers.get("timestamp").is_some());
        assert_eq!(&e.body[..], b"'su root' failed");
    }

    #[test]
    fn nil_message_and_messages_ending_after_any_header_field() {
        // Each of these once sliced the body out of range and killed the source.
        for message in [
            "<13>1 - - - - - -",
            "<13>1 - - - - - -\n",
            "<13>1 - - - - - [a]",
            "<13>1 - host app 1 id",
            "<13>1 - host app 1",
            "<13>1 - host",
            "<13>1 -",
            "<13>1 ",
            "<13>1",
            "<13>",
        ] {
            for format in [
                SyslogFormat::Auto,
                SyslogFormat::Rfc5424,
                SyslogFormat::Rfc3164,
            ] {
                if let Some(e) = parsed(message, format) {
                    assert!(e.body.len() <= message.len(), "{message:?}");
                }
            }
        }
        let e = parsed("<13>1 - - - - - -", SyslogFormat::Auto).unwrap();
        assert!(e.body.is_empty());
        assert_eq!(e.headers.get("severity"), Some("notice"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A field of an RFC 5424 header: NILVALUE, a word, or odd bytes.
        fn field() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("-".to_owned()),
                "[a-z0-9.]{1,8}",
                Just("2024-02-29T23:59:58.123Z".to_owned()),
                Just("[id@1 a=\"x\\]y\"]".to_owned()),
                "\\PC{0,4}",
                Just(String::new()),
            ]
        }

        proptest! {
            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                let message = Bytes::from(bytes);
                for format in [SyslogFormat::Auto, SyslogFormat::Rfc5424, SyslogFormat::Rfc3164] {
                    if let Some(e) = parse(&message, format) {
                        prop_assert!(e.body.len() <= message.len());
                    }
                }
            }

            #[test]
            fn rfc5424_cut_after_any_byte_never_panics(
                pri in 0u8..200,
                fields in proptest::collection::vec(field(), 6),
                msg in "\\PC{0,16}",
            ) {
                // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA, then the
                // message, cut after every byte.
                let full = format!("<{pri}>1 {} {msg}", fields.join(" "));
                for end in 0..=full.len() {
                    let message = Bytes::copy_from_slice(&full.as_bytes()[..end]);
                    for format in [SyslogFormat::Auto, SyslogFormat::Rfc5424, SyslogFormat::Rfc3164] {
                        if let Some(e) = parse(&message, format) {
                            prop_assert!(e.body.len() <= end);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn malformed_messages_do_not_parse() {
        for bad in [
            "no pri",
            "<999>1 x",
            "<13>1 not-a-time h a p m - x",
            "<13",
            "",
        ] {
            assert!(parsed(bad, SyslogFormat::Rfc5424).is_none(), "{bad}");
        }
        assert!(parsed("<13>just text", SyslogFormat::Auto).is_some());
    }
}
