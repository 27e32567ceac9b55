//! Each account's latest sign-ins and failed password checks, for its owner's page (Your
//! account → Recent sign-ins). Bounded per account: each insert keeps the latest
//! [`KEPT_PER_USER`], so someone guessing a password cannot grow the table past it.

use sqlx::Row;

use super::Conn;
use crate::clock::Millis;
use crate::error::AppResult;

/// How many of an account's sign-ins are kept (and listed).
pub const KEPT_PER_USER: i64 = 50;

/// A sign-in, or a password check that failed: `outcome` "signed-in", "wrong-password" or
/// "suspended"; `method` "password", "password-change" or the OpenID provider's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub at: Millis,
    pub outcome: String,
    pub method: String,
    pub client_address: String,
    pub user_agent: Option<String>,
}

/// Records `sign_in` of `user_id` and forgets the account's sign-ins past its latest
/// [`KEPT_PER_USER`].
pub async fn record(conn: &mut Conn, user_id: &str, sign_in: &SignIn) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO sign_ins (id, user_id, at, outcome, method, client_address, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(super::new_id())
    .bind(user_id)
    .bind(sign_in.at)
    .bind(&sign_in.outcome)
    .bind(&sign_in.method)
    .bind(&sign_in.client_address)
    .bind(&sign_in.user_agent)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM sign_ins WHERE user_id = $1 AND id < \
         (SELECT id FROM sign_ins WHERE user_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
    )
    .bind(user_id)
    .bind(KEPT_PER_USER - 1)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// `user_id`'s kept sign-ins, newest first.
pub async fn of_user(conn: &mut Conn, user_id: &str) -> AppResult<Vec<SignIn>> {
    let rows = sqlx::query(
        "SELECT at, outcome, method, client_address, user_agent FROM sign_ins \
         WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(KEPT_PER_USER)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SignIn {
                at: r.try_get("at")?,
                outcome: r.try_get("outcome")?,
                method: r.try_get("method")?,
                client_address: r.try_get("client_address")?,
                user_agent: r.try_get("user_agent")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
