//! The only place with SQL. One connection pool of sqlx's `Any` driver serves SQLite and
//! PostgreSQL with the same queries (portable SQL, `$n` parameters), chosen by the URL at run time.

pub mod access;
pub mod audit;
pub mod backup;
pub mod collation;
pub mod credential_cache;
pub mod directory;
pub mod group_refs;
pub mod groups;
pub mod iam;
pub mod instance_keys;
pub mod json_literals;
pub mod last_write;
pub mod log_writer;
pub mod member_refs;
pub mod migration;
pub mod oidc;
pub mod packed_rows;
pub mod page_cursors;
pub mod profile_views;
pub mod scim_filter;
pub mod scim_integrations;
pub mod scim_log;
pub mod scim_users;
pub mod script;
pub mod sessions;
pub mod sign_ins;
pub mod sqlite_checkpointer;
pub mod sqlite_readers;
pub mod sqlite_writer;
pub mod tenants;
pub mod throttle;
pub mod triggers;
pub mod users;
pub mod wal_vfs;
pub mod write_count;

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Executor, Row};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AppError, AppResult};

pub type Conn = AnyConnection;
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// How long a write waits for its turn (SQLite: the one writer; PostgreSQL: a pool connection)
/// before it gives up with [`AppError::Busy`] (503 with `Retry-After` for SCIM clients).
pub const WRITE_WAIT: Duration = Duration::from_secs(15);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Which database a connection talks to, for the few statements whose SQL differs.
pub fn backend_of(conn: &Conn) -> Backend {
    match conn.backend_name() {
        "PostgreSQL" => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// The database handle every part of Roster shares.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// SQLite: the one connection every write transaction runs on. Writers take turns anyway,
    /// and one connection keeps its page cache across writes: a connection whose cache another
    /// connection's commit made stale reads every page it touches again (`pread` was a seventh
    /// of a create's CPU when writes ran on whichever pool connection was free). Held outside
    /// the pool ([`sqlite_writer`]); its lock is the writers' turn. Reads use `pool`. `None` on
    /// PostgreSQL and for an in-memory database.
    writer: Option<sqlite_writer::SqliteWriter>,
    /// SQLite: the connections reads take ([`Db::acquire`]), held outside the pool
    /// ([`sqlite_readers`]). `None` on PostgreSQL and for an in-memory database.
    readers: Option<sqlite_readers::SqliteReaders>,
    /// SQLite: copies the write-ahead log back into the database file beside the writes
    /// ([`sqlite_checkpointer`]). `None` where `writer` is, and when the database is not opened
    /// through [`wal_vfs`].
    checkpointer: Option<Arc<sqlite_checkpointer::SqliteCheckpointer>>,
    backend: Backend,
    /// SQLite allows one writer at a time: writers of this process take turns (fairly, in
    /// arrival order, without holding a pool connection) instead of polling SQLite's busy
    /// handler — on the writer's lock, or here for an in-memory database, whose writes share the
    /// pool. Absent on PostgreSQL, where row locks and constraints order concurrent writers.
    writer_turn: Option<Arc<Semaphore>>,
    /// The SCIM request log's batching writer (see [`log_writer`]).
    log_writer: log_writer::LogWriter,
    /// Where paging clients' last pages ended ([`page_cursors`]).
    pages: page_cursors::PageCursors,
    /// Recently read integration credentials ([`credential_cache`]), exact while no write that
    /// can change them has started here (every write but directory and bookkeeping writes).
    credentials: credential_cache::CredentialCache,
    /// The key SCIM cursors are sealed with ([`instance_keys`]), read or made by
    /// [`Db::migrate`].
    cursor_key: Arc<std::sync::OnceLock<crate::scim::cursor::CursorKey>>,
}

/// A write transaction: on SQLite it holds the writer's turn and SQLite's write lock from its
/// first statement (`BEGIN IMMEDIATE`), so reading then writing can never fail to upgrade.
/// Dereferences to the connection. Dropped without [`WriteTx::commit`], it rolls back.
pub struct WriteTx {
    tx: WriteOn,
    _turn: Option<OwnedSemaphorePermit>,
    /// Counts the write as finished when the transaction ends, when it is one that can change
    /// access (cached credentials).
    _ends: Option<write_count::WriteEnd>,
}

/// A connection to read on, from [`Db::acquire`]; dereferences to the connection.
pub enum ReadConn {
    Reader(sqlite_readers::ReaderConn),
    Pooled(sqlx::pool::PoolConnection<sqlx::Any>),
}

impl Deref for ReadConn {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        match self {
            ReadConn::Reader(conn) => conn,
            ReadConn::Pooled(conn) => conn,
        }
    }
}

