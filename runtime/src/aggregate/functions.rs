//! The aggregate functions: what each keeps per window and group, and what it reports.
//!
//! Exact: `count`, `sum`, `min`, `max`, `avg`, `first`, `last`. Estimated, in bounded
//! memory: `quantile` (DDSketch, relative error 1% of the true value), `count_distinct`
//! (HyperLogLog with 4,096 registers, standard error 1.6%), `top_k` (Space-Saving with
//! 10·k counters: a value's count is over-estimated by at most the smallest count kept,
//! and every value more frequent than 1/(10·k) of the window is among the counters).
//! Values are cut to [`MAX_VALUE`] bytes.

use std::collections::HashMap;
use std::hash::BuildHasher;

use sketches_ddsketch::{Config, DDSketch};
use sluice_core::aggregate::{AggregateArg, AggregateFn};

/// One function of an aggregate's `emit`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Function {
    Count,
    Sum,
    Min,
    Max,
    Avg,
    First,
    Last,
    /// The `q`-quantile, `0 <= q <= 1`.
    Quantile(f64),
    CountDistinct,
    /// The `k` most frequent values.
    TopK(usize),
}

/// What a function is given for one event: its argument's value, or nothing (null, or
/// a number that did not parse).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input<'a> {
    Number(f64),
    Text(&'a str),
}

/// What a function reports for a closed window.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    Int(u64),
    Number(f64),
    Text(String),
    /// No usable input came (the `min` of nothing).
    Null,
}

/// A function's running state for one window and group.
#[derive(Clone)]
pub enum Acc {
    Count(u64),
    Sum(f64),
    Min(Option<f64>),
    Max(Option<f64>),
    Avg {
        sum: f64,
        n: u64,
    },
    /// (event time, value): the earliest, or the latest, by event time.
    First(Option<(i64, String)>),
    Last(Option<(i64, String)>),
    Quantile(Box<DDSketch>, f64),
    Distinct(Box<Hll>),
    TopK(SpaceSaving),
}

impl Function {
    /// The function `sluice check` typed (`sluice_core::aggregate`), with its literal
    /// arguments (`quantile`'s fraction, `top_k`'s count). The two matches here and in
    /// [`Function::checked`] are exhaustive, so the checker's table and the runtime's
    /// functions cannot drift apart.
    pub fn from_checked(function: AggregateFn, fraction: f64, count: usize) -> Function {
        match function {
            AggregateFn::Count => Function::Count,
            AggregateFn::Sum => Function::Sum,
            AggregateFn::Min => Function::Min,
            AggregateFn::Max => Function::Max,
            AggregateFn::Avg => Function::Avg,
            AggregateFn::First => Function::First,
            AggregateFn::Last => Function::Last,
            AggregateFn::Quantile => Function::Quantile(fraction),
            AggregateFn::CountDistinct => Function::CountDistinct,
            AggregateFn::TopK => Function::TopK(count),
        }
    }

    /// The checker's name for this function.
    pub fn checked(&self) -> AggregateFn {
        match self {
            Function::Count => AggregateFn::Count,
            Function::Sum => AggregateFn::Sum,
            Function::Min => AggregateFn::Min,
            Function::Max => AggregateFn::Max,
            Function::Avg => AggregateFn::Avg,
            Function::First => AggregateFn::First,
            Function::Last => AggregateFn::Last,
            Function::Quantile(_) => AggregateFn::Quantile,
            Function::CountDistinct => AggregateFn::CountDistinct,
            Function::TopK(_) => AggregateFn::TopK,
        }
    }

    /// Whether the function needs a number (`sum`), rather than any value, as the
    /// checker's table says.
    pub fn numeric(&self) -> bool {
        self.checked().args().first() == Some(&AggregateArg::Number)
    }

    /// Fresh state.
    pub fn start(&self) -> Acc {
        match *self {
            Function::Count => Acc::Count(0),
            Function::Sum => Acc::Sum(0.0),
            Function::Min => Acc::Min(None),
            Function::Max => Acc::Max(None),
            Function::Avg => Acc::Avg { sum: 0.0, n: 0 },
            Function::First => Acc::First(None),
            Function::Last => Acc::Last(None),
            Function::Quantile(q) => Acc::Quantile(Box::new(DDSketch::new(Config::defaults())), q),
            Function::CountDistinct => Acc::Distinct(Box::default()),
            Function::TopK(k) => Acc::TopK(SpaceSaving::new(k)),
        }
    }
}

