//! Code generation: a checked flow → the `Cargo.toml` and `src/main.rs` of an agent crate.
//!
//! The generated code is concrete: each source, channel, sink and runtime transform is its
//! own typed value; each source gets an `Output` struct whose `send` applies that source's
//! transform chains and routes inline, with expressions compiled to Rust. Nothing is
//! looked up by name and nothing is boxed on the per-event path.
//!
//! Order of the output is the order of the flow file, so it diffs cleanly.

mod exprs;
mod names;
mod values;

use std::collections::BTreeSet;

use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use proc_macro2::TokenStream;
use quote::quote;
use sluice_dsl::{ArmTarget, FlowStmt, Ident, Item, Patterns, Step};
use sluice_runtime::catalogue::{self, ComponentSpec, Role};

pub use names::crate_name;

use crate::check::Checked;
use crate::diagnostic::{Code, Diagnostic};
use crate::resolve::{self, Component, Symbols};
use crate::source::SourceFile;
use exprs::ExprGen;
use values::ValueGen;

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
    }
}

/// Generates the agent for a file that checked without errors. Kinds the runtime cannot
/// build yet are reported as `unsupported` diagnostics.
pub fn generate(source: &SourceFile, checked: &Checked) -> Result<Generated, Vec<Diagnostic>> {
    let symbols = resolve::resolve(&checked.file, &mut Vec::new());
    let Some(topology) = &checked.topology else {
        return Err(checked.diagnostics.clone());
    };
    let agent_name = checked
        .file
        .items
        .iter()
        .find_map(|i| match i {
            Item::Agent(a) => Some(a.name.value.clone()),
            _ => None,
        })
        .unwrap_or_else(|| source.stem().to_owned());
    let file_name = std::path::Path::new(&source.name)
        .file_name()
        .map_or(source.name.clone(), |f| f.to_string_lossy().into_owned());

    let mut gen = Gen {
        source,
        symbols: &symbols,
        values: ValueGen {
            source,
            env: Vec::new(),
        },
        exprs: ExprGen::default(),
        features: BTreeSet::from(["agent".to_owned(), "mimalloc".to_owned()]),
        diags: Vec::new(),
        comments: Vec::new(),
    };

    // Which components run: those on some flow path.
    let used = |name: &str| topology.references.contains_key(name);
    let flows: Vec<&FlowStmt> = checked
        .file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Flow(f) => Some(f),
            _ => None,
        })
        .collect();

    let mut body = Vec::new();
    // Channels.
    for c in symbols
        .components
        .iter()
        .filter(|c| c.role() == Role::Channel && used(c.name()))
    {
        if let Some(tokens) = gen.channel(c) {
            body.push(tokens);
        }
    }
    // Sinks, one per channel that drains into them.
    let mut drains: Vec<(String, String)> = Vec::new();
    for e in (&topology.graph).edge_references() {
        let (from, to) = (&topology.graph[e.source()], &topology.graph[e.target()]);
        let is_drain = topology.role_of(e.source()) == Some(Role::Channel)
            && matches!(topology.role_of(e.target()), Some(Role::Sink | Role::Group));
        let pair = (from.name.clone(), to.name.clone());
        if is_drain && !drains.contains(&pair) {
            drains.push(pair);
        }
    }
    drains.sort_by_key(|(_, sink)| symbols.get(sink).map_or(0, |c| c.decl.span.start));
    let mut group_structs = Vec::new();
    for (channel, sink) in &drains {
        let Some(component) = symbols.get(sink) else {
            continue;
        };
        if component.role() == Role::Group {
            if let Some((tokens, members)) = gen.group(component, channel) {
                body.push(tokens);
                group_structs.push(members);
            }
            continue;
        }
        let several = drains.iter().filter(|(_, s)| s == sink).count() > 1;
        if let Some(tokens) = gen.sink(component, channel, several) {
            body.push(tokens);
        }
    }
    // Runtime transforms (those with state); expression transforms are inlined.
    for c in symbols
        .components
        .iter()
        .filter(|c| c.role() == Role::Transform && used(c.name()))
    {
        if let Some(tokens) = gen.runtime_transform(c) {
            body.push(tokens);
        }
    }
    // Sources, each with its Output.
    let mut outputs = Vec::new();
    for c in symbols
        .components
        .iter()
        .filter(|c| c.role() == Role::Source && used(c.name()))
    {
        let paths: Vec<&FlowStmt> = flows
            .iter()
            .copied()
            .filter(|f| f.head.name == c.name())
            .collect();
        if let Some((spawn, output)) = gen.source(c, &paths) {
            body.push(spawn);
            outputs.push(output);
        }
    }

    let agent_config = gen.agent_config(&checked.file);
    if !gen.diags.is_empty() {
        return Err(gen.diags);
    }
    if gen.exprs.regexes.iter().len() > 0 {
        gen.features.insert("expr-regex".to_owned());
    }
    let (regex_statics, regex_forces) = gen.exprs.statics();
    let env_vars: Vec<TokenStream> = gen.values.env.iter().map(|e| e.tokens()).collect();
    let name = &agent_name;
    let file_tokens = quote! {
        use sluice_runtime::prelude::*;

        const AGENT: AgentInfo = AgentInfo {
            name: #name,
            flow_file: #file_name,
            env_vars: &[#(#env_vars),*],
        };

        fn main() -> std::process::ExitCode {
            sluice_runtime::agent::main(AGENT, agent_config, run)
        }

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
    let syntax: syn::File = match syn::parse2(file_tokens) {
        Ok(f) => f,
        Err(e) => {
            return Err(vec![Diagnostic::new(
                Code::Unsupported,
                sluice_dsl::Span::new(0, 0),
                format!("internal compiler error: generated code does not parse: {e}"),
            )])
        }
    };
    let header = include_str!("../../../templates/main.rs")
        .replace("{{agent_name}}", &agent_name)
        .replace("{{version}}", env!("CARGO_PKG_VERSION"))
        .replace("{{flow_file}}", &file_name);
    let main_rs = format!(
        "{header}\n{}",
        restore_comments(&prettyplease::unparse(&syntax), &gen.comments)
    );
    Ok(Generated {
        crate_name: names::crate_name(&agent_name),
        agent_name,
        main_rs,
        features: gen.features.into_iter().collect(),
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

struct Gen<'a> {
    source: &'a SourceFile,
    symbols: &'a Symbols<'a>,
    values: ValueGen<'a>,
    exprs: ExprGen,
    features: BTreeSet<String>,
    diags: Vec<Diagnostic>,
    /// Texts of `// ...` comments, referred to by index from `sluice_comment!(N);`.
    comments: Vec<String>,
}

impl Gen<'_> {
    /// A marker statement that becomes `// text` after formatting (comments cannot pass
    /// through token streams). An index keeps the marker short, so it stays on one line.
    fn comment(&mut self, text: &str) -> TokenStream {
        self.comments.push(text.to_owned());
        let index = proc_macro2::Literal::usize_unsuffixed(self.comments.len() - 1);
        quote!(sluice_comment!(#index);)
    }

    /// The spec of a component the runtime can build, or an `unsupported` diagnostic.
    fn buildable(&mut self, c: &Component) -> Option<&'static ComponentSpec> {
        let spec = c.spec?;
        if spec.planned || spec.runtime_type.is_none() {
            self.diags.push(
                Diagnostic::new(
                    Code::Unsupported,
                    c.decl.kind.span,
                    format!(
                        "the {} kind `{}` cannot be built into an agent yet",
                        spec.role, spec.kind
                    ),
                )
                .label("checked, but not available in agents yet")
                .help(format!(
                    "available {} kinds: {}",
                    spec.role,
                    available(spec.role)
                )),
            );
            return None;
        }
        self.features.insert(spec.feature.to_owned());
        Some(spec)
    }

    fn config(&mut self, c: &Component, spec: &ComponentSpec) -> Option<TokenStream> {
        if needs_tls(spec, c.decl.params()) {
            self.features.insert("tls".to_owned());
        }
        match self.values.config(spec, c.decl.params()) {
            Ok(t) => Some(t),
            Err(problem) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::Unsupported,
                        c.decl.name.span,
                        format!("cannot build {} `{}`: {problem}", c.role(), c.name()),
                    )
                    .label("not buildable yet"),
                );
                None
            }
        }
    }

    fn channel(&mut self, c: &Component) -> Option<TokenStream> {
        let spec = self.buildable(c)?;
        let config = self.config(c, spec)?;
        let (name, kind) = (c.name(), spec.kind);
        let var = names::channel(name);
        let cfg = names::config("channel", name);
        let module = module_of(spec);
        let note = self.comment(&format!("channel {name} = {kind}"));
        Some(quote! {
            #note
            let #cfg = #config;
            let #var = ctx.channel(
                #module::build(#cfg, ctx.metrics().channel(#name, #kind))
                    .await
                    .map_err(AgentError::component(#name))?,
            );
        })
    }

    fn sink(&mut self, c: &Component, channel: &str, several: bool) -> Option<TokenStream> {
        let spec = self.buildable(c)?;
        let config = self.config(c, spec)?;
        let (name, kind) = (c.name(), spec.kind);
        let var = if several {
            names::sink(&format!("{name}_from_{channel}"))
        } else {
            names::sink(name)
        };
        let cfg = names::config("sink", name);
        let module = module_of(spec);
        let ch = names::channel(channel);
        let batch = match spec.param("batch_size") {
            Some(_) => quote!(#cfg.batch_size),
            None => quote!(100),
        };
        let note = self.comment(&format!("sink {name} = {kind}, drains {channel}"));
        Some(quote! {
            #note
            let #cfg = #config;
            let batch_size = #batch;
            let #var = #module::build(#cfg).await.map_err(AgentError::component(#name))?;
            ctx.spawn_sink(#name, #kind, #ch.clone(), #var, batch_size);
        })
    }

    /// A group draining `channel`: its member sinks, a members struct implementing
    /// `GroupMembers`, and the group sink that picks a member per batch.
    fn group(&mut self, c: &Component, channel: &str) -> Option<(TokenStream, TokenStream)> {
        let spec = self.buildable(c)?;
        let config = self.config(c, spec)?;
        let (name, kind) = (c.name(), spec.kind);
        let members: Vec<String> = c
            .decl
            .params()
            .iter()
            .find(|p| p.name.name == "sinks")
            .and_then(|p| match &p.value.kind {
                sluice_dsl::ValueKind::List(items) => Some(
                    items
                        .iter()
                        .filter_map(|v| v.reference())
                        .map(|i| i.name)
                        .collect(),
                ),
                _ => None,
            })
            .unwrap_or_default();
        let mut configs = Vec::new();
        let mut builds = Vec::new();
        let mut batch_sizes = Vec::new();
        let mut fields = Vec::new();
        let mut arms = Vec::new();
        for (index, member) in members.iter().enumerate() {
            let component = *self.symbols.get(member)?;
            let member_spec = self.buildable(&component)?;
            let member_config = self.config(&component, member_spec)?;
            let cfg = names::config("sink", member);
            let var = names::sink(member);
            let field = names::ident(member);
            let module = module_of(member_spec);
            let ty = names::path(member_spec.runtime_type?);
            configs.push(quote!(let #cfg = #member_config;));
            if member_spec.param("batch_size").is_some() {
                batch_sizes.push(quote!(#cfg.batch_size));
            }
            builds.push(quote!(let #var = #module::build(#cfg).await.map_err(AgentError::component(#member))?;));
            fields.push((field.clone(), var, ty));
            let index = proc_macro2::Literal::usize_unsuffixed(index);
            arms.push(quote!(#index => self.#field.write(batch).await,));
        }
        let members_struct = names::members_struct(name);
        let cfg = names::config("group", name);
        let var = names::sink(name);
        let module = module_of(spec);
        let ch = names::channel(channel);
        let batch = match batch_sizes.split_first() {
            Some((first, rest)) => quote!(#first #(.min(#rest))*),
            None => quote!(100),
        };
        let note = self.comment(&format!(
            "group {name} = {kind} [{}], drains {channel}",
            members.join(", ")
        ));
        let field_inits = fields.iter().map(|(f, v, _)| quote!(#f: #v));
        let run = quote! {
            #note
            #(#configs)*
            let batch_size = #batch;
            #(#builds)*
            let #cfg = #config;
            let members = #members_struct { #(#field_inits),* };
            let #var = #module::build(#cfg, members).await.map_err(AgentError::component(#name))?;
            ctx.spawn_sink(#name, #kind, #ch.clone(), #var, batch_size);
        };
        let field_defs = fields.iter().map(|(f, _, t)| quote!(#f: #t));
        let closes = fields
            .iter()
            .map(|(f, _, _)| quote!(let #f = self.#f.close().await;));
        let results = fields.iter().map(|(f, _, _)| f);
        let doc = format!(" The member sinks of group `{name}`, in its `sinks` order.");
        let member_names = &members;
        let definition = quote! {
            #[doc = #doc]
            struct #members_struct {
                #(#field_defs),*
            }

            impl sluice_runtime::groups::GroupMembers for #members_struct {
                const NAMES: &'static [&'static str] = &[#(#member_names),*];

                async fn write(&mut self, member: usize, batch: &[Event]) -> std::io::Result<()> {
                    match member {
                        #(#arms)*
                        _ => Err(std::io::Error::other("no such member")),
                    }
                }

                async fn close(&mut self) -> std::io::Result<()> {
                    #(#closes)*
                    [#(#results),*].into_iter().collect()
                }
            }
        };
        Some((run, definition))
    }

    fn runtime_transform(&mut self, c: &Component) -> Option<TokenStream> {
        let kind = c.decl.kind.name.as_str();
        if matches!(kind, "filter" | "set") {
            if let Some(spec) = c.spec {
                self.features.insert(spec.feature.to_owned());
            }
            return None;
        }
        let spec = self.buildable(c)?;
        let config = self.config(c, spec)?;
        let name = c.name();
        let var = names::transform(name);
        let cfg = names::config("transform", name);
        let module = module_of(spec);
        let note = self.comment(&format!("transform {name} = {kind}"));
        Some(quote! {
            #note
            let #cfg = #config;
            let #var = Arc::new(
                #module::build(#cfg, ctx.metrics().transform(#name, #kind))
                    .await
                    .map_err(AgentError::component(#name))?,
            );
        })
    }

    fn source(&mut self, c: &Component, paths: &[&FlowStmt]) -> Option<(TokenStream, TokenStream)> {
        let spec = self.buildable(c)?;
        let config = self.config(c, spec)?;
        let (name, kind) = (c.name(), spec.kind);
        let var = names::source(name);
        let cfg = names::config("source", name);
        let module = module_of(spec);
        let output = names::output_struct(name);

        let mut fields: Vec<(proc_macro2::Ident, TokenStream, TokenStream)> = Vec::new();
        let mut add_field = |ident: proc_macro2::Ident, ty: TokenStream, init: TokenStream| {
            if !fields.iter().any(|(i, _, _)| *i == ident) {
                fields.push((ident, ty, init));
            }
        };
        let mut sends = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let last = i + 1 == paths.len();
            let events = if last {
                quote!(batch)
            } else {
                quote!(batch.clone())
            };
            let flow_text = self.source.text[path.span.start..path.span.end]
                .lines()
                .next()
                .unwrap_or("")
                .trim_end_matches('{')
                .trim()
                .to_owned();
            let note = self.comment(&flow_text);
            let chain = self.chain(&path.transforms, &mut add_field);
            let deliver = self.deliver(path, &mut add_field);
            let binding = if chain.is_empty() {
                quote!(let events: Batch = #events;)
            } else {
                quote!(let mut events: Batch = #events;)
            };
            sends.push(quote! {
                #note
                #binding
                #chain
                #deliver
            });
        }
        let field_defs = fields.iter().map(|(i, t, _)| quote!(#i: #t));
        let field_inits = fields.iter().map(|(i, _, init)| quote!(#i: #init));
        let flows_doc = paths
            .iter()
            .map(|p| {
                let first_line = self.source.text[p.span.start..p.span.end]
                    .lines()
                    .next()
                    .unwrap_or("");
                format!("`{}`", first_line.trim_end_matches('{').trim())
            })
            .collect::<Vec<_>>()
            .join(", ");
        let doc = format!(" Where the events of source `{name}` go: {flows_doc}.");
        let note = self.comment(&format!("source {name} = {kind}"));
        let spawn = quote! {
            #note
            let #cfg = #config;
            let #var = #module::build(#cfg).await.map_err(AgentError::component(#name))?;
            let output = #output { #(#field_inits),* };
            ctx.spawn_source(#name, #kind, #var, output);
        };
        let output_def = quote! {
            #[doc = #doc]
            struct #output {
                #(#field_defs),*
            }

            impl Output for #output {
                async fn send(&self, batch: Batch) -> Result<(), Closed> {
                    #(#sends)*
                    Ok(())
                }
            }
        };
        Some((spawn, output_def))
    }

    /// `events.retain_mut(|event| { ... })` applying the transforms in order.
    fn chain(
        &mut self,
        transforms: &[Ident],
        add_field: &mut impl FnMut(proc_macro2::Ident, TokenStream, TokenStream),
    ) -> TokenStream {
        if transforms.is_empty() {
            return quote!();
        }
        let event = quote!(&*event);
        let mut steps = Vec::new();
        for t in transforms {
            let Some(c) = self.symbols.get(&t.name) else {
                continue;
            };
            let Some(spec) = c.spec else { continue };
            let name = c.name();
            match spec.kind {
                "filter" => {
                    let Some(when) = c.decl.params().iter().find(|p| p.name.name == "when") else {
                        continue;
                    };
                    let sluice_dsl::ValueKind::Expr(e) = &when.value.kind else {
                        continue;
                    };
                    let cond = self.exprs.compile(e, &event);
                    let counters = names::transform_counters(name);
                    add_field(
                        counters.clone(),
                        quote!(Arc<sluice_runtime::metrics::TransformCounters>),
                        quote!(ctx.metrics().transform(#name, "filter")),
                    );
                    let note = self.comment(&format!("{name}: filter"));
                    steps.push(quote! {
                        #note
                        if !expr::truthy(&#cond) {
                            self.#counters.dropped.inc();
                            return false;
                        }
                    });
                }
                "set" => {
                    let Some(headers) = c.decl.params().iter().find(|p| p.name.name == "headers")
                    else {
                        continue;
                    };
                    let sluice_dsl::ValueKind::Map(entries) = &headers.value.kind else {
                        continue;
                    };
                    let note = self.comment(&format!("{name}: set"));
                    steps.push(note);
                    for entry in entries {
                        let sluice_dsl::ValueKind::Expr(e) = &entry.value.kind else {
                            continue;
                        };
                        let value = self.exprs.compile(e, &event);
                        let header = &entry.key.name;
                        steps.push(quote! {
                            let value = expr::owned(#value);
                            expr::set_header(event, #header, value);
                        });
                    }
                }
                _ => {
                    let Some(runtime_type) = spec.runtime_type else {
                        continue;
                    };
                    let field = names::transform(name);
                    let ty = names::path(runtime_type);
                    add_field(field.clone(), quote!(Arc<#ty>), quote!(#field.clone()));
                    steps.push(quote! {
                        if !self.#field.apply(event) {
                            return false;
                        }
                    });
                }
            }
        }
        quote! {
            events.retain_mut(|event| {
                #(#steps)*
                true
            });
        }
    }

    /// Puts `events` into the path's first target: a channel, each of a list, or a route.
    fn deliver(
        &mut self,
        path: &FlowStmt,
        add_field: &mut impl FnMut(proc_macro2::Ident, TokenStream, TokenStream),
    ) -> TokenStream {
        let channel_field =
            |name: &str,
             add_field: &mut dyn FnMut(proc_macro2::Ident, TokenStream, TokenStream)| {
                let ident = names::channel(name);
                let ty = self
                    .symbols
                    .get(name)
                    .and_then(|c| c.spec)
                    .and_then(|s| s.runtime_type)
                    .map(names::path)
                    .unwrap_or_else(|| quote!(()));
                add_field(ident.clone(), quote!(Arc<#ty>), quote!(#ident.clone()));
                ident
            };
        match path.steps.first() {
            Some(Step::Name(channel)) => {
                let ch = channel_field(&channel.name, add_field);
                quote! { self.#ch.put(events).await?; }
            }
            Some(Step::List {
                names: channels, ..
            }) => {
                let mut puts = Vec::new();
                for (i, channel) in channels.iter().enumerate() {
                    let ch = channel_field(&channel.name, add_field);
                    if i + 1 == channels.len() {
                        puts.push(quote! { self.#ch.put(events).await?; });
                    } else {
                        puts.push(quote! { self.#ch.put(events.clone()).await?; });
                    }
                }
                quote!(#(#puts)*)
            }
            Some(Step::Route(route)) => {
                // One vector per distinct target channel; arms are tried in order.
                let mut targets: Vec<String> = Vec::new();
                for arm in &route.arms {
                    if let ArmTarget::Name(n) = &arm.target {
                        if !targets.contains(&n.name) {
                            targets.push(n.name.clone());
                        }
                    }
                }
                let key = self.exprs.compile(&route.key, &quote!(&event));
                let mut branches = Vec::new();
                let mut default = quote!(None);
                for arm in &route.arms {
                    let target = match &arm.target {
                        ArmTarget::Drop(_) => quote!(None),
                        ArmTarget::Name(n) => {
                            let i = targets.iter().position(|t| *t == n.name).unwrap_or(0);
                            let i = proc_macro2::Literal::usize_unsuffixed(i);
                            quote!(Some(#i))
                        }
                    };
                    match &arm.patterns {
                        Patterns::Wildcard(_) => default = target,
                        Patterns::Values(values) => {
                            let tests = values.iter().map(|v| {
                                let lit = v
                                    .literal()
                                    .map(exprs::literal)
                                    .unwrap_or_else(|| quote!(Value::Null));
                                quote!(expr::matches_literal(&key, &#lit))
                            });
                            branches.push(quote!(if #(#tests)||* { #target }));
                        }
                    }
                }
                let vecs: Vec<proc_macro2::Ident> = (0..targets.len())
                    .map(|i| names::ident(&format!("to_{i}")))
                    .collect();
                let puts: Vec<TokenStream> = targets
                    .iter()
                    .zip(&vecs)
                    .map(|(t, v)| {
                        let ch = channel_field(t, add_field);
                        quote! {
                            if !#v.is_empty() {
                                self.#ch.put(#v).await?;
                            }
                        }
                    })
                    .collect();
                let indices = (0..targets.len()).map(proc_macro2::Literal::usize_unsuffixed);
                quote! {
                    #(let mut #vecs: Batch = Vec::new();)*
                    for event in events {
                        let target = {
                            let key = #key;
                            #(#branches else)* { #default }
                        };
                        match target {
                            #(Some(#indices) => #vecs.push(event),)*
                            _ => {}
                        }
                    }
                    #(#puts)*
                }
            }
            None => quote!(),
        }
    }

    fn agent_config(&mut self, file: &sluice_dsl::File) -> TokenStream {
        let Some(spec) = catalogue::find(Role::Agent, "agent") else {
            return quote!(());
        };
        let params = file
            .items
            .iter()
            .find_map(|i| match i {
                Item::Agent(a) => a.params.as_ref().map(|b| b.params.as_slice()),
                _ => None,
            })
            .unwrap_or(&[]);
        match self.values.config(spec, params) {
            Ok(t) => t,
            Err(problem) => {
                self.diags.push(Diagnostic::new(
                    Code::Unsupported,
                    sluice_dsl::Span::new(0, 0),
                    format!("cannot build the agent block: {problem}"),
                ));
                quote!(())
            }
        }
    }
}

/// `sluice_runtime::channels::memory` for the memory channel's spec.
fn module_of(spec: &ComponentSpec) -> TokenStream {
    let module = spec
        .rust_type
        .rsplit_once("::")
        .map_or(spec.rust_type, |(m, _)| m);
    names::path(module)
}

fn available(role: Role) -> String {
    catalogue::all()
        .iter()
        .filter(|c| c.role == role && !c.planned && c.runtime_type.is_some())
        .map(|c| c.kind)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a component needs the runtime's TLS support: it sets `tls`, or it is the
/// `http` sink and its `url` is not a literal `http://` one (so `https://` URLs, also
/// those that come from `env(...)`, work without a `tls` block).
fn needs_tls(spec: &ComponentSpec, params: &[sluice_dsl::Param]) -> bool {
    let written = |name: &str| params.iter().find(|p| p.name.name == name);
    if written("tls").is_some() {
        return true;
    }
    if spec.role == Role::Sink && spec.kind == "http" {
        let plain = written("url").and_then(|u| match u.value.literal() {
            Some(sluice_dsl::Literal::Str(url)) => Some(url.starts_with("http://")),
            _ => None,
        });
        return plain != Some(true);
    }
    false
}
