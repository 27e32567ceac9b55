//! Groups of a tenant: list, members, and the roles bound to them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::users::{BoundRole, UserItem};
use crate::model::TenantScope;

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    super::users::{bound_role, user_item},
    crate::db,
    crate::iam::directory::{self, GroupFacts, Listing},
    crate::iam::{self, bindings::SubjectKind},
    crate::model::{Action, Resource},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupItem {
    pub id: String,
    pub name: String,
    /// The SCIM integration that manages the group (its name), if any.
    pub managed_by: Option<String>,
    pub members: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupList {
    pub scope: TenantScope,
    pub groups: Vec<GroupItem>,
    /// All groups of the tenant (not only the matches).
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// A role the group could be given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleOption {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub scope: TenantScope,
    pub group: GroupItem,
    /// One page of members (searched with `q`).
    pub members: Vec<UserItem>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub bindings: Vec<BoundRole>,
    /// The tenant's roles not yet bound to the group (empty unless the user may create bindings).
    pub attachable: Vec<RoleOption>,
}

#[cfg(feature = "ssr")]
fn item(g: db::directory::GroupListRow) -> GroupItem {
    GroupItem {
        managed_by: g.managed_by.map(|id| g.integration.unwrap_or(id)),
        id: g.id,
        name: g.display_name,
        members: g.members,
    }
}

#[cfg(feature = "ssr")]
fn group_list(scope: TenantScope, l: Listing<db::directory::GroupListRow>) -> GroupList {
    GroupList {
        scope,
        groups: l.rows.into_iter().map(item).collect(),
        total: l.total,
        prev: l.prev,
        next: l.next,
    }
}

#[cfg(feature = "ssr")]
fn group_detail(scope: TenantScope, d: GroupFacts) -> GroupDetail {
    GroupDetail {
        scope,
        group: item(d.group),
        members: d.members.rows.into_iter().map(user_item).collect(),
        prev: d.members.prev,
        next: d.members.next,
        bindings: d.bindings.into_iter().map(bound_role).collect(),
        attachable: d
            .attachable
            .into_iter()
            .map(|r| RoleOption {
                id: r.id,
                name: r.name,
            })
            .collect(),
    }
}

/// One page of the tenant's groups by name; `q` searches names.
#[server(endpoint = "groups/list")]
pub async fn list_groups(
    tenant: String,
    q: Option<String>,
    after: Option<String>,
    before: Option<String>,
) -> Result<GroupList, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Groups, Action::Read)
        .await?;
    let search = directory::Search::new(q, after, before);
    let listing = directory::groups(&ctx.state.db, &gate.tenant.id, &search).await;
    Ok(group_list(gate.scope(), listing.map_err(|e| ctx.fail(e))?))
}

/// One group with a page of its members (`q` searches them) and its roles.
#[server(endpoint = "groups/get")]
pub async fn get_group(
    tenant: String,
    group: String,
    q: Option<String>,
    after: Option<String>,
    before: Option<String>,
) -> Result<GroupDetail, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Groups, Action::Read)
        .await?;
    let (db, held, t) = (&ctx.state.db, &gate.permissions, &gate.tenant.id);
    let search = directory::Search::new(q, after, before);
    let facts = directory::group(db, held, t, &group, &search).await;
    Ok(group_detail(gate.scope(), facts.map_err(|e| ctx.fail(e))?))
}

#[server(endpoint = "groups/create")]
pub async fn create_group(tenant: String, name: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Groups, Action::Create)
        .await?;
    let state = &ctx.state;
    let t = gate.tenant.id.clone();
    match iam::groups::create(&state.db, &gate.author(&ctx), &t, &name).await {
        Ok(g) => ctx.answer_form(
            &format!("/t/{t}/iam/groups/{}", g.id),
            Ok(format!(
                "Group {} created. Add members below, and attach a role to give them permissions.",
                g.display_name
            )),
            &[],
        ),
        Err(e) => ctx.answer_form(&format!("/t/{t}/iam/groups"), Err(e), &[("name", &name)]),
    }
}

#[server(endpoint = "groups/delete")]
pub async fn delete_group(tenant: String, group: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Groups, Action::Delete)
        .await?;
    let t = gate.tenant.id.clone();
    let outcome = iam::groups::delete(&ctx.state.db, &gate.author(&ctx), &t, &group)
        .await
        .map(|name| {
            format!("Group {name} deleted, with its members' memberships and role bindings.")
        });
    ctx.answer_form(&format!("/t/{t}/iam/groups"), outcome, &[])
}

#[server(endpoint = "groups/add-member")]
pub async fn add_member(tenant: String, group: String, login: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Groups, Action::Update)
        .await?;
    let (state, t) = (&ctx.state, &gate.tenant.id);
    let (by, held) = (gate.author(&ctx), &gate.permissions);
    let outcome = iam::groups::add_member(&state.db, &by, held, t, &group, &login).await;
    let path = format!("/t/{t}/iam/groups/{group}");
    ctx.answer_form(&path, outcome, &[("login", &login)])
}

#[server(endpoint = "groups/remove-member")]
pub async fn remove_member(
    tenant: String,
    group: String,
    user: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Groups, Action::Update)
        .await?;
    let state = &ctx.state;
    let t = gate.tenant.id.clone();
    let by = gate.author(&ctx);
    let outcome = iam::groups::remove_member(&state.db, &by, &t, &group, &user).await;
    ctx.answer_form(&format!("/t/{t}/iam/groups/{group}"), outcome, &[])
}

/// Binds a role to the group: how an admin gives a synced group permissions.
#[server(endpoint = "groups/attach-role")]
pub async fn attach_role(
    tenant: String,
    group: String,
    role_id: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Bindings, Action::Create)
        .await?;
    let (state, t) = (&ctx.state, &gate.tenant.id);
    let (by, held, kind) = (gate.author(&ctx), &gate.permissions, SubjectKind::Group);
    let bound = iam::bindings::bind(&state.db, &by, held, t, &role_id, kind, &group).await;
    let outcome = bound.map(|role| {
        format!("Role {role} attached: every member of this group now has its permissions here.")
    });
    ctx.answer_form(&format!("/t/{t}/iam/groups/{group}"), outcome, &[])
}

/// Deletes one of the group's bindings.
#[server(endpoint = "groups/detach-role")]
pub async fn detach_role(
    tenant: String,
    group: String,
    binding: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Bindings, Action::Delete)
        .await?;
    let state = &ctx.state;
    let t = gate.tenant.id.clone();
    let by = gate.author(&ctx);
    let outcome = iam::bindings::detach(&state.db, &by, &t, SubjectKind::Group, &group, &binding)
        .await
        .map(|role| format!("Role {role} detached from this group."));
    ctx.answer_form(&format!("/t/{t}/iam/groups/{group}"), outcome, &[])
}
