//! Server-side sessions, stored by the hash of their cookie value, with where each was signed
//! in from, so their owner can list and end them.

use sqlx::Row;

use super::users::UserRow;
use super::Conn;
use crate::clock::Millis;
use crate::error::AppResult;

/// A session about to start.
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: &'a str,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub client_address: &'a str,
    pub user_agent: Option<&'a str>,
}

pub async fn insert(conn: &mut Conn, new: &NewSession<'_>) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, expires_at, client_address, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new.id_hash)
    .bind(new.user_id)
    .bind(new.created_at)
    .bind(new.expires_at)
    .bind(new.client_address)
    .bind(new.user_agent)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One of a person's live sessions, as their own list shows it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id_hash: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
    /// The OpenID provider it was signed in through; none for a password.
    pub provider: Option<String>,
}

/// The most sessions a person's list shows (newest first); each sign-in makes one and they
/// last 12 hours, so only a flood of sign-ins reaches it.
pub const LISTED_SESSIONS: i64 = 100;

/// `user_id`'s live sessions, newest first, at most [`LISTED_SESSIONS`].
pub async fn of_user(conn: &mut Conn, user_id: &str, now: Millis) -> AppResult<Vec<SessionRow>> {
    let rows = sqlx::query(
        "SELECT s.id_hash, s.created_at, s.expires_at, s.client_address, s.user_agent, \
                p.name AS provider \
         FROM sessions s \
         LEFT JOIN oidc_sessions o ON o.session_hash = s.id_hash \
         LEFT JOIN oidc_providers p ON p.id = o.provider_id \
         WHERE s.user_id = $1 AND s.expires_at > $2 \
         ORDER BY s.created_at DESC, s.id_hash LIMIT $3",
    )
    .bind(user_id)
    .bind(now)
    .bind(LISTED_SESSIONS)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SessionRow {
                id_hash: r.try_get("id_hash")?,
                created_at: r.try_get("created_at")?,
                expires_at: r.try_get("expires_at")?,
                client_address: r.try_get("client_address")?,
                user_agent: r.try_get("user_agent")?,
                provider: r.try_get("provider")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Ends `user_id`'s session `id_hash` (someone else's is left alone); whether it was there.
pub async fn delete_of_user(conn: &mut Conn, user_id: &str, id_hash: &str) -> AppResult<bool> {
    let done = sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND user_id = $2")
        .bind(id_hash)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends every session of `user_id` but `keep`; how many ended.
pub async fn delete_others_of_user(conn: &mut Conn, user_id: &str, keep: &str) -> AppResult<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
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

/// Housekeeping's sweep: a range of the expiry index (migration 0020), not a walk of every
/// session.
const DELETE_EXPIRED: &str = "DELETE FROM sessions WHERE expires_at <= $1";

pub async fn delete_expired(conn: &mut Conn, now: Millis) -> AppResult<u64> {
    let done = sqlx::query(DELETE_EXPIRED)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::DELETE_EXPIRED;
    use crate::db::{plans, Arg};

    #[tokio::test]
    async fn the_sweep_of_expired_sessions_seeks_them() {
        let (_dir, db) = plans::migrated_sqlite().await;
        let steps = plans::steps(&db, DELETE_EXPIRED, &[Arg::Int(1)]).await;
        // Then the SSO sessions that end with them, by their key.
        assert_eq!(
            steps[0], "SEARCH sessions USING COVERING INDEX sessions_expires_idx (expires_at<?)",
            "{steps:#?}"
        );
    }
}
