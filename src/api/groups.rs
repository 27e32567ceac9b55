//! Groups of a tenant: list, members, and the roles bound to them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::users::{BoundRole, UserItem};
use crate::model::TenantScope;

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    super::users::{cursor, user_items, PAGE_SIZE},
    crate::db,
    crate::error::AppError,
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
    let fail = |e| ctx.fail(e);
    let tenant = gate.tenant.id.clone();
    let mut conn = ctx.state.db.acquire().await.map_err(fail)?;
    let page = db::directory::groups_page(
        &mut conn,
        &tenant,
        q.as_deref(),
        &cursor(after, before),
        PAGE_SIZE,
    )
    .await
    .map_err(fail)?;
    let (prev, next) = page.cursors(|r| &r.display_name_lower);
    let total = db::directory::count_groups(&mut conn, &tenant)
        .await
        .map_err(fail)?;
    Ok(GroupList {
        scope: gate.scope(),
        groups: page.rows.into_iter().map(item).collect(),
        total,
        prev,
        next,
    })
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
    let fail = |e| ctx.fail(e);
    let tenant = gate.tenant.id.clone();
    let mut conn = ctx.state.db.acquire().await.map_err(fail)?;
    let row = db::directory::group(&mut conn, &tenant, &group)
        .await
        .map_err(fail)?
        .ok_or_else(|| {
            fail(AppError::NotFound(
                "There is no such group in this tenant.".into(),
            ))
        })?;
    let page = db::directory::members_page(
        &mut conn,
        &tenant,
        &row.id,
        q.as_deref(),
        &cursor(after, before),
        PAGE_SIZE,
    )
    .await
    .map_err(fail)?;
    let (prev, next) = page.cursors(|r| &r.username_lower);
    let members = user_items(&mut conn, &tenant, page.rows)
        .await
        .map_err(fail)?;
    let bindings: Vec<BoundRole> =
        iam::bindings::of_subject(&mut conn, &tenant, SubjectKind::Group, &row.id)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|b| BoundRole {
                binding_id: b.id,
                role_id: b.role_id,
                role_name: b.role_name,
            })
            .collect();
    let attachable = if gate.permissions.allows(Resource::Bindings, Action::Create) {
        let roles = db::iam::list_roles(&mut conn, &tenant)
            .await
            .map_err(fail)?;
        roles
            .into_iter()
            .filter(|r| !bindings.iter().any(|b| b.role_id == r.id))
            .map(|r| RoleOption {
                id: r.id,
                name: r.name,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(GroupDetail {
        scope: gate.scope(),
        group: item(row),
        members,
        prev,
        next,
        bindings,
        attachable,
    })
}

#[server(endpoint = "groups/create")]
pub async fn create_group(tenant: String, name: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Groups, Action::Create)
        .await?;
    let state = &ctx.state;
    let t = gate.tenant.id.clone();
    match iam::groups::create(&state.db, state.clock.as_ref(), &t, &name).await {
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
    let outcome = iam::groups::delete(&ctx.state.db, &t, &group)
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
    let state = &ctx.state;
    let t = gate.tenant.id.clone();
    let outcome = iam::groups::add_member(
        &state.db,
        state.clock.as_ref(),
        &gate.permissions,
        &t,
        &group,
        &login,
    )
    .await;
    ctx.answer_form(
        &format!("/t/{t}/iam/groups/{group}"),
        outcome,
        &[("login", &login)],
    )
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
    let outcome =
        iam::groups::remove_member(&state.db, state.clock.as_ref(), &t, &group, &user).await;
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
    let state = &ctx.state;
    let t = gate.tenant.id.clone();
    let outcome = iam::bindings::bind(
        &state.db,
        state.clock.now_millis(),
        &gate.permissions,
        &t,
        &role_id,
        SubjectKind::Group,
        &group,
    )
    .await
    .map(|role| {
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
    let outcome = iam::bindings::detach(&state.db, &t, SubjectKind::Group, &group, &binding)
        .await
        .map(|role| format!("Role {role} detached from this group."));
    ctx.answer_form(&format!("/t/{t}/iam/groups/{group}"), outcome, &[])
}
