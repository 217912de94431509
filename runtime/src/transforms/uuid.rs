//! `uuid`: gives each event a unique id.

use sluice_macros::Component;

/// Sets a header to a random UUID (v4), for de-duplication downstream.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "uuid")]
pub struct UuidConfig {
    /// Header to set.
    #[param(default = "\"id\"")]
    pub header: String,
    /// Keep an existing value instead of overwriting it.
    #[param(default = "true")]
    pub preserve: bool,
}

#[cfg(feature = "transform-uuid")]
pub use imp::Uuid;

#[cfg(feature = "transform-uuid")]
mod imp {
    use std::io;
    use std::sync::Arc;

    use super::UuidConfig;
    use crate::build::BuildTransform;
    use crate::event::Event;
    use crate::metrics::TransformCounters;
    use crate::pipeline::Transform;

    /// Random (version 4) UUIDs from the `uuid` crate, which asks the kernel with the
    /// `getrandom` system call: no file to read on the event path.
    pub struct Uuid {
        config: UuidConfig,
        header: &'static str,
    }

    impl BuildTransform for UuidConfig {
        type Transform = Uuid;

        async fn build(self, _counters: Arc<TransformCounters>) -> io::Result<Uuid> {
            Ok(Uuid {
                header: crate::event::static_name(&self.header),
                config: self,
            })
        }
    }

    impl Uuid {
        fn next(&self) -> String {
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer())
                .to_owned()
        }
    }

    impl Transform for Uuid {
        fn apply(&self, event: &mut Event) -> bool {
            if !(self.config.preserve && event.headers.contains(self.header)) {
                event.headers.set(self.header, self.next());
            }
            true
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[tokio::test]
        async fn version_4_and_unique() {
            let config = UuidConfig {
                header: "id".into(),
                preserve: true,
            };
            let t = config.build(Arc::default()).await.unwrap();
            let mut seen = std::collections::HashSet::new();
            for _ in 0..1000 {
                let mut e = Event::new("x");
                t.apply(&mut e);
                let id = e.headers.get("id").unwrap().to_owned();
                assert_eq!(id.len(), 36);
                assert_eq!(&id[14..15], "4");
                assert!(seen.insert(id));
            }
            let mut kept = Event::new("x");
            kept.headers.set("id", "given");
            t.apply(&mut kept);
            assert_eq!(kept.headers.get("id"), Some("given"));
        }
    }
}
