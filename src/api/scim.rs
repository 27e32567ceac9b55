//! Tenant → IAM → SCIM Provisioning: integrations, their tokens and their request log.
//!
//! A Secret Token is shown once, and never travels in a URL: the server function that creates
//! (or rotates) it hands it to the browser in a short-lived one-time cookie ([`reveal`]) and
//! redirects to the integration's page, whose [`reveal_token`] reads the cookie and clears it.
//! This works the same with JavaScript on (fetch + client-side navigation) and off (form post
//! + redirect).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    crate::clock::rfc3339,
    crate::db::{scim_integrations::IntegrationSummary, scim_log::LogEntry},
    crate::error::AppError,
    crate::iam::integrations,
    crate::model::{Action, Resource},
};

pub use crate::model::SCIM_2_0;
/// How many log entries the integration page shows.
pub const LOG_LIMIT: i64 = 100;

/// A row of the SCIM Provisioning list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Users whose access to the tenant this integration granted.
    pub users: i64,
    /// Groups this integration manages.
    pub groups: i64,
    pub last_request_at: Option<String>,
    pub last_status: Option<i64>,
}

/// One entry of an integration's request log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogView {
    pub at: String,
    pub method: String,
    pub path: String,
    pub status: i64,
    pub duration_ms: i64,
    pub error_detail: Option<String>,
    /// The request body with passwords redacted (kept for failures only).
    pub request_body: Option<String>,
}

/// Everything the integration page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationDetail {
    pub integration: IntegrationView,
    pub endpoint: String,
    pub provisioner_role_id: Option<String>,
    pub service_account_id: String,
    pub log: Vec<LogView>,
}

/// A Secret Token being shown its one time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealedToken {
    pub token: String,
    /// True after a rotation, false after the integration was created.
    pub rotated: bool,
}

#[cfg(feature = "ssr")]
fn view_of(s: IntegrationSummary) -> IntegrationView {
    IntegrationView {
        id: s.row.id,
        name: s.row.name,
        description: s.row.description,
        enabled: s.row.enabled,
        created_at: rfc3339(s.row.created_at),
        users: s.users,
        groups: s.groups,
        last_request_at: s.last_request_at.map(rfc3339),
        last_status: s.last_status,
    }
}

#[cfg(feature = "ssr")]
fn log_view(e: LogEntry) -> LogView {
    LogView {
        at: rfc3339(e.at),
        method: e.method,
        path: e.path,
        status: e.status,
        duration_ms: e.duration_ms,
        error_detail: e.error_detail,
        request_body: e.request_body,
    }
}

#[cfg(feature = "ssr")]
fn list_path(tenant: &str) -> String {
    format!("/t/{tenant}/iam/scim")
}

#[cfg(feature = "ssr")]
fn page_path(tenant: &str, id: &str) -> String {
    format!("/t/{tenant}/iam/scim/{id}")
}

/// The one-time cookie (`api::reveal`) that carries a new Secret Token from the server function
/// that made it to the integration page: scoped to the two paths that read it (the page, for
/// server rendering, and [`reveal_token`]'s endpoint, for client-side navigation), expiring
/// after 10 minutes, and cleared by the first read. The token never appears in a URL, a log or
/// the database (which keeps only its hash).
#[cfg(feature = "ssr")]
mod reveal {
    use super::page_path;
    use crate::api::reveal::OneTime;

    pub const COOKIE: OneTime = OneTime {
        name: "roster_scim_reveal",
        max_age_secs: 600,
    };
    /// The path of [`super::reveal_token`]'s endpoint.
    pub const ENDPOINT_PATH: &str = "/api/scim/reveal";

    /// The paths that read the cookie of integration `id`.
    pub fn paths(tenant: &str, id: &str) -> [String; 2] {
        [page_path(tenant, id), ENDPOINT_PATH.to_string()]
    }

    /// The cookie's value: the token of integration `id`, and whether it was rotated.
    pub fn value(id: &str, token: &str, rotated: bool) -> String {
        let kind = if rotated { "rotated" } else { "created" };
        format!("{kind}.{id}.{token}")
    }

