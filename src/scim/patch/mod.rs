//! The PATCH engine (RFC 7644 §3.5.2): parses a PatchOp body and applies it atomically to a resource held as
//! JSON, following the registry's attribute rules and tolerating what real IdPs send (see
//! `shared/docs/idp-clients.md`). Group member changes can also be planned without loading the members
//! ([`members::plan_member_ops`]) so storage writes O(changes).
//!
//! Decisions where the RFC leaves room or real clients disagree with it:
//! - `remove` with a value filter that matches nothing is a no-op (the RFC names `noTarget` only for a
//!   missing path on `remove` and for an unmatched filter on `replace`); authentik re-sends removals.
//! - `replace` with an unmatched value filter is `noTarget` (RFC §3.5.2.3); `add` with an unmatched filter
//!   whose conditions are all `eq` creates the element (Entra's `phoneNumbers[type eq "work"].value`).
//! - readOnly attributes inside a path-less value object (`id`, `meta`, `schemas` in Okta's and authentik's
//!   group PATCHes) are ignored, as on PUT; naming one in `path` is `mutability`.
//! - Attributes of unknown schemas are ignored; unknown attributes of known schemas are `invalidPath` when named
//!   by `path` and ignored inside a value object.
//! - `remove` of a multi-valued attribute with a `value` list removes only the listed values (matched by
//!   their `value` sub-attribute), never all of them.

pub mod members;

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::attr_path::{parse_attr_path, AttrPath};
use super::error::ScimError;
use super::filter::eval::{matches_element, validate_element};
use super::filter::{CompareOp, CompareValue, Filter};
use super::json::{get_ci, is_unassigned, key_ci, remove_ci, set_ci};
use super::path::PatchPath;
use super::resource::{
    coerce, coerce_single, element_key, enforce_single_primary, set_schemas, Elements,
};
use super::schema::{
    registry, AttributeDef, Mutability, ResolveError, ResolvedAttr, ResourceTypeDef,
};

pub use members::{member_delta_by_diff, plan_member_ops, MemberDelta, MemberPlan};

/// Most operations accepted in one PATCH request (advertised as `bulk.maxOperations`, which authentik uses as
/// its operations-per-PATCH limit).
pub const MAX_OPERATIONS: usize = 1000;

/// `add`, `replace` or `remove`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One PATCH operation, with its path already parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: OpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// What applying a PATCH did.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutcome {
    /// The patched resource.
    pub resource: Value,
    /// Attributes whose value changed, canonically spelled (`emails`, `name`,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`), sorted.
    pub changed: Vec<String>,
    /// For resources with `members`: who was added and removed (`None` when membership did not change).
    pub members: Option<MemberDelta>,
}

/// Parses an RFC 7644 §3.5.2 PatchOp body. Op names are case-insensitive (Entra sends `Replace`); `path` is
/// optional and parsed here, so a malformed path is `invalidPath` before anything is applied.
pub fn parse_patch_request(body: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    let obj = body.as_object().ok_or_else(|| {
        ScimError::InvalidSyntax("a PATCH body must be a JSON object with `Operations`".into())
    })?;
    let ops = get_ci(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ScimError::InvalidSyntax("a PATCH body needs an `Operations` array".into())
        })?;
    if ops.is_empty() {
        return Err(ScimError::InvalidSyntax(
            "`Operations` is empty; send at least one operation".into(),
        ));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::TooMany(format!(
            "{} operations in one PATCH; the limit is {MAX_OPERATIONS}",
            ops.len()
        )));
    }
    ops.iter()
        .enumerate()
        .map(|(i, op)| parse_operation(op).map_err(|e| prefix(e, i + 1)))
        .collect()
}

fn prefix(e: ScimError, n: usize) -> ScimError {
    let p = |d: String| format!("operation {n}: {d}");
    match e {
        ScimError::InvalidPath(d) => ScimError::InvalidPath(p(d)),
        ScimError::InvalidSyntax(d) => ScimError::InvalidSyntax(p(d)),
        ScimError::InvalidValue(d) => ScimError::InvalidValue(p(d)),
        ScimError::InvalidFilter(d) => ScimError::InvalidFilter(p(d)),
        ScimError::Mutability(d) => ScimError::Mutability(p(d)),
        ScimError::NoTarget(d) => ScimError::NoTarget(p(d)),
        other => other,
    }
}

