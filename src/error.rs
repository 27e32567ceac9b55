//! The one error type of Roster's domain and storage code. Each kind knows its HTTP status;
//! internal details are logged, never shown.

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that breaks a rule; `field` names the form field to mark.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error("You are not signed in.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("Too many failed sign-ins. Try again in {minutes} minutes.")]
    LockedOut { minutes: i64 },
    /// The database could not take the work in time (writers queued too long, a lock or
    /// serialization conflict, no connection): nothing was changed; the caller should retry.
    #[error("Roster is busy right now and changed nothing. Try again in a moment.")]
    Busy(String),
    /// The connection to the database broke under the request (PostgreSQL restarted, failed
    /// over or ended the session; the network dropped it). Retrying is right, but unlike
    /// [`AppError::Busy`] nothing can promise the work was not done: a connection lost while
    /// the commit was on its way may have committed it.
    #[error("Roster lost its connection to the database. Try again in a moment.")]
    ConnectionLost(String),
    /// The database has no room to write (SQLite's "database or disk is full", PostgreSQL's
    /// `disk_full`): the transaction was rolled back, nothing was changed, and writes go on
    /// failing until an operator frees space — reads still work. Answered 503 with
    /// `Retry-After`, never 500: an IdP retries later instead of marking the object failed.
    #[error(
        "Roster's database has no room left (its disk is full), so nothing was saved. Try again \
         once space is freed; the server log says more."
    )]
    StorageFull(String),
    /// The database takes no writes (PostgreSQL's `read_only_sql_transaction`: a standby a
    /// failover or a proxy put behind the URL, or `default_transaction_read_only` set for
    /// maintenance; SQLite's `SQLITE_READONLY`, a file it may not write): nothing was changed,
    /// reads still work. Answered 503 with `Retry-After`, never 500.
    #[error(
        "Roster's database takes no writes right now (it is read-only), so nothing was saved. \
         Try again in a moment; the server log says more."
    )]
    ReadOnly(String),
    /// Too much of one kind of costly work at once (password hashing): refused before starting,
    /// answered 429 with `Retry-After`.
    #[error("Too many sign-ins are being checked right now. Try again in a few seconds.")]
    Overloaded(String),
    #[error("Something went wrong on our side. Try again; if it persists, check the server log.")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn busy(why: impl Into<String>) -> Self {
        Self::Busy(why.into())
    }

    /// When to try again, for the answers that say "not now" (`Retry-After`, seconds).
    pub fn retry_after_secs(&self) -> Option<i64> {
        match self {
            Self::LockedOut { minutes } => Some(minutes * 60),
            Self::Busy(_)
            | Self::ConnectionLost(_)
            | Self::StorageFull(_)
            | Self::ReadOnly(_)
            | Self::Overloaded(_) => Some(2),
            _ => None,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid { .. } => 400,
            Self::Conflict(_) => 409,
            Self::NotFound(_) => 404,
            Self::Unauthenticated => 401,
            Self::Forbidden(_) => 403,
            Self::LockedOut { .. } => 429,
            Self::Busy(_) | Self::ConnectionLost(_) | Self::StorageFull(_) | Self::ReadOnly(_) => {
                503
            }
            Self::Overloaded(_) => 429,
            Self::Internal(_) => 500,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        if holds_nul(&e) {
            return Self::invalid(
                "",
                "text may not contain the NUL character (U+0000); remove it and send again",
            );
        }
        if is_storage_full(&e) {
            STORAGE_FULL_SEEN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tracing::error!(
                error = %e,
                "the database has no room to write (disk full): writes are refused until space \
                 is freed"
            );
            return Self::StorageFull(e.to_string());
        }
        if is_read_only(&e) {
            READ_ONLY_SEEN.now();
            tracing::error!(
                error = %e,
                "the database takes no writes (read-only: a standby, or \
                 default_transaction_read_only); writes are refused until it does"
            );
            return Self::ReadOnly(e.to_string());
        }
        if is_stale_statement(&e) {
            STALE_STATEMENT_SEEN.now();
            tracing::warn!(
                error = %e,
                "a statement prepared before the schema changed (another replica's migration): \
                 the connections opened before now are replaced; the request may be retried"
            );
            return Self::Busy(
                "another replica changed the database's schema; its connections are renewed".into(),
            );
        }
        if is_transient(&e) {
            tracing::warn!(error = %e, "database busy; the request may be retried");
            return Self::Busy(why_busy(&e).into());
        }
        if is_connection_lost(&e) {
            tracing::warn!(error = %e, "database connection lost; the request may be retried");
            return Self::ConnectionLost(e.to_string());
        }
        tracing::error!(error = %e, "database error");
        Self::Internal(e.to_string())
    }
}