/// Longest value kept by `first`, `last`, `count_distinct` and `top_k`, in bytes.
pub const MAX_VALUE: usize = 256;

fn text(input: Input<'_>) -> String {
    match input {
        Input::Text(t) => cut(t).to_owned(),
        Input::Number(n) => format_number(n),
    }
}

/// `text`'s first [`MAX_VALUE`] bytes, on a character boundary.
pub fn cut(text: &str) -> &str {
    let mut end = text.len().min(MAX_VALUE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A number as written in output: integers without a fraction.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

impl std::fmt::Debug for Acc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Acc({:?})", self.finish())
    }
}

impl Acc {
    /// Adds one event's input at `time`; `false` when the input is not usable (a
    /// missing value, or not a finite number where one is needed).
    pub fn add(&mut self, time: i64, input: Option<Input<'_>>) -> bool {
        if let Acc::Count(n) = self {
            *n += 1;
            return true;
        }
        let Some(input) = input else { return false };
        let number = match input {
            Input::Number(n) if n.is_finite() => Some(n),
            Input::Text(t) => t.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
            Input::Number(_) => None,
        };
        match self {
            Acc::Count(_) => unreachable!("handled above"),
            Acc::Sum(s) => match number {
                Some(n) => *s += n,
                None => return false,
            },
            Acc::Min(m) => match number {
                Some(n) => *m = Some(m.map_or(n, |m| m.min(n))),
                None => return false,
            },
            Acc::Max(m) => match number {
                Some(n) => *m = Some(m.map_or(n, |m| m.max(n))),
                None => return false,
            },
            Acc::Avg { sum, n } => match number {
                Some(v) => {
                    *sum += v;
                    *n += 1;
                }
                None => return false,
            },
            Acc::Quantile(sketch, _) => match number {
                Some(n) => sketch.add(n),
                None => return false,
            },
            Acc::First(first) => {
                if first.as_ref().is_none_or(|(t, _)| time < *t) {
                    *first = Some((time, text(input)));
                }
            }
            Acc::Last(last) => {
                if last.as_ref().is_none_or(|(t, _)| time >= *t) {
                    *last = Some((time, text(input)));
                }
            }
            Acc::Distinct(hll) => hll.add(&text(input)),
            Acc::TopK(top) => top.add(&text(input), 1),
        }
        true
    }

    /// Folds `other` (the same function's state for an overlapping session) into this.
    pub fn merge(&mut self, other: Acc) {
        match (self, other) {
            (Acc::Count(a), Acc::Count(b)) => *a += b,
            (Acc::Sum(a), Acc::Sum(b)) => *a += b,
            (Acc::Min(a), Acc::Min(b)) => *a = min_opt(*a, b, f64::min),
            (Acc::Max(a), Acc::Max(b)) => *a = min_opt(*a, b, f64::max),
            (Acc::Avg { sum, n }, Acc::Avg { sum: s, n: m }) => {
                *sum += s;
                *n += m;
            }
            (Acc::First(a), Acc::First(b))
                if b.as_ref()
                    .is_some_and(|(tb, _)| a.as_ref().is_none_or(|(ta, _)| tb < ta)) =>
            {
                *a = b;
            }
            (Acc::Last(a), Acc::Last(b))
                if b.as_ref()
                    .is_some_and(|(tb, _)| a.as_ref().is_none_or(|(ta, _)| tb >= ta)) =>
            {
                *a = b;
            }
            (Acc::Quantile(a, _), Acc::Quantile(b, _)) => {
                // Same configuration on both sides: merging cannot fail.
                let _ = a.merge(&b);
            }
            (Acc::Distinct(a), Acc::Distinct(b)) => a.merge(&b),
            (Acc::TopK(a), Acc::TopK(b)) => {
                for (value, (count, _)) in b.counts {
                    a.add(&value, count);
                }
            }
            _ => {} // different functions: never asked
        }
    }

    /// The result for a closed window.
    pub fn finish(&self) -> Output {
        match self {
            Acc::Count(n) => Output::Int(*n),
            Acc::Sum(s) => Output::Number(*s),
            Acc::Min(m) | Acc::Max(m) => m.map_or(Output::Null, Output::Number),
            Acc::Avg { sum, n } if *n > 0 => Output::Number(sum / *n as f64),
            Acc::Avg { .. } => Output::Null,
            Acc::First(v) | Acc::Last(v) => v
                .as_ref()
                .map_or(Output::Null, |(_, v)| Output::Text(v.clone())),
            Acc::Quantile(sketch, q) => match sketch.quantile(*q) {
                Ok(Some(v)) => Output::Number(v),
                _ => Output::Null,
            },
            Acc::Distinct(hll) => Output::Int(hll.estimate()),
            Acc::TopK(top) => Output::Text(top.json()),
        }
    }

