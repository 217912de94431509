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
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

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

struct ComponentAttrs {
    role: String,
    kind: String,
    feature: Option<String>,
    replayable: bool,
    durable: bool,
    planned: bool,
    inline: bool,
    requires_one_of: Vec<Vec<String>>,
    /// `rule(when = "a=x", then = "b" | "b=y", help = "...")`, parsed.
    rules: Vec<TokenStream2>,
}

fn expand_component(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let cat = catalogue();
    let mut attrs = ComponentAttrs {
        role: String::new(),
        kind: String::new(),
        feature: None,
        replayable: false,
        durable: false,
        planned: false,
        inline: false,
        requires_one_of: Vec::new(),
        rules: Vec::new(),
    };
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("component"))
    {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("role") {
                attrs.role = meta.value()?.parse::<LitStr>()?.value();
            } else if meta.path.is_ident("kind") {
                attrs.kind = meta.value()?.parse::<LitStr>()?.value();
            } else if meta.path.is_ident("feature") {
                attrs.feature = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("replayable") {
                attrs.replayable = true;
            } else if meta.path.is_ident("durable") {
                attrs.durable = true;
            } else if meta.path.is_ident("planned") {
                attrs.planned = true;
            } else if meta.path.is_ident("inline") {
                attrs.inline = true;
            } else if meta.path.is_ident("rule") {
                let (mut when, mut then, mut help) = (None, None, String::new());
                meta.parse_nested_meta(|inner| {
                    let value = inner.value()?.parse::<LitStr>()?;
                    if inner.path.is_ident("when") {
                        when = Some(value);
                    } else if inner.path.is_ident("then") {
                        then = Some(value);
                    } else if inner.path.is_ident("help") {
                        help = value.value();
                    } else {
                        return Err(inner.error("expected when, then or help"));
                    }
                    Ok(())
                })?;
                let (Some(when), Some(then)) = (when, then) else {
                    return Err(meta.error("a rule needs `when = \"param=word\"` and `then`"));
                };
                let Some((when_param, when_word)) = when.value().split_once('=').map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned())) else {
                    return Err(syn::Error::new(when.span(), "write `when = \"param=word\"`"));
                };
                let then = then.value();
                let then_tokens = match then.split_once('=') {
                    Some((p, w)) => {
                        let (p, w) = (p.trim(), w.trim());
                        quote!((#p, Some(#w)))
                    }
                    None => {
                        let p = then.trim();
                        quote!((#p, None))
                    }
                };
                let cat = catalogue();
                attrs.rules.push(quote!(#cat::ParamRule {
                    when: (#when_param, #when_word),
                    then: #then_tokens,
                    help: #help,
                }));
            } else if meta.path.is_ident("requires_one_of") {
                let names = meta.value()?.parse::<LitStr>()?.value();
                attrs
                    .requires_one_of
                    .push(names.split(',').map(|n| n.trim().to_owned()).collect());
            } else {
                return Err(meta.error(
                    "expected role, kind, feature, replayable, durable, planned, inline, requires_one_of or rule",
                ));
            }
            Ok(())
        })?;
    }
    let role =
        match attrs.role.as_str() {
            "source" => quote!(Source),
            "channel" => quote!(Channel),
            "sink" => quote!(Sink),
            "transform" => quote!(Transform),
            "group" => quote!(Group),
            "agent" => quote!(Agent),
            _ => return Err(syn::Error::new(
                Span::call_site(),
                "#[component(role = \"source|channel|sink|transform|group|agent\")] is required",
            )),
        };
    if attrs.kind.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            "#[component(kind = \"...\")] is required",
        ));
    }
    let name = &input.ident;
    let kind = &attrs.kind;
    let feature = attrs
        .feature
        .unwrap_or_else(|| format!("{}-{}", attrs.role, attrs.kind.replace('_', "-")));
    let doc = doc_string(&input.attrs);
    let params = param_specs(input)?;
    let type_name = name.to_string();
    let replayable = attrs.replayable;
    let durable = attrs.durable;
    let planned = attrs.planned;
    let inline = attrs.inline;
    let groups = attrs.requires_one_of.iter().map(|g| quote!(&[#(#g),*]));
    let rules = &attrs.rules;
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
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(&input.ident, "expected a struct"));
    };
    let fields = match &data.fields {
        Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
        Fields::Unit => Vec::new(),
        Fields::Unnamed(_) => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                "expected named fields",
            ))
        }
    };
    let mut specs = Vec::new();
    for field in fields {
        let ident = field.ident.as_ref().expect("named field");
        let name = ident.to_string().trim_start_matches("r#").to_owned();
        let ty = &field.ty;
        let doc = doc_string(&field.attrs);
        let mut default: Option<String> = None;
        let mut min: Option<i64> = None;
        let mut max: Option<i64> = None;
        let mut binds: Option<String> = None;
        let mut path_key = false;
        let mut groups_of: Option<String> = None;
        let mut purpose: Option<syn::Ident> = None;
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("param")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("default") {
                    default = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if meta.path.is_ident("min") {
                    min = Some(meta.value()?.parse::<syn::LitInt>()?.base10_parse()?);
                } else if meta.path.is_ident("max") {
                    max = Some(meta.value()?.parse::<syn::LitInt>()?.base10_parse()?);
                } else if meta.path.is_ident("binds") {
                    binds = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if meta.path.is_ident("path_key") {
                    path_key = true;
                } else if meta.path.is_ident("groups_of") {
                    groups_of = Some(meta.value()?.parse::<LitStr>()?.value());
                } else if let Some(word) = meta
                    .path
                    .get_ident()
                    .filter(|_| meta.input.is_empty() || meta.input.peek(syn::Token![,]))
                {
                    // Any other bare word names a `catalogue::Purpose` variant
                    // (`transaction_capacity` → `TransactionCapacity`); rustc rejects
                    // one that does not exist.
                    if purpose.is_some() {
                        return Err(meta.error("a parameter has at most one purpose"));
                    }
                    purpose = Some(syn::Ident::new(&camel_case(&word.to_string()), word.span()));
                } else {
                    return Err(meta.error(
                        "expected default, min, max, binds, path_key, groups_of or a purpose word",
                    ));
                }
                Ok(())
            })?;
        }
        let optional = is_option(ty);
        if optional && default.is_some() {
            return Err(syn::Error::new_spanned(
                ident,
                "an Option field has no default; drop the Option or the default",
            ));
        }
        let required = !optional && default.is_none();
        let default = option_tokens(default.map(|d| quote!(#d)));
        let min = option_tokens(min.map(|v| quote!(#v)));
        let max = option_tokens(max.map(|v| quote!(#v)));
        let binds = option_tokens(binds.map(|v| quote!(#v)));
        let groups_of = option_tokens(groups_of.map(|v| quote!(#v)));
        let purpose = option_tokens(purpose.map(|v| quote!(#cat::Purpose::#v)));
        specs.push(quote! {
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
        });
    }
    Ok(quote!(vec![#(#specs),*]))
}

fn expand_param_enum(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let cat = catalogue();
    let name = &input.ident;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "ParamEnum is for fieldless enums",
        ));
    };
    let mut words = Vec::new();
    let mut variants = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                variant,
                "ParamEnum variants take no fields",
            ));
        }
        words.push(snake_case(&variant.ident.to_string()));
        variants.push(&variant.ident);
    }
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

fn is_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        _ => false,
    }
}

/// The doc comment lines joined with newlines, common indentation removed.
fn doc_string(attrs: &[syn::Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    lines
        .iter()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// `transaction_capacity` → `TransactionCapacity`.
fn camel_case(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

/// `HeaderAndText` → `header_and_text`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
