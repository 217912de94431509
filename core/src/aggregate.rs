//! The vocabulary of the `aggregate` transform: its window forms and its functions,
//! with the arguments each takes. The checker types an aggregate with this table, and
//! the runtime implements exactly these functions.

/// The transform kind these belong to. Its place in a flow is special: the path splits
/// there, and what follows it sees the windows it closes rather than the events.
pub const KIND: &str = "aggregate";

/// `window = tumbling(1m)`, `hopping(5m, 1m)` or `session(30s)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowForm {
    Tumbling,
    Hopping,
    Session,
}

impl WindowForm {
    pub const ALL: [WindowForm; 3] = [
        WindowForm::Tumbling,
        WindowForm::Hopping,
        WindowForm::Session,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WindowForm::Tumbling => "tumbling",
            WindowForm::Hopping => "hopping",
            WindowForm::Session => "session",
        }
    }

    /// What its duration arguments mean, in order.
    pub fn args(self) -> &'static [&'static str] {
        match self {
            WindowForm::Tumbling => &["size"],
            WindowForm::Hopping => &["size", "every"],
            WindowForm::Session => &["gap"],
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.name() == name)
    }

    /// How it is written, for messages.
    pub fn example(self) -> &'static str {
        match self {
            WindowForm::Tumbling => "tumbling(1m)",
            WindowForm::Hopping => "hopping(5m, 1m)",
            WindowForm::Session => "session(30s)",
        }
    }
}

/// What an aggregate function's argument must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateArg {
    /// An expression giving a number (`int(.bytes)`).
    Number,
    /// An expression giving any value (`.user`).
    Value,
    /// A literal fraction between 0 and 1 (`0.99`).
    Fraction,
    /// A literal positive integer (`10`).
    Count,
}

/// The functions of an aggregate's `emit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateFn {
    Count,
    Sum,
    Min,
    Max,
    Avg,
    First,
    Last,
    Quantile,
    CountDistinct,
    TopK,
}

impl AggregateFn {
    pub const ALL: [AggregateFn; 10] = [
        AggregateFn::Count,
        AggregateFn::Sum,
        AggregateFn::Min,
        AggregateFn::Max,
        AggregateFn::Avg,
        AggregateFn::First,
        AggregateFn::Last,
        AggregateFn::Quantile,
        AggregateFn::CountDistinct,
        AggregateFn::TopK,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AggregateFn::Count => "count",
            AggregateFn::Sum => "sum",
            AggregateFn::Min => "min",
            AggregateFn::Max => "max",
            AggregateFn::Avg => "avg",
            AggregateFn::First => "first",
            AggregateFn::Last => "last",
            AggregateFn::Quantile => "quantile",
            AggregateFn::CountDistinct => "count_distinct",
            AggregateFn::TopK => "top_k",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn args(self) -> &'static [AggregateArg] {
        use AggregateArg::*;
        match self {
            AggregateFn::Count => &[],
            AggregateFn::Sum | AggregateFn::Min | AggregateFn::Max | AggregateFn::Avg => &[Number],
            AggregateFn::First | AggregateFn::Last | AggregateFn::CountDistinct => &[Value],
            AggregateFn::Quantile => &[Number, Fraction],
            AggregateFn::TopK => &[Value, Count],
        }
    }

    /// How it is written, for messages.
    pub fn example(self) -> &'static str {
        match self {
            AggregateFn::Count => "count()",
            AggregateFn::Sum => "sum(int(.bytes))",
            AggregateFn::Min => "min(float(.latency_ms))",
            AggregateFn::Max => "max(float(.latency_ms))",
            AggregateFn::Avg => "avg(float(.latency_ms))",
            AggregateFn::First => "first(.path)",
            AggregateFn::Last => "last(.path)",
            AggregateFn::Quantile => "quantile(float(.latency_ms), 0.99)",
            AggregateFn::CountDistinct => "count_distinct(.user)",
            AggregateFn::TopK => "top_k(.path, 10)",
        }
    }
}
