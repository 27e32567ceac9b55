//! Sign-in, sign-out, first-run setup and the shell's view of who is signed in.

use leptos::prelude::*;

use crate::model::ShellInfo;

#[cfg(feature = "ssr")]
use {
    super::ctx::{ctx, Ctx},
    crate::auth::{login, session, session::Browser},
    crate::clock::rfc3339,
    crate::db::{tenants::TenantRow, users::UserRow},
    crate::error::AppError,
    crate::iam::{instance, tenants},
    crate::model::{CurrentUser, TenantSummary},
    crate::secret::Secret,
    crate::url::{safe_next, url_with_query},
};

#[cfg(feature = "ssr")]
fn shell_info(user: UserRow, tenants: Vec<TenantRow>) -> ShellInfo {
    ShellInfo {
        user: CurrentUser {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            is_superadmin: user.is_superadmin,
        },
        tenants: tenants
            .into_iter()
            .map(|t| TenantSummary {
                id: t.id,
                name: t.name,
                created_at: rfc3339(t.created_at),
                link_foreign_users: t.link_foreign_users,
            })
            .collect(),
    }
}

/// Who is signed in and which tenants they may enter; `None` when nobody is.
#[server(endpoint = "shell")]
pub async fn get_shell() -> Result<Option<ShellInfo>, ServerFnError> {
    let ctx = ctx();
    let Some(user) = ctx.current_user().await? else {
        return Ok(None);
    };
    let tenants = tenants::visible_to(&ctx.state.db, &user)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(Some(shell_info(user, tenants)))
}

/// Sets the cookie of the session just started.
#[cfg(feature = "ssr")]
fn start_session(ctx: &Ctx, token: &str) {
    let secure = ctx.state.settings.secure_cookies();
    ctx.set_cookie(&session::set_cookie(token, secure));
}

/// Sends a refused sign-in back to the login form with the reason, the name (unless too long
/// to be anyone's: it is not echoed into the form or the URL) and `next`; other errors are
/// answered with their status.
#[cfg(feature = "ssr")]
fn back_to_login(
    ctx: &Ctx,
    e: AppError,
    username: &str,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    match e {
        AppError::Invalid { .. }
        | AppError::LockedOut { .. }
        | AppError::Overloaded(_)
        | AppError::Forbidden(_) => {
            ctx.retry_after(&e);
            let message = e.to_string();
            let next = next.unwrap_or_default();
            let long = username.len() > login::MAX_LOGIN_BYTES;
            let username = if long { "" } else { username };
            let params = [
                ("error", message.as_str()),
                ("username", username),
                ("next", &next),
            ];
            leptos_axum::redirect(&url_with_query("/login", &params));
            Ok(())
        }
        e => Err(ctx.fail(e)),
    }
}

#[server(endpoint = "auth/login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let state = &ctx.state;
    let (password, browser) = (Secret::new(password), ctx.browser());
    match login::sign_in(
        &state.db,
        state.clock.as_ref(),
        &username,
        password,
        &browser,
    )
    .await
    {
        Ok(signed_in) => {
            start_session(&ctx, &signed_in.token);
            leptos_axum::redirect(&safe_next(next.as_deref()));
            Ok(())
        }
        Err(e) => back_to_login(&ctx, e, &username, next),
    }
}

/// A "Sign in with …" button on the login page: a plain link, so it works without JavaScript.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SsoButton {
    pub name: String,
    pub href: String,
}

/// The OpenID providers people may sign in with; `next` is carried through the sign-in.
#[server(endpoint = "auth/sso-options")]
pub async fn sso_options(next: Option<String>) -> Result<Vec<SsoButton>, ServerFnError> {
    let ctx = ctx();
    let providers = crate::auth::oidc::list_providers(&ctx.state.db)
        .await
        .map_err(|e| ctx.fail(e))?;
    let next = next.filter(|n| n.starts_with('/')).unwrap_or_default();
    Ok(providers
        .into_iter()
        .map(|p| SsoButton {
            href: url_with_query(
                &format!("/auth/oidc/{}/start", p.id),
                &[("next", next.as_str())],
            ),
            name: p.name,
        })
        .collect())
}

/// Ends the session `token`; answers where the provider ends it too, for a session that began
/// at a provider that allows it.
#[cfg(feature = "ssr")]
async fn end_session(ctx: &Ctx, token: &str) -> Result<Option<String>, ServerFnError> {
    let state = &ctx.state;
    let (clock, settings) = (state.clock.as_ref(), &state.settings);
    let provider_logout =
        crate::auth::oidc::flow::end_session_url(&state.db, clock, settings, &state.oidc, token)
            .await;
    login::sign_out(&state.db, token)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(provider_logout)
}

#[server(endpoint = "auth/logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    let ctx = ctx();
    let provider_logout = match &ctx.token {
        Some(token) => end_session(&ctx, token).await?,
        None => None,
    };
    ctx.set_cookie(&session::clear_cookie(ctx.state.settings.secure_cookies()));
    leptos_axum::redirect(
        provider_logout
            .as_deref()
            .unwrap_or("/login?notice=You%20are%20signed%20out."),
    );
    Ok(())
}

#[server(endpoint = "setup/needed")]
pub async fn setup_needed() -> Result<bool, ServerFnError> {
    let ctx = ctx();
    instance::needs_setup(&ctx.state.db)
        .await
        .map_err(|e| ctx.fail(e))
}

/// Creates the first superadmin and signs them in.
#[server(endpoint = "setup")]
pub async fn setup(
    username: String,
    email: Option<String>,
    password: String,
    password_confirm: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let (db, clock) = (&ctx.state.db, ctx.state.clock.as_ref());
    let email = email.filter(|e| !e.trim().is_empty());
    let (password, confirm) = (Secret::new(password), Secret::new(password_confirm));
    let admin = instance::NewAdmin {
        username: username.clone(),
        email: email.clone(),
        password: password.clone(),
    };
    if let Err(e) = instance::set_up(db, clock, admin, &confirm).await {
        return back_to_setup(&ctx, e, &username, email.as_deref());
    }
    let browser = Browser {
        previous_token: None,
        ..ctx.browser()
    };
    let signed_in = login::sign_in(db, clock, &username, password, &browser).await;
    start_session(&ctx, &signed_in.map_err(|e| ctx.fail(e))?.token);
    leptos_axum::redirect("/?notice=Welcome%20to%20Roster.");
    Ok(())
}

/// A refused setup: a field error goes back to the form with what was typed (never the
/// passwords); "setup is already done" goes to the login page.
#[cfg(feature = "ssr")]
fn back_to_setup(
    ctx: &Ctx,
    e: AppError,
    username: &str,
    email: Option<&str>,
) -> Result<(), ServerFnError> {
    if let AppError::Conflict(message) = &e {
        leptos_axum::redirect(&url_with_query("/login", &[("error", message)]));
        return Ok(());
    }
    let keep = [("username", username), ("email", email.unwrap_or_default())];
    ctx.answer_form("/setup", Err(e), &keep)
}
