//! The in-memory filter evaluator and the semantic check of a filter against the registry: used for PATCH
//! value selection, tests, and attributes storage does not index. Names are case-insensitive; strings compare
//! case-insensitively unless the attribute is caseExact; dateTime values compare as instants.

use std::cmp::Ordering;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{CompareOp, CompareValue, Filter};
use crate::scim::attr_path::AttrPath;
use crate::scim::error::ScimError;
use crate::scim::json::get_ci;
use crate::scim::schema::{registry, AttrType, AttributeDef, ResolveError, ResourceTypeDef};

/// Parses `text` and checks it against `rt` (see [`validate`]).
pub fn parse_for(text: &str, rt: &ResourceTypeDef) -> Result<Filter, ScimError> {
    let filter = Filter::parse(text)?;
    validate(&filter, rt)?;
    Ok(filter)
}

/// Whether `resource` (a User or Group as JSON) matches `filter`.
pub fn matches(filter: &Filter, resource: &Value, rt: &ResourceTypeDef) -> bool {
    eval(filter, resource, Scope::Resource(rt))
}

/// Whether one element of a multi-valued attribute (e.g. one email) matches a value filter whose paths are
/// sub-attributes of `parent` (`type eq "work"`).
pub fn matches_element(filter: &Filter, element: &Value, parent: Option<&AttributeDef>) -> bool {
    eval(filter, element, Scope::Element(parent))
}

/// Semantic check: every attribute exists for `rt`, and each operator suits its attribute's type
/// (RFC 7644 §3.4.2.2: `gt`/`ge`/`lt`/`le` on boolean or binary attributes is `invalidFilter`).
pub fn validate(filter: &Filter, rt: &ResourceTypeDef) -> Result<(), ScimError> {
    validate_in(filter, Scope::Resource(rt))
}

/// [`validate`] for a value filter whose paths are sub-attributes of `parent` (PATCH value paths).
pub(crate) fn validate_element(
    filter: &Filter,
    parent: Option<&AttributeDef>,
) -> Result<(), ScimError> {
    validate_in(filter, Scope::Element(parent))
}

#[derive(Clone, Copy)]
enum Scope<'a> {
    Resource(&'a ResourceTypeDef),
    Element(Option<&'a AttributeDef>),
}

/// The definition a path ends at, if known, and whether it is a multi-valued complex attribute addressed without
/// a sub-attribute (then its `value` sub-attribute is compared).
fn definition<'a>(
    scope: Scope<'a>,
    path: &AttrPath,
) -> Result<Option<&'a AttributeDef>, ResolveError> {
    match scope {
        // RFC 7644 §3.4.2.2 filters on `schemas` (e.g. to find users with the enterprise extension).
        Scope::Resource(_)
            if path.urn.is_none() && path.sub_attr.is_none() && path.is("schemas") =>
        {
            Ok(None)
        }
        Scope::Resource(rt) => registry().resolve(rt, path).map(|r| {
            let leaf = r.leaf();
            Some(
                if r.sub.is_none() && leaf.multi_valued && leaf.ty == AttrType::Complex {
                    leaf.sub("value").unwrap_or(leaf)
                } else {
                    leaf
                },
            )
        }),
        Scope::Element(Some(parent)) => {
            let sub = parent
                .sub(&path.name)
                .ok_or_else(|| ResolveError::UnknownAttribute(path.to_string()))?;
            match &path.sub_attr {
                Some(s) => sub
                    .sub(s)
                    .map(Some)
                    .ok_or_else(|| ResolveError::UnknownAttribute(path.to_string())),
                None => Ok(Some(sub)),
            }
        }
        Scope::Element(None) => Ok(None),
    }
}

