//! Reach: what someone acting inside one tenant (a tenant admin, a custom role, a SCIM
//! integration) may do to the instance's global users and to the tenant's powers. Users are
//! global, so every such rule crosses tenants; this module is the one place that decides them,
//! and SCIM (`scim_users`, `scim_groups`), the server functions (through `users`, `bindings`,
//! `roles`), the CLI and OpenID sign-in call it:
//!
//! 1. Superadmins are out of reach of tenants: no integration sees, links, changes, suspends or
//!    deletes one, no tenant admin grants one access or sets their credentials, and OpenID
//!    sign-in never links one automatically.
//! 2. Credentials (password, userName, emails) change by a tenant actor only while the user can
//!    enter no other tenant; otherwise only the user themself or a superadmin.
//! 3. Taking in a user who can already enter another tenant is a decision of the instance: the
//!    tenant's "may link users of other tenants" setting (a superadmin sets it).
//! 4. A suspension in one tenant ends no session; sessions end only when the user can enter no
//!    tenant at all any more.
//! 5. No escalation: whoever grants a role (a binding, a role's permissions, a group membership
//!    that carries roles) must hold every permission it grants; an integration changes only the
//!    groups it manages and the users it gave access to.
//! 6. OpenID sign-in links automatically only users without a password and without the
//!    superadmin flag, and `sub` matches only externalIds of the integrations the provider is
//!    tied to. Sign-in sits on a floor below `iam` (README, Layout), so this one rule is decided
//!    where sign-in is: `auth::oidc::flow::may_auto_link` and `db::oidc::users_matching_subject`.

use crate::db::{self, users::ReachFacts, Conn};
use crate::error::{AppError, AppResult};
use crate::iam::permissions::{Permission, Permissions};

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// A signed-in person (the admin UI).
    User { id: &'a str, superadmin: bool },
    /// A SCIM integration of the tenant, by id.
    Integration { id: &'a str },
    /// The machine's operator (the CLI): a superadmin's authority.
    Operator,
}

impl<'a> Actor<'a> {
    /// The signed-in person `user` (the admin UI's actor).
    pub fn of(user: &'a crate::db::users::UserRow) -> Self {
        Actor::User {
            id: &user.id,
            superadmin: user.is_superadmin,
        }
    }
}

impl Actor<'_> {
    /// Superadmins and the operator act above tenants.
    fn above_tenants(self) -> bool {
        matches!(
            self,
            Actor::Operator
                | Actor::User {
                    superadmin: true,
                    ..
                }
        )
    }
}

