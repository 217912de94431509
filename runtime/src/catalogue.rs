//! The component catalogue: what every kind is called, which role it plays, and the
//! parameters it takes. Each entry is produced by `#[derive(Component)]` on the kind's
//! config struct, so the struct is the one declaration that the checker, the code
//! generator, `sluice explain` and the docs all read.

use std::sync::OnceLock;

pub use sluice_core::Role;

/// One kind of component, as declared by its config struct.
#[derive(Clone, Debug)]
pub struct ComponentSpec {
    pub role: Role,
    pub kind: &'static str,
    /// The struct's doc comment: first line is the summary.
    pub doc: &'static str,
    pub params: Vec<ParamSpec>,
    /// Path of the config struct, for generated code (`sluice_runtime::sources::stdin::StdinConfig`).
    pub rust_type: &'static str,
    /// The cargo feature of `sluice-runtime` that compiles this component.
    pub feature: &'static str,
    /// A source that can re-read its input after a crash (taildir, spooldir, http with acks).
    pub replayable: bool,
    /// A channel whose contents survive a crash.
    pub durable: bool,
    /// Declared and checked, but its runtime is not built yet: `sluice build` refuses it.
    pub planned: bool,
    /// A transform compiled into the agent instead of built at run time: each of its
    /// boolean-expression params is a condition an event must meet to be kept, each of its
    /// map-of-expressions params computes headers. Other components implement their
    /// role's `Build*` trait (`sluice_runtime::build`).
    pub inline: bool,
    /// Groups of params of which at least one must be given (e.g. `name` or `regex`).
    pub requires_one_of: &'static [&'static [&'static str]],
    /// Rules between params that `sluice check` enforces (`#[component(rule(...))]`).
    pub rules: &'static [ParamRule],
}

/// A rule between a component's parameters: when `when` holds, `then` must hold too.
/// A parameter holds a word when it is given as that word (a string or a bare enum word)
/// or, not given, defaults to it; one given as `env(...)` is not judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamRule {
    /// The parameter and the word that trigger the rule.
    pub when: (&'static str, &'static str),
    /// A parameter that must then be given, or be the word.
    pub then: (&'static str, Option<&'static str>),
    /// How to fix it, for the diagnostic.
    pub help: &'static str,
}

impl ComponentSpec {
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The parameter that plays `purpose`, if the kind has one.
    pub fn param_for(&self, purpose: Purpose) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.purpose == Some(purpose))
    }

    /// Whether `sluice build` can build this kind into an agent.
    pub fn buildable(&self) -> bool {
        !self.planned
    }

    /// The first sentence of the doc comment.
    pub fn summary(&self) -> String {
        first_line(self.doc)
    }
}

/// One parameter of a component.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub doc: &'static str,
    pub ty: ParamType,
    pub required: bool,
    /// The default, written in `.flow` syntax (`10_000`, `30s`, `"events"`).
    pub default: Option<&'static str>,
    /// Inclusive bounds for integers, byte sizes (bytes) and durations (milliseconds).
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// `Some("tcp")`/`Some("udp")` when the value is an address the component listens on.
    pub binds: Option<&'static str>,
    /// The value is part of what the component writes on disk; two components with equal
    /// path keys would overwrite each other's files.
    pub path_key: bool,
    /// For a list of names: the regex param whose capture groups they name, one each.
    pub groups_of: Option<&'static str>,
    /// What the checker and the code generator use the parameter for, beyond passing it
    /// to the component (`#[param(batch)]`, `#[param(members)]`, ...).
    pub purpose: Option<Purpose>,
}

/// A parameter's meaning to the checker and the code generator. A new question they need
/// to ask a component becomes a new variant (and attribute), never a test of a kind's or
/// a parameter's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// `#[param(batch)]`: events per transaction with the channel (a sink's take, a
    /// source's put). Must fit the channel's transaction capacity.
    Batch,
    /// `#[param(members)]`: the sinks of a group, in order.
    Members,
    /// `#[param(capacity)]`: how many events a channel holds.
    Capacity,
    /// `#[param(transaction_capacity)]`: the most events one put or take may carry.
    TransactionCapacity,
    /// `#[param(tls)]`: a TLS settings block; when it is written the agent links TLS.
    Tls,
    /// `#[param(tls_by_scheme)]`: a URL whose `https://` scheme needs TLS. Unless it is
    /// written as a plain `http://` literal (an `env(...)` may give either), the agent
    /// links TLS.
    TlsByScheme,
    /// `#[param(destination)]`: where a sink sends its events (an address or URL);
    /// `sluice graph` shows it on the sink.
    Destination,
    /// `#[param(secret)]`: a password or token. `sluice check` refuses it written in
    /// the flow file (also as an `env(...)` default): it must come from `env(...)`.
    Secret,
}

