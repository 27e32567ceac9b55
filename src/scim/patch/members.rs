//! Group membership as a delta: storage applies `members` changes in O(changes) and, for the PATCH shapes IdPs
//! send, without loading the current member list (large groups are never loaded just to add one user).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{OpKind, PatchOperation};
use crate::scim::error::ScimError;
use crate::scim::filter::{CompareOp, CompareValue, Filter};
use crate::scim::json::get_ci;
use crate::scim::path::PatchPath;
use crate::scim::urn::GROUP_URN;

/// How a group's members change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberDelta {
    /// Add these ids and remove those; final members = (current − removed) ∪ added. Both sorted, disjoint.
    Changes {
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// The member list becomes exactly this set (sorted).
    ReplaceAll(Vec<String>),
}

impl MemberDelta {
    /// Applies the delta to a known member list (used in tests and by storage back-ends that hold the list).
    pub fn apply_to(&self, current: &[String]) -> Vec<String> {
        match self {
            MemberDelta::ReplaceAll(ids) => ids.clone(),
            MemberDelta::Changes { added, removed } => {
                let mut set: BTreeSet<String> = current
                    .iter()
                    .filter(|c| !removed.contains(c))
                    .cloned()
                    .collect();
                set.extend(added.iter().cloned());
                set.into_iter().collect()
            }
        }
    }
}

/// The result of [`plan_member_ops`].
#[derive(Debug, Clone, PartialEq)]
pub enum MemberPlan {
    /// Member operations folded into `delta` (`None` if there were none); `rest` are the other operations,
    /// to apply with [`super::apply_patch`] to the group loaded without its members.
    Delta {
        delta: Option<MemberDelta>,
        rest: Vec<PatchOperation>,
    },
    /// Some member operation selects members by something other than their id (e.g. `members[display eq
    /// "x"]`): load the members and use [`super::apply_patch`] on the full group.
    NeedsMembers,
}

/// Folds the member operations of a Group PATCH into a [`MemberDelta`] without the current member list:
/// `add members` + values, `remove members` + value list (authentik ≤2026.5, Entra), `remove
/// members[value eq "id"]` (or an `or` of those), `remove members` without value (all), `replace members`,
/// and path-less `add`/`replace` objects carrying `members`.
pub fn plan_member_ops(ops: &[PatchOperation]) -> Result<MemberPlan, ScimError> {
    let mut acc = Acc::default();
    let mut rest = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let n = i + 1;
        match &op.path {
            None => {
                let Some(Value::Object(fields)) = &op.value else {
                    rest.push(op.clone());
                    continue;
                };
                let mut others = Map::new();
                for (k, v) in fields {
                    if k.eq_ignore_ascii_case("members") {
                        let ids = ids_of(v, n)?;
                        match op.op {
                            OpKind::Replace => acc.replace_all(ids),
                            _ => acc.add(ids),
                        }
                    } else {
                        others.insert(k.clone(), v.clone());
                    }
                }
                if !others.is_empty() {
                    rest.push(PatchOperation {
                        op: op.op,
                        path: None,
                        value: Some(Value::Object(others)),
                    });
                }
            }
            Some(path) if is_members(path) => match (op.op, path) {
                (OpKind::Add, PatchPath::Attr(a)) if a.sub_attr.is_none() => {
                    acc.add(ids_of(op.value.as_ref().unwrap_or(&Value::Null), n)?)
                }
                (OpKind::Replace, PatchPath::Attr(a)) if a.sub_attr.is_none() => {
                    acc.replace_all(ids_of(op.value.as_ref().unwrap_or(&Value::Null), n)?)
                }
                (OpKind::Remove, PatchPath::Attr(a)) if a.sub_attr.is_none() => match &op.value {
                    Some(v) if !crate::scim::json::is_unassigned(v) => acc.remove(ids_of(v, n)?),
                    _ => acc.replace_all(Vec::new()),
                },
                (
                    OpKind::Remove,
                    PatchPath::Value {
                        filter,
                        sub_attr: None,
                        ..
                    },
                ) => match ids_in_filter(filter) {
                    Some(ids) => acc.remove(ids),
                    None => return Ok(MemberPlan::NeedsMembers),
                },
                _ => return Ok(MemberPlan::NeedsMembers),
            },
            Some(_) => rest.push(op.clone()),
        }
    }
    Ok(MemberPlan::Delta {
        delta: acc.finish(),
        rest,
    })
}

fn is_members(path: &PatchPath) -> bool {
    path.attr().is_some_and(|a| {
        a.name.eq_ignore_ascii_case("members")
            && a.urn
                .as_deref()
                .is_none_or(|u| u.eq_ignore_ascii_case(GROUP_URN))
    })
}

/// The ids in a members value: `[{"value": id, …}]`, a single object, or bare id strings.
fn ids_of(v: &Value, n: usize) -> Result<Vec<String>, ScimError> {
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    };
    items
        .into_iter()
        .filter(|i| !i.is_null())
        .map(|i| {
            let id = match i {
                Value::Object(o) => get_ci(o, "value"),
                other => Some(other),
            };
            match id {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(Value::Number(num)) => Ok(num.to_string()),
                _ => Err(ScimError::InvalidValue(format!(
                    "operation {n}: each member needs a `value` with the member's id"
                ))),
            }
        })
        .collect()
}

/// `value eq "a"` or `value eq "a" or value eq "b"` → the ids; anything else → `None`.
fn ids_in_filter(filter: &Filter) -> Option<Vec<String>> {
    let parts: Vec<&Filter> = match filter {
        Filter::Or(items) => items.iter().collect(),
        other => vec![other],
    };
    parts
        .into_iter()
        .map(|p| match p {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } if path.is("value") && path.sub_attr.is_none() => match value {
                CompareValue::Str(s) => Some(s.clone()),
                CompareValue::Number(n) => Some(n.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[derive(Default)]
struct Acc {
    replace: Option<BTreeSet<String>>,
    added: BTreeSet<String>,
    removed: BTreeSet<String>,
}

impl Acc {
    fn add(&mut self, ids: Vec<String>) {
        for id in ids {
            match &mut self.replace {
                Some(set) => {
                    set.insert(id);
                }
                None => {
                    self.removed.remove(&id);
                    self.added.insert(id);
                }
            }
        }
    }
    fn remove(&mut self, ids: Vec<String>) {
        for id in ids {
            match &mut self.replace {
                Some(set) => {
                    set.remove(&id);
                }
                None => {
                    self.added.remove(&id);
                    self.removed.insert(id);
                }
            }
        }
    }
    fn replace_all(&mut self, ids: Vec<String>) {
        self.added.clear();
        self.removed.clear();
        self.replace = Some(ids.into_iter().collect());
    }
    fn finish(self) -> Option<MemberDelta> {
        match self.replace {
            Some(set) => Some(MemberDelta::ReplaceAll(set.into_iter().collect())),
            None if self.added.is_empty() && self.removed.is_empty() => None,
            None => Some(MemberDelta::Changes {
                added: self.added.into_iter().collect(),
                removed: self.removed.into_iter().collect(),
            }),
        }
    }
}

/// The member delta between two versions of a group (ids from each member's `value`).
pub fn member_delta_by_diff(old: &Value, new: &Value) -> Option<MemberDelta> {
    let ids = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .and_then(|o| get_ci(o, "members"))
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (before, after) = (ids(old), ids(new));
    let added: Vec<String> = after.difference(&before).cloned().collect();
    let removed: Vec<String> = before.difference(&after).cloned().collect();
    if added.is_empty() && removed.is_empty() {
        None
    } else {
        Some(MemberDelta::Changes { added, removed })
    }
}
