//! SCIM integrations: creating one (with the tenant's `SCIMProvisioner` role, a service account
//! bound to it and a Secret Token shown once), enabling, disabling, deleting, rotating the token,
//! and authenticating a request to an integration's endpoint.

use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::auth::random;
use crate::auth::session::hash_token;
use crate::clock::Millis;
use crate::db::credential_cache::CredentialCache;
use crate::db::iam::TokenRow;
use crate::db::scim_integrations::IntegrationRow;
use crate::db::{self, Conn, Db};
use crate::error::{AppError, AppResult};
use crate::iam::audit::{self, Author, Change};
use crate::iam::permissions::{self, Action, Resource};
use crate::model::IntegrationName;
use crate::scim::ScimError;

/// Length of an integration id (like `zIRjRAMGvkammpeLVuyJl`).
pub const ID_LEN: usize = 21;
/// Random bytes in a Secret Token: 150 bytes are 200 URL-safe base64 characters.
const TOKEN_BYTES: usize = 150;
/// A token's "last used" time is kept to this precision (one minute).
const LAST_USED_RESOLUTION_MILLIS: Millis = 60_000;
/// Characters of a token kept in clear to recognise it.
const PREFIX_LEN: usize = 8;

/// A new integration and its Secret Token (only ever returned here and by [`rotate`]).
#[derive(Debug)]
pub struct Created {
    pub integration: IntegrationRow,
    pub endpoint: String,
    pub token: String,
}

fn new_integration_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    random::string_from(ALPHABET, ID_LEN)
}

/// A new random API token (URL-safe, about 200 characters) and its row: prefix in clear, SHA-256
/// hash, no expiry. The one token generator: integrations and service-account tokens use it.
pub fn new_token(now: Millis, name: &str) -> (String, TokenRow) {
    let token = random::url_safe_token(TOKEN_BYTES);
    let row = TokenRow {
        id: db::new_id(),
        name: name.into(),
        prefix: token[..PREFIX_LEN].to_string(),
        token_hash: hash_token(&token),
        created_at: now,
        expires_at: None,
        last_used_at: None,
    };
    (token, row)
}

/// The endpoint URL of an integration.
pub fn endpoint(public_base: &str, tenant_id: &str, id: &str) -> String {
    format!(
        "{}/api/v1/{tenant_id}/integrations/{id}/scim/v2",
        public_base.trim_end_matches('/')
    )
}

/// Creates an enabled integration from the admin UI's form: `(name, description, provisioning
/// type)`; the type must be SCIM 2.0, the only one there is.
pub async fn create_from_form(
    db: &Db,
    by: &Author,
    public_base: &str,
    tenant_id: &str,
    (name, description, provisioning_type): (&str, &str, &str),
) -> AppResult<Created> {
    if provisioning_type != crate::model::SCIM_2_0 {
        return Err(AppError::invalid(
            "provisioning_type",
            "Choose SCIM 2.0, the only provisioning type there is.",
        ));
    }
    create(db, by, public_base, tenant_id, name, description, true).await
}

pub async fn create(
    db: &Db,
    by: &Author,
    public_base: &str,
    tenant_id: &str,
    name: &str,
    description: &str,
    enabled: bool,
) -> AppResult<Created> {
    let name = IntegrationName::parse(name).map_err(|m| AppError::invalid("name", m))?;
    let now = by.at();
    let mut tx = db.begin_write().await?;
    if db::tenants::find(&mut tx, tenant_id).await?.is_none() {
        return Err(AppError::NotFound(format!(
            "There is no tenant `{tenant_id}`."
        )));
    }
    let role =
        permissions::ensure_managed_role(&mut tx, tenant_id, permissions::SCIM_PROVISIONER, now)
            .await?;
    let id = new_integration_id();
    let sa_id = db::new_id();
    db::iam::insert_service_account(
        &mut tx,
        &sa_id,
        tenant_id,
        &format!("scim-{}", id.to_lowercase()),
        &format!("SCIM integration {name}"),
        now,
    )
    .await?;
    db::iam::insert_binding(&mut tx, tenant_id, &role.id, "service_account", &sa_id, now).await?;
    let (token, token_row) = new_token(now, "Secret Token");
    db::iam::insert_token(&mut tx, &sa_id, &token_row).await?;
    let integration = IntegrationRow {
        id: id.clone(),
        tenant_id: tenant_id.into(),
        name: name.into(),
        description: description.trim().into(),
        enabled,
        service_account_id: sa_id,
        created_at: now,
        updated_at: now,
    };
    db::scim_integrations::insert(&mut tx, &integration).await?;
    let event = Change::IntegrationCreated.on(&integration.id, &integration.name);
    let state = if enabled { "Enabled." } else { "Disabled." };
    audit::record(&mut tx, tenant_id, by, event.detail(state)).await?;
    tx.commit().await?;
    Ok(Created {
        endpoint: endpoint(public_base, tenant_id, &id),
        integration,
        token,
    })
}

