//! `nats`: events published to NATS JetStream.

use std::time::Duration;

use sluice_macros::Component;

use crate::params::PathTemplate;
use crate::tls::TlsClientConfig;

/// Publishes each event to a JetStream subject: the body is the payload, the event's
/// headers become NATS headers. A batch is committed from the channel only when the
/// stream acknowledged every message of it; messages it did not take are published
/// again, the acknowledged ones are not. The subject must be captured by a stream
/// (`nats stream add`); without one, publishing fails with "no responders" and the
/// batch is retried.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "nats")]
pub struct NatsSinkConfig {
    /// The server(s), e.g. `"nats://nats-1:4222"`; several separated by commas.
    #[param(destination)]
    pub url: String,
    /// The subject, or a template choosing it per event: `"logs.%{app}"`. In a header
    /// value, characters a subject token cannot have (`.`, `*`, `>`, spaces) become `_`.
    pub subject: PathTemplate,
    /// Whether the event's headers are sent as NATS headers.
    #[param(default = "true")]
    pub headers: bool,
    /// Events taken from the channel per transaction.
    #[param(batch, default = "1_000", min = 1)]
    pub batch_size: u64,
    /// Give up on an acknowledgement after this long and retry the batch.
    #[param(default = "30s", min = 1)]
    pub timeout: Duration,
    /// Longest pause between retries of a batch.
    #[param(default = "10s", min = 1)]
    pub retry_max_backoff: Duration,
    /// A token the server expects (set it with `env(...)`).
    #[param(secret)]
    pub token: Option<String>,
    /// An NKey seed (`SU…`) to authenticate with (set it with `env(...)`).
    #[param(secret)]
    pub nkey: Option<String>,
    /// Connect with TLS; `cert` and `key` give the client certificate for mutual TLS.
    #[param(tls)]
    pub tls: Option<TlsClientConfig>,
}

#[cfg(feature = "sink-nats")]
pub use imp::NatsSink;

#[cfg(feature = "sink-nats")]
mod imp {
    use std::io;
    use std::time::Duration;

    use async_nats::jetstream::{self, message::PublishMessage};
    use async_nats::HeaderMap;
    use sluice_core::template::Part;

    use super::NatsSinkConfig;
    use crate::acked::PartlyAcked;
    use crate::build::BuildSink;
    use crate::event::Event;
    use crate::nats::connect;
    use crate::pipeline::Sink;

    /// Publishes batches through one JetStream context.
    pub struct NatsSink {
        config: NatsSinkConfig,
        subject: Vec<Part>,
        context: Option<jetstream::Context>,
        /// Which messages of the last take the stream acknowledged, when not all.
        acked: Option<PartlyAcked>,
    }

    impl BuildSink for NatsSinkConfig {
        type Sink = NatsSink;

        async fn build(self) -> io::Result<NatsSink> {
            let subject = sluice_core::template::parse(&self.subject.0)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            Ok(NatsSink {
                config: self,
                subject,
                context: None,
                acked: None,
            })
        }
    }

    /// Fills the subject template; header values become single subject tokens.
    fn render(parts: &[Part], event: &Event, out: &mut String) {
        out.clear();
        for part in parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Header(name) => {
                    let value = event.headers.get(name).filter(|v| !v.is_empty()).unwrap_or("unknown");
                    out.extend(value.chars().map(|c| match c {
                        '.' | '*' | '>' => '_',
                        c if c.is_whitespace() || c.is_control() => '_',
                        c => c,
                    }));
                }
                // Time escapes make little sense in a subject; the checker allows them
                // in templates, so they render as nothing.
                _ => {}
            }
        }
    }


    impl NatsSink {
        async fn context(&mut self) -> io::Result<&jetstream::Context> {
            if self.context.is_none() {
                let c = &self.config;
                let client = connect(&c.url, c.token.as_deref(), c.nkey.as_deref(), c.tls.as_ref(), c.timeout).await?;
                self.context = Some(jetstream::new(client));
            }
            Ok(self.context.as_ref().expect("connected above"))
        }

        async fn publish(&mut self, batch: &[Event], done: &mut [bool]) -> io::Result<()> {
            let subject_parts = self.subject.clone();
            let with_headers = self.config.headers;
            let context = self.context().await?.clone();
            let mut pending = Vec::with_capacity(batch.len());
            let mut subject = String::new();
            for (index, event) in batch.iter().enumerate() {
                if done[index] {
                    continue;
                }
                render(&subject_parts, event, &mut subject);
                let mut publish = PublishMessage::build().payload(event.body.clone());
                if with_headers && !event.headers.is_empty() {
                    let mut headers = HeaderMap::new();
                    for (name, value) in event.headers.iter() {
                        headers.insert(name, value);
                    }
                    publish = publish.headers(headers);
                }
                let ack = context
                    .send_publish(subject.clone(), publish)
                    .await
                    .map_err(|e| io::Error::other(format!("publishing to {subject}: {e}")))?;
                pending.push((index, ack));
            }
            let mut failure = None;
            for (index, ack) in pending {
                match ack.await {
                    Ok(_) => done[index] = true,
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
            match failure {
                None => Ok(()),
                Some(e) => Err(io::Error::other(format!("the stream did not acknowledge: {e}"))),
            }
        }
    }

    impl Sink for NatsSink {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            let mut done = PartlyAcked::flags_for(&mut self.acked, batch);
            let timeout = self.config.timeout;
            let result = match tokio::time::timeout(timeout, self.publish(batch, &mut done)).await {
                Ok(result) => result,
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no acknowledgement within {timeout:?}"),
                )),
            };
            if let Err(e) = result {
                let delivered = done.iter().filter(|d| **d).count();
                if delivered > 0 {
                    self.acked = Some(PartlyAcked::new(batch, done));
                }
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "{}: {delivered} of {} messages acknowledged, the rest will be sent again: {e}",
                        self.config.url,
                        batch.len()
                    ),
                ));
            }
            Ok(())
        }

        fn max_backoff(&self) -> Duration {
            self.config.retry_max_backoff
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_header_value_is_one_subject_token() {
            let mut event = Event::new("x");
            event.headers.set("app", "a.b *>c");
            let parts = sluice_core::template::parse("logs.%{app}.%{none}").unwrap();
            let mut out = String::new();
            render(&parts, &event, &mut out);
            assert_eq!(out, "logs.a_b___c.unknown");
        }
    }
}
