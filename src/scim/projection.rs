//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which attributes a response carries, driven
//! by each attribute's `returned` characteristic — `always` (id, schemas, meta) is always kept, `never`
//! (password) always dropped, `request` only when asked for.

use serde_json::{Map, Value};

use super::attr_path::AttrPath;
use super::error::ScimError;
use super::json::get_ci;
use super::resource::split_list;
use super::schema::{registry, AttributeDef, ResourceTypeDef, Returned};

/// One selected attribute, canonically spelled.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sel {
    /// The extension URN, for extension attributes.
    schema: Option<&'static str>,
    /// `None` selects every attribute of `schema` (a bare URN in the list).
    attr: Option<&'static str>,
    sub: Option<&'static str>,
}

/// A resolved `attributes` / `excludedAttributes` pair for one resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    rt: &'static ResourceTypeDef,
    attributes: Vec<Sel>,
    excluded: Vec<Sel>,
    /// True when `attributes` was given (even if none of its names were known).
    restrictive: bool,
}

impl Projection {
    /// From the comma-separated query parameters. Names are case-insensitive and may be URN-qualified
    /// (`urn:…:enterprise:2.0:User:employeeNumber`, or a bare extension URN); unknown names are ignored;
    /// malformed names are `invalidPath`.
    pub fn from_query(
        rt: &ResourceTypeDef,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Projection, ScimError> {
        Projection::new(
            rt,
            &attributes.map(split_list).unwrap_or_default(),
            &excluded.map(split_list).unwrap_or_default(),
        )
    }

    /// From lists (a `.search` body or [`crate::scim::resource::ListQuery`]).
    pub fn new(
        rt: &ResourceTypeDef,
        attributes: &[String],
        excluded: &[String],
    ) -> Result<Projection, ScimError> {
        let reg = registry();
        let rt = reg.resource_type(rt.id).ok_or_else(|| {
            ScimError::Internal(format!("resource type {} not in the registry", rt.id))
        })?;
        let resolve = |names: &[String]| -> Result<Vec<Sel>, ScimError> {
            let mut out = Vec::new();
            for name in names {
                if let Some(ext) = reg.extension_of(rt, name.trim()) {
                    out.push(Sel {
                        schema: Some(ext.id),
                        attr: None,
                        sub: None,
                    });
                    continue;
                }
                let path = AttrPath::parse(name)?;
                if let Ok(r) = reg.resolve(rt, &path) {
                    out.push(Sel {
                        schema: r.extension.then_some(r.schema),
                        attr: Some(r.attr.name),
                        sub: r.sub.map(|s| s.name),
                    });
                }
            }
            Ok(out)
        };
        Ok(Projection {
            rt,
            attributes: resolve(attributes)?,
            excluded: resolve(excluded)?,
            restrictive: !attributes.is_empty(),
        })
    }

    /// No restriction: every `returned: default` attribute.
    pub fn all(rt: &ResourceTypeDef) -> Projection {
        Projection::new(rt, &[], &[]).unwrap_or(Projection {
            rt: &registry().resource_types[0],
            attributes: Vec::new(),
            excluded: Vec::new(),
            restrictive: false,
        })
    }

    /// Whether the response will carry top-level attribute `name` at all (storage asks this for `members`, to
    /// skip loading a large group's members when `excludedAttributes=members`).
    pub fn includes(&self, name: &str) -> bool {
        let reg = registry();
        match reg.top_level(self.rt, name) {
            Some(r) => self.keep(r.extension.then_some(r.schema), r.attr).is_some(),
            None => !self.restrictive,
        }
    }

    /// No `attributes` and no `excludedAttributes`: every attribute returned by default.
    pub fn is_default(&self) -> bool {
        !self.restrictive && self.excluded.is_empty()
    }

    /// No `attributes`, and `excludedAttributes` names the core attribute `name` alone (say
    /// `groups`): the default view without that one attribute.
    pub fn is_default_but(&self, name: &str) -> bool {
        !self.restrictive
            && !self.excluded.is_empty()
            && self
                .excluded
                .iter()
                .all(|s| s.schema.is_none() && s.attr == Some(name) && s.sub.is_none())
    }

    /// Whether top-level attribute `name` is answered whole, as stored: kept, with no
    /// sub-attribute selected, excluded or never returned (a list page then writes a user's
    /// `groups` as written from the database's listing).
    pub fn keeps_whole(&self, name: &str) -> bool {
        let reg = registry();
        match reg.top_level(self.rt, name) {
            Some(r) => {
                self.keep(r.extension.then_some(r.schema), r.attr) == Some(None)
                    && !r
                        .attr
                        .sub_attributes
                        .iter()
                        .any(|s| s.returned == Returned::Never)
            }
            None => !self.restrictive,
        }
    }

    /// Whether the response carries sub-attribute `sub` of top-level attribute `name` (a group's
    /// members are written as text with only those kept, as [`Projection::apply`] would keep them).
    pub fn keeps_sub(&self, name: &str, sub: &str) -> bool {
        let reg = registry();
        match reg.top_level(self.rt, name) {
            Some(r) => self
                .keep(r.extension.then_some(r.schema), r.attr)
                .is_some_and(|how| sub_kept(r.attr, &how, sub)),
            None => !self.restrictive,
        }
    }

    /// What to keep of attribute `def`: `None` drops it, `Some(None)` keeps it whole, `Some(Some(subs))` keeps only
    /// those sub-attributes (or all but those, when `exclude` is true) — returned as `(subs, exclude)`.
    fn keep(
        &self,
        schema: Option<&'static str>,
        def: &AttributeDef,
    ) -> Option<Option<(Vec<&'static str>, bool)>> {
        if def.returned == Returned::Never {
            return None;
        }
        if def.returned == Returned::Always {
            return Some(None);
        }
        let for_attr = |sels: &[Sel]| -> (bool, Vec<&'static str>) {
            let mut whole = false;
            let mut subs = Vec::new();
            for s in sels.iter().filter(|s| s.schema == schema) {
                match (s.attr, s.sub) {
                    (None, _) => whole = true,
                    (Some(a), None) if a == def.name => whole = true,
                    (Some(a), Some(sub)) if a == def.name => subs.push(sub),
                    _ => {}
                }
            }
            (whole, subs)
        };
        if self.restrictive {
            let (whole, subs) = for_attr(&self.attributes);
            if whole {
                // A bare URN selects the schema's default attributes, not its `request` ones.
                let explicit = self
                    .attributes
                    .iter()
                    .any(|s| s.schema == schema && s.attr == Some(def.name));
                if def.returned == Returned::Request && !explicit {
                    return None;
                }
            } else if subs.is_empty() {
                return None;
            } else {
                return Some(Some((subs, false)));
            }
        } else if def.returned == Returned::Request {
            return None;
        }
        let (whole, subs) = for_attr(&self.excluded);
        if whole {
            return None;
        }
        if !subs.is_empty() {
            return Some(Some((subs, true)));
        }
        Some(None)
    }

    /// Applies the projection to a rendered resource, in place: kept values are moved, not copied
    /// (a list page projects a hundred resources).
    pub fn apply(&self, resource: Value) -> Value {
        let reg = registry();
        let Value::Object(obj) = resource else {
            return resource;
        };
        let mut out = Map::new();
        for (key, value) in obj {
            if key.eq_ignore_ascii_case("schemas") {
                out.insert(key, value);
                continue;
            }
            if let Some(ext) = reg.extension_of(self.rt, &key) {
                let Value::Object(fields) = value else {
                    continue;
                };
                let mut kept = Map::new();
                for (k, v) in fields {
                    if let Some(def) = ext.attr(&k) {
                        if let Some(how) = self.keep(Some(ext.id), def) {
                            kept.insert(k, trim_subs(def, v, how));
                        }
                    }
                }
                if !kept.is_empty() {
                    out.insert(key, Value::Object(kept));
                }
                continue;
            }
            match reg.top_level(self.rt, &key).filter(|r| !r.extension) {
                Some(r) => {
                    if let Some(how) = self.keep(None, r.attr) {
                        out.insert(key, trim_subs(r.attr, value, how));
                    }
                }
                None => {
                    if !self.restrictive {
                        out.insert(key, value);
                    }
                }
            }
        }
        // Drop `schemas` entries for extensions that were projected away.
        if let Some(Value::Array(schemas)) = out.remove("schemas") {
            let kept: Vec<Value> = schemas
                .into_iter()
                .filter(|s| match s.as_str() {
                    Some(u) if reg.extension_of(self.rt, u).is_some() => get_ci(&out, u).is_some(),
                    _ => true,
                })
                .collect();
            out.insert("schemas".into(), Value::Array(kept));
        }
        Value::Object(out)
    }
}

/// Whether sub-attribute `k` of attribute `def` is kept, `how` as [`Projection::keep`] returns
/// it: never a `returned: never` one, always a `returned: always` one.
fn sub_kept(def: &AttributeDef, how: &Option<(Vec<&'static str>, bool)>, k: &str) -> bool {
    let returned = def.sub(k).map(|s| s.returned);
    if returned == Some(Returned::Never) {
        return false;
    }
    let always = returned == Some(Returned::Always);
    match how {
        None => true,
        Some((subs, false)) => always || subs.iter().any(|s| s.eq_ignore_ascii_case(k)),
        Some((subs, true)) => always || !subs.iter().any(|s| s.eq_ignore_ascii_case(k)),
    }
}

/// What is kept of one attribute's value: `how` as [`Projection::keep`] returns it; sub-attributes
/// that are never returned are dropped in any case. Values are moved, not copied.
fn trim_subs(def: &AttributeDef, value: Value, how: Option<(Vec<&'static str>, bool)>) -> Value {
    let has_never = def
        .sub_attributes
        .iter()
        .any(|s| s.returned == Returned::Never);
    if how.is_none() && !has_never {
        return value;
    }
    let trim = |v: Value| -> Value {
        match v {
            Value::Object(mut o) => {
                o.retain(|k, _| sub_kept(def, &how, k));
                Value::Object(o)
            }
            other => other,
        }
    };
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(trim).collect()),
        other => trim(other),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "2819c223",
            "userName": "bjensen",
            "password": "t1meMa$heen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "meta": {"resourceType": "User"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "costCenter": "4130"}
        })
    }

    /// The projection of a User query's `attributes` and `excludedAttributes`.
    fn user_projection(attrs: Option<&str>, excluded: Option<&str>) -> Projection {
        Projection::from_query(registry().user(), attrs, excluded).expect("projection")
    }

    fn project(attrs: Option<&str>, excluded: Option<&str>) -> Value {
        user_projection(attrs, excluded).apply(user())
    }

    #[test]
    fn password_is_never_returned_even_when_asked_for() {
        assert!(project(None, None).get("password").is_none());
        assert!(project(Some("password,userName"), None)
            .get("password")
            .is_none());
    }

    #[test]
    fn attributes_keeps_the_named_ones_plus_id_schemas_and_meta() {
        let p = project(Some("USERNAME"), None);
        assert_eq!(p["userName"], "bjensen");
        assert_eq!(p["id"], "2819c223");
        assert!(p.get("meta").is_some());
        assert!(p.get("schemas").is_some());
        assert!(p.get("name").is_none());
        assert!(p.get("emails").is_none());
        assert!(p
            .get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
            .is_none());
    }

    #[test]
    fn the_default_but_one_attribute_is_that_attribute_excluded_alone() {
        let but_groups = |a, x| user_projection(a, x).is_default_but("groups");
        assert!(but_groups(None, Some("groups")));
        assert!(but_groups(None, Some("GROUPS")));
        assert!(but_groups(None, Some("groups,Groups")));
        assert!(but_groups(
            None,
            Some("urn:ietf:params:scim:schemas:core:2.0:User:groups")
        ));
        assert!(!but_groups(None, None), "nothing excluded is the default");
        assert!(!but_groups(None, Some("groups.display")));
        assert!(!but_groups(None, Some("groups,title")));
        assert!(!but_groups(None, Some("title")));
        assert!(!but_groups(Some("userName"), Some("groups")));
    }

    #[test]
    fn groups_are_kept_whole_only_without_a_sub_attribute_selected_or_excluded() {
        let rt = registry().user();
        let whole = |a, x| user_projection(a, x).keeps_whole("groups");
        assert!(whole(None, None));
        assert!(whole(Some("userName,groups"), None));
        assert!(whole(None, Some("emails.type")));
        assert!(!whole(Some("groups.value"), None));
        assert!(!whole(None, Some("groups.display")));
        assert!(!whole(None, Some("groups")));
        assert!(!whole(Some("userName"), None));
        assert!(whole(None, Some("password")));
        assert!(!Projection::all(rt).keeps_whole("password"));
    }

    #[test]
    fn a_sub_attribute_in_attributes_keeps_only_that_sub_attribute() {
        let p = project(Some("name.givenName,emails.value"), None);
        assert_eq!(p["name"], json!({"givenName": "Barbara"}));
        assert_eq!(p["emails"], json!([{"value": "bjensen@example.com"}]));
    }

    #[test]
    fn urn_qualified_names_select_extension_attributes() {
        let p = project(
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
            None,
        );
        assert_eq!(
            p["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            json!({"employeeNumber": "701984"})
        );
        let whole = project(
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
            None,
        );
        assert_eq!(
            whole["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["costCenter"],
            "4130"
        );
    }

    #[test]
    fn excluded_attributes_drops_them_but_never_id() {
        let p = project(None, Some("emails,id,name.familyName"));
        assert!(p.get("emails").is_none());
        assert_eq!(p["id"], "2819c223");
        assert_eq!(p["name"], json!({"givenName": "Barbara"}));
        assert_eq!(p["userName"], "bjensen");
    }

    #[test]
    fn excluding_the_extension_also_drops_its_schema_urn() {
        let p = project(
            None,
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
        );
        assert_eq!(
            p["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
        );
    }

    #[test]
    fn storage_can_ask_whether_members_are_needed() {
        let rt = registry().group();
        assert!(!Projection::from_query(rt, None, Some("members"))
            .expect("p")
            .includes("members"));
        assert!(!Projection::from_query(rt, Some("displayName"), None)
            .expect("p")
            .includes("members"));
        assert!(Projection::from_query(rt, None, None)
            .expect("p")
            .includes("members"));
        assert!(Projection::from_query(rt, Some("members.value"), None)
            .expect("p")
            .includes("MEMBERS"));
    }

    /// What `keeps_sub` says of each member sub-attribute is what `apply` keeps of a member.
    #[test]
    fn the_kept_sub_attributes_of_members_are_those_apply_keeps() {
        let rt = registry().group();
        let member = json!({"value": "u1", "$ref": "https://x/Users/u1", "type": "User"});
        let group = json!({"schemas": [], "id": "g", "displayName": "G", "members": [member]});
        let queries: [(Option<&str>, Option<&str>); 8] = [
            (None, None),
            (Some("members.value"), None),
            (Some("members.VALUE,members.type"), None),
            (Some("members"), None),
            (None, Some("members.$ref")),
            (None, Some("members.type,members.value")),
            (Some("members.value"), Some("members.value")),
            (Some("displayName"), None),
        ];
        for (attributes, excluded) in queries {
            let p = Projection::from_query(rt, attributes, excluded).expect("p");
            let applied = p.apply(group.clone());
            for sub in ["value", "$ref", "type"] {
                let kept = applied["members"][0].get(sub).is_some();
                assert_eq!(
                    p.keeps_sub("members", sub),
                    kept,
                    "{sub} under {attributes:?} / {excluded:?}: {applied}"
                );
            }
        }
    }

    #[test]
    fn malformed_attribute_names_are_invalid_path() {
        let rt = registry().user();
        assert!(matches!(
            Projection::from_query(rt, Some("name..x"), None),
            Err(ScimError::InvalidPath(_))
        ));
    }
}
