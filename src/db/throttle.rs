//! The sign-in throttle's storage: recent failures and lockouts, per lower-cased login name.

use sqlx::Row;

use super::Conn;
use crate::clock::Millis;
use crate::error::AppResult;

pub async fn locked_until(conn: &mut Conn, login_lower: &str) -> AppResult<Option<Millis>> {
    let row = sqlx::query("SELECT locked_until FROM login_lockouts WHERE login_lower = $1")
        .bind(login_lower)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.try_get("locked_until")).transpose()?)
}

/// Records a failure and returns how many failures there have been since `window_start`.
pub async fn record_failure(
    conn: &mut Conn,
    login_lower: &str,
    now: Millis,
    window_start: Millis,
) -> AppResult<i64> {
    sqlx::query("DELETE FROM login_failures WHERE login_lower = $1 AND failed_at < $2")
        .bind(login_lower)
        .bind(window_start)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO login_failures (id, login_lower, failed_at) VALUES ($1, $2, $3)")
        .bind(super::new_id())
        .bind(login_lower)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM login_failures WHERE login_lower = $1 AND failed_at >= $2",
    )
    .bind(login_lower)
    .bind(window_start)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("n")?)
}

pub async fn lock(conn: &mut Conn, login_lower: &str, until: Millis) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO login_lockouts (login_lower, locked_until) VALUES ($1, $2) \
         ON CONFLICT (login_lower) DO UPDATE SET locked_until = excluded.locked_until",
    )
    .bind(login_lower)
    .bind(until)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM login_failures WHERE login_lower = $1")
        .bind(login_lower)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Forgets failures and any expired lockout after a successful sign-in.
pub async fn clear(conn: &mut Conn, login_lower: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM login_failures WHERE login_lower = $1")
        .bind(login_lower)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM login_lockouts WHERE login_lower = $1")
        .bind(login_lower)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes failures recorded before `failed_before` and lockouts that ended by `now`; returns
/// how many rows went.
pub async fn delete_stale(conn: &mut Conn, failed_before: Millis, now: Millis) -> AppResult<u64> {
    let failures = sqlx::query("DELETE FROM login_failures WHERE failed_at < $1")
        .bind(failed_before)
        .execute(&mut *conn)
        .await?;
    let lockouts = sqlx::query("DELETE FROM login_lockouts WHERE locked_until <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(failures.rows_affected() + lockouts.rows_affected())
}
