//! Embeds the sources of `sluice-core`, `sluice-declare`, `sluice-runtime` and `sluice-macros`, the workspace manifest and
//! `Cargo.lock` into the `sluice` binary, so an installed `sluice` can build agents from
//! any directory (see `src/build.rs`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "pest")
            || path.file_name().is_some_and(|n| n == "Cargo.toml")
        {
            out.push(path);
        }
    }
}

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest
        .parent()
        .expect("compiler/ is inside the workspace")
        .to_path_buf();
    let mut files = Vec::new();
    for krate in ["core", "declare", "runtime", "macros"] {
        collect(&workspace.join(krate), &mut files);
        println!("cargo:rerun-if-changed={}", workspace.join(krate).display());
    }
    files.push(workspace.join("Cargo.toml"));
    files.push(workspace.join("Cargo.lock"));
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.toml").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );
    let mut code = String::from("/// Runtime sources embedded at build time: (path in the workspace, contents).\npub const FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        let rel = f
            .strip_prefix(&workspace)
            .expect("inside the workspace")
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            f.display().to_string()
        );
    }
    code.push_str("];\n");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
