//! Admin-side rules for a tenant's users (the SCIM side is `scim_users`): granting tenant access
//! by hand, taking the hand-granted access back, and setting a local password. Who may take in
//! whom and change whose credentials is decided in `iam::reach`.

use crate::auth::password;
use crate::clock::Clock;
use crate::db::{self, access::MANUAL, users::UserRow, Db};
use crate::error::{AppError, AppResult};
use crate::iam::audit::{self, Author, Change};
use crate::iam::reach::{self, Actor};
use crate::model::validate_new_password;
use crate::secret::Secret;

/// Grants access to `tenant_id` by hand (source `manual`) to the existing user whose username or
/// email is `login`, where `reach::may_take_in` lets `actor` take them in (never a superadmin
/// unless the actor is one; a user of another tenant only where the tenant allows it). A user the
/// actor may not take in gets the same answer as a name nobody has. Answers the success notice.
pub async fn grant_access(
    db: &Db,
    clock: &dyn Clock,
    actor: &UserRow,
    tenant_id: &str,
    login: &str,
) -> AppResult<String> {
    if login.trim().is_empty() {
        return Err(AppError::invalid(
            "login",
            "Enter a username or an email address.",
        ));
    }
    let unknown = || {
        AppError::invalid(
            "login",
            format!(
                "No user has the username or email `{}` that you may grant access to. Users \
                 arrive through SCIM provisioning or `roster admin create`; a user who can already \
                 enter another tenant is taken in only by a superadmin, or where this tenant may \
                 link users of other tenants.",
                login.trim()
            ),
        )
    };
    let mut tx = db.begin_write().await?;
    let user = db::users::find_by_login(&mut tx, login)
        .await?
        .ok_or_else(unknown)?;
    let target = reach::facts(&mut tx, tenant_id, &user.id).await?;
    let by = Actor::of(actor);
    reach::may_take_in(&mut tx, tenant_id, by, &user.username, &target)
        .await
        .map_err(|_| unknown())?;
    let sources =
        db::directory::access_sources(&mut tx, tenant_id, std::slice::from_ref(&user.id)).await?;
    if sources.iter().any(|s| s.source == MANUAL) {
        return Err(AppError::Conflict(format!(
            "{} already has access granted by hand.",
            user.username
        )));
    }
    let by = Author::user(actor, clock);
    db::access::grant(&mut tx, tenant_id, &user.id, MANUAL, None, by.at()).await?;
    db::access::touch(&mut tx, tenant_id, &user.id).await?;
    let event = Change::AccessGranted.on(&user.id, &user.username);
    audit::record(&mut tx, tenant_id, &by, event.detail("Granted by hand.")).await?;
    tx.commit().await?;
    Ok(format!("{} now has access to this tenant.", user.username))
}

/// What removing the hand-granted access did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// No source is left: the access, its group memberships and bindings are gone.
    AccessEnded,
    /// SCIM integrations (named) still grant access.
    StillProvisioned(Vec<String>),
}

