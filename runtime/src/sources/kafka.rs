//! `kafka`: events consumed from Kafka topics in a consumer group (Flume's Kafka source).

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::kafka::{KafkaSasl, KafkaTls};
use crate::params::Address;

/// Consumes records from one or more topics as a member of a consumer group: the
/// brokers share the topics' partitions among the agents in the same `group`, and
/// move them when one joins or leaves. The group's offsets are committed to the
/// brokers only after the events are committed to every channel, so a crash or a
/// rebalance can deliver a record again but never lose one (at least once).
///
/// Each event's body is the record's value; its headers are the record's headers plus
/// `topic`, `partition`, `offset`, `key` (when the record has one) and `timestamp`
/// (Unix ms), as Flume's Kafka source sets them.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "kafka", replayable)]
pub struct KafkaSourceConfig {
    /// Brokers to bootstrap from, e.g. `["kafka-1:9092", "kafka-2:9092"]`.
    pub brokers: Vec<Address>,
    /// Topics to consume.
    #[param(min = 1)]
    pub topics: Vec<String>,
    /// The consumer group: agents with the same group share the partitions.
    pub group: String,
    /// A static member name for this agent in the group (Kafka's `group.instance.id`,
    /// KIP-345), unique among the group's agents, e.g. `"edge-7"`. An agent restarted
    /// after a crash then takes its partitions back at once, instead of waiting for
    /// the group to notice that its old self is gone (and, on some brokers, getting
    /// nothing).
    pub instance: Option<String>,
    /// Where a group with no committed offset starts: `earliest` (everything the
    /// topic still holds) or `latest` (only new records; Kafka's and Flume's default).
    #[param(default = "\"latest\"")]
    pub start: KafkaStart,
    /// Records put into the channels per transaction at most.
    #[param(batch, default = "1_000", min = 1)]
    pub batch_size: u64,
    /// How long a batch waits to fill up before it is put anyway.
    #[param(default = "100ms", min = 1)]
    pub batch_timeout: Duration,
    /// How long the group waits for a silent member (a crashed agent) before its
    /// partitions go to the others, or to the same agent started again. librdkafka's
    /// default is 45 s; Kafka's was 10 s before 3.0.
    #[param(default = "10s", min = 1)]
    pub session_timeout: Duration,
    /// Connect with TLS.
    pub tls: Option<KafkaTls>,
    /// Authenticate with SASL (PLAIN or SCRAM).
    pub sasl: Option<KafkaSasl>,
    /// librdkafka properties, applied last: `{ "fetch.max.bytes" = "1048576" }`.
    /// Memory is mostly librdkafka's prefetch queue, 16 MiB of records by default;
    /// `{ "queued.max.messages.kbytes" = "4096" }` trades speed for it. Peak RSS and
    /// throughput of the kafka → kafka relay in `bench/RESULTS.md`, by queue size:
    /// 16 MiB, 103 MiB at 16 MB/s; 8 MiB, 82 MiB at 13.6 MB/s; 4 MiB, 70 MiB at
    /// 11.3 MB/s; 2 MiB, 49 MiB at 5.9 MB/s.
    pub options: Option<BTreeMap<String, String>>,
}

/// Where a new consumer group starts reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum KafkaStart {
    Earliest,
    Latest,
}

#[cfg(feature = "source-kafka")]
pub use imp::KafkaSource;

#[cfg(feature = "source-kafka")]
mod imp {
    use std::collections::BTreeMap;
    use std::io;
    use std::time::Duration;

    use bytes::Bytes;
    use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
    use rdkafka::message::{BorrowedMessage, Headers, Message};
    use rdkafka::{Offset, TopicPartitionList};

    use super::{KafkaSourceConfig, KafkaStart};
    use crate::build::BuildSource;
    use crate::event::{Batch, Event};
    use crate::kafka::{client_config, io_error, ClientSettings};
    use crate::metrics::SourceCounters;
    use crate::pipeline::{Output, Source, SourceContext};

    /// A consumer subscribed to the topics.
    pub struct KafkaSource {
        consumer: StreamConsumer,
        batch_size: usize,
        batch_timeout: Duration,
        brokers: String,
    }

    impl BuildSource for KafkaSourceConfig {
        type Source = KafkaSource;

