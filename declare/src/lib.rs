//! A Sluice component's declaration, read from Rust syntax.
//!
//! A component declares itself once, on its config struct:
//!
//! ```ignore
//! /// Writes each event's body to standard output.
//! #[derive(Component)]
//! #[component(role = "sink", kind = "shout")]
//! pub struct ShoutConfig {
//!     /// Text written before each line.
//!     #[param(default = "\"\"")]
//!     pub prefix: String,
//! }
//! ```
//!
//! Two readers need what that says: the `#[derive(Component)]` macro (`sluice-macros`),
//! which turns it into the catalogue entry compiled into the runtime, and `sluice check`,
//! which reads a user's component crate without compiling it. Both call
//! [`component`], [`fields`] and [`enum_words`] here, so they cannot read one attribute
//! two ways.

use syn::{Attribute, Data, DeriveInput, Fields, LitStr};

/// What `#[component(...)]` and the struct's doc comment declare.
#[derive(Clone, Debug, Default)]
pub struct ComponentAttrs {
    /// `source`, `channel`, `sink`, `transform`, `group` or `agent` (checked by [`component`]).
    pub role: String,
    pub kind: String,
    /// The runtime feature that compiles it; `ROLE-KIND` when not given.
    pub feature: Option<String>,
    pub replayable: bool,
    pub durable: bool,
    pub planned: bool,
    pub inline: bool,
    pub requires_one_of: Vec<Vec<String>>,
    pub rules: Vec<Rule>,
    /// The doc comment, common indentation removed.
    pub doc: String,
}

impl ComponentAttrs {
    /// The runtime feature, defaulted.
    pub fn feature(&self) -> String {
        self.feature
            .clone()
            .unwrap_or_else(|| format!("{}-{}", self.role, self.kind.replace('_', "-")))
    }
}

/// `rule(when = "a=x", then = "b" | "b=y", help = "...")`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub when: (String, String),
    pub then: (String, Option<String>),
    pub help: String,
}

/// One field of a config struct: a parameter.
#[derive(Clone)]
pub struct Field {
    /// The parameter's name (the field's, without `r#`).
    pub name: String,
    pub ident: syn::Ident,
    pub ty: syn::Type,
    pub doc: String,
    /// `default = "<flow literal>"`.
    pub default: Option<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub binds: Option<String>,
    pub path_key: bool,
    pub groups_of: Option<String>,
    /// A purpose word (`batch`, `transaction_capacity`, ...), with its span.
    pub purpose: Option<syn::Ident>,
    /// `Option<T>`: optional with no default.
    pub optional: bool,
}

impl Field {
    /// Neither optional nor defaulted.
    pub fn required(&self) -> bool {
        !self.optional && self.default.is_none()
    }
}

/// The roles `#[component(role = ...)]` accepts.
pub const ROLES: [&str; 6] = ["source", "channel", "sink", "transform", "group", "agent"];

/// Reads `#[component(...)]` and the doc comment of a config struct.
pub fn component(input: &DeriveInput) -> syn::Result<ComponentAttrs> {
    let mut attrs = ComponentAttrs {
        doc: doc_string(&input.attrs),
        ..ComponentAttrs::default()
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
                attrs.rules.push(rule(&meta)?);
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
    if !ROLES.contains(&attrs.role.as_str()) {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[component(role = \"source|channel|sink|transform|group|agent\")] is required",
        ));
    }
    if attrs.kind.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[component(kind = \"...\")] is required",
        ));
    }
    if !is_word(&attrs.kind) {
        return Err(syn::Error::new_spanned(
            &input.ident,
            format!(
                "kind `{}` is not a word a flow can name: use lowercase letters, digits and `_`, starting with a letter",
                attrs.kind
            ),
        ));
    }
    Ok(attrs)
}

fn is_word(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn rule(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Rule> {
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
    let Some((when_param, when_word)) = when
        .value()
        .split_once('=')
        .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
    else {
        return Err(syn::Error::new(
            when.span(),
            "write `when = \"param=word\"`",
        ));
    };
    let then = then.value();
    let then = match then.split_once('=') {
        Some((p, w)) => (p.trim().to_owned(), Some(w.trim().to_owned())),
        None => (then.trim().to_owned(), None),
    };
    Ok(Rule {
        when: (when_param, when_word),
        then,
        help,
    })
}

/// Reads the parameters of a config struct (or of a `#[derive(Params)]` block): one per
/// named field, with its `#[param(...)]` attributes.
pub fn fields(input: &DeriveInput) -> syn::Result<Vec<Field>> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(&input.ident, "expected a struct"));
    };
    let named = match &data.fields {
        Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
        Fields::Unit => Vec::new(),
        Fields::Unnamed(_) => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                "expected named fields",
            ))
        }
    };
    named.into_iter().map(field).collect()
}