/// A grace period as people read it: "90 seconds", "15 minutes".
fn grace_text(millis: i64) -> String {
    match millis / 1000 {
        1 => "1 second".into(),
        s if s % 60 != 0 => format!("{s} seconds"),
        60 => "1 minute".into(),
        s => format!("{} minutes", s / 60),
    }
}

async fn require(conn: &mut Conn, tenant_id: &str, id: &str) -> AppResult<IntegrationRow> {
    db::scim_integrations::find(conn, tenant_id, id)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "Tenant `{tenant_id}` has no SCIM integration `{id}`."
            ))
        })
}

pub async fn set_enabled(
    db: &Db,
    by: &Author,
    tenant_id: &str,
    id: &str,
    enabled: bool,
) -> AppResult<IntegrationRow> {
    let mut tx = db.begin_write().await?;
    let was = require(&mut tx, tenant_id, id).await?;
    db::scim_integrations::set_enabled(&mut tx, tenant_id, id, enabled, by.at()).await?;
    let row = require(&mut tx, tenant_id, id).await?;
    if was.enabled != enabled {
        let change = match enabled {
            true => Change::IntegrationEnabled,
            false => Change::IntegrationDisabled,
        };
        audit::record(&mut tx, tenant_id, by, change.on(&row.id, &row.name)).await?;
    }
    tx.commit().await?;
    Ok(row)
}

/// Deletes the integration and its service account (revoking the token). The users and groups it
/// provisioned stay.
pub async fn delete(db: &Db, by: &Author, tenant_id: &str, id: &str) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    let row = require(&mut tx, tenant_id, id).await?;
    db::scim_integrations::delete(&mut tx, tenant_id, id).await?;
    db::iam::delete_bindings_of(
        &mut tx,
        tenant_id,
        "service_account",
        &row.service_account_id,
    )
    .await?;
    db::iam::delete_service_account(&mut tx, &row.service_account_id).await?;
    let event = Change::IntegrationDeleted.on(&row.id, &row.name);
    let detail = "Its token no longer works; the users and groups it provisioned stay.";
    audit::record(&mut tx, tenant_id, by, event.detail(detail)).await?;
    tx.commit().await?;
    Ok(())
}

/// Issues a new Secret Token. The old one stops working after `grace_millis` (now, when `None`
/// or 0).
pub async fn rotate(
    db: &Db,
    by: &Author,
    tenant_id: &str,
    id: &str,
    grace_millis: Option<i64>,
) -> AppResult<String> {
    let now = by.at();
    let mut tx = db.begin_write().await?;
    let row = require(&mut tx, tenant_id, id).await?;
    let until = grace_millis.filter(|g| *g > 0).map(|g| now + g);
    db::iam::expire_tokens(&mut tx, &row.service_account_id, until).await?;
    let (token, token_row) = new_token(now, "Secret Token");
    db::iam::insert_token(&mut tx, &row.service_account_id, &token_row).await?;
    let detail = match until {
        None => "The old token stopped working at once.".to_string(),
        Some(_) => format!(
            "The old token keeps working for {} more.",
            grace_text(grace_millis.unwrap_or(0))
        ),
    };
    let event = Change::TokenRotated.on(&row.id, &row.name);
    audit::record(&mut tx, tenant_id, by, event.detail(detail)).await?;
    tx.commit().await?;
    Ok(token)
}

pub async fn list(db: &Db, tenant_id: &str) -> AppResult<Vec<IntegrationRow>> {
    let mut conn = db.acquire().await?;
    db::scim_integrations::list(&mut conn, tenant_id).await
}

/// The integrations of a tenant with how many users and groups each manages and its last
/// request (the SCIM Provisioning page).
pub async fn summaries(
    db: &Db,
    tenant_id: &str,
) -> AppResult<Vec<db::scim_integrations::IntegrationSummary>> {
    db.flush_log().await;
    let mut conn = db.acquire().await?;
    db::scim_integrations::summaries(&mut conn, tenant_id, None).await
}