    /// The token in `value` when it is for integration `id`: `(token, rotated)`.
    pub fn parse(value: &str, id: &str) -> Option<(String, bool)> {
        let (kind, rest) = value.split_once('.')?;
        let (for_id, token) = rest.split_once('.')?;
        if for_id != id || token.is_empty() {
            return None;
        }
        match kind {
            "created" => Some((token.to_string(), false)),
            "rotated" => Some((token.to_string(), true)),
            _ => None,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_cookie_is_httponly_strict_scoped_and_short_lived() {
            let set = COOKIE.set_cookies(
                &value("abc", "tok-en_1", false),
                &paths("main", "abc"),
                true,
            );
            let [page, api] = [&set[0], &set[1]];
            assert!(page.starts_with("roster_scim_reveal=created.abc.tok-en_1;"));
            assert!(page.contains("Path=/t/main/iam/scim/abc;"));
            assert!(api.contains("Path=/api/scim/reveal;"));
            for c in [page, api] {
                assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict"));
                assert!(c.contains("Max-Age=600") && c.ends_with("; Secure"));
            }
            assert!(COOKIE
                .clear_cookies(&paths("main", "abc"), false)
                .iter()
                .all(|c| c.contains("Max-Age=0") && c.starts_with("roster_scim_reveal=;")));
        }

        #[test]
        fn a_token_is_only_revealed_on_its_own_integration_page() {
            assert_eq!(
                parse("rotated.abc.t0k", "abc"),
                Some(("t0k".to_string(), true))
            );
            assert_eq!(parse("created.abc.t0k", "other"), None);
            assert_eq!(parse("created.abc.", "abc"), None);
            assert_eq!(parse("bogus.abc.t0k", "abc"), None);
        }
    }
}

/// The tenant's integrations with their counts and last request. Needs INTEGRATIONS:READ.
#[server(endpoint = "scim/list")]
pub async fn list_integrations(tenant: String) -> Result<Vec<IntegrationView>, ServerFnError> {
    let ctx = ctx();
    ctx.enter_tenant_for(&tenant, Resource::Integrations, Action::Read)
        .await?;
    let rows = integrations::summaries(&ctx.state.db, &tenant)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(rows.into_iter().map(view_of).collect())
}

/// One integration, its links and its newest log entries (only failures when `failed`).
/// Needs INTEGRATIONS:READ.
#[server(endpoint = "scim/get")]
pub async fn get_integration(
    tenant: String,
    id: String,
    failed: bool,
) -> Result<IntegrationDetail, ServerFnError> {
    let ctx = ctx();
    ctx.enter_tenant_for(&tenant, Resource::Integrations, Action::Read)
        .await?;
    let d = integrations::details(&ctx.state.db, &tenant, &id, failed, LOG_LIMIT)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(IntegrationDetail {
        endpoint: integrations::endpoint(ctx.state.settings.public_base(), &tenant, &id),
        service_account_id: d.summary.row.service_account_id.clone(),
        integration: view_of(d.summary),
        provisioner_role_id: d.provisioner_role_id,
        log: d.log.into_iter().map(log_view).collect(),
    })
}

/// The Secret Token just created or rotated for integration `id`, once: it comes from the
/// one-time cookie, which this clears. `None` on any later call. Needs INTEGRATIONS:READ.
#[server(endpoint = "scim/reveal")]
pub async fn reveal_token(
    tenant: String,
    id: String,
) -> Result<Option<RevealedToken>, ServerFnError> {
    let ctx = ctx();
    if ctx.cookie(reveal::COOKIE.name).is_none() {
        return Ok(None);
    }
    ctx.enter_tenant_for(&tenant, Resource::Integrations, Action::Read)
        .await?;
    let cookie = reveal::COOKIE.take(&ctx, &reveal::paths(&tenant, &id));
    let Some((token, rotated)) = cookie.and_then(|c| reveal::parse(&c, &id)) else {
        return Ok(None);
    };
    ctx.no_store(); // the page (or answer) holding the token must not be kept by a cache
    Ok(Some(RevealedToken { token, rotated }))
}

/// Ends a form on one integration: like [`super::ctx::Ctx::answer_form`], except that an
/// integration that is gone (deleted meanwhile, e.g. in another tab) sends the person back to the
/// list with the reason, rather than to a bare error page.
#[cfg(feature = "ssr")]
fn answer_integration_form(
    ctx: &super::ctx::Ctx,
    tenant: &str,
    id: &str,
    outcome: super::ctx::FormOutcome,
) -> Result<(), ServerFnError> {
    match outcome {
        Err(AppError::NotFound(message)) => {
            leptos_axum::redirect(&crate::url::url_with_query(
                &list_path(tenant),
                &[("error", &message)],
            ));
            Ok(())
        }
        outcome => ctx.answer_form(&page_path(tenant, id), outcome, &[]),
    }
}

#[cfg(feature = "ssr")]
fn hand_over_token(ctx: &super::ctx::Ctx, tenant: &str, id: &str, token: &str, rotated: bool) {
    let value = reveal::value(id, token, rotated);
    reveal::COOKIE.hand_over(ctx, &value, &reveal::paths(tenant, id));
}

/// Creates an integration (with its service account, `SCIMProvisioner` binding and Secret
/// Token) and opens its page, where the token is shown once. Needs INTEGRATIONS:CREATE.
/// Ends the create form: the new integration's page, where its token is shown once; or the list
/// with the error and what was typed (`keep`).
#[cfg(feature = "ssr")]
fn integration_made(
    ctx: &super::ctx::Ctx,
    tenant: &str,
    made: Result<integrations::Created, AppError>,
    keep: [(&str, &str); 3],
) -> Result<(), ServerFnError> {
    match made {
        Ok(created) => {
            let id = created.integration.id;
            hand_over_token(ctx, tenant, &id, &created.token, false);
            let notice = format!("Integration {} created.", created.integration.name);
            ctx.answer_form(&page_path(tenant, &id), Ok(notice), &[])
        }
        Err(e) => ctx.answer_form(&list_path(tenant), Err(e), &keep),
    }
}

#[server(endpoint = "scim/create")]
pub async fn create_integration(
    tenant: String,
    name: String,
    description: String,
    provisioning_type: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Integrations, Action::Create)
        .await?;
    let state = &ctx.state;
    let (by, base) = (gate.author(&ctx), state.settings.public_base());
    let form = (
        name.as_str(),
        description.as_str(),
        provisioning_type.as_str(),
    );
    let made = integrations::create_from_form(&state.db, &by, base, &tenant, form).await;
    let keep = [("create", "1"), ("name", form.0), ("description", form.1)];
    integration_made(&ctx, &tenant, made, keep)
}

