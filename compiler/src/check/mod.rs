//! All checks of one flow file, in order: syntax (from the parser), names and kinds
//! (`resolve`), parameters, topology, conflicts and lints. Every problem is collected;
//! nothing stops at the first error.

mod conflicts;
pub mod expr;
pub mod params;
mod topology;
mod values;

use sluice_dsl::{Item, Span};
use sluice_runtime::catalogue;

use crate::crates::Catalogue;
use crate::diagnostic::{self, Code, Diagnostic};
use crate::graph::{self, Topology};
use crate::resolve;
use crate::source::SourceFile;

/// What checking a file produced.
pub struct Checked {
    pub file: sluice_dsl::File,
    /// The kinds the file can use: built in, and from its `use` items.
    pub catalogue: Catalogue,
    pub diagnostics: Vec<Diagnostic>,
    /// `None` when syntax errors made the graph meaningless.
    pub topology: Option<Topology>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == diagnostic::Severity::Error)
    }
}

/// Parses and checks one source file. A `use` item that names a crate like a
/// dependency (`use x = { version = … }`) runs cargo to fetch it.
pub fn check(source: &SourceFile) -> Checked {
    check_with(source, true)
}

/// [`check`] that never runs cargo (`fetch = false`): for fuzzing, and for `flow!`
/// inside rustc, where `use` takes crate directories only.
pub fn check_with(source: &SourceFile, fetch: bool) -> Checked {
    let parsed = sluice_dsl::parse(&source.text);
    let mut diags: Vec<Diagnostic> = parsed
        .errors
        .iter()
        .map(|e| {
            Diagnostic::new(Code::Syntax, e.span, e.message.clone())
                .label(e.label.clone())
                .maybe_help(e.help.clone())
        })
        .collect();
    let syntax_ok = diags.is_empty();
    let file = parsed.file;
    let catalogue = Catalogue::load(&file, &source.base_dir(), fetch, &mut diags);
    let topology = {
        let symbols = resolve::resolve(&file, &catalogue, &mut diags);
        if let Some(agent) = symbols.agent {
            if let Some(spec) = Some(catalogue::agent()) {
                let params = agent.params.as_ref().map_or(&[][..], |b| &b.params);
                let header = Span::new(agent.span.start, agent.name.span.end);
                params::check_params(spec, "the agent", params, header, &symbols, &mut diags);
            }
        }
        for component in &symbols.components {
            let Some(spec) = component.spec else { continue };
            let decl = component.decl;
            let what = format!("{} `{}` ({})", decl.role, decl.name.name, decl.kind.name);
            let header = decl.role_span.to(decl.kind.span);
            params::check_params(spec, &what, decl.params(), header, &symbols, &mut diags);
        }
        if syntax_ok {
            let topology = graph::build(&file, &source.text, &symbols, &mut diags);
            topology::check(&file, &symbols, &topology, &mut diags);
            conflicts::check(&symbols, &mut diags);
            Some(topology)
        } else {
            // A broken item may declare names the rest refers to: graph checks would only
            // report the same mistake again.
            None
        }
    };
    // Route keys are expressions too.
    for item in &file.items {
        if let Item::Flow(flow) = item {
            for step in &flow.steps {
                if let sluice_dsl::Step::Route(route) = step {
                    expr::check(&route.key, &mut diags);
                }
            }
        }
    }
    diagnostic::sort(&mut diags);
    Checked {
        file,
        catalogue,
        diagnostics: diags,
        topology,
    }
}
