//! What a signed-in person may do to their own account, whoever they are: see what they can
//! enter and through which roles, change their password, and see and end their sessions. Each
//! acts on the caller alone (the user of the session that asks), so no permission is needed and
//! none can reach anyone else's account.

use crate::auth::session::{self, Browser};
use crate::auth::{login, password, throttle};
use crate::clock::{Clock, Millis};
use crate::db::{
    self, sessions::SessionRow, sign_ins::SignIn, tenants::TenantRow, users::UserRow, Db,
};
use crate::error::{AppError, AppResult};
use crate::iam::audit::{self, Author, Change};
use crate::iam::directory;
use crate::iam::permissions::Permissions;
use crate::model::validate_new_password;
use crate::secret::Secret;

/// A person's own account as their page shows it.
pub struct Account {
    pub emails: Vec<(String, String)>,
    /// The OpenID providers this user has signed in through (their linked identities).
    pub providers: Vec<String>,
    /// The tenants they can enter and, in each, the roles that give them permissions there
    /// ("Admin", "Viewer, via group Engineering"; `permissions::Origin`), in name order.
    pub tenants: Vec<(TenantRow, Vec<String>)>,
    pub sessions: Vec<Session>,
    /// Their latest sign-ins and failed password checks, newest first (`db::sign_ins`).
    pub sign_ins: Vec<SignIn>,
}

/// One of the person's live sessions.
pub struct Session {
    pub row: SessionRow,
    /// What the page and the form that ends it call it (`auth::session::handle`).
    pub handle: String,
    /// The session this request came with.
    pub current: bool,
}

/// `user`'s account, seen from the session `token`.
pub async fn view(db: &Db, clock: &dyn Clock, user: &UserRow, token: &str) -> AppResult<Account> {
    let mut conn = db.acquire().await?;
    let emails = directory::emails_of(&mut conn, &user.id, user.email.as_deref()).await?;
    let providers = db::oidc::providers_linked_to(&mut conn, &user.id).await?;
    let mut tenants = Vec::new();
    for tenant in db::tenants::list_for_user(&mut conn, &user.id).await? {
        let grants = db::iam::user_grants(&mut conn, &tenant.id, &user.id).await?;
        let mut roles: Vec<String> = Permissions::from_rows(grants)
            .grants
            .into_iter()
            .map(|g| g.origin.to_string())
            .collect();
        roles.sort();
        roles.dedup();
        tenants.push((tenant, roles));
    }
    let sessions = sessions_of(&mut conn, user, clock.now_millis(), token).await?;
    let sign_ins = db::sign_ins::of_user(&mut conn, &user.id).await?;
    Ok(Account {
        emails,
        providers,
        tenants,
        sessions,
        sign_ins,
    })
}

async fn sessions_of(
    conn: &mut db::Conn,
    user: &UserRow,
    now: Millis,
    token: &str,
) -> AppResult<Vec<Session>> {
    let current = session::hash_token(token);
    let rows = db::sessions::of_user(conn, &user.id, now).await?;
    Ok(rows
        .into_iter()
        .map(|row| Session {
            handle: session::handle(&row.id_hash),
            current: row.id_hash == current,
            row,
        })
        .collect())
}

/// Ends `user`'s session named `handle`, one that is not the session `token` (that one ends
/// with Sign out). Answers the notice.
pub async fn end_session(
    db: &Db,
    clock: &dyn Clock,
    user: &UserRow,
    token: &str,
    handle: &str,
) -> AppResult<String> {
    let mut tx = db.begin_write().await?;
    let sessions = sessions_of(&mut tx, user, clock.now_millis(), token).await?;
    let Some(found) = sessions.iter().find(|s| s.handle == handle) else {
        return Err(AppError::invalid(
            "handle",
            "That session has already ended.",
        ));
    };
    if found.current {
        return Err(AppError::invalid(
            "handle",
            "That is this session: use Sign out in the menu to end it.",
        ));
    }
    db::sessions::delete_of_user(&mut tx, &user.id, &found.row.id_hash).await?;
    tx.commit().await?;
    Ok("Session signed out. That browser has to sign in again.".into())
}

