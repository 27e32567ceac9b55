//! Your account: the signed-in person's own profile, tenants and roles, password and sessions.
//! Every function acts on the caller's own account (`iam::account`); signing in is the only
//! permission it needs.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::sign_ins::SignInItem;

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    super::sign_ins::sign_in_item,
    crate::auth::{session, user_agent},
    crate::clock::rfc3339,
    crate::error::AppError,
    crate::iam::account::{self, PasswordChange},
    crate::secret::Secret,
};

/// A tenant the person can enter, and the roles that give them permissions there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRoles {
    pub id: String,
    pub name: String,
    /// "Admin", or "Viewer, via group Engineering".
    pub roles: Vec<String>,
}

/// One of the person's live sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionItem {
    pub handle: String,
    pub signed_in_at: String,
    pub expires_at: String,
    /// "Password", or "authentik" (the OpenID provider).
    pub method: String,
    pub browser: String,
    /// The full User-Agent, when the browser sent one.
    pub user_agent: Option<String>,
    pub address: String,
    pub current: bool,
}

/// The account page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPage {
    pub username: String,
    pub display_name: Option<String>,
    pub emails: Vec<(String, String)>,
    pub is_superadmin: bool,
    pub has_password: bool,
    pub providers: Vec<String>,
    pub tenants: Vec<TenantRoles>,
    pub sessions: Vec<SessionItem>,
    pub sign_ins: Vec<SignInItem>,
}

#[cfg(feature = "ssr")]
fn session_item(s: account::Session) -> SessionItem {
    let row = s.row;
    SessionItem {
        handle: s.handle,
        signed_in_at: rfc3339(row.created_at),
        expires_at: rfc3339(row.expires_at),
        method: row.provider.unwrap_or_else(|| "Password".into()),
        browser: user_agent::label(row.user_agent.as_deref()),
        user_agent: row.user_agent,
        address: row.client_address.unwrap_or_else(|| "unknown".into()),
        current: s.current,
    }
}

#[server(endpoint = "account")]
pub async fn get_account() -> Result<AccountPage, ServerFnError> {
    let ctx = ctx();
    let user = ctx.require_user().await?;
    let token = ctx.token.clone().unwrap_or_default();
    let clock = ctx.state.clock.as_ref();
    let a = account::view(&ctx.state.db, clock, &user, &token)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(AccountPage {
        username: user.username,
        display_name: user.display_name,
        emails: a.emails,
        is_superadmin: user.is_superadmin,
        has_password: user.password_hash.is_some(),
        providers: a.providers,
        tenants: a
            .tenants
            .into_iter()
            .map(|(t, roles)| TenantRoles {
                id: t.id,
                name: t.name,
                roles,
            })
            .collect(),
        sessions: a.sessions.into_iter().map(session_item).collect(),
        sign_ins: a.sign_ins.into_iter().map(sign_in_item).collect(),
    })
}

/// Changes the caller's password; the session that asked is replaced by a new one and every
/// other session ends.
#[server(endpoint = "account/password")]
pub async fn change_password(
    current_password: String,
    password: String,
    password_confirm: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let user = ctx.require_user().await?;
    let change = PasswordChange {
        current: Secret::new(current_password),
        new: Secret::new(password),
        confirm: Secret::new(password_confirm),
    };
    let (db, clock) = (&ctx.state.db, ctx.state.clock.as_ref());
    let outcome = account::change_password(db, clock, &user, change, &ctx.browser()).await;
    let outcome = outcome.map(|changed| {
        let secure = ctx.state.settings.secure_cookies();
        ctx.set_cookie(&session::set_cookie(&changed.token, secure));
        changed.notice
    });
    // Too many wrong passwords, or too much password work at once: said beside the field.
    let outcome = outcome.map_err(|e| match e {
        AppError::LockedOut { .. } | AppError::Overloaded(_) => {
            ctx.retry_after(&e);
            AppError::invalid("current_password", e.to_string())
        }
        e => e,
    });
    ctx.answer_form("/account", outcome, &[])
}

/// Signs out one of the caller's other sessions.
#[server(endpoint = "account/sessions/end")]
pub async fn end_session(handle: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let user = ctx.require_user().await?;
    let token = ctx.token.clone().unwrap_or_default();
    let clock = ctx.state.clock.as_ref();
    let outcome = account::end_session(&ctx.state.db, clock, &user, &token, &handle).await;
    ctx.answer_form("/account", outcome, &[])
}

/// Signs out every session of the caller but this one.
#[server(endpoint = "account/sessions/end-others")]
pub async fn end_other_sessions() -> Result<(), ServerFnError> {
    let ctx = ctx();
    let user = ctx.require_user().await?;
    let token = ctx.token.clone().unwrap_or_default();
    let outcome = account::end_other_sessions(&ctx.state.db, &user, &token).await;
    ctx.answer_form("/account", outcome, &[])
}
