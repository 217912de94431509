//! `timestamp`: stamps events with the time they were received.

use sluice_macros::Component;

/// Sets a header to the current time in milliseconds since the Unix epoch.
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "timestamp")]
pub struct TimestampConfig {
    /// Header to set.
    #[param(default = "\"timestamp\"")]
    pub header: String,
    /// Keep an existing value instead of overwriting it.
    #[param(default = "false")]
    pub preserve: bool,
}

#[cfg(feature = "transform-timestamp")]
pub use imp::Timestamp;

#[cfg(feature = "transform-timestamp")]
mod imp {
    use crate::build::BuildTransform;
    use std::io;

    use super::TimestampConfig;
    use crate::event::Event;
    use crate::pipeline::Transform;

    pub struct Timestamp(TimestampConfig, &'static str);

    impl BuildTransform for TimestampConfig {
        type Transform = Timestamp;

        async fn build(
            self,
            _counters: std::sync::Arc<crate::metrics::TransformCounters>,
        ) -> io::Result<Timestamp> {
            let config = self;
            let header = crate::event::static_name(&config.header);
            Ok(Timestamp(config, header))
        }
    }

    impl Transform for Timestamp {
        fn apply(&self, event: &mut Event) -> bool {
            if !(self.0.preserve && event.headers.contains(self.1)) {
                event
                    .headers
                    .set(self.1, crate::time::now_millis().to_string());
            }
            true
        }
    }
}
