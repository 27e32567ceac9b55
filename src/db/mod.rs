//! The only place with SQL. One connection pool of sqlx's `Any` driver serves SQLite and
//! PostgreSQL with the same queries (portable SQL, `$n` parameters), chosen by the URL at run time.

pub mod access;
pub mod directory;
pub mod groups;
pub mod iam;
pub mod oidc;
pub mod scim_filter;
pub mod scim_integrations;
pub mod scim_log;
pub mod scim_users;
pub mod sessions;
pub mod tenants;
pub mod throttle;
pub mod users;

use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Executor};

use crate::error::AppResult;

pub type Conn = AnyConnection;
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database handle every part of Roster shares.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

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
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let options = match backend {
            Backend::Sqlite => {
                create_sqlite_parent_dir(url);
                // SQLite has one writer at a time; a few readers beside it is plenty.
                options
                    .max_connections((cores * 2).clamp(2, 8))
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
            Backend::Postgres => options.max_connections((cores * 4).clamp(4, 32)),
        };
        let pool = options.connect(url).await?;
        Ok(Self { pool, backend })
    }

    /// Applies the migrations in `migrations/` that have not run yet.
    pub async fn migrate(&self) -> AppResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn begin(&self) -> AppResult<Tx> {
        Ok(self.pool.begin().await?)
    }

    pub async fn acquire(&self) -> AppResult<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn create_sqlite_parent_dir(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return;
    }
    if let Some(parent) = Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            let _ = std::fs::create_dir_all(parent);
        }
    }
}

/// Flags are stored as 0/1 integers on both databases.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

pub fn flag_of(stored: i64) -> bool {
    stored != 0
}

/// A fresh random id for rows that are not named by people.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A query argument of a statement built at run time (filters, paging): `$n` binds in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// Binds `args` in order to `query`.
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
