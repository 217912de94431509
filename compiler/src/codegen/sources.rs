//! Emits a source (built through `BuildSource`) and its `Output`: the struct whose
//! `send` applies each of the source's paths — transforms in order, then the delivery
//! into channels or through a route.

use proc_macro2::{Ident, TokenStream};
use quote::quote;
use sluice_runtime::catalogue::Role;

use super::{names, Gen};
use crate::ir::{Delivery, Flow, Route, Source, Step};

/// What a source's aggregates add to its generated code.
#[derive(Default)]
struct Aggregates {
    /// The statements that build each aggregate's state.
    builds: Vec<TokenStream>,
    /// `ctx.spawn_aggregate(...)` per aggregate.
    spawns: Vec<TokenStream>,
    /// The `after_NAME` methods of the `Output` struct.
    methods: Vec<TokenStream>,
    /// The `NAMEWindows` structs and their `Output` impls.
    structs: Vec<TokenStream>,
    /// The fields holding the aggregates, marked busy while a batch is sent.
    fields: Vec<Ident>,
}

/// Whether `tokens` use the identifier `name` anywhere.
fn uses_ident(tokens: &TokenStream, name: &str) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == name,
        proc_macro2::TokenTree::Group(g) => uses_ident(&g.stream(), name),
        _ => false,
    })
}

/// The fields of an `Output` struct: name, type, initializer; each once. `channels`
/// lists the ones holding channels.
#[derive(Default)]
struct Fields {
    all: Vec<(Ident, TokenStream, TokenStream)>,
    channels: Vec<Ident>,
    /// Puts into each channel still to be emitted: only the last one carries the mark.
    puts_left: std::collections::HashMap<String, usize>,
}

impl Fields {
    fn add(&mut self, ident: Ident, ty: TokenStream, init: TokenStream) -> Ident {
        if !self.all.iter().any(|(i, _, _)| *i == ident) {
            self.all.push((ident.clone(), ty, init));
        }
        ident
    }

    /// The mark argument of the next put into `channel`: the batch's mark on its last
    /// put there, `None` before. A source with two flows into one channel must not
    /// commit its new position with the first put, or a crash between the two would
    /// skip the second flow's events.
    fn mark_for(&mut self, channel: &str) -> TokenStream {
        let left = self.puts_left.entry(channel.to_owned()).or_insert(1);
        *left = left.saturating_sub(1);
        if *left == 0 {
            quote!(mark)
        } else {
            quote!(None)
        }
    }