impl DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut Conn {
        match self {
            ReadConn::Reader(conn) => conn,
            ReadConn::Pooled(conn) => conn,
        }
    }
}

/// Where a write transaction runs: SQLite's writing connection, or a pool connection.
enum WriteOn {
    Writer(sqlite_writer::WriterTx),
    Pool(Tx),
}

impl WriteTx {
    pub async fn commit(self) -> AppResult<()> {
        match self.tx {
            WriteOn::Writer(tx) => tx.commit().await,
            WriteOn::Pool(tx) => Ok(tx.commit().await?),
        }
    }

    /// How the transaction ends in its last script ([`last_write`]; empty off SQLite's writer).
    pub fn last_write(&self) -> last_write::LastWrite {
        match &self.tx {
            WriteOn::Writer(tx) => tx.last_write(),
            WriteOn::Pool(_) => last_write::LastWrite::default(),
        }
    }

    pub async fn rollback(self) -> AppResult<()> {
        match self.tx {
            WriteOn::Writer(tx) => tx.rollback().await,
            WriteOn::Pool(tx) => Ok(tx.rollback().await?),
        }
    }
}

impl Deref for WriteTx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        match &self.tx {
            WriteOn::Writer(tx) => tx,
            WriteOn::Pool(tx) => tx,
        }
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Conn {
        match &mut self.tx {
            WriteOn::Writer(tx) => tx,
            WriteOn::Pool(tx) => tx,
        }
    }
}

/// A PostgreSQL session takes `default_transaction_read_only` when it starts: one opened while
/// the database was read-only (maintenance: `ALTER DATABASE … SET default_transaction_read_only
/// = on`) stays read-only after the setting is turned off, and a pool kept busy holds it for
/// its lifetime (30 minutes), refusing writes. For this long after a write was refused as
/// read-only, each idle session is asked before it is handed out, and one that is read-only is
/// retired: a new one takes the database's setting of now. (Reads then pay a round trip, and
/// while the database stays read-only a new session for each request.)
const READ_ONLY_RECHECK: Duration = Duration::from_secs(60);
/// Whether the session's next transaction would be read-only.
const SESSION_READ_ONLY: &str = "SELECT current_setting('transaction_read_only') AS ro";

/// Per-connection limits on PostgreSQL (see [`Db::connect`]): `lock_timeout` matches the
/// SQLite writer's wait. They travel in the connection's startup message (the URL's
/// `options[…]`), not in a `SET` after it: a session ended while a `SET` ran was logged by the
/// pool as an error of its own, though the pool only tried again.
const PG_SESSION_LIMITS: [(&str, &str); 2] = [
    ("options[lock_timeout]", "15s"),
    ("options[idle_in_transaction_session_timeout]", "60s"),
];