    /// Approximate bytes held, for documentation and bounds.
    pub fn size(&self) -> usize {
        std::mem::size_of::<Acc>()
            + match self {
                Acc::First(Some((_, v))) | Acc::Last(Some((_, v))) => v.len(),
                Acc::Quantile(sketch, _) => 16 * sketch.length() + 256,
                Acc::Distinct(_) => REGISTERS,
                Acc::TopK(top) => top.counts.keys().map(|k| k.len() + 48).sum(),
                _ => 0,
            }
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>, pick: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// Registers of the HyperLogLog: 2^12.
const PRECISION: u32 = 12;
const REGISTERS: usize = 1 << PRECISION;

/// A HyperLogLog distinct counter (Flajolet et al., with linear counting for small
/// cardinalities): 4 KiB, standard error 1.04/√4096 ≈ 1.6%.
#[derive(Clone, Debug)]
pub struct Hll {
    registers: Vec<u8>,
}

impl Default for Hll {
    fn default() -> Self {
        Hll {
            registers: vec![0; REGISTERS],
        }
    }
}

/// The same keys in every run and every agent, so estimates are reproducible.
#[derive(Clone, Copy, Default)]
struct FixedState;

impl BuildHasher for FixedState {
    type Hasher = std::collections::hash_map::DefaultHasher;
    fn build_hasher(&self) -> Self::Hasher {
        std::collections::hash_map::DefaultHasher::new()
    }
}

impl Hll {
    /// Counts `value`.
    pub fn add(&mut self, value: &str) {
        let hash = FixedState.hash_one(value);
        let index = (hash >> (64 - PRECISION)) as usize;
        let rest = (hash << PRECISION) | (1 << (PRECISION - 1));
        let rank = rest.leading_zeros() as u8 + 1;
        if let Some(register) = self.registers.get_mut(index) {
            *register = (*register).max(rank);
        }
    }

    /// Counts everything `other` counted.
    pub fn merge(&mut self, other: &Hll) {
        for (a, b) in self.registers.iter_mut().zip(&other.registers) {
            *a = (*a).max(*b);
        }
    }

    /// The estimated number of distinct values.
    pub fn estimate(&self) -> u64 {
        let m = REGISTERS as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self
            .registers
            .iter()
            .map(|&r| 2f64.powi(-i32::from(r)))
            .sum();
        let raw = alpha * m * m / sum;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }
}

/// Space-Saving top-k: 10·k counters; a new value replaces the least counted one and
/// inherits its count as its error bound.
#[derive(Clone, Debug)]
pub struct SpaceSaving {
    k: usize,
    /// value → (count, over-estimate at most)
    counts: HashMap<String, (u64, u64)>,
}

impl SpaceSaving {
    fn new(k: usize) -> Self {
        SpaceSaving {
            k: k.max(1),
            counts: HashMap::new(),
        }
    }

    fn capacity(&self) -> usize {
        self.k.saturating_mul(10)
    }

    fn add(&mut self, value: &str, n: u64) {
        if let Some((count, _)) = self.counts.get_mut(value) {
            *count += n;
            return;
        }
        if self.counts.len() < self.capacity() {
            self.counts.insert(value.to_owned(), (n, 0));
            return;
        }
        let Some((least, &(min, _))) = self.counts.iter().min_by_key(|(_, (c, _))| *c) else {
            return;
        };
        let least = least.clone();
        self.counts.remove(&least);
        self.counts.insert(value.to_owned(), (min + n, min));
    }

    /// The k most counted, most first (ties by value): `[["a",10],["b",7]]`.
    pub fn top(&self) -> Vec<(&str, u64)> {
        let mut all: Vec<(&str, u64)> = self
            .counts
            .iter()
            .map(|(v, (c, _))| (v.as_str(), *c))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        all.truncate(self.k);
        all
    }

    fn json(&self) -> String {
        let items: Vec<String> = self
            .top()
            .iter()
            .map(|(v, c)| format!("[{},{c}]", json_string(v)))
            .collect();
        format!("[{}]", items.join(","))
    }
}

/// `text` as a JSON string, quotes included.
pub fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(f: Function, inputs: &[(i64, Option<Input<'_>>)]) -> Output {
        let mut acc = f.start();
        for (t, i) in inputs {
            acc.add(*t, *i);
        }
        acc.finish()
    }

    #[test]
    fn every_checked_function_is_implemented_and_back() {
        for function in AggregateFn::ALL {
            assert_eq!(Function::from_checked(function, 0.5, 3).checked(), function);
        }
        assert!(Function::Sum.numeric() && Function::Quantile(0.5).numeric());
        assert!(!Function::Count.numeric() && !Function::TopK(3).numeric());
    }

    #[test]
    fn exact_functions() {
        let n = |v| Some(Input::Number(v));
        let events = [
            (3, n(2.0)),
            (1, n(5.0)),
            (2, Some(Input::Text("x"))),
            (4, None),
        ];
        assert_eq!(run(Function::Count, &events), Output::Int(4));
        assert_eq!(run(Function::Sum, &events), Output::Number(7.0));
        assert_eq!(run(Function::Min, &events), Output::Number(2.0));
        assert_eq!(run(Function::Max, &events), Output::Number(5.0));
        assert_eq!(run(Function::Avg, &events), Output::Number(3.5));
        assert_eq!(run(Function::First, &events), Output::Text("5".into()));
        // The latest by event time with a value (time 4 has none).
        assert_eq!(run(Function::Last, &events), Output::Text("2".into()));
        assert_eq!(run(Function::Min, &[]), Output::Null);
        let mut sum = Function::Sum.start();
        assert!(!sum.add(0, Some(Input::Text("abc"))));
        assert!(!sum.add(0, Some(Input::Number(f64::NAN))));
    }

    #[test]
    fn the_estimates_stay_within_their_documented_error() {
        let mut hll = Hll::default();
        for i in 0..50_000 {
            hll.add(&format!("user-{i}"));
            hll.add(&format!("user-{}", i / 2)); // repeats change nothing
        }
        let error = (hll.estimate() as f64 - 50_000.0).abs() / 50_000.0;
        assert!(error < 0.05, "{} ({error})", hll.estimate());
        let mut small = Hll::default();
        for i in 0..100 {
            small.add(&i.to_string());
        }
        assert!(
            (small.estimate() as i64 - 100).abs() <= 3,
            "{}",
            small.estimate()
        );

        let mut q = Function::Quantile(0.99).start();
        for i in 1..=10_000 {
            q.add(0, Some(Input::Number(f64::from(i))));
        }
        let Output::Number(p99) = q.finish() else {
            panic!()
        };
        assert!((p99 - 9_900.0).abs() / 9_900.0 <= 0.02, "{p99}");

        let mut top = Function::TopK(2).start();
        for (value, times) in [("a", 50), ("b", 30), ("c", 5)] {
            for _ in 0..times {
                top.add(0, Some(Input::Text(value)));
            }
        }
        for i in 0..100 {
            top.add(0, Some(Input::Text(&format!("rare{i}"))));
        }
        let Output::Text(json) = top.finish() else {
            panic!()
        };
        assert!(
            json.starts_with(r#"[["a","#) && json.contains(r#"["b","#),
            "{json}"
        );
    }

    proptest! {
        /// Merging the states of two halves gives what one state over all gives (the
        /// exact functions), so sessions that join lose nothing.
        #[test]
        fn merging_equals_adding_everything(values in prop::collection::vec((0i64..1000, -1e6f64..1e6), 1..50), cut in 0usize..50) {
            let cut = cut.min(values.len());
            for f in [Function::Count, Function::Sum, Function::Min, Function::Max, Function::Avg, Function::First, Function::Last] {
                let mut all = f.start();
                let (mut a, mut b) = (f.start(), f.start());
                for (i, (t, v)) in values.iter().enumerate() {
                    let input = Some(Input::Number(*v));
                    all.add(*t, input);
                    if i < cut { a.add(*t, input); } else { b.add(*t, input); }
                }
                a.merge(b);
                match (a.finish(), all.finish()) {
                    (Output::Number(x), Output::Number(y)) => prop_assert!((x - y).abs() <= 1e-6 * y.abs().max(1.0)),
                    (x, y) => prop_assert_eq!(x, y),
                }
            }
        }
    }
}
