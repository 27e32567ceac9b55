//! Each account's latest sign-ins and failed password checks, for its owner's page (Your
//! account → Recent sign-ins) and for the instance's (Instance → Sign-ins, every account's,
//! newest first). Bounded per account: each insert keeps the latest [`KEPT_PER_USER`], so
//! someone guessing a password cannot grow the table past it.

use sqlx::Row;

use super::{fetch_mapped, Arg, Conn};
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

/// The outcomes that are failed password checks, as the partial indexes `sign_ins_failed_idx`
/// (migration 0019) and `sign_ins_failed_at_idx` (0020) spell them: a query repeats this text
/// for SQLite to use them.
pub const FAILED: &str = "outcome IN ('wrong-password', 'suspended')";

/// What a page of the instance's sign-ins keeps to, and where it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recent {
    /// Only the failed password checks ([`FAILED`]).
    pub failed_only: bool,
    /// Only this account's.
    pub user_id: Option<String>,
    /// Where the page starts: after (older than) or before (newer than) a sign-in's id.
    pub from: Seek,
    /// How many rows to read (a page and one more, to know whether there are more).
    pub limit: i64,
}

/// Where a page of [`Recent`] starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Seek {
    /// The newest.
    #[default]
    Newest,
    /// The ones older than this id, newest first.
    OlderThan(String),
    /// The ones newer than this id, oldest first (the page before, read from its far end).
    NewerThan(String),
}

/// A sign-in as the instance's list shows it: which account, and whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub id: String,
    pub user_id: String,
    pub username: String,
    pub sign_in: SignIn,
}

/// The sign-ins of every account that `recent` keeps to, in the order its `from` walks: newest
/// first, or oldest first for [`Seek::NewerThan`]. A walk of one account's seeks its index; of
/// everyone's, the primary key or, for failures, their partial index: no sort, and no row read
/// that the page does not show.
pub async fn recent(conn: &mut Conn, recent: &Recent) -> AppResult<Vec<Recorded>> {
    let (sql, args) = recent_query(recent);
    fetch_mapped(conn, &sql, &args, |r| {
        Ok(Recorded {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            username: r.try_get("username")?,
            sign_in: sign_in_of(r)?,
        })
    })
    .await
}

/// The statement of [`recent`] and its arguments.
fn recent_query(recent: &Recent) -> (String, Vec<Arg>) {
    let mut args = Vec::new();
    let mut sql = String::from(
        "SELECT s.id, s.user_id, u.username, s.at, s.outcome, s.method, s.client_address, \
         s.user_agent FROM sign_ins s JOIN users u ON u.id = s.user_id WHERE 1 = 1",
    );
    if recent.failed_only {
        sql.push_str(" AND s.");
        sql.push_str(FAILED);
    }
    if let Some(user_id) = &recent.user_id {
        args.push(Arg::Text(user_id.clone()));
        sql.push_str(&format!(" AND s.user_id = ${}", args.len()));
    }
    let order = match &recent.from {
        Seek::Newest => "DESC",
        Seek::OlderThan(id) => {
            args.push(Arg::Text(id.clone()));
            sql.push_str(&format!(" AND s.id < ${}", args.len()));
            "DESC"
        }
        Seek::NewerThan(id) => {
            args.push(Arg::Text(id.clone()));
            sql.push_str(&format!(" AND s.id > ${}", args.len()));
            "ASC"
        }
    };
    args.push(Arg::Int(recent.limit));
    sql.push_str(&format!(" ORDER BY s.id {order} LIMIT ${}", args.len()));
    (sql, args)
}

/// The failed password checks recorded since `since`, across every account.
pub async fn failed_since(conn: &mut Conn, since: Millis) -> AppResult<i64> {
    Ok(sqlx::query_scalar(&failed_since_statement())
        .bind(since)
        .fetch_one(&mut *conn)
        .await?)
}

/// [`failed_since`]'s count: a range of the failures' own index by time, not a walk of them all.
fn failed_since_statement() -> String {
    format!("SELECT COUNT(*) FROM sign_ins WHERE {FAILED} AND at >= $1")
}

fn sign_in_of(r: &sqlx::any::AnyRow) -> Result<SignIn, sqlx::Error> {
    Ok(SignIn {
        at: r.try_get("at")?,
        outcome: r.try_get("outcome")?,
        method: r.try_get("method")?,
        client_address: r.try_get("client_address")?,
        user_agent: r.try_get("user_agent")?,
    })
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
        .map(sign_in_of)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::plans;

    /// Every page of the instance's sign-ins is a walk of an index in its order: no sort, and
    /// for the failures the partial index that holds them alone (its condition spelled alike).
    #[tokio::test]
    async fn each_page_walks_an_index_in_its_order() {
        let (_dir, db) = plans::migrated_sqlite().await;
        let id = "0193a2c4-7d1e-7000-8000-000000000001".to_string();
        for failed_only in [false, true] {
            for user_id in [None, Some("u1".to_string())] {
                for from in [
                    Seek::Newest,
                    Seek::OlderThan(id.clone()),
                    Seek::NewerThan(id.clone()),
                ] {
                    let recent = Recent {
                        failed_only,
                        user_id: user_id.clone(),
                        from,
                        limit: 51,
                    };
                    let (sql, args) = recent_query(&recent);
                    let steps = plans::steps(&db, &sql, &args).await.join("\n");
                    assert!(!steps.contains("TEMP B-TREE"), "{recent:?}: {steps}");
                    let index = match (&recent.user_id, failed_only) {
                        (Some(_), _) => "sign_ins_user_idx",
                        (None, true) => "sign_ins_failed_idx",
                        (None, false) => "sqlite_autoindex_sign_ins_1",
                    };
                    let walk = format!("SEARCH s USING INDEX {index}");
                    let scan = format!("SCAN s USING INDEX {index}");
                    assert!(
                        steps.contains(&walk) || steps.contains(&scan),
                        "{recent:?}: {steps}"
                    );
                }
            }
        }
    }

    /// The count of recent failures seeks the failures' index by time.
    #[tokio::test]
    async fn recent_failures_are_counted_from_a_range_of_their_own_index() {
        let (_dir, db) = plans::migrated_sqlite().await;
        let steps = plans::steps(&db, &failed_since_statement(), &[Arg::Int(1)]).await;
        assert_eq!(
            steps,
            ["SEARCH sign_ins USING INDEX sign_ins_failed_at_idx (at>?)"],
            "{steps:#?}"
        );
    }
}
