//! `kafka`: events produced to Kafka topics (Flume's Kafka sink).

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_macros::{Component, ParamEnum};

use crate::kafka::{KafkaSasl, KafkaTls};
use crate::params::{Address, PathTemplate};

/// Produces each event as a Kafka record: the body is the value, the event's headers
/// become record headers, `key` chooses the partition. A batch is committed from the
/// channel only when the brokers acknowledged every record of it (with `acks = "all"`,
/// the default, every in-sync replica has it); records the brokers did not take are
/// sent again, the acknowledged ones are not. Idempotent production is on with
/// `acks = "all"`, so librdkafka's own retries add no duplicates either.
#[derive(Clone, Debug, Component)]
#[component(role = "sink", kind = "kafka")]
pub struct KafkaSinkConfig {
    /// Brokers to bootstrap from, e.g. `["kafka-1:9092", "kafka-2:9092"]`.
    #[param(destination)]
    pub brokers: Vec<Address>,
    /// The topic, or a template choosing it per event: `"logs-%{app}"`. Characters a
    /// topic name cannot have (anything but letters, digits, `.`, `_`, `-`) in a header
    /// value become `_`; a missing header becomes `unknown`.
    pub topic: PathTemplate,
    /// The record key, a template such as `"%{host}"`: records with the same key go
    /// to the same partition, in order. Without it records are spread over partitions.
    pub key: Option<PathTemplate>,
    /// Whether the event's headers are sent as Kafka record headers.
    #[param(default = "true")]
    pub headers: bool,
    /// Which brokers must have a record before it counts as delivered: `all` (every
    /// in-sync replica; enables idempotent production), `leader`, or `none`.
    #[param(default = "\"all\"")]
    pub acks: KafkaAcks,
    /// Idempotent production (with `acks = "all"`): the brokers discard a record
    /// librdkafka sends again after a lost response, so its retries add no
    /// duplicates. Turn it off only for brokers that do not support it.
    #[param(default = "true")]
    pub idempotence: bool,
    /// Compression of record batches: `none`, `gzip`, `snappy`, `lz4` or `zstd`.
    #[param(default = "\"lz4\"")]
    pub compression: KafkaCompression,
    /// How long librdkafka waits to fill a record batch before sending it.
    #[param(default = "5ms")]
    pub linger: Duration,
    /// Events taken from the channel per transaction.
    #[param(batch, default = "1_000", min = 1)]
    pub batch_size: u64,
    /// Give up on a record the brokers have not acknowledged after this long; the
    /// batch is then retried (its acknowledged records are not sent again).
    #[param(default = "30s", min = 1)]
    pub timeout: Duration,
    /// Largest record accepted; a larger event is dropped and counted in
    /// `events_dropped_total` (it could never be delivered). Keep it at or below the
    /// brokers' `message.max.bytes`.
    #[param(default = "1MiB", min = 1024)]
    pub max_record_size: crate::params::ByteSize,
    /// Longest pause between retries of a batch.
    #[param(default = "10s", min = 1)]
    pub retry_max_backoff: Duration,
    /// Connect with TLS.
    pub tls: Option<KafkaTls>,
    /// Authenticate with SASL (PLAIN or SCRAM).
    pub sasl: Option<KafkaSasl>,
    /// librdkafka properties, applied last: `{ "queue.buffering.max.kbytes" = "65536" }`.
    pub options: Option<BTreeMap<String, String>>,
}

/// Which brokers acknowledge a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum KafkaAcks {
    All,
    Leader,
    None,
}

/// Record batch compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum KafkaCompression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

#[cfg(feature = "sink-kafka")]
pub use imp::KafkaSink;

#[cfg(feature = "sink-kafka")]
mod imp {
    use std::io;
    use std::sync::Arc;
    use std::time::Duration;

    use rdkafka::error::{KafkaError, RDKafkaErrorCode};
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use sluice_core::template::Part;

    use super::{KafkaAcks, KafkaCompression, KafkaSinkConfig};
    use crate::acked::PartlyAcked;
    use crate::build::BuildSink;
    use crate::event::Event;
    use crate::kafka::{client_config, io_error, ClientSettings};
    use crate::metrics::SinkCounters;
    use crate::pipeline::Sink;
    use crate::time::{now_millis, Utc};

