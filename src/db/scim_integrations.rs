//! SCIM integrations: the per-tenant endpoints IdPs push users and groups into.

use sqlx::Row;

use super::iam::{token_from, GrantRow, TokenRow, TOKEN_COLUMNS};
use super::Conn;
use crate::clock::Millis;
use crate::error::AppResult;
use crate::model::{Action, Resource};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub service_account_id: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COLUMNS: &str =
    "id, tenant_id, name, description, enabled, service_account_id, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<IntegrationRow, sqlx::Error> {
    Ok(IntegrationRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        enabled: super::flag_of(r.try_get("enabled")?),
        service_account_id: r.try_get("service_account_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn insert(conn: &mut Conn, row: &IntegrationRow) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO scim_integrations (id, tenant_id, name, description, enabled, \
         service_account_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&row.id)
    .bind(&row.tenant_id)
    .bind(&row.name)
    .bind(&row.description)
    .bind(super::flag(row.enabled))
    .bind(&row.service_account_id)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The integration `id` of tenant `tenant_id`.
pub async fn find(conn: &mut Conn, tenant_id: &str, id: &str) -> AppResult<Option<IntegrationRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM scim_integrations WHERE tenant_id = $1 AND id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// What authenticating a SCIM request reads, in one query: the integration, its service
/// account's tokens and the permissions bound to that account in the tenant; `None` when the
/// tenant has no such integration.
#[derive(Debug)]
pub struct Credentials {
    pub integration: IntegrationRow,
    pub tokens: Vec<TokenRow>,
    pub grants: Vec<GrantRow>,
}

/// The statement [`credentials`] runs on `backend`: integration `$2` of tenant `$1`.
pub(super) fn credentials_statement(backend: super::Backend) -> String {
    let grants = match backend {
        super::Backend::Sqlite => "json_group_array(json_array(p.resource, p.action, r.name))",
        super::Backend::Postgres => {
            "COALESCE(json_agg(json_build_array(p.resource, p.action, r.name))::text, '[]')"
        }
    };
    format!(
        "SELECT i.id, i.tenant_id, i.name, i.description, i.enabled, i.service_account_id, \
         i.created_at, i.updated_at, {TOKEN_COLUMNS}, \
         (SELECT {grants} FROM bindings b JOIN roles r ON r.id = b.role_id \
          JOIN role_permissions p ON p.role_id = r.id \
          WHERE b.tenant_id = i.tenant_id AND b.subject_type = 'service_account' \
          AND b.subject_id = i.service_account_id) AS grants \
         FROM scim_integrations i \
         LEFT JOIN api_tokens t ON t.service_account_id = i.service_account_id \
         WHERE i.tenant_id = $1 AND i.id = $2"
    )
}

/// [`Credentials`] in one statement: one row per token (one with no token columns when the
/// integration has none), each carrying the integration and, as one JSON text, the permissions
/// bound to its service account (`[[resource, action, role name], …]`). One row instead of one
/// per permission: a request's authentication converts a handful of values, not a dozen rows.
pub async fn credentials(
    conn: &mut Conn,
    tenant_id: &str,
    id: &str,
) -> AppResult<Option<Credentials>> {
    let rows = sqlx::query(&credentials_statement(super::backend_of(conn)))
        .bind(tenant_id)
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let granted: String = first.try_get("grants")?;
    let granted: Vec<(String, String, String)> = serde_json::from_str(&granted)
        .map_err(|e| sqlx::Error::Decode(format!("the integration's permissions: {e}").into()))?;
    let grants = granted
        .into_iter()
        // Text that names no permission grants nothing (as everywhere grants are read).
        .filter_map(|(resource, action, role_name)| {
            let permission = Resource::parse(&resource).zip(Action::parse(&action))?;
            Some(GrantRow {
                permission,
                role_name,
                via_group: None,
            })
        })
        .collect();
    let mut tokens = Vec::with_capacity(rows.len());
    for r in &rows {
        if r.try_get::<Option<String>, _>("token_id")?.is_some() {
            tokens.push(token_from(r)?);
        }
    }
    Ok(Some(Credentials {
        integration: from_row(first)?,
        tokens,
        grants,
    }))
}

pub async fn list(conn: &mut Conn, tenant_id: &str) -> AppResult<Vec<IntegrationRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM scim_integrations WHERE tenant_id = $1 ORDER BY created_at, id"
    ))
    .bind(tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn set_enabled(
    conn: &mut Conn,
    tenant_id: &str,
    id: &str,
    enabled: bool,
    now: Millis,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE scim_integrations SET enabled = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(super::flag(enabled))
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete(conn: &mut Conn, tenant_id: &str, id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM scim_integrations WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An integration with what the SCIM Provisioning page shows beside it: how many users (tenant
/// accesses it is a source of) and groups it manages, and its last request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationSummary {
    pub row: IntegrationRow,
    pub users: i64,
    pub groups: i64,
    pub last_request_at: Option<Millis>,
    pub last_status: Option<i64>,
}

/// The integrations of a tenant (or only integration `id`) with their counts and last request,
/// in one query.
pub async fn summaries(
    conn: &mut Conn,
    tenant_id: &str,
    id: Option<&str>,
) -> AppResult<Vec<IntegrationSummary>> {
    let only_one = if id.is_some() { " AND i.id = $2" } else { "" };
    let sql = format!(
        "SELECT i.id, i.tenant_id, i.name, i.description, i.enabled, i.service_account_id, \
         i.created_at, i.updated_at, \
         (SELECT COUNT(*) FROM tenant_access_sources s \
          WHERE s.source = i.id AND s.tenant_id = i.tenant_id) AS users, \
         (SELECT COUNT(*) FROM groups g \
          WHERE g.tenant_id = i.tenant_id AND g.managed_by = i.id) AS managed_groups, \
         (SELECT MAX(l.at) FROM scim_request_log l WHERE l.integration_id = i.id) AS last_at, \
         (SELECT l.status FROM scim_request_log l WHERE l.integration_id = i.id \
          ORDER BY l.at DESC LIMIT 1) AS last_status \
         FROM scim_integrations i WHERE i.tenant_id = $1{only_one} ORDER BY i.created_at, i.id"
    );
    let mut query = sqlx::query(&sql).bind(tenant_id);
    if let Some(id) = id {
        query = query.bind(id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(IntegrationSummary {
                row: from_row(r)?,
                users: r.try_get("users")?,
                groups: r.try_get("managed_groups")?,
                last_request_at: r.try_get("last_at")?,
                last_status: r.try_get("last_status")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Whether an integration with this id exists (in any tenant).
pub async fn exists_anywhere(conn: &mut Conn, id: &str) -> AppResult<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM scim_integrations WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}
