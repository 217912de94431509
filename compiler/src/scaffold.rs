//! `sluice new component`: writes a working component crate from `templates/component/`
//! — a sink that prints each body as a line, a source that counts, or a transform that
//! uppercases — with a unit test on `sluice_runtime::testing` and a README.

use std::path::{Path, PathBuf};

use sluice_runtime::catalogue::{self, Role};

use sluice_declare::camel_case;

use crate::build;

/// What to create.
#[derive(Clone, Debug)]
pub struct NewComponent {
    pub role: Role,
    pub kind: String,
    /// The crate's directory; its last part names the package.
    pub dir: PathBuf,
    /// Overrides the cache the runtime sources are unpacked into (tests).
    pub cache_dir: Option<PathBuf>,
}

/// Why a crate could not be created.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("`{0}` is not a kind a flow can name: use lowercase letters, digits and `_`, starting with a letter")]
    BadKind(String),
    #[error(
        "`{kind}` is a built-in {role} kind; choose another name so a flow can tell them apart"
    )]
    BuiltIn { role: Role, kind: String },
    #[error("there is no template for a {0}: `sluice new component` makes sources, sinks and transforms (see docs/writing-a-component.md for channels)")]
    NoTemplate(Role),
    #[error("{0} already exists and is not empty; choose a new directory")]
    NotEmpty(PathBuf),
    #[error(
        "cannot name a package after {0}: give a directory whose last part has letters or digits"
    )]
    BadDir(PathBuf),
    #[error(transparent)]
    Build(#[from] build::BuildError),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Creates the crate; returns the files written, relative to its directory.
pub fn new_component(new: &NewComponent) -> Result<Vec<&'static str>, ScaffoldError> {
    let kind = new.kind.as_str();
    let is_word = kind.starts_with(|c: char| c.is_ascii_lowercase())
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !is_word {
        return Err(ScaffoldError::BadKind(kind.to_owned()));
    }
    if catalogue::find(new.role, kind).is_some() {
        return Err(ScaffoldError::BuiltIn {
            role: new.role,
            kind: kind.to_owned(),
        });
    }
    let (lib, example) = match new.role {
        Role::Sink => (
            include_str!("../../templates/component/sink.rs"),
            "source gen = seq { count = 3 }\nchannel mem = memory\nsink out = {{kind}} { prefix = \"> \" }\n\nflow gen -> mem -> out",
        ),
        Role::Source => (
            include_str!("../../templates/component/source.rs"),
            "source counter = {{kind}} { count = 5, interval = 100ms }\nchannel mem = memory\nsink out = logger\n\nflow counter -> mem -> out",
        ),
        Role::Transform => (
            include_str!("../../templates/component/transform.rs"),
            "source gen = seq { count = 3, body = \"hello\" }\ntransform up = {{kind}}\nchannel mem = memory\nsink out = logger\n\nflow gen | up -> mem -> out",
        ),
        other => return Err(ScaffoldError::NoTemplate(other)),
    };
    if std::fs::read_dir(&new.dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(ScaffoldError::NotEmpty(new.dir.clone()));
    }
    let package = package_name(&new.dir).ok_or_else(|| ScaffoldError::BadDir(new.dir.clone()))?;
    let cache = new.cache_dir.clone().unwrap_or_else(build::cache_dir);
    let runtime = build::runtime_sources(&cache)?;
    let role = new.role.to_string();
    let fill = |text: &str| {
        text.replace("{{example}}", example)
            .replace("{{package}}", &package)
            .replace("{{kind}}", kind)
            .replace("{{Type}}", &camel_case(kind))
            .replace("{{role}}", &role)
            .replace("{{Role}}", &camel_case(&role))
            .replace("{{use_path}}", &new.dir.to_string_lossy())
            .replace("{{version}}", env!("CARGO_PKG_VERSION"))
            .replace(
                "{{runtime_path}}",
                &runtime.to_string_lossy().replace('\\', "/"),
            )
    };
    let files: [(&'static str, String); 6] = [
        (
            "Cargo.toml",
            fill(include_str!("../../templates/component/Cargo.toml")),
        ),
        ("src/lib.rs", fill(lib)),
        (
            "README.md",
            fill(include_str!("../../templates/component/README.md")),
        ),
        (
            ".cargo/config.toml",
            fill(include_str!("../../templates/component/config.toml")),
        ),
        (".gitignore", "/target\n".to_owned()),
        // The versions sluice was tested with, so the crate builds offline once they
        // are downloaded and shares compiled dependencies with agents.
        ("Cargo.lock", build::lock_file().to_owned()),
    ];
    for (name, contents) in &files {
        write(&new.dir.join(name), contents)?;
    }
    Ok(files.iter().map(|(name, _)| *name).collect())
}

fn write(path: &Path, contents: &str) -> Result<(), ScaffoldError> {
    let io = |source| ScaffoldError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, contents).map_err(io)
}

/// The package name a directory gives: its last part, lowercase, other characters
/// turned into `-`.
fn package_name(dir: &Path) -> Option<String> {
    let last = dir.file_name()?.to_string_lossy().to_lowercase();
    let name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-').to_owned();
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        .then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_come_from_the_directory() {
        assert_eq!(
            package_name(Path::new("components/My Sink")).as_deref(),
            Some("my-sink")
        );
        assert_eq!(
            package_name(Path::new("x/shout_sink")).as_deref(),
            Some("shout_sink")
        );
        assert_eq!(package_name(Path::new("x/123")), None);
    }

    #[test]
    fn refuses_built_in_kinds_bad_words_and_channels() {
        let new = |role, kind: &str| NewComponent {
            role,
            kind: kind.into(),
            dir: PathBuf::from("/nonexistent/x"),
            cache_dir: None,
        };
        assert!(matches!(
            new_component(&new(Role::Sink, "logger")),
            Err(ScaffoldError::BuiltIn { .. })
        ));
        assert!(matches!(
            new_component(&new(Role::Sink, "Loud")),
            Err(ScaffoldError::BadKind(_))
        ));
        assert!(matches!(
            new_component(&new(Role::Channel, "mine")),
            Err(ScaffoldError::NoTemplate(Role::Channel))
        ));
    }
}