fn parse_operation(op: &Value) -> Result<PatchOperation, ScimError> {
    let obj = op
        .as_object()
        .ok_or_else(|| ScimError::InvalidSyntax("each operation must be a JSON object".into()))?;
    let kind = match get_ci(obj, "op")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("add") => OpKind::Add,
        Some("replace") => OpKind::Replace,
        Some("remove") => OpKind::Remove,
        Some(other) => {
            return Err(ScimError::InvalidSyntax(format!(
                "`op` must be add, replace or remove, not `{other}`"
            )))
        }
        None => {
            return Err(ScimError::InvalidSyntax(
                "`op` is missing or not a string".into(),
            ))
        }
    };
    let path = match get_ci(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(PatchPath::parse(s)?),
        Some(_) => return Err(ScimError::InvalidPath("`path` must be a string".into())),
    };
    let value = get_ci(obj, "value").cloned();
    if kind != OpKind::Remove && value.is_none() {
        return Err(ScimError::InvalidValue(format!(
            "`{}` needs a `value`",
            if kind == OpKind::Add {
                "add"
            } else {
                "replace"
            }
        )));
    }
    if path.is_none() && kind == OpKind::Remove {
        return Err(ScimError::NoTarget(
            "`remove` needs a `path` (RFC 7644 §3.5.2.2)".into(),
        ));
    }
    Ok(PatchOperation {
        op: kind,
        path,
        value,
    })
}

/// Parses and applies a PatchOp body in one call.
pub fn apply_patch_body(
    rt: &ResourceTypeDef,
    resource: &Value,
    body: &Value,
) -> Result<PatchOutcome, ScimError> {
    apply_patch(rt, resource, &parse_patch_request(body)?)
}

/// Applies `ops` in order to a copy of `resource`: all of them or, on the first error, none.
pub fn apply_patch(
    rt: &ResourceTypeDef,
    resource: &Value,
    ops: &[PatchOperation],
) -> Result<PatchOutcome, ScimError> {
    let mut doc = match resource {
        Value::Object(o) => o.clone(),
        _ => {
            return Err(ScimError::Internal(
                "the stored resource is not a JSON object".into(),
            ))
        }
    };
    let engine = Engine { rt };
    for (i, op) in ops.iter().enumerate() {
        engine.apply(&mut doc, op).map_err(|e| prefix(e, i + 1))?;
    }
    engine.check_required(&doc)?;
    let mut patched = Value::Object(doc);
    set_schemas(rt, &mut patched);
    let changed = changed_attributes(rt, resource, &patched);
    let members = if changed.iter().any(|c| c == "members") {
        member_delta_by_diff(resource, &patched)
    } else {
        None
    };
    Ok(PatchOutcome {
        resource: patched,
        changed,
        members,
    })
}

struct Engine<'a> {
    rt: &'a ResourceTypeDef,
}

