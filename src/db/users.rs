//! Global users: insert and look up by id or by sign-in name.

use sqlx::Row;

use super::Conn;
use crate::clock::Millis;
use crate::error::{AppError, AppResult, UniqueOr};

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub is_superadmin: bool,
    pub active: bool,
}

const USER_COLUMNS: &str =
    "id, username, email, display_name, password_hash, is_superadmin, active";

pub(super) fn from_row(row: &sqlx::any::AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        is_superadmin: super::flag_of(row.try_get("is_superadmin")?),
        active: super::flag_of(row.try_get("active")?),
    })
}

pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub is_superadmin: bool,
}

pub async fn insert(conn: &mut Conn, user: &NewUser<'_>, now: Millis) -> AppResult<()> {
    let email = user.email.map(str::trim).filter(|e| !e.is_empty());
    let result = sqlx::query(
        "INSERT INTO users (id, username, username_lower, email, email_lower, display_name, \
         password_hash, is_superadmin, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
    )
    .bind(user.id)
    .bind(user.username)
    .bind(user.username.to_lowercase())
    .bind(email)
    .bind(email.map(str::to_lowercase))
    .bind(user.display_name)
    .bind(user.password_hash)
    .bind(super::flag(user.is_superadmin))
    .bind(now)
    .execute(&mut *conn)
    .await;
    result.map(|_| ()).unique_or(|| {
        AppError::invalid(
            "username",
            format!("The username `{}` is taken.", user.username),
        )
    })
}

/// Whether any superadmin exists: one index probe (`users_superadmins_idx`), asked by every
/// anonymous page request, so never a count over the directory.
pub async fn any_superadmin(conn: &mut Conn) -> AppResult<bool> {
    let row = sqlx::query("SELECT 1 AS one FROM users WHERE is_superadmin = 1 LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

pub async fn find_by_id(conn: &mut Conn, id: &str) -> AppResult<Option<UserRow>> {
    let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Finds the user a sign-in name means: the username first (case-insensitively), else an
/// email address (primary or any other) that belongs to exactly one user.
pub async fn find_by_login(conn: &mut Conn, login: &str) -> AppResult<Option<UserRow>> {
    let lower = login.trim().to_lowercase();
    let by_name = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE username_lower = $1"
    ))
    .bind(&lower)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = by_name {
        return Ok(Some(from_row(&row)?));
    }
    // Any of a user's addresses counts (SCIM users may have several in `user_emails`); the
    // primary one in `users.email_lower` too, for users made by the CLI or setup.
    let by_email = sqlx::query(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE email_lower = $1 \
         OR id IN (SELECT user_id FROM user_emails WHERE value_lower = $1) LIMIT 2"
    ))
    .bind(&lower)
    .fetch_all(&mut *conn)
    .await?;
    match by_email.as_slice() {
        [only] => Ok(Some(from_row(only)?)),
        _ => Ok(None),
    }
}

/// What `iam::reach` needs to know of a user seen from `tenant_id`: the superadmin flag, the
/// integration that created the user, whether they have a password, and how many other tenants
/// they have access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachFacts {
    pub id: String,
    pub is_superadmin: bool,
    pub created_by: Option<String>,
    pub has_password: bool,
    pub other_tenants: i64,
}

pub async fn reach_facts(
    conn: &mut Conn,
    tenant_id: &str,
    user_id: &str,
) -> AppResult<Option<ReachFacts>> {
    let row = sqlx::query(
        "SELECT u.id, u.is_superadmin, u.created_by, \
         CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS has_password, \
         (SELECT COUNT(*) FROM tenant_access a WHERE a.user_id = u.id AND a.tenant_id <> $2) AS others \
         FROM users u WHERE u.id = $1",
    )
    .bind(user_id)
    .bind(tenant_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| -> Result<_, sqlx::Error> {
        Ok(ReachFacts {
            id: r.try_get("id")?,
            is_superadmin: super::flag_of(r.try_get("is_superadmin")?),
            created_by: r.try_get("created_by")?,
            has_password: super::flag_of(r.try_get("has_password")?),
            other_tenants: r.try_get("others")?,
        })
    })
    .transpose()
    .map_err(Into::into)
}
