//! A user's declarations → catalogue entries, the same [`ComponentSpec`] values the
//! derive produces for built-in kinds, so the checker, `explain` and the code generator
//! treat both alike.
//!
//! Without rustc, a field's parameter type is read from how its type is written: the
//! types of `sluice_runtime::params` by name ([`params::named_type`]), `Option`, `Vec`,
//! `BTreeMap<String, _>`, and the crate's own `#[derive(Params)]` structs and
//! `#[derive(ParamEnum)]` enums. A type written any other way (an alias, a type from
//! another crate) cannot be read and is reported.
//!
//! Entries live as long as the process (`sluice` checks a flow and exits), like the
//! built-in catalogue, so their strings are leaked.

use std::path::Path;

use quote::ToTokens as _;
use sluice_declare as declare;
use sluice_runtime::catalogue::{
    ComponentSpec, EnumWords, ParamRule, ParamSpec, ParamType, Purpose, Role,
};
use sluice_runtime::params;

use super::read::{error_in, Declarations, Found, ReadError};

fn leak(text: impl Into<String>) -> &'static str {
    Box::leak(text.into().into_boxed_str())
}

fn leak_list<T>(items: Vec<T>) -> &'static [T] {
    Box::leak(items.into_boxed_slice())
}

/// The roles a user's crate may declare.
const USER_ROLES: [(&str, Role); 4] = [
    ("source", Role::Source),
    ("channel", Role::Channel),
    ("sink", Role::Sink),
    ("transform", Role::Transform),
];

/// Catalogue entries for every component `declarations` holds.
pub fn specs(
    declarations: &Declarations,
    crate_dir: &Path,
) -> Result<Vec<&'static ComponentSpec>, ReadError> {
    let types = Types { declarations };
    declarations
        .components
        .iter()
        .map(|found| {
            let error = |e: syn::Error| error_in(found, crate_dir, &e);
            let attrs = declare::component(&found.item).map_err(error)?;
            let Some(&(_, role)) = USER_ROLES.iter().find(|(r, _)| *r == attrs.role) else {
                return Err(error(syn::Error::new_spanned(
                    &found.item.ident,
                    format!(
                        "a component crate declares sources, channels, sinks and transforms, not a {}",
                        attrs.role
                    ),
                )));
            };
            if attrs.inline {
                return Err(error(syn::Error::new_spanned(
                    &found.item.ident,
                    "`inline` is for transforms built into sluice; implement `BuildTransform` instead",
                )));
            }
            let params = types.params(found).map_err(error)?;
            let rules = attrs
                .rules
                .iter()
                .map(|r| ParamRule {
                    when: (leak(r.when.0.clone()), leak(r.when.1.clone())),
                    then: (leak(r.then.0.clone()), r.then.1.clone().map(leak)),
                    help: leak(r.help.clone()),
                })
                .collect();
            let groups = attrs
                .requires_one_of
                .iter()
                .map(|g| leak_list(g.iter().cloned().map(leak).collect()))
                .collect();
            let spec = ComponentSpec {
                role,
                kind: leak(attrs.kind),
                doc: leak(attrs.doc),
                params,
                rust_type: leak(found.rust_path.clone()),
                // Not a runtime feature: the crate is a dependency of the agent.
                feature: "",
                replayable: attrs.replayable,
                durable: attrs.durable,
                planned: attrs.planned,
                inline: false,
                requires_one_of: leak_list(groups),
                rules: leak_list(rules),
            };
            Ok(&*Box::leak(Box::new(spec)))
        })
        .collect()
}

struct Types<'a> {
    declarations: &'a Declarations,
}

