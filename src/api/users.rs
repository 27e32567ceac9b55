//! Users of a tenant: list and search, one user's access, groups, bindings and effective permissions.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::TenantScope;

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    crate::clock::rfc3339,
    crate::db,
    crate::iam::directory::{self, Listing, UserEntry, UserFacts},
    crate::iam::{self, permissions::Permissions},
    crate::model::{Action, Resource},
    crate::secret::Secret,
};

/// A user as lists show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserItem {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// Suspended in this tenant or instance-wide.
    pub suspended: bool,
    /// Names of the SCIM integrations that provisioned the user here.
    pub provisioned_by: Vec<String>,
    /// Access granted by hand.
    pub manual: bool,
}

/// One page of a keyset-paged list: the keys to ask for the previous and next pages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    /// What the signed-in user may do here (the page leaves out what they may not).
    pub scope: TenantScope,
    /// False when the user may enter the tenant but not read its users (the Users page is where
    /// everyone lands, so it explains instead of answering 403).
    pub readable: bool,
    pub users: Vec<UserItem>,
    /// Users with access to the tenant (all of them, not only the matches).
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl UserList {
    /// The answer for someone who may enter the tenant but not read its users.
    pub fn unreadable(scope: TenantScope) -> Self {
        UserList {
            scope,
            readable: false,
            users: Vec::new(),
            total: 0,
            prev: None,
            next: None,
        }
    }
}

/// A source of the user's access to the tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSource {
    /// "Granted by hand" or "SCIM · authentik".
    pub label: String,
    pub manual: bool,
    /// The integration's `externalId` for the user.
    pub external_id: Option<String>,
    pub since: String,
}

/// A role bound to a subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoundRole {
    pub binding_id: String,
    pub role_id: String,
    pub role_name: String,
}

/// One resource's row of the effective-permissions table: per action (in `actions` order), the
/// origins of the permission ("Viewer, via group Engineering"); empty when not granted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionRow {
    pub resource: String,
    pub cells: Vec<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDetail {
    pub scope: TenantScope,
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    /// `(address, type)`, the primary address first.
    pub emails: Vec<(String, String)>,
    pub is_superadmin: bool,
    pub suspended_here: bool,
    pub suspended_everywhere: bool,
    pub has_password: bool,
    /// Whether the signed-in user may set this user's password (see `iam::users::set_password`).
    pub password_settable: bool,
    /// The signed-in user is this user (their own password is changed under Your account).
    pub own_account: bool,
    pub created_at: String,
    pub updated_at: String,
    pub access_since: String,
    pub sources: Vec<AccessSource>,
    /// `(group id, name)`.
    pub groups: Vec<(String, String)>,
    pub bindings: Vec<BoundRole>,
    pub actions: Vec<String>,
    pub permissions: Vec<PermissionRow>,
}

/// A user of a list as the list shows it, with the badges of their access sources.
#[cfg(feature = "ssr")]
pub(crate) fn user_item(e: UserEntry) -> UserItem {
    let manual = e.sources.iter().any(|s| s.source == db::access::MANUAL);
    let provisioned_by = e
        .sources
        .into_iter()
        .filter(|s| s.source != db::access::MANUAL)
        .map(|s| s.integration.unwrap_or(s.source))
        .collect();
    let r = e.row;
    UserItem {
        id: r.id,
        username: r.username,
        display_name: r.display_name,
        email: r.email,
        suspended: !r.user_active || !r.access_active,
        provisioned_by,
        manual,
    }
}

#[cfg(feature = "ssr")]
pub(crate) fn bound_role(b: db::iam::BindingRow) -> BoundRole {
    BoundRole {
        binding_id: b.id,
        role_id: b.role_id,
        role_name: b.role_name,
    }
}

#[cfg(feature = "ssr")]
fn source_view(s: db::directory::SourceRow) -> AccessSource {
    let manual = s.source == db::access::MANUAL;
    AccessSource {
        label: if manual {
            "Granted by hand".into()
        } else {
            format!("SCIM · {}", s.integration.unwrap_or(s.source))
        },
        manual,
        external_id: s.external_id,
        since: rfc3339(s.created_at),
    }
}

/// The effective-permissions table: a row per resource, a cell per action with its origins.
#[cfg(feature = "ssr")]
fn permission_rows(effective: &Permissions) -> Vec<PermissionRow> {
    Resource::ALL
        .iter()
        .map(|&r| PermissionRow {
            resource: r.to_string(),
            cells: Action::ALL
                .iter()
                .map(|&a| {
                    let mut origins: Vec<String> = effective
                        .origins(r, a)
                        .into_iter()
                        .map(|o| o.to_string())
                        .collect();
                    origins.sort();
                    origins.dedup();
                    origins
                })
                .collect(),
        })
        .collect()
}

