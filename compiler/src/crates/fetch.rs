//! Finds the sources of a crate named like a Cargo dependency (`{ version = "0.3" }`,
//! `{ git = "..." }`): cargo resolves and downloads it for a probe crate that depends on
//! it, and `cargo metadata` says where its manifest is.

use std::path::PathBuf;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::build;

/// Where cargo put a dependency, and what exactly it resolved.
pub struct Located {
    pub dir: PathBuf,
    /// The version chosen (`0.3.4`).
    pub version: String,
    /// The commit, for a git dependency.
    pub commit: Option<String>,
}

/// The directory of the crate `name` as the dependency `dependency` (a TOML inline
/// table) names it, downloaded by cargo if needed.
pub fn locate(name: &str, dependency: &str) -> Result<Located, String> {
    let cache = build::cache_dir();
    let runtime = build::runtime_sources(&cache).map_err(|e| e.to_string())?;
    let hash: String = Sha256::digest(format!("{name}={dependency}").as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let probe = cache.join("use").join(hash);
    let manifest = format!(
        "[package]\nname = \"sluice-use-probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\n{name} = {dependency}\n\n\
         # Component crates depend on `sluice-runtime`: this sluice's own copy.\n\
         [patch.crates-io]\nsluice-runtime = {{ path = \"{}\" }}\n\n[workspace]\n",
        runtime.to_string_lossy().replace('\\', "/")
    );
    let io =
        |e: std::io::Error| format!("cannot write the probe crate in {}: {e}", probe.display());
    std::fs::create_dir_all(probe.join("src")).map_err(io)?;
    std::fs::write(probe.join("Cargo.toml"), manifest).map_err(io)?;
    std::fs::write(probe.join("src/lib.rs"), "").map_err(io)?;
    // The versions sluice was tested with: resolving needs no index update for them.
    if !probe.join("Cargo.lock").exists() {
        std::fs::write(probe.join("Cargo.lock"), build::lock_file()).map_err(io)?;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(probe.join("Cargo.toml"))
        .output()
        .map_err(|e| format!("cannot run cargo ({cargo}): {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("cargo says: {}", stderr.trim()));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cannot read cargo's metadata: {e}"))?;
    // The dependency's package: the one the probe's `resolve` node depends on as `name`.
    let package_id = metadata["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|node| {
            node["id"]
                .as_str()
                .is_some_and(|id| id.contains("sluice-use-probe"))
        })
        .flat_map(|node| node["deps"].as_array().into_iter().flatten())
        .find(|dep| dep["name"].as_str() == Some(&name.replace('-', "_")))
        .and_then(|dep| dep["pkg"].as_str())
        .ok_or_else(|| format!("cargo resolved no package for `{name}`"))?;
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["id"].as_str() == Some(package_id))
        .ok_or_else(|| format!("cargo's metadata has no package `{name}`"))?;
    let dir = package["manifest_path"]
        .as_str()
        .and_then(|m| PathBuf::from(m).parent().map(PathBuf::from))
        .ok_or_else(|| format!("cargo's metadata has no manifest for `{name}`"))?;
    // `git+https://host/repo?tag=v1#0123abcd`: the commit follows `#`.
    let commit = package["source"]
        .as_str()
        .filter(|s| s.starts_with("git+"))
        .and_then(|s| s.rsplit_once('#'))
        .map(|(_, commit)| commit.to_owned());
    Ok(Located {
        dir,
        version: package["version"].as_str().unwrap_or_default().to_owned(),
        commit,
    })
}
