//! Service accounts of a tenant and their API tokens.
//!
//! A new token's plain text is shown exactly once. With JavaScript the create call simply returns
//! it. A plain form post cannot carry it in its redirect (URLs end up in logs and history), so the
//! server puts it in a one-time cookie: `HttpOnly`, `SameSite=Strict`, scoped to the account's
//! page path, five minutes at most. Rendering that page reads it and clears it at once; the
//! database only ever holds the token's hash.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::bindings::BindingView;

#[cfg(feature = "ssr")]
use {
    super::bindings::binding_view,
    super::ctx::ctx,
    crate::auth::session::hash_token,
    crate::clock::rfc3339,
    crate::db::iam::{ServiceAccountRow, TokenRow},
    crate::iam::service_accounts,
    crate::model::{Action, Resource},
    axum::http::header,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_at: String,
    /// `(role id, role name)` of the roles bound to it.
    pub roles: Vec<(String, String)>,
    pub tokens: i64,
    /// The SCIM integration that owns it: `(id, name)`.
    pub integration: Option<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub expired: bool,
}

/// A token just made: its plain text, shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub name: String,
    pub token: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDetail {
    pub account: AccountSummary,
    pub bindings: Vec<BindingView>,
    pub tokens: Vec<TokenView>,
    /// The token made by the no-JavaScript form just before this page load, once.
    pub new_token: Option<NewToken>,
    /// `(id, name)` of the tenant's roles, when the user may bind roles.
    pub role_choices: Option<Vec<(String, String)>>,
}

#[cfg(feature = "ssr")]
const NEW_TOKEN_COOKIE: &str = "roster_new_token";

#[cfg(feature = "ssr")]
fn accounts_path(tenant: &str, rest: &str) -> String {
    format!("/t/{tenant}/iam/service-accounts{rest}")
}

#[cfg(feature = "ssr")]
fn summary(a: ServiceAccountRow, roles: Vec<(String, String)>) -> AccountSummary {
    AccountSummary {
        id: a.id,
        name: a.name,
        description: a.description,
        created_at: rfc3339(a.created_at),
        roles,
        tokens: a.token_count,
        integration: a.integration,
    }
}

#[cfg(feature = "ssr")]
fn token_view(t: TokenRow, now: i64) -> TokenView {
    TokenView {
        id: t.id,
        name: t.name,
        prefix: t.prefix,
        created_at: rfc3339(t.created_at),
        expires_at: t.expires_at.map(rfc3339),
        last_used_at: t.last_used_at.map(rfc3339),
        expired: t.expires_at.is_some_and(|e| e <= now),
    }
}

#[server(endpoint = "service-accounts/list")]
pub async fn list_service_accounts(tenant: String) -> Result<Vec<AccountSummary>, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::ServiceAccounts, Action::Read)
        .await?;
    let rows = service_accounts::list(&ctx.state.db, &gate.tenant.id)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(rows
        .into_iter()
        .map(|(a, b)| summary(a, b.into_iter().map(|b| (b.role_id, b.role_name)).collect()))
        .collect())
}

#[server(endpoint = "service-accounts/get")]
pub async fn get_service_account(
    tenant: String,
    account: String,
) -> Result<AccountDetail, ServerFnError> {
    let ctx = ctx();
    let headers = use_context::<http::request::Parts>().map(|p| p.headers);
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::ServiceAccounts, Action::Read)
        .await?;
    let state = &ctx.state;
    let fail = |e| ctx.fail(e);
    let d = service_accounts::get(&state.db, &gate.tenant.id, &account)
        .await
        .map_err(fail)?;
    // The one-time cookie of the no-JavaScript token form: shown if it is a token of this
    // account, and cleared either way.
    let mut new_token = None;
    if let Some(plain) = headers
        .as_ref()
        .and_then(|h| crate::auth::cookies::value(h, NEW_TOKEN_COOKIE))
    {
        let hash = hash_token(&plain);
        if let Some(t) = d.tokens.iter().find(|t| t.token_hash == hash) {
            new_token = Some(NewToken {
                name: t.name.clone(),
                token: plain,
            });
        }
        ctx.set_cookie(&token_cookie(
            &accounts_path(&gate.tenant.id, &format!("/{}", d.account.id)),
            "",
            0,
            state.settings.secure_cookies(),
        ));
    }
    let role_choices = if gate.permissions.allows(Resource::Bindings, Action::Create) {
        let mut conn = state.db.acquire().await.map_err(fail)?;
        let roles = crate::db::iam::list_roles(&mut conn, &gate.tenant.id)
            .await
            .map_err(fail)?;
        Some(roles.into_iter().map(|r| (r.id, r.name)).collect())
    } else {
        None
    };
    let now = state.clock.now_millis();
    let roles = d
        .bindings
        .iter()
        .map(|b| (b.role_id.clone(), b.role_name.clone()))
        .collect();
    Ok(AccountDetail {
        account: summary(d.account, roles),
        bindings: d.bindings.into_iter().map(binding_view).collect(),
        tokens: d.tokens.into_iter().map(|t| token_view(t, now)).collect(),
        new_token,
        role_choices,
    })
}