impl Engine<'_> {
    fn apply(&self, doc: &mut Map<String, Value>, op: &PatchOperation) -> Result<(), ScimError> {
        match &op.path {
            None => {
                let Some(Value::Object(fields)) = &op.value else {
                    return Err(ScimError::InvalidValue(
                        "without a `path`, `value` must be an object of attributes".into(),
                    ));
                };
                self.apply_value_object(doc, op.op, fields)
            }
            Some(path) => self.apply_path(doc, op.op, path, op.value.as_ref(), false),
        }
    }

    /// Path-less add/replace: each key is an attribute, an extension URN, or (Entra) itself a path.
    fn apply_value_object(
        &self,
        doc: &mut Map<String, Value>,
        kind: OpKind,
        fields: &Map<String, Value>,
    ) -> Result<(), ScimError> {
        for (key, value) in fields {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let path = if registry().schema(key).is_some() {
                PatchPath::Schema(key.clone())
            } else if key.contains('[') {
                PatchPath::parse(key)?
            } else {
                match parse_attr_path(key) {
                    Some(p) => PatchPath::Attr(p),
                    None => continue,
                }
            };
            self.apply_path(doc, kind, &path, Some(value), true)?;
        }
        Ok(())
    }

    /// `implicit` is true for keys of a path-less value object: readOnly and unknown attributes are then
    /// skipped instead of refused.
    fn apply_path(
        &self,
        doc: &mut Map<String, Value>,
        kind: OpKind,
        path: &PatchPath,
        value: Option<&Value>,
        implicit: bool,
    ) -> Result<(), ScimError> {
        match path {
            PatchPath::Schema(urn) => self.apply_schema(doc, kind, urn, value),
            PatchPath::Attr(p) => {
                let Some(r) = self.resolve(p, implicit)? else {
                    return Ok(());
                };
                if r.leaf().is_read_only() || r.attr.is_read_only() {
                    return if implicit { Ok(()) } else { Err(read_only(&r)) };
                }
                match r.sub {
                    None => self.apply_attr(doc, kind, &r, value),
                    Some(sub) => self.apply_sub(doc, kind, &r, sub, value),
                }
            }
            PatchPath::Value {
                attr,
                filter,
                sub_attr,
            } => {
                let Some(r) = self.resolve(attr, implicit)? else {
                    return Ok(());
                };
                if r.attr.is_read_only() {
                    return if implicit { Ok(()) } else { Err(read_only(&r)) };
                }
                self.apply_filtered(doc, kind, &r, filter, sub_attr.as_deref(), value, implicit)
            }
        }
    }

    fn resolve<'r>(
        &self,
        p: &AttrPath,
        implicit: bool,
    ) -> Result<Option<ResolvedAttr<'r>>, ScimError> {
        match registry().resolve(self.rt, p) {
            Ok(r) => Ok(Some(r)),
            Err(ResolveError::UnknownSchema(_)) => Ok(None),
            Err(e @ ResolveError::UnknownAttribute(_)) => {
                if implicit {
                    Ok(None)
                } else {
                    Err(ScimError::InvalidPath(format!("{e} for {}", self.rt.name)))
                }
            }
        }
    }

    /// The object holding the attribute: the resource itself, or its extension object (created when `create`).
    fn container<'d>(
        &self,
        doc: &'d mut Map<String, Value>,
        r: &ResolvedAttr<'_>,
        create: bool,
    ) -> Option<&'d mut Map<String, Value>> {
        if !r.extension {
            return Some(doc);
        }
        let key = match key_ci(doc, r.schema) {
            Some(k) => k,
            None if create => {
                doc.insert(r.schema.to_string(), Value::Object(Map::new()));
                r.schema.to_string()
            }
            None => return None,
        };
        let slot = doc.get_mut(&key)?;
        if !slot.is_object() {
            if !create {
                return None;
            }
            *slot = Value::Object(Map::new());
        }
        slot.as_object_mut()
    }

    fn apply_schema(
        &self,
        doc: &mut Map<String, Value>,
        kind: OpKind,
        urn: &str,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        let Some(ext) = registry().extension_of(self.rt, urn) else {
            return Ok(());
        };
        match kind {
            OpKind::Remove => {
                remove_ci(doc, ext.id);
                Ok(())
            }
            OpKind::Add | OpKind::Replace => {
                let Some(Value::Object(fields)) = value else {
                    return Err(ScimError::InvalidValue(format!(
                        "`{}` needs an object of its attributes",
                        ext.id
                    )));
                };
                for (k, v) in fields {
                    let path = AttrPath {
                        urn: Some(ext.id.to_string()),
                        name: k.clone(),
                        sub_attr: None,
                    };
                    self.apply_path(doc, kind, &PatchPath::Attr(path), Some(v), true)?;
                }
                Ok(())
            }
        }
    }

    fn apply_attr(
        &self,
        doc: &mut Map<String, Value>,
        kind: OpKind,
        r: &ResolvedAttr<'_>,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        let def = r.attr;
        let name = r.canonical();
        if kind == OpKind::Remove {
            if def.required {
                return Err(ScimError::Mutability(format!(
                    "`{name}` is required and cannot be removed"
                )));
            }
            let Some(holder) = self.container(doc, r, false) else {
                return Ok(());
            };
            if def.multi_valued {
                if let Some(selector) = value.filter(|v| !is_unassigned(v)) {
                    return remove_listed(holder, def, selector, &name);
                }
            }
            check_immutable(holder, def, None, &name)?;
            remove_ci(holder, def.name);
            return Ok(());
        }
        let value =
            value.ok_or_else(|| ScimError::InvalidValue(format!("`{name}` needs a value")))?;
        let new = coerce(def, value, &name, true)?;
        let holder = self
            .container(doc, r, true)
            .ok_or_else(|| ScimError::Internal("extension container".into()))?;
        let Some(new) = new else {
            if kind == OpKind::Replace {
                if def.required {
                    return Err(ScimError::Mutability(format!(
                        "`{name}` is required and cannot be unset"
                    )));
                }
                check_immutable(holder, def, None, &name)?;
                remove_ci(holder, def.name);
            }
            return Ok(());
        };
        check_immutable(holder, def, Some(&new), &name)?;
        let current = remove_ci(holder, def.name);
        let merged = match (kind, def.multi_valued, current, new) {
            (OpKind::Add, true, Some(Value::Array(items)), Value::Array(added)) => {
                let mut winner = None;
                let mut elements = Elements::new(def, items);
                for item in added {
                    let idx = elements.merge(item);
                    if elements
                        .get(idx)
                        .and_then(|v| v.get("primary"))
                        .and_then(Value::as_bool)
                        == Some(true)
                    {
                        winner = Some(idx);
                    }
                }
                let mut items = elements.into_items();
                enforce_single_primary(&mut items, winner);
                Value::Array(items)
            }
            (_, false, Some(Value::Object(mut cur)), Value::Object(new)) => {
                // Complex single-valued: the given sub-attributes replace theirs, the others stay.
                for (k, v) in new {
                    cur.insert(k, v);
                }
                Value::Object(cur)
            }
            (_, _, _, new) => new,
        };
        holder.insert(def.name.to_string(), merged);
        Ok(())
    }

    /// `name.givenName`, `manager.value`, or `emails.value` (every element).
    fn apply_sub(
        &self,
        doc: &mut Map<String, Value>,
        kind: OpKind,
        r: &ResolvedAttr<'_>,
        sub: &AttributeDef,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        let def = r.attr;
        let name = r.canonical();
        let new = match (kind, value) {
            (OpKind::Remove, _) => None,
            (_, Some(v)) => coerce(sub, v, &name, true)?,
            (_, None) => return Err(ScimError::InvalidValue(format!("`{name}` needs a value"))),
        };
        let Some(holder) = self.container(doc, r, kind != OpKind::Remove) else {
            return Ok(());
        };
        let key = key_ci(holder, def.name);
        let mut current = key.and_then(|k| holder.remove(&k));
        if def.multi_valued {
            let mut items = match current.take() {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            if items.is_empty() && kind != OpKind::Remove {
                items.push(Value::Object(Map::new()));
            }
            for item in items.iter_mut() {
                if let Some(o) = item.as_object_mut() {
                    set_or_remove(o, sub, new.clone());
                }
            }
            items.retain(|i| !is_unassigned(i));
            if sub.name == "primary" {
                enforce_single_primary(&mut items, None);
            }
            if !items.is_empty() {
                holder.insert(def.name.to_string(), Value::Array(items));
            }
            return Ok(());
        }
        let mut obj = match current {
            Some(Value::Object(o)) => o,
            _ => Map::new(),
        };
        if sub.mutability == Mutability::Immutable {
            check_immutable(&obj, sub, new.as_ref(), &name)?;
        }
        set_or_remove(&mut obj, sub, new);
        if !obj.is_empty() {
            holder.insert(def.name.to_string(), Value::Object(obj));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_filtered(
        &self,
        doc: &mut Map<String, Value>,
        kind: OpKind,
        r: &ResolvedAttr<'_>,
        filter: &Filter,
        sub_attr: Option<&str>,
        value: Option<&Value>,
        implicit: bool,
    ) -> Result<(), ScimError> {
        let def = r.attr;
        let name = r.canonical();
        if !def.multi_valued || r.sub.is_some() {
            return Err(ScimError::InvalidPath(format!(
                "`{name}` is not a multi-valued attribute, so it cannot take a value filter"
            )));
        }
        validate_element(filter, Some(def))
            .map_err(|e| ScimError::InvalidPath(e.detail().to_string()))?;
        let sub = match sub_attr {
            Some(s) => {
                let sub = def.sub(s).ok_or_else(|| {
                    ScimError::InvalidPath(format!("`{name}` has no sub-attribute `{s}`"))
                })?;
                if sub.is_read_only() {
                    if implicit {
                        return Ok(());
                    }
                    return Err(ScimError::Mutability(format!(
                        "`{name}.{}` is readOnly",
                        sub.name
                    )));
                }
                Some(sub)
            }
            None => None,
        };
        let new = match (kind, value) {
            (OpKind::Remove, _) => None,
            (_, None) => {
                return Err(ScimError::InvalidValue(format!(
                    "`{name}[…]` needs a value"
                )))
            }
            (_, Some(v)) => match sub {
                Some(sub) => coerce(sub, v, &format!("{name}.{}", sub.name), true)?,
                None => coerce_single(def, v, &name, true)?,
            },
        };
        let Some(holder) = self.container(doc, r, kind != OpKind::Remove) else {
            return Ok(());
        };
        let mut items = match key_ci(holder, def.name).and_then(|k| holder.remove(&k)) {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => Vec::new(),
            Some(other) => vec![other],
        };
        let hits: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, e)| matches_element(filter, e, Some(def)))
            .map(|(i, _)| i)
            .collect();
        let mut winner = None;
        let result = (|| {
            match kind {
                OpKind::Remove => {
                    // No match: nothing to remove (see the module docs).
                    match sub {
                        None => {
                            let mut i = 0;
                            items.retain(|_| {
                                let keep = !hits.contains(&i);
                                i += 1;
                                keep
                            });
                        }
                        Some(sub) => {
                            for &i in &hits {
                                if let Some(o) = items.get_mut(i).and_then(Value::as_object_mut) {
                                    remove_ci(o, sub.name);
                                }
                            }
                            items.retain(|i| !is_unassigned(i));
                        }
                    }
                }
                OpKind::Replace | OpKind::Add if hits.is_empty() => {
                    if kind == OpKind::Replace {
                        return Err(ScimError::NoTarget(format!(
                            "no value of `{name}` matches `{filter}` (RFC 7644 §3.5.2.3)"
                        )));
                    }
                    let mut element = element_from_filter(filter, def).ok_or_else(|| {
                        ScimError::NoTarget(format!(
                            "no value of `{name}` matches `{filter}`, and the filter does not describe a new value \
                             (only `eq` conditions joined by `and` can)"
                        ))
                    })?;
                    match (sub, new) {
                        (Some(sub), v) => set_or_remove(&mut element, sub, v),
                        (None, Some(Value::Object(fields))) => element.extend(fields),
                        (None, _) => {}
                    }
                    items.push(Value::Object(element));
                    winner = Some(items.len() - 1);
                }
                OpKind::Replace | OpKind::Add => {
                    for &i in &hits {
                        let Some(item) = items.get_mut(i) else {
                            continue;
                        };
                        match (sub, &new) {
                            (Some(sub), v) => {
                                if let Some(o) = item.as_object_mut() {
                                    set_or_remove(o, sub, v.clone());
                                }
                            }
                            (None, Some(Value::Object(fields))) if kind == OpKind::Add => {
                                if let Some(o) = item.as_object_mut() {
                                    o.extend(fields.clone());
                                }
                            }
                            (None, Some(v)) => *item = v.clone(),
                            (None, None) => {}
                        }
                        winner = Some(i);
                    }
                    items.retain(|i| !is_unassigned(i));
                }
            }
            Ok(())
        })();
        result?;
        let winner = winner.filter(|w| {
            items
                .get(*w)
                .and_then(|v| v.get("primary"))
                .and_then(Value::as_bool)
                == Some(true)
        });
        enforce_single_primary(&mut items, winner);
        if !items.is_empty() {
            holder.insert(def.name.to_string(), Value::Array(items));
        }
        Ok(())
    }

    /// After all operations: required attributes still present and non-empty.
    fn check_required(&self, doc: &Map<String, Value>) -> Result<(), ScimError> {
        let Some(core) = registry().schema(self.rt.schema) else {
            return Ok(());
        };
        for def in core.attributes.iter().filter(|d| d.required) {
            match get_ci(doc, def.name) {
                None | Some(Value::Null) => {
                    return Err(ScimError::Mutability(format!(
                        "`{}` is required and cannot be removed",
                        def.name
                    )))
                }
                Some(Value::String(s)) if s.trim().is_empty() => {
                    return Err(ScimError::InvalidValue(format!(
                        "`{}` must not be empty",
                        def.name
                    )))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn read_only(r: &ResolvedAttr<'_>) -> ScimError {
    ScimError::Mutability(format!(
        "`{}` is readOnly and cannot be modified",
        r.canonical()
    ))
}

/// RFC 7643 §7: an immutable attribute may be set once; changing or removing a set value is `mutability`.
fn check_immutable(
    holder: &Map<String, Value>,
    def: &AttributeDef,
    new: Option<&Value>,
    name: &str,
) -> Result<(), ScimError> {
    if def.mutability != Mutability::Immutable {
        return Ok(());
    }
    match get_ci(holder, def.name) {
        Some(old) if !is_unassigned(old) && Some(old) != new => Err(ScimError::Mutability(
            format!("`{name}` is immutable and already set"),
        )),
        _ => Ok(()),
    }
}

fn set_or_remove(obj: &mut Map<String, Value>, sub: &AttributeDef, v: Option<Value>) {
    match v {
        Some(v) => set_ci(obj, sub.name, v),
        None => {
            remove_ci(obj, sub.name);
        }
    }
}

/// `remove` on a multi-valued attribute with a value list: remove exactly the listed values.
fn remove_listed(
    holder: &mut Map<String, Value>,
    def: &AttributeDef,
    selector: &Value,
    name: &str,
) -> Result<(), ScimError> {
    let wanted: Vec<&Value> = match selector {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut keys = BTreeSet::new();
    for w in wanted {
        let k = element_key(def, w).ok_or_else(|| {
            ScimError::InvalidValue(format!("each value removed from `{name}` needs a `value`"))
        })?;
        keys.insert(k);
    }
    let Some(k) = key_ci(holder, def.name) else {
        return Ok(());
    };
    if let Some(Value::Array(items)) = holder.get_mut(&k) {
        items.retain(|e| element_key(def, e).is_none_or(|ek| !keys.contains(&ek)));
        if items.is_empty() {
            holder.remove(&k);
        }
    }
    Ok(())
}

/// For `add` with an unmatched filter: the element the filter describes, if it is a conjunction of `eq`s on
/// known sub-attributes (`type eq "work"` → `{"type": "work"}`).
fn element_from_filter(filter: &Filter, def: &AttributeDef) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    let parts: Vec<&Filter> = match filter {
        Filter::And(items) => items.iter().collect(),
        other => vec![other],
    };
    for part in parts {
        let Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } = part
        else {
            return None;
        };
        if path.sub_attr.is_some() {
            return None;
        }
        let sub = def.sub(&path.name)?;
        let v = match value {
            CompareValue::Str(s) => Value::String(s.clone()),
            CompareValue::Number(n) => Value::Number(n.clone()),
            CompareValue::Bool(b) => Value::Bool(*b),
            CompareValue::Null => return None,
        };
        let v = coerce(sub, &v, sub.name, false).ok().flatten()?;
        out.insert(sub.name.to_string(), v);
    }
    Some(out)
}

/// Canonical names of top-level attributes (and extension attributes) that differ between `old` and `new`;
/// absent, `null` and `[]` count as the same.
pub fn changed_attributes(rt: &ResourceTypeDef, old: &Value, new: &Value) -> Vec<String> {
    let reg = registry();
    let mut out = BTreeSet::new();
    let empty = Map::new();
    let (o, n) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let same = |a: Option<&Value>, b: Option<&Value>| match (a, b) {
        (Some(a), Some(b)) => a == b || (is_unassigned(a) && is_unassigned(b)),
        (Some(v), None) | (None, Some(v)) => is_unassigned(v),
        (None, None) => true,
    };
    let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    for key in keys {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = reg.extension_of(rt, key) {
            let eo = get_ci(o, key).and_then(Value::as_object).unwrap_or(&empty);
            let en = get_ci(n, key).and_then(Value::as_object).unwrap_or(&empty);
            let sub_keys: BTreeSet<&String> = eo.keys().chain(en.keys()).collect();
            for sk in sub_keys {
                if !same(get_ci(eo, sk), get_ci(en, sk)) {
                    let canon = ext.attr(sk).map_or(sk.as_str(), |a| a.name);
                    out.insert(format!("{}:{canon}", ext.id));
                }
            }
            continue;
        }
        if !same(get_ci(o, key), get_ci(n, key)) {
            let canon = reg
                .top_level(rt, key)
                .map_or(key.clone(), |r| r.attr.name.to_string());
            out.insert(canon);
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests;
