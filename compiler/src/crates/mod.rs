//! Users' component crates: the `use` items of a flow, read into catalogue entries.
//!
//! `use "./components/shout"` names a crate directory relative to the flow file;
//! `use shout = { version = "0.3" }` names a crate the way a `[dependencies]` line of
//! Cargo.toml does (`path`, `version`, `git`, `branch`, `tag`, `rev`, `registry`,
//! `package`, `features`), and cargo fetches it to be read. Each crate's declarations are
//! read with `syn` ([`read`]) and turned into [`ComponentSpec`]s ([`spec`]); the
//! [`Catalogue`] puts them beside the built-in kinds for the checker, `sluice explain`
//! and the code generator, which adds each crate as a dependency of the agent.
//!
//! Problems are `bad-crate` diagnostics at the `use` item (a missing directory, a file
//! that does not parse, a field type that cannot be read, a crate that declares nothing)
//! and `kind-conflict` when a crate declares a kind that already exists.

mod fetch;
pub mod read;
mod spec;

use std::path::{Path, PathBuf};

use sluice_dsl::{File, Item, Span, UseDecl, UseTarget, ValueKind};
use sluice_runtime::catalogue::{self, ComponentSpec, Role};

use crate::diagnostic::{Code, Diagnostic};

/// A crate of the user's components, as a flow uses it.
#[derive(Clone, Debug)]
pub struct UsedCrate {
    /// The `use` item.
    pub span: Span,
    /// The dependency's name in the agent's Cargo.toml.
    pub name: String,
    /// Its `[package] name` (what cargo calls it in messages).
    pub package: String,
    /// Its `[dependencies]` value: `{ path = "/abs/dir" }` or the settings written.
    pub dependency: String,
    /// Where its sources were read.
    pub dir: PathBuf,
    /// The kinds it declares (those that conflict with another are left out).
    pub specs: Vec<&'static ComponentSpec>,
}

/// The kinds a flow can use: the built-in catalogue and the crates of its `use` items.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    pub crates: Vec<UsedCrate>,
    /// The `use` items whose crate could not be read: they may declare kinds the flow
    /// names.
    pub unread: Vec<Span>,
}

impl Catalogue {
    /// The built-in kinds only.
    pub fn builtin() -> Self {
        Catalogue::default()
    }

    /// The built-in kinds and those of every crate `file` uses; `dir` is the flow
    /// file's directory. With `fetch`, a crate named like a dependency (`use x = {
    /// version = … }`) is fetched by cargo; without, that is a `bad-crate` error (the
    /// fuzzer and `flow!` never run cargo). Problems are pushed to `diags`.
    pub fn load(file: &File, dir: &Path, fetch: bool, diags: &mut Vec<Diagnostic>) -> Self {
        let mut catalogue = Catalogue::default();
        for item in &file.items {
            let Item::Use(decl) = item else { continue };
            match load_crate(decl, dir, fetch) {
                Ok(used) => {
                    if let Some(first) = catalogue.crates.iter().find(|c| c.dir == used.dir) {
                        diags.push(
                            Diagnostic::new(
                                Code::DuplicateName,
                                decl.span,
                                format!("crate `{}` is used twice", used.name),
                            )
                            .label("used again here")
                            .note(first.span, "first used here")
                            .help("remove one of the two `use` items"),
                        );
                        continue;
                    }
                    if let Some(first) = catalogue.crates.iter().find(|c| c.name == used.name) {
                        diags.push(
                            Diagnostic::new(
                                Code::BadCrate,
                                decl.span,
                                format!(
                                    "two different crates are named `{}`; the agent can depend on only one of that name",
                                    used.name
                                ),
                            )
                            .label("a second crate of this name")
                            .note(first.span, "the first one")
                            .help(format!(
                                "name this one differently: `use other = {{ path = \"…\", package = \"{}\" }}`",
                                used.package
                            )),
                        );
                        catalogue.unread.push(decl.span);
                        continue;
                    }
                    check_defaults(&used, diags);
                    catalogue.add(used, diags);
                }
                Err(diag) => {
                    catalogue.unread.push(decl.span);
                    diags.push(*diag);
                }
            }
        }
        catalogue
    }