/// Errors that say "not now" rather than "wrong": no pool connection in time, SQLite busy or
/// locked past its busy timeout, PostgreSQL serialization failures, deadlocks and lock
/// timeouts. The transaction was rolled back; the same request may succeed when retried.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // SQLite extended result codes: the primary code is the low byte. (A PostgreSQL
            // SQLSTATE can be all digits too: 22021 would read as SQLITE_BUSY.)
            Some(code) if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() => {
                let primary = code.parse::<u32>().unwrap_or(0) & 0xff;
                primary == 5 /* SQLITE_BUSY */ || primary == 6 /* SQLITE_LOCKED */
            }
            Some("40001" | "40P01" | "55P03" | "57P03") => true,
            _ => false,
        },
        _ => false,
    }
}

/// What a [`is_transient`] error means, in words a client may read: the database's own text
/// (its locks, processes and relations) stays in the server log.
fn why_busy(e: &sqlx::Error) -> &'static str {
    let code = match e {
        sqlx::Error::PoolTimedOut => return "no database connection was free in time",
        sqlx::Error::PoolClosed => return "the database is shutting down",
        sqlx::Error::Database(db) => db.code(),
        _ => None,
    };
    match code.as_deref() {
        Some("40001") => "a concurrent change to the same data came first",
        Some("40P01") => "it deadlocked with a concurrent change",
        Some("55P03") => "a lock it needed was not granted in time",
        Some("57P03") => "the database is not taking connections yet",
        _ => "the database was locked by other work",
    }
}

/// Errors that say the connection itself is gone: the socket failed (`Io`: reset, closed,
/// refused while reconnecting) or PostgreSQL ended the session (SQLSTATE class 08, connection
/// exception; 57P01 and 57P02, its shutdown). The pool replaces such a connection (it is
/// tested before its next use), so a retry finds a working one once the database is back.
/// SQLite reports its own file errors as database errors, never as these.
pub fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|pg| {
                let code = pg.code();
                code.starts_with("08") || code == "57P01" || code == "57P02"
            }),
        _ => false,
    }
}

/// How many errors of a database with no room ([`is_storage_full`]) this process has turned
/// into [`AppError::StorageFull`].
static STORAGE_FULL_SEEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// [`STORAGE_FULL_SEEN`] now: SQLite's writer compares it with its value when a batch began, to
/// tell a batch that SQLite rolled back by itself for want of room from one that broke
/// otherwise (see `db::sqlite_writer`).
pub fn storage_full_seen() -> u64 {
    STORAGE_FULL_SEEN.load(std::sync::atomic::Ordering::SeqCst)
}

/// When this process last met an error of one kind: milliseconds after [`process_start`] plus
/// one, 0 for never. (A monotonic clock: a wait, not a time anyone reads.) PostgreSQL's pool
/// looks at it before handing out a connection (see `db::Db::connect`).
struct LastSeen(std::sync::atomic::AtomicU64);

impl LastSeen {
    const fn never() -> Self {
        Self(std::sync::atomic::AtomicU64::new(0))
    }

    fn now(&self) {
        self.0
            .store(millis_since_start(), std::sync::atomic::Ordering::SeqCst);
    }

    /// How long ago it was last met, `None` for never.
    fn ago(&self) -> Option<std::time::Duration> {
        let at = self.0.load(std::sync::atomic::Ordering::SeqCst);
        (at != 0).then(|| std::time::Duration::from_millis(millis_since_start().saturating_sub(at)))
    }
}

fn process_start() -> std::time::Instant {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *START.get_or_init(std::time::Instant::now)
}

fn millis_since_start() -> u64 {
    process_start().elapsed().as_millis() as u64 + 1
}

/// When a read-only database's refusal ([`is_read_only`]) was last turned into
/// [`AppError::ReadOnly`].
static READ_ONLY_SEEN: LastSeen = LastSeen::never();

/// Whether a write was refused as read-only within `window` of now: PostgreSQL's pool then
/// checks each idle session before handing it out, and retires one that is read-only (see
/// `db::Db::connect`).
pub fn read_only_seen_within(window: std::time::Duration) -> bool {
    READ_ONLY_SEEN.ago().is_some_and(|ago| ago <= window)
}

/// PostgreSQL refusing a statement this connection prepared before a column it returns changed
/// type or collation (SQLSTATE 0A000, "cached plan must not change result type"): what a newer
/// release's migration, run by another replica, does to this one's prepared statements. The
/// statement would fail the same way at every use on that connection; the schema is sound.
/// (SQLite prepares a statement again by itself when its schema changed.)
pub fn is_stale_statement(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|pg| {
                pg.code() == "0A000" && pg.message().contains("cached plan must not change")
            }),
        _ => false,
    }
}

