//! `search_replace`: rewrites the body.

use sluice_macros::Component;

use crate::params::RegexPattern;

/// Replaces every match of `search` in the body with `replace` (`$1` refers to groups).
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "search_replace")]
pub struct SearchReplaceConfig {
    /// Pattern to find.
    pub search: RegexPattern,
    /// Replacement text; `$1`, `${name}` insert capture groups.
    pub replace: String,
}

#[cfg(feature = "transform-search-replace")]
pub use imp::SearchReplace;

#[cfg(feature = "transform-search-replace")]
mod imp {
    use crate::build::BuildTransform;
    use std::borrow::Cow;
    use std::io;
    use std::sync::Arc;

    use super::SearchReplaceConfig;
    use crate::event::Event;
    use crate::metrics::TransformCounters;
    use crate::pipeline::Transform;

    pub struct SearchReplace {
        regex: regex::bytes::Regex,
        replace: Vec<u8>,
    }

    impl BuildTransform for SearchReplaceConfig {
        type Transform = SearchReplace;

        async fn build(self, _counters: Arc<TransformCounters>) -> io::Result<SearchReplace> {
            let config = self;
            let regex = regex::bytes::Regex::new(&config.search.0)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            Ok(SearchReplace {
                regex,
                replace: config.replace.into_bytes(),
            })
        }
    }

    impl Transform for SearchReplace {
        fn apply(&self, event: &mut Event) -> bool {
            // Only allocate a new body when something matched.
            if let Cow::Owned(new) = self.regex.replace_all(&event.body, self.replace.as_slice()) {
                event.body = new.into();
            }
            true
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[tokio::test]
        async fn replaces_with_groups() {
            let config = SearchReplaceConfig {
                search: r"password=(\S+)".into(),
                replace: "password=*** (${1})".into(),
            };
            let t = config.build(Arc::default()).await.unwrap();
            let mut e = Event::new("user=a password=secret");
            t.apply(&mut e);
            assert_eq!(&e.body[..], b"user=a password=*** (secret)");
        }
    }
}
