//! The functions expressions can call: one table that the checker types calls with and
//! the code generator emits calls from. The runtime implements each in
//! `sluice_runtime::expr` under the same name; its `expr::call` matches on
//! [`Function`] exhaustively, so a function added here and not implemented there does
//! not compile.

/// The static type of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExprType {
    Bool,
    Int,
    Float,
    Str,
    /// A header value: text that converts to a number where a number is needed.
    Header,
    Null,
    /// Unknown (after an error, or `coalesce` of mixed types).
    Any,
}

impl ExprType {
    /// The type as a phrase for messages: "a boolean".
    pub fn describe(self) -> &'static str {
        match self {
            ExprType::Bool => "a boolean",
            ExprType::Int => "an integer",
            ExprType::Float => "a float",
            ExprType::Str => "a string",
            ExprType::Header => "a header value (text)",
            ExprType::Null => "null",
            ExprType::Any => "a value",
        }
    }

    /// Usable where text is needed.
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            ExprType::Str | ExprType::Header | ExprType::Null | ExprType::Any
        )
    }

    /// Usable where a number is needed (a header converts, or makes the result null).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ExprType::Int | ExprType::Float | ExprType::Header | ExprType::Null | ExprType::Any
        )
    }

    /// Usable where a condition is needed.
    pub fn is_boolean(self) -> bool {
        matches!(self, ExprType::Bool | ExprType::Null | ExprType::Any)
    }
}

/// What one argument of a function must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// Text (a string, a header, the body).
    Text,
    /// Any value.
    Anything,
    /// A header reference written `.name`, not its value.
    HeaderRef,
}

/// Every function an expression can call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    Len,
    Lower,
    Upper,
    Trim,
    Contains,
    StartsWith,
    EndsWith,
    Replace,
    Int,
    Float,
    Str,
    Exists,
    Coalesce,
    Now,
    Hostname,
}

/// What a function takes and gives.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    /// The name it is called by, in flows and in `sluice_runtime::expr`.
    pub name: &'static str,
    pub params: &'static [Arg],
    /// Takes any number of arguments (at least `params.len()`), each like the last param.
    pub variadic: bool,
    pub returns: ExprType,
    /// A call, for help texts.
    pub example: &'static str,
}

impl Function {
    /// Every function, in the order the docs list them.
    pub const ALL: [Function; 15] = [
        Function::Len,
        Function::Lower,
        Function::Upper,
        Function::Trim,
        Function::Contains,
        Function::StartsWith,
        Function::EndsWith,
        Function::Replace,
        Function::Int,
        Function::Float,
        Function::Str,
        Function::Exists,
        Function::Coalesce,
        Function::Now,
        Function::Hostname,
    ];

    /// The function called `name`.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn name(self) -> &'static str {
        self.signature().name
    }

    pub fn signature(self) -> Signature {
        use Arg::{Anything, HeaderRef, Text};
        let sig = |name, params, returns, example| Signature {
            name,
            params,
            variadic: false,
            returns,
            example,
        };
        match self {
            Function::Len => sig("len", &[Text], ExprType::Int, "len(body)"),
            Function::Lower => sig("lower", &[Text], ExprType::Str, "lower(.level)"),
            Function::Upper => sig("upper", &[Text], ExprType::Str, "upper(.level)"),
            Function::Trim => sig("trim", &[Text], ExprType::Str, "trim(body)"),
            Function::Contains => sig(
                "contains",
                &[Text, Text],
                ExprType::Bool,
                "contains(body, \"timeout\")",
            ),
            Function::StartsWith => sig(
                "starts_with",
                &[Text, Text],
                ExprType::Bool,
                "starts_with(.path, \"/api\")",
            ),
            Function::EndsWith => sig(
                "ends_with",
                &[Text, Text],
                ExprType::Bool,
                "ends_with(.file, \".gz\")",
            ),
            Function::Replace => sig(
                "replace",
                &[Text, Text, Text],
                ExprType::Str,
                "replace(body, \"\\t\", \" \")",
            ),
            Function::Int => sig("int", &[Anything], ExprType::Int, "int(.status)"),
            Function::Float => sig("float", &[Anything], ExprType::Float, "float(.latency)"),
            Function::Str => sig("str", &[Anything], ExprType::Str, "str(len(body))"),
            Function::Exists => sig("exists", &[HeaderRef], ExprType::Bool, "exists(.trace_id)"),
            Function::Coalesce => Signature {
                variadic: true,
                ..sig(
                    "coalesce",
                    &[Anything],
                    ExprType::Any,
                    "coalesce(.user, \"anonymous\")",
                )
            },
            Function::Now => sig("now", &[], ExprType::Int, "now()"),
            Function::Hostname => sig("hostname", &[], ExprType::Str, "hostname()"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for f in Function::ALL {
            assert_eq!(Function::from_name(f.name()), Some(f));
        }
        assert_eq!(Function::from_name("lenght"), None);
    }
}
