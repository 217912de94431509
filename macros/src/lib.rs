//! Derives that let a Sluice component declare its parameters exactly once.
//!
//! `#[derive(Component)]` on a config struct produces the component's catalogue entry
//! (`sluice_runtime::catalogue::Component`): its role and kind from `#[component(...)]`, its
//! docs from doc comments, and one parameter per field, typed by the field's type. The
//! checker, the code generator, `sluice explain` and the docs all read that entry.
//!
//! ```ignore
//! /// Reads lines from standard input.
//! #[derive(Component)]
//! #[component(role = "source", kind = "stdin")]
//! pub struct StdinConfig {
//!     /// Longest line accepted; longer lines are counted and dropped.
//!     #[param(default = "64KiB", min = 1)]
//!     pub max_line: ByteSize,
//! }
//! ```
//!
//! Field attributes (`#[param(...)]`): `default = "<flow literal>"`, `min = N`, `max = N`
//! (integers; bytes for sizes, milliseconds for durations), `binds = "tcp" | "udp"`,
//! `path_key`, `groups_of = "param"` (a list naming the capture groups of that regex),
//! and one purpose word the checker and code generator ask for (`batch`, `members`,
//! `capacity`, `transaction_capacity`, `tls`, `tls_by_scheme`: see
//! `sluice_runtime::catalogue::Purpose`). A field of type `Option<T>` is optional with no
//! default; a field with a default is optional; any other field is required.
//!
//! Component attributes (`#[component(...)]`): `role`, `kind`, `feature` (default
//! `ROLE-KIND`), `replayable`, `durable`, `planned` (declared but not built yet),
//! `inline` (a transform the code generator compiles into the agent), `requires_one_of`,
//! and any number of `rule(when = "param=word", then = "other" | "other=word", help =
//! "...")`: when `param` is (or defaults to) `word`, `other` must be given (or be
//! `word`), which `sluice check` reports with `help`. Every other component implements its role's `Build*` trait (`sluice_runtime::build`).
//!
//! `#[derive(Params)]` does the same for a nested block type (`tls = { ... }`), and
//! `#[derive(ParamEnum)]` turns a fieldless enum into a parameter taking one of its
//! variant names in snake_case.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use sluice_declare as declare;
use syn::{parse_macro_input, DeriveInput};

