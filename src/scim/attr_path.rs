//! Attribute paths (`[urn ":"] name ["." sub_attr]`), the one type every SCIM module names (filters,
//! PATCH paths, projection, the schema registry), with their plain parser. Kept apart from `filter` and
//! `schema` so both can use it without importing each other: known URNs are split against the static
//! list in [`super::urn`], not the registry.

use std::fmt;

use super::error::ScimError;
use super::urn::split_schema_urn;

/// An attribute path: `[urn ":"] name ["." sub_attr]`. Names keep the client's spelling; resolve them with
/// [`crate::scim::schema::Registry::resolve`] for the canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub name: String,
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A bare attribute name, e.g. `userName`.
    pub fn new(name: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub_attr: None,
        }
    }

    /// A dotted path, e.g. `name.givenName`.
    pub fn with_sub(name: impl Into<String>, sub: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub_attr: Some(sub.into()),
        }
    }

    /// Parses a plain attribute path as used in `attributes=` lists and PATCH paths without filters:
    /// `userName`, `name.givenName`, `urn:…:enterprise:2.0:User:employeeNumber`, `members.$ref`.
    /// A bare schema URN is not an attribute path (see [`crate::scim::path`] for PATCH, which allows it).
    pub fn parse(text: &str) -> Result<AttrPath, ScimError> {
        parse_attr_path(text.trim()).ok_or_else(|| {
            ScimError::InvalidPath(format!("`{text}` is not a valid attribute path"))
        })
    }

    /// True when the path names `name` (case-insensitively), whatever its URN and sub-attribute.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Plain attribute path parser for `attributes=` lists and filter-free PATCH paths (no scim_v2 needed: no
/// operators, and URNs are split against the known schema URNs first).
pub fn parse_attr_path(text: &str) -> Option<AttrPath> {
    let (urn, rest) = match split_schema_urn(text) {
        Some((_, "")) => return None,
        Some((urn, rest)) => (Some(urn.to_string()), rest),
        None => match text.rsplit_once(':') {
            Some((urn, rest)) if !urn.is_empty() => (Some(urn.to_string()), rest),
            Some(_) => return None,
            None => (None, text),
        },
    };
    let (name, sub) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    if !is_attr_name(name) || sub.is_some_and(|s| !is_attr_name(s)) {
        return None;
    }
    Some(AttrPath {
        urn,
        name: name.to_string(),
        sub_attr: sub.map(str::to_string),
    })
}

/// RFC 7644 ATTRNAME (`ALPHA *(nameChar)`), plus `$ref`.
pub fn is_attr_name(s: &str) -> bool {
    if s.eq_ignore_ascii_case("$ref") {
        return true;
    }
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
