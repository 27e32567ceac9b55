//! Bringing the schema up to this release's while other replicas serve from the same database.
//!
//! On PostgreSQL a migration's `ALTER TABLE` (or `CREATE TRIGGER`, or a data fix's row locks)
//! waits for every transaction using its table, and while it waits every new query on that
//! table queues behind it: with the connections' own `lock_timeout` (15 s) a starting replica
//! could stall the serving ones' requests for 15 s, and a migration that had already locked one
//! table and waited for a second deadlocked a serving transaction that went from the second to
//! the first (one of them aborted after PostgreSQL's `deadlock_timeout`, a second). Here each
//! lock a migration waits for is waited for at most [`LOCK_WAIT`]: past it the migration gives
//! way (its transaction rolls back, its locks go) and is tried again after a pause, until
//! [`PATIENCE`] has passed. The serving replicas wait at most that long behind it, and never
//! deadlock with it. On SQLite, where one process writes, migrations run as they are.

use std::time::{Duration, Instant};

use sqlx::migrate::{MigrateError, Migrator};

use super::{access, collation, group_refs, instance_keys, profile_views, Backend, Db};
use crate::error::{AppError, AppResult};

/// The longest a migrating statement waits for a lock on PostgreSQL before the migration gives
/// way: well under `deadlock_timeout` (1 s by default), so that a serving transaction waiting
/// behind it is let through before a deadlock could be declared.
pub const LOCK_WAIT: &str = "100ms";

/// How long a starting replica keeps trying before it reports that it could not migrate.
pub const PATIENCE: Duration = Duration::from_secs(300);

/// The pause after the first attempt that gave way; each next one doubles, up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// Applies `migrator`'s migrations that have not run, then what a migration could not write
/// (see [`Db::migrate`]), giving way on PostgreSQL to the transactions of replicas serving
/// beside it. Answers the number of attempts it took.
pub async fn apply(db: &Db, migrator: &Migrator) -> AppResult<u32> {
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt(db, migrator).await {
            Ok(()) => {
                if attempts > 1 {
                    tracing::info!(attempts, "migrated after giving way to serving replicas");
                }
                return Ok(attempts);
            }
            Err(failure) if failure.gave_way() && started.elapsed() < PATIENCE => {
                if attempts == 1 || attempts % 20 == 0 {
                    tracing::warn!(
                        attempts,
                        error = %failure.into_app_error(),
                        "migrating waits for the transactions of replicas still serving; \
                         trying again"
                    );
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
            Err(failure) => return Err(failure.into_app_error()),
        }
    }
}

/// Why an attempt failed.
enum Failure {
    Migrations(MigrateError),
    AfterMigrations(AppError),
}

impl Failure {
    /// Whether the attempt gave way to other work (a lock not granted within [`LOCK_WAIT`], a
    /// deadlock all the same: what [`crate::error::is_transient`] calls "not now", the rule a
    /// request's 503 follows too) and may be made again.
    fn gave_way(&self) -> bool {
        match self {
            Failure::Migrations(
                MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _),
            ) => crate::error::is_transient(e),
            Failure::Migrations(_) => false,
            Failure::AfterMigrations(e) => matches!(e, AppError::Busy(_)),
        }
    }

    fn into_app_error(self) -> AppError {
        match self {
            Failure::Migrations(e) => e.into(),
            Failure::AfterMigrations(e) => e,
        }
    }
}

async fn attempt(db: &Db, migrator: &Migrator) -> Result<(), Failure> {
    run_migrations(db, migrator)
        .await
        .map_err(Failure::Migrations)?;
    after_migrations(db).await.map_err(Failure::AfterMigrations)
}

/// `migrator`'s pending migrations, each in its transaction. On PostgreSQL on a connection of
/// its own that waits [`LOCK_WAIT`] for a lock, closed after: sqlx keeps its advisory lock (the
/// replicas' turn to migrate) when a migration fails, until the session ends.
async fn run_migrations(db: &Db, migrator: &Migrator) -> Result<(), MigrateError> {
    let mut conn = db.pool().acquire().await?;
    if db.backend() != Backend::Postgres {
        return migrator.run_direct(&mut *conn).await;
    }
    let ran = async {
        let set = format!("SET lock_timeout = '{LOCK_WAIT}'");
        sqlx::raw_sql(&set).execute(&mut *conn).await?;
        migrator.run_direct(&mut *conn).await
    }
    .await;
    let _ = conn.close().await;
    ran
}

/// What a migration could not write, each step in its transaction (on PostgreSQL waiting
/// [`LOCK_WAIT`] for a lock): every text column compared bytewise ([`collation`]), first and
/// alone; memberships' group references ([`group_refs::fill_missing`]); access rows' creation
/// order ([`access::prepare_creation_order`]); the views kept under another release's rules
/// dropped and the trigger that keeps views from going stale installed
/// ([`profile_views::prepare`]); the instance's cursor key read, or made the first time
/// ([`instance_keys`]). Each is a no-op once done.
async fn after_migrations(db: &Db) -> AppResult<()> {
    // First and alone: its `ALTER TABLE`s wait for the tables' users (see there).
    let mut tx = begin_giving_way(db).await?;
    collation::make_bytewise(&mut tx).await?;
    tx.commit().await?;
    let mut tx = begin_giving_way(db).await?;
    group_refs::fill_missing(&mut tx).await?;
    access::prepare_creation_order(&mut tx).await?;
    profile_views::prepare(&mut tx).await?;
    let cursor_key = instance_keys::cursor_key(&mut tx).await?;
    tx.commit().await?;
    db.keep_cursor_key(cursor_key);
    Ok(())
}

async fn begin_giving_way(db: &Db) -> AppResult<super::WriteTx> {
    let mut tx = db.begin_write().await?;
    if db.backend() == Backend::Postgres {
        let set = format!("SET LOCAL lock_timeout = '{LOCK_WAIT}'");
        sqlx::raw_sql(&set).execute(&mut *tx).await?;
    }
    Ok(tx)
}
