//! Run-time support for compiled expressions. `sluice build` turns each expression into
//! straight-line Rust that calls these functions; nothing is interpreted per event.
//!
//! Semantics (docs/language.md): a missing header is `null`; comparing a header with a
//! number compares numerically and is false when the header is not a number; a failed
//! conversion gives `null`; arithmetic with `null` gives `null`; a `null` condition is
//! false.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::event::Event;
pub use sluice_core::functions::Function;

/// A value during evaluation. Borrowed text avoids copying headers and bodies.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
}

pub use Value::Null;

/// `.name`
pub fn header<'a>(event: &'a Event, name: &str) -> Value<'a> {
    event
        .headers
        .get(name)
        .map_or(Value::Null, |v| Value::Str(Cow::Borrowed(v)))
}

/// `body`
pub fn body(event: &Event) -> Value<'_> {
    Value::Str(String::from_utf8_lossy(&event.body))
}

pub fn str_lit(s: &'static str) -> Value<'static> {
    Value::Str(Cow::Borrowed(s))
}

/// The value without borrows from the event, so the event can then be changed.
pub fn owned(v: Value) -> Value<'static> {
    match v {
        Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
        Value::Null => Value::Null,
        Value::Bool(b) => Value::Bool(b),
        Value::Int(i) => Value::Int(i),
        Value::Float(f) => Value::Float(f),
    }
}

#[cfg(feature = "expr-regex")]
pub use regex::Regex;

/// A condition's outcome: only `true` is true.
pub fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Bool(_), _) | (_, Value::Bool(_)) => None,
        _ => as_number(a)?.partial_cmp(&as_number(b)?),
    }
}

pub fn eq(a: &Value, b: &Value) -> Value<'static> {
    Value::Bool(match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        _ => compare(a, b) == Some(Ordering::Equal),
    })
}

pub fn ne(a: &Value, b: &Value) -> Value<'static> {
    Value::Bool(!truthy(&eq(a, b)))
}

pub fn lt(a: &Value, b: &Value) -> Value<'static> {
    Value::Bool(compare(a, b) == Some(Ordering::Less))
}

pub fn le(a: &Value, b: &Value) -> Value<'static> {
    Value::Bool(matches!(
        compare(a, b),
        Some(Ordering::Less | Ordering::Equal)
    ))
}

pub fn gt(a: &Value, b: &Value) -> Value<'static> {
    Value::Bool(compare(a, b) == Some(Ordering::Greater))
}

pub fn ge(a: &Value, b: &Value) -> Value<'static> {
    Value::Bool(matches!(
        compare(a, b),
        Some(Ordering::Greater | Ordering::Equal)
    ))
}

pub fn not(a: &Value) -> Value<'static> {
    match a {
        Value::Bool(b) => Value::Bool(!b),
        _ => Value::Null,
    }
}

fn arith(
    a: &Value,
    b: &Value,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> Value<'static> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int(*x, *y).map_or(Value::Null, Value::Int),
        _ => match (as_number(a), as_number(b)) {
            (Some(x), Some(y)) => {
                let r = float(x, y);
                if r.is_finite() {
                    Value::Float(r)
                } else {
                    Value::Null
                }
            }
            _ => Value::Null,
        },
    }
}

/// `+`: joins text when either side is a string literal or function result (decided at
/// compile time: `concat`), otherwise adds numbers.
pub fn add(a: &Value, b: &Value) -> Value<'static> {
    arith(a, b, i64::checked_add, |x, y| x + y)
}

pub fn concat(a: &Value, b: &Value) -> Value<'static> {
    match (to_text(a), to_text(b)) {
        (Some(x), Some(y)) => Value::Str(Cow::Owned(format!("{x}{y}"))),
        _ => Value::Null,
    }
}

pub fn sub(a: &Value, b: &Value) -> Value<'static> {
    arith(a, b, i64::checked_sub, |x, y| x - y)
}

pub fn mul(a: &Value, b: &Value) -> Value<'static> {
    arith(a, b, i64::checked_mul, |x, y| x * y)
}

pub fn div(a: &Value, b: &Value) -> Value<'static> {
    arith(a, b, i64::checked_div, |x, y| x / y)
}