impl Types<'_> {
    fn params(&self, found: &Found) -> syn::Result<Vec<ParamSpec>> {
        self.params_nested(found, 0)
    }

    fn params_nested(&self, found: &Found, depth: usize) -> syn::Result<Vec<ParamSpec>> {
        declare::fields(&found.item)?
            .into_iter()
            .map(|field| {
                let ty = self.param_type(&field.ty, depth).map_err(|why| {
                    syn::Error::new_spanned(
                        &field.ty,
                        format!(
                            "field `{}` has type `{}`, {why}",
                            field.name,
                            field.ty.to_token_stream().to_string().replace(' ', "")
                        ),
                    )
                })?;
                let purpose = match &field.purpose {
                    Some(word) => Some(purpose(word)?),
                    None => None,
                };
                Ok(ParamSpec {
                    name: leak(field.name.clone()),
                    doc: leak(field.doc.clone()),
                    required: field.required(),
                    ty,
                    default: field.default.clone().map(leak),
                    min: field.min,
                    max: field.max,
                    binds: field.binds.clone().map(leak),
                    path_key: field.path_key,
                    groups_of: field.groups_of.clone().map(leak),
                    purpose,
                })
            })
            .collect()
    }

    fn param_type(&self, ty: &syn::Type, depth: usize) -> Result<ParamType, String> {
        const NOT_READABLE: &str = "which sluice cannot read as a parameter type: use a type of \
             `sluice_runtime::params` or std (`String`, `u64`, `bool`, `Duration`, `PathBuf`, \
             ...), `Option`, `Vec`, `BTreeMap<String, _>`, or a `#[derive(Params)]` struct or \
             `#[derive(ParamEnum)]` enum of this crate";
        if depth > 8 {
            return Err("nested too deeply".into());
        }
        let syn::Type::Path(path) = ty else {
            return Err(NOT_READABLE.into());
        };
        let Some(last) = path.path.segments.last() else {
            return Err(NOT_READABLE.into());
        };
        let name = last.ident.to_string();
        let args: Vec<&syn::Type> = match &last.arguments {
            syn::PathArguments::AngleBracketed(a) => a
                .args
                .iter()
                .filter_map(|arg| match arg {
                    syn::GenericArgument::Type(t) => Some(t),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        match (name.as_str(), args.as_slice()) {
            ("Option", [inner]) => self.param_type(inner, depth + 1),
            ("Vec", [inner]) => Ok(ParamType::List(Box::new(
                self.param_type(inner, depth + 1)?,
            ))),
            ("BTreeMap", [key, value]) if is_string(key) => {
                Ok(ParamType::Map(Box::new(self.param_type(value, depth + 1)?)))
            }
            (_, []) => {
                if let Some(known) = params::named_type(&name) {
                    return Ok(known);
                }
                if let Some(found) = find(&self.declarations.enums, &name) {
                    let words = declare::enum_words(&found.item).map_err(|e| e.to_string())?;
                    return Ok(ParamType::Enum(EnumWords {
                        words: leak_list(words.into_iter().map(|(w, _)| leak(w)).collect()),
                        rust_type: leak(found.rust_path.clone()),
                    }));
                }
                if let Some(found) = find(&self.declarations.records, &name) {
                    let fields = self
                        .params_nested(found, depth + 1)
                        .map_err(|e| e.to_string())?;
                    return Ok(ParamType::Record {
                        rust_type: leak(found.rust_path.clone()),
                        fields,
                    });
                }
                Err(NOT_READABLE.into())
            }
            _ => Err(NOT_READABLE.into()),
        }
    }
}

fn find<'a>(list: &'a [Found], name: &str) -> Option<&'a Found> {
    list.iter().find(|f| f.item.ident == name)
}

fn is_string(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "String"))
}

fn purpose(word: &syn::Ident) -> syn::Result<Purpose> {
    Purpose::ATTRIBUTES
        .iter()
        .find(|(w, _)| word == w)
        .map(|(_, p)| *p)
        .ok_or_else(|| {
            let words: Vec<&str> = Purpose::ATTRIBUTES.iter().map(|(w, _)| *w).collect();
            syn::Error::new_spanned(
                word,
                format!(
                    "`{word}` is not a parameter purpose; purposes are {}",
                    words.join(", ")
                ),
            )
        })
}