#[proc_macro_derive(Component, attributes(component, param))]
pub fn derive_component(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_component(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

#[proc_macro_derive(Params, attributes(param))]
pub fn derive_params(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_params(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

#[proc_macro_derive(ParamEnum)]
pub fn derive_param_enum(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand_param_enum(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn catalogue() -> TokenStream2 {
    quote!(::sluice_runtime::catalogue)
}

fn expand_component(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let cat = catalogue();
    let attrs = declare::component(input)?;
    let role = syn::Ident::new(
        &declare::camel_case(&attrs.role),
        proc_macro2::Span::call_site(),
    );
    let name = &input.ident;
    let kind = &attrs.kind;
    let feature = attrs.feature();
    let doc = &attrs.doc;
    let params = param_specs(input)?;
    let type_name = name.to_string();
    let replayable = attrs.replayable;
    let durable = attrs.durable;
    let planned = attrs.planned;
    let inline = attrs.inline;
    let groups = attrs.requires_one_of.iter().map(|g| quote!(&[#(#g),*]));
    let rules = attrs.rules.iter().map(|rule| {
        let (when_param, when_word) = (&rule.when.0, &rule.when.1);
        let then_param = &rule.then.0;
        let then_word = option_tokens(rule.then.1.as_ref().map(|w| quote!(#w)));
        let help = &rule.help;
        quote!(#cat::ParamRule {
            when: (#when_param, #when_word),
            then: (#then_param, #then_word),
            help: #help,
        })
    });
    Ok(quote! {
        impl #cat::Component for #name {
            fn spec() -> #cat::ComponentSpec {
                #cat::ComponentSpec {
                    role: #cat::Role::#role,
                    kind: #kind,
                    doc: #doc,
                    params: #params,
                    rust_type: concat!(module_path!(), "::", #type_name),
                    feature: #feature,
                    replayable: #replayable,
                    durable: #durable,
                    planned: #planned,
                    inline: #inline,
                    requires_one_of: &[#(#groups),*],
                    rules: &[#(#rules),*],
                }
            }
        }
    })
}

fn expand_params(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let cat = catalogue();
    let name = &input.ident;
    let params = param_specs(input)?;
    Ok(quote! {
        impl #cat::ParamValue for #name {
            fn param_type() -> #cat::ParamType {
                #cat::ParamType::Record {
                    rust_type: concat!(module_path!(), "::", stringify!(#name)),
                    fields: #params,
                }
            }
        }
    })
}

/// `vec![ParamSpec { ... }, ...]` for the named fields of a struct.
fn param_specs(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let cat = catalogue();
    let specs = declare::fields(input)?.into_iter().map(|field| {
        let name = &field.name;
        let ty = &field.ty;
        let doc = &field.doc;
        let required = field.required();
        let path_key = field.path_key;
        let default = option_tokens(field.default.map(|d| quote!(#d)));
        let min = option_tokens(field.min.map(|v| quote!(#v)));
        let max = option_tokens(field.max.map(|v| quote!(#v)));
        let binds = option_tokens(field.binds.map(|v| quote!(#v)));
        let groups_of = option_tokens(field.groups_of.map(|v| quote!(#v)));
        // A purpose word names a `catalogue::Purpose` variant (`transaction_capacity` →
        // `TransactionCapacity`); rustc rejects one that does not exist.
        let purpose = option_tokens(field.purpose.map(|word| {
            let variant = syn::Ident::new(&declare::camel_case(&word.to_string()), word.span());
            quote!(#cat::Purpose::#variant)
        }));
        quote! {
            #cat::ParamSpec {
                name: #name,
                doc: #doc,
                ty: <#ty as #cat::ParamValue>::param_type(),
                required: #required,
                default: #default,
                min: #min,
                max: #max,
                binds: #binds,
                path_key: #path_key,
                groups_of: #groups_of,
                purpose: #purpose,
            }
        }
    });
    Ok(quote!(vec![#(#specs),*]))
}

fn expand_param_enum(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let cat = catalogue();
    let name = &input.ident;
    let (words, variants): (Vec<String>, Vec<syn::Ident>) =
        declare::enum_words(input)?.into_iter().unzip();
    Ok(quote! {
        impl #cat::ParamValue for #name {
            fn param_type() -> #cat::ParamType {
                #cat::ParamType::Enum(#cat::EnumWords {
                    words: &[#(#words),*],
                    rust_type: concat!(module_path!(), "::", stringify!(#name)),
                })
            }
        }

        impl ::sluice_runtime::env::FromEnv for #name {
            fn from_env(text: &str) -> ::std::result::Result<Self, ::std::string::String> {
                Self::from_word(text.trim()).ok_or_else(|| {
                    ::std::format!("is not one of {}", [#(#words),*].join(", "))
                })
            }
        }

        impl #name {
            /// Every accepted word, in declaration order.
            pub const WORDS: &'static [&'static str] = &[#(#words),*];

            /// The word this value is written as.
            pub fn as_str(&self) -> &'static str {
                match self {
                    #(Self::#variants => #words,)*
                }
            }

            /// The value written as `word`, if it is one of [`Self::WORDS`].
            pub fn from_word(word: &str) -> ::std::option::Option<Self> {
                match word {
                    #(#words => ::std::option::Option::Some(Self::#variants),)*
                    _ => ::std::option::Option::None,
                }
            }
        }
    })
}

fn option_tokens(value: Option<TokenStream2>) -> TokenStream2 {
    match value {
        Some(v) => quote!(::std::option::Option::Some(#v)),
        None => quote!(::std::option::Option::None),
    }
}
