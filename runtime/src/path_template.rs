//! Path templates filled in per event (`/var/log/%{service}/%Y-%m-%d`): the rendering
//! the `file_roll` and `lake` sinks share, with header values kept inside their directory.

use std::io;

use sluice_core::template::Part;

use crate::event::Event;
use crate::time::Utc;

/// A parsed path template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template(Vec<Part>);

impl Template {
    /// Parses with the grammar `sluice check` validated the template with.
    pub fn parse(s: &str) -> io::Result<Template> {
        sluice_core::template::parse(s)
            .map(Template)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }

    /// Whether the template is the same for every event.
    pub fn is_static(&self) -> bool {
        self.0.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// Fills the template for an event that happened at `time`. A missing header
    /// or empty header becomes `unknown`. A header value can never lead out of `dir`:
    /// `/`, `\\` and NUL in it become `_`, a value that is only dots (`.`, `..`) becomes
    /// as many `_`, so it cannot name the current or the parent directory, and only its
    /// first [`MAX_VALUE_BYTES`] bytes are used, so it cannot make a name longer than
    /// file systems and object stores take.
    pub fn render(&self, event: &Event, time: &Utc, out: &mut String) {
        use std::fmt::Write as _;
        for part in &self.0 {
            let _ = match part {
                Part::Text(t) => {
                    out.push_str(t);
                    Ok(())
                }
                Part::Year => write!(out, "{:04}", time.year),
                Part::Month => write!(out, "{:02}", time.month),
                Part::Day => write!(out, "{:02}", time.day),
                Part::Hour => write!(out, "{:02}", time.hour),
                Part::Minute => write!(out, "{:02}", time.minute),
                Part::Second => write!(out, "{:02}", time.second),
                Part::Header(name) => {
                    let value = event
                        .headers
                        .get(name)
                        .filter(|v| !v.is_empty())
                        .unwrap_or("unknown");
                    push_path_safe(out, value);
                    Ok(())
                }
            };
        }
    }
}

/// Most bytes of one header value in a path (file names may have 255).
pub const MAX_VALUE_BYTES: usize = 128;

/// Appends a header value to a path so that it stays one plain name (see
/// [`Template::render`]).
fn push_path_safe(out: &mut String, value: &str) {
    let mut end = value.len().min(MAX_VALUE_BYTES);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let value = &value[..end];
    let only_dots = !value.is_empty() && value.bytes().all(|b| b == b'.');
    out.extend(value.chars().map(|c| match c {
        '/' | '\\' | '\0' => '_',
        '.' if only_dots => '_',
        c => c,
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_on_a_character_boundary() {
        let t = Template::parse("%{v}").unwrap();
        let mut e = Event::new("x");
        e.headers.set("v", "é".repeat(200));
        let mut out = String::new();
        t.render(&e, &Utc::from_millis(0), &mut out);
        assert_eq!(out, "é".repeat(MAX_VALUE_BYTES / 2));
    }

    #[test]
    fn header_values_never_leave_the_directory() {
        let t = Template::parse("/out/%{svc}/%{day}").unwrap();
        let time = Utc::from_millis(0);
        for (svc, day, expected) in [
            ("..", "..", "/out/__/__"),
            ("../../etc", "passwd", "/out/.._.._etc/passwd"),
            (".", "a\0b", "/out/_/a_b"),
            ("a\\..\\b", "...", "/out/a_.._b/___"),
            ("..hidden", "x.y", "/out/..hidden/x.y"),
            ("", "", "/out/unknown/unknown"),
        ] {
            let mut e = Event::new("x");
            e.headers.set("svc", svc);
            e.headers.set("day", day);
            let mut out = String::new();
            t.render(&e, &time, &mut out);
            assert_eq!(out, expected);
            let path = std::path::Path::new(&out);
            assert!(!path.components().any(|c| matches!(
                c,
                std::path::Component::ParentDir | std::path::Component::CurDir
            )));
        }
    }

    #[test]
    fn templates_render_time_and_headers() {
        let t = Template::parse("/out/%Y/%m-%d/%{host}%%").unwrap();
        let mut e = Event::new("x");
        e.headers.set("host", "a/b");
        let mut s = String::new();
        t.render(&e, &Utc::from_millis(1_709_251_198_000), &mut s);
        assert_eq!(s, "/out/2024/02-29/a_b%");
        assert!(!t.is_static());
        assert!(Template::parse("/plain").unwrap().is_static());
    }
}