    /// Produces batches with one librdkafka producer.
    pub struct KafkaSink {
        producer: FutureProducer,
        topic: Vec<Part>,
        key: Option<Vec<Part>>,
        headers: bool,
        max_record_size: usize,
        retry_max_backoff: Duration,
        /// Which records of the last take the brokers acknowledged, when not all.
        acked: Option<PartlyAcked>,
        counters: Option<Arc<SinkCounters>>,
        /// The brokers, for messages.
        brokers: String,
    }

    fn parse_template(text: &str) -> io::Result<Vec<Part>> {
        sluice_core::template::parse(text).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }

    impl BuildSink for KafkaSinkConfig {
        type Sink = KafkaSink;

        async fn build(self) -> io::Result<KafkaSink> {
            let settings = ClientSettings {
                brokers: &self.brokers,
                tls: self.tls.as_ref(),
                sasl: self.sasl.as_ref(),
                options: self.options.as_ref(),
            };
            let acks = match self.acks {
                KafkaAcks::All => "all",
                KafkaAcks::Leader => "1",
                KafkaAcks::None => "0",
            };
            let compression = match self.compression {
                KafkaCompression::None => "none",
                KafkaCompression::Gzip => "gzip",
                KafkaCompression::Snappy => "snappy",
                KafkaCompression::Lz4 => "lz4",
                KafkaCompression::Zstd => "zstd",
            };
            let extra = [
                ("acks", acks.to_owned()),
                ("enable.idempotence", (self.idempotence && self.acks == KafkaAcks::All).to_string()),
                ("compression.type", compression.to_owned()),
                ("linger.ms", self.linger.as_millis().to_string()),
                ("message.timeout.ms", self.timeout.as_millis().to_string()),
                // A topic the brokers do not have fails as "Unknown topic" within
                // `timeout`, not as a bare "Message timed out" (librdkafka waits 30 s
                // for a new topic to appear by default).
                ("topic.metadata.propagation.max.ms", self.timeout.as_millis().min(30_000).to_string()),
                // The whole record, as librdkafka counts it, must fit under this.
                ("message.max.bytes", (self.max_record_size.0 + 1024).min(1_000_000_000).to_string()),
            ];
            let producer: FutureProducer = client_config(&settings, &extra)
                .create()
                .map_err(|e| io_error("cannot create the Kafka producer", e))?;
            Ok(KafkaSink {
                producer,
                topic: parse_template(&self.topic.0)?,
                key: self.key.as_ref().map(|k| parse_template(&k.0)).transpose()?,
                headers: self.headers,
                max_record_size: usize::try_from(self.max_record_size.0).unwrap_or(usize::MAX),
                retry_max_backoff: self.retry_max_backoff,
                acked: None,
                counters: None,
                brokers: self.brokers.iter().map(|a| a.0.as_str()).collect::<Vec<_>>().join(","),
            })
        }
    }

    /// The event's time: its `timestamp` header (Unix ms) if it has one.
    fn event_millis(event: &Event) -> Option<u64> {
        event.headers.get("timestamp").and_then(|t| t.trim().parse().ok())
    }

    /// Fills a template for `event`; `clean` filters each header value.
    fn render(parts: &[Part], event: &Event, clean: fn(&str, &mut String), out: &mut String) {
        use std::fmt::Write as _;
        out.clear();
        let needs_time = parts.iter().any(|p| !matches!(p, Part::Text(_) | Part::Header(_)));
        let time = needs_time.then(|| Utc::from_millis(event_millis(event).unwrap_or_else(now_millis)));
        for part in parts {
            let _ = match (part, &time) {
                (Part::Text(t), _) => {
                    out.push_str(t);
                    Ok(())
                }
                (Part::Header(name), _) => {
                    clean(event.headers.get(name).unwrap_or("unknown"), out);
                    Ok(())
                }
                (Part::Year, Some(t)) => write!(out, "{:04}", t.year),
                (Part::Month, Some(t)) => write!(out, "{:02}", t.month),
                (Part::Day, Some(t)) => write!(out, "{:02}", t.day),
                (Part::Hour, Some(t)) => write!(out, "{:02}", t.hour),
                (Part::Minute, Some(t)) => write!(out, "{:02}", t.minute),
                (Part::Second, Some(t)) => write!(out, "{:02}", t.second),
                (_, None) => Ok(()),
            };
        }
    }