/// Removes the `manual` source of a user's access. When no other source remains, the access ends
/// with the user's memberships in the tenant's groups and the roles bound to them here.
pub async fn remove_access(
    db: &Db,
    clock: &dyn Clock,
    actor: &UserRow,
    tenant_id: &str,
    user_id: &str,
) -> AppResult<Removed> {
    let mut tx = db.begin_write().await?;
    let sources = db::directory::access_sources(&mut tx, tenant_id, &[user_id.to_string()]).await?;
    if sources.is_empty() {
        return Err(AppError::NotFound(
            "That user has no access to this tenant (any more).".into(),
        ));
    }
    if !sources.iter().any(|s| s.source == MANUAL) {
        return Err(AppError::Conflict(
            "This user's access was not granted by hand: it comes from SCIM provisioning. \
             Unassign the user in the identity provider to end it."
                .into(),
        ));
    }
    if actor.id == user_id && !actor.is_superadmin {
        return Err(AppError::Conflict(
            "You cannot remove your own access. Ask another administrator.".into(),
        ));
    }
    let by = Author::user(actor, clock);
    let username = db::users::find_by_id(&mut tx, user_id)
        .await?
        .map_or_else(|| user_id.to_string(), |u| u.username);
    let ended = db::access::revoke(
        &mut tx,
        tenant_id,
        user_id,
        MANUAL,
        by.at(),
        &Default::default(),
    )
    .await?;
    let outcome = if ended {
        Removed::AccessEnded
    } else {
        db::access::touch(&mut tx, tenant_id, user_id).await?;
        Removed::StillProvisioned(
            sources
                .into_iter()
                .filter(|s| s.source != MANUAL)
                .map(|s| s.integration.unwrap_or(s.source))
                .collect(),
        )
    };
    let detail = match &outcome {
        Removed::AccessEnded => {
            "The access ended, with their memberships and bindings here.".into()
        }
        Removed::StillProvisioned(by) => format!(
            "The hand-granted access went; SCIM ({}) still grants access.",
            by.join(", ")
        ),
    };
    let event = Change::AccessRemoved.on(user_id, &username);
    audit::record(&mut tx, tenant_id, &by, event.detail(detail)).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Sets (or resets) the local password of another user with access to the tenant, where
/// `reach::may_change_credentials` allows it (a password opens every tenant the user can
/// enter). All the user's sessions end. One's own password is changed under Your account
/// (`iam::account`), which checks the current one.
pub async fn set_password(
    db: &Db,
    clock: &dyn Clock,
    actor: &UserRow,
    tenant_id: &str,
    user_id: &str,
    new_password: Secret,
) -> AppResult<String> {
    if actor.id == user_id {
        // Not without the current password: a session left open must not be enough.
        return Err(AppError::invalid("password", OWN_PASSWORD));
    }
    validate_new_password(new_password.expose()).map_err(|m| AppError::invalid("password", m))?;
    // argon2 runs before the transaction, so the writer's turn is never held while hashing; the
    // rule is checked inside it, against the state the write commits on.
    let hash = password::hash(new_password).await?;
    let mut tx = db.begin_write().await?;
    let user = db::directory::user_in_tenant(&mut tx, tenant_id, user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("That user has no access to this tenant.".into()))?;
    let target = reach::facts(&mut tx, tenant_id, user_id).await?;
    reach::may_change_credentials(Actor::of(actor), &target)?;
    let by = Author::user(actor, clock);
    db::scim_users::set_password(&mut tx, user_id, &hash, by.at()).await?;
    db::scim_users::end_sessions(&mut tx, user_id).await?;
    let detail = if user.has_password {
        "Reset; their sessions ended."
    } else {
        "First password set; they can now sign in with it."
    };
    let event = Change::PasswordSet.on(user_id, &user.username);
    audit::record(&mut tx, tenant_id, &by, event.detail(detail)).await?;
    tx.commit().await?;
    Ok(format!(
        "Password {} for {}. They can sign in with their username or email.",
        if user.has_password { "reset" } else { "set" },
        user.username
    ))
}

/// Why an administrator's own password is not set from the Users page.
pub const OWN_PASSWORD: &str =
    "To change your own password, use Your account: it asks for your current one first.";

/// Sets the local password of the user whose username or email is `login`, as the machine's
/// operator (the CLI: a superadmin's authority under `reach::may_change_credentials`). All the
/// user's sessions end. Answers the user's username.
pub async fn operator_set_password(
    db: &Db,
    clock: &dyn Clock,
    login: &str,
    new_password: Secret,
) -> AppResult<String> {
    validate_new_password(new_password.expose()).map_err(|m| AppError::invalid("password", m))?;
    let hash = password::hash(new_password).await?;
    let mut tx = db.begin_write().await?;
    let user = db::users::find_by_login(&mut tx, login)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!("No user has the username or email `{login}`."))
        })?;
    let target = reach::facts(&mut tx, "", &user.id).await?;
    reach::may_change_credentials(Actor::Operator, &target)?;
    let by = Author::operator(clock);
    db::scim_users::set_password(&mut tx, &user.id, &hash, by.at()).await?;
    db::scim_users::end_sessions(&mut tx, &user.id).await?;
    // A password opens every tenant the user can enter: each of their logs says so.
    for tenant in db::tenants::list_for_user(&mut tx, &user.id).await? {
        let event = Change::PasswordSet.on(&user.id, &user.username);
        let detail = "Set with roster user password; all their sessions ended.";
        audit::record(&mut tx, &tenant.id, &by, event.detail(detail)).await?;
    }
    tx.commit().await?;
    Ok(user.username)
}