/// What the integration page says after it was enabled or disabled.
#[cfg(feature = "ssr")]
fn enabled_notice(name: &str, enabled: bool) -> String {
    if enabled {
        format!("Integration {name} enabled: its endpoint accepts requests again.")
    } else {
        format!(
            "Integration {name} disabled: its endpoint refuses every request until you enable it."
        )
    }
}

/// Enables (`enabled` = "true") or disables an integration. A disabled integration's endpoint
/// answers 401. Needs INTEGRATIONS:UPDATE.
#[server(endpoint = "scim/enable")]
pub async fn set_integration_enabled(
    tenant: String,
    id: String,
    enabled: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Integrations, Action::Update)
        .await?;
    let (by, enabled) = (gate.author(&ctx), enabled == "true");
    let set = integrations::set_enabled(&ctx.state.db, &by, &tenant, &id, enabled);
    let outcome = set.await.map(|row| enabled_notice(&row.name, enabled));
    answer_integration_form(&ctx, &tenant, &id, outcome)
}

/// Issues a new Secret Token; the old one stops working at once. The new one is shown once on
/// the integration's page. Needs INTEGRATIONS:UPDATE.
#[server(endpoint = "scim/rotate")]
pub async fn rotate_integration_token(tenant: String, id: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Integrations, Action::Update)
        .await?;
    let by = gate.author(&ctx);
    let outcome = integrations::rotate(&ctx.state.db, &by, &tenant, &id, None)
        .await
        .map(|token| {
            hand_over_token(&ctx, &tenant, &id, &token, true);
            "New Secret Token issued; the old one no longer works.".to_string()
        });
    answer_integration_form(&ctx, &tenant, &id, outcome)
}

/// Deletes an integration, its service account and token. The users and groups it provisioned
/// stay. Needs INTEGRATIONS:DELETE.
#[server(endpoint = "scim/delete")]
pub async fn delete_integration(tenant: String, id: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Integrations, Action::Delete)
        .await?;
    let outcome = integrations::delete(&ctx.state.db, &gate.author(&ctx), &tenant, &id)
        .await
        .map(|()| {
            "Integration deleted. The users and groups it provisioned remain; its endpoint and token no longer work."
                .to_string()
        });
    match outcome {
        Ok(notice) => ctx.answer_form(&list_path(&tenant), Ok(notice), &[]),
        gone_or_failed => answer_integration_form(&ctx, &tenant, &id, gone_or_failed),
    }
}
