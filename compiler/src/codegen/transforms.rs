//! Emits a run-time transform (built through `BuildTransform`); inline transforms are
//! compiled into their sources' outputs (`sources.rs`).

use proc_macro2::TokenStream;
use quote::quote;
use sluice_runtime::catalogue::Role;

use super::{names, Gen};
use crate::ir::Component;

impl Gen {
    pub(super) fn transform(&mut self, c: &Component) -> TokenStream {
        let config = self.config_of(c);
        let (name, kind) = (c.name.as_str(), c.spec.kind);
        let var = names::transform(name);
        let cfg = names::config(Role::Transform, name);
        let note = self.comment(&format!("transform {name} = {kind}"));
        quote! {
            #note
            let #cfg = #config;
            let #var = Arc::new(
                #cfg.build(ctx.metrics().transform(#name, #kind))
                    .await
                    .map_err(AgentError::component(#name))?,
            );
        }
    }
}
