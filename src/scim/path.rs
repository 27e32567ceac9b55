//! PATCH `path` parsing (RFC 7644 §3.5.2): a plain attribute path, a bare extension schema URN, or a value
//! path with an optional sub-attribute. Value paths go through `scim_v2` (after the same tolerant pre-pass as
//! filters); plain paths are split against the registry's URNs, which `scim_v2` 1.0 gets wrong for a bare URN.

use std::fmt;

use scim_v2::filter as sv;

use super::attr_path::{parse_attr_path, AttrPath};
use super::error::ScimError;
use super::filter::parse::{
    at, check_len, convert_path, convert_val_filter, describe, normalize, unplaceholder,
};
use super::filter::{Filter, MAX_FILTER_DEPTH};
use super::schema::registry;

/// A parsed PATCH path.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchPath {
    /// A bare schema URN such as `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`: the whole
    /// extension object. Holds the canonical URN.
    Schema(String),
    /// `userName`, `name.givenName`, `urn:…:enterprise:2.0:User:employeeNumber`, `members`.
    Attr(AttrPath),
    /// `emails[type eq "work"]` or `emails[type eq "work"].value`.
    Value {
        attr: AttrPath,
        filter: Filter,
        sub_attr: Option<String>,
    },
}

impl PatchPath {
    /// Parses a PATCH path; every malformed path is `invalidPath` with a detail that says where.
    pub fn parse(text: &str) -> Result<PatchPath, ScimError> {
        let input = text.trim();
        check_len(input, "path").map_err(ScimError::InvalidPath)?;
        if let Some(schema) = registry().schema(input) {
            return Ok(PatchPath::Schema(schema.id.to_string()));
        }
        if !input.contains('[') {
            return parse_attr_path(input).map(PatchPath::Attr).ok_or_else(|| {
                ScimError::InvalidPath(format!(
                    "`{input}` is not an attribute path (expected e.g. `name.givenName` or `urn:…:User:employeeNumber`)"
                ))
            });
        }
        let norm =
            normalize(input).map_err(|(pos, msg)| ScimError::InvalidPath(at(input, pos, &msg)))?;
        let parsed: sv::PatchPath = norm
            .text
            .parse()
            .map_err(|e| ScimError::InvalidPath(describe(&e, &norm, input)))?;
        match parsed {
            sv::PatchPath::Attr(a) => Ok(PatchPath::Attr(
                convert_path(a).map_err(ScimError::InvalidPath)?,
            )),
            sv::PatchPath::Value(vp) => {
                let filter = convert_val_filter(vp.filter).map_err(ScimError::InvalidPath)?;
                if filter.depth() > MAX_FILTER_DEPTH {
                    return Err(ScimError::InvalidPath(format!(
                        "the filter in `{input}` is nested too deeply (limit {MAX_FILTER_DEPTH})"
                    )));
                }
                Ok(PatchPath::Value {
                    attr: convert_path(vp.attr).map_err(ScimError::InvalidPath)?,
                    filter,
                    sub_attr: vp.sub_attr.map(unplaceholder),
                })
            }
        }
    }

    /// The attribute the path starts at (for a bare URN, a path naming the URN with an empty name).
    pub fn attr(&self) -> Option<&AttrPath> {
        match self {
            PatchPath::Schema(_) => None,
            PatchPath::Attr(a) | PatchPath::Value { attr: a, .. } => Some(a),
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatchPath::Schema(urn) => f.write_str(urn),
            PatchPath::Attr(a) => write!(f, "{a}"),
            PatchPath::Value {
                attr,
                filter,
                sub_attr,
            } => {
                write!(f, "{attr}[{filter}]")?;
                if let Some(s) = sub_attr {
                    write!(f, ".{s}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::{CompareOp, CompareValue};
    use crate::scim::urn::ENTERPRISE_USER_URN;

    #[test]
    fn a_bare_extension_urn_is_the_whole_extension() {
        assert_eq!(
            PatchPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
                .expect("parses"),
            PatchPath::Schema(ENTERPRISE_USER_URN.into())
        );
    }

    #[test]
    fn a_urn_qualified_attribute_splits_at_the_known_schema() {
        let p = PatchPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        )
        .expect("parses");
        assert_eq!(
            p,
            PatchPath::Attr(AttrPath {
                urn: Some(ENTERPRISE_USER_URN.into()),
                name: "employeeNumber".into(),
                sub_attr: None
            })
        );
    }

    #[test]
    fn a_value_path_with_sub_attribute_parses() {
        let p = PatchPath::parse(r#"emails[type eq "work"].value"#).expect("parses");
        assert_eq!(
            p,
            PatchPath::Value {
                attr: AttrPath::new("emails"),
                filter: Filter::compare(
                    AttrPath::new("type"),
                    CompareOp::Eq,
                    CompareValue::Str("work".into())
                ),
                sub_attr: Some("value".into()),
            }
        );
    }

    #[test]
    fn member_value_paths_accept_unquoted_ids_and_ref() {
        let p = PatchPath::parse("members[value eq 2819c223-7f76-453a-919d-413861904646]")
            .expect("parses");
        let PatchPath::Value { filter, .. } = p else {
            panic!("value path expected")
        };
        assert_eq!(
            filter,
            Filter::compare(
                AttrPath::new("value"),
                CompareOp::Eq,
                CompareValue::Str("2819c223-7f76-453a-919d-413861904646".into())
            )
        );
        assert!(PatchPath::parse(r#"members[$ref eq "https://x/Users/1"]"#).is_ok());
    }

    #[test]
    fn malformed_paths_are_invalid_path_with_a_position() {
        for bad in [
            "emails[type eq \"work\"",
            "emails[type eq]",
            "na me",
            "name..x",
            "",
            "emails[type eq \"w\"].1",
        ] {
            match PatchPath::parse(bad) {
                Err(ScimError::InvalidPath(detail)) => assert!(!detail.is_empty(), "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