    /// The built-in kinds and those of the crates in `dirs` (for `sluice explain` and
    /// `sluice list --use DIR`).
    pub fn with_dirs(dirs: &[PathBuf]) -> Result<Self, String> {
        let mut catalogue = Catalogue::default();
        let mut diags = Vec::new();
        for dir in dirs {
            let used = read_dir(dir, Span::default())
                .map_err(|e| format!("cannot use {}: {}", dir.display(), e.message))?;
            catalogue.add(used, &mut diags);
        }
        match diags.first() {
            Some(d) => Err(d.message.clone()),
            None => Ok(catalogue),
        }
    }

    /// Adds a crate's kinds, leaving out (and reporting) those that already exist.
    fn add(&mut self, mut used: UsedCrate, diags: &mut Vec<Diagnostic>) {
        let mut kept = Vec::new();
        for spec in std::mem::take(&mut used.specs) {
            let clash = if catalogue::find(spec.role, spec.kind).is_some() {
                Some("a built-in kind".to_owned())
            } else if kept
                .iter()
                .any(|s: &&ComponentSpec| s.role == spec.role && s.kind == spec.kind)
            {
                Some("twice".to_owned())
            } else {
                self.crates
                    .iter()
                    .find(|c| {
                        c.specs
                            .iter()
                            .any(|s| s.role == spec.role && s.kind == spec.kind)
                    })
                    .map(|c| format!("also declared by crate `{}`", c.name))
            };
            match clash {
                Some(why) => diags.push(
                    Diagnostic::new(
                        Code::KindConflict,
                        used.span,
                        format!(
                            "crate `{}` declares {} kind `{}`, {why}",
                            used.name, spec.role, spec.kind
                        ),
                    )
                    .label("kind declared twice")
                    .help(format!(
                        "rename the kind in `#[component(kind = \"...\")]` of `{}`",
                        spec.rust_type
                    )),
                ),
                None => kept.push(spec),
            }
        }
        used.specs = kept;
        self.crates.push(used);
    }

    /// Every kind: the built-in ones, then each crate's.
    pub fn all(&self) -> impl Iterator<Item = &'static ComponentSpec> + '_ {
        catalogue::all()
            .iter()
            .chain(self.crates.iter().flat_map(|c| c.specs.iter().copied()))
    }

    /// The kind `kind` of role `role`, if there is one.
    pub fn find(&self, role: Role, kind: &str) -> Option<&'static ComponentSpec> {
        self.all().find(|c| c.role == role && c.kind == kind)
    }

    /// The crate that declares `spec`, if it is not built in.
    pub fn crate_of(&self, spec: &ComponentSpec) -> Option<&UsedCrate> {
        self.crates
            .iter()
            .find(|c| c.specs.iter().any(|s| std::ptr::eq(*s, spec)))
    }
}

fn bad_crate(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::BadCrate, span, message)
}

/// Checks every default a crate declares as `sluice check` would check it written in a
/// flow: one that is not a valid value would fail only when the agent is compiled.
fn check_defaults(used: &UsedCrate, diags: &mut Vec<Diagnostic>) {
    for spec in &used.specs {
        let mut problems = Vec::new();
        for param in &spec.params {
            let Some(default) = param.default else {
                continue;
            };
            let text = format!("{} = {default}", param.name);
            let parsed = sluice_dsl::parse(&format!(
                "{} probe = {} {{ {text} }}\n",
                spec.role, spec.kind
            ));
            let Some(Item::Component(probe)) = parsed.file.items.first() else {
                problems.push(format!(
                    "`{}`'s default `{default}` is not a flow value",
                    param.name
                ));
                continue;
            };
            if !parsed.errors.is_empty() {
                problems.push(format!(
                    "`{}`'s default `{default}` is not a flow value",
                    param.name
                ));
                continue;
            }
            let mut found = Vec::new();
            let symbols = crate::resolve::Symbols::default();
            let only: Vec<_> = probe
                .params()
                .iter()
                .filter(|p| p.name.name == param.name)
                .cloned()
                .collect();
            crate::check::params::check_params(
                spec, "default", &only, probe.span, &symbols, &mut found,
            );
            problems.extend(
                found
                    .into_iter()
                    .filter(|d| d.code != Code::MissingParam)
                    .map(|d| format!("`{}`'s default `{default}`: {}", param.name, d.message)),
            );
        }
        for problem in problems {
            diags.push(
                Diagnostic::new(
                    Code::BadCrate,
                    used.span,
                    format!("crate `{}`, {} `{}`: {problem}", used.name, spec.role, spec.kind),
                )
                .label("this crate declares a default that is not a valid value")
                .help("write `default` as the value would be written in a flow: `\"30s\"`, `\"\\\"text\\\"\"`, `\"false\"`"),
            );
        }
    }
}

