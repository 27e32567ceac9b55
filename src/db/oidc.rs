//! OpenID Connect storage: providers, sign-ins in progress, identity links and the sessions
//! that came from a provider.

use sqlx::Row;

use super::Conn;
use crate::clock::Millis;
use crate::error::{AppError, AppResult, UniqueOr};

#[derive(Debug, Clone)]
pub struct ProviderRow {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    /// Encrypted; see `secret::SecretKey`.
    pub client_secret_enc: String,
    pub scopes: String,
    pub user_claim: String,
    pub create_users: bool,
    pub created_at: Millis,
}

const PROVIDER_COLUMNS: &str =
    "id, name, issuer, client_id, client_secret_enc, scopes, user_claim, create_users, created_at";

fn provider_from_row(row: &sqlx::any::AnyRow) -> Result<ProviderRow, sqlx::Error> {
    Ok(ProviderRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        issuer: row.try_get("issuer")?,
        client_id: row.try_get("client_id")?,
        client_secret_enc: row.try_get("client_secret_enc")?,
        scopes: row.try_get("scopes")?,
        user_claim: row.try_get("user_claim")?,
        create_users: super::flag_of(row.try_get("create_users")?),
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_provider(conn: &mut Conn, p: &ProviderRow) -> AppResult<()> {
    let result = sqlx::query(
        "INSERT INTO oidc_providers (id, name, name_lower, issuer, client_id, client_secret_enc, \
         scopes, user_claim, create_users, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&p.id)
    .bind(&p.name)
    .bind(p.name.to_lowercase())
    .bind(&p.issuer)
    .bind(&p.client_id)
    .bind(&p.client_secret_enc)
    .bind(&p.scopes)
    .bind(&p.user_claim)
    .bind(super::flag(p.create_users))
    .bind(p.created_at)
    .execute(&mut *conn)
    .await;
    result.map(|_| ()).unique_or(|| {
        AppError::invalid(
            "name",
            format!("A provider named `{}` already exists.", p.name),
        )
    })
}

pub async fn list_providers(conn: &mut Conn) -> AppResult<Vec<ProviderRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {PROVIDER_COLUMNS} FROM oidc_providers ORDER BY name_lower"
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(provider_from_row)
        .collect::<Result<_, _>>()?)
}

pub async fn find_provider(conn: &mut Conn, id: &str) -> AppResult<Option<ProviderRow>> {
    let row = sqlx::query(&format!(
        "SELECT {PROVIDER_COLUMNS} FROM oidc_providers WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(provider_from_row).transpose()?)
}

/// True when a provider was deleted.
pub async fn delete_provider(conn: &mut Conn, id: &str) -> AppResult<bool> {
    let done = sqlx::query("DELETE FROM oidc_providers WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub state_hash: String,
    pub provider_id: String,
    pub browser_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

pub async fn insert_pending(conn: &mut Conn, p: &PendingLogin) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO oidc_pending_logins (state_hash, provider_id, browser_hash, nonce, \
         pkce_verifier, next_path, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&p.state_hash)
    .bind(&p.provider_id)
    .bind(&p.browser_hash)
    .bind(&p.nonce)
    .bind(&p.pkce_verifier)
    .bind(&p.next_path)
    .bind(p.created_at)
    .bind(p.expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes and returns the sign-in in progress with this state hash: each state works once.
pub async fn take_pending(conn: &mut Conn, state_hash: &str) -> AppResult<Option<PendingLogin>> {
    let row = sqlx::query(
        "SELECT state_hash, provider_id, browser_hash, nonce, pkce_verifier, next_path, \
         created_at, expires_at FROM oidc_pending_logins WHERE state_hash = $1",
    )
    .bind(state_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let done = sqlx::query("DELETE FROM oidc_pending_logins WHERE state_hash = $1")
        .bind(state_hash)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() != 1 {
        // Another request consumed it between our two statements.
        return Ok(None);
    }
    Ok(Some(PendingLogin {
        state_hash: row.try_get("state_hash")?,
        provider_id: row.try_get("provider_id")?,
        browser_hash: row.try_get("browser_hash")?,
        nonce: row.try_get("nonce")?,
        pkce_verifier: row.try_get("pkce_verifier")?,
        next_path: row.try_get("next_path")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    }))
}

pub async fn delete_expired_pending(conn: &mut Conn, now: Millis) -> AppResult<u64> {
    let done = sqlx::query("DELETE FROM oidc_pending_logins WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// The user an identity is linked to, if any.
pub async fn linked_user(
    conn: &mut Conn,
    issuer: &str,
    subject: &str,
) -> AppResult<Option<String>> {
    let row = sqlx::query("SELECT user_id FROM oidc_identities WHERE issuer = $1 AND subject = $2")
        .bind(issuer)
        .bind(subject)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.try_get("user_id")).transpose()?)
}

/// The subject this user is linked to at `issuer`, if any.
pub async fn subject_of_user(
    conn: &mut Conn,
    issuer: &str,
    user_id: &str,
) -> AppResult<Option<String>> {
    let row = sqlx::query("SELECT subject FROM oidc_identities WHERE issuer = $1 AND user_id = $2")
        .bind(issuer)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.try_get("subject")).transpose()?)
}

/// The names of the providers whose identities are linked to `user_id`, in name order.
pub async fn providers_linked_to(conn: &mut Conn, user_id: &str) -> AppResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT p.name FROM oidc_identities i \
         JOIN oidc_providers p ON p.issuer = i.issuer \
         WHERE i.user_id = $1 ORDER BY p.name",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get("name"))
        .collect::<Result<_, _>>()?)
}

pub async fn insert_link(
    conn: &mut Conn,
    issuer: &str,
    subject: &str,
    user_id: &str,
    now: Millis,
) -> AppResult<()> {
    let result = sqlx::query(
        "INSERT INTO oidc_identities (issuer, subject, user_id, created_at, last_login_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(issuer)
    .bind(subject)
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await;
    result.map(|_| ()).unique_or(|| {
        AppError::Conflict(
            "This account is already linked to another identity at this provider.".into(),
        )
    })
}

pub async fn touch_link(
    conn: &mut Conn,
    issuer: &str,
    subject: &str,
    now: Millis,
) -> AppResult<()> {
    sqlx::query("UPDATE oidc_identities SET last_login_at = $3 WHERE issuer = $1 AND subject = $2")
        .bind(issuer)
        .bind(subject)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Users whose `claim` (`email` or `preferred_username`, matched against the username) equals
/// `value`, case-insensitively; at most two, so callers can tell "exactly one" apart.
pub async fn users_matching(
    conn: &mut Conn,
    claim: &str,
    value: &str,
) -> AppResult<Vec<super::users::UserRow>> {
    let column = match claim {
        "email" => "email_lower",
        _ => "username_lower",
    };
    let rows = sqlx::query(&format!(
        "SELECT id, username, email, display_name, password_hash, is_superadmin, active \
         FROM users WHERE {column} = $1 LIMIT 2"
    ))
    .bind(value.trim().to_lowercase())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(super::users::from_row)
        .collect::<Result<_, _>>()?)
}

/// Users to whom one of the SCIM integrations the provider trusts gave `externalId` = `subject`
/// (exactly); at most two. Nothing else matches a subject: an `externalId` written by any other
/// integration, or a username, proves nothing about who signs in.
pub async fn users_matching_subject(
    conn: &mut Conn,
    provider_id: &str,
    subject: &str,
) -> AppResult<Vec<super::users::UserRow>> {
    let rows = sqlx::query(
        "SELECT id, username, email, display_name, password_hash, is_superadmin, active FROM users \
         WHERE id IN (SELECT s.user_id FROM tenant_access_sources s \
             JOIN oidc_provider_integrations t ON t.integration_id = s.source \
             WHERE t.provider_id = $1 AND s.external_id = $2) \
         LIMIT 2",
    )
    .bind(provider_id)
    .bind(subject)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(super::users::from_row)
        .collect::<Result<_, _>>()?)
}

/// The SCIM integrations whose externalIds a provider trusts for `sub` matching.
pub async fn trusted_integrations(conn: &mut Conn, provider_id: &str) -> AppResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT integration_id FROM oidc_provider_integrations WHERE provider_id = $1 \
         ORDER BY integration_id",
    )
    .bind(provider_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get("integration_id"))
        .collect::<Result<_, _>>()?)
}

