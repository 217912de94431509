//! Name resolution: which components exist, what role and kind each has, and which
//! catalogue entry describes it. Reports `duplicate-name` and `unknown-kind`.

use std::collections::HashMap;

use sluice_dsl::{AgentDecl, ComponentDecl, File, Item};
use sluice_runtime::catalogue::{ComponentSpec, Role};

use crate::crates::Catalogue;

use crate::diagnostic::{Code, Diagnostic};
use crate::suggest::did_you_mean;

/// A declared component and its catalogue entry (`None` when its kind is unknown).
#[derive(Clone, Copy, Debug)]
pub struct Component<'a> {
    pub decl: &'a ComponentDecl,
    pub spec: Option<&'static ComponentSpec>,
}

impl Component<'_> {
    pub fn role(&self) -> Role {
        self.decl.role
    }

    pub fn name(&self) -> &str {
        &self.decl.name.name
    }
}

/// Every component of a file, by name.
#[derive(Debug, Default)]
pub struct Symbols<'a> {
    /// In declaration order; a duplicate's later declarations are left out.
    pub components: Vec<Component<'a>>,
    index: HashMap<&'a str, usize>,
    pub agent: Option<&'a AgentDecl>,
}

impl<'a> Symbols<'a> {
    pub fn get(&self, name: &str) -> Option<&Component<'a>> {
        self.index.get(name).map(|&i| &self.components[i])
    }

    /// All declared names, for suggestions.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.components.iter().map(|c| c.name())
    }

    /// Declared names of one role, for suggestions.
    pub fn names_of(&self, role: Role) -> impl Iterator<Item = &str> {
        self.components
            .iter()
            .filter(move |c| c.role() == role)
            .map(|c| c.name())
    }
}

pub fn resolve<'a>(
    file: &'a File,
    catalogue: &Catalogue,
    diags: &mut Vec<Diagnostic>,
) -> Symbols<'a> {
    let mut symbols = Symbols::default();
    for item in &file.items {
        match item {
            Item::Agent(agent) => match symbols.agent {
                Some(first) => diags.push(
                    Diagnostic::new(
                        Code::DuplicateName,
                        agent.span,
                        "the agent is declared twice",
                    )
                    .label("second `agent` block")
                    .note(first.span, "first declared here")
                    .help("merge the two `agent` blocks into one"),
                ),
                None => symbols.agent = Some(agent),
            },
            Item::Component(decl) => {
                let spec = find_kind(decl, catalogue, diags);
                if let Some(&first) = symbols.index.get(decl.name.name.as_str()) {
                    let first = symbols.components[first].decl;
                    diags.push(
                        Diagnostic::new(
                            Code::DuplicateName,
                            decl.name.span,
                            format!("the name `{}` is declared twice", decl.name.name),
                        )
                        .label(format!(
                            "{} `{}` declared again here",
                            decl.role, decl.name.name
                        ))
                        .note(
                            first.name.span,
                            format!("first declared here as a {}", first.role),
                        )
                        .help(
                            "rename one of them: sources, channels, sinks, transforms and groups \
                             share one set of names",
                        ),
                    );
                    continue;
                }
                symbols
                    .index
                    .insert(decl.name.name.as_str(), symbols.components.len());
                symbols.components.push(Component { decl, spec });
            }
            Item::Flow(_) | Item::Use(_) | Item::Test(_) => {}
        }
    }
    symbols
}

fn find_kind(
    decl: &ComponentDecl,
    catalogue: &Catalogue,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'static ComponentSpec> {
    let role = decl.role;
    let kind = decl.kind.name.as_str();
    if let Some(spec) = catalogue.find(role, kind) {
        return Some(spec);
    }
    let same_role: Vec<&str> = catalogue
        .all()
        .filter(|c| c.role == role)
        .map(|c| c.kind)
        .collect();
    let help = did_you_mean(kind, same_role.iter().copied())
        .or_else(|| {
            catalogue
                .all()
                .find(|c| c.kind == kind && c.role != Role::Agent)
                .map(|c| {
                    format!(
                        "`{kind}` is a {} kind; declare it with `{} {} = {kind}`",
                        c.role, c.role, decl.name.name
                    )
                })
        })
        .unwrap_or_else(|| format!("{} kinds are: {}", role, same_role.join(", ")));
    let mut diag = Diagnostic::new(
        Code::UnknownKind,
        decl.kind.span,
        format!("unknown {role} kind `{kind}`"),
    )
    .label(format!("not a {role} kind"))
    .help(help);
    for &unread in &catalogue.unread {
        diag = diag.note(
            unread,
            "this crate could not be read; it may declare the kind",
        );
    }
    diags.push(diag);
    None
}