/// When a stale statement ([`is_stale_statement`]) was last met.
static STALE_STATEMENT_SEEN: LastSeen = LastSeen::never();

/// Whether a connection opened `age` ago was opened before the last stale statement this process
/// met: its prepared statements may all be stale, so PostgreSQL's pool closes it instead of
/// handing it out (see `db::Db::connect`), and a new connection prepares them again.
pub fn opened_before_a_stale_statement(age: std::time::Duration) -> bool {
    STALE_STATEMENT_SEEN.ago().is_some_and(|ago| age >= ago)
}

/// The database has no room to write: SQLite's `SQLITE_FULL` (primary result code 13, which its
/// file layer answers for `ENOSPC`, and for a database at `max_page_count`), PostgreSQL's SQLSTATE
/// 53100 (`disk_full`).
pub fn is_storage_full(e: &sqlx::Error) -> bool {
    database_error_is(e, 13, "53100")
}

/// The database takes no writes: PostgreSQL's SQLSTATE 25006 (`read_only_sql_transaction`),
/// SQLite's `SQLITE_READONLY` (primary result code 8).
pub fn is_read_only(e: &sqlx::Error) -> bool {
    database_error_is(e, 8, "25006")
}

/// True when `e` is SQLite's `sqlite_primary` result code (the low byte of the extended code it
/// reports) or PostgreSQL's SQLSTATE `pg_state`. (A SQLSTATE can be all digits too: which
/// database said it decides how it reads.)
fn database_error_is(e: &sqlx::Error, sqlite_primary: u32, pg_state: &str) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    let Some(code) = db.code() else {
        return false;
    };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return code.parse::<u32>().unwrap_or(0) & 0xff == sqlite_primary;
    }
    code == pg_state
}

/// PostgreSQL refusing a NUL character in text (SQLSTATE 22021, `character_not_in_repertoire`:
/// its text cannot hold one). The input is wrong, not the server busy or broken.
fn holds_nul(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
                && db.code().as_deref() == Some("22021")
        }
        _ => false,
    }
}

/// Turns a unique-constraint violation into the answer the caller gives for it (a form field
/// error, a SCIM 409 `uniqueness`): the constraint decides, no SELECT before the INSERT.
pub trait UniqueOr<T> {
    fn unique_or(self, taken: impl FnOnce() -> AppError) -> AppResult<T>;
}

