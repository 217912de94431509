//! A source with a parameter type sluice cannot read.

use sluice_runtime::prelude::*;

/// Listens on a port.
#[derive(Clone, Debug, Component)]
#[component(role = "source", kind = "port_source")]
pub struct PortConfig {
    /// The port.
    pub port: u16,
}
