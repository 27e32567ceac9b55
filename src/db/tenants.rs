//! Tenants and who may enter them.

use sqlx::Row;

use super::Conn;
use crate::clock::Millis;
use crate::error::{AppError, AppResult, UniqueOr};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub created_at: Millis,
    /// Whether the tenant may take in users of other tenants (`iam::reach::may_take_in`).
    pub link_foreign_users: bool,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<TenantRow, sqlx::Error> {
    Ok(TenantRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        link_foreign_users: super::flag_of(row.try_get("link_foreign_users")?),
    })
}

pub async fn insert(conn: &mut Conn, id: &str, name: &str, now: Millis) -> AppResult<()> {
    let result = sqlx::query(
        "INSERT INTO tenants (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)",
    )
    .bind(id)
    .bind(name)
    .bind(now)
    .execute(&mut *conn)
    .await;
    result.map(|_| ()).unique_or(|| {
        AppError::invalid("id", format!("A tenant with the ID `{id}` already exists."))
    })
}

/// Inserts the tenant unless one with this id exists; true when it was created.
pub async fn insert_if_missing(
    conn: &mut Conn,
    id: &str,
    name: &str,
    now: Millis,
) -> AppResult<bool> {
    let done = sqlx::query(
        "INSERT INTO tenants (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(name)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn rename(conn: &mut Conn, id: &str, name: &str, now: Millis) -> AppResult<()> {
    let done = sqlx::query("UPDATE tenants SET name = $1, updated_at = $2 WHERE id = $3")
        .bind(name)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("There is no tenant `{id}`.")));
    }
    Ok(())
}

pub async fn find(conn: &mut Conn, id: &str) -> AppResult<Option<TenantRow>> {
    let row =
        sqlx::query("SELECT id, name, created_at, link_foreign_users FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn list_all(conn: &mut Conn) -> AppResult<Vec<TenantRow>> {
    let rows =
        sqlx::query("SELECT id, name, created_at, link_foreign_users FROM tenants ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The tenants a (non-superadmin) user has access to.
pub async fn list_for_user(conn: &mut Conn, user_id: &str) -> AppResult<Vec<TenantRow>> {
    let rows = sqlx::query(
        "SELECT t.id, t.name, t.created_at, t.link_foreign_users FROM tenants t \
         JOIN tenant_access a ON a.tenant_id = t.id \
         WHERE a.user_id = $1 AND a.active = 1 ORDER BY t.id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn has_access(conn: &mut Conn, tenant_id: &str, user_id: &str) -> AppResult<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM tenant_access \
         WHERE tenant_id = $1 AND user_id = $2 AND active = 1",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Grants access by hand (source `manual`); a suspended access stays suspended.
pub async fn grant_access(
    conn: &mut Conn,
    tenant_id: &str,
    user_id: &str,
    now: Millis,
) -> AppResult<()> {
    super::access::grant(conn, tenant_id, user_id, super::access::MANUAL, None, now).await
}

/// Whether the tenant may take in users who can already enter another tenant (`iam::reach`).
pub async fn link_foreign_users(conn: &mut Conn, id: &str) -> AppResult<bool> {
    let row = sqlx::query("SELECT link_foreign_users FROM tenants WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => super::flag_of(r.try_get("link_foreign_users")?),
        None => false,
    })
}

pub async fn set_link_foreign_users(
    conn: &mut Conn,
    id: &str,
    on: bool,
    now: Millis,
) -> AppResult<()> {
    let done =
        sqlx::query("UPDATE tenants SET link_foreign_users = $1, updated_at = $2 WHERE id = $3")
            .bind(super::flag(on))
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("There is no tenant `{id}`.")));
    }
    Ok(())
}
