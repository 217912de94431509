//! Reads a component crate's sources with `syn`, without compiling them: its package
//! name from `Cargo.toml`, then every module reachable from `src/lib.rs`, collecting the
//! structs that derive `Component` or `Params` and the enums that derive `ParamEnum`.

use std::path::{Path, PathBuf};

use sluice_declare as declare;
use syn::ext::IdentExt as _;
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
    /// Where it is declared: `shout::sinks::ShoutConfig`.
    pub declared_path: String,
    /// How code outside the crate names it (through public modules or a `pub use`);
    /// `None` when it cannot.
    pub rust_path: Option<String>,
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

/// What the crate's `Cargo.toml` says about it.
pub struct Manifest {
    /// `[package] name`: the dependency's name in the agent's Cargo.toml.
    pub package: String,
    /// How Rust code names the library: `[lib] name`, else the package name with `-`
    /// turned into `_`.
    pub lib_name: String,
    /// The library's root file.
    pub root: PathBuf,
}

/// Reads the crate's `Cargo.toml`.
pub fn manifest(dir: &Path) -> Result<Manifest, ReadError> {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ReadError::new(format!("cannot read Cargo.toml: {e}")))?;
    let doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| ReadError::new(format!("Cargo.toml is not valid TOML: {e}")))?;
    let package = doc
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .ok_or_else(|| {
            ReadError::new(
                "Cargo.toml has no `[package] name`: a component crate is an ordinary library crate",
            )
        })?
        .to_owned();
    let valid = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !valid(&package) {
        return Err(ReadError::new(format!(
            "package name {package:?} is not one cargo accepts (letters, digits, `-`, `_`)"
        )));
    }
    let lib = doc.get("lib");
    let lib_name = lib
        .and_then(|l| l.get("name"))
        .and_then(|n| n.as_str())
        .map_or_else(|| package.replace('-', "_"), str::to_owned);
    if syn::parse_str::<syn::Ident>(&lib_name).is_err() {
        return Err(ReadError::new(format!(
            "library name {lib_name:?} is not a Rust identifier"
        )));
    }
    let root = dir.join(
        lib.and_then(|l| l.get("path"))
            .and_then(|p| p.as_str())
            .unwrap_or("src/lib.rs"),
    );
    if !root.is_file() {
        return Err(ReadError::new(format!(
            "the crate has no library ({} is not a file): a component crate is a library crate",
            root.strip_prefix(dir).unwrap_or(&root).display()
        )));
    }
    Ok(Manifest {
        package,
        lib_name,
        root,
    })
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
        reexports: Vec::new(),
    };
    let dir = root.parent().unwrap_or(crate_dir).to_path_buf();
    let root_module = Module {
        path: crate_ident.to_owned(),
        public: true,
    };
    reader.file(root, &dir, &root_module)?;
    let reexports = std::mem::take(&mut reader.reexports);
    for found in out
        .components
        .iter_mut()
        .chain(out.records.iter_mut())
        .chain(out.enums.iter_mut())
    {
        if found.rust_path.is_none() {
            found.rust_path = reexported(&reexports, found);
        }
    }
    Ok(out)
}

/// A module being read: its Rust path, and whether code outside the crate can name it
/// (it and every module around it are `pub`).
struct Module {
    path: String,
    public: bool,
}

/// A `pub use` in a public module: `target` (absolute) is visible as `module::name`, or
/// every item of module `target` is, for a glob.
struct Reexport {
    module: String,
    target: String,
    name: Option<String>,
}

/// The public path under which a `pub use` exports `found`, if one does.
fn reexported(reexports: &[Reexport], found: &Found) -> Option<String> {
    let ident = found.item.ident.to_string();
    let (declared_module, _) = found.declared_path.rsplit_once("::")?;
    reexports.iter().find_map(|r| match &r.name {
        Some(name) if r.target == found.declared_path => Some(format!("{}::{name}", r.module)),
        None if r.target == declared_module => Some(format!("{}::{ident}", r.module)),
        _ => None,
    })
}