fn load_crate(decl: &UseDecl, flow_dir: &Path, fetch: bool) -> Result<UsedCrate, Box<Diagnostic>> {
    match &decl.target {
        UseTarget::Path(path) => {
            let dir = flow_dir.join(&path.value);
            if !dir.join("Cargo.toml").is_file() {
                let what = if dir.is_dir() {
                    "has no Cargo.toml"
                } else {
                    "does not exist"
                };
                return Err(Box::new(
                    Diagnostic::new(
                        Code::BadCrate,
                        path.span,
                        format!("crate directory `{}` {what}", path.value),
                    )
                    .label("no crate here")
                    .help(
                        "the path is relative to the flow file's directory; create a crate \
                         with `sluice new component --role sink --kind NAME DIR`",
                    ),
                ));
            }
            read_dir(&dir, decl.span).map_err(|e| e.into_diagnostic(decl.span, &path.value))
        }
        UseTarget::Dependency { name, params } => {
            let mut settings = Vec::new();
            for param in &params.params {
                let key = param.name.name.as_str();
                let value = toml_value(key, &param.value.kind, flow_dir).ok_or_else(|| {
                    Box::new(
                        bad_crate(
                            param.value.span,
                            format!("`{key}` must be a string, a boolean or a list of strings"),
                        )
                        .label("not a Cargo dependency setting"),
                    )
                })?;
                settings.push((key.to_owned(), value));
            }
            if settings.is_empty() {
                return Err(Box::new(
                    bad_crate(
                        params.span,
                        format!("`use {}` needs a version, a path or a git URL", name.name),
                    )
                    .label("empty dependency")
                    .help(format!(
                        "e.g. `use {} = {{ version = \"0.1\" }}`",
                        name.name
                    )),
                ));
            }
            let dependency = table(&settings);
            if !fetch {
                return Err(Box::new(
                    bad_crate(
                        decl.span,
                        format!("`use {}` cannot fetch crates here", name.name),
                    )
                    .label("crates named like dependencies are not fetched here")
                    .help("give the crate's directory: `use \"./path/to/crate\"`"),
                ));
            }
            let located = fetch::locate(&name.name, &dependency).map_err(|why| {
                Box::new(
                    bad_crate(decl.span, format!("cannot fetch crate `{}`", name.name))
                        .label("cargo could not resolve this dependency")
                        .help(why),
                )
            })?;
            let dir = located.dir.clone();
            // The agent names the crate by its dependency key (which `package = "..."`
            // may rename), so its types are read under that name.
            let mut used = read_crate(&dir, decl.span, Some(&name.name.replace('-', "_")))
                .map_err(|e| e.into_diagnostic(decl.span, &dir.to_string_lossy()))?;
            used.name = name.name.clone();
            used.dependency = pinned(&settings, &located);
            Ok(used)
        }
    }
}

/// `{ key = value, ... }`.
fn table(settings: &[(String, String)]) -> String {
    let pairs: Vec<String> = settings.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    format!("{{ {} }}", pairs.join(", "))
}

/// The dependency as written, pinned to what `sluice check` read: the exact version
/// from a registry, the exact commit from git. The agent then compiles the crate whose
/// declarations were checked, even if the registry or the branch moves on.
fn pinned(settings: &[(String, String)], located: &fetch::Located) -> String {
    let mut settings = settings.to_vec();
    let has = |settings: &[(String, String)], key: &str| settings.iter().any(|(k, _)| k == key);
    if let Some(commit) = &located.commit {
        settings.retain(|(k, _)| !matches!(k.as_str(), "branch" | "tag" | "rev"));
        settings.push(("rev".into(), toml_string(commit)));
    } else if has(&settings, "version") && !has(&settings, "path") {
        for (k, v) in &mut settings {
            if k == "version" {
                *v = toml_string(&format!("={}", located.version));
            }
        }
    }
    table(&settings)
}

