//! Service accounts of a tenant and their API tokens.
//!
//! A new token's plain text is shown exactly once (`api::reveal`): with JavaScript the create
//! call returns it; a plain form post hands it to the account's page in a one-time cookie
//! scoped to that page, five minutes at most, shown only if it is a token of that account.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::bindings::BindingView;

#[cfg(feature = "ssr")]
use {
    super::bindings::binding_view,
    super::ctx::{ctx, Ctx},
    super::reveal::OneTime,
    crate::auth::session::hash_token,
    crate::clock::rfc3339,
    crate::db::iam::{RoleRow, ServiceAccountRow, TokenRow},
    crate::error::AppError,
    crate::iam::service_accounts,
    crate::model::{Action, Resource},
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

/// The one-time cookie of the no-JavaScript token form.
#[cfg(feature = "ssr")]
const NEW_TOKEN: OneTime = OneTime {
    name: "roster_new_token",
    max_age_secs: 300,
};

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

/// The account page: the account, its bindings and tokens, the token the no-JavaScript form just
/// made (once), and the roles a binding may give when the user may bind.
#[server(endpoint = "service-accounts/get")]
pub async fn get_service_account(
    tenant: String,
    account: String,
) -> Result<AccountDetail, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::ServiceAccounts, Action::Read)
        .await?;
    let (db, held, t) = (&ctx.state.db, &gate.permissions, &gate.tenant.id);
    let page = service_accounts::page(db, held, t, &account).await;
    let (d, roles) = page.map_err(|e| ctx.fail(e))?;
    let new_token = NEW_TOKEN.take(&ctx, &[accounts_path(t, &format!("/{}", d.account.id))]);
    Ok(account_detail(
        d,
        roles,
        new_token,
        ctx.state.clock.now_millis(),
    ))
}

/// The account page's data; `plain` (from the one-time cookie) is shown only if it is one of the
/// account's tokens.
#[cfg(feature = "ssr")]
fn account_detail(
    d: service_accounts::AccountDetail,
    roles: Option<Vec<RoleRow>>,
    plain: Option<String>,
    now: i64,
) -> AccountDetail {
    let new_token = plain.and_then(|plain| {
        let hash = hash_token(&plain);
        let t = d.tokens.iter().find(|t| t.token_hash == hash)?;
        Some(NewToken {
            name: t.name.clone(),
            token: plain,
        })
    });
    let bound = d
        .bindings
        .iter()
        .map(|b| (b.role_id.clone(), b.role_name.clone()))
        .collect();
    AccountDetail {
        account: summary(d.account, bound),
        bindings: d.bindings.into_iter().map(binding_view).collect(),
        tokens: d.tokens.into_iter().map(|t| token_view(t, now)).collect(),
        new_token,
        role_choices: roles.map(|r| r.into_iter().map(|r| (r.id, r.name)).collect()),
    }
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
    let (db, by, t) = (&ctx.state.db, gate.author(&ctx), &gate.tenant.id);
    let (path, outcome) = match service_accounts::create(db, &by, t, &name, &description).await {
        Ok(a) => (
            accounts_path(t, &format!("/{}", a.id)),
            Ok(created_notice(&a.name)),
        ),
        Err(e) => (accounts_path(t, ""), Err(e)),
    };
    let keep = [("name", name.as_str()), ("description", &description)];
    ctx.answer_form(&path, outcome, &keep)
}

#[cfg(feature = "ssr")]
fn created_notice(name: &str) -> String {
    format!("Service account {name} created. Give it a role and a token below.")
}

#[server(endpoint = "service-accounts/delete")]
pub async fn delete_service_account(tenant: String, account: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::ServiceAccounts, Action::Delete)
        .await?;
    let t = &gate.tenant.id;
    match service_accounts::delete(&ctx.state.db, &gate.author(&ctx), t, &account).await {
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

/// Ends the token form: with JavaScript the new token is the answer; a plain form post gets it
/// through the one-time cookie and a redirect to the account page at `path`.
#[cfg(feature = "ssr")]
fn token_made(
    ctx: &Ctx,
    path: &str,
    made: Result<(String, TokenRow), AppError>,
    keep: [(&str, &str); 2],
) -> Result<Option<NewToken>, ServerFnError> {
    match made {
        Ok((plain, row)) if ctx.wants_html() => {
            NEW_TOKEN.hand_over(ctx, &plain, &[path.to_string()]);
            let notice = format!("Token {} created. Copy it now.", row.name);
            ctx.answer_form(path, Ok(notice), &[]).map(|()| None)
        }
        Ok((token, row)) => Ok(Some(NewToken {
            name: row.name,
            token,
        })),
        Err(e) => ctx.answer_form(path, Err(e), &keep).map(|()| None),
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
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::ServiceAccounts, Action::Update)
        .await?;
    let (state, t) = (&ctx.state, &gate.tenant.id);
    let (by, name, days) = (gate.author(&ctx), &token_name, &expires_days);
    let made = service_accounts::create_token(&state.db, &by, t, &account, name, days).await;
    let keep = [("token_name", name.as_str()), ("expires_days", days)];
    token_made(&ctx, &accounts_path(t, &format!("/{account}")), made, keep)
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
    let by = gate.author(&ctx);
    let outcome = service_accounts::revoke_token(&ctx.state.db, &by, t, &account, &token)
        .await
        .map(|name| format!("Token {name} revoked: it no longer works."));
    ctx.answer_form(&accounts_path(t, &format!("/{account}")), outcome, &[])
}