#[cfg(feature = "ssr")]
fn token_cookie(path: &str, value: &str, max_age: i64, secure: bool) -> String {
    crate::auth::cookies::one_time(NEW_TOKEN_COOKIE, value, path, max_age, secure)
}

#[server(endpoint = "service-accounts/create")]
pub async fn create_service_account(
    tenant: String,
    name: String,
    #[server(default)] description: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::ServiceAccounts, Action::Create)
        .await?;
    let state = &ctx.state;
    let t = &gate.tenant.id;
    match service_accounts::create(&state.db, state.clock.as_ref(), t, &name, &description).await {
        Ok(a) => ctx.answer_form(
            &accounts_path(t, &format!("/{}", a.id)),
            Ok(format!(
                "Service account {} created. Give it a role and a token below.",
                a.name
            )),
            &[],
        ),
        Err(e) => ctx.answer_form(
            &accounts_path(t, ""),
            Err(e),
            &[("name", &name), ("description", &description)],
        ),
    }
}

#[server(endpoint = "service-accounts/delete")]
pub async fn delete_service_account(tenant: String, account: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::ServiceAccounts, Action::Delete)
        .await?;
    let t = &gate.tenant.id;
    match service_accounts::delete(&ctx.state.db, t, &account).await {
        Ok(name) => ctx.answer_form(
            &accounts_path(t, ""),
            Ok(format!(
                "Service account {name} deleted with its tokens and bindings."
            )),
            &[],
        ),
        Err(e) => ctx.answer_form(&accounts_path(t, &format!("/{account}")), Err(e), &[]),
    }
}

/// Issues a token. With JavaScript the plain token is the return value; a plain form post gets
/// it through the one-time cookie (see the module comment) and a redirect.
#[server(endpoint = "service-accounts/tokens/create")]
pub async fn create_token(
    tenant: String,
    account: String,
    #[server(default)] token_name: String,
    #[server(default)] expires_days: String,
) -> Result<Option<NewToken>, ServerFnError> {
    let ctx = ctx();
    let plain_form = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false);
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::ServiceAccounts, Action::Update)
        .await?;
    let state = &ctx.state;
    let t = &gate.tenant.id;
    let path = accounts_path(t, &format!("/{account}"));
    match service_accounts::create_token(
        &state.db,
        state.clock.as_ref(),
        t,
        &account,
        &token_name,
        &expires_days,
    )
    .await
    {
        Ok((plain, row)) if plain_form => {
            ctx.set_cookie(&token_cookie(
                &path,
                &plain,
                300,
                state.settings.secure_cookies(),
            ));
            ctx.answer_form(
                &path,
                Ok(format!("Token {} created. Copy it now.", row.name)),
                &[],
            )?;
            Ok(None)
        }
        Ok((plain, row)) => Ok(Some(NewToken {
            name: row.name,
            token: plain,
        })),
        Err(e) => {
            ctx.answer_form(
                &path,
                Err(e),
                &[("token_name", &token_name), ("expires_days", &expires_days)],
            )?;
            Ok(None)
        }
    }
}

#[server(endpoint = "service-accounts/tokens/revoke")]
pub async fn revoke_token(
    tenant: String,
    account: String,
    token: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::ServiceAccounts, Action::Update)
        .await?;
    let t = &gate.tenant.id;
    let outcome = service_accounts::revoke_token(&ctx.state.db, t, &account, &token)
        .await
        .map(|name| format!("Token {name} revoked: it no longer works."));
    ctx.answer_form(&accounts_path(t, &format!("/{account}")), outcome, &[])
}
