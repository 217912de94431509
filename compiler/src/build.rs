//! The cargo driver behind `sluice build` and `sluice run`.
//!
//! Where things go:
//! - runtime sources: embedded in `sluice` and written once per content hash to
//!   `$CACHE/src-<hash>/` (so an installed `sluice` needs nothing else on disk);
//! - the generated crate: `--emit-crate DIR`, else `$CACHE/agents/<name>/`;
//! - compiled code: one shared target directory, `$SLUICE_TARGET_DIR` or `$CACHE/target`,
//!   so a second build only recompiles the generated crate.
//!
//! `$CACHE` is `$SLUICE_CACHE_DIR`, else `$XDG_CACHE_HOME/sluice`, else `~/.cache/sluice`.
//! The crate gets a copy of this workspace's `Cargo.lock`, so dependency versions are
//! the ones sluice was tested with, and builds work offline once they are downloaded.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::codegen::Generated;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// What can go wrong building an agent.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run cargo ({cargo}): {source}; sluice needs a Rust toolchain to build agents")]
    NoCargo {
        cargo: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "internal compiler error: the generated crate at {crate_dir} does not compile.\n\
         This is a bug in sluice; please report it with the flow file.\n\n{output}"
    )]
    GeneratedCode { crate_dir: PathBuf, output: String },
    #[error(
        "component crate `{name}` ({dependency}) does not compile; fix it and build again \
         (`cargo test` in its directory shows the same errors):\n\n{output}"
    )]
    ComponentCrate {
        name: String,
        dependency: String,
        output: String,
    },
    #[error(
        "the agent does not compile against the component crates it uses ({crates}): a used \
         kind's config struct or its Build* implementation does not match what sluice read \
         from its declaration (generated crate at {crate_dir}). rustc says:\n\n{output}"
    )]
    ComponentMismatch {
        crates: String,
        crate_dir: PathBuf,
        output: String,
    },
    #[error("cargo failed building the agent (crate at {crate_dir}):\n{output}")]
    Cargo { crate_dir: PathBuf, output: String },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BuildError {
    let context = context.into();
    move |source| BuildError::Io { context, source }
}

/// Options of `sluice build`.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// Where to put the binary; default `./<agent name>`.
    pub out: Option<PathBuf>,
    /// Where to write the generated crate; default in the cache.
    pub emit_crate: Option<PathBuf>,
    /// Build without optimisations (faster to compile).
    pub debug: bool,
    /// Show progress on stderr.
    pub progress: bool,
    /// Overrides [`cache_dir`] (tests use it to stay inside the workspace).
    pub cache_dir: Option<PathBuf>,
    /// Overrides [`target_dir`].
    pub target_dir: Option<PathBuf>,
}

/// `path` made absolute against the working directory: the generated crate refers to
/// the runtime by path from its own directory, so a relative setting would point
/// nowhere.
fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

/// The value of environment variable `name`, unless it is unset or empty.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

pub fn cache_dir() -> PathBuf {
    if let Some(dir) = env_path("SLUICE_CACHE_DIR") {
        return absolute(dir);
    }
    if let Some(dir) = env_path("XDG_CACHE_HOME") {
        return absolute(dir.join("sluice"));
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache").join("sluice"),
        None => std::env::temp_dir().join("sluice-cache"),
    }
}

pub fn target_dir() -> PathBuf {
    env_path("SLUICE_TARGET_DIR").map_or_else(|| cache_dir().join("target"), absolute)
}

/// Writes `contents` to `path` unless it already holds exactly that (keeps mtimes, so
/// cargo does not rebuild what did not change).
fn write_if_changed(path: &Path, contents: &str) -> Result<(), BuildError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(io(format!("cannot create {}", parent.display())))?;
    }
    std::fs::write(path, contents).map_err(io(format!("cannot write {}", path.display())))
}

/// The directory holding the embedded runtime sources, extracted if needed. Returns the
/// path of `runtime/` inside it.
pub fn runtime_sources(cache: &Path) -> Result<PathBuf, BuildError> {
    let mut hasher = Sha256::new();
    for (path, contents) in embedded::FILES {
        hasher.update(path.as_bytes());
        hasher.update(contents.as_bytes());
    }
    let hash: String = hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let root = cache.join(format!("src-{hash}"));
    let done = root.join(".complete");
    if !done.exists() {
        for (path, contents) in embedded::FILES {
            let contents = if *path == "Cargo.toml" {
                standalone_workspace(contents)
            } else {
                (*contents).to_owned()
            };
            write_if_changed(&root.join(path), &contents)?;
        }
        write_if_changed(&done, "")?;
    }
    Ok(root.join("runtime"))
}