impl Db {
    /// Connects (creating the SQLite file and its folder if missing) and sizes the pool for the
    /// machine. Does not migrate: call [`Db::migrate`].
    pub async fn connect(url: &str) -> AppResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let url = &match backend {
            Backend::Sqlite => sqlite_file_url(url),
            Backend::Postgres => with_default_params(url, &PG_SESSION_LIMITS),
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
        // A connection is tested before each use, so one that PostgreSQL ended (a restart, a
        // failover) is replaced rather than handed to a request (`error::is_connection_lost`).
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(true);
        let options = match backend {
            Backend::Sqlite => {
                prepare_sqlite_file(url);
                // SQLite has one writer at a time; a few readers beside it is plenty.
                sqlite_options(options).max_connections((cores * 2).clamp(2, 8))
            }
            // No wait is unbounded: a row lock not granted within the writer's wait answers
            // 503 (55P03, transient) instead of hanging the request, and a transaction left
            // open by a stuck client is ended by the server.
            Backend::Postgres => options
                .max_connections((cores * 4).clamp(4, 32))
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        // Its prepared statements may be stale: closed, and another opened.
                        if crate::error::opened_before_a_stale_statement(meta.age) {
                            return Ok(false);
                        }
                        if !crate::error::read_only_seen_within(READ_ONLY_RECHECK) {
                            return Ok(true);
                        }
                        let row = sqlx::query(SESSION_READ_ONLY).fetch_one(&mut *conn).await?;
                        Ok(row.try_get::<String, _>("ro")? != "on")
                    })
                }),
        };
        let pool = options.connect(url).await?;
        // One connection for every write: see `Db::writer`. (An in-memory database is one per
        // connection, so there the writes share the pool.)
        let (writer, readers, checkpointer) =
            if backend == Backend::Sqlite && !url.contains(":memory:") {
                let options = || sqlite_options(AnyPoolOptions::new().acquire_timeout(WRITE_WAIT));
                let count = (cores * 2).clamp(2, 8);
                let writer = sqlite_writer::SqliteWriter::connect(options(), url).await?;
                let checkpointer = sqlite_checkpointer::SqliteCheckpointer::start(
                    options(),
                    url,
                    writer.clone(),
                    sqlite_writer::WAL_PAGES_BEFORE_CHECKPOINT,
                )
                .await?;
                (
                    Some(writer),
                    Some(sqlite_readers::SqliteReaders::connect(options(), url, count).await?),
                    checkpointer.map(Arc::new),
                )
            } else {
                (None, None, None)
            };
        let writer_turn =
            (backend == Backend::Sqlite && writer.is_none()).then(|| Arc::new(Semaphore::new(1)));
        let access_writes: Arc<write_count::WriteCount> = Arc::default();
        Ok(Self {
            pool,
            writer,
            readers,
            checkpointer,
            backend,
            writer_turn,
            log_writer: log_writer::LogWriter::default(),
            pages: page_cursors::PageCursors::default(),
            credentials: credential_cache::CredentialCache::new(access_writes),
            cursor_key: Arc::default(),
        })
    }

    /// Applies the migrations in `migrations/` that have not run yet, then writes what a
    /// migration could not, giving way on PostgreSQL to replicas serving beside it
    /// ([`migration`]).
    pub async fn migrate(&self) -> AppResult<()> {
        migration::apply(self, &MIGRATOR).await.map(|_| ())
    }

    /// [`Db::migrate`] with another set of migrations (a test's, standing for a later
    /// release's; [`sqlx::migrate::Migrator::ignore_missing`] for those already applied).
    /// Answers the number of attempts it took.
    pub async fn migrate_with(&self, migrator: &sqlx::migrate::Migrator) -> AppResult<u32> {
        migration::apply(self, migrator).await
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction for reads only (a consistent snapshot). Anything that writes uses
    /// [`Db::begin_write`].
    pub async fn begin(&self) -> AppResult<Tx> {
        Ok(self.pool.begin().await?)
    }

    /// The one way to start a transaction that writes. On SQLite it waits for the writer's turn
    /// (at most [`WRITE_WAIT`]) and starts with `BEGIN IMMEDIATE`; on PostgreSQL it is a plain
    /// `BEGIN` and constraints decide between concurrent writers.
    /// Counted as a write that may change access (cached credentials, [`credential_cache`]).
    pub async fn begin_write(&self) -> AppResult<WriteTx> {
        self.begin_write_counted(Some(self.credentials.access_writes().start()))
            .await
    }

    /// [`Db::begin_write`] for a write that changes no integration, token, role or binding of
    /// one (a SCIM request's users, groups and memberships; the request log and token stamps):
    /// cached credentials stay exact.
    pub async fn begin_write_keeping_credentials(&self) -> AppResult<WriteTx> {
        self.begin_write_counted(None).await
    }

    async fn begin_write_counted(&self, ends: Option<write_count::WriteEnd>) -> AppResult<WriteTx> {
        let turn = match &self.writer_turn {
            Some(sem) => {
                let permit = tokio::time::timeout(WRITE_WAIT, sem.clone().acquire_owned())
                    .await
                    .map_err(|_| AppError::busy("waited too long for the database's writer"))?
                    .map_err(|_| AppError::busy("the database is shutting down"))?;
                Some(permit)
            }
            None => None,
        };
        let tx = match (self.backend, &self.writer) {
            (_, Some(writer)) => WriteOn::Writer(writer.begin().await?),
            (Backend::Sqlite, None) => {
                WriteOn::Pool(self.pool.begin_with("BEGIN IMMEDIATE").await?)
            }
            (Backend::Postgres, None) => WriteOn::Pool(self.pool.begin().await?),
        };
        Ok(WriteTx {
            tx,
            _turn: turn,
            _ends: ends,
        })
    }

    /// Integration credentials read recently.
    pub fn credential_cache(&self) -> &credential_cache::CredentialCache {
        &self.credentials
    }

    /// Where paging clients' last pages of users ended.
    pub fn page_cursors(&self) -> &page_cursors::PageCursors {
        &self.pages
    }

    /// The key SCIM cursors are sealed with: the instance's, shared by its replicas
    /// ([`instance_keys`]), read or made by [`Db::migrate`].
    pub fn cursor_key(&self) -> AppResult<crate::scim::cursor::CursorKey> {
        self.cursor_key.get().cloned().ok_or_else(|| {
            AppError::Internal("the database was not migrated: no cursor key was read".into())
        })
    }

    /// Keeps the cursor key [`migration`] read (the first one kept wins).
    fn keep_cursor_key(&self, key: crate::scim::cursor::CursorKey) {
        let _ = self.cursor_key.set(key);
    }

    /// Queues a SCIM request-log entry for the batching writer ([`log_writer`]).
    pub async fn queue_log(&self, queued: log_writer::Queued) {
        self.log_writer.append(self, queued).await;
    }

    /// Waits until every log entry this process queued before the call is written.
    pub async fn flush_log(&self) {
        self.log_writer.flush().await;
    }

    /// A connection to read on (SQLite: one of [`sqlite_readers`]; else from the pool).
    pub async fn acquire(&self) -> AppResult<ReadConn> {
        Ok(match &self.readers {
            Some(readers) => ReadConn::Reader(readers.acquire().await?),
            None => ReadConn::Pooled(self.pool.acquire().await?),
        })
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.flush_log().await;
        if let Some(readers) = &self.readers {
            readers.close().await;
        }
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.close().await;
        }
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
}

