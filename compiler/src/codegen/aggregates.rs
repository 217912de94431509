//! Emits an `aggregate`: the statement that builds its running state (a
//! `sluice_runtime::aggregate::stage::Stage` with its window, functions and output
//! headers) and the loop that feeds it each event's time, group key and function inputs,
//! compiled from the flow's expressions. `sources.rs` splits the flow statement there.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use sluice_core::aggregate::{AggregateFn, WindowForm};

use super::config::millis;
use super::{names, Gen};
use crate::ir::Aggregate;

impl Gen {
    /// `let agg_NAME = Arc::new(Stage::new(...));`
    pub(super) fn aggregate_stage(&mut self, a: &Aggregate) -> TokenStream {
        self.features.insert(a.feature);
        let var = names::aggregate(&a.name);
        let name = a.name.as_str();
        let note = self.comment(&format!("transform {name} = aggregate"));
        let duration = |i: usize| millis(&a.durations.get(i).copied().unwrap_or_default());
        let window = match a.window {
            WindowForm::Tumbling => {
                let size = duration(0);
                quote!(Tumbling { size: #size })
            }
            WindowForm::Hopping => {
                let (size, every) = (duration(0), duration(1));
                quote!(Hopping { size: #size, every: #every })
            }
            WindowForm::Session => {
                let gap = duration(0);
                quote!(Session { gap: #gap })
            }
        };
        let lateness = millis(&a.lateness);
        let functions = a.emit.iter().map(|e| {
            let fraction = Literal::f64_suffixed(e.fraction);
            let count = Literal::usize_unsuffixed(usize::try_from(e.count).unwrap_or(1));
            match e.function {
                AggregateFn::Count => quote!(Count),
                AggregateFn::Sum => quote!(Sum),
                AggregateFn::Min => quote!(Min),
                AggregateFn::Max => quote!(Max),
                AggregateFn::Avg => quote!(Avg),
                AggregateFn::First => quote!(First),
                AggregateFn::Last => quote!(Last),
                AggregateFn::Quantile => quote!(Quantile(#fraction)),
                AggregateFn::CountDistinct => quote!(CountDistinct),
                AggregateFn::TopK => quote!(TopK(#count)),
            }
        });
        let max_groups =
            Literal::usize_unsuffixed(usize::try_from(a.max_groups).unwrap_or(usize::MAX));
        let event_time = a.time.is_some();
        let keys = a.by.iter().map(|(header, _)| header.as_str());
        let values = a.emit.iter().map(|e| e.header.as_str());
        quote! {
            #note
            let #var = {
                use sluice_runtime::aggregate::{Function::*, Window::*};
                Arc::new(sluice_runtime::aggregate::stage::Stage::new(
                    #name,
                    sluice_runtime::aggregate::Spec {
                        window: #window,
                        lateness: #lateness,
                        functions: vec![#(#functions),*],
                        max_groups: #max_groups,
                    },
                    #event_time,
                    vec![#(#keys),*],
                    vec![#(#values),*],
                    ctx.metrics().transform(#name, "aggregate"),
                ))
            };
        }
    }

    /// `let windows = { ... };`: each of `events` added to the aggregate held in field
    /// `field`, and the windows that closed.
    pub(super) fn absorb(&mut self, a: &Aggregate, field: &Ident) -> TokenStream {
        let event = quote!(event);
        let time = a.time.as_ref().map(|t| self.exprs.value(t, &event));
        let (time_binding, time_arg) = match time {
            Some(t) => (quote!(let time = #t;), quote!(Some(&time))),
            None => (quote!(), quote!(None)),
        };
        let keys: Vec<TokenStream> =
            a.by.iter()
                .map(|(_, e)| {
                    let v = self.exprs.value(e, &event);
                    quote!(stage::key(#v))
                })
                .collect();
        let mut bindings = Vec::new();
        let mut inputs = Vec::new();
        for (i, emit) in a.emit.iter().enumerate() {
            match &emit.arg {
                Some(arg) => {
                    let v = self.exprs.value(arg, &event);
                    let ident = format_ident!("arg_{i}");
                    bindings.push(quote!(let #ident = #v;));
                    inputs.push(quote!(stage::input(&#ident)));
                }
                None => inputs.push(quote!(None)),
            }
        }
        let per_event = time_arg.to_string() != "None" || !keys.is_empty() || !bindings.is_empty();
        let import = if keys.is_empty() && bindings.is_empty() {
            quote!()
        } else {
            quote!(
                use sluice_runtime::aggregate::stage;
            )
        };
        let each = if per_event {
            quote!(event)
        } else {
            quote!(_event)
        };
        quote! {
            let windows = {
                #import
                let mut absorber = self.#field.absorber()?;
                for #each in &events {
                    #time_binding
                    #(#bindings)*
                    absorber.add(#time_arg, vec![#(#keys),*], &[#(#inputs),*]);
                }
                absorber.finish()
            };
        }
    }
}