impl Purpose {
    /// Every purpose, with the attribute word that declares it.
    pub const ATTRIBUTES: [(&'static str, Purpose); 8] = [
        ("batch", Purpose::Batch),
        ("members", Purpose::Members),
        ("capacity", Purpose::Capacity),
        ("transaction_capacity", Purpose::TransactionCapacity),
        ("tls", Purpose::Tls),
        ("tls_by_scheme", Purpose::TlsByScheme),
        ("destination", Purpose::Destination),
        ("secret", Purpose::Secret),
    ];
}

impl ParamSpec {
    pub fn summary(&self) -> String {
        first_line(self.doc)
    }
}

/// The first sentence of a doc comment (its summary), as one line.
fn first_line(doc: &'static str) -> String {
    let paragraph: Vec<&str> = doc
        .trim()
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .collect();
    let text = paragraph.join(" ");
    match text.find(". ") {
        Some(end) => text[..=end].to_owned(),
        None => text,
    }
}

/// The type of a parameter's value, as the checker sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    Bool,
    Int,
    Float,
    String,
    Duration,
    ByteSize,
    /// A file system path.
    Path,
    /// A file name glob (`/var/log/*.log`).
    Glob,
    /// A regular expression, compiled when the agent starts.
    Regex,
    /// A path template with `%Y %m %d %H %M` and `%{header}`.
    Template,
    /// An `http://` or `https://` URL.
    Url,
    /// `host:port`.
    Address,
    /// Where files are stored: a directory, `file:///dir` or `s3://bucket/prefix`.
    Storage,
    /// A table column: a type and where its value comes from (`"int .status"`).
    Column,
    /// A Prometheus metric or label name (`http_requests_total`).
    MetricName,
    /// One of a fixed set of words, written as strings (`"gzip"`).
    Enum(EnumWords),
    /// One of a fixed set of words, or a duration (`"every_commit"` or `1s`).
    EnumOrDuration(EnumWords),
    List(Box<ParamType>),
    /// A map from names to values of one type.
    Map(Box<ParamType>),
    /// A nested block of named parameters (`tls = { cert = "...", key = "..." }`).
    Record {
        /// Path of the Rust struct the block builds, for the code generator.
        rust_type: &'static str,
        fields: Vec<ParamSpec>,
    },
    /// The name of another component of this role.
    Ref(Role),
    /// An expression that must be boolean (`when`).
    BoolExpr,
    /// An expression giving a string, number or boolean (computed headers).
    ScalarExpr,
    /// An aggregate's window: `tumbling(1m)`, `hopping(5m, 1m)` or `session(30s)`.
    Window,
    /// An aggregate function call: `count()`, `sum(int(.bytes))`, `quantile(x, 0.99)`.
    Aggregate,
}

impl ParamType {
    /// The type as a phrase for messages and docs: "a duration", "a list of globs".
    pub fn describe(&self) -> String {
        match self {
            ParamType::Bool => "a boolean".into(),
            ParamType::Int => "an integer".into(),
            ParamType::Float => "a number".into(),
            ParamType::String => "a string".into(),
            ParamType::Duration => "a duration (e.g. `30s`)".into(),
            ParamType::ByteSize => "a byte size (e.g. `64KiB`)".into(),
            ParamType::Path => "a path string".into(),
            ParamType::Glob => "a glob string".into(),
            ParamType::Regex => "a regex string".into(),
            ParamType::Template => "a path template string".into(),
            ParamType::Url => "a URL string".into(),
            ParamType::Address => "an address string (`host:port`)".into(),
            ParamType::Storage => "a directory or `s3://bucket/prefix` string".into(),
            ParamType::Column => "a column spec string (`\"int .status\"`)".into(),
            ParamType::MetricName => "a metric name string (`\"http_requests_total\"`)".into(),
            ParamType::Enum(words) => format!("one of {}", quoted_list(words)),
            ParamType::EnumOrDuration(words) => {
                format!("{} or a duration", quoted_list(words))
            }
            ParamType::List(inner) => format!("a list of {}", inner.plural()),
            ParamType::Map(inner) => format!("a map of {}", inner.plural()),
            ParamType::Record { fields, .. } => {
                let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                format!("a block `{{ {} }}`", names.join(", "))
            }
            ParamType::Ref(role) => format!("the name of a {role}"),
            ParamType::BoolExpr => "a boolean expression".into(),
            ParamType::ScalarExpr => "an expression".into(),
            ParamType::Window => {
                "a window (`tumbling(1m)`, `hopping(5m, 1m)` or `session(30s)`)".into()
            }
            ParamType::Aggregate => {
                "an aggregate function (`count()`, `sum(int(.bytes))`, ...)".into()
            }
        }
    }

    /// A short type name for tables: `duration`, `list<glob>`.
    pub fn short_name(&self) -> String {
        match self {
            ParamType::Bool => "bool".into(),
            ParamType::Int => "int".into(),
            ParamType::Float => "float".into(),
            ParamType::String => "string".into(),
            ParamType::Duration => "duration".into(),
            ParamType::ByteSize => "size".into(),
            ParamType::Path => "path".into(),
            ParamType::Glob => "glob".into(),
            ParamType::Regex => "regex".into(),
            ParamType::Template => "template".into(),
            ParamType::Url => "url".into(),
            ParamType::Address => "address".into(),
            ParamType::Storage => "location".into(),
            ParamType::Column => "column".into(),
            ParamType::MetricName => "metric name".into(),
            ParamType::Enum(words) => words.join("|"),
            ParamType::EnumOrDuration(words) => format!("{}|duration", words.join("|")),
            ParamType::List(inner) => format!("list<{}>", inner.short_name()),
            ParamType::Map(inner) => format!("map<{}>", inner.short_name()),
            ParamType::Record { .. } => "block".into(),
            ParamType::Ref(role) => format!("{role} name"),
            ParamType::BoolExpr => "bool expr".into(),
            ParamType::ScalarExpr => "expr".into(),
            ParamType::Window => "window".into(),
            ParamType::Aggregate => "aggregate".into(),
        }
    }