/// The absolute paths a `use` tree names, relative to `module` (`crate::`, `self::`,
/// `super::` and child modules), with the name each is exported as (`None` for a glob).
fn use_paths(tree: &syn::UseTree, prefix: &[String], out: &mut Vec<(Vec<String>, Option<String>)>) {
    match tree {
        syn::UseTree::Path(p) => {
            let mut prefix = prefix.to_vec();
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, &prefix, out);
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.to_vec();
            path.push(n.ident.to_string());
            out.push((path, Some(n.ident.to_string())));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.to_vec();
            path.push(r.ident.to_string());
            out.push((path, Some(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.to_vec(), None)),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                use_paths(tree, prefix, out);
            }
        }
    }
}

/// `segments` (as written in a `use` inside `module`) as an absolute path.
fn absolute(module: &str, crate_ident: &str, segments: &[String]) -> Option<String> {
    let mut path: Vec<&str> = module.split("::").collect();
    let mut rest = segments.iter().map(String::as_str).peekable();
    match rest.peek() {
        Some(&"crate") => {
            path = vec![crate_ident];
            rest.next();
        }
        Some(&"self") => {
            rest.next();
        }
        Some(&"super") => {
            while rest.peek() == Some(&"super") {
                rest.next();
                if path.len() <= 1 {
                    return None;
                }
                path.pop();
            }
        }
        _ => {}
    }
    path.extend(rest);
    Some(path.join("::"))
}

/// A crate with more files than this is not read further (a guard against module
/// loops through `#[path]` tricks and against huge crates).
const MAX_FILES: usize = 500;

struct Reader<'a> {
    crate_dir: &'a Path,
    out: &'a mut Declarations,
    files_read: usize,
    reexports: Vec<Reexport>,
}

impl Reader<'_> {
    /// Reads one module file. `dir` is where its child modules' files are; `module` its
    /// Rust path.
    fn file(&mut self, path: &Path, dir: &Path, module: &Module) -> Result<(), ReadError> {
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
        module: &Module,
    ) -> Result<(), ReadError> {
        let crate_ident = module
            .path
            .split("::")
            .next()
            .unwrap_or_default()
            .to_owned();
        for item in items {
            match item {
                syn::Item::Struct(s) if !is_test_only(&s.attrs) => {
                    self.derive_input(&s.attrs, DeriveInput::from(s.clone()), path, module)
                }
                syn::Item::Enum(e) if !is_test_only(&e.attrs) => {
                    self.derive_input(&e.attrs, DeriveInput::from(e.clone()), path, module)
                }
                syn::Item::Use(u) if module.public && is_pub(&u.vis) => {
                    let mut paths = Vec::new();
                    use_paths(&u.tree, &[], &mut paths);
                    for (segments, name) in paths {
                        if let Some(target) = absolute(&module.path, &crate_ident, &segments) {
                            self.reexports.push(Reexport {
                                module: module.path.clone(),
                                target,
                                name,
                            });
                        }
                    }
                }
                syn::Item::Mod(m) if !is_test_only(&m.attrs) => {
                    let name = m.ident.unraw().to_string();
                    let child = Module {
                        path: format!("{}::{}", module.path, m.ident),
                        public: module.public && is_pub(&m.vis),
                    };
                    match &m.content {
                        Some((_, items)) => {
                            self.items(items, path, &dir.join(&name), &child)?;
                        }
                        None => {
                            let (file, child_dir) = module_file(dir, &name, &m.attrs)
                                .ok_or_else(|| {
                                    let shown = dir.strip_prefix(self.crate_dir).unwrap_or(dir);
                                    ReadError::new(format!(
                                        "module `{}` has no file ({}/{name}.rs or {}/{name}/mod.rs)",
                                        child.path,
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
        module: &Module,
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
        let declared_path = format!("{}::{}", module.path, item.ident);
        list.push(Found {
            rust_path: (module.public && is_pub(&item.vis)).then(|| declared_path.clone()),
            declared_path,
            item,
            file: path.to_path_buf(),
        });
    }
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
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
        .and_then(declare::string_value);
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