    /// A header value as part of a topic name: only the characters Kafka allows.
    fn topic_safe(value: &str, out: &mut String) {
        if value.is_empty() {
            out.push_str("unknown");
        }
        out.extend(value.chars().map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        }));
    }

    fn as_is(value: &str, out: &mut String) {
        out.push_str(value);
    }


    /// Errors after which sending the same record again cannot succeed.
    fn is_permanent(e: &KafkaError) -> bool {
        matches!(
            e.rdkafka_error_code(),
            Some(
                RDKafkaErrorCode::MessageSizeTooLarge
                    | RDKafkaErrorCode::InvalidMessageSize
                    | RDKafkaErrorCode::InvalidMessage
                    | RDKafkaErrorCode::InvalidRecord
                    | RDKafkaErrorCode::InvalidTopic
            )
        )
    }

    /// How long to wait before offering a record again to a full producer queue.
    const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(5);

    impl KafkaSink {
        fn drop_record(&self, event: &Event, why: &str) {
            tracing::error!(bytes = event.body.len(), "dropping an event the brokers can never take: {why}");
            if let Some(c) = &self.counters {
                c.events_dropped.inc();
            }
        }

    }

    impl Sink for KafkaSink {
        async fn write(&mut self, batch: &[Event]) -> io::Result<()> {
            let mut done = PartlyAcked::flags_for(&mut self.acked, batch);
            let mut pending = Vec::with_capacity(batch.len());
            let mut failure: Option<KafkaError> = None;
            let (mut topic, mut key) = (String::new(), String::new());
            for (index, event) in batch.iter().enumerate() {
                if done[index] {
                    continue;
                }
                if event.size() > self.max_record_size {
                    self.drop_record(event, "larger than max_record_size");
                    done[index] = true;
                    continue;
                }
                render(&self.topic, event, topic_safe, &mut topic);
                let mut record = FutureRecord::<str, [u8]>::to(&topic).payload(&event.body[..]);
                if let Some(parts) = &self.key {
                    render(parts, event, as_is, &mut key);
                    record = record.key(key.as_str());
                }
                if let Some(ms) = event_millis(event).and_then(|ms| i64::try_from(ms).ok()) {
                    record = record.timestamp(ms);
                }
                if self.headers && !event.headers.is_empty() {
                    let mut headers = OwnedHeaders::new_with_capacity(event.headers.len());
                    for (name, value) in event.headers.iter() {
                        headers = headers.insert(Header { key: name, value: Some(value) });
                    }
                    record = record.headers(headers);
                }
                loop {
                    match self.producer.send_result(record) {
                        Ok(delivery) => {
                            pending.push((index, delivery));
                            break;
                        }
                        Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                            record = back;
                            tokio::time::sleep(QUEUE_FULL_PAUSE).await;
                        }
                        Err((e, _)) if is_permanent(&e) => {
                            self.drop_record(event, &e.to_string());
                            done[index] = true;
                            break;
                        }
                        Err((e, _)) => {
                            failure.get_or_insert(e);
                            break;
                        }
                    }
                }
                if failure.is_some() {
                    break;
                }
            }
            for (index, delivery) in pending {
                match delivery.await {
                    Ok(Ok(_)) => done[index] = true,
                    Ok(Err((e, _))) if is_permanent(&e) => {
                        self.drop_record(&batch[index], &e.to_string());
                        done[index] = true;
                    }
                    Ok(Err((e, _))) => {
                        failure.get_or_insert(e);
                    }
                    Err(_canceled) => {
                        failure.get_or_insert(KafkaError::Canceled);
                    }
                }
            }
            match failure {
                None => Ok(()),
                Some(e) => {
                    let delivered = done.iter().filter(|d| **d).count();
                    self.acked = Some(PartlyAcked::new(batch, done));
                    Err(io::Error::other(format!(
                        "{}: {delivered} of {} records acknowledged, the rest will be sent again: {e}",
                        self.brokers,
                        batch.len()
                    )))
                }
            }
        }

        fn bind_counters(&mut self, counters: Arc<SinkCounters>) {
            self.counters = Some(counters);
        }

        fn max_backoff(&self) -> Duration {
            self.retry_max_backoff
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn topic_templates_keep_to_the_characters_kafka_allows() {
            let mut event = Event::new("x");
            event.headers.set("app", "web/../etc passwd");
            event.headers.set("timestamp", "86400000");
            let parts = parse_template("logs-%{app}-%Y%m%d").unwrap();
            let mut out = String::new();
            render(&parts, &event, topic_safe, &mut out);
            assert_eq!(out, "logs-web_.._etc_passwd-19700102");
            let parts = parse_template("%{missing}").unwrap();
            render(&parts, &event, topic_safe, &mut out);
            assert_eq!(out, "unknown");
        }
    }
}
