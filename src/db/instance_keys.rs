//! Keys the instance makes for itself and keeps in its database, so that every replica holds
//! the same one: the key that seals SCIM cursors ([`crate::scim::cursor::CursorKey`]), which a
//! replica must open when another handed the cursor out. Made once, at the first start that
//! finds none; replicas starting together keep the first one written.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::Conn;
use crate::error::{AppError, AppResult};
use crate::scim::cursor::CursorKey;

/// The key that seals SCIM cursors: the one kept, else a new random one, kept from now on.
pub async fn cursor_key(conn: &mut Conn) -> AppResult<CursorKey> {
    Ok(CursorKey::new(load_or_make(conn, "cursor").await?))
}

/// The 32-byte key named `name`: the one kept, else a new random one, kept from now on.
async fn load_or_make(conn: &mut Conn, name: &str) -> AppResult<[u8; 32]> {
    let fresh = crate::secret::random_key_bytes().map_err(AppError::Internal)?;
    // Two replicas starting together: the second's insert finds the first's row and keeps it.
    sqlx::query(
        "INSERT INTO instance_keys (name, key) VALUES ($1, $2) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(URL_SAFE_NO_PAD.encode(fresh))
    .execute(&mut *conn)
    .await?;
    let kept: String = sqlx::query_scalar("SELECT key FROM instance_keys WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    URL_SAFE_NO_PAD
        .decode(kept.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            AppError::Internal(format!(
                "the instance key `{name}` kept in the database is not 32 bytes of base64url: \
                 delete its row from instance_keys to make a new one"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::plans;

    /// The first call makes and keeps a key; later calls, on any connection, answer that key.
    #[tokio::test]
    async fn a_key_is_made_once_and_kept() {
        let (_dir, db) = plans::migrated_sqlite().await;
        let mut tx = db.begin_write().await.unwrap();
        let first = load_or_make(&mut tx, "probe").await.unwrap();
        let again = load_or_make(&mut tx, "probe").await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        let later = load_or_make(&mut tx, "probe").await.unwrap();
        let other = load_or_make(&mut tx, "other").await.unwrap();
        assert_eq!((first, again), (later, later));
        assert_ne!(first, other);
        assert_ne!(first, [0; 32]);
    }
}
