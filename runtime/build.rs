//! Records which cargo features this build of the runtime has, for
//! [`features_enabled`](src/catalogue.rs): `flow!` checks at compile time that a program
//! enabled the feature of every component its flow uses, with a message saying which.

fn main() {
    let mut enabled: Vec<String> = std::env::vars()
        .filter_map(|(key, _)| {
            key.strip_prefix("CARGO_FEATURE_")
                .map(|f| f.to_lowercase().replace('_', "-"))
        })
        .collect();
    enabled.sort();
    let list: Vec<String> = enabled.iter().map(|f| format!("{f:?}")).collect();
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("features.rs"), format!("&[{}]", list.join(", ")))
        .expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=build.rs");
}