fn values<'v>(root: &'v Value, scope: Scope<'_>, path: &AttrPath) -> Vec<&'v Value> {
    let Some(obj) = root.as_object() else {
        return Vec::new();
    };
    let container: &Map<String, Value> = match (scope, &path.urn) {
        (Scope::Resource(rt), Some(urn)) if !rt.schema.eq_ignore_ascii_case(urn) => {
            match get_ci(obj, urn).and_then(Value::as_object) {
                Some(ext) => ext,
                None => return Vec::new(),
            }
        }
        (Scope::Resource(rt), None) => {
            // An unqualified extension attribute (tolerated by the registry) lives under its URN.
            match registry().resolve(rt, path) {
                Ok(r) if r.extension => match get_ci(obj, r.schema).and_then(Value::as_object) {
                    Some(ext) => ext,
                    None => return Vec::new(),
                },
                _ => obj,
            }
        }
        _ => obj,
    };
    let mut out = Vec::new();
    let Some(top) = get_ci(container, &path.name) else {
        return out;
    };
    let sub = path.sub_attr.as_deref().or_else(|| {
        // `emails eq "x"` compares each email's `value`.
        match top {
            Value::Array(items) if items.iter().any(Value::is_object) => Some("value"),
            _ => None,
        }
    });
    let mut push_leaf = |v: &'v Value| match v {
        Value::Array(items) => out.extend(items.iter().filter(|i| !i.is_null())),
        Value::Null => {}
        other => out.push(other),
    };
    match (top, sub) {
        (Value::Array(items), Some(sub)) => {
            for item in items {
                if let Some(v) = item.as_object().and_then(|o| get_ci(o, sub)) {
                    push_leaf(v);
                }
            }
        }
        (Value::Object(o), Some(sub)) => {
            if let Some(v) = get_ci(o, sub) {
                push_leaf(v);
            }
        }
        (_, Some(_)) => {}
        (v, None) => push_leaf(v),
    }
    out
}

fn eval(filter: &Filter, root: &Value, scope: Scope<'_>) -> bool {
    match filter {
        Filter::And(items) => items.iter().all(|f| eval(f, root, scope)),
        Filter::Or(items) => items.iter().any(|f| eval(f, root, scope)),
        Filter::Not(inner) => !eval(inner, root, scope),
        Filter::Present(path) => values(root, scope, path).iter().any(|v| !is_empty_leaf(v)),
        Filter::Compare { path, op, value } => {
            let def = definition(scope, path).ok().flatten();
            let found = values(root, scope, path);
            match (op, value) {
                (CompareOp::Eq, CompareValue::Null) => found.iter().all(|v| is_empty_leaf(v)),
                (CompareOp::Ne, CompareValue::Null) => found.iter().any(|v| !is_empty_leaf(v)),
                (CompareOp::Ne, _) => !found.iter().any(|v| compare(v, CompareOp::Eq, value, def)),
                _ => found.iter().any(|v| compare(v, *op, value, def)),
            }
        }
        Filter::ValuePath { attr, filter } => {
            let parent = match scope {
                Scope::Resource(rt) => registry().resolve(rt, attr).ok().map(|r| r.leaf()),
                Scope::Element(p) => p.and_then(|p| p.sub(&attr.name)),
            };
            let elements = values_raw(root, scope, attr);
            elements
                .iter()
                .any(|e| eval(filter, e, Scope::Element(parent)))
        }
    }
}

