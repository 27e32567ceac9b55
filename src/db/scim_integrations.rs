//! SCIM integrations: the per-tenant endpoints IdPs push users and groups into.

use sqlx::Row;

use super::Conn;
use crate::clock::Millis;
use crate::error::AppResult;

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
