//! What the `kafka` source and sink share: the client settings (brokers, TLS, SASL,
//! librdkafka options) and the conversions between events and Kafka records.
//!
//! Both are built on librdkafka (the `rdkafka` crate), the client Vector, Fluent Bit
//! and most Kafka tooling use: consumer groups with cooperative rebalancing, idempotent
//! production, every compression codec and SASL mechanism. The reasons, and what it
//! costs to build, are in `docs/runtime.md`.

use std::path::PathBuf;

use sluice_macros::{ParamEnum, Params};

/// How a client authenticates to the brokers with SASL.
#[derive(Clone, Debug, Params)]
pub struct KafkaSasl {
    /// `plain`, `scram_sha256` or `scram_sha512`. PLAIN sends the password as is:
    /// use it only together with `tls`.
    pub mechanism: SaslMechanism,
    /// The SASL user name.
    pub username: String,
    /// The SASL password (set it with `env(...)`).
    #[param(secret)]
    pub password: String,
}

/// A SASL mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ParamEnum)]
pub enum SaslMechanism {
    Plain,
    ScramSha256,
    ScramSha512,
}

/// TLS to the brokers (done by librdkafka with OpenSSL).
#[derive(Clone, Debug, Params)]
pub struct KafkaTls {
    /// PEM file of CAs to trust instead of the system's roots.
    pub ca: Option<PathBuf>,
    /// PEM certificate to present to the brokers (mutual TLS).
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert`.
    pub key: Option<PathBuf>,
    /// Accept any broker certificate. For tests only: it defeats TLS.
    #[param(default = "false")]
    pub insecure_skip_verify: bool,
}

/// The connection settings shared by the source and the sink.
#[cfg(any(feature = "source-kafka", feature = "sink-kafka"))]
pub(crate) struct ClientSettings<'a> {
    pub brokers: &'a [crate::params::Address],
    pub tls: Option<&'a KafkaTls>,
    pub sasl: Option<&'a KafkaSasl>,
    pub options: Option<&'a std::collections::BTreeMap<String, String>>,
}

#[cfg(any(feature = "source-kafka", feature = "sink-kafka"))]
impl ClientSettings<'_> {
    /// librdkafka properties for these settings, in the order they are applied; the
    /// user's `options` come last, so they override ours.
    pub fn properties(&self) -> Vec<(String, String)> {
        let mut props = Vec::new();
        let brokers: Vec<&str> = self.brokers.iter().map(|a| a.0.as_str()).collect();
        props.push(("bootstrap.servers".to_owned(), brokers.join(",")));
        let protocol = match (self.tls.is_some(), self.sasl.is_some()) {
            (false, false) => "plaintext",
            (true, false) => "ssl",
            (false, true) => "sasl_plaintext",
            (true, true) => "sasl_ssl",
        };
        props.push(("security.protocol".to_owned(), protocol.to_owned()));
        if let Some(tls) = self.tls {
            let path = |p: &PathBuf| p.to_string_lossy().into_owned();
            if let Some(ca) = &tls.ca {
                props.push(("ssl.ca.location".to_owned(), path(ca)));
            }
            if let Some(cert) = &tls.cert {
                props.push(("ssl.certificate.location".to_owned(), path(cert)));
            }
            if let Some(key) = &tls.key {
                props.push(("ssl.key.location".to_owned(), path(key)));
            }
            if tls.insecure_skip_verify {
                props.push((
                    "enable.ssl.certificate.verification".to_owned(),
                    "false".to_owned(),
                ));
                props.push((
                    "ssl.endpoint.identification.algorithm".to_owned(),
                    "none".to_owned(),
                ));
            }
        }
        if let Some(sasl) = self.sasl {
            let mechanism = match sasl.mechanism {
                SaslMechanism::Plain => "PLAIN",
                SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
                SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            };
            props.push(("sasl.mechanism".to_owned(), mechanism.to_owned()));
            props.push(("sasl.username".to_owned(), sasl.username.clone()));
            props.push(("sasl.password".to_owned(), sasl.password.clone()));
        }
        for (name, value) in self.options.into_iter().flatten() {
            props.push((name.clone(), value.clone()));
        }
        props
    }
}

#[cfg(any(feature = "source-kafka", feature = "sink-kafka"))]
pub(crate) use imp::*;

#[cfg(any(feature = "source-kafka", feature = "sink-kafka"))]
mod imp {
    use std::io;

    use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
    use rdkafka::error::KafkaError;

    use super::ClientSettings;

    /// A librdkafka client configuration: ours, then `extra` (the component's own
    /// defaults), then the user's `options`.
    pub(crate) fn client_config(
        settings: &ClientSettings<'_>,
        extra: &[(&str, String)],
    ) -> ClientConfig {
        let mut config = ClientConfig::new();
        // librdkafka's `debug` option asks for its debug logs: let them through.
        let debugging = settings.options.is_some_and(|o| o.contains_key("debug"));
        config.set_log_level(if debugging {
            RDKafkaLogLevel::Debug
        } else {
            RDKafkaLogLevel::Warning
        });
        let mut props = settings.properties();
        // The user's options (last in `props`) must win over the component's defaults.
        let user = props.split_off(props.len() - settings.options.map_or(0, |o| o.len()));
        for (name, value) in props {
            config.set(name, value);
        }
        for (name, value) in extra {
            config.set(*name, value.clone());
        }
        for (name, value) in user {
            config.set(name, value);
        }
        config
    }

    /// A librdkafka error as an I/O error of the closest kind.
    pub(crate) fn io_error(context: &str, e: KafkaError) -> io::Error {
        let kind = match &e {
            KafkaError::ClientCreation(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, format!("{context}: {e}"))
    }
}

#[cfg(all(test, any(feature = "source-kafka", feature = "sink-kafka")))]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::params::Address;

    #[test]
    fn security_protocol_follows_tls_and_sasl_and_options_come_last() {
        let brokers = [Address("a:9092".into()), Address("b:9092".into())];
        let sasl = KafkaSasl {
            mechanism: SaslMechanism::ScramSha512,
            username: "u".into(),
            password: "p".into(),
        };
        let tls = KafkaTls {
            ca: Some("/ca.pem".into()),
            cert: None,
            key: None,
            insecure_skip_verify: false,
        };
        let options = BTreeMap::from([("security.protocol".to_owned(), "ssl".to_owned())]);
        let settings = ClientSettings {
            brokers: &brokers,
            tls: Some(&tls),
            sasl: Some(&sasl),
            options: Some(&options),
        };
        let props = settings.properties();
        let get = |name: &str| {
            props
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("bootstrap.servers"), Some("a:9092,b:9092"));
        assert_eq!(get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(get("ssl.ca.location"), Some("/ca.pem"));
        // The first setting is ours, the last the user's: the last one wins.
        let protocols: Vec<_> = props
            .iter()
            .filter(|(n, _)| n == "security.protocol")
            .collect();
        assert_eq!(protocols.len(), 2);
        assert_eq!(protocols[0].1, "sasl_ssl");
        assert_eq!(get("security.protocol"), Some("ssl"));
    }
}
