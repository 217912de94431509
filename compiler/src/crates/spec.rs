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
    let types = Types {
        declarations,
        count: std::cell::Cell::new(0),
    };
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
            let rust_path = public_path(found).map_err(error)?;
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
                rust_type: leak(rust_path),
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
    /// Parameters read so far, nested blocks included: a bound on pathological crates.
    count: std::cell::Cell<usize>,
}

/// Most parameters (nested ones included) sluice reads from one crate.
const MAX_PARAMS: usize = 10_000;

/// How code outside the crate names `found`, or why it cannot: the agent builds the
/// config struct by that path, with every field.
fn public_path(found: &Found) -> syn::Result<String> {
    let ident = &found.item.ident;
    let Some(path) = &found.rust_path else {
        return Err(syn::Error::new_spanned(
            ident,
            format!(
                "`{ident}` (declared as `{}`) cannot be named from outside the crate: make it \
                 and its modules `pub`, or re-export it with `pub use`",
                found.declared_path
            ),
        ));
    };
    if found
        .item
        .attrs
        .iter()
        .any(|a| a.path().is_ident("non_exhaustive"))
    {
        return Err(syn::Error::new_spanned(
            ident,
            format!("`{ident}` is `#[non_exhaustive]`: the agent builds it with a struct literal"),
        ));
    }
    if let syn::Data::Struct(data) = &found.item.data {
        if let Some(private) = data
            .fields
            .iter()
            .find(|f| !matches!(f.vis, syn::Visibility::Public(_)))
        {
            return Err(syn::Error::new_spanned(
                private.ident.as_ref().map_or(ident, |i| i),
                format!("every field of `{ident}` must be `pub`: the agent builds it with a struct literal"),
            ));
        }
    }
    Ok(path.clone())
}

impl Types<'_> {
    fn params(&self, found: &Found) -> syn::Result<Vec<ParamSpec>> {
        self.params_nested(found, 0)
    }

    fn params_nested(&self, found: &Found, depth: usize) -> syn::Result<Vec<ParamSpec>> {
        let fields = declare::fields(&found.item)?;
        self.count.set(self.count.get() + fields.len());
        if self.count.get() > MAX_PARAMS {
            return Err(syn::Error::new_spanned(
                &found.item.ident,
                format!("the crate declares more than {MAX_PARAMS} parameters; sluice stopped reading it"),
            ));
        }
        fields
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
                // An unsigned field cannot hold what it cannot hold: its range is part
                // of its type, as rustc will see it.
                let (natural_min, natural_max) = int_range(&field.ty);
                let min = field.min.or(natural_min);
                let max = field.max.or(natural_max);
                Ok(ParamSpec {
                    name: leak(field.name.clone()),
                    doc: leak(field.doc.clone()),
                    required: field.required(),
                    ty,
                    default: field.default.clone().map(leak),
                    min,
                    max,
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
                if let Some(found) = find(&self.declarations.enums, &name)? {
                    let words = declare::enum_words(&found.item).map_err(|e| e.to_string())?;
                    for (word, variant) in &words {
                        if *variant != EnumWords::variant(word) {
                            return Err(format!(
                                "whose variant `{variant}` is not in CamelCase: flows write it \
                                 `{word}`, which names `{}`",
                                EnumWords::variant(word)
                            ));
                        }
                    }
                    let rust_path = public_path(found).map_err(|e| e.to_string())?;
                    return Ok(ParamType::Enum(EnumWords {
                        words: leak_list(words.into_iter().map(|(w, _)| leak(w)).collect()),
                        rust_type: leak(rust_path),
                    }));
                }
                if let Some(found) = find(&self.declarations.records, &name)? {
                    let rust_path = public_path(found).map_err(|e| e.to_string())?;
                    let fields = self
                        .params_nested(found, depth + 1)
                        .map_err(|e| e.to_string())?;
                    return Ok(ParamType::Record {
                        rust_type: leak(rust_path),
                        fields,
                    });
                }
                Err(NOT_READABLE.into())
            }
            _ => Err(NOT_READABLE.into()),
        }
    }
}

/// The declaration named `name`; two of that name cannot be told apart by the way a
/// field's type is written.
fn find<'a>(list: &'a [Found], name: &str) -> Result<Option<&'a Found>, String> {
    let mut named = list.iter().filter(|f| f.item.ident == name);
    match (named.next(), named.next()) {
        (Some(a), Some(b)) => Err(format!(
            "which names two types of this crate (`{}` and `{}`): give them different names",
            a.declared_path, b.declared_path
        )),
        (found, _) => Ok(found),
    }
}

/// The bounds an integer type puts on a parameter: `(Some(0), Some(u32::MAX))` for `u32`.
fn int_range(ty: &syn::Type) -> (Option<i64>, Option<i64>) {
    let syn::Type::Path(path) = ty else {
        return (None, None);
    };
    let Some(last) = path.path.segments.last() else {
        return (None, None);
    };
    if last.ident == "Option" {
        if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
            if let Some(syn::GenericArgument::Type(inner)) = args.args.first() {
                return int_range(inner);
            }
        }
    }
    match last.ident.to_string().as_str() {
        "u32" => (Some(0), Some(i64::from(u32::MAX))),
        "u64" | "usize" => (Some(0), None),
        _ => (None, None),
    }
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
