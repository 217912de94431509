//! `static`: sets a fixed header on every event.

use sluice_macros::Component;

/// Sets header `key` to `value` on every event.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "static")]
pub struct StaticConfig {
    /// Header name.
    pub key: String,
    /// Header value.
    pub value: String,
    /// Keep an existing value instead of overwriting it (Flume's default).
    #[param(default = "true")]
    pub preserve: bool,
}

#[cfg(feature = "transform-static")]
pub use imp::Static;

#[cfg(feature = "transform-static")]
mod imp {
    use crate::build::BuildTransform;
    use std::io;

    use super::StaticConfig;
    use crate::event::Event;
    use crate::pipeline::Transform;

    pub struct Static(StaticConfig, &'static str);

    impl BuildTransform for StaticConfig {
        type Transform = Static;

        async fn build(
            self,
            _counters: std::sync::Arc<crate::metrics::TransformCounters>,
        ) -> io::Result<Static> {
            let config = self;
            let key = crate::event::static_name(&config.key);
            Ok(Static(config, key))
        }
    }

    impl Transform for Static {
        fn apply(&self, event: &mut Event) -> bool {
            if !(self.0.preserve && event.headers.contains(self.1)) {
                event.headers.set(self.1, self.0.value.as_str());
            }
            true
        }
    }
}
