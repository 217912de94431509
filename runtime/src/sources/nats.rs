//! `nats`: events consumed from a NATS JetStream stream through a durable consumer.

use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::tls::TlsClientConfig;

/// Pulls messages from a JetStream stream through a durable pull consumer (created on
/// first start if it does not exist). Each message is acknowledged only after its
/// event is committed to every channel: a crash redelivers what was not acknowledged,
/// nothing is lost (at least once). Several agents with the same `consumer` share the
/// stream's messages.
///
/// Each event's body is the payload; its headers are the NATS headers plus `subject`
/// and `sequence` (the message's sequence number in the stream).
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "nats", replayable)]
pub struct NatsSourceConfig {
    /// The server(s), e.g. `"nats://nats-1:4222"`; several separated by commas.
    pub url: String,
    /// The stream to consume.
    pub stream: String,
    /// The durable consumer's name; its position survives restarts of the agent.
    pub consumer: String,
    /// Only messages on this subject (wildcards allowed), when the consumer is created.
    pub subject: Option<String>,
    /// Where a new consumer starts: `earliest` (everything the stream holds) or
    /// `latest` (only new messages).
    #[param(default = "\"earliest\"")]
    pub start: NatsStart,
    /// Messages fetched and put into the channels per transaction at most.
    #[param(batch, default = "1_000", min = 1)]
    pub batch_size: u64,
    /// How long a fetch waits for messages to fill the batch.
    #[param(default = "100ms", min = 1)]
    pub batch_timeout: Duration,
    /// How long the server waits for an acknowledgement before it redelivers, when the
    /// consumer is created. While a full channel holds a batch back, the source tells
    /// the server every half `ack_wait` that it is still working on it; messages an
    /// agent fetched and then crashed with come back after `ack_wait`.
    #[param(default = "30s", min = 1)]
    pub ack_wait: Duration,
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

/// Where a new durable consumer starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum NatsStart {
    Earliest,
    Latest,
}

#[cfg(feature = "source-nats")]
pub use imp::NatsSource;

#[cfg(feature = "source-nats")]
mod imp {
    use std::io;
    use std::time::Duration;

