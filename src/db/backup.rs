//! Backups of the embedded SQLite database, taken while Roster serves, and their restoring.
//!
//! A backup is SQLite's `VACUUM INTO`: one read transaction, so the copy is the database as one
//! commit left it, while the server goes on reading and writing (a WAL reader blocks no
//! writer). It is written beside its destination under a temporary name, made readable by its
//! owner alone (it holds password and token hashes), flushed to disk, checked (SQLite's
//! `integrity_check`, and its migrations read), and only then linked to its name, which it
//! never overwrites: a backup interrupted leaves no file that looks like one.
//!
//! A restore replaces the database file with a checked backup: one this Roster can migrate
//! (none of its migrations unknown here, none changed), whole. It refuses while anything has
//! the database open (it takes SQLite's exclusive lock first, without waiting). The database it
//! replaces is kept beside it, its log copied in, under a name with the time of the restore.
//!
//! PostgreSQL has its own tools (`pg_dump`, `pg_restore`), which these point to.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};

use super::{sqlite_path, MIGRATOR};
use crate::error::{AppError, AppResult};

/// What a backup file holds, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// The last migration applied to it.
    pub schema_version: i64,
    pub tenants: i64,
    pub users: i64,
    pub groups: i64,
    pub integrations: i64,
    pub bytes: u64,
}

/// A restore done: what the database now holds, and where the one it replaced was kept.
#[derive(Debug)]
pub struct Restored {
    pub contents: Contents,
    pub replaced: Option<PathBuf>,
}

const ON_POSTGRES: &str = "ROSTER_DATABASE_URL names PostgreSQL: back it up with `pg_dump \
     --format=custom` and restore it with `pg_restore --clean`; `roster backup` and `roster \
     restore` are for the embedded SQLite database";

/// Writes a consistent copy of the database at `url` to `target`, a file that must not exist,
/// and answers what it holds.
pub async fn backup(url: &str, target: &Path) -> AppResult<Contents> {
    let live = live_database(url)?;
    if !live.is_file() {
        return Err(invalid(format!(
            "there is no database at {}: nothing to back up",
            live.display()
        )));
    }
    if target.exists() {
        return Err(AppError::Conflict(format!(
            "{} exists: a backup never overwrites a file; name a new one",
            target.display()
        )));
    }
    if let Some(dir) = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        return Err(invalid(format!(
            "there is no folder {}: make it first",
            dir.display()
        )));
    }
    let partial = beside(target, "partial")?;
    let written = write_backup(&live, &partial, target).await;
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

async fn write_backup(live: &Path, partial: &Path, target: &Path) -> AppResult<Contents> {
    // Made first, empty and the owner's alone: `VACUUM INTO` writes into an empty file.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(partial)
        .map_err(|e| io_error("cannot create", partial, e))?;
    let mut conn = connect(live, false, WAIT_TO_READ).await?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(partial.to_string_lossy().into_owned())
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    // The error is the copy's, not the database's (a full disk is the backup's own).
    copied.map_err(|e| AppError::Internal(format!("cannot write {}: {e}", target.display())))?;
    sync_file(partial)?;
    let contents = check(partial).await?;
    // A link fails if `target` appeared meanwhile: still never overwritten.
    std::fs::hard_link(partial, target).map_err(|e| io_error("cannot write", target, e))?;
    std::fs::remove_file(partial).map_err(|e| io_error("cannot remove", partial, e))?;
    sync_parent(target)?;
    Ok(contents)
}

/// Replaces the database at `url` with the backup `source`, once it is checked and nothing has
/// the database open. `stamp` names the replaced database's copy (`<file>.replaced-<stamp>`).
pub async fn restore(url: &str, source: &Path, stamp: &str) -> AppResult<Restored> {
    let live = live_database(url)?;
    if !source.is_file() {
        return Err(invalid(format!("there is no file at {}", source.display())));
    }
    if live.is_file() && same_file(source, &live)? {
        return Err(invalid(format!(
            "{} is the database itself: restore a backup of it",
            source.display()
        )));
    }
    let contents = check(source).await?;
    let replaced = if live.is_file() {
        Some(set_aside(&live, stamp).await?)
    } else {
        if let Some(dir) = live.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
        }
        None
    };
    let partial = beside(&live, "restoring")?;
    let copied = copy_into_place(source, &partial, &live);
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied?;
    Ok(Restored { contents, replaced })
}

/// Moves the database at `live` aside, to `<file>.replaced-<stamp>`, with its log copied in:
/// refused while any connection has it open.
async fn set_aside(live: &Path, stamp: &str) -> AppResult<PathBuf> {
    let mut conn = connect(live, false, Duration::ZERO).await?;
    // Exclusive locking: the first transaction takes the file's exclusive lock, which any
    // other connection's (a WAL connection holds a shared lock while open) keeps it from.
    sqlx::query("PRAGMA locking_mode = EXCLUSIVE")
        .execute(&mut conn)
        .await?;
    if let Err(e) = sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await {
        let _ = conn.close().await;
        return Err(if crate::error::is_transient(&e) {
            AppError::Conflict(format!(
                "{} is in use: stop Roster (and any roster command using it), then restore",
                live.display()
            ))
        } else {
            e.into()
        });
    }
    sqlx::query("COMMIT").execute(&mut conn).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let aside = with_suffix(live, &format!("replaced-{stamp}"));
    std::fs::rename(live, &aside).map_err(|e| io_error("cannot move", live, e))?;
    // Its log was copied into it and is empty; its index is rebuilt by whoever opens it.
    for suffix in ["-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", live.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("cannot remove", &file, e)),
        }
    }
    Ok(aside)
}