    /// The field holding channel `name`.
    fn channel(&mut self, flow: &Flow, name: &str) -> Ident {
        let ident = names::channel(name);
        let ty = flow
            .channels
            .iter()
            .find(|c| c.name == name)
            .map(|c| {
                let config = names::path(c.config.rust_type);
                quote!(ChannelOf<#config>)
            })
            .unwrap_or_else(|| quote!(()));
        if !self.channels.contains(&ident) {
            self.channels.push(ident.clone());
        }
        self.add(ident.clone(), quote!(Arc<#ty>), quote!(#ident.clone()))
    }
}

impl Gen {
    /// The statements that build and spawn the source, and its `Output` definition.
    pub(super) fn source(&mut self, flow: &Flow, source: &Source) -> (TokenStream, TokenStream) {
        let c = &source.component;
        let config = self.config_of(c);
        let (name, kind) = (c.name.as_str(), c.spec.kind);
        let var = names::source(name);
        let cfg = names::config(Role::Source, name);
        let output = self.types.output_struct(name);
        let mut fields = Fields::default();
        for path in &source.paths {
            let channels = match &path.delivery {
                Delivery::Channels(channels) => channels,
                Delivery::Route(route) => &route.channels,
            };
            for channel in channels {
                *fields.puts_left.entry(channel.clone()).or_default() += 1;
            }
        }
        let mut sends = Vec::new();
        let mut aggregates = Aggregates::default();
        for (i, path) in source.paths.iter().enumerate() {
            let events = if i + 1 == source.paths.len() {
                quote!(batch)
            } else {
                quote!(batch.clone())
            };
            let note = self.comment(&path.text);
            let body = self.path_from(
                flow,
                (&path.steps, &path.delivery, &path.text),
                events,
                &mut fields,
                &mut aggregates,
                &output,
            );
            sends.push(quote! {
                #note
                #body
            });
        }
        let channel_fields = &fields.channels;
        let field_defs = fields.all.iter().map(|(i, t, _)| quote!(#i: #t));
        let field_inits = fields.all.iter().map(|(i, _, init)| quote!(#i: #init));
        let flows_doc = source
            .paths
            .iter()
            .map(|p| format!("`{}`", p.text))
            .collect::<Vec<_>>()
            .join(", ");
        let doc = format!(" Where the events of source `{name}` go: {flows_doc}.");
        let note = self.comment(&format!("source {name} = {kind}"));
        let Aggregates {
            builds,
            spawns,
            methods,
            structs,
            fields: busy,
        } = aggregates;
        // While a batch is in flight, or the channels have no room, the source is not
        // idle: its aggregates' clocks wait.
        let has_room = if busy.is_empty() {
            quote!(true #(&& self.#channel_fields.has_room(count))*)
        } else {
            quote! {
                let room = true #(&& self.#channel_fields.has_room(count))*;
                if !room {
                    #(self.#busy.hold();)*
                }
                room
            }
        };
        let busy = if busy.is_empty() {
            quote!()
        } else {
            quote!(let _busy = [#(self.#busy.busy()),*];)
        };
        let output_value = if spawns.is_empty() {
            quote!(#output { #(#field_inits),* })
        } else {
            quote!(Arc::new(#output { #(#field_inits),* }))
        };
        let spawn = quote! {
            #(#builds)*
            #note
            let #cfg = #config;
            let #var = #cfg.clone().build().await.map_err(AgentError::component(#name))?;
            let output = #output_value;
            #(#spawns)*
            ctx.spawn_source(#name, #kind, #cfg, #var, output);
        };
        let methods = if methods.is_empty() {
            quote!()
        } else {
            quote! {
                impl #output {
                    #(#methods)*
                }
            }
        };
        let definition = quote! {
            #[doc = #doc]
            struct #output {
                #(#field_defs),*
            }

            impl Output for #output {
                async fn send_marked(&self, batch: Batch, mark: Option<&Mark>) -> Result<(), Closed> {
                    #busy
                    #(#sends)*
                    Ok(())
                }

                fn resume(&self) -> Resume {
                    Resume::agreed(vec![#(self.#channel_fields.marks(#name)),*])
                }

                fn has_room(&self, count: usize) -> bool {
                    #has_room
                }
            }

            #methods
            #(#structs)*
        };
        (spawn, definition)
    }

    /// `let events = INPUT;` then the steps of a flow statement (`path`: steps, delivery
    /// and text) in order and its delivery. At an aggregate the statement splits: the
    /// events so far go into it, and the windows it closes go on through a method of the
    /// `Output` struct generated here (`after_NAME`), also called by the aggregate's
    /// clock (through a `NAMEWindows` struct) and at shutdown.
    fn path_from(
        &mut self,
        flow: &Flow,
        path: (&[Step], &Delivery, &str),
        input: TokenStream,
        fields: &mut Fields,
        aggregates: &mut Aggregates,
        output: &Ident,
    ) -> TokenStream {
        let (steps, delivery, text) = path;
        let split = steps.iter().position(|s| matches!(s, Step::Aggregate(_)));
        let before = &steps[..split.unwrap_or(steps.len())];
        let chain = self.chain(flow, before, fields);
        let binding = if chain.is_empty() {
            quote!(let events: Batch = #input;)
        } else {
            quote!(let mut events: Batch = #input;)
        };
        let rest = match split.map(|k| (&steps[k], &steps[k + 1..])) {
            Some((Step::Aggregate(a), after)) => {
                aggregates.builds.push(self.aggregate_stage(a));
                let var = names::aggregate(&a.name);
                let field = fields.add(
                    var.clone(),
                    quote!(Arc<sluice_runtime::aggregate::stage::Stage>),
                    quote!(#var.clone()),
                );
                aggregates.fields.push(field.clone());
                let absorb = self.absorb(a, &field);
                let method = names::after_aggregate(&a.name);
                let windows = self.types.windows_struct(&a.name);
                // Before the aggregates after it: at shutdown this one is flushed first,
                // so its last windows still reach the next one.
                aggregates
                    .spawns
                    .push(quote!(ctx.spawn_aggregate(#var.clone(), #windows(output.clone()));));
                let body = self.path_from(
                    flow,
                    (after, delivery, text),
                    quote!(windows),
                    fields,
                    aggregates,
                    output,
                );
                let doc = format!(
                    " The windows aggregate `{}` closes, down the rest of `{text}`.",
                    a.name
                );
                // `mark` goes unused when no put here is the batch's last into its channel.
                let mark = if uses_ident(&body, "mark") {
                    quote!(mark)
                } else {
                    quote!(_mark)
                };
                aggregates.methods.push(quote! {
                    #[doc = #doc]
                    async fn #method(&self, windows: Batch, #mark: Option<&Mark>) -> Result<(), Closed> {
                        #body
                        Ok(())
                    }
                });
                let doc = format!(
                    " Where aggregate `{}` sends the windows its clock closes, and those still open at shutdown.",
                    a.name
                );
                aggregates.structs.push(quote! {
                    #[doc = #doc]
                    struct #windows(Arc<#output>);

                    impl Output for #windows {
                        async fn send_marked(&self, batch: Batch, mark: Option<&Mark>) -> Result<(), Closed> {
                            self.0.#method(batch, mark).await
                        }
                    }
                });
                quote! {
                    #absorb
                    self.#method(windows, mark).await?;
                }
            }
            _ => self.deliver(flow, delivery, fields),
        };
        quote! {
            #binding
            #chain
            #rest
        }
    }

    /// `events.retain_mut(|event| { ... })` applying the path's transforms in order.
    fn chain(&mut self, flow: &Flow, path_steps: &[Step], fields: &mut Fields) -> TokenStream {
        if path_steps.is_empty() {
            return quote!();
        }
        let event = quote!(&*event);
        let mut steps = Vec::new();
        for step in path_steps {
            match step {
                Step::Runtime { name } => {
                    let Some(t) = flow.transforms.iter().find(|t| t.name == *name) else {
                        continue;
                    };
                    let config = names::path(t.config.rust_type);
                    let ident = names::transform(name);
                    let field = fields.add(
                        ident.clone(),
                        quote!(Arc<TransformOf<#config>>),
                        quote!(#ident.clone()),
                    );
                    steps.push(quote! {
                        if !self.#field.apply(event) {
                            return false;
                        }
                    });
                }
                // Never in a chain: `path_from` splits the statement there.
                Step::Aggregate(_) => {}
                Step::Inline {
                    name,
                    kind,
                    feature,
                    conditions,
                    headers,
                } => {
                    self.features.insert(feature);
                    let note = self.comment(&format!("{name}: {kind}"));
                    steps.push(note);
                    if !conditions.is_empty() {
                        let counters = fields.add(
                            names::transform_counters(name),
                            quote!(Arc<sluice_runtime::metrics::TransformCounters>),
                            quote!(ctx.metrics().transform(#name, #kind)),
                        );
                        for condition in conditions {
                            let keep = self.exprs.condition(condition, &event);
                            steps.push(quote! {
                                if !#keep {
                                    self.#counters.dropped.inc();
                                    return false;
                                }
                            });
                        }
                    }
                    for (header, value) in headers {
                        let value = self.exprs.value(value, &event);
                        steps.push(quote! {
                            let value = expr::owned(#value);
                            expr::set_header(event, #header, value);
                        });
                    }
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

    /// Puts `events` into the path's channels, or routes them.
    fn deliver(&mut self, flow: &Flow, delivery: &Delivery, fields: &mut Fields) -> TokenStream {
        match delivery {
            Delivery::Channels(channels) => {
                let mut puts = Vec::new();
                for (i, channel) in channels.iter().enumerate() {
                    let ch = fields.channel(flow, channel);
                    let mark = fields.mark_for(channel);
                    puts.push(if i + 1 == channels.len() {
                        quote! { self.#ch.put_marked(events, #mark).await?; }
                    } else {
                        quote! { self.#ch.put_marked(events.clone(), #mark).await?; }
                    });
                }
                quote!(#(#puts)*)
            }
            Delivery::Route(route) => self.route(flow, route, fields),
        }
    }

    /// One batch per target channel (`to_CHANNEL`), filled by the first arm that
    /// matches each event's key (a `drop` arm's target is `None`), then put.
    fn route(&mut self, flow: &Flow, route: &Route, fields: &mut Fields) -> TokenStream {
        let key = self.exprs.value(&route.key, &quote!(&event));
        let target = |channel: &Option<String>| match channel {
            Some(c) => {
                let batch = names::route_batch(c);
                quote!(Some(&mut #batch))
            }
            None => quote!(None),
        };
        let mut branches = Vec::new();
        let mut default = quote!(None);
        for arm in &route.arms {
            match &arm.patterns {
                None => default = target(&arm.channel),
                Some(patterns) => {
                    let tests = patterns.iter().map(|p| {
                        let lit = super::exprs::literal(p);
                        quote!(expr::matches_literal(&key, &#lit))
                    });
                    let body = target(&arm.channel);
                    branches.push(quote!(if #(#tests)||* { #body }));
                }
            }
        }
        let batches: Vec<Ident> = route
            .channels
            .iter()
            .map(|c| names::route_batch(c))
            .collect();
        let mut puts = Vec::new();
        for (c, batch) in route.channels.iter().zip(&batches) {
            let ch = fields.channel(flow, c);
            let mark = fields.mark_for(c);
            puts.push(quote! {
                self.#ch.put_marked(#batch, #mark).await?;
            });
        }
        quote! {
            #(let mut #batches: Batch = Vec::new();)*
            for event in events {
                let target: Option<&mut Batch> = {
                    let key = #key;
                    #(#branches else)* { #default }
                };
                if let Some(batch) = target {
                    batch.push(event);
                }
            }
            #(#puts)*
        }
    }
}
