//! SCIM Groups of one tenant. `displayName` is unique in the tenant (case-insensitively, 409
//! `uniqueness`); members must be users with access to the tenant (else 400 naming the value).
//! Member changes cost O(changes): PATCHes are folded into a delta by the SCIM core's
//! `plan_member_ops` and applied in batched statements (one existence check, one insert); members are loaded only when a response shows them
//! or a PATCH selects members by something other than their id. A replace that does not name
//! `members` leaves them alone. An integration reads every group of its tenant but changes
//! (PUT, PATCH, DELETE) only the groups it manages (`iam::reach`): a group made by hand or by
//! another integration may be bound to powerful roles.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::scim_users::{etag, etag_matches, Scope, MAX_RESULTS};
use crate::clock::Rfc3339Text;
use crate::db::group_refs::RefPrefix;
use crate::db::groups::GroupRow;
use crate::db::last_write::LastWrite;
use crate::db::member_refs::{self, MemberFields};
use crate::db::scim_users::Page;
use crate::db::{self, Conn};
use crate::iam::audit::Change;
use crate::iam::reach;
use crate::iam::scim::Answered;
use crate::scim::json_text::JsonText;
use crate::scim::patch::{
    apply_patch, parse_patch_request, plan_member_ops, MemberDelta, MemberPlan,
};
use crate::scim::projection::Projection;
use crate::scim::resource::{self, After, Intent, ListPage, ListQuery};
use crate::scim::{registry, ScimError};

pub fn version(row: &GroupRow) -> String {
    version_of(row.version)
}

/// The ETag value of a group's version number.
fn version_of(n: i64) -> String {
    n.to_string()
}

/// The group as SCIM JSON before projection, without its members (`members` is the empty
/// array every multi-valued attribute gets when absent).
pub fn render(scope: &Scope, row: &GroupRow) -> Value {
    render_with(scope, row, None)
}

/// [`render`] with `members` as JSON values.
fn render_with(scope: &Scope, row: &GroupRow, members: Option<Vec<Value>>) -> Value {
    let mut obj: Map<String, Value> = row
        .scim_json
        .as_deref()
        .and_then(|s| serde_json::from_str::<Map<String, Value>>(s).ok())
        .unwrap_or_default();
    obj.insert("id".into(), json!(row.id));
    obj.insert("displayName".into(), json!(row.display_name));
    match &row.external_id {
        Some(e) => obj.insert("externalId".into(), json!(e)),
        None => obj.remove("externalId"),
    };
    if let Some(members) = members {
        obj.insert("members".into(), Value::Array(members));
    }
    obj.insert(
        "meta".into(),
        resource::meta(
            "Group",
            Rfc3339Text::of(row.created_at).as_str(),
            Rfc3339Text::of(row.updated_at).as_str(),
            &location(scope, row),
            Some(&version(row)),
        ),
    );
    resource::render(registry().group(), Value::Object(obj))
}

fn location(scope: &Scope, row: &GroupRow) -> String {
    format!("{}/Groups/{}", scope.base, row.id)
}

/// Members as PATCH filters see them: with each one's `display` (`members[display eq "x"]`),
/// which answers do not echo.
fn members_with_display(scope: &Scope, members: Vec<(String, String)>) -> Vec<Value> {
    members
        .into_iter()
        .map(|(id, display)| {
            json!({
                "value": id,
                "$ref": format!("{}/Users/{id}", scope.base),
                "type": "User",
                "display": display,
            })
        })
        .collect()
}

/// The group as answered under `p`: JSON text with its members (`member_ids`, as
/// `db::member_refs` lists them; `None` when `p` does not show them) written into it, not built
/// as a JSON tree — a long list only as the client reads it.
fn answer(scope: &Scope, row: &GroupRow, member_ids: Option<String>, p: &Projection) -> Answered {
    let mut json = JsonText::default();
    let prefix = RefPrefix::of_users(&scope.base);
    write_answer(&mut json, scope, &prefix, row, member_ids, p);
    Answered::Text {
        json,
        location: location(scope, row),
    }
}

