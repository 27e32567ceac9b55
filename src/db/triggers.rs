//! Triggers the server installs when it starts, not in `migrations/`: the two databases write a
//! trigger in different languages, and the migrations are one text for both. Each is installed
//! once (again is a no-op); on PostgreSQL, replicas starting together take turns under an
//! advisory lock held to the commit, so only one of them creates it.

use super::{Backend, Conn};
use crate::error::AppResult;

/// One trigger as each database writes it.
pub struct Trigger {
    /// The trigger's name (on PostgreSQL its function's too).
    pub name: &'static str,
    /// The table it is on.
    pub table: &'static str,
    /// SQLite's `CREATE TRIGGER IF NOT EXISTS …`.
    pub sqlite: &'static str,
    /// PostgreSQL's `CREATE OR REPLACE FUNCTION …; CREATE TRIGGER …`.
    pub postgres: &'static str,
    /// The advisory lock its installation takes on PostgreSQL (a constant of this trigger).
    pub lock: i64,
}

/// Installs `trigger` unless it is there.
pub async fn install(conn: &mut Conn, trigger: &Trigger) -> AppResult<()> {
    match super::backend_of(conn) {
        Backend::Sqlite => {
            sqlx::raw_sql(trigger.sqlite).execute(&mut *conn).await?;
        }
        Backend::Postgres => {
            sqlx::raw_sql(&format!("SELECT pg_advisory_xact_lock({})", trigger.lock))
                .execute(&mut *conn)
                .await?;
            let installed: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM pg_trigger WHERE tgname = $1 AND tgrelid = $2::regclass",
            )
            .bind(trigger.name)
            .bind(trigger.table)
            .fetch_optional(&mut *conn)
            .await?;
            if installed.is_none() {
                sqlx::raw_sql(trigger.postgres).execute(&mut *conn).await?;
            }
        }
    }
    Ok(())
}
