//! Signing in with a username (or email) and password. Every attempt is counted by
//! [`throttle`] before its password is verified, so parallel guesses are all counted; the
//! password work itself is bounded (`password`). A successful sign-in always starts a new
//! session (the old one, if any, is ended), so a session id planted before sign-in is useless.

use crate::auth::session::Browser;
use crate::auth::{password, session, throttle};
use crate::clock::Clock;
use crate::db::{self, users::UserRow, Db};
use crate::error::{AppError, AppResult};
use crate::secret::Secret;

/// Longer login names are refused before any work (an email address is at most 320 bytes).
pub const MAX_LOGIN_BYTES: usize = 320;

/// What a successful sign-in hands back: the cookie value (shown to nobody else) and the user.
pub struct SignedIn {
    pub token: String,
    pub user: UserRow,
}

pub const WRONG_CREDENTIALS: &str = "Wrong username or password.";

/// Someone at `browser` (its address, or "unknown") tries `login` with `password_text`.
pub async fn sign_in(
    db: &Db,
    clock: &dyn Clock,
    login: &str,
    password_text: Secret,
    browser: &Browser<'_>,
) -> AppResult<SignedIn> {
    let login_lower = login_name(login)?;
    let now = clock.now_millis();
    let user = {
        let mut conn = db.acquire().await?;
        db::users::find_by_login(&mut conn, &login_lower).await?
    };
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let checked = Checked {
        user_id: user.as_ref().map(|u| u.id.as_str()),
        login_lower: &login_lower,
        browser,
        method: method::PASSWORD,
    };
    let passed = verify_counted(db, &checked, password_text, stored_hash, now).await?;
    let (user, attempt) = match (user, passed) {
        (Some(user), Some(attempt)) => (user, attempt),
        _ => return Err(AppError::invalid("password", WRONG_CREDENTIALS)),
    };
    let mut tx = db.begin_write().await?;
    throttle::succeeded(&mut tx, &attempt).await?;
    if is_suspended(&mut tx, &user).await? {
        record(
            &mut tx,
            &user.id,
            browser,
            now,
            outcome::SUSPENDED,
            method::PASSWORD,
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::Forbidden(SUSPENDED.into()));
    }
    let (token, _) = start_session(&mut tx, &user.id, now, browser).await?;
    record(
        &mut tx,
        &user.id,
        browser,
        now,
        outcome::SIGNED_IN,
        method::PASSWORD,
    )
    .await?;
    tx.commit().await?;
    Ok(SignedIn { token, user })
}

/// What an account's sign-in activity records (`db::sign_ins`, Your account): how it ended.
pub mod outcome {
    pub const SIGNED_IN: &str = "signed-in";
    pub const WRONG_PASSWORD: &str = "wrong-password";
    pub const SUSPENDED: &str = "suspended";
    pub const PASSWORD_CHANGED: &str = "password-changed";
}

/// What an account's sign-in activity records: how the person went about it. A sign-in through
/// an OpenID provider is `oidc:` and the provider's name.
pub mod method {
    pub const PASSWORD: &str = "password";
    pub const PASSWORD_CHANGE: &str = "password-change";
    pub const OIDC_PREFIX: &str = "oidc:";
}

/// Records an attempt on `user_id`'s account from `browser` in its activity (`db::sign_ins`).
pub async fn record(
    conn: &mut db::Conn,
    user_id: &str,
    browser: &Browser<'_>,
    at: crate::clock::Millis,
    outcome: &str,
    method: &str,
) -> AppResult<()> {
    let sign_in = db::sign_ins::SignIn {
        at,
        outcome: outcome.into(),
        method: method.into(),
        client_address: browser.address.into(),
        user_agent: browser.stored_user_agent().map(str::to_string),
    };
    db::sign_ins::record(conn, user_id, &sign_in).await
}

