//! `json_extract`: copies fields of a JSON body into headers.

use std::collections::BTreeMap;

use sluice_macros::Component;

/// Parses the body as JSON and sets headers from JSON pointers. Bodies that are not JSON
/// pass unchanged and are counted as parse errors.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "json_extract")]
pub struct JsonExtractConfig {
    /// Header name → JSON pointer, e.g. `{ user = "/user/id", status = "/status" }`.
    pub fields: BTreeMap<String, String>,
}

#[cfg(feature = "transform-json-extract")]
pub use imp::JsonExtract;

#[cfg(feature = "transform-json-extract")]
mod imp {
    use crate::build::BuildTransform;
    use std::io;
    use std::sync::Arc;

    use super::JsonExtractConfig;
    use crate::event::Event;
    use crate::metrics::TransformCounters;
    use crate::pipeline::Transform;

    pub struct JsonExtract {
        fields: Vec<(&'static str, String)>,
        counters: Arc<TransformCounters>,
    }

    impl BuildTransform for JsonExtractConfig {
        type Transform = JsonExtract;

        async fn build(self, counters: Arc<TransformCounters>) -> io::Result<JsonExtract> {
            let config = self;
            Ok(JsonExtract {
                fields: config
                    .fields
                    .into_iter()
                    .map(|(header, pointer)| (crate::event::static_name(&header), pointer))
                    .collect(),
                counters,
            })
        }
    }

    impl Transform for JsonExtract {
        fn apply(&self, event: &mut Event) -> bool {
            let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&event.body) else {
                self.counters.parse_errors.inc();
                return true;
            };
            for (header, pointer) in &self.fields {
                let value = match doc.pointer(pointer) {
                    None | Some(serde_json::Value::Null) => continue,
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                event.headers.set(*header, value);
            }
            true
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[tokio::test]
        async fn copies_pointed_fields() {
            let fields = [
                ("status".to_owned(), "/http/status".to_owned()),
                ("user".to_owned(), "/user".to_owned()),
            ];
            let t = JsonExtractConfig {
                fields: fields.into_iter().collect(),
            }
            .build(Arc::default())
            .await
            .unwrap();
            let mut e = Event::new(r#"{"http":{"status":503},"user":"ann"}"#);
            t.apply(&mut e);
            assert_eq!(e.headers.get("status"), Some("503"));
            assert_eq!(e.headers.get("user"), Some("ann"));
            let mut bad = Event::new("not json");
            assert!(t.apply(&mut bad));
            assert_eq!(t.counters.parse_errors.get(), 1);
        }
    }
}