    use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, consumer::DeliverPolicy, AckKind};
    use futures_util::StreamExt;

    use super::{NatsSourceConfig, NatsStart};
    use crate::build::BuildSource;
    use crate::event::{Batch, Event};
    use crate::metrics::SourceCounters;
    use crate::nats::connect;
    use crate::pipeline::{Output, Source, SourceContext};

    /// How long to wait before connecting again after a failure.
    const RECONNECT_PAUSE: Duration = Duration::from_secs(1);
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

    pub struct NatsSource {
        config: NatsSourceConfig,
    }

    impl BuildSource for NatsSourceConfig {
        type Source = NatsSource;

        async fn build(self) -> io::Result<NatsSource> {
            Ok(NatsSource { config: self })
        }
    }

    type Consumer = jetstream::consumer::Consumer<pull::Config>;

    impl NatsSource {
        /// Connects and finds (or creates) the durable consumer.
        async fn consumer(&self) -> io::Result<Consumer> {
            let c = &self.config;
            let client = connect(&c.url, c.token.as_deref(), c.nkey.as_deref(), c.tls.as_ref(), CONNECT_TIMEOUT).await?;
            let context = jetstream::new(client);
            let stream = context
                .get_stream(&c.stream)
                .await
                .map_err(|e| io::Error::other(format!("stream {}: {e}", c.stream)))?;
            let config = pull::Config {
                durable_name: Some(c.consumer.clone()),
                filter_subject: c.subject.clone().unwrap_or_default(),
                ack_policy: AckPolicy::Explicit,
                ack_wait: c.ack_wait,
                // Room for a crashed agent's unacknowledged fetches and the next ones:
                // the server sends nothing while this many wait for an acknowledgement.
                max_ack_pending: i64::try_from(c.batch_size.saturating_mul(10)).unwrap_or(i64::MAX),
                deliver_policy: match c.start {
                    NatsStart::Earliest => DeliverPolicy::All,
                    NatsStart::Latest => DeliverPolicy::New,
                },
                ..Default::default()
            };
            stream
                .get_or_create_consumer(&c.consumer, config)
                .await
                .map_err(|e| io::Error::other(format!("consumer {}: {e}", c.consumer)))
        }

        /// One fetch: up to `batch_size` messages, waiting at most `batch_timeout`.
        async fn fetch(&self, consumer: &Consumer, counters: &SourceCounters) -> io::Result<Vec<jetstream::Message>> {
            let max = usize::try_from(self.config.batch_size).unwrap_or(usize::MAX).max(1);
            let mut messages = consumer
                .fetch()
                .max_messages(max)
                .expires(self.config.batch_timeout)
                .messages()
                .await
                .map_err(|e| io::Error::other(format!("fetching: {e}")))?;
            let mut batch = Vec::new();
            while let Some(message) = messages.next().await {
                match message {
                    Ok(m) => batch.push(m),
                    Err(e) => {
                        counters.parse_errors.inc();
                        tracing::warn!(stream = self.config.stream, "fetching: {e}");
                        break;
                    }
                }
            }
            Ok(batch)
        }
    }

    impl NatsSource {
        /// Sends `batch`; while the channels hold it back, tells the server every half
        /// `ack_wait` that its messages are in progress, so they are not redelivered.
        async fn send_in_progress<O: Output>(
            &self,
            out: &O,
            batch: Batch,
            messages: &[jetstream::Message],
        ) -> Result<(), crate::pipeline::Closed> {
            let send = out.send(batch);
            tokio::pin!(send);
            let period = self.config.ack_wait / 2;
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                tokio::select! {
                    sent = &mut send => return sent,
                    _ = tick.tick() => {
                        for message in messages {
                            let _ = message.ack_with(AckKind::Progress).await;
                        }
                    }
                }
            }
        }
    }

    fn to_event(message: &jetstream::Message) -> Event {
        let mut event = Event::new(message.payload.clone());
        if let Some(headers) = &message.headers {
            for (name, values) in headers.iter() {
                if let Some(value) = values.first() {
                    event.headers.set(name.to_string(), value.as_str().to_owned());
                }
            }
        }
        event.headers.set("subject", message.subject.as_str().to_owned());
        if let Ok(info) = message.info() {
            event.headers.set("sequence", info.stream_sequence.to_string());
        }
        event
    }

    impl Source for NatsSource {
        async fn run<O: Output>(self, out: O, mut ctx: SourceContext) -> io::Result<()> {
            let counters = ctx.counters.clone();
            let mut consumer = None;
            while !ctx.shutdown.is_triggered() {
                let current = match &consumer {
                    Some(c) => c,
                    None => match self.consumer().await {
                        Ok(c) => consumer.insert(c),
                        Err(e) => {
                            tracing::warn!("nats: {e}; trying again in {RECONNECT_PAUSE:?}");
                            tokio::select! {
                                _ = ctx.shutdown.wait() => break,
                                _ = tokio::time::sleep(RECONNECT_PAUSE) => continue,
                            }
                        }
                    },
                };
                let messages = tokio::select! {
                    _ = ctx.shutdown.wait() => break,
                    fetched = self.fetch(current, &counters) => fetched,
                };
                let messages = match messages {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(stream = self.config.stream, "{e}");
                        tokio::time::sleep(RECONNECT_PAUSE).await;
                        continue;
                    }
                };
                if messages.is_empty() {
                    continue;
                }
                let batch: Batch = messages.iter().map(to_event).collect();
                let n = batch.len() as u64;
                ctx.counters.events_received.add(n);
                if self.send_in_progress(&out, batch, &messages).await.is_err() {
                    break;
                }
                ctx.counters.events_accepted.add(n);
                for message in &messages {
                    if let Err(e) = message.ack().await {
                        // Redelivered after ack_wait: a duplicate, never a loss.
                        tracing::warn!(stream = self.config.stream, "acknowledging: {e}");
                    }
                }
            }
            Ok(())
        }
    }
}
