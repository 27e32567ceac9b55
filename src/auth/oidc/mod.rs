//! Single sign-on with OpenID Connect: the instance-wide list of providers (this file) and the
//! sign-in flow (`flow`). Providers are managed by superadmins (CLI now, admin UI later); the
//! client secret is sealed with `ROSTER_SECRET_KEY` and never shown again.

pub mod flow;

use crate::clock::{Clock, Millis};
use crate::config::{Settings, SECRET_KEY_FIX};
use crate::db::{self, oidc::ProviderRow, Db};
use crate::error::{AppError, AppResult};
use crate::secret::{Secret, SecretKey};

pub use flow::OidcRuntime;

/// The claim that identifies a person the first time they sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserClaim {
    /// Matched against the users' email addresses.
    Email,
    /// Matched against usernames.
    PreferredUsername,
    /// The provider's subject, matched against usernames.
    Sub,
}

impl UserClaim {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "email" => Ok(Self::Email),
            "preferred_username" => Ok(Self::PreferredUsername),
            "sub" => Ok(Self::Sub),
            other => Err(format!(
                "`{other}` is not a claim Roster matches users by; use email, preferred_username or sub"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::PreferredUsername => "preferred_username",
            Self::Sub => "sub",
        }
    }
}

/// A provider as an operator describes it.
pub struct NewProvider {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub scopes: Option<String>,
    pub user_claim: UserClaim,
    pub create_users: bool,
}

/// A provider as shown: everything but the secret, plus the redirect URI to register.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub scopes: String,
    pub claim: String,
    pub create_users: bool,
    pub redirect_uri: String,
    pub created: String,
}

pub const DEFAULT_SCOPES: &str = "openid email profile";

/// `{ROSTER_PUBLIC_URL}/auth/oidc/{id}/callback`: what to register at the provider.
pub fn redirect_uri(settings: &Settings, provider_id: &str) -> String {
    format!(
        "{}/auth/oidc/{provider_id}/callback",
        settings.public_base()
    )
}

pub fn view(settings: &Settings, p: &ProviderRow) -> ProviderView {
    ProviderView {
        id: p.id.clone(),
        name: p.name.clone(),
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        scopes: p.scopes.clone(),
        claim: p.user_claim.clone(),
        create_users: p.create_users,
        redirect_uri: redirect_uri(settings, &p.id),
        created: crate::clock::rfc3339(p.created_at),
    }
}

/// Checks an issuer URL: https, or http only on loopback (for tests and local providers).
pub fn check_issuer(issuer: &str) -> Result<(), String> {
    let url = url::Url::parse(issuer).map_err(|_| format!("`{issuer}` is not a URL"))?;
    let loopback = matches!(
        url.host_str(),
        Some("localhost") | Some("127.0.0.1") | Some("[::1]")
    );
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("the issuer URL must use https".into()),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the issuer URL has no query or fragment".into());
    }
    Ok(())
}

/// The scopes to ask for: the operator's, always with `openid`, space-separated.
pub fn normalize_scopes(scopes: Option<&str>) -> Result<String, String> {
    let text = scopes
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_SCOPES);
    let mut out: Vec<&str> = vec!["openid"];
    for scope in text.split_whitespace() {
        if !scope
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        {
            return Err(format!("`{scope}` is not a valid scope"));
        }
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    Ok(out.join(" "))
}

fn require_key(settings: &Settings) -> AppResult<&SecretKey> {
    settings.secret_key.as_ref().ok_or_else(|| {
        AppError::invalid(
            "client_secret",
            format!(
                "ROSTER_SECRET_KEY is not set, so the client secret cannot be stored encrypted. {SECRET_KEY_FIX}"
            ),
        )
    })
}

pub async fn add_provider(
    db: &Db,
    clock: &dyn Clock,
    settings: &Settings,
    new: NewProvider,
) -> AppResult<ProviderRow> {
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "Give the provider a name of 1 to 60 characters; people see it on the sign-in button.",
        ));
    }
    let issuer = new.issuer.trim().to_string();
    check_issuer(&issuer).map_err(|m| AppError::invalid("issuer", m))?;
    let client_id = new.client_id.trim().to_string();
    if client_id.is_empty() {
        return Err(AppError::invalid("client_id", "Enter the client id."));
    }
    if new.client_secret.expose().is_empty() {
        return Err(AppError::invalid(
            "client_secret",
            "Enter the client secret.",
        ));
    }
    let scopes =
        normalize_scopes(new.scopes.as_deref()).map_err(|m| AppError::invalid("scopes", m))?;
    let key = require_key(settings)?;
    let id = db::new_id();
    let sealed = key
        .seal(&new.client_secret, &id)
        .map_err(AppError::Internal)?;
    let row = ProviderRow {
        id,
        name,
        issuer,
        client_id,
        client_secret_enc: sealed,
        scopes,
        user_claim: new.user_claim.as_str().to_string(),
        create_users: new.create_users,
        created_at: clock.now_millis(),
    };
    let mut conn = db.acquire().await?;
    db::oidc::insert_provider(&mut conn, &row).await?;
    Ok(row)
}