/// [`answer`]'s text, appended to `out` (a list page's).
fn write_answer(
    out: &mut JsonText,
    scope: &Scope,
    prefix: &RefPrefix,
    row: &GroupRow,
    member_ids: Option<String>,
    p: &Projection,
) {
    match member_ids {
        // Written as text with the sub-attributes the projection keeps of each member (all of
        // them, or some: `attributes=members.value`), however many members.
        Some(ids) if p.includes("members") => {
            let fields = MemberFields {
                value: p.keeps_sub("members", "value"),
                reference: p.keeps_sub("members", "$ref"),
                kind: p.keeps_sub("members", "type"),
            };
            let mut group = p.apply(render(scope, row));
            if let Some(obj) = group.as_object_mut() {
                obj.remove("members");
            }
            resource::push_text_with(out, &group, "members", |o| {
                member_refs::append_json(ids, prefix, fields, o)
            });
        }
        _ => resource::push_json_text(out.text_mut(), &p.apply(render(scope, row))),
    }
}

async fn find(conn: &mut Conn, scope: &Scope, id: &str) -> Result<GroupRow, ScimError> {
    db::groups::find(conn, &scope.tenant_id, id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ScimError {
    ScimError::NotFound(format!("no group `{id}` in this tenant"))
}

/// A group this integration may change: one it manages.
async fn find_managed(conn: &mut Conn, scope: &Scope, id: &str) -> Result<GroupRow, ScimError> {
    let row = find(conn, scope, id).await?;
    reach::integration_manages_group(&scope.integration_id, row.managed_by.as_deref())?;
    Ok(row)
}

/// `GET /Groups/{id}` under projection `p`: its members are read only when `p` shows them.
pub async fn get(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    p: &Projection,
) -> Result<(Answered, String), ScimError> {
    if !p.includes("members") {
        let row = find(conn, scope, id).await?;
        return Ok((answer(scope, &row, None, p), version(&row)));
    }
    let (row, member_ids) = db::groups::find_with_members(conn, &scope.tenant_id, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok((answer(scope, &row, Some(member_ids), p), version(&row)))
}

pub async fn list(conn: &mut Conn, scope: &Scope, q: &ListQuery) -> Result<ListPage, ScimError> {
    let rt = registry().group();
    let projection = Projection::new(rt, &q.attributes, &q.excluded_attributes)?;
    if let Some(f) = &q.filter {
        crate::scim::filter::validate(f, rt)?;
    }
    let page = Page {
        filter: q.filter.as_ref(),
        sort_by: q.sort_by.as_ref(),
        sort_order: q.sort_order,
        offset: q.start_index.saturating_sub(1) as i64,
        limit: q.count.unwrap_or(MAX_RESULTS).min(MAX_RESULTS) as i64,
        after: q.after.as_ref().map(|after| (after, 0)),
        with_group_refs: false,
        profile: db::scim_users::ProfileText::Json,
    };
    // Members of the whole page in its one statement, not one query per group.
    let with_members = projection.includes("members");
    let (total, rows) = db::groups::list(conn, &scope.tenant_id, &page, with_members).await?;
    let mut items = ListPage::new(total.max(0) as u64);
    // A walk in the default order, filtered or not, resumes after its last group
    // (`scim::cursor`).
    if db::groups::resumes_after(&page) {
        items.walk_end = rows.last().map(|(row, _)| After {
            created_at: row.created_at,
            id: row.id.clone(),
        });
    }
    let prefix = RefPrefix::of_users(&scope.base);
    for (row, ids) in rows {
        items.push_with(|out| write_answer(out, scope, &prefix, &row, ids, &projection));
    }
    Ok(items)
}

fn member_ids(resource: &Value) -> Option<Vec<String>> {
    resource
        .get("members")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_string))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        })
}