pub fn rem(a: &Value, b: &Value) -> Value<'static> {
    arith(a, b, i64::checked_rem, |x, y| x % y)
}

pub fn neg(a: &Value) -> Value<'static> {
    match a {
        Value::Int(i) => i.checked_neg().map_or(Value::Null, Value::Int),
        other => as_number(other).map_or(Value::Null, |f| Value::Float(-f)),
    }
}

/// The text form of a scalar, as `set` writes it; `None` for null.
pub fn to_text<'a>(v: &'a Value) -> Option<Cow<'a, str>> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Int(i) => Some(Cow::Owned(i.to_string())),
        Value::Float(f) => Some(Cow::Owned(f.to_string())),
        Value::Str(s) => Some(Cow::Borrowed(s.as_ref())),
    }
}

fn text_fn(v: &Value, f: impl FnOnce(&str) -> Value<'static>) -> Value<'static> {
    to_text(v).map_or(Value::Null, |t| f(&t))
}

pub fn len(v: &Value) -> Value<'static> {
    text_fn(v, |t| Value::Int(t.chars().count() as i64))
}

pub fn lower(v: &Value) -> Value<'static> {
    text_fn(v, |t| Value::Str(Cow::Owned(t.to_lowercase())))
}

pub fn upper(v: &Value) -> Value<'static> {
    text_fn(v, |t| Value::Str(Cow::Owned(t.to_uppercase())))
}

pub fn trim(v: &Value) -> Value<'static> {
    text_fn(v, |t| Value::Str(Cow::Owned(t.trim().to_owned())))
}

fn text_pred(a: &Value, b: &Value, f: fn(&str, &str) -> bool) -> Value<'static> {
    match (to_text(a), to_text(b)) {
        (Some(x), Some(y)) => Value::Bool(f(&x, &y)),
        _ => Value::Null,
    }
}

pub fn contains(a: &Value, b: &Value) -> Value<'static> {
    text_pred(a, b, |x, y| x.contains(y))
}

pub fn starts_with(a: &Value, b: &Value) -> Value<'static> {
    text_pred(a, b, |x, y| x.starts_with(y))
}

pub fn ends_with(a: &Value, b: &Value) -> Value<'static> {
    text_pred(a, b, |x, y| x.ends_with(y))
}

pub fn replace(a: &Value, from: &Value, to: &Value) -> Value<'static> {
    match (to_text(a), to_text(from), to_text(to)) {
        (Some(x), Some(f), Some(t)) => Value::Str(Cow::Owned(x.replace(f.as_ref(), &t))),
        _ => Value::Null,
    }
}

pub fn int(v: &Value) -> Value<'static> {
    match v {
        Value::Int(i) => Value::Int(*i),
        Value::Float(f) if f.is_finite() => Value::Int(*f as i64),
        Value::Bool(b) => Value::Int(i64::from(*b)),
        Value::Str(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .map(Value::Int)
                .or_else(|_| {
                    s.parse::<f64>().map(|f| {
                        if f.is_finite() {
                            Value::Int(f as i64)
                        } else {
                            Value::Null
                        }
                    })
                })
                .unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

pub fn float(v: &Value) -> Value<'static> {
    as_number(v).map_or(Value::Null, Value::Float)
}

pub fn str(v: &Value) -> Value<'static> {
    to_text(v).map_or(Value::Null, |t| Value::Str(Cow::Owned(t.into_owned())))
}

pub fn exists(v: &Value) -> Value<'static> {
    Value::Bool(!matches!(v, Value::Null))
}

/// The first non-null value.
pub fn coalesce<'a>(values: impl IntoIterator<Item = Value<'a>>) -> Value<'a> {
    values
        .into_iter()
        .find(|v| !matches!(v, Value::Null))
        .unwrap_or(Value::Null)
}

/// Milliseconds since the Unix epoch.
pub fn now() -> Value<'static> {
    Value::Int(crate::time::now_millis() as i64)
}

pub fn hostname() -> Value<'static> {
    Value::Str(Cow::Owned(crate::time::hostname()))
}

