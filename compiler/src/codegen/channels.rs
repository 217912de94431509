//! Emits a channel: its config and `build` through `BuildChannel`.

use proc_macro2::TokenStream;
use quote::quote;
use sluice_runtime::catalogue::Role;

use super::{names, Gen};
use crate::ir::Component;

impl Gen {
    pub(super) fn channel(&mut self, c: &Component) -> TokenStream {
        let config = self.config_of(c);
        let (name, kind) = (c.name.as_str(), c.spec.kind);
        let var = names::channel(name);
        let cfg = names::config(Role::Channel, name);
        let note = self.comment(&format!("channel {name} = {kind}"));
        quote! {
            #note
            let #cfg = #config;
            let #var = ctx.channel(
                #name,
                #cfg.build(ctx.metrics().channel(#name, #kind))
                    .await
                    .map_err(AgentError::component(#name))?,
            );
        }
    }
}