/// The workspace manifest, reduced to the crates that are extracted (core, declare, runtime, macros).
fn standalone_workspace(manifest: &str) -> String {
    manifest
        .lines()
        .filter(|l| {
            !l.starts_with("sluice-dsl")
                && !l.starts_with("sluice-compiler")
                && !l.starts_with("default-members")
        })
        .map(|l| {
            if l.starts_with("members") {
                "members = [\"core\", \"declare\", \"runtime\", \"macros\"]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The `Cargo.lock` sluice was built and tested with.
pub fn lock_file() -> &'static str {
    embedded::FILES
        .iter()
        .find(|(p, _)| *p == "Cargo.lock")
        .map_or("", |(_, c)| c)
}

/// Writes the generated crate (`Cargo.toml`, `src/main.rs`, `Cargo.lock`) where
/// `options` say, with the runtime sources it depends on; returns its directory.
pub fn write_crate(
    generated: &Generated,
    flow_file: &str,
    options: &BuildOptions,
) -> Result<PathBuf, BuildError> {
    let cache = options.cache_dir.clone().unwrap_or_else(cache_dir);
    let runtime = runtime_sources(&cache)?;
    let crate_dir = options
        .emit_crate
        .clone()
        .unwrap_or_else(|| cache.join("agents").join(&generated.crate_name));
    write_if_changed(
        &crate_dir.join("Cargo.toml"),
        &generated.cargo_toml(flow_file, &runtime.to_string_lossy()),
    )?;
    write_if_changed(&crate_dir.join("src/main.rs"), &generated.main_rs)?;
    if !crate_dir.join("Cargo.lock").exists() {
        write_if_changed(&crate_dir.join("Cargo.lock"), lock_file())?;
    }
    Ok(crate_dir)
}

/// Writes the crate and compiles it; returns the path of the built binary (inside the
/// target directory).
pub fn build_crate(
    generated: &Generated,
    flow_file: &str,
    options: &BuildOptions,
) -> Result<PathBuf, BuildError> {
    let crate_dir = write_crate(generated, flow_file, options)?;
    let target = options.target_dir.clone().unwrap_or_else(target_dir);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(&cargo);
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !options.debug {
        cmd.arg("--release");
    }
    let mut child = cmd.spawn().map_err(|source| BuildError::NoCargo {
        cargo: cargo.clone(),
        source,
    })?;
    let progress = options.progress.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {elapsed:>4} building agent `{prefix}`: {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_prefix(generated.agent_name.clone());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    // Cargo's human messages (warnings, errors) arrive on stderr; keep them for reports.
    let stderr = child.stderr.take().expect("piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let mut compiled = 0usize;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("\"reason\":\"compiler-artifact\"") {
                compiled += 1;
                if let Some(bar) = &progress {
                    let name = line
                        .split("\"name\":\"")
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                        .unwrap_or("");
                    bar.set_message(format!("{compiled} crates, last {name}"));
                }
            }
        }
    }
    let status = child.wait().map_err(io("waiting for cargo"))?;
    let output = stderr_reader.join().unwrap_or_default();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if !status.success() {
        // Cargo's own summary names each package that failed: "could not compile `NAME`".
        let failed: Vec<&str> = output
            .lines()
            .filter_map(|l| l.split("could not compile `").nth(1))
            .filter_map(|rest| rest.split('`').next())
            .collect();
        let component = generated
            .crates
            .iter()
            .find(|c| failed.iter().any(|f| *f == c.package));
        let output = without_progress(&output);
        return Err(if let Some(component) = component {
            BuildError::ComponentCrate {
                name: component.name.clone(),
                dependency: component.value.clone(),
                output,
            }
        } else if failed.iter().any(|f| *f == generated.crate_name) {
            if generated.crates.is_empty() {
                BuildError::GeneratedCode { crate_dir, output }
            } else {
                let names: Vec<&str> = generated.crates.iter().map(|c| c.name.as_str()).collect();
                BuildError::ComponentMismatch {
                    crates: names.join(", "),
                    crate_dir,
                    output,
                }
            }
        } else {
            BuildError::Cargo { crate_dir, output }
        });
    }
    let profile = if options.debug { "debug" } else { "release" };
    Ok(target.join(profile).join(&generated.crate_name))
}

/// Cargo's output without its progress lines (`Compiling`, `Updating`, ...), which
/// bury rustc's messages.
fn without_progress(output: &str) -> String {
    const PROGRESS: [&str; 8] = [
        "Compiling ",
        "Updating ",
        "Locking ",
        "Adding ",
        "Downloading ",
        "Downloaded ",
        "Blocking ",
        "Checking ",
    ];
    output
        .lines()
        .filter(|l| !PROGRESS.iter().any(|p| l.trim_start().starts_with(p)))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Copies the built binary to its destination.
pub fn install(binary: &Path, dest: &Path) -> Result<(), BuildError> {
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(io(format!("cannot create {}", parent.display())))?;
    }
    // Copy to a temporary name and rename, so a running agent's binary is not overwritten.
    let tmp = dest.with_extension("sluice-tmp");
    std::fs::copy(binary, &tmp)
        .map_err(io(format!("cannot copy the agent to {}", tmp.display())))?;
    std::fs::rename(&tmp, dest).map_err(io(format!("cannot move the agent to {}", dest.display())))
}
