//! Instance → Sign-in providers: the OpenID Connect providers people sign in through
//! (superadmins only). The client secret goes in once and is never sent back.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::ctx::{ctx, Ctx},
    crate::auth::oidc,
    crate::db::users::UserRow,
    crate::error::AppError,
    crate::secret::Secret,
};

/// A provider as the page shows it: everything but the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSummary {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub scopes: String,
    pub claim: String,
    pub create_users: bool,
    /// What to register at the provider as the redirect (callback) URI.
    pub redirect_uri: String,
    pub created_at: String,
}

/// The providers, and how a new provider's redirect URI will look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvidersPage {
    pub providers: Vec<ProviderSummary>,
    /// `{ROSTER_PUBLIC_URL}/auth/oidc/<id>/callback`, with `<id>` as a placeholder.
    pub redirect_uri_pattern: String,
    /// False when `ROSTER_SECRET_KEY` is not set (secrets cannot be stored, so adding fails).
    pub can_store_secrets: bool,
}

pub const PAGE: &str = "/instance/oidc";

#[cfg(feature = "ssr")]
async fn require_superadmin(ctx: &Ctx) -> Result<UserRow, ServerFnError> {
    let user = ctx.require_user().await?;
    if user.is_superadmin {
        Ok(user)
    } else {
        Err(ctx.fail(AppError::Forbidden(
            "Only superadmins manage sign-in providers.".into(),
        )))
    }
}

#[cfg(feature = "ssr")]
fn providers_page(
    settings: &crate::config::Settings,
    rows: &[crate::db::oidc::ProviderRow],
) -> ProvidersPage {
    let providers = rows
        .iter()
        .map(|row| {
            let v = oidc::view(settings, row);
            ProviderSummary {
                id: v.id,
                name: v.name,
                issuer: v.issuer,
                client_id: v.client_id,
                scopes: v.scopes,
                claim: v.claim,
                create_users: v.create_users,
                redirect_uri: v.redirect_uri,
                created_at: v.created,
            }
        })
        .collect();
    ProvidersPage {
        providers,
        redirect_uri_pattern: oidc::redirect_uri(settings, "<id>"),
        can_store_secrets: settings.secret_key.is_some(),
    }
}

#[server(endpoint = "oidc/list")]
pub async fn list_providers() -> Result<ProvidersPage, ServerFnError> {
    let ctx = ctx();
    require_superadmin(&ctx).await?;
    let rows = oidc::list_providers(&ctx.state.db)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(providers_page(&ctx.state.settings, &rows))
}

/// What the Add provider form sends (the secret as typed, once).
#[cfg(feature = "ssr")]
struct ProviderForm {
    name: String,
    issuer: String,
    client_id: String,
    client_secret: Secret,
    scopes: String,
    claim: String,
    create_users: bool,
}

#[cfg(feature = "ssr")]
impl ProviderForm {
    /// What goes back into the form after an error (never the secret).
    fn keep(&self) -> [(&str, &str); 5] {
        [
            ("name", &self.name),
            ("issuer", &self.issuer),
            ("client_id", &self.client_id),
            ("scopes", &self.scopes),
            ("claim", &self.claim),
        ]
    }

    /// Adds the provider; the notice names the redirect URI to register at the provider.
    async fn add(&self, state: &crate::state::AppState) -> super::ctx::FormOutcome {
        let user_claim =
            oidc::UserClaim::parse(&self.claim).map_err(|m| AppError::invalid("claim", m))?;
        let new = oidc::NewProvider {
            name: self.name.clone(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            scopes: Some(self.scopes.clone()),
            user_claim,
            create_users: self.create_users,
        };
        let row = oidc::add_provider(&state.db, state.clock.as_ref(), &state.settings, new).await?;
        Ok(format!(
            "Provider {} added. Register its redirect URI at the provider: {}",
            row.name,
            oidc::redirect_uri(&state.settings, &row.id)
        ))
    }
}

#[server(endpoint = "oidc/add")]
pub async fn add_provider(
    name: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: String,
    claim: String,
    create_users: Option<String>,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    require_superadmin(&ctx).await?;
    let client_secret = Secret::new(client_secret);
    let create_users = create_users.is_some();
    let form = ProviderForm {
        name,
        issuer,
        client_id,
        client_secret,
        scopes,
        claim,
        create_users,
    };
    ctx.answer_form(PAGE, form.add(&ctx.state).await, &form.keep())
}

#[server(endpoint = "oidc/delete")]
pub async fn delete_provider(id: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    require_superadmin(&ctx).await?;
    let outcome = oidc::delete_provider(&ctx.state.db, &id)
        .await
        .map(|()| "Provider deleted. Its sign-in button is gone; people linked through it keep their accounts.".to_string());
    ctx.answer_form(PAGE, outcome, &[])
}
