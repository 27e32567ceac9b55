//! SCIM filters (RFC 7644 §3.4.2.2) as plain data: the AST storage translates to SQL, its printer, the
//! tolerant parser (in [`parse`]) and the in-memory evaluator (in [`eval`]).

pub mod eval;
pub mod parse;

use std::fmt;

pub use eval::{matches, matches_element, parse_for, validate};
pub use parse::{MAX_FILTER_DEPTH, MAX_FILTER_LEN};

use super::attr_path::AttrPath;
use super::error::ScimError;

/// Comparison operators of RFC 7644 Table 3 (`pr` is [`Filter::Present`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The operator's keyword, lowercase.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// True for `gt ge lt le`, which need an ordered type.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }

    /// True for `co sw ew`, which need a string type.
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The literal on the right of a comparison. dateTime values are strings; the attribute's type says how to
/// compare them.
#[derive(Debug, Clone, PartialEq)]
pub enum CompareValue {
    Str(String),
    Number(serde_json::Number),
    Bool(bool),
    Null,
}

impl fmt::Display for CompareValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompareValue::Str(s) => match serde_json::to_string(s) {
                Ok(quoted) => f.write_str(&quoted),
                Err(_) => Err(fmt::Error),
            },
            CompareValue::Number(n) => write!(f, "{n}"),
            CompareValue::Bool(b) => write!(f, "{b}"),
            CompareValue::Null => f.write_str("null"),
        }
    }
}

/// A parsed filter. `And`/`Or` are n-ary with at least two operands and never directly contain an operand of
/// their own kind (build them with [`Filter::and`] / [`Filter::or`] to keep that shape); the parser produces
/// exactly this shape, so printing and re-parsing gives an equal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompareValue,
    },
    Present(AttrPath),
    /// `attr[filter]`: some element of multi-valued `attr` matches `filter` (whose paths are sub-attributes).
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

impl Filter {
    /// Parses filter text (see [`parse::parse_filter`]).
    pub fn parse(text: &str) -> Result<Filter, ScimError> {
        parse::parse_filter(text)
    }

    /// `lhs and rhs`, flattening nested `And`s.
    pub fn and(lhs: Filter, rhs: Filter) -> Filter {
        let mut items = Vec::new();
        for f in [lhs, rhs] {
            match f {
                Filter::And(inner) => items.extend(inner),
                other => items.push(other),
            }
        }
        Filter::And(items)
    }

    /// `lhs or rhs`, flattening nested `Or`s.
    pub fn or(lhs: Filter, rhs: Filter) -> Filter {
        let mut items = Vec::new();
        for f in [lhs, rhs] {
            match f {
                Filter::Or(inner) => items.extend(inner),
                other => items.push(other),
            }
        }
        Filter::Or(items)
    }

    /// `path op value` shorthand.
    pub fn compare(path: AttrPath, op: CompareOp, value: CompareValue) -> Filter {
        Filter::Compare { path, op, value }
    }

    /// Nesting depth: 1 for a leaf; `not`, a value path and an operator change each add a level.
    pub fn depth(&self) -> usize {
        match self {
            Filter::Compare { .. } | Filter::Present(_) => 1,
            Filter::Not(inner) => 1 + inner.depth(),
            Filter::ValuePath { filter, .. } => 1 + filter.depth(),
            Filter::And(items) | Filter::Or(items) => {
                1 + items.iter().map(Filter::depth).max().unwrap_or(0)
            }
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath { attr, filter } => write!(f, "{attr}[{filter}]"),
            Filter::And(items) => write_joined(f, items, " and ", |i| {
                matches!(i, Filter::Or(_) | Filter::And(_))
            }),
            Filter::Or(items) => write_joined(f, items, " or ", |i| matches!(i, Filter::Or(_))),
        }
    }
}

fn write_joined(
    f: &mut fmt::Formatter<'_>,
    items: &[Filter],
    sep: &str,
    needs_parens: impl Fn(&Filter) -> bool,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if needs_parens(item) {
            write!(f, "({item})")?;
        } else {
            write!(f, "{item}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