        async fn build(self) -> io::Result<KafkaSource> {
            let settings = ClientSettings {
                brokers: &self.brokers,
                tls: self.tls.as_ref(),
                sasl: self.sasl.as_ref(),
                options: self.options.as_ref(),
            };
            let start = match self.start {
                KafkaStart::Earliest => "earliest",
                KafkaStart::Latest => "latest",
            };
            let mut extra = vec![
                ("group.id", self.group.clone()),
                ("auto.offset.reset", start.to_owned()),
                // Offsets are committed by the source, after the channels commit.
                ("enable.auto.commit", "false".to_owned()),
                ("session.timeout.ms", self.session_timeout.as_millis().to_string()),
                ("enable.auto.offset.store", "false".to_owned()),
                // What librdkafka prefetches, for all partitions together: 16 MiB, not
                // its 64 MiB default, so a stalled pipeline stays small. Less costs
                // throughput (figures in the `options` doc above).
                ("queued.max.messages.kbytes", "16384".to_owned()),
            ];
            if let Some(instance) = &self.instance {
                extra.push(("group.instance.id", instance.clone()));
            }
            let consumer: StreamConsumer = client_config(&settings, &extra)
                .create()
                .map_err(|e| io_error("cannot create the Kafka consumer", e))?;
            let topics: Vec<&str> = self.topics.iter().map(String::as_str).collect();
            consumer
                .subscribe(&topics)
                .map_err(|e| io_error("cannot subscribe to the topics", e))?;
            Ok(KafkaSource {
                consumer,
                batch_size: usize::try_from(self.batch_size).unwrap_or(usize::MAX).max(1),
                batch_timeout: self.batch_timeout,
                brokers: self.brokers.iter().map(|a| a.0.as_str()).collect::<Vec<_>>().join(","),
            })
        }
    }

    /// The next offset to read in each partition a batch came from.
    type Progress = BTreeMap<(String, i32), i64>;

    /// The event for a record; counts header values that are not UTF-8 (kept, with
    /// U+FFFD for the bytes that are not).
    fn to_event(message: &BorrowedMessage<'_>, counters: &SourceCounters) -> Event {
        let mut event = Event::new(Bytes::copy_from_slice(message.payload().unwrap_or_default()));
        let headers = &mut event.headers;
        if let Some(record_headers) = message.headers() {
            headers.reserve(record_headers.count() + 5);
            for header in record_headers.iter() {
                let value = header.value.unwrap_or_default();
                let value = match std::str::from_utf8(value) {
                    Ok(v) => v.to_owned(),
                    Err(_) => {
                        counters.parse_errors.inc();
                        String::from_utf8_lossy(value).into_owned()
                    }
                };
                headers.set(header.key.to_owned(), value);
            }
        }
        headers.set("topic", message.topic().to_owned());
        headers.set("partition", message.partition().to_string());
        headers.set("offset", message.offset().to_string());
        if let Some(key) = message.key() {
            headers.set("key", String::from_utf8_lossy(key).into_owned());
        }
        if let Some(ms) = message.timestamp().to_millis() {
            headers.set("timestamp", ms.to_string());
        }
        event
    }

    impl KafkaSource {
        /// Waits for the next record; `None` on shutdown. Errors from the brokers are
        /// logged and counted: librdkafka reconnects by itself.
        async fn next(&self, ctx: &mut SourceContext, batch: &mut Batch, progress: &mut Progress) -> Option<()> {
            loop {
                let received = tokio::select! {
                    _ = ctx.shutdown.wait() => return None,
                    received = self.consumer.recv() => received,
                };
                match received {
                    Ok(message) => {
                        batch.push(to_event(&message, &ctx.counters));
                        progress.insert((message.topic().to_owned(), message.partition()), message.offset() + 1);
                        return Some(());
                    }
                    Err(e) => {
                        tracing::warn!(brokers = self.brokers, "Kafka consumer: {e}");
                        ctx.counters.parse_errors.inc();
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }

        /// Commits the group's offsets after what the channels now hold.
        fn commit(&self, progress: &Progress, mode: CommitMode) {
            let mut offsets = TopicPartitionList::with_capacity(progress.len());
            for ((topic, partition), next) in progress {
                if let Err(e) = offsets.add_partition_offset(topic, *partition, Offset::Offset(*next)) {
                    tracing::warn!("Kafka offset for {topic}/{partition}: {e}");
                }
            }
            if let Err(e) = self.consumer.commit(&offsets, mode) {
                // Not fatal: the records are in the channels; after a restart or a
                // rebalance they are read again from the last committed offset.
                tracing::warn!(brokers = self.brokers, "committing the group's offsets: {e}");
            }
        }
    }

    impl Source for KafkaSource {
        async fn run<O: Output>(self, out: O, mut ctx: SourceContext) -> io::Result<()> {
            let mut committed = Progress::new();
            loop {
                let mut batch = Batch::with_capacity(self.batch_size.min(4096));
                let mut progress = Progress::new();
                if self.next(&mut ctx, &mut batch, &mut progress).await.is_none() {
                    break;
                }
                let deadline = tokio::time::Instant::now() + self.batch_timeout;
                while batch.len() < self.batch_size {
                    match tokio::time::timeout_at(deadline, self.next(&mut ctx, &mut batch, &mut progress)).await {
                        Ok(Some(())) => {}
                        Ok(None) | Err(_) => break,
                    }
                }
                let n = batch.len() as u64;
                ctx.counters.events_received.add(n);
                if out.send(batch).await.is_err() {
                    break;
                }
                ctx.counters.events_accepted.add(n);
                self.commit(&progress, CommitMode::Async);
                committed.extend(progress);
            }
            // What was put last, committed before the consumer leaves the group.
            if !committed.is_empty() {
                self.commit(&committed, CommitMode::Sync);
            }
            Ok(())
        }
    }
}