fn field(field: &syn::Field) -> syn::Result<Field> {
    let Some(ident) = field.ident.clone() else {
        return Err(syn::Error::new_spanned(field, "expected a named field"));
    };
    let mut out = Field {
        name: ident.to_string().trim_start_matches("r#").to_owned(),
        ident,
        ty: field.ty.clone(),
        doc: doc_string(&field.attrs),
        default: None,
        min: None,
        max: None,
        binds: None,
        path_key: false,
        groups_of: None,
        purpose: None,
        optional: is_option(&field.ty),
    };
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("param")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                out.default = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("min") {
                out.min = Some(meta.value()?.parse::<syn::LitInt>()?.base10_parse()?);
            } else if meta.path.is_ident("max") {
                out.max = Some(meta.value()?.parse::<syn::LitInt>()?.base10_parse()?);
            } else if meta.path.is_ident("binds") {
                out.binds = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("path_key") {
                out.path_key = true;
            } else if meta.path.is_ident("groups_of") {
                out.groups_of = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if let Some(word) = meta
                .path
                .get_ident()
                .filter(|_| meta.input.is_empty() || meta.input.peek(syn::Token![,]))
            {
                // Any other bare word names a purpose (`transaction_capacity`); the
                // derive turns it into a `catalogue::Purpose` variant, which rustc
                // rejects when it does not exist.
                if out.purpose.is_some() {
                    return Err(meta.error("a parameter has at most one purpose"));
                }
                out.purpose = Some(word.clone());
            } else {
                return Err(meta.error(
                    "expected default, min, max, binds, path_key, groups_of or a purpose word",
                ));
            }
            Ok(())
        })?;
    }
    if out.optional && out.default.is_some() {
        return Err(syn::Error::new_spanned(
            &out.ident,
            "an Option field has no default; drop the Option or the default",
        ));
    }
    Ok(out)
}

/// The words of a `#[derive(ParamEnum)]` enum: its variants in snake_case, with the
/// variants' identifiers.
pub fn enum_words(input: &DeriveInput) -> syn::Result<Vec<(String, syn::Ident)>> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "ParamEnum is for fieldless enums",
        ));
    };
    data.variants
        .iter()
        .map(|variant| {
            if matches!(variant.fields, Fields::Unit) {
                Ok((
                    snake_case(&variant.ident.to_string()),
                    variant.ident.clone(),
                ))
            } else {
                Err(syn::Error::new_spanned(
                    variant,
                    "ParamEnum variants take no fields",
                ))
            }
        })
        .collect()
}

/// Whether the item derives `name` (`#[derive(Component)]`, `#[derive(sluice_runtime::Component)]`).
pub fn derives(attrs: &[Attribute], name: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            let mut found = false;
            let _ = a.parse_nested_meta(|meta| {
                found |= meta.path.segments.last().is_some_and(|s| s.ident == name);
                Ok(())
            });
            found
        })
}

/// `Option<T>`, by its last path segment.
pub fn is_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        _ => false,
    }
}

/// The string of a `#[name = "…"]` attribute (`doc`, `path`).
pub fn string_value(attr: &Attribute) -> Option<String> {
    match &attr.meta {
        syn::Meta::NameValue(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

/// The doc comment lines joined with newlines, common indentation removed.
pub fn doc_string(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(string_value)
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
pub fn camel_case(name: &str) -> String {
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
pub fn snake_case(name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> DeriveInput {
        syn::parse_str(text).expect("test input parses")
    }

    #[test]
    fn reads_a_component_and_its_fields() {
        let input = parse(
            r#"
            /// Shouts.
            #[derive(Component)]
            #[component(role = "sink", kind = "shout", rule(when = "mode=loud", then = "volume", help = "set it"))]
            pub struct ShoutConfig {
                /// How loud.
                #[param(default = "3", min = 1, max = 11, batch)]
                pub volume: u32,
                pub prefix: Option<String>,
                pub target: String,
            }"#,
        );
        let attrs = component(&input).unwrap();
        assert_eq!(
            (attrs.role.as_str(), attrs.kind.as_str()),
            ("sink", "shout")
        );
        assert_eq!(attrs.feature(), "sink-shout");
        assert_eq!(attrs.doc, "Shouts.");
        assert_eq!(attrs.rules[0].when, ("mode".into(), "loud".into()));
        let fields = fields(&input).unwrap();
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[0].default.as_deref(), Some("3"));
        assert_eq!((fields[0].min, fields[0].max), (Some(1), Some(11)));
        assert_eq!(fields[0].purpose.as_ref().unwrap().to_string(), "batch");
        assert!(fields[1].optional && !fields[1].required());
        assert!(fields[2].required());
        assert!(derives(&input.attrs, "Component"));
        assert!(!derives(&input.attrs, "Params"));
    }

    #[test]
    fn refuses_a_missing_role_and_a_kind_flows_cannot_name() {
        let no_role = parse(r#"#[component(kind = "x")] struct A;"#);
        assert!(component(&no_role)
            .unwrap_err()
            .to_string()
            .contains("role"));
        let bad_kind = parse(r#"#[component(role = "sink", kind = "Loud-Sink")] struct A;"#);
        assert!(component(&bad_kind)
            .unwrap_err()
            .to_string()
            .contains("not a word"));
    }

    #[test]
    fn reads_enum_words() {
        let input = parse("enum Mode { Loud, HeaderAndText }");
        let words: Vec<String> = enum_words(&input)
            .unwrap()
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(words, ["loud", "header_and_text"]);
    }
}
