//! A component the agent could not name: its module is private and nothing re-exports it.

mod inner {
    use sluice_runtime::prelude::*;

    /// Hidden.
    #[derive(Clone, Debug, Component)]
    #[component(role = "sink", kind = "hidden")]
    pub struct HiddenConfig {
        /// Events per transaction.
        #[param(batch, default = "100", min = 1)]
        pub batch_size: u64,
    }
}
