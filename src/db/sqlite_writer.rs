//! SQLite's one writing connection, held outside any pool. Writes take turns on one connection
//! anyway (SQLite admits one writer; see [`super::Db`]), and a pooled connection is pinged — a
//! round trip to its worker thread — every time it goes back to its pool, which was every write.
//! Here the turn is the connection's lock (fair, in arrival order) and a transaction is
//! `BEGIN IMMEDIATE` … `COMMIT` on it; one dropped without committing is rolled back by whoever
//! takes the turn next: a task spawned for that, or the next transaction before it begins.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::WRITE_WAIT;
use crate::error::{AppError, AppResult};

/// The writing connection and whether a transaction may be open on it.
#[derive(Debug)]
struct Held {
    conn: AnyConnection,
    /// Set from `BEGIN` until `COMMIT` or `ROLLBACK` succeeded.
    in_transaction: bool,
    closed: bool,
}

impl Held {
    /// Rolls back a transaction left open (one dropped without committing), if there is one.
    async fn roll_back_left_open(&mut self) {
        if self.in_transaction && self.conn.execute("ROLLBACK").await.is_ok() {
            self.in_transaction = false;
        }
    }
}

#[derive(Debug, Clone)]
pub struct SqliteWriter(Arc<Mutex<Held>>);

impl SqliteWriter {
    /// Opens the connection with `options` (the pool options every SQLite connection gets).
    pub async fn connect(options: AnyPoolOptions, url: &str) -> AppResult<Self> {
        let conn = super::sqlite_connections(options, url, 1)
            .await?
            .pop()
            .ok_or_else(|| AppError::Internal("no SQLite connection was opened".into()))?;
        Ok(SqliteWriter(Arc::new(Mutex::new(Held {
            conn,
            in_transaction: false,
            closed: false,
        }))))
    }

    /// Waits for the turn (at most [`WRITE_WAIT`]) and begins a write transaction.
    pub async fn begin(&self) -> AppResult<WriterTx> {
        let mut held = tokio::time::timeout(WRITE_WAIT, self.0.clone().lock_owned())
            .await
            .map_err(|_| AppError::busy("waited too long for the database's writer"))?;
        if held.closed {
            return Err(AppError::busy("the database is shutting down"));
        }
        // A transaction whose rollback could not run yet when it was dropped.
        held.roll_back_left_open().await;
        held.in_transaction = true;
        held.conn.execute("BEGIN IMMEDIATE").await?;
        Ok(WriterTx(held))
    }

    /// Waits for the transaction in progress, then refuses new ones.
    pub async fn close(&self) {
        let mut held = self.0.lock().await;
        held.roll_back_left_open().await;
        held.closed = true;
    }
}

/// A write transaction on the writing connection; holds the turn until it ends.
#[derive(Debug)]
pub struct WriterTx(OwnedMutexGuard<Held>);

impl WriterTx {
    pub async fn commit(mut self) -> AppResult<()> {
        self.0.conn.execute("COMMIT").await?;
        self.0.in_transaction = false;
        Ok(())
    }

    pub async fn rollback(mut self) -> AppResult<()> {
        self.0.conn.execute("ROLLBACK").await?;
        self.0.in_transaction = false;
        Ok(())
    }
}

impl Deref for WriterTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.0.conn
    }
}

impl DerefMut for WriterTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.0.conn
    }
}

/// Dropped without committing: a task takes the turn next and rolls back (unless a writer
/// waiting already took it, and rolled back first in [`SqliteWriter::begin`]).
impl Drop for WriterTx {
    fn drop(&mut self) {
        if !self.0.in_transaction {
            return;
        }
        let writer = OwnedMutexGuard::mutex(&self.0).clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { writer.lock().await.roll_back_left_open().await });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    async fn count(conn: &mut AnyConnection) -> i64 {
        sqlx::query("SELECT COUNT(*) AS n FROM t")
            .fetch_one(conn)
            .await
            .unwrap()
            .get::<i64, _>("n")
    }

    #[tokio::test]
    async fn a_dropped_transaction_is_rolled_back_and_releases_the_write_lock() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/w.db?mode=rwc", dir.path().display());
        let options = || super::super::sqlite_options(AnyPoolOptions::new());
        let writer = SqliteWriter::connect(options(), &url).await.unwrap();
        let mut tx = writer.begin().await.unwrap();
        tx.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
        tx.commit().await.unwrap();

        // Dropped, then the next transaction begins at once: it sees none of the dropped writes.
        let mut tx = writer.begin().await.unwrap();
        tx.execute("INSERT INTO t VALUES (1)").await.unwrap();
        drop(tx);
        let mut tx = writer.begin().await.unwrap();
        assert_eq!(count(&mut tx).await, 0);
        tx.execute("INSERT INTO t VALUES (2)").await.unwrap();
        tx.commit().await.unwrap();

        // Dropped with no writer waiting here: another connection (a replica, the CLI) gets the
        // write lock, so the rollback ran without a next transaction to run it.
        let mut tx = writer.begin().await.unwrap();
        tx.execute("INSERT INTO t VALUES (3)").await.unwrap();
        drop(tx);
        let other = SqliteWriter::connect(options(), &url).await.unwrap();
        let mut theirs = tokio::time::timeout(std::time::Duration::from_secs(3), other.begin())
            .await
            .expect("the write lock was released")
            .unwrap();
        assert_eq!(count(&mut theirs).await, 1);
        theirs.rollback().await.unwrap();

        // Closed: waits for nothing in flight, then refuses.
        writer.close().await;
        assert!(writer.begin().await.is_err());
    }
}