/// Whose password a [`verify_counted`] checks (none: a name nobody has) under which login name
/// (the throttle's keys are made of these and the browser's address), from where, and for
/// what: a wrong one is recorded in that account's activity.
pub struct Checked<'a> {
    pub user_id: Option<&'a str>,
    pub login_lower: &'a str,
    pub browser: &'a Browser<'a>,
    pub method: &'a str,
}

/// Counts the attempt `checked` describes (refused while one of its keys is locked), then
/// checks `password_text` against `stored_hash` (none: the work is done all the same, and it is
/// wrong). A wrong one is a failure (a key at its limit locks) and answers `None`; an attempt
/// whose password work could not be done is taken back. A right one answers its attempt, which
/// the caller ends with `throttle::succeeded` in the transaction that acts on it. Every password
/// check a person can trigger (sign-in, a password change's current password) goes through
/// here; a wrong password for an account is recorded in its activity, in the transaction that
/// may lock it.
pub async fn verify_counted(
    db: &Db,
    checked: &Checked<'_>,
    password_text: Secret,
    stored_hash: Option<String>,
    now: crate::clock::Millis,
) -> AppResult<Option<throttle::Attempt>> {
    let address = checked.browser.address;
    let mut attempt = throttle::Attempt::new(checked.user_id, checked.login_lower, address);
    throttle::admit(db, &mut attempt, now).await?;
    let right = match password::verify(password_text, stored_hash).await {
        Ok(right) => right,
        Err(e) => {
            throttle::withdraw(db, &attempt).await?;
            return Err(e);
        }
    };
    if right {
        return Ok(Some(attempt));
    }
    let mut tx = db.begin_write().await?;
    throttle::failed(&mut tx, &attempt, now).await?;
    if let Some(user_id) = checked.user_id {
        let (wrong, method) = (outcome::WRONG_PASSWORD, checked.method);
        record(&mut tx, user_id, checked.browser, now, wrong, method).await?;
    }
    tx.commit().await?;
    Ok(None)
}

/// The login name as the throttle and the lookup use it: trimmed, lower-cased, not empty and
/// not longer than [`MAX_LOGIN_BYTES`].
fn login_name(login: &str) -> AppResult<String> {
    let login = login.trim();
    if login.is_empty() {
        return Err(AppError::invalid(
            "username",
            "Enter your username or email.",
        ));
    }
    if login.len() > MAX_LOGIN_BYTES {
        return Err(AppError::invalid(
            "username",
            format!("A username or email is at most {MAX_LOGIN_BYTES} characters."),
        ));
    }
    Ok(login.to_lowercase())
}

pub const SUSPENDED: &str = "This account is suspended. Ask an administrator to restore it.";

/// Whether `user` may not sign in, by any way: suspended (`active` false), or — a user who is
/// not a superadmin — suspended in every tenant they belong to.
pub async fn is_suspended(conn: &mut db::Conn, user: &UserRow) -> AppResult<bool> {
    if !user.active {
        return Ok(true);
    }
    let (accesses, active_accesses) = db::access::counts(conn, &user.id).await?;
    Ok(!user.is_superadmin && accesses > 0 && active_accesses == 0)
}

/// Starts a session for `user_id` in `browser`, ending the one it had (so a session id planted
/// before sign-in is useless). Returns the cookie value and its stored hash. Every way of
/// signing in (password, OpenID Connect) and a password change go through here.
pub async fn start_session(
    conn: &mut db::Conn,
    user_id: &str,
    now: crate::clock::Millis,
    browser: &Browser<'_>,
) -> AppResult<(String, String)> {
    if let Some(old) = browser.previous_token {
        db::sessions::delete(conn, &session::hash_token(old)).await?;
    }
    let (token, hash) = session::new_token();
    let new = db::sessions::NewSession {
        id_hash: &hash,
        user_id,
        created_at: now,
        expires_at: now + session::SESSION_TTL_MILLIS,
        client_address: browser.address,
        user_agent: browser.stored_user_agent(),
    };
    db::sessions::insert(conn, &new).await?;
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