impl<T> UniqueOr<T> for Result<T, sqlx::Error> {
    fn unique_or(self, taken: impl FnOnce() -> AppError) -> AppResult<T> {
        match self {
            Ok(v) => Ok(v),
            Err(e) if is_unique_violation(&e) => Err(taken()),
            Err(e) => Err(e.into()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for AppError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Internal(format!("migration failed: {e}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// How a domain error reads to a SCIM client: a clash is 409 `uniqueness`, a busy database 503
/// (retried by IdPs), anything unexpected 500 with the detail kept for the server log.
impl From<AppError> for crate::scim::ScimError {
    fn from(e: AppError) -> Self {
        use crate::scim::ScimError;
        match e {
            AppError::Conflict(m) => ScimError::Uniqueness(m),
            AppError::NotFound(m) => ScimError::NotFound(m),
            AppError::Invalid { message, .. } => ScimError::InvalidValue(message),
            AppError::Forbidden(m) => ScimError::Forbidden(m),
            AppError::Busy(m) | AppError::Overloaded(m) => ScimError::Unavailable(format!(
                "the server is busy and changed nothing; retry this request ({m})"
            )),
            // The cause stays in the server log: it names the database's own state.
            AppError::ConnectionLost(_) => ScimError::Unavailable(
                "the server lost its connection to the database while answering; retry this \
                 request (a create retried may find its resource already made: 409)"
                    .into(),
            ),
            AppError::StorageFull(_) => ScimError::Unavailable(
                "the server's database has no room left (disk full) and changed nothing; retry \
                 this request later"
                    .into(),
            ),
            AppError::ReadOnly(_) => ScimError::Unavailable(
                "the server's database takes no writes right now (read-only) and changed \
                 nothing; retry this request later"
                    .into(),
            ),
            other => ScimError::Internal(other.to_string()),
        }
    }
}

/// True when `e` is a unique-constraint violation, on either database.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Executor};

    use super::*;

    /// SQLite's BUSY, as the `Any` driver hands it over, is transient: the request is answered
    /// 503 with `Retry-After`, not 500, and its detail says why in its own words, not SQLite's.
    #[tokio::test]
    async fn a_sqlite_busy_through_the_any_driver_is_transient() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/b.db?mode=rwc", dir.path().display());
        let mut holder = sqlx::AnyConnection::connect(&url).await.unwrap();
        holder.execute("PRAGMA journal_mode = WAL").await.unwrap();
        holder.execute("BEGIN IMMEDIATE").await.unwrap();
        let mut other = sqlx::AnyConnection::connect(&url).await.unwrap();
        other.execute("PRAGMA busy_timeout = 0").await.unwrap();
        let err = other.execute("BEGIN IMMEDIATE").await.unwrap_err();
        assert!(is_transient(&err), "{err:?}");
        assert!(err.to_string().contains("database is locked"), "{err}");
        assert_retry_later(
            AppError::from(err),
            "locked by other work",
            "database is locked",
        );
        holder.execute("ROLLBACK").await.unwrap();
    }

    /// A pool with no connection free in time is busy too, and says so plainly.
    #[test]
    fn a_pool_timeout_is_busy_in_plain_words() {
        let app = AppError::from(sqlx::Error::PoolTimedOut);
        assert!(matches!(app, AppError::Busy(_)), "{app:?}");
        assert_retry_later(app, "no database connection was free", "timed out");
    }

    /// `app` is answered 503 with `Retry-After: 2`, and to a SCIM client as a 503 whose detail
    /// `says` what happened and keeps the driver's words (`hides`) to the server log.
    fn assert_retry_later(app: AppError, says: &str, hides: &str) {
        assert_eq!((app.status(), app.retry_after_secs()), (503, Some(2)));
        let scim = crate::scim::ScimError::from(app);
        assert_eq!(scim.status(), 503);
        let detail = scim.detail();
        assert!(detail.contains(says) && !detail.contains(hides), "{detail}");
    }

    /// A database that cannot be reached (here: nothing listens on the port, as while
    /// PostgreSQL restarts) is a lost connection: 503 with `Retry-After` and a SCIM detail that
    /// says to retry, without the driver's words; not a 500.
    #[tokio::test]
    async fn an_unreachable_postgresql_is_a_lost_connection_not_an_internal_error() {
        sqlx::any::install_default_drivers();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let url = format!("postgres://roster@127.0.0.1:{port}/roster");
        let err = sqlx::AnyConnection::connect(&url).await.unwrap_err();
        assert!(is_connection_lost(&err), "{err:?}");
        assert!(!is_transient(&err), "{err:?}");
        let app = AppError::from(err);
        assert!(matches!(app, AppError::ConnectionLost(_)), "{app:?}");
        assert_retry_later(app, "retry this request", "refused");
    }

    /// SQLite's FULL (here a database held at its size by `max_page_count`, as a full disk
    /// holds it), through the `Any` driver, is "no room": 503 with `Retry-After` and a detail
    /// that says so without the driver's words; neither busy nor a lost connection.
    #[tokio::test]
    async fn a_full_sqlite_database_is_no_room_not_an_internal_error() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/f.db?mode=rwc", dir.path().display());
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        conn.execute("CREATE TABLE t (v TEXT)").await.unwrap();
        conn.execute("PRAGMA max_page_count = 2").await.unwrap();
        let err = conn
            .execute("INSERT INTO t VALUES (zeroblob(100000))")
            .await
            .unwrap_err();
        assert!(is_storage_full(&err), "{err:?}");
        assert!(!is_transient(&err) && !is_connection_lost(&err), "{err:?}");
        let app = AppError::from(err);
        assert!(matches!(app, AppError::StorageFull(_)), "{app:?}");
        assert!(app.to_string().contains("disk is full"), "{app}");
        assert_retry_later(app, "no room left", "code: 13");
    }

    /// SQLite's READONLY (a file opened read-only, as one it may not write is) is "takes no
    /// writes": 503 with `Retry-After`, a detail without the driver's words; not a 500.
    #[tokio::test]
    async fn a_read_only_sqlite_database_takes_no_writes_and_says_so() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        conn.execute("CREATE TABLE t (v TEXT)").await.unwrap();
        conn.close().await.unwrap();
        let url = format!("sqlite://{}?mode=ro", path.display());
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        let err = conn
            .execute("INSERT INTO t VALUES ('x')")
            .await
            .unwrap_err();
        assert!(is_read_only(&err), "{err:?}");
        assert!(!is_storage_full(&err) && !is_transient(&err), "{err:?}");
        let app = AppError::from(err);
        assert!(matches!(app, AppError::ReadOnly(_)), "{app:?}");
        assert_retry_later(app, "takes no writes", "readonly");
    }
}
