//! The sign-in throttle's storage: one counter per key (see `auth::throttle`), incremented and
//! read in one statement so that parallel attempts are each counted.

use sqlx::Row;

use super::Conn;
use crate::clock::Millis;
use crate::error::AppResult;

/// A counter after an attempt was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub attempts: i64,
    pub locked_until: Millis,
}

/// Counts one attempt for `key` and returns the counter. A counter whose window started before
/// `window_start` starts again at 1 (its lock, if any, stays).
pub async fn count_attempt(
    conn: &mut Conn,
    key: &str,
    now: Millis,
    window_start: Millis,
) -> AppResult<Counted> {
    let row = sqlx::query(
        "INSERT INTO sign_in_counters (counter_key, window_start, attempts, locked_until) \
         VALUES ($1, $2, 1, 0) \
         ON CONFLICT (counter_key) DO UPDATE SET \
           attempts = CASE WHEN sign_in_counters.window_start < $3 THEN 1 \
                           ELSE sign_in_counters.attempts + 1 END, \
           window_start = CASE WHEN sign_in_counters.window_start < $3 THEN $2 \
                               ELSE sign_in_counters.window_start END \
         RETURNING attempts, locked_until",
    )
    .bind(key)
    .bind(now)
    .bind(window_start)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Counted {
        attempts: row.try_get("attempts")?,
        locked_until: row.try_get("locked_until")?,
    })
}

/// Locks `key` until `until`.
pub async fn lock(conn: &mut Conn, key: &str, until: Millis) -> AppResult<()> {
    sqlx::query("UPDATE sign_in_counters SET locked_until = $2 WHERE counter_key = $1")
        .bind(key)
        .bind(until)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Takes back one counted attempt of `key` (it succeeded, or was never tried).
pub async fn uncount(conn: &mut Conn, key: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE sign_in_counters SET attempts = attempts - 1 \
         WHERE counter_key = $1 AND attempts > 0",
    )
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets `key` entirely (a successful sign-in clears its own account-and-address counter).
pub async fn clear(conn: &mut Conn, key: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM sign_in_counters WHERE counter_key = $1")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes counters whose window started before `window_start` and whose lock ended by `now`;
/// returns how many went.
pub async fn delete_stale(conn: &mut Conn, window_start: Millis, now: Millis) -> AppResult<u64> {
    let done =
        sqlx::query("DELETE FROM sign_in_counters WHERE window_start < $1 AND locked_until <= $2")
            .bind(window_start)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected())
}