/// A read of several statements at one moment: each statement inside sees the same snapshot,
/// where a read outside a transaction sees what was committed when each statement began (see
/// `http::scim::request`'s reads). SQLite: a deferred `BEGIN`, whose snapshot starts at its first
/// read; PostgreSQL: `REPEATABLE READ, READ ONLY` (a read-only transaction there never fails to
/// serialize). Inside a transaction already, a savepoint of it. Dropped without commit, it rolls
/// back, which for a read ends it the same way.
pub async fn read_at_one_moment(conn: &mut Conn) -> AppResult<sqlx::Transaction<'_, sqlx::Any>> {
    use sqlx::Connection;
    if conn.is_in_transaction() {
        return Ok(conn.begin().await?);
    }
    let begin = match backend_of(conn) {
        Backend::Sqlite => "BEGIN",
        Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    };
    Ok(conn.begin_with(begin).await?)
}

/// Every SQLite connection's settings. A connection to a local file does not go stale: no ping
/// (a round trip to the connection's worker thread) before each use.
fn sqlite_options(options: AnyPoolOptions) -> AnyPoolOptions {
    options
        .test_before_acquire(false)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = 5000; \
                     PRAGMA synchronous = NORMAL;",
                )
                .await?;
                Ok(())
            })
        })
}

/// `count` SQLite connections with `options` (see [`sqlite_options`]), opened through a pool that
/// is closed again: [`sqlite_writer`] and [`sqlite_readers`] hold them outside any pool.
async fn sqlite_connections(
    options: AnyPoolOptions,
    url: &str,
    count: u32,
) -> AppResult<Vec<sqlx::AnyConnection>> {
    let pool = options
        .max_connections(count)
        .min_connections(0)
        .connect(url)
        .await?;
    // All are taken before any is detached, so that each is a connection of its own.
    let mut taken = Vec::with_capacity(count as usize);
    for _ in 0..count {
        taken.push(pool.acquire().await?);
    }
    let connections = taken.into_iter().map(|c| c.detach()).collect();
    pool.close().await;
    Ok(connections)
}

/// A SQLite file's URL as Roster opens it: created if missing (a URL without `mode=` opens an
/// existing file only, "unable to open database file" otherwise; Roster's promise is that the
/// file is created, so `mode=rwc` is added), through [`wal_vfs`] unless the URL names a `vfs=`.
fn sqlite_file_url(url: &str) -> String {
    if !url.starts_with("sqlite:") || url.contains(":memory:") {
        return url.to_string();
    }
    let mut params = vec![("mode", "rwc")];
    params.extend(wal_vfs::register().map(|vfs| ("vfs", vfs)));
    with_default_params(url, &params)
}