fn stored_json(resource: &Value) -> String {
    resource::object_text_without(
        resource,
        &["id", "meta", "displayName", "externalId", "members"],
    )
}

fn display_name_of(resource: &Value) -> Result<String, ScimError> {
    let name = resource
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(ScimError::InvalidValue(
            "`displayName` must have 1 to 255 characters".into(),
        ));
    }
    Ok(name)
}

/// Adds members: users this integration can see (with access to the tenant, and no
/// superadmin, who is out of every integration's reach: `iam::reach`). The first id (in the
/// order given) that is not such a user is named, and the request's transaction rolls back.
/// Answers how many were not members yet.
async fn add_members(
    conn: &mut Conn,
    scope: &Scope,
    group_id: &str,
    ids: &[String],
) -> Result<u64, ScimError> {
    match db::groups::add_members(conn, group_id, ids, scope.now).await? {
        Ok(added) => Ok(added),
        Err(id) => Err(ScimError::InvalidValue(format!(
            "member `{id}` is not a user with access to this tenant"
        ))),
    }
}

/// Applies a member change with batched statements: O(changed members), never a load of the
/// group's members but for a replacement, whose ids alone are read to write only the difference
/// (what an IdP's PUT sends is mostly the members the group has: the others keep their
/// memberships and their ETags, and an unchanged list writes nothing). Answers how many
/// memberships it wrote: adding a member or removing a non-member (IdPs resend what they sent)
/// writes none, and leaves the group's version as it was.
async fn apply_delta(
    conn: &mut Conn,
    scope: &Scope,
    group_id: &str,
    delta: &MemberDelta,
) -> Result<Membership, ScimError> {
    let replaced;
    let (added, removed) = match delta {
        MemberDelta::Changes { added, removed } => (added, removed),
        MemberDelta::ReplaceAll(ids) => {
            let mut current = db::groups::member_ids(conn, group_id).await?;
            current.sort_unstable();
            let mut wanted = ids.clone();
            wanted.sort_unstable();
            wanted.dedup();
            replaced = differences(&wanted, &current);
            (&replaced.0, &replaced.1)
        }
    };
    let added = add_members(conn, scope, group_id, added).await?;
    let removed = db::groups::remove_members(conn, group_id, removed).await?;
    Ok(Membership { added, removed })
}

/// How many memberships a change wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Membership {
    added: u64,
    removed: u64,
}

impl Membership {
    fn any(self) -> bool {
        self.added + self.removed > 0
    }

    /// As the audit log tells it: `3 members added, 1 removed.`
    fn describe(self) -> String {
        let members = |n: u64| if n == 1 { "member" } else { "members" };
        match (self.added, self.removed) {
            (0, 0) => String::new(),
            (a, 0) => format!("{a} {} added.", members(a)),
            (0, r) => format!("{r} {} removed.", members(r)),
            (a, r) => format!("{a} {} added, {r} removed.", members(a)),
        }
    }
}

/// Notes a group's change for the audit log, when anything changed: its attributes (`saved`)
/// or its members. `name` is the group's when its attributes did not change.
fn note_update(scope: &Scope, id: &str, name: &str, saved: Option<&Saved>, members: Membership) {
    if saved.is_none() && !members.any() {
        return;
    }
    let detail = [saved.map(|s| s.detail.clone()), Some(members.describe())]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let name = saved.map_or(name, |s| s.name.as_str());
    scope
        .audit
        .note(Change::GroupUpdated.on(id, name).detail(detail));
}

/// `(in wanted but not in current, in current but not in wanted)`, both sorted; `wanted` and
/// `current` are sorted and without repeats.
fn differences(wanted: &[String], current: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    let (mut w, mut c) = (wanted.iter().peekable(), current.iter().peekable());
    loop {
        match (w.peek(), c.peek()) {
            (Some(a), Some(b)) if a == b => {
                w.next();
                c.next();
            }
            (Some(a), Some(b)) if a < b => added.extend(w.next().cloned()),
            (Some(_), Some(_)) | (None, Some(_)) => removed.extend(c.next().cloned()),
            (Some(_), None) => added.extend(w.next().cloned()),
            (None, None) => return (added, removed),
        }
    }
}

