//! Emits what drains a channel: a sink (built through `BuildSink`), or a group (built
//! through `BuildGroup`) with its member sinks and a generated members struct.

use proc_macro2::TokenStream;
use quote::quote;
use sluice_runtime::catalogue::Role;

use super::{names, Gen};
use crate::ir::{Component, Drain, DrainTarget};

/// Events per take when a sink declares no batch parameter.
const DEFAULT_BATCH: u64 = 100;

impl Gen {
    /// The statements that build and spawn the drain, and for a group the definition of
    /// its members struct.
    pub(super) fn drain(&mut self, drain: &Drain) -> (TokenStream, Option<TokenStream>) {
        match &drain.target {
            DrainTarget::Sink { sink, instance } => {
                (self.sink(sink, &drain.channel, instance.as_deref()), None)
            }
            DrainTarget::Group { group, members } => self.group(group, members, &drain.channel),
        }
    }

    fn sink(&mut self, c: &Component, channel: &str, instance: Option<&str>) -> TokenStream {
        let config = self.config_of(c);
        let (name, kind) = (c.name.as_str(), c.spec.kind);
        let var = match instance {
            Some(from) => names::sink(&format!("{name}_from_{from}")),
            None => names::sink(name),
        };
        let cfg = names::config(Role::Sink, name);
        let ch = names::channel(channel);
        let batch = batch_of(c, &cfg);
        let note = self.comment(&format!("sink {name} = {kind}, drains {channel}"));
        quote! {
            #note
            let #cfg = #config;
            let batch_size = #batch;
            let #var = #cfg.build().await.map_err(AgentError::component(#name))?;
            ctx.spawn_sink(#name, #kind, #ch.clone(), #var, batch_size);
        }
    }

    /// A group draining `channel`: its member sinks, a members struct implementing
    /// `GroupMembers` (defined once per group, however many channels it drains), and the
    /// group sink that picks a member per batch.
    fn group(
        &mut self,
        group: &Component,
        members: &[Component],
        channel: &str,
    ) -> (TokenStream, Option<TokenStream>) {
        let config = self.config_of(group);
        let (name, kind) = (group.name.as_str(), group.spec.kind);
        let mut configs = Vec::new();
        let mut builds = Vec::new();
        let mut batches = Vec::new();
        let mut fields = Vec::new();
        let mut arms = Vec::new();
        for (index, member) in members.iter().enumerate() {
            let member_config = self.config_of(member);
            let cfg = names::config(Role::Sink, &member.name);
            let var = names::sink(&member.name);
            let config_ty = names::path(member.config.rust_type);
            let member_name = &member.name;
            configs.push(quote!(let #cfg = #member_config;));
            if member.batch_field.is_some() {
                batches.push(batch_of(member, &cfg));
            }
            let member_kind = member.spec.kind;
            // A member reports its own counters (dropped events, say) under its name.
            builds.push(quote! {
                let mut #var = #cfg.build().await.map_err(AgentError::component(#member_name))?;
                #var.bind_counters(ctx.metrics().sink(#member_name, #member_kind));
            });
            let index = proc_macro2::Literal::usize_unsuffixed(index);
            arms.push(quote!(#index => self.#var.write(batch).await,));
            fields.push((var, quote!(SinkOf<#config_ty>)));
        }
        let defined = self.members_structs.get(name).cloned();
        let members_struct = match &defined {
            Some(ident) => ident.clone(),
            None => {
                let ident = self.types.members_struct(name);
                self.members_structs.insert(name.to_owned(), ident.clone());
                ident
            }
        };
        let cfg = names::config(Role::Group, name);
        let var = names::sink(name);
        let ch = names::channel(channel);
        let batch = match batches.split_first() {
            Some((first, rest)) => quote!(#first #(.min(#rest))*),
            None => batch_literal(),
        };
        let member_names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        let note = self.comment(&format!(
            "group {name} = {kind} [{}], drains {channel}",
            member_names.join(", ")
        ));
        let field_inits = fields.iter().map(|(f, _)| f);
        let run = quote! {
            #note
            #(#configs)*
            let batch_size = #batch;
            #(#builds)*
            let #cfg = #config;
            let members = #members_struct { #(#field_inits),* };
            let #var = #cfg.build(members).await.map_err(AgentError::component(#name))?;
            ctx.spawn_sink(#name, #kind, #ch.clone(), #var, batch_size);
        };
        if defined.is_some() {
            return (run, None);
        }
        let field_defs = fields.iter().map(|(f, t)| quote!(#f: #t));
        let closes = fields
            .iter()
            .map(|(f, _)| quote!(let #f = self.#f.close().await;));
        let results = fields.iter().map(|(f, _)| f);
        let doc = format!(" The member sinks of group `{name}`, in its member order.");
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
        (run, Some(definition))
    }
}

/// The sink's events per take: its batch parameter, read from its config variable.
fn batch_of(c: &Component, cfg: &proc_macro2::Ident) -> TokenStream {
    match c.batch_field {
        Some(field) => {
            let field = names::ident(field);
            quote!(#cfg.#field)
        }
        None => batch_literal(),
    }
}

fn batch_literal() -> TokenStream {
    let n = proc_macro2::Literal::u64_unsuffixed(DEFAULT_BATCH);
    quote!(#n)
}