/// `=~`: `None` for null input.
#[cfg(feature = "expr-regex")]
pub fn matches(v: &Value, re: &regex::Regex) -> Value<'static> {
    to_text(v).map_or(Value::Null, |t| Value::Bool(re.is_match(&t)))
}

/// `route` arm matching: literal patterns compare like `==`.
pub fn matches_literal(key: &Value, pattern: &Value) -> bool {
    truthy(&eq(key, pattern))
}

/// `set`: writes the value as text; `null` leaves the header alone.
pub fn set_header(event: &mut Event, name: &'static str, value: Value) {
    if let Some(text) = to_text(&value) {
        let text = text.into_owned();
        event.headers.set(name, text);
    }
}

/// Calls `function` on evaluated arguments (a missing argument is `null`).
///
/// Generated code calls the functions of this module directly, by the name the table in
/// `sluice_core::functions` gives them; this exhaustive match is where rustc checks that
/// every function of that table is implemented here under its name.
pub fn call(function: Function, args: &[Value<'_>]) -> Value<'static> {
    let arg = |i: usize| args.get(i).cloned().map_or(Value::Null, owned);
    match function {
        Function::Len => len(&arg(0)),
        Function::Lower => lower(&arg(0)),
        Function::Upper => upper(&arg(0)),
        Function::Trim => trim(&arg(0)),
        Function::Contains => contains(&arg(0), &arg(1)),
        Function::StartsWith => starts_with(&arg(0), &arg(1)),
        Function::EndsWith => ends_with(&arg(0), &arg(1)),
        Function::Replace => replace(&arg(0), &arg(1), &arg(2)),
        Function::Int => int(&arg(0)),
        Function::Float => float(&arg(0)),
        Function::Str => str(&arg(0)),
        Function::Exists => exists(&arg(0)),
        Function::Coalesce => owned(coalesce(args.iter().cloned())),
        Function::Now => now(),
        Function::Hostname => hostname(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_of_the_table_is_callable() {
        let text = str_lit("Hello");
        for f in Function::ALL {
            let args = vec![text.clone(); f.signature().params.len()];
            let result = call(f, &args);
            if f.signature().returns == sluice_core::functions::ExprType::Bool {
                assert!(matches!(result, Value::Bool(_)), "{}", f.name());
            }
        }
        assert_eq!(call(Function::Len, &[text]), Value::Int(5));
    }

    fn ev(headers: &[(&str, &str)]) -> Event {
        let mut e = Event::new("hello");
        for (k, v) in headers {
            e.headers.set(k.to_string(), *v);
        }
        e
    }

    #[test]
    fn header_compared_with_number_is_numeric_and_false_when_not_a_number() {
        let e = ev(&[("status", "503"), ("bad", "abc")]);
        assert!(truthy(&ge(&header(&e, "status"), &Value::Int(500))));
        assert!(!truthy(&ge(&header(&e, "bad"), &Value::Int(500))));
        assert!(!truthy(&lt(&header(&e, "bad"), &Value::Int(500))));
        assert!(!truthy(&gt(&header(&e, "missing"), &Value::Int(0))));
    }

    #[test]
    fn conversions_and_null_propagation() {
        assert_eq!(int(&str_lit("abc")), Value::Null);
        assert_eq!(add(&Value::Null, &Value::Int(1)), Value::Null);
        assert_eq!(rem(&Value::Int(7), &Value::Int(2)), Value::Int(1));
        assert_eq!(div(&Value::Int(1), &Value::Int(0)), Value::Null);
        assert_eq!(
            concat(&Value::Int(5), &str_lit("xx")),
            Value::Str("5xx".into())
        );
        assert_eq!(len(&body(&Event::new("héllo"))), Value::Int(5));
    }

    #[test]
    fn set_writes_decimal_text_and_skips_null() {
        let mut e = ev(&[("keep", "1")]);
        set_header(&mut e, "n", Value::Int(42));
        set_header(&mut e, "keep", Value::Null);
        assert_eq!(e.headers.get("n"), Some("42"));
        assert_eq!(e.headers.get("keep"), Some("1"));
    }
}