/// `POST /Groups`, answered under projection `p`.
pub async fn create(
    conn: &mut Conn,
    scope: &Scope,
    body: &Value,
    p: &Projection,
) -> Result<(Answered, String), ScimError> {
    let rt = registry().group();
    let resource = resource::validate_resource(rt, body, Intent::Create)?;
    let row = GroupRow {
        id: db::new_id(),
        tenant_id: scope.tenant_id.clone(),
        display_name: display_name_of(&resource)?,
        external_id: resource
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_string),
        managed_by: Some(scope.integration_id.clone()),
        scim_json: Some(stored_json(&resource)),
        version: 1,
        created_at: scope.now,
        updated_at: scope.now,
    };
    let ids = member_ids(&resource).filter(|ids| !ids.is_empty());
    // Without members the insert is the request's last write: it ends the transaction, with
    // the event noted. With members, the event is noted again once they are counted.
    let created = Change::GroupCreated.on(&row.id, &row.display_name);
    scope.audit.note(created.clone());
    let last = scope.last_write.when(ids.is_none());
    db::groups::insert(conn, &row, &last).await?;
    // The new group is answered as written: only its members (in the order the database lists
    // them) are read back, and only when it has some.
    let members = match ids {
        Some(ids) => {
            let added = add_members(conn, scope, &row.id, &ids).await?;
            let detail = Membership { added, removed: 0 }.describe();
            scope.audit.note(created.detail(detail));
            member_refs::of_group(conn, &row.id).await?
        }
        None => String::new(),
    };
    let shown = p.includes("members").then_some(members);
    Ok((answer(scope, &row, shown, p), version(&row)))
}

fn check_if_match(if_match: Option<&str>, v: &str) -> Result<(), ScimError> {
    match if_match {
        Some(h) if !etag_matches(h, v) => Err(ScimError::PreconditionFailed(format!(
            "the group has changed: its version is {}",
            etag(v)
        ))),
        _ => Ok(()),
    }
}

/// Attributes of a group as [`save_attributes`] wrote them.
#[derive(Debug, Clone)]
struct Saved {
    /// The group's name now.
    name: String,
    /// How they changed, as the audit log tells it.
    detail: String,
}

/// Writes name, externalId and other attributes of `resource` when they changed.
async fn save_attributes(
    conn: &mut Conn,
    scope: &Scope,
    row: &GroupRow,
    resource: &Value,
) -> Result<Option<Saved>, ScimError> {
    let updated = GroupRow {
        display_name: display_name_of(resource)?,
        external_id: resource
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_string),
        scim_json: Some(stored_json(resource)),
        ..row.clone()
    };
    if updated.display_name == row.display_name
        && updated.external_id == row.external_id
        && updated.scim_json.as_deref().unwrap_or("{}") == row.scim_json.as_deref().unwrap_or("{}")
    {
        return Ok(None);
    }
    db::groups::update(conn, &updated, &row.display_name, scope.now).await?;
    let detail = if updated.display_name != row.display_name {
        format!("Renamed from {}.", row.display_name)
    } else {
        "Attributes changed.".into()
    };
    Ok(Some(Saved {
        name: updated.display_name,
        detail,
    }))
}

