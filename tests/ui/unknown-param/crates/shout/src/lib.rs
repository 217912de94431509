//! A sink in a submodule, with an enum and a block parameter.

pub mod sinks;

#[cfg(test)]
mod tests {
    // Not read: test modules are not part of the library.
    #[derive(Component)]
    #[component(role = "sink", kind = "test_only")]
    pub struct TestOnly {}
}