#[cfg(feature = "ssr")]
fn user_detail(scope: TenantScope, d: UserFacts) -> UserDetail {
    let row = d.row;
    UserDetail {
        scope,
        password_settable: d.password_settable,
        own_account: d.own_account,
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        emails: d.emails,
        is_superadmin: row.is_superadmin,
        suspended_here: !row.access_active,
        suspended_everywhere: !row.user_active,
        has_password: row.has_password,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        access_since: rfc3339(row.access_since),
        sources: d.sources.into_iter().map(source_view).collect(),
        groups: d.groups,
        bindings: d.bindings.into_iter().map(bound_role).collect(),
        actions: Action::ALL.iter().map(|a| a.to_string()).collect(),
        permissions: permission_rows(&d.effective),
    }
}

#[cfg(feature = "ssr")]
fn user_list(scope: TenantScope, l: Listing<UserEntry>) -> UserList {
    UserList {
        scope,
        readable: true,
        users: l.rows.into_iter().map(user_item).collect(),
        total: l.total,
        prev: l.prev,
        next: l.next,
    }
}

/// One page of the tenant's users, by username; `q` searches username, name and email. Without
/// USERS:READ the page says so (`readable: false`) instead of answering 403.
#[server(endpoint = "users/list")]
pub async fn list_users(
    tenant: String,
    q: Option<String>,
    after: Option<String>,
    before: Option<String>,
) -> Result<UserList, ServerFnError> {
    let ctx = ctx();
    let gate = ctx.enter_tenant(&tenant).await?;
    if !gate.permissions.allows(Resource::Users, Action::Read) {
        return Ok(UserList::unreadable(gate.scope()));
    }
    let search = directory::Search::new(q, after, before);
    let listing = directory::users(&ctx.state.db, &gate.tenant.id, &search).await;
    Ok(user_list(gate.scope(), listing.map_err(|e| ctx.fail(e))?))
}

/// One user of the tenant with everything the user page shows.
#[server(endpoint = "users/get")]
pub async fn get_user(tenant: String, user: String) -> Result<UserDetail, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Users, Action::Read)
        .await?;
    let facts = directory::user(&ctx.state.db, &gate.user, &gate.tenant.id, &user)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(user_detail(gate.scope(), facts))
}

/// Grants access to an existing user, named by username or email (Users list form).
#[server(endpoint = "users/grant")]
pub async fn grant_access(tenant: String, login: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Users, Action::Update)
        .await?;
    let state = &ctx.state;
    let outcome = iam::users::grant_access(
        &state.db,
        state.clock.as_ref(),
        &gate.user,
        &gate.tenant.id,
        &login,
    )
    .await;
    ctx.answer_form(
        &format!("/t/{}/iam/users", gate.tenant.id),
        outcome,
        &[("login", &login)],
    )
}

/// Where the user page goes after the access granted by hand was removed, and what it says.
#[cfg(feature = "ssr")]
fn after_removal(tenant: &str, user: &str, removed: iam::users::Removed) -> (String, String) {
    match removed {
        iam::users::Removed::AccessEnded => (
            format!("/t/{tenant}/iam/users"),
            "Access removed: the user can no longer enter this tenant.".into(),
        ),
        iam::users::Removed::StillProvisioned(by) => (
            format!("/t/{tenant}/iam/users/{user}"),
            format!(
                "Access granted by hand removed. The user keeps access through SCIM ({}); \
                 unassign them in the identity provider to end it.",
                by.join(", ")
            ),
        ),
    }
}

/// Removes the access granted by hand (user page, behind a confirmation).
#[server(endpoint = "users/remove")]
pub async fn remove_access(tenant: String, user: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Users, Action::Update)
        .await?;
    let (state, t) = (&ctx.state, &gate.tenant.id);
    let (clock, actor) = (state.clock.as_ref(), &gate.user);
    match iam::users::remove_access(&state.db, clock, actor, t, &user).await {
        Ok(removed) => {
            let (path, notice) = after_removal(t, &user, removed);
            ctx.answer_form(&path, Ok(notice), &[])
        }
        Err(e) => ctx.answer_form(&format!("/t/{t}/iam/users/{user}"), Err(e), &[]),
    }
}

/// Sets or resets a user's local password.
#[server(endpoint = "users/password")]
pub async fn set_password(
    tenant: String,
    user: String,
    password: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Users, Action::Update)
        .await?;
    let (state, t) = (&ctx.state, &gate.tenant.id);
    let (clock, password) = (state.clock.as_ref(), Secret::new(password));
    let outcome = iam::users::set_password(&state.db, clock, &gate.user, t, &user, password).await;
    ctx.answer_form(&format!("/t/{t}/iam/users/{user}"), outcome, &[])
}
