//! SQLite's reading connections, held outside sqlx's pool for the same reason as the writer's
//! ([`super::sqlite_writer`]): a pooled connection is pinged — a round trip to its worker thread
//! — each time it goes back to the pool, and a lookup is only two or three such round trips in
//! all. A local file's connection does not go stale, so nothing is tested; a reader waits for a
//! free connection in arrival order.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyConnection;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AppError, AppResult};

/// How long a read waits for a free connection.
const READ_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct SqliteReaders {
    idle: Arc<Mutex<Vec<AnyConnection>>>,
    free: Arc<Semaphore>,
}

impl SqliteReaders {
    /// Opens `count` connections with `options` (the options every SQLite connection gets).
    pub async fn connect(options: AnyPoolOptions, url: &str, count: u32) -> AppResult<Self> {
        let idle = super::sqlite_connections(options, url, count).await?;
        Ok(SqliteReaders {
            free: Arc::new(Semaphore::new(idle.len())),
            idle: Arc::new(Mutex::new(idle)),
        })
    }

    /// A free connection, once one is (at most [`READ_WAIT`]).
    pub async fn acquire(&self) -> AppResult<ReaderConn> {
        let permit = tokio::time::timeout(READ_WAIT, self.free.clone().acquire_owned())
            .await
            .map_err(|_| AppError::busy("waited too long for a database connection"))?
            .map_err(|_| AppError::busy("the database is shutting down"))?;
        let conn = self
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop())
            .ok_or_else(|| AppError::busy("no database connection is free"))?;
        Ok(ReaderConn {
            conn: Some(conn),
            idle: self.idle.clone(),
            _permit: permit,
        })
    }

    /// Refuses new reads and closes the idle connections (a read in progress keeps its own to
    /// the end), so that the writer's connection is the last one open on the file when it
    /// checkpoints at shutdown ([`super::sqlite_writer::SqliteWriter::close`]).
    pub async fn close(&self) {
        self.free.close();
        let idle = match self.idle.lock() {
            Ok(mut idle) => std::mem::take(&mut *idle),
            Err(_) => Vec::new(),
        };
        for conn in idle {
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

/// A reading connection, back among the idle ones when dropped.
#[derive(Debug)]
pub struct ReaderConn {
    conn: Option<AnyConnection>,
    idle: Arc<Mutex<Vec<AnyConnection>>>,
    /// Released after the connection is back (fields drop in order, after `Drop::drop`).
    _permit: OwnedSemaphorePermit,
}

impl Deref for ReaderConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match &self.conn {
            Some(conn) => conn,
            None => unreachable!("a reader's connection is taken only when it is dropped"),
        }
    }
}

impl DerefMut for ReaderConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.conn {
            Some(conn) => conn,
            None => unreachable!("a reader's connection is taken only when it is dropped"),
        }
    }
}

impl Drop for ReaderConn {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut idle)) = (self.conn.take(), self.idle.lock()) {
            idle.push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Executor;

    #[tokio::test]
    async fn a_reader_waits_for_a_connection_given_back_and_none_is_lost() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/r.db?mode=rwc", dir.path().display());
        let options = super::super::sqlite_options(AnyPoolOptions::new());
        let readers = SqliteReaders::connect(options, &url, 2).await.unwrap();
        let mut a = readers.acquire().await.unwrap();
        let b = readers.acquire().await.unwrap();
        a.execute("SELECT 1").await.unwrap();
        let waiting = tokio::spawn({
            let readers = readers.clone();
            async move { readers.acquire().await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "both connections are in use");
        drop(a);
        tokio::time::timeout(Duration::from_secs(2), waiting)
            .await
            .expect("the connection given back is taken")
            .unwrap()
            .unwrap();
        drop(b);
        // A read dropped mid-statement still gives its connection back, usable.
        for _ in 0..5 {
            let mut c = readers.acquire().await.unwrap();
            let _ = tokio::time::timeout(
                Duration::from_micros(1),
                c.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
                           WHERE i < 100000) SELECT COUNT(*) FROM n",
                ),
            )
            .await;
        }
        let mut c = readers.acquire().await.unwrap();
        c.execute("SELECT 1").await.unwrap();
        assert_eq!(readers.idle.lock().unwrap().len(), 1);
        drop(c);
        readers.close().await;
        assert!(readers.acquire().await.is_err());
        assert!(
            readers.idle.lock().unwrap().is_empty(),
            "idle connections left open"
        );
    }
}
