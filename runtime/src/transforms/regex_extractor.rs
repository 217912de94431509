//! `regex_extractor`: copies parts of the body into headers.

use sluice_macros::Component;

use crate::params::RegexPattern;

/// Matches the body against `regex` and sets one header per capture group, named by
/// `names` in order. Events that do not match pass unchanged (and are counted).
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "regex_extractor")]
pub struct RegexExtractorConfig {
    /// Pattern with one capture group per name.
    pub regex: RegexPattern,
    /// Header names for the capture groups, in order.
    #[param(groups_of = "regex")]
    pub names: Vec<String>,
}

#[cfg(feature = "transform-regex-extractor")]
pub use imp::RegexExtractor;

#[cfg(feature = "transform-regex-extractor")]
mod imp {
    use crate::build::BuildTransform;
    use std::io;
    use std::sync::Arc;

    use super::RegexExtractorConfig;
    use crate::event::{Event, HeaderValue};
    use crate::metrics::TransformCounters;
    use crate::pipeline::Transform;

    pub struct RegexExtractor {
        regex: regex::bytes::Regex,
        names: Vec<&'static str>,
        counters: Arc<TransformCounters>,
    }

    impl BuildTransform for RegexExtractorConfig {
        type Transform = RegexExtractor;

        async fn build(self, counters: Arc<TransformCounters>) -> io::Result<RegexExtractor> {
            let config = self;
            let regex = regex::bytes::Regex::new(&config.regex.0)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            Ok(RegexExtractor {
                regex,
                names: config
                    .names
                    .iter()
                    .map(|n| crate::event::static_name(n))
                    .collect(),
                counters,
            })
        }
    }

    impl Transform for RegexExtractor {
        fn apply(&self, event: &mut Event) -> bool {
            let Some(caps) = self.regex.captures(&event.body) else {
                self.counters.parse_errors.inc();
                return true;
            };
            // `caps` borrows the body; the headers are a separate field.
            event.headers.reserve(self.names.len());
            for (i, name) in (1..caps.len()).zip(&self.names) {
                if let Some(m) = caps.get(i) {
                    // Short values are stored inline: no allocation. (Not
                    // `HeaderValue::from_utf8_lossy`: it builds the value char by char,
                    // and cost a quarter of this benchmark's time.)
                    let value = match std::str::from_utf8(m.as_bytes()) {
                        Ok(text) => HeaderValue::new(text),
                        Err(_) => HeaderValue::from(String::from_utf8_lossy(m.as_bytes())),
                    };
                    event.headers.set(*name, value);
                }
            }
            true
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[tokio::test]
        async fn sets_one_header_per_group() {
            let config = RegexExtractorConfig {
                regex: r"^(\S+) (\d+)".into(),
                names: vec!["method".into(), "status".into()],
            };
            let t = config.build(Arc::default()).await.unwrap();
            let mut e = Event::new("GET 404 /x");
            t.apply(&mut e);
            assert_eq!(e.headers.get("method"), Some("GET"));
            assert_eq!(e.headers.get("status"), Some("404"));
            let mut miss = Event::new("nope");
            assert!(t.apply(&mut miss));
            assert_eq!(t.counters.parse_errors.get(), 1);
        }
    }
}
