//! Server-side sessions, stored by the hash of their cookie value.

use super::users::UserRow;
use super::Conn;
use crate::clock::Millis;
use crate::error::AppResult;

pub async fn insert(
    conn: &mut Conn,
    id_hash: &str,
    user_id: &str,
    now: Millis,
    expires_at: Millis,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The active user behind a live session, if any.
pub async fn find_user(conn: &mut Conn, id_hash: &str, now: Millis) -> AppResult<Option<UserRow>> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.email, u.display_name, u.password_hash, u.is_superadmin, u.active \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.active = 1",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(super::users::from_row(&row)?))
}

pub async fn delete(conn: &mut Conn, id_hash: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn delete_expired(conn: &mut Conn, now: Millis) -> AppResult<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
