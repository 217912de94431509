//! `regex_filter`: keeps or drops events by matching the body.

use sluice_macros::Component;

use crate::params::RegexPattern;

/// Keeps only events whose body matches `regex` (or, with `exclude`, drops them).
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "regex_filter")]
pub struct RegexFilterConfig {
    /// Pattern searched for in the body.
    pub regex: RegexPattern,
    /// Drop matching events instead of keeping them.
    #[param(default = "false")]
    pub exclude: bool,
}

#[cfg(feature = "transform-regex-filter")]
pub use imp::RegexFilter;

#[cfg(feature = "transform-regex-filter")]
mod imp {
    use crate::build::BuildTransform;
    use std::io;
    use std::sync::Arc;

    use super::RegexFilterConfig;
    use crate::event::Event;
    use crate::metrics::TransformCounters;
    use crate::pipeline::Transform;

    /// Matches the body as bytes: no UTF-8 conversion per event.
    pub struct RegexFilter {
        regex: regex::bytes::Regex,
        exclude: bool,
        counters: Arc<TransformCounters>,
    }

    impl BuildTransform for RegexFilterConfig {
        type Transform = RegexFilter;

        async fn build(self, counters: Arc<TransformCounters>) -> io::Result<RegexFilter> {
            let config = self;
            let regex = regex::bytes::Regex::new(&config.regex.0)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            Ok(RegexFilter {
                regex,
                exclude: config.exclude,
                counters,
            })
        }
    }

    impl Transform for RegexFilter {
        fn apply(&self, event: &mut Event) -> bool {
            let keep = self.regex.is_match(&event.body) != self.exclude;
            if !keep {
                self.counters.dropped.inc();
            }
            keep
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[tokio::test]
        async fn keeps_or_excludes_matches() {
            let keep = RegexFilterConfig {
                regex: "^ERR".into(),
                exclude: false,
            }
            .build(Arc::default())
            .await
            .unwrap();
            let drop = RegexFilterConfig {
                regex: "^ERR".into(),
                exclude: true,
            }
            .build(Arc::default())
            .await
            .unwrap();
            assert!(keep.apply(&mut Event::new("ERR x")));
            assert!(!keep.apply(&mut Event::new("ok")));
            assert!(!drop.apply(&mut Event::new("ERR x")));
            assert_eq!(keep.counters.dropped.get(), 1);
        }
    }
}
