//! `jsonl`: appends events to a file as JSON lines.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use sluice_runtime::prelude::*;

/// Appends each event to `path` as one JSON object per line:
/// `{"headers":{"name":"value",…},"body":"…"}` (invalid UTF-8 in a body is replaced).
/// A batch is written and flushed (and synced with `fsync = true`) before it is
/// committed, so after a crash the file holds every committed event, at least once.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "jsonl")]
pub struct JsonlConfig {
    /// The file to append to; created if missing.
    #[param(path_key)]
    pub path: PathBuf,
    /// Sync the file to disk before each commit.
    #[param(default = "false")]
    pub fsync: bool,
    /// Events taken from the channel per transaction.
    #[param(batch, default = "500", min = 1)]
    pub batch_size: u64,
}

pub struct Jsonl {
    file: BufWriter<File>,
    fsync: bool,
}

impl BuildSink for JsonlConfig {
    type Sink = Jsonl;

    async fn build(self) -> io::Result<Jsonl> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open {}: {e}", self.path.display()),
                )
            })?;
        Ok(Jsonl {
            file: BufWriter::new(file),
            fsync: self.fsync,
        })
    }
}

/// `text` as a JSON string, quotes included.
pub fn json_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One event as a JSON line, newline included.
pub fn json_line(event: &Event) -> String {
    let mut line = String::from("{\"headers\":{");
    for (i, (name, value)) in event.headers.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        json_string(name, &mut line);
        line.push(':');
        json_string(value, &mut line);
    }
    line.push_str("},\"body\":");
    json_string(&event.body_text(), &mut line);
    line.push_str("}\n");
    line
}

impl Sink for Jsonl {
    async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
        for event in batch {
            self.file.write_all(json_line(event).as_bytes())?;
        }
        self.file.flush()?;
        if self.fsync {
            self.file.get_ref().sync_data()?;
        }
        Ok(())
    }

    /// File writes block: a thread of its own keeps them off the async workers.
    fn blocking_io(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use sluice_runtime::testing;

    use super::*;

    #[test]
    fn every_event_is_one_json_line() {
        let path = std::env::temp_dir().join(format!("jsonl-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let config = JsonlConfig {
            path: path.clone(),
            fsync: true,
            batch_size: 2,
        };
        let mut quoted = Event::new("say \"hi\"\n\tback\\slash \u{1}");
        quoted.headers.set("host", "web-1");
        let events = vec![quoted, Event::new(vec![0xff, b'x']), Event::new("")];
        let sink = testing::block_on(config.build()).unwrap();
        let report = testing::block_on(testing::drain(sink, events, 2, 1)).unwrap();
        assert_eq!(report.delivered, 3);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"headers":{"host":"web-1"},"body":"say \"hi\"\n\tback\\slash \u0001"}"#,
                "{\"headers\":{},\"body\":\"\u{fffd}x\"}",
                r#"{"headers":{},"body":""}"#,
            ]
        );
        std::fs::remove_file(&path).unwrap();
    }
}