/// One integration's page: its summary, the id of the tenant's `SCIMProvisioner` role (what its
/// service account is bound to) and its newest log entries (only failures when `failed_only`).
pub struct Details {
    pub summary: db::scim_integrations::IntegrationSummary,
    pub provisioner_role_id: Option<String>,
    pub log: Vec<db::scim_log::LogEntry>,
}

pub async fn details(
    db: &Db,
    tenant_id: &str,
    id: &str,
    failed_only: bool,
    limit: i64,
) -> AppResult<Details> {
    db.flush_log().await;
    let mut conn = db.acquire().await?;
    let summary = db::scim_integrations::summaries(&mut conn, tenant_id, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "Tenant `{tenant_id}` has no SCIM integration `{id}`."
            ))
        })?;
    let provisioner_role_id =
        db::iam::find_managed_role(&mut conn, tenant_id, permissions::SCIM_PROVISIONER)
            .await?
            .map(|r| r.id);
    let log = db::scim_log::list_where(&mut conn, id, failed_only, limit).await?;
    Ok(Details {
        summary,
        provisioner_role_id,
        log,
    })
}

pub async fn log(
    db: &Db,
    tenant_id: &str,
    id: &str,
    limit: i64,
) -> AppResult<Vec<db::scim_log::LogEntry>> {
    db.flush_log().await;
    let mut conn = db.acquire().await?;
    require(&mut conn, tenant_id, id).await?;
    db::scim_log::list(&mut conn, id, limit).await
}

/// A request that proved it may speak for an integration.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The integration, its tokens and the grants of its service account, as cached: shared,
    /// not copied per request.
    credentials: Arc<db::scim_integrations::Credentials>,
    /// The token it presented, when that token's last-use stamp is due to be rewritten.
    pub token_used: Option<String>,
}

impl Caller {
    /// The integration's name (as cached with its credentials).
    pub fn integration_name(&self) -> &str {
        &self.credentials.integration.name
    }

    /// 403 unless the integration's roles allow `action` on `resource`.
    pub fn require(&self, resource: Resource, action: Action) -> Result<(), ScimError> {
        let wanted = (resource, action);
        if self
            .credentials
            .grants
            .iter()
            .any(|g| g.permission == wanted)
        {
            Ok(())
        } else {
            Err(ScimError::Forbidden(format!(
                "this integration's roles do not grant {resource}:{action}"
            )))
        }
    }
}

/// Bearer token → service account → integration. The token must belong to the integration named
/// in the URL; hashes are compared in constant time. The credentials come from `cache` while
/// they are exact there ([`CredentialCache`]).
pub async fn authenticate(
    conn: &mut Conn,
    cache: &CredentialCache,
    now: Millis,
    tenant_id: &str,
    integration_id: &str,
    bearer: Option<&str>,
) -> Result<Caller, ScimError> {
    let internal = ScimError::from;
    let credentials = cache
        .credentials(conn, tenant_id, integration_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ScimError::NotFound("there is no such SCIM integration".into()))?;
    let db::scim_integrations::Credentials {
        integration,
        tokens,
        ..
    } = &*credentials;
    let Some(bearer) = bearer.filter(|b| !b.is_empty()) else {
        return Err(ScimError::Unauthorized(
            "send the integration's Secret Token as `Authorization: Bearer <token>`".into(),
        ));
    };
    let presented = hash_token(bearer);
    let mut found: Option<&TokenRow> = None;
    for t in tokens {
        if bool::from(t.token_hash.as_bytes().ct_eq(presented.as_bytes())) {
            found = Some(t);
        }
    }
    let Some(token) = found else {
        return Err(ScimError::Unauthorized(
            "the bearer token is not valid for this integration".into(),
        ));
    };
    if token.expires_at.is_some_and(|e| e <= now) {
        return Err(ScimError::Unauthorized(
            "the bearer token has expired; use the integration's current Secret Token".into(),
        ));
    }
    if !integration.enabled {
        return Err(ScimError::Unauthorized(
            "this SCIM integration is disabled; enable it in Roster to resume provisioning".into(),
        ));
    }
    // Recorded to the minute, by the request log's writer (the request itself writes nothing):
    // a fresh stamp is not rewritten, so parallel requests do not all update the token's row.
    let token_used = token
        .last_used_at
        .is_none_or(|used| now - used >= LAST_USED_RESOLUTION_MILLIS)
        .then(|| token.id.clone());
    Ok(Caller {
        credentials: Arc::clone(&credentials),
        token_used,
    })
}