/// `url` with each `key=value` of `params` added to its query, unless the URL already sets that
/// key (for PostgreSQL's `options[name]`, that setting, however written): what the operator
/// wrote wins.
fn with_default_params(url: &str, params: &[(&str, &str)]) -> String {
    let mut url = url.to_string();
    for (key, value) in params {
        let name = key
            .strip_prefix("options[")
            .and_then(|k| k.strip_suffix(']'))
            .unwrap_or(key);
        if !url.contains(&format!("{name}=")) && !url.contains(&format!("{name}]=")) {
            let joiner = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{joiner}{key}={value}");
        }
    }
    url
}

/// The file of a SQLite database URL (`sqlite://path?…`, `sqlite:path`); `None` for another
/// database or one in memory.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| std::path::PathBuf::from(path))
}

/// Makes a SQLite file's folder, and the file itself when it is missing: empty (SQLite reads an
/// empty file as a new database) and readable by its owner alone, since it holds password and
/// token hashes. SQLite gives the `-wal` and `-shm` files beside it the same permissions. An
/// existing file keeps the ones its operator chose.
fn prepare_sqlite_file(url: &str) {
    let Some(path) = sqlite_path(url) else {
        return;
    };
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            let _ = std::fs::create_dir_all(parent);
        }
    }
    let opens_only = url.contains("mode=ro") || url.contains("mode=memory");
    if !opens_only {
        use std::os::unix::fs::OpenOptionsExt;
        // Fails harmlessly when the file exists (or appeared meanwhile).
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path);
    }
}

/// Flags are stored as 0/1 integers on both databases.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

pub fn flag_of(stored: i64) -> bool {
    stored != 0
}

/// A fresh id for rows that are not named by people: a UUIDv7 (time-ordered, 74 random bits).
/// Rows created one after another get neighbouring ids, so a directory's id indexes (users,
/// tenant access, memberships) grow at their right edge instead of at a random page each:
/// random ids made a create or a 100-member PATCH touch ever more scattered pages as the
/// directory grew. Ids are not secrets; no rule depends on their order.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A query argument of a statement built at run time (filters, paging): `$n` binds in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// ` LIMIT $n` for `limit`, and ` OFFSET $m` only when `offset` is not 0, their values pushed
/// on `args`. PostgreSQL plans a prepared statement afresh at each run while its generic plan
/// (the one for any values) looks costlier than the plans made for the values given, and an
/// `OFFSET` of unknown value makes it look twice as costly: every `userName eq` look-up (and
/// every page) was planned again, 0.55 ms of the database's CPU for a statement that runs in
/// 0.06. Without the `OFFSET` the generic plan is taken after five runs, as for the other
/// statements; a page further on (an `OFFSET`) is its own statement, planned as before.
pub fn limit_offset(args: &mut Vec<Arg>, limit: i64, offset: i64) -> String {
    use std::fmt::Write;
    args.push(Arg::Int(limit));
    let mut clause = format!(" LIMIT ${}", args.len());
    if offset != 0 {
        args.push(Arg::Int(offset));
        let _ = write!(clause, " OFFSET ${}", args.len());
    }
    clause
}

/// ` AND (created, id) > ($m, $n)` (`<` descending), with `after`'s sort key bound: a walk in
/// creation order that resumes after a row starts there (a seek on the creation index, or a
/// test of a filter's rows) instead of skipping rows.
pub fn seek_after(
    args: &mut Vec<Arg>,
    after: &page_cursors::After,
    order: crate::scim::resource::SortOrder,
    created: &str,
    id: &str,
) -> String {
    let cmp = match order {
        crate::scim::resource::SortOrder::Ascending => ">",
        crate::scim::resource::SortOrder::Descending => "<",
    };
    args.push(Arg::Int(after.created_at));
    args.push(Arg::Text(after.id.clone()));
    let n = args.len();
    format!(" AND ({created}, {id}) {cmp} (${}, ${n})", n - 1)
}

/// Most values bound in one `IN (…)` list: batched lookups and writes go in chunks of this many
/// (SQLite builds before 3.32 allow 999 variables per statement, later ones 32,766).
pub const IN_CHUNK: usize = 500;

/// `($first), ($first+1), …`: `n` one-column rows of placeholders, for `FROM (VALUES …) v` (its
/// column is `v.column1` in both databases).
pub fn value_rows(first: usize, n: usize) -> String {
    let mut out = String::with_capacity(n * 7);
    for i in first..first + n {
        if i > first {
            out.push_str(", ");
        }
        out.push_str("($");
        out.push_str(&i.to_string());
        out.push(')');
    }
    out
}