/// Ties a provider to the SCIM integrations (by id, in any tenant) whose `externalId` values
/// its `sub` may match, replacing the previous list (empty: none, the default). Only a
/// superadmin or the operator may (the caller checks).
pub async fn trust_integrations(
    db: &Db,
    provider_id: &str,
    integration_ids: &[String],
) -> AppResult<Vec<String>> {
    let mut tx = db.begin_write().await?;
    if db::oidc::find_provider(&mut tx, provider_id)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound(format!(
            "No OpenID provider has the id `{provider_id}`."
        )));
    }
    let mut ids: Vec<String> = integration_ids
        .iter()
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty())
        .collect();
    ids.sort();
    ids.dedup();
    for id in &ids {
        if !db::scim_integrations::exists_anywhere(&mut tx, id).await? {
            return Err(AppError::invalid(
                "integrations",
                format!("No SCIM integration has the id `{id}`."),
            ));
        }
    }
    db::oidc::set_trusted_integrations(&mut tx, provider_id, &ids).await?;
    tx.commit().await?;
    Ok(ids)
}

/// The SCIM integrations a provider trusts for `sub` matching.
pub async fn trusted_integrations(db: &Db, provider_id: &str) -> AppResult<Vec<String>> {
    let mut conn = db.acquire().await?;
    db::oidc::trusted_integrations(&mut conn, provider_id).await
}

pub async fn list_providers(db: &Db) -> AppResult<Vec<ProviderRow>> {
    let mut conn = db.acquire().await?;
    db::oidc::list_providers(&mut conn).await
}

pub async fn delete_provider(db: &Db, id: &str) -> AppResult<()> {
    let mut conn = db.acquire().await?;
    if db::oidc::delete_provider(&mut conn, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "No OpenID provider has the id `{id}`."
        )))
    }
}

/// Start-up check: when providers exist, `ROSTER_SECRET_KEY` must be set and open every stored
/// client secret. The error names the setting and the fix.
pub async fn check_secret_key(db: &Db, settings: &Settings) -> Result<(), String> {
    let providers = list_providers(db).await.map_err(|e| e.to_string())?;
    if providers.is_empty() {
        return Ok(());
    }
    let Some(key) = &settings.secret_key else {
        return Err(format!(
            "ROSTER_SECRET_KEY: it is missing, but {} OpenID provider(s) have client secrets encrypted with it. \
             Set it to the key used when they were added (or delete and re-add the providers with `roster oidc`).",
            providers.len()
        ));
    };
    for p in &providers {
        if let Err(problem) = key.open(&p.client_secret_enc, &p.id) {
            return Err(format!(
                "ROSTER_SECRET_KEY: the client secret of OpenID provider `{}` ({}) cannot be read: {problem}. \
                 Set the key that was used when it was added, or re-add the provider with `roster oidc`.",
                p.name, p.id
            ));
        }
    }
    Ok(())
}

/// The provider's client secret, opened with the configured key.
pub(crate) fn client_secret(settings: &Settings, p: &ProviderRow) -> Result<Secret, String> {
    let key = settings
        .secret_key
        .as_ref()
        .ok_or_else(|| "ROSTER_SECRET_KEY is not set".to_string())?;
    key.open(&p.client_secret_enc, &p.id)
        .map_err(|e| format!("ROSTER_SECRET_KEY cannot open the client secret: {e}"))
}

/// Sign-ins in progress expire this long after they start.
pub const PENDING_TTL_MILLIS: Millis = 10 * 60 * 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_always_include_openid_once() {
        assert_eq!(normalize_scopes(None).unwrap(), "openid email profile");
        assert_eq!(
            normalize_scopes(Some("email openid  groups")).unwrap(),
            "openid email groups"
        );
        assert!(normalize_scopes(Some("a\"b")).is_err());
    }

    #[test]
    fn issuers_need_https_except_on_loopback() {
        assert!(check_issuer("https://auth.example.com/application/o/roster/").is_ok());
        assert!(check_issuer("http://127.0.0.1:9000").is_ok());
        assert!(check_issuer("http://auth.example.com").is_err());
        assert!(check_issuer("auth.example.com").is_err());
    }

    #[test]
    fn claims_parse_by_their_oidc_names() {
        assert_eq!(UserClaim::parse("email").unwrap(), UserClaim::Email);
        assert_eq!(UserClaim::parse("sub").unwrap().as_str(), "sub");
        assert!(UserClaim::parse("upn").is_err());
    }
}
