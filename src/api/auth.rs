//! Sign-in, sign-out, first-run setup and the shell's view of who is signed in.

use leptos::prelude::*;

use crate::model::ShellInfo;

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    crate::auth::{login, session},
    crate::clock::rfc3339,
    crate::error::AppError,
    crate::iam::{instance, tenants},
    crate::model::{CurrentUser, TenantSummary},
    crate::secret::Secret,
    crate::url::{safe_next, url_with_query},
};

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
    Ok(Some(ShellInfo {
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
    }))
}

#[server(endpoint = "auth/login")]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let state = &ctx.state;
    let result = login::sign_in(
        &state.db,
        state.clock.as_ref(),
        &username,
        Secret::new(password),
        &ctx.client,
        ctx.token.as_deref(),
    )
    .await;
    match result {
        Ok(signed_in) => {
            ctx.set_cookie(&session::set_cookie(
                &signed_in.token,
                state.settings.secure_cookies(),
            ));
            leptos_axum::redirect(&safe_next(next.as_deref()));
            Ok(())
        }
        Err(
            e @ (AppError::Invalid { .. }
            | AppError::LockedOut { .. }
            | AppError::Overloaded(_)
            | AppError::Forbidden(_)),
        ) => {
            ctx.retry_after(&e);
            let message = e.to_string();
            let next = next.unwrap_or_default();
            // A name too long to be anyone's is not echoed back into the form (or the URL).
            let username = if username.len() > login::MAX_LOGIN_BYTES {
                String::new()
            } else {
                username
            };
            leptos_axum::redirect(&url_with_query(
                "/login",
                &[
                    ("error", &message),
                    ("username", &username),
                    ("next", &next),
                ],
            ));
            Ok(())
        }
        Err(e) => Err(ctx.fail(e)),
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

#[server(endpoint = "auth/logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    let ctx = ctx();
    let state = &ctx.state;
    let mut provider_logout = None;
    if let Some(token) = &ctx.token {
        // A session that began at a provider also ends there, when the provider allows it.
        provider_logout = crate::auth::oidc::flow::end_session_url(
            &state.db,
            state.clock.as_ref(),
            &state.settings,
            &state.oidc,
            token,
        )
        .await;
        login::sign_out(&state.db, token)
            .await
            .map_err(|e| ctx.fail(e))?;
    }
    ctx.set_cookie(&session::clear_cookie(state.settings.secure_cookies()));
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
    let state = &ctx.state;
    let email = email.filter(|e| !e.trim().is_empty());
    let back_with = |field: &str, message: &str| {
        leptos_axum::redirect(&url_with_query(
            "/setup",
            &[
                ("error", message),
                ("field", field),
                ("username", &username),
                ("email", email.as_deref().unwrap_or_default()),
            ],
        ));
    };
    if password != password_confirm {
        back_with("password_confirm", "The two passwords differ.");
        return Ok(());
    }
    let admin = instance::NewAdmin {
        username: username.clone(),
        email: email.clone(),
        password: Secret::new(password.clone()),
    };
    match instance::create_superadmin(&state.db, state.clock.as_ref(), admin, true).await {
        Ok(_) => {}
        Err(AppError::Invalid { field, message }) => {
            back_with(field, &message);
            return Ok(());
        }
        Err(AppError::Conflict(message)) => {
            leptos_axum::redirect(&url_with_query("/login", &[("error", &message)]));
            return Ok(());
        }
        Err(e) => return Err(ctx.fail(e)),
    }
    let signed_in = login::sign_in(
        &state.db,
        state.clock.as_ref(),
        &username,
        Secret::new(password),
        &ctx.client,
        None,
    )
    .await
    .map_err(|e| ctx.fail(e))?;
    ctx.set_cookie(&session::set_cookie(
        &signed_in.token,
        state.settings.secure_cookies(),
    ));
    leptos_axum::redirect("/?notice=Welcome%20to%20Roster.");
    Ok(())
}
