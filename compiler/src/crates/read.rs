//! Reads a component crate's sources with `syn`, without compiling them: its package
//! name from `Cargo.toml`, then every module reachable from `src/lib.rs`, collecting the
//! structs that derive `Component` or `Params` and the enums that derive `ParamEnum`.

use std::path::{Path, PathBuf};

use sluice_declare as declare;
use syn::DeriveInput;

/// A problem reading a crate, with the file and line it is at when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub message: String,
    /// `src/lib.rs:12:5`, relative to the crate.
    pub location: Option<String>,
}

impl ReadError {
    fn new(message: impl Into<String>) -> Self {
        ReadError {
            message: message.into(),
            location: None,
        }
    }

    fn at(path: &Path, root: &Path, error: &syn::Error) -> Self {
        let start = error.span().start();
        let file = path.strip_prefix(root).unwrap_or(path).display();
        ReadError {
            message: error.to_string(),
            location: Some(format!("{file}:{}:{}", start.line, start.column + 1)),
        }
    }
}

/// A declaration found in the crate, with the Rust path of its type.
pub struct Found {
    /// `shout::sinks::ShoutConfig`.
    pub rust_path: String,
    pub item: DeriveInput,
    /// The file it is in, and the crate root, for error locations.
    pub file: PathBuf,
}

/// What a crate declares.
#[derive(Default)]
pub struct Declarations {
    pub components: Vec<Found>,
    pub records: Vec<Found>,
    pub enums: Vec<Found>,
}

/// The `[package] name` and the library's root file of the crate at `dir`.
pub fn manifest(dir: &Path) -> Result<(String, PathBuf), ReadError> {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ReadError::new(format!("cannot read Cargo.toml: {e}")))?;
    let mut section = String::new();
    let (mut name, mut lib_path) = (None, None);
    for line in text.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            section = header.trim_end_matches(']').trim().to_owned();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_owned();
        match (section.as_str(), key.trim()) {
            ("package", "name") => name = Some(value),
            ("lib", "path") => lib_path = Some(value),
            _ => {}
        }
    }
    let name = name.ok_or_else(|| {
        ReadError::new(
            "Cargo.toml has no `[package] name`: a component crate is an ordinary library crate",
        )
    })?;
    let root = dir.join(lib_path.unwrap_or_else(|| "src/lib.rs".to_owned()));
    Ok((name, root))
}

/// Every declaration in the library rooted at `root`; `crate_ident` is the crate's name
/// as Rust code names it (`my_sink` for package `my-sink`).
pub fn declarations(
    crate_dir: &Path,
    root: &Path,
    crate_ident: &str,
) -> Result<Declarations, ReadError> {
    let mut out = Declarations::default();
    let mut reader = Reader {
        crate_dir,
        out: &mut out,
        files_read: 0,
    };
    let dir = root.parent().unwrap_or(crate_dir).to_path_buf();
    reader.file(root, &dir, crate_ident)?;
    Ok(out)
}

/// A crate with more files than this is not read further (a guard against module
/// loops through `#[path]` tricks and against huge crates).
const MAX_FILES: usize = 500;

struct Reader<'a> {
    crate_dir: &'a Path,
    out: &'a mut Declarations,
    files_read: usize,
}

impl Reader<'_> {
    /// Reads one module file. `dir` is where its child modules' files are; `module` its
    /// Rust path.
    fn file(&mut self, path: &Path, dir: &Path, module: &str) -> Result<(), ReadError> {
        self.files_read += 1;
        if self.files_read > MAX_FILES {
            return Err(ReadError::new(format!(
                "the crate has more than {MAX_FILES} source files; sluice stopped reading it"
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            let shown = path.strip_prefix(self.crate_dir).unwrap_or(path);
            ReadError::new(format!("cannot read {}: {e}", shown.display()))
        })?;
        let file = syn::parse_file(&text).map_err(|e| ReadError::at(path, self.crate_dir, &e))?;
        self.items(&file.items, path, dir, module)
    }

    fn items(
        &mut self,
        items: &[syn::Item],
        path: &Path,
        dir: &Path,
        module: &str,
    ) -> Result<(), ReadError> {
        for item in items {
            match item {
                syn::Item::Struct(s) => {
                    self.derive_input(&s.attrs, DeriveInput::from(s.clone()), path, module)
                }
                syn::Item::Enum(e) => {
                    self.derive_input(&e.attrs, DeriveInput::from(e.clone()), path, module)
                }
                syn::Item::Mod(m) if !is_test_only(&m.attrs) => {
                    let name = m.ident.to_string();
                    let child = format!("{module}::{name}");
                    match &m.content {
                        Some((_, items)) => {
                            self.items(items, path, &dir.join(&name), &child)?;
                        }
                        None => {
                            let (file, child_dir) = module_file(dir, &name, &m.attrs)
                                .ok_or_else(|| {
                                    let shown = dir.strip_prefix(self.crate_dir).unwrap_or(dir);
                                    ReadError::new(format!(
                                        "module `{child}` has no file ({}/{name}.rs or {}/{name}/mod.rs)",
                                        shown.display(),
                                        shown.display()
                                    ))
                                })?;
                            self.file(&file, &child_dir, &child)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn derive_input(
        &mut self,
        attrs: &[syn::Attribute],
        item: DeriveInput,
        path: &Path,
        module: &str,
    ) {
        let list = if declare::derives(attrs, "Component") {
            &mut self.out.components
        } else if declare::derives(attrs, "Params") {
            &mut self.out.records
        } else if declare::derives(attrs, "ParamEnum") {
            &mut self.out.enums
        } else {
            return;
        };
        list.push(Found {
            rust_path: format!("{module}::{}", item.ident),
            item,
            file: path.to_path_buf(),
        });
    }
}

/// `#[cfg(test)]` modules are not part of the library.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

/// The file of `mod name;` declared in a module whose children live in `dir`, and the
/// directory of its own children.
fn module_file(dir: &Path, name: &str, attrs: &[syn::Attribute]) -> Option<(PathBuf, PathBuf)> {
    let explicit = attrs
        .iter()
        .find(|a| a.path().is_ident("path"))
        .and_then(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        });
    if let Some(explicit) = explicit {
        let file = dir.join(explicit);
        let child_dir = file.parent().unwrap_or(dir).to_path_buf();
        return file.is_file().then_some((file, child_dir));
    }
    let flat = dir.join(format!("{name}.rs"));
    if flat.is_file() {
        return Some((flat, dir.join(name)));
    }
    let nested = dir.join(name).join("mod.rs");
    nested.is_file().then(|| (nested, dir.join(name)))
}

/// The location of a `syn` error in `found`'s file.
pub fn error_in(found: &Found, crate_dir: &Path, error: &syn::Error) -> ReadError {
    ReadError::at(&found.file, crate_dir, error)
}