/// The facts about a user that reach decisions need (see [`db::users::reach_facts`]).
pub async fn facts(conn: &mut Conn, tenant_id: &str, user_id: &str) -> AppResult<ReachFacts> {
    db::users::reach_facts(conn, tenant_id, user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such user (any more).".into()))
}

/// The answer to an attempt to take in a superadmin: their name is reserved. It says no more
/// (that the name belongs to a superadmin is not the tenant's business).
pub fn reserved(username: &str) -> AppError {
    AppError::Conflict(format!(
        "the userName `{username}` is reserved on this Roster instance and cannot be provisioned; \
         give this user another userName"
    ))
}

/// Rules 1 and 3: may `actor` give tenant `tenant_id` access to the existing user `target`
/// (a SCIM POST of an existing userName, or a hand grant)? Superadmins are never taken in by a
/// tenant; a user who can enter another tenant only where the tenant allows it.
pub async fn may_take_in(
    conn: &mut Conn,
    tenant_id: &str,
    actor: Actor<'_>,
    username: &str,
    target: &ReachFacts,
) -> AppResult<()> {
    if actor.above_tenants() {
        return Ok(());
    }
    if target.is_superadmin {
        return Err(reserved(username));
    }
    if target.other_tenants > 0 && !db::tenants::link_foreign_users(conn, tenant_id).await? {
        return Err(AppError::Conflict(format!(
            "the user `{username}` already has access to another tenant, and tenant `{tenant_id}` \
             does not take in users of other tenants. A superadmin can allow it for this tenant \
             (Instance → Tenants: \"may link users of other tenants\", or `roster tenant set \
             {tenant_id} --link-foreign-users on`); otherwise provision this person under another \
             userName"
        )));
    }
    Ok(())
}

/// Rule 2: may `actor`, acting in `tenant_id`, change `target`'s password, userName or emails?
/// Superadmins (and the operator) may for anyone, a user for themself; a tenant actor only while
/// the user is no superadmin and can enter no other tenant, and an integration only for a user
/// it created.
pub fn may_change_credentials(actor: Actor<'_>, target: &ReachFacts) -> AppResult<()> {
    if actor.above_tenants() {
        return Ok(());
    }
    if let Actor::User { id, .. } = actor {
        if id == target.id {
            return Ok(());
        }
    }
    if target.is_superadmin {
        return Err(AppError::Forbidden(
            "Only a superadmin may change a superadmin's password, username or emails.".into(),
        ));
    }
    if target.other_tenants > 0 {
        return Err(AppError::Forbidden(
            "This user can also enter other tenants, so only they or a superadmin may change \
             their password, username or emails."
                .into(),
        ));
    }
    if let Actor::Integration { id } = actor {
        if target.created_by.as_deref() != Some(id) {
            return Err(AppError::Forbidden(
                "this integration did not create the user, so it cannot change their password, \
                 userName or emails"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// Rule 4: after `user_id` was suspended in one tenant, ends their sessions only when no tenant
/// is left that they may enter (a superadmin's are never ended by a tenant). Permissions are
/// computed per request, so the suspension itself is immediate in its tenant.
pub async fn after_suspension(conn: &mut Conn, user_id: &str) -> AppResult<()> {
    let (accesses, active) = db::access::counts(conn, user_id).await?;
    let superadmin = db::users::find_by_id(conn, user_id)
        .await?
        .is_some_and(|u| u.is_superadmin);
    if accesses > 0 && active == 0 && !superadmin {
        db::scim_users::end_sessions(conn, user_id).await?;
    }
    Ok(())
}

/// Rule 5: whoever grants `granted` must hold each of those permissions (a tenant Admin and a
/// superadmin hold all). Kubernetes RBAC calls this escalation prevention.
pub fn may_grant(
    held: &Permissions,
    granted: impl IntoIterator<Item = Permission>,
) -> AppResult<()> {
    let mut missing: Vec<String> = granted
        .into_iter()
        .filter(|(r, a)| !held.allows(*r, *a))
        .map(|(r, a)| format!("{r}:{a}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort();
    missing.dedup();
    Err(AppError::Forbidden(format!(
        "You may grant only permissions you hold yourself; you lack {}. Ask an administrator \
         of this tenant.",
        missing.join(", ")
    )))
}

/// Rule 5 for a binding: the actor holds every permission of the role (of this tenant).
pub async fn may_bind_role(
    conn: &mut Conn,
    tenant_id: &str,
    held: &Permissions,
    role_id: &str,
) -> AppResult<()> {
    if db::iam::find_role(conn, tenant_id, role_id)
        .await?
        .is_none()
    {
        // No such role here: the binding itself answers that.
        return Ok(());
    }
    let perms = db::iam::role_permissions(conn, role_id).await?;
    may_grant(held, perms)
}

/// Rule 5 for a membership: adding someone to a group gives them the roles bound to the group,
/// so the actor must hold all of their permissions.
pub async fn may_add_to_group(
    conn: &mut Conn,
    tenant_id: &str,
    held: &Permissions,
    group_id: &str,
) -> AppResult<()> {
    let perms = db::iam::group_role_permissions(conn, tenant_id, group_id).await?;
    may_grant(held, perms)
}

/// Rule 5 for groups: an integration changes only the groups it manages.
pub fn integration_manages_group(integration_id: &str, managed_by: Option<&str>) -> AppResult<()> {
    if managed_by == Some(integration_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this group is not managed by this integration (it was made by hand or by another \
             integration), so this integration cannot change or delete it"
                .into(),
        ))
    }
}

/// Rule 5 for users: an integration changes only users it gave access to this tenant.
pub fn integration_gave_access(gave_access: bool) -> AppResult<()> {
    if gave_access {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "this integration did not give this user access to the tenant (they were granted \
             access by hand or by another integration), so it cannot change or remove them"
                .into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::permissions::{Action, Grant, Origin, Resource};

    fn facts(superadmin: bool, created_by: Option<&str>, others: i64) -> ReachFacts {
        ReachFacts {
            id: "u".into(),
            is_superadmin: superadmin,
            created_by: created_by.map(str::to_string),
            has_password: true,
            other_tenants: others,
        }
    }

    #[test]
    fn credentials_rule() {
        let int = Actor::Integration { id: "i1" };
        let admin = Actor::User {
            id: "a",
            superadmin: false,
        };
        let root = Actor::User {
            id: "r",
            superadmin: true,
        };
        let me = Actor::User {
            id: "u",
            superadmin: false,
        };
        assert!(may_change_credentials(int, &facts(false, Some("i1"), 0)).is_ok());
        assert!(may_change_credentials(int, &facts(false, Some("i2"), 0)).is_err());
        assert!(may_change_credentials(int, &facts(false, Some("i1"), 1)).is_err());
        assert!(may_change_credentials(int, &facts(true, Some("i1"), 0)).is_err());
        assert!(may_change_credentials(admin, &facts(false, None, 0)).is_ok());
        assert!(may_change_credentials(admin, &facts(false, None, 2)).is_err());
        assert!(may_change_credentials(admin, &facts(true, None, 0)).is_err());
        assert!(may_change_credentials(root, &facts(true, None, 5)).is_ok());
        assert!(may_change_credentials(me, &facts(false, None, 5)).is_ok());
        assert!(may_change_credentials(Actor::Operator, &facts(true, None, 5)).is_ok());
    }

    #[test]
    fn grants_need_held_permissions() {
        let held = Permissions {
            grants: vec![Grant {
                resource: Resource::Bindings,
                action: Action::Create,
                origin: Origin::Role("x".into()),
            }],
        };
        assert!(may_grant(&held, [(Resource::Bindings, Action::Create)]).is_ok());
        let err = may_grant(
            &held,
            [
                (Resource::Users, Action::Delete),
                (Resource::Bindings, Action::Create),
            ],
        )
        .unwrap_err();
        assert!(err.to_string().contains("USERS:DELETE"), "{err}");
    }
}
