//! Code generation: the IR of a flow → the `Cargo.toml` and `src/main.rs` of an agent
//! crate. One emitter per role (`channels`, `sinks`, `transforms`, `sources`), each
//! reading only the IR.
//!
//! The generated code is concrete: each source, channel, sink and runtime transform is its
//! own typed value, built through its role's `Build*` trait; each source gets an `Output`
//! struct whose `send` applies that source's transform chains and routes inline, with
//! expressions compiled to Rust. Nothing is looked up by name and nothing is boxed on the
//! per-event path.
//!
//! Order of the output is the order of the flow file, so it diffs cleanly.

mod aggregates;
mod channels;
mod config;
mod exprs;
mod names;
mod sinks;
mod sources;
mod transforms;

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;
use sluice_runtime::catalogue::features;

pub use names::crate_name;

use crate::check::Checked;
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{self, Flow};
use crate::source::SourceFile;
use exprs::ExprGen;

/// The generated crate, before it is written anywhere.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The agent's name: from the `agent` block, else the file stem.
    pub agent_name: String,
    /// Crate and binary name.
    pub crate_name: String,
    pub main_rs: String,
    /// Features of `sluice-runtime` the agent needs.
    pub features: Vec<String>,
    /// The user's component crates the agent depends on.
    pub crates: Vec<ir::Dependency>,
}

impl Generated {
    /// The crate's `Cargo.toml`, from `templates/Cargo.toml`.
    pub fn cargo_toml(&self, flow_file: &str, runtime_path: &str) -> String {
        let features: Vec<String> = self.features.iter().map(|f| format!("\"{f}\"")).collect();
        include_str!("../../../templates/Cargo.toml")
            .replace("{{version}}", env!("CARGO_PKG_VERSION"))
            .replace("{{flow_file}}", flow_file)
            .replace("{{crate_name}}", &self.crate_name)
            .replace("{{agent_name}}", &self.crate_name)
            .replace("{{runtime_path}}", &runtime_path.replace('\\', "/"))
            .replace("{{features}}", &features.join(", "))
            .replace("{{crates}}", &self.crates_toml(runtime_path))
    }

    /// The `[dependencies]` lines of the user's crates and, when there are any, the patch
    /// that makes their `sluice-runtime = "0.1"` this runtime, so the agent and its
    /// components share one copy of it.
    fn crates_toml(&self, runtime_path: &str) -> String {
        if self.crates.is_empty() {
            return String::new();
        }
        let mut out = String::from("# The flow's own components (its `use` items).\n");
        for dep in &self.crates {
            out.push_str(&format!("{} = {}\n", dep.name, dep.value));
        }
        out.push_str(&format!(
            "\n[patch.crates-io]\nsluice-runtime = {{ path = \"{}\" }}\n",
            runtime_path.replace('\\', "/")
        ));
        out
    }
}

/// Lowers a checked file to the IR and generates its agent. Kinds the runtime cannot
/// build yet are reported as `unsupported` diagnostics.
pub fn generate(source: &SourceFile, checked: &Checked) -> Result<Generated, Vec<Diagnostic>> {
    let flow = ir::lower(source, checked)?;
    emit(&flow)
}

