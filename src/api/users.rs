//! Users of a tenant: list and search, one user's access, groups, bindings and effective permissions.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::TenantScope;

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    crate::clock::rfc3339,
    crate::db::{self, directory::Cursor},
    crate::error::AppError,
    crate::iam::{self, bindings::SubjectKind, permissions},
    crate::model::{Action, Resource},
    crate::secret::Secret,
};

/// Rows per page of the Users list and a group's members.
pub const PAGE_SIZE: i64 = 50;

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

#[cfg(feature = "ssr")]
pub(crate) fn cursor(after: Option<String>, before: Option<String>) -> Cursor {
    match (
        after.filter(|s| !s.is_empty()),
        before.filter(|s| !s.is_empty()),
    ) {
        (Some(a), _) => Cursor::After(a),
        (None, Some(b)) => Cursor::Before(b),
        _ => Cursor::First,
    }
}

/// Turns a page of user rows into list items with their badges (one query for the sources).
#[cfg(feature = "ssr")]
pub(crate) async fn user_items(
    conn: &mut db::Conn,
    tenant: &str,
    rows: Vec<db::directory::UserListRow>,
) -> Result<Vec<UserItem>, AppError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let sources = db::directory::access_sources(conn, tenant, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = sources.iter().filter(|s| s.user_id == r.id);
            let manual = mine.clone().any(|s| s.source == db::access::MANUAL);
            let provisioned_by = mine
                .filter(|s| s.source != db::access::MANUAL)
                .map(|s| s.integration.clone().unwrap_or_else(|| s.source.clone()))
                .collect();
            UserItem {
                id: r.id,
                username: r.username,
                display_name: r.display_name,
                email: r.email,
                suspended: !r.user_active || !r.access_active,
                provisioned_by,
                manual,
            }
        })
        .collect())
}

/// One page of the tenant's users, by username; `q` searches username, name and email.
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
        return Ok(UserList {
            scope: gate.scope(),
            readable: false,
            users: Vec::new(),
            total: 0,
            prev: None,
            next: None,
        });
    }
    let fail = |e| ctx.fail(e);
    let tenant = gate.tenant.id.clone();
    let mut conn = ctx.state.db.acquire().await.map_err(fail)?;
    let page = db::directory::users_page(
        &mut conn,
        &tenant,
        q.as_deref(),
        &cursor(after, before),
        PAGE_SIZE,
    )
    .await
    .map_err(fail)?;
    let (prev, next) = page.cursors(|r| &r.username_lower);
    let total = db::directory::count_users(&mut conn, &tenant)
        .await
        .map_err(fail)?;
    let users = user_items(&mut conn, &tenant, page.rows)
        .await
        .map_err(fail)?;
    Ok(UserList {
        scope: gate.scope(),
        readable: true,
        users,
        total,
        prev,
        next,
    })
}

/// One user of the tenant with everything the user page shows.
#[server(endpoint = "users/get")]
pub async fn get_user(tenant: String, user: String) -> Result<UserDetail, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Users, Action::Read)
        .await?;
    let fail = |e| ctx.fail(e);
    let tenant = gate.tenant.id.clone();
    let mut conn = ctx.state.db.acquire().await.map_err(fail)?;
    let row = db::directory::user_in_tenant(&mut conn, &tenant, &user)
        .await
        .map_err(fail)?
        .ok_or_else(|| {
            fail(AppError::NotFound(
                "There is no such user with access to this tenant.".into(),
            ))
        })?;
    let mut emails: Vec<(String, String)> = Vec::new();
    if let Some(primary) = &row.email {
        emails.push((primary.clone(), "primary".into()));
    }
    for (value, kind) in db::directory::emails_of(&mut conn, &row.id)
        .await
        .map_err(fail)?
    {
        if !emails.iter().any(|(v, _)| v.eq_ignore_ascii_case(&value)) {
            emails.push((value, kind));
        }
    }
    let sources = db::directory::access_sources(&mut conn, &tenant, std::slice::from_ref(&row.id))
        .await
        .map_err(fail)?
        .into_iter()
        .map(|s| {
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
        })
        .collect();
    let groups = db::scim_users::groups_of(&mut conn, &tenant, &row.id)
        .await
        .map_err(fail)?;
    let bindings = iam::bindings::of_subject(&mut conn, &tenant, SubjectKind::User, &row.id)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|b| BoundRole {
            binding_id: b.id,
            role_id: b.role_id,
            role_name: b.role_name,
        })
        .collect();
    let effective = permissions::effective(
        &mut conn,
        &tenant,
        permissions::Subject::User {
            id: &row.id,
            superadmin: row.is_superadmin,
        },
    )
    .await
    .map_err(fail)?;
    let permissions = Resource::ALL
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
        .collect();
    let target = iam::reach::facts(&mut conn, &tenant, &row.id)
        .await
        .map_err(fail)?;
    let password_settable = iam::reach::may_change_credentials(
        iam::reach::Actor::User {
            id: &gate.user.id,
            superadmin: gate.user.is_superadmin,
        },
        &target,
    )
    .is_ok();
    Ok(UserDetail {
        scope: gate.scope(),
        password_settable,
        id: row.id,
        username: row.username,
        display_name: row.display_name,
        emails,
        is_superadmin: row.is_superadmin,
        suspended_here: !row.access_active,
        suspended_everywhere: !row.user_active,
        has_password: row.has_password,
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        access_since: rfc3339(row.access_since),
        sources,
        groups,
        bindings,
        actions: Action::ALL.iter().map(|a| a.to_string()).collect(),
        permissions,
    })
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

/// Removes the access granted by hand (user page, behind a confirmation).
#[server(endpoint = "users/remove")]
pub async fn remove_access(tenant: String, user: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Users, Action::Update)
        .await?;
    let state = &ctx.state;
    let t = gate.tenant.id.clone();
    let outcome =
        iam::users::remove_access(&state.db, state.clock.as_ref(), &gate.user, &t, &user).await;
    match outcome {
        Ok(iam::users::Removed::AccessEnded) => ctx.answer_form(
            &format!("/t/{t}/iam/users"),
            Ok("Access removed: the user can no longer enter this tenant.".into()),
            &[],
        ),
        Ok(iam::users::Removed::StillProvisioned(by)) => ctx.answer_form(
            &format!("/t/{t}/iam/users/{user}"),
            Ok(format!(
                "Access granted by hand removed. The user keeps access through SCIM ({}); \
                 unassign them in the identity provider to end it.",
                by.join(", ")
            )),
            &[],
        ),
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
    let state = &ctx.state;
    let t = gate.tenant.id.clone();
    let outcome = iam::users::set_password(
        &state.db,
        state.clock.as_ref(),
        &gate.user,
        &t,
        &user,
        Secret::new(password),
    )
    .await;
    ctx.answer_form(&format!("/t/{t}/iam/users/{user}"), outcome, &[])
}