/// `$first, $first+1, …` for `n` values: the inside of an `IN (…)` list.
pub fn placeholders(first: usize, n: usize) -> String {
    let mut out = String::with_capacity(n * 5);
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('$');
        out.push_str(&(first + i).to_string());
    }
    out
}

/// The total of a listing when its page alone tells it: a page that is not full and not past the
/// end holds the last of the results. `None` means the total must be counted.
pub fn total_from_page(offset: i64, limit: i64, rows: usize) -> Option<i64> {
    let rows = rows as i64;
    (rows < limit && (rows > 0 || offset == 0)).then_some(offset + rows)
}

/// Runs `sql` with `args` bound in order and maps every row with `map`.
pub async fn fetch_mapped<T>(
    conn: &mut Conn,
    sql: &str,
    args: &[Arg],
    map: fn(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
) -> AppResult<Vec<T>> {
    let rows = bind_all(sqlx::query(sql), args)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(map).collect::<Result<_, _>>()?)
}

/// Binds `args` in order to `query`.
pub fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    args: &'q [Arg],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for a in args {
        query = match a {
            Arg::Text(t) => query.bind(t.as_str()),
            Arg::Int(i) => query.bind(*i),
        };
    }
    query
}

/// What tests of SQL plans share: a migrated SQLite file and the plan SQLite picks.
#[cfg(test)]
pub(crate) mod plans {
    use sqlx::Row;

    use super::{bind_all, Arg, Db};