/// The items every agent is made of (`AGENT`, `agent_config`, `run`, the outputs and
/// group members), and the generator that produced them (its features and comments).
fn items(flow: &Flow, embedded: bool) -> (TokenStream, Gen) {
    let mut gen = Gen {
        embedded,
        ..Gen::default()
    };
    gen.features.extend([features::AGENT, features::ALLOCATOR]);
    let mut body = Vec::new();
    for channel in &flow.channels {
        body.push(gen.channel(channel));
    }
    let mut group_structs = Vec::new();
    for drain in &flow.drains {
        let (run, members) = gen.drain(drain);
        body.push(run);
        group_structs.extend(members);
    }
    for transform in &flow.transforms {
        body.push(gen.transform(transform));
    }
    let mut outputs = Vec::new();
    for source in &flow.sources {
        let (spawn, output) = gen.source(flow, source);
        body.push(spawn);
        outputs.push(output);
    }
    if !gen.exprs.regexes.is_empty() {
        gen.features.insert(features::EXPR_REGEX);
    }
    let agent_config = config::config(&flow.agent);
    let (regex_statics, regex_forces) = gen.exprs.statics();
    let env_vars = flow.env.iter().map(config::env_var);
    let env_rules = flow.env_rules.iter().map(config::env_rule);
    let name = &flow.agent_name;
    let file_name = &flow.file_name;
    let tokens = quote! {
        const AGENT: AgentInfo = AgentInfo {
            name: #name,
            flow_file: #file_name,
            env_vars: &[#(#env_vars),*],
            env_rules: &[#(#env_rules),*],
        };

        #[doc = " The settings of the `agent` block."]
        fn agent_config() -> Result<sluice_runtime::agent_config::AgentConfig, sluice_runtime::env::EnvError> {
            Ok(#agent_config)
        }

        #[doc = " Builds every component of the flow, starts them, and runs until shutdown."]
        async fn run(mut ctx: AgentContext) -> Result<(), AgentError> {
            #regex_forces
            #(#body)*
            ctx.run().await
        }

        #regex_statics

        #(#outputs)*

        #(#group_structs)*
    };
    (tokens, gen)
}

/// A flow embedded in a Rust program (what `flow!` expands to): a block whose value is
/// a `sluice_runtime::embed::Embedded`, and the runtime features it needs.
pub fn emit_embedded(flow: &Flow) -> (TokenStream, Vec<&'static str>) {
    let (items, gen) = items(flow, true);
    let tokens = quote! {
        {
            #[allow(non_snake_case, clippy::all)]
            mod sluice_flow {
                use sluice_runtime::prelude::*;

                #items

                pub(super) fn agent() -> sluice_runtime::embed::Embedded {
                    sluice_runtime::embed::Embedded::new(AGENT, agent_config, run)
                }
            }
            sluice_flow::agent()
        }
    };
    let features = gen
        .features
        .iter()
        .copied()
        .filter(|f| *f != features::ALLOCATOR)
        .collect();
    (tokens, features)
}

/// Generates the agent of a lowered flow.
pub fn emit(flow: &Flow) -> Result<Generated, Vec<Diagnostic>> {
    let (items, gen) = items(flow, false);
    let name = &flow.agent_name;
    let file_name = &flow.file_name;
    let file_tokens = quote! {
        use sluice_runtime::prelude::*;

        fn main() -> std::process::ExitCode {
            sluice_runtime::agent::main(AGENT, agent_config, run)
        }

        #items
    };
    let syntax: syn::File = syn::parse2(file_tokens).map_err(|e| {
        vec![Diagnostic::new(
            Code::Unsupported,
            sluice_dsl::Span::new(0, 0),
            format!("internal compiler error: generated code does not parse: {e}"),
        )]
    })?;
    let header = include_str!("../../../templates/main.rs")
        .replace("{{agent_name}}", name)
        .replace("{{version}}", env!("CARGO_PKG_VERSION"))
        .replace("{{flow_file}}", file_name);
    let main_rs = format!(
        "{header}\n{}",
        restore_comments(&prettyplease::unparse(&syntax), &gen.comments)
    );
    Ok(Generated {
        crate_name: {
            // The agent's crate must not share a name with a component crate it uses.
            let mut crate_name = names::crate_name(name);
            while flow
                .crates
                .iter()
                .any(|c| c.name.replace('-', "_") == crate_name.replace('-', "_"))
            {
                crate_name.push_str("-agent");
            }
            crate_name
        },
        agent_name: name.clone(),
        main_rs,
        features: gen.features.into_iter().map(str::to_owned).collect(),
        crates: flow.crates.clone(),
    })
}

/// `sluice_comment!(N);` markers (comments cannot pass through token streams)
/// become `// text` lines.
/// Also puts a blank line before each top-level item and before each comment that
/// opens a step in a function body, as a person would.
fn restore_comments(code: &str, comments: &[String]) -> String {
    let mut out = String::with_capacity(code.len());
    let mut previous = "";
    for line in code.lines() {
        let trimmed = line.trim_start();
        let continues_previous = line.starts_with([' ', '}', ')', ']', '>'])
            || previous.is_empty()
            || previous.starts_with("///")
            || previous.starts_with("#[")
            || (previous.starts_with("use ") && line.starts_with("use "));
        let starts_item = !continues_previous;
        let starts_step = trimmed.starts_with("sluice_comment!(")
            && !previous.trim_end().ends_with('{')
            && !previous.is_empty();
        if starts_item || starts_step {
            out.push('\n');
        }
        previous = line;
        let marker = trimmed
            .strip_prefix("sluice_comment!(")
            .and_then(|r| r.strip_suffix(");"))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|i| comments.get(i));
        if let Some(text) = marker {
            let indent = &line[..line.len() - trimmed.len()];
            out.push_str(indent);
            out.push_str("// ");
            out.push_str(text);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// What the emitters share while walking the IR.
#[derive(Default)]
struct Gen {
    exprs: ExprGen,
    features: BTreeSet<&'static str>,
    /// Texts of `// ...` comments, referred to by index from `sluice_comment!(N);`.
    comments: Vec<String>,
    types: names::TypeNames,
    /// Groups whose members struct is already defined (a group drained from several
    /// channels is built once per channel, from one definition).
    members_structs: std::collections::HashMap<String, proc_macro2::Ident>,
    /// Generating for `flow!`: no comment markers (nothing formats the code after).
    embedded: bool,
}

impl Gen {
    /// A marker statement that becomes `// text` after formatting (comments cannot pass
    /// through token streams). An index keeps the marker short, so it stays on one line.
    fn comment(&mut self, text: &str) -> TokenStream {
        if self.embedded {
            return TokenStream::new();
        }
        self.comments.push(text.to_owned());
        let index = proc_macro2::Literal::usize_unsuffixed(self.comments.len() - 1);
        quote!(sluice_comment!(#index);)
    }

    /// The component's config struct literal; notes the features it needs.
    fn config_of(&mut self, component: &ir::Component) -> TokenStream {
        // A user's component has no runtime feature: its crate is a dependency.
        if !component.spec.feature.is_empty() {
            self.features.insert(component.spec.feature);
        }
        if component.needs_tls {
            self.features.insert(features::TLS);
        }
        config::config(&component.config)
    }
}