/// `PUT /Groups/{id}`: `members` replaced when present (even `[]`), untouched when absent.
/// Answered under projection `p`.
pub async fn replace(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    p: &Projection,
) -> Result<(Answered, String), ScimError> {
    let rt = registry().group();
    let row = find_managed(conn, scope, id).await?;
    check_if_match(if_match, &version(&row))?;
    let existing = || render(scope, &row);
    let resource = resource::validate_resource(
        rt,
        body,
        Intent::Replace {
            existing: &existing,
        },
    )?;
    let named_members = body
        .as_object()
        .is_some_and(|o| o.keys().any(|k| k.eq_ignore_ascii_case("members")));
    let attributes = save_attributes(conn, scope, &row, &resource).await?;
    let mut members = Membership::default();
    if named_members {
        let ids = member_ids(&resource).unwrap_or_default();
        members = apply_delta(conn, scope, id, &MemberDelta::ReplaceAll(ids)).await?;
        if members.any() {
            db::groups::touch(conn, id, scope.now, &LastWrite::default()).await?;
        }
    }
    note_update(scope, id, &row.display_name, attributes.as_ref(), members);
    get(conn, scope, id, p).await
}

/// `PATCH /Groups/{id}`. Answers the new version; the caller renders the group only when the
/// request asked for attributes.
pub async fn patch(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<String, ScimError> {
    let rt = registry().group();
    let ops = parse_patch_request(body)?;
    let row = find_managed(conn, scope, id).await?;
    check_if_match(if_match, &version(&row))?;
    let (delta, changed) = match plan_member_ops(&ops)? {
        MemberPlan::Delta { delta, rest } => {
            let changed = if rest.is_empty() {
                None
            } else {
                let mut current = render(scope, &row);
                if let Some(o) = current.as_object_mut() {
                    o.remove("meta");
                }
                let outcome = apply_patch(rt, &current, &rest)?;
                save_attributes(conn, scope, &row, &outcome.resource).await?
            };
            (delta, changed)
        }
        MemberPlan::NeedsMembers => {
            let members = db::groups::members(conn, id).await?;
            let mut current = render_with(scope, &row, Some(members_with_display(scope, members)));
            if let Some(o) = current.as_object_mut() {
                o.remove("meta");
            }
            let outcome = apply_patch(rt, &current, &ops)?;
            let changed = save_attributes(conn, scope, &row, &outcome.resource).await?;
            (outcome.members, changed)
        }
    };
    let members = match &delta {
        Some(d) => apply_delta(conn, scope, id, d).await?,
        None => Membership::default(),
    };
    // Noted before the write that ends the transaction, which carries it.
    note_update(scope, id, &row.display_name, changed.as_ref(), members);
    if members.any() && changed.is_none() {
        // The touch answers the new version: no read back, and it ends the transaction.
        let last = &scope.last_write;
        return Ok(version_of(
            db::groups::touch(conn, id, scope.now, last).await?,
        ));
    }
    let row = find(conn, scope, id).await?;
    Ok(version(&row))
}

/// `DELETE /Groups/{id}`.
pub async fn delete(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), ScimError> {
    let row = find_managed(conn, scope, id).await?;
    check_if_match(if_match, &version(&row))?;
    scope
        .audit
        .note(Change::GroupDeleted.on(id, &row.display_name));
    // The request's last write: it ends the transaction too, and writes the event noted.
    db::groups::delete(conn, &scope.tenant_id, id, &scope.last_write).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::differences;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// `(wanted, current, added, removed)`.
    type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [&'a str], &'a [&'a str]);

    #[test]
    fn a_replacement_writes_only_what_differs() {
        let cases: [Case; 6] = [
            (&["a", "b", "c"], &["a", "b", "c"], &[], &[]),
            (&[], &["a", "b"], &[], &["a", "b"]),
            (&["a", "b"], &[], &["a", "b"], &[]),
            (&["a", "c", "e"], &["b", "c", "d"], &["a", "e"], &["b", "d"]),
            (&["x"], &["a", "b", "x", "z"], &[], &["a", "b", "z"]),
            (&["a", "b", "z"], &["m"], &["a", "b", "z"], &["m"]),
        ];
        for (wanted, current, added, removed) in cases {
            assert_eq!(
                differences(&ids(wanted), &ids(current)),
                (ids(added), ids(removed)),
                "{wanted:?} over {current:?}"
            );
        }
    }
}