/// Replaces the integrations a provider trusts.
pub async fn set_trusted_integrations(
    conn: &mut Conn,
    provider_id: &str,
    integration_ids: &[String],
) -> AppResult<()> {
    sqlx::query("DELETE FROM oidc_provider_integrations WHERE provider_id = $1")
        .bind(provider_id)
        .execute(&mut *conn)
        .await?;
    for id in integration_ids {
        sqlx::query(
            "INSERT INTO oidc_provider_integrations (provider_id, integration_id) VALUES ($1, $2) \
             ON CONFLICT (provider_id, integration_id) DO NOTHING",
        )
        .bind(provider_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn insert_session(
    conn: &mut Conn,
    session_hash: &str,
    provider_id: &str,
    id_token: &str,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO oidc_sessions (session_hash, provider_id, id_token) VALUES ($1, $2, $3)",
    )
    .bind(session_hash)
    .bind(provider_id)
    .bind(id_token)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The provider and ID token of a session that began at a provider.
pub async fn find_session(
    conn: &mut Conn,
    session_hash: &str,
) -> AppResult<Option<(String, String)>> {
    let row =
        sqlx::query("SELECT provider_id, id_token FROM oidc_sessions WHERE session_hash = $1")
            .bind(session_hash)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row
        .map(|r| -> Result<_, sqlx::Error> {
            Ok((r.try_get("provider_id")?, r.try_get("id_token")?))
        })
        .transpose()?)
}