    /// A migrated SQLite database in a temporary folder (kept while the folder is).
    pub async fn migrated_sqlite() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(&format!("sqlite://{}/plan.db", dir.path().display()))
            .await
            .expect("connect");
        db.migrate().await.expect("migrate");
        (dir, db)
    }

    /// The steps of SQLite's plan for `sql` with `args` bound, one line each.
    pub async fn steps(db: &Db, sql: &str, args: &[Arg]) -> Vec<String> {
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut conn = db.acquire().await.expect("connection");
        bind_all(sqlx::query(&explain), args)
            .fetch_all(&mut *conn)
            .await
            .expect("explain")
            .iter()
            .map(|r| r.try_get::<String, _>("detail").expect("detail"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    /// Every reference between tables is indexed on its referring side, its columns leading an
    /// index: deleting the row referred to (and the database's own `ON DELETE` check) then seeks
    /// the rows that refer to it instead of walking their whole table.
    #[tokio::test]
    async fn every_reference_is_indexed_where_it_refers() {
        use sqlx::Row;
        let (_dir, db) = super::plans::migrated_sqlite().await;
        let mut conn = db.acquire().await.expect("connection");
        let texts = |rows: Vec<sqlx::any::AnyRow>, column: &str| -> Vec<String> {
            rows.iter()
                .map(|r| r.try_get(column).expect(column))
                .collect()
        };
        let tables = texts(
            sqlx::query(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
            )
            .fetch_all(&mut *conn)
            .await
            .expect("tables"),
            "name",
        );
        let mut unindexed = Vec::new();
        for table in &tables {
            let mut leads: Vec<Vec<String>> = Vec::new();
            let indexes = sqlx::query(&format!("SELECT name FROM pragma_index_list('{table}')"))
                .fetch_all(&mut *conn)
                .await
                .expect("indexes");
            for index in texts(indexes, "name") {
                let columns = sqlx::query(&format!(
                    "SELECT name FROM pragma_index_info('{index}') ORDER BY seqno"
                ))
                .fetch_all(&mut *conn)
                .await
                .expect("index columns");
                leads.push(texts(columns, "name"));
            }
            let references = sqlx::query(&format!(
                "SELECT id, \"from\" AS col FROM pragma_foreign_key_list('{table}') ORDER BY id, seq"
            ))
            .fetch_all(&mut *conn)
            .await
            .expect("references");
            let mut by_id: Vec<(i64, Vec<String>)> = Vec::new();
            for r in &references {
                let id: i64 = r.try_get("id").expect("id");
                let column: String = r.try_get("col").expect("col");
                match by_id.last_mut() {
                    Some((last, columns)) if *last == id => columns.push(column),
                    _ => by_id.push((id, vec![column])),
                }
            }
            for (_, columns) in by_id {
                if !leads.iter().any(|lead| lead.starts_with(&columns)) {
                    unindexed.push(format!("{table} ({})", columns.join(", ")));
                }
            }
        }
        assert!(tables.len() > 20, "{tables:?}");
        assert_eq!(
            unindexed,
            Vec::<String>::new(),
            "references with no index leading with them"
        );
    }

    #[test]
    fn a_sqlite_file_is_created_and_opened_through_the_wal_layer_unless_the_url_says_otherwise() {
        use super::sqlite_file_url;
        assert_eq!(
            sqlite_file_url("sqlite:///data/roster.db"),
            "sqlite:///data/roster.db?mode=rwc&vfs=roster-wal"
        );
        assert_eq!(
            sqlite_file_url("sqlite:///data/roster.db?mode=ro"),
            "sqlite:///data/roster.db?mode=ro&vfs=roster-wal"
        );
        assert_eq!(
            sqlite_file_url("sqlite:///data/roster.db?vfs=unix"),
            "sqlite:///data/roster.db?vfs=unix&mode=rwc"
        );
        for unchanged in ["sqlite::memory:", "postgres://roster@localhost/roster"] {
            assert_eq!(sqlite_file_url(unchanged), unchanged);
        }
    }

    #[test]
    fn postgresql_sessions_get_their_limits_at_startup_unless_the_url_sets_them() {
        use super::{with_default_params, PG_SESSION_LIMITS};
        let limits = "options[lock_timeout]=15s&options[idle_in_transaction_session_timeout]=60s";
        assert_eq!(
            with_default_params("postgres://r@db/roster", &PG_SESSION_LIMITS),
            format!("postgres://r@db/roster?{limits}")
        );
        assert_eq!(
            with_default_params("postgres://r@db/roster?sslmode=require", &PG_SESSION_LIMITS),
            format!("postgres://r@db/roster?sslmode=require&{limits}")
        );
        // The operator's own setting, in either of the URL's spellings, is kept.
        assert_eq!(
            with_default_params(
                "postgres://r@db/roster?options=-c lock_timeout=5s",
                &PG_SESSION_LIMITS
            ),
            "postgres://r@db/roster?options=-c lock_timeout=5s\
             &options[idle_in_transaction_session_timeout]=60s"
        );
        assert_eq!(
            with_default_params(
                "postgres://r@db/roster?options[idle_in_transaction_session_timeout]=0",
                &PG_SESSION_LIMITS
            ),
            "postgres://r@db/roster?options[idle_in_transaction_session_timeout]=0\
             &options[lock_timeout]=15s"
        );
    }

    #[test]
    fn a_page_that_is_not_full_tells_the_total() {
        use super::total_from_page;
        assert_eq!(total_from_page(0, 100, 0), Some(0));
        assert_eq!(total_from_page(0, 100, 7), Some(7));
        assert_eq!(total_from_page(200, 100, 30), Some(230));
        // A full page, a page past the end and a count-only request must count.
        assert_eq!(total_from_page(0, 100, 100), None);
        assert_eq!(total_from_page(500, 100, 0), None);
        assert_eq!(total_from_page(0, 0, 0), None);
    }

    /// A SQLite file (in the returned folder) migrated up to, not including, `version`, on a pool
    /// of one connection: rows written there are what an older release left.
    async fn sqlite_migrated_before(version: i64) -> (tempfile::TempDir, sqlx::AnyPool) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/m.db?mode=rwc", dir.path().display());
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("connect");
        let earlier = sqlx::migrate::Migrator {
            migrations: super::MIGRATOR
                .iter()
                .filter(|m| m.version < version)
                .cloned()
                .collect(),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        earlier.run(&pool).await.expect("the earlier migrations");
        (dir, pool)
    }

    /// Migration 0011 starts each tenant's kept count of access at the access rows it has.
    #[tokio::test]
    async fn migration_0011_counts_the_access_each_tenant_already_has() {
        use sqlx::{Executor, Row};
        let (_dir, pool) = sqlite_migrated_before(11).await;
        pool.execute(
            "INSERT INTO tenants (id, name, created_at, updated_at) VALUES \
             ('a', 'A', 0, 0), ('b', 'B', 0, 0); \
             INSERT INTO users (id, username, username_lower, created_at, updated_at) VALUES \
             ('u1', 'u1', 'u1', 0, 0), ('u2', 'u2', 'u2', 0, 0), ('u3', 'u3', 'u3', 0, 0); \
             INSERT INTO tenant_access (tenant_id, user_id, created_at) VALUES \
             ('a', 'u1', 0), ('a', 'u2', 0), ('a', 'u3', 0), ('b', 'u2', 0)",
        )
        .await
        .expect("rows from before");
        super::MIGRATOR.run(&pool).await.expect("migration 11");
        let counts: Vec<(String, i64)> =
            sqlx::query("SELECT id, access_count FROM tenants ORDER BY id")
                .fetch_all(&pool)
                .await
                .expect("counts")
                .iter()
                .map(|r| (r.get("id"), r.get("access_count")))
                .collect();
        assert_eq!(counts, vec![("a".into(), 3), ("b".into(), 1)]);
    }

    /// Migration 0014 moves each tenant's kept count into its slot 0, so the sum of its slots
    /// is the count it kept; a tenant with no access has a slot of 0.
    #[tokio::test]
    async fn migration_0014_moves_each_kept_count_into_slot_0() {
        use sqlx::{Executor, Row};
        let (_dir, pool) = sqlite_migrated_before(14).await;
        pool.execute(
            "INSERT INTO tenants (id, name, created_at, updated_at, access_count) VALUES \
             ('a', 'A', 0, 0, 3), ('b', 'B', 0, 0, 0)",
        )
        .await
        .expect("tenants from before");
        super::MIGRATOR.run(&pool).await.expect("migration 14");
        let slots: Vec<(String, i64, i64)> =
            sqlx::query("SELECT tenant_id, slot, n FROM tenant_access_counts ORDER BY tenant_id")
                .fetch_all(&pool)
                .await
                .expect("slots")
                .iter()
                .map(|r| (r.get("tenant_id"), r.get("slot"), r.get("n")))
                .collect();
        assert_eq!(slots, vec![("a".into(), 0, 3), ("b".into(), 0, 0)]);
    }

    /// Migration 0013 copies each user's creation time onto their access rows; a row an older
    /// binary inserts without it afterwards (a rolling start) is given it at this release's
    /// start, or by the trigger that start installs.
    #[tokio::test]
    async fn access_rows_carry_their_users_creation_time_from_before_and_after_0013() {
        use sqlx::{Executor, Row};
        let (_dir, pool) = sqlite_migrated_before(13).await;
        pool.execute(
            "INSERT INTO tenants (id, name, created_at, updated_at) VALUES ('a', 'A', 0, 0); \
             INSERT INTO users (id, username, username_lower, created_at, updated_at) VALUES \
             ('u1', 'u1', 'u1', 11, 11), ('u2', 'u2', 'u2', 22, 22), ('u3', 'u3', 'u3', 33, 33); \
             INSERT INTO tenant_access (tenant_id, user_id, created_at) VALUES \
             ('a', 'u1', 0), ('a', 'u2', 0)",
        )
        .await
        .expect("rows from before");
        super::MIGRATOR.run(&pool).await.expect("migration 13");
        // What an older binary inserts: no creation time. Before this release's first start
        // (no trigger yet) the start fills it in; after it, the trigger does.
        pool.execute(
            "INSERT INTO tenant_access (tenant_id, user_id, created_at) VALUES ('a', 'u3', 0)",
        )
        .await
        .expect("a row from an older binary");
        let mut conn = pool.acquire().await.expect("conn");
        assert_eq!(
            super::access::prepare_creation_order(&mut conn)
                .await
                .expect("first start"),
            1
        );
        conn.execute(
            "INSERT INTO tenants (id, name, created_at, updated_at) VALUES ('b', 'B', 0, 0); \
             INSERT INTO tenant_access (tenant_id, user_id, created_at) VALUES ('b', 'u2', 0)",
        )
        .await
        .expect("an older binary's row after the start");
        assert_eq!(
            super::access::prepare_creation_order(&mut conn)
                .await
                .expect("next start"),
            0,
            "the trigger filled it in"
        );
        let rows: Vec<(String, i64)> = sqlx::query(
            "SELECT user_id, user_created_at FROM tenant_access ORDER BY tenant_id, user_id",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("rows")
        .iter()
        .map(|r| (r.get("user_id"), r.get("user_created_at")))
        .collect();
        assert_eq!(
            rows,
            vec![
                ("u1".into(), 11),
                ("u2".into(), 22),
                ("u3".into(), 33),
                ("u2".into(), 22)
            ]
        );
    }

    #[test]
    fn ids_created_one_after_another_sort_in_that_order_and_differ() {
        let ids: Vec<String> = (0..2000).map(|_| super::new_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids, "ids sort in creation order");
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len(), "no id repeats");
        assert!(ids
            .iter()
            .all(|id| id.len() == 36 && id.as_bytes()[14] == b'7'));
    }

    #[test]
    fn placeholders_number_from_the_first() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(placeholders(1, 0), "");
    }
}