    fn plural(&self) -> String {
        match self {
            ParamType::Ref(role) => format!("{role} names"),
            ParamType::ScalarExpr => "expressions".into(),
            ParamType::Aggregate => "aggregate functions".into(),
            other => {
                let short = other.short_name();
                match short.as_str() {
                    "bool" => "booleans".into(),
                    "int" => "integers".into(),
                    _ if short.contains('|') => format!("values ({short})"),
                    _ => format!("{short}s"),
                }
            }
        }
    }
}

fn quoted_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// The words of an enum parameter and the Rust enum they name: word `header_and_text` is
/// variant `HeaderAndText` of `rust_type` (what `#[derive(ParamEnum)]` declares).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnumWords {
    pub words: &'static [&'static str],
    /// Path of the enum, for generated code.
    pub rust_type: &'static str,
}

impl EnumWords {
    /// The Rust variant a word names: `header_and_text` → `HeaderAndText`.
    pub fn variant(word: &str) -> String {
        word.split('_')
            .map(|part| {
                let mut chars = part.chars();
                chars.next().map_or(String::new(), |first| {
                    first.to_uppercase().chain(chars).collect()
                })
            })
            .collect()
    }
}

impl std::ops::Deref for EnumWords {
    type Target = [&'static str];

    fn deref(&self) -> &Self::Target {
        self.words
    }
}

/// Implemented by `#[derive(Component)]`: the kind's entry in the catalogue.
pub trait Component {
    fn spec() -> ComponentSpec;
}

/// Implemented by every type a parameter can have.
pub trait ParamValue {
    fn param_type() -> ParamType;
}

/// The runtime's cargo features that belong to no one component: what the code generator
/// adds besides each component's own feature.
pub mod features {
    /// The event model, channels, drivers and metrics: every agent.
    pub const AGENT: &str = "agent";
    /// mimalloc as the global allocator: every agent.
    pub const ALLOCATOR: &str = "mimalloc";
    /// TLS for the network components: agents whose flow needs it.
    pub const TLS: &str = "tls";
    /// Regex support in expressions (`=~`): agents whose expressions use it.
    pub const EXPR_REGEX: &str = "expr-regex";

    /// All of the above.
    pub const ALL: [&str; 4] = [AGENT, ALLOCATOR, TLS, EXPR_REGEX];

    /// The features this build of the runtime was compiled with.
    pub const ENABLED: &[&str] = include!(concat!(env!("OUT_DIR"), "/features.rs"));

    /// Whether this build has `feature` (usable in constants: `flow!` asserts with it).
    pub const fn enabled(feature: &str) -> bool {
        let wanted = feature.as_bytes();
        let mut i = 0;
        while i < ENABLED.len() {
            let have = ENABLED[i].as_bytes();
            if have.len() == wanted.len() {
                let mut j = 0;
                while j < have.len() && have[j] == wanted[j] {
                    j += 1;
                }
                if j == have.len() {
                    return true;
                }
            }
            i += 1;
        }
        false
    }
}

/// Declares a role's component modules and lists their catalogue entries: one line
/// `module::ConfigStruct,` per kind is the whole registration of a component (its module
/// is declared by the same line). Used once in each role's `mod.rs`.
macro_rules! registry {
    ($($module:ident :: $config:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// The catalogue entries of this role's kinds, in registry order.
        pub(crate) fn specs() -> Vec<$crate::catalogue::ComponentSpec> {
            use $crate::catalogue::Component as _;
            vec![$($module::$config::spec()),*]
        }
    };
}
pub(crate) use registry;

/// Every component kind: the agent block, then each role's registry (`sources/mod.rs`,
/// `channels/mod.rs`, ...) in order.
pub fn all() -> &'static [ComponentSpec] {
    use crate::{agent_config, channels, groups, sinks, sources, transforms};
    static ALL: OnceLock<Vec<ComponentSpec>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = vec![agent_config::AgentConfig::spec()];
        all.extend(sources::specs());
        all.extend(channels::specs());
        all.extend(sinks::specs());
        all.extend(transforms::specs());
        all.extend(groups::specs());
        all
    })
}

/// The `agent { ... }` block's parameters.
pub fn agent() -> &'static ComponentSpec {
    all()
        .iter()
        .find(|c| c.role == Role::Agent)
        .expect("the registry lists the agent block first")
}

/// The kind `kind` of role `role`, if the catalogue has it.
pub fn find(role: Role, kind: &str) -> Option<&'static ComponentSpec> {
    all().iter().find(|c| c.role == role && c.kind == kind)
}