fn copy_into_place(source: &Path, partial: &Path, live: &Path) -> AppResult<()> {
    let mut from = File::open(source).map_err(|e| io_error("cannot read", source, e))?;
    let mut to = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(partial)
        .map_err(|e| io_error("cannot create", partial, e))?;
    std::io::copy(&mut from, &mut to).map_err(|e| io_error("cannot write", partial, e))?;
    to.sync_all()
        .map_err(|e| io_error("cannot flush", partial, e))?;
    std::fs::rename(partial, live).map_err(|e| io_error("cannot write", live, e))?;
    sync_parent(live)
}

/// Checks the backup at `path`: whole (`integrity_check`), a Roster database whose every
/// migration this Roster knows, unchanged; and counts what it holds.
pub async fn check(path: &Path) -> AppResult<Contents> {
    let mut conn = connect(path, true, Duration::ZERO)
        .await
        .map_err(|_| not_a_backup(path))?;
    let checked = check_open(&mut conn, path).await;
    let _ = conn.close().await;
    let mut contents = checked?;
    contents.bytes = std::fs::metadata(path)
        .map_err(|e| io_error("cannot read", path, e))?
        .len();
    Ok(contents)
}

async fn check_open(conn: &mut SqliteConnection, path: &Path) -> AppResult<Contents> {
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check(1)")
        .fetch_one(&mut *conn)
        .await
        .map_err(|_| not_a_backup(path))?;
    if integrity != "ok" {
        return Err(invalid(format!(
            "{} is damaged (SQLite's integrity check: {integrity})",
            path.display()
        )));
    }
    let applied = sqlx::query("SELECT version, checksum, success FROM _sqlx_migrations")
        .fetch_all(&mut *conn)
        .await
        .map_err(|_| not_a_backup(path))?;
    let known_up_to = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let mut schema_version = 0;
    for row in &applied {
        let version: i64 = row.try_get("version")?;
        let checksum: Vec<u8> = row.try_get("checksum")?;
        let success: bool = row.try_get("success")?;
        let Some(known) = MIGRATOR.iter().find(|m| m.version == version) else {
            return Err(invalid(format!(
                "{} was written by a later Roster (its migration {version}; this one knows up \
                 to {known_up_to}): restore it with that release or a later one",
                path.display()
            )));
        };
        if known.checksum.as_ref() != checksum.as_slice() || !success {
            return Err(invalid(format!(
                "{}: its migration {version} is not this Roster's (changed, or it failed \
                 partway)",
                path.display()
            )));
        }
        schema_version = schema_version.max(version);
    }
    if schema_version == 0 {
        return Err(not_a_backup(path));
    }
    let counts = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM tenants) AS tenants, (SELECT COUNT(*) FROM users) AS \
         users, (SELECT COUNT(*) FROM groups) AS groups, (SELECT COUNT(*) FROM \
         scim_integrations) AS integrations",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Contents {
        schema_version,
        tenants: counts.try_get("tenants")?,
        users: counts.try_get("users")?,
        groups: counts.try_get("groups")?,
        integrations: counts.try_get("integrations")?,
        bytes: 0,
    })
}

/// How long a backup waits to begin reading: a reader can meet a lock for a moment (the
/// server's checkpoint resetting the log, a log being recovered).
const WAIT_TO_READ: Duration = Duration::from_secs(5);

/// A connection to the SQLite file at `path` (never created), read-only when `read_only`,
/// that waits `wait` for a lock.
async fn connect(path: &Path, read_only: bool, wait: Duration) -> AppResult<SqliteConnection> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(false)
        .read_only(read_only)
        .busy_timeout(wait);
    Ok(SqliteConnection::connect_with(&options).await?)
}

fn live_database(url: &str) -> AppResult<PathBuf> {
    if url.starts_with("postgres") {
        return Err(invalid(ON_POSTGRES.into()));
    }
    sqlite_path(url).ok_or_else(|| {
        invalid(
            "ROSTER_DATABASE_URL names no SQLite file (an in-memory database has no backup)".into(),
        )
    })
}

/// A name for a file beside `path`, for what becomes `path` once written whole.
fn beside(path: &Path, what: &str) -> AppResult<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| invalid(format!("{} names no file", path.display())))?;
    let hidden = format!(".{}.{what}-{}", name.to_string_lossy(), std::process::id());
    Ok(path.with_file_name(hidden))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}.{suffix}", path.display()))
}

fn same_file(a: &Path, b: &Path) -> AppResult<bool> {
    let a = std::fs::canonicalize(a).map_err(|e| io_error("cannot read", a, e))?;
    let b = std::fs::canonicalize(b).map_err(|e| io_error("cannot read", b, e))?;
    Ok(a == b)
}

fn sync_file(path: &Path) -> AppResult<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error("cannot flush", path, e))
}

/// Flushes the folder of `path`, so that its new name survives a crash.
fn sync_parent(path: &Path) -> AppResult<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    sync_file(dir)
}

fn not_a_backup(path: &Path) -> AppError {
    invalid(format!(
        "{} is not a Roster database (no SQLite file with Roster's migrations)",
        path.display()
    ))
}

fn invalid(message: String) -> AppError {
    AppError::invalid("file", message)
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> AppError {
    AppError::Internal(format!("{what} {}: {e}", path.display()))
}
