//! `host`: stamps events with the agent's host name or address.

use sluice_macros::Component;

/// Sets a header to this machine's host name (or IP address).
#[derive(Clone, Debug, Component)]
#[component(role = "transform", kind = "host")]
pub struct HostConfig {
    /// Header to set.
    #[param(default = "\"host\"")]
    pub header: String,
    /// Use the IP address instead of the host name.
    #[param(default = "false")]
    pub use_ip: bool,
    /// Keep an existing value instead of overwriting it.
    #[param(default = "false")]
    pub preserve: bool,
}

#[cfg(feature = "transform-host")]
pub use imp::Host;

#[cfg(feature = "transform-host")]
mod imp {
    use crate::build::BuildTransform;
    use std::io;

    use super::HostConfig;
    use crate::event::Event;
    use crate::pipeline::Transform;

    /// Looked up once at start.
    pub struct Host {
        config: HostConfig,
        header: &'static str,
        value: String,
    }

    impl BuildTransform for HostConfig {
        type Transform = Host;

        async fn build(
            self,
            _counters: std::sync::Arc<crate::metrics::TransformCounters>,
        ) -> io::Result<Host> {
            let config = self;
            let name = crate::time::hostname();
            let value = if config.use_ip {
                // The address this host would use to reach the network; no packet is sent.
                let socket = std::net::UdpSocket::bind("0.0.0.0:0")?;
                match socket
                    .connect("192.0.2.1:9")
                    .and_then(|_| socket.local_addr())
                {
                    Ok(addr) => addr.ip().to_string(),
                    Err(_) => "127.0.0.1".to_owned(),
                }
            } else {
                name
            };
            let header = crate::event::static_name(&config.header);
            Ok(Host {
                config,
                header,
                value,
            })
        }
    }

    impl Transform for Host {
        fn apply(&self, event: &mut Event) -> bool {
            if !(self.config.preserve && event.headers.contains(self.header)) {
                event.headers.set(self.header, self.value.as_str());
            }
            true
        }
    }
}