/// The elements of a multi-valued attribute (or the single complex value), for value paths.
fn values_raw<'v>(root: &'v Value, scope: Scope<'_>, attr: &AttrPath) -> Vec<&'v Value> {
    let plain = AttrPath {
        urn: attr.urn.clone(),
        name: attr.name.clone(),
        sub_attr: None,
    };
    let Some(obj) = root.as_object() else {
        return Vec::new();
    };
    let container = match (scope, &plain.urn) {
        (Scope::Resource(rt), Some(urn)) if !rt.schema.eq_ignore_ascii_case(urn) => {
            match get_ci(obj, urn).and_then(Value::as_object) {
                Some(ext) => ext,
                None => return Vec::new(),
            }
        }
        _ => obj,
    };
    match get_ci(container, &plain.name) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

fn is_empty_leaf(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Compares one attribute value with the literal under `op`, by the attribute's type.
fn compare(actual: &Value, op: CompareOp, lit: &CompareValue, def: Option<&AttributeDef>) -> bool {
    let ty = def.map(|d| d.ty).unwrap_or(match actual {
        Value::Bool(_) => AttrType::Boolean,
        Value::Number(_) => AttrType::Decimal,
        _ => AttrType::String,
    });
    let case_exact = def.is_some_and(|d| d.case_exact);
    match ty {
        AttrType::Boolean => {
            let (Some(a), Some(b)) = (as_bool(actual), lit_bool(lit)) else {
                return false;
            };
            op == CompareOp::Eq && a == b
        }
        AttrType::Integer | AttrType::Decimal => {
            let (Some(a), Some(b)) = (as_f64(actual), lit_f64(lit)) else {
                return false;
            };
            !op.is_substring() && ordered(a.partial_cmp(&b), op)
        }
        AttrType::DateTime => {
            let (Some(a), Some(b)) = (actual.as_str(), lit_str(lit)) else {
                return false;
            };
            match (parse_datetime(a), parse_datetime(&b)) {
                (Some(a), Some(b)) if !op.is_substring() => ordered(Some(a.cmp(&b)), op),
                _ => compare_str(a, &b, op, case_exact),
            }
        }
        AttrType::Complex => false,
        AttrType::String | AttrType::Reference | AttrType::Binary => {
            let a = match actual {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return false,
            };
            match lit_str(lit) {
                Some(b) => compare_str(&a, &b, op, case_exact),
                None => false,
            }
        }
    }
}

fn ordered(ord: Option<Ordering>, op: CompareOp) -> bool {
    let Some(ord) = ord else { return false };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn compare_str(a: &str, b: &str, op: CompareOp, case_exact: bool) -> bool {
    let (a, b) = if case_exact {
        (a.to_string(), b.to_string())
    } else {
        (a.to_lowercase(), b.to_lowercase())
    };
    match op {
        CompareOp::Co => a.contains(&b),
        CompareOp::Sw => a.starts_with(&b),
        CompareOp::Ew => a.ends_with(&b),
        _ => ordered(Some(a.cmp(&b)), op),
    }
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool(s),
        _ => None,
    }
}

/// `"True"`/`"false"` (any case) as a boolean: Entra sends booleans as strings.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn lit_bool(lit: &CompareValue) -> Option<bool> {
    match lit {
        CompareValue::Bool(b) => Some(*b),
        CompareValue::Str(s) => parse_bool(s),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn lit_f64(lit: &CompareValue) -> Option<f64> {
    match lit {
        CompareValue::Number(n) => n.as_f64(),
        CompareValue::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn lit_str(lit: &CompareValue) -> Option<String> {
    match lit {
        CompareValue::Str(s) => Some(s.clone()),
        CompareValue::Number(n) => Some(n.to_string()),
        CompareValue::Bool(b) => Some(b.to_string()),
        CompareValue::Null => None,
    }
}

/// RFC 3339 / xsd:dateTime with an offset.
pub(crate) fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

fn validate_in(filter: &Filter, scope: Scope<'_>) -> Result<(), ScimError> {
    match filter {
        Filter::And(items) | Filter::Or(items) => {
            items.iter().try_for_each(|f| validate_in(f, scope))
        }
        Filter::Not(inner) => validate_in(inner, scope),
        Filter::Present(path) => definition(scope, path).map(|_| ()).map_err(|e| unknown(&e)),
        Filter::Compare { path, op, value } => {
            let Some(def) = definition(scope, path).map_err(|e| unknown(&e))? else {
                return Ok(());
            };
            check_operator(path, def, *op, value)
        }
        Filter::ValuePath { attr, filter } => {
            let parent = match scope {
                Scope::Resource(rt) => {
                    let r = registry().resolve(rt, attr).map_err(|e| unknown(&e))?;
                    Some(r.leaf())
                }
                Scope::Element(p) => p.and_then(|p| p.sub(&attr.name)),
            };
            if let Some(p) = parent {
                if p.ty != AttrType::Complex {
                    return Err(ScimError::InvalidFilter(format!(
                        "`{attr}[…]` needs a complex attribute; `{}` is a {:?}",
                        p.name, p.ty
                    )));
                }
            }
            validate_in(filter, Scope::Element(parent))
        }
    }
}

fn unknown(e: &ResolveError) -> ScimError {
    ScimError::InvalidFilter(format!(
        "{e}; filters may only use attributes the server supports"
    ))
}

fn check_operator(
    path: &AttrPath,
    def: &AttributeDef,
    op: CompareOp,
    value: &CompareValue,
) -> Result<(), ScimError> {
    let bad = |why: &str| {
        Err(ScimError::InvalidFilter(format!(
            "`{path} {op} {value}`: {why}"
        )))
    };
    match def.ty {
        AttrType::Complex => bad("a complex attribute cannot be compared; name a sub-attribute"),
        AttrType::Boolean | AttrType::Binary if op.is_ordering() => {
            bad("gt, ge, lt and le are not defined for boolean or binary attributes")
        }
        AttrType::Boolean if op.is_substring() => {
            bad("co, sw and ew are not defined for boolean attributes")
        }
        AttrType::Boolean if !matches!(value, CompareValue::Null) && lit_bool(value).is_none() => {
            bad("a boolean attribute compares with true or false")
        }
        AttrType::Integer | AttrType::Decimal if op.is_substring() => {
            bad("co, sw and ew are not defined for numeric attributes")
        }
        AttrType::DateTime if !op.is_substring() => match value {
            CompareValue::Str(s) if parse_datetime(s).is_none() => {
                bad("the value is not an RFC 3339 dateTime such as \"2011-05-13T04:42:34Z\"")
            }
            CompareValue::Number(_) | CompareValue::Bool(_) => {
                bad("a dateTime attribute compares with a dateTime string")
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}