/// `text` as a TOML basic string, quotes included.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `[dependencies]` setting's value in TOML; a relative `path` is made absolute.
fn toml_value(key: &str, value: &ValueKind, flow_dir: &Path) -> Option<String> {
    let quote = |s: &str| toml_string(s);
    match value {
        ValueKind::Expr(expr) => match expr.literal()? {
            sluice_dsl::Literal::Str(s) if key == "path" => {
                let abs = absolute(&flow_dir.join(s));
                Some(quote(&abs.to_string_lossy()))
            }
            sluice_dsl::Literal::Str(s) => Some(quote(s)),
            sluice_dsl::Literal::Bool(b) => Some(b.to_string()),
            _ => None,
        },
        ValueKind::List(items) => {
            let items: Option<Vec<String>> = items
                .iter()
                .map(|item| match &item.kind {
                    ValueKind::Expr(e) => match e.literal()? {
                        sluice_dsl::Literal::Str(s) => Some(quote(s)),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            Some(format!("[{}]", items?.join(", ")))
        }
        _ => None,
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    })
}

/// Reads the crate at `dir` (a path dependency of the agent).
fn read_dir(dir: &Path, span: Span) -> Result<UsedCrate, read::ReadError> {
    read_crate(dir, span, None)
}

/// Reads the crate at `dir`, which Rust code names `ident` (default: its package name).
fn read_crate(dir: &Path, span: Span, ident: Option<&str>) -> Result<UsedCrate, read::ReadError> {
    let dir = absolute(dir);
    let manifest = read::manifest(&dir)?;
    let package = manifest.package;
    let ident = ident.map_or(manifest.lib_name, str::to_owned);
    let declarations = read::declarations(&dir, &manifest.root, &ident)?;
    let specs = spec::specs(&declarations, &dir)?;
    if specs.is_empty() {
        return Err(read::ReadError {
            message: format!(
                "crate `{package}` declares no component: no struct in it derives `Component`"
            ),
            location: None,
        });
    }
    Ok(UsedCrate {
        span,
        dependency: format!("{{ path = {} }}", toml_string(&dir.to_string_lossy())),
        name: package.clone(),
        package,
        dir,
        specs,
    })
}

impl read::ReadError {
    /// `shown` is the crate's directory as the user wrote it.
    fn into_diagnostic(self, span: Span, shown: &str) -> Box<Diagnostic> {
        let message = match &self.location {
            Some(at) => format!("{}/{at}: {}", shown.trim_end_matches('/'), self.message),
            None => self.message.clone(),
        };
        Box::new(
            bad_crate(span, message)
                .label("this crate's declarations cannot be read")
                .help(
                    "sluice reads a component crate's `#[derive(Component)]` structs without \
                     compiling it; see docs/writing-a-component.md",
                ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), toml_string(v)))
            .collect()
    }

    #[test]
    fn the_agent_depends_on_exactly_what_check_read() {
        let registry = fetch::Located {
            dir: PathBuf::new(),
            version: "0.3.4".into(),
            commit: None,
        };
        assert_eq!(
            pinned(
                &settings(&[("version", "0.3"), ("features", "x")]),
                &registry
            ),
            r#"{ version = "=0.3.4", features = "x" }"#
        );
        let git = fetch::Located {
            dir: PathBuf::new(),
            version: "0.1.0".into(),
            commit: Some("0123abcd".into()),
        };
        assert_eq!(
            pinned(
                &settings(&[("git", "https://x/y"), ("branch", "main")]),
                &git
            ),
            r#"{ git = "https://x/y", rev = "0123abcd" }"#
        );
    }

    #[test]
    fn toml_strings_escape_what_toml_needs() {
        assert_eq!(toml_string("a\"b\\c\nd"), r#""a\"b\\c\u000Ad""#);
    }
}
