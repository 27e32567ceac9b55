//! Signing in with a username (or email) and password, with the throttle: 10 failures within
//! 5 minutes lock that login name for 30 minutes. A successful sign-in always starts a new
//! session (the old one, if any, is ended), so a session id planted before sign-in is useless.

use crate::auth::{password, session};
use crate::clock::Clock;
use crate::db::{self, users::UserRow, Db};
use crate::error::{AppError, AppResult};
use crate::secret::Secret;

pub const MAX_FAILURES: i64 = 10;
pub const FAILURE_WINDOW_MILLIS: i64 = 5 * 60 * 1000;
pub const LOCKOUT_MILLIS: i64 = 30 * 60 * 1000;

/// What a successful sign-in hands back: the cookie value (shown to nobody else) and the user.
pub struct SignedIn {
    pub token: String,
    pub user: UserRow,
}

pub const WRONG_CREDENTIALS: &str = "Wrong username or password.";

pub async fn sign_in(
    db: &Db,
    clock: &dyn Clock,
    login: &str,
    password_text: Secret,
    previous_token: Option<&str>,
) -> AppResult<SignedIn> {
    let login_lower = login.trim().to_lowercase();
    if login_lower.is_empty() {
        return Err(AppError::invalid(
            "username",
            "Enter your username or email.",
        ));
    }
    let now = clock.now_millis();
    let mut conn = db.acquire().await?;
    if let Some(until) = db::throttle::locked_until(&mut conn, &login_lower).await? {
        if until > now {
            let minutes = (until - now + 59_999) / 60_000;
            return Err(AppError::LockedOut { minutes });
        }
    }
    let user = db::users::find_by_login(&mut conn, &login_lower).await?;
    drop(conn);

    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let password_ok = password::verify(password_text, stored_hash).await;

    let mut tx = db.begin_write().await?;
    let user = match user {
        Some(user) if password_ok => user,
        _ => {
            let failures = db::throttle::record_failure(
                &mut tx,
                &login_lower,
                now,
                now - FAILURE_WINDOW_MILLIS,
            )
            .await?;
            if failures >= MAX_FAILURES {
                db::throttle::lock(&mut tx, &login_lower, now + LOCKOUT_MILLIS).await?;
                tracing::warn!(login = %login_lower, "sign-in locked after repeated failures");
            }
            tx.commit().await?;
            return Err(AppError::invalid("password", WRONG_CREDENTIALS));
        }
    };
    // Suspended everywhere: a (non-superadmin) user whose every tenant access is suspended.
    let (accesses, active_accesses) = db::access::counts(&mut tx, &user.id).await?;
    let suspended_everywhere = !user.is_superadmin && accesses > 0 && active_accesses == 0;
    if !user.active || suspended_everywhere {
        tx.commit().await?;
        return Err(AppError::Forbidden(
            "This account is suspended. Ask an administrator to restore it.".into(),
        ));
    }
    db::throttle::clear(&mut tx, &login_lower).await?;
    let (token, _) = start_session(&mut tx, &user.id, now, previous_token).await?;
    tx.commit().await?;
    Ok(SignedIn { token, user })
}

/// Starts a session for `user_id`, ending the one `previous_token` belonged to (so a session
/// id planted before sign-in is useless). Returns the cookie value and its stored hash. Every
/// way of signing in (password, OpenID Connect) goes through here.
pub async fn start_session(
    conn: &mut db::Conn,
    user_id: &str,
    now: crate::clock::Millis,
    previous_token: Option<&str>,
) -> AppResult<(String, String)> {
    if let Some(old) = previous_token {
        db::sessions::delete(conn, &session::hash_token(old)).await?;
    }
    let (token, hash) = session::new_token();
    db::sessions::insert(conn, &hash, user_id, now, now + session::SESSION_TTL_MILLIS).await?;
    Ok((token, hash))
}

/// Ends the session `token` belongs to.
pub async fn sign_out(db: &Db, token: &str) -> AppResult<()> {
    let mut conn = db.acquire().await?;
    db::sessions::delete(&mut conn, &session::hash_token(token)).await
}

/// The user behind a session token, when the session is live and the user active.
pub async fn user_for_token(db: &Db, clock: &dyn Clock, token: &str) -> AppResult<Option<UserRow>> {
    let mut conn = db.acquire().await?;
    db::sessions::find_user(&mut conn, &session::hash_token(token), clock.now_millis()).await
}