/// Ends every session of `user` but the session `token`. Answers the notice.
pub async fn end_other_sessions(db: &Db, user: &UserRow, token: &str) -> AppResult<String> {
    let mut tx = db.begin_write().await?;
    let keep = session::hash_token(token);
    let ended = db::sessions::delete_others_of_user(&mut tx, &user.id, &keep).await?;
    tx.commit().await?;
    Ok(match ended {
        0 => "You had no other sessions.".into(),
        1 => "Signed out of 1 other session.".into(),
        n => format!("Signed out of {n} other sessions."),
    })
}

/// A password change as the form sends it.
pub struct PasswordChange {
    pub current: Secret,
    pub new: Secret,
    pub confirm: Secret,
}

/// What a password change hands back: the new session's cookie value (the session that asked
/// is replaced, every other one ends) and the notice.
pub struct PasswordChanged {
    pub token: String,
    pub notice: String,
}

/// Changes `user`'s own password, asked from `browser`. The current password is checked as a
/// sign-in checks it, under the same counters (`auth::throttle`): a stolen session cannot be
/// used to guess it. Every session of the user ends; the browser that asked gets a new one.
/// Each tenant they can enter records the change in its audit log.
pub async fn change_password(
    db: &Db,
    clock: &dyn Clock,
    user: &UserRow,
    change: PasswordChange,
    browser: &Browser<'_>,
) -> AppResult<PasswordChanged> {
    if user.password_hash.is_none() {
        return Err(AppError::invalid(
            "current_password",
            "You have no password here: you sign in through single sign-on. An administrator can set one.",
        ));
    }
    validate_new_password(change.new.expose()).map_err(|m| AppError::invalid("password", m))?;
    if change.new.expose() != change.confirm.expose() {
        return Err(AppError::invalid(
            "password_confirm",
            "The two new passwords differ.",
        ));
    }
    if change.new.expose() == change.current.expose() {
        return Err(AppError::invalid(
            "password",
            "The new password must differ from the current one.",
        ));
    }
    let now = clock.now_millis();
    let login_lower = user.username.to_lowercase();
    let checked = login::Checked {
        user_id: Some(&user.id),
        login_lower: &login_lower,
        browser,
        method: login::method::PASSWORD_CHANGE,
    };
    let stored = user.password_hash.clone();
    let Some(attempt) = login::verify_counted(db, &checked, change.current, stored, now).await?
    else {
        return Err(AppError::invalid(
            "current_password",
            "That is not your current password.",
        ));
    };
    // argon2 runs before the transaction, so the writer's turn is never held while hashing.
    let hash = password::hash(change.new).await?;
    let by = Author::user(user, clock);
    let mut tx = db.begin_write().await?;
    throttle::succeeded(&mut tx, &attempt).await?;
    // The hash checked above must still be the stored one: a change made meanwhile (by an
    // administrator, or this person in another tab) wins, and this one is refused.
    let checked = user.password_hash.as_deref().unwrap_or_default();
    if !db::scim_users::replace_password(&mut tx, &user.id, checked, &hash, by.at()).await? {
        return Err(AppError::Conflict(
            "Your password was changed meanwhile. Sign in again with the new one.".into(),
        ));
    }
    db::scim_users::end_sessions(&mut tx, &user.id).await?;
    let fresh = Browser {
        previous_token: None,
        ..*browser
    };
    let (token, _) = login::start_session(&mut tx, &user.id, now, &fresh).await?;
    let changed = login::outcome::PASSWORD_CHANGED;
    let how = login::method::PASSWORD_CHANGE;
    login::record(&mut tx, &user.id, browser, now, changed, how).await?;
    for tenant in db::tenants::list_for_user(&mut tx, &user.id).await? {
        let event = Change::PasswordSet.on(&user.id, &user.username);
        let detail = "Changed their own password; their other sessions ended.";
        audit::record(&mut tx, &tenant.id, &by, event.detail(detail)).await?;
    }
    tx.commit().await?;
    Ok(PasswordChanged {
        token,
        notice: "Password changed. Your other sessions are signed out.".into(),
    })
}
