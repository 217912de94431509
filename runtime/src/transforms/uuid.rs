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
    use crate::build::BuildTransform;
    use std::io::{self, Read};
    use std::sync::{Arc, Mutex};

    use super::UuidConfig;
    use crate::event::Event;
    use crate::metrics::TransformCounters;
    use crate::pipeline::Transform;

    /// Random (version 4) UUIDs from the kernel's generator, read 4 KiB at a time.
    pub struct Uuid {
        config: UuidConfig,
        header: &'static str,
        random: Mutex<(std::fs::File, Vec<u8>, usize)>,
    }

    impl BuildTransform for UuidConfig {
        type Transform = Uuid;

        async fn build(self, _counters: Arc<TransformCounters>) -> io::Result<Uuid> {
            let config = self;
            let file = std::fs::File::open("/dev/urandom")?;
            Ok(Uuid {
                header: crate::event::static_name(&config.header),
                config,
                random: Mutex::new((file, vec![0; 4096], 4096)),
            })
        }
    }

    impl Uuid {
        fn next(&self) -> String {
            let mut guard = self.random.lock().unwrap_or_else(|p| p.into_inner());
            let (file, buf, used) = &mut *guard;
            if *used + 16 > buf.len() {
                if file.read_exact(buf).is_err() {
                    // /dev/urandom does not fail in practice; fall back to the clock.
                    let t = crate::time::now_millis().to_le_bytes();
                    for (i, b) in buf.iter_mut().enumerate() {
                        *b = t[i % 8] ^ (i as u8).wrapping_mul(151);
                    }
                }
                *used = 0;
            }
            let mut b = [0u8; 16];
            b.copy_from_slice(&buf[*used..*used + 16]);
            *used += 16;
            b[6] = (b[6] & 0x0f) | 0x40; // version 4
            b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            )
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
