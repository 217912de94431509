//! `remove_header`: drops headers by name or pattern.

use sluice_macros::Component;

use crate::params::RegexPattern;

/// Removes the header `name`, and every header whose name matches `regex`.
#[derive(Clone, Debug, Component)]
#[component(
    role = "transform",
    kind = "remove_header",
    requires_one_of = "name, regex"
)]
pub struct RemoveHeaderConfig {
    /// Exact header name to remove.
    pub name: Option<String>,
    /// Remove every header whose name matches.
    pub regex: Option<RegexPattern>,
}

#[cfg(feature = "transform-remove-header")]
pub use imp::RemoveHeader;

#[cfg(feature = "transform-remove-header")]
mod imp {
    use crate::build::BuildTransform;
    use std::io;
    use std::sync::Arc;

    use super::RemoveHeaderConfig;
    use crate::event::Event;
    use crate::metrics::TransformCounters;
    use crate::pipeline::Transform;

    pub struct RemoveHeader {
        name: Option<String>,
        regex: Option<regex::Regex>,
    }

    impl BuildTransform for RemoveHeaderConfig {
        type Transform = RemoveHeader;

        async fn build(self, _counters: Arc<TransformCounters>) -> io::Result<RemoveHeader> {
            let config = self;
            let regex = match config.regex {
                Some(r) => Some(
                    regex::Regex::new(&r.0)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
                ),
                None => None,
            };
            Ok(RemoveHeader {
                name: config.name,
                regex,
            })
        }
    }

    impl Transform for RemoveHeader {
        fn apply(&self, event: &mut Event) -> bool {
            if let Some(name) = &self.name {
                event.headers.remove(name);
            }
            if let Some(re) = &self.regex {
                event.headers.retain(|k, _| !re.is_match(k));
            }
            true
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[tokio::test]
        async fn removes_by_name_and_pattern() {
            let config = RemoveHeaderConfig {
                name: Some("a".into()),
                regex: Some("^x-".into()),
            };
            let t = config.build(Arc::default()).await.unwrap();
            let mut e = Event::new("");
            for k in ["a", "b", "x-one", "x-two"] {
                e.headers.set(k, "v");
            }
            t.apply(&mut e);
            assert_eq!(e.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["b"]);
        }
    }
}
