//! The per-integration SCIM request log, bounded to the newest [`KEEP_PER_INTEGRATION`] entries.
//!
//! Appending takes a few multi-row INSERTs per batch on SQLite, one on PostgreSQL
//! ([`super::log_writer`] gathers the entries off the requests). Trimming walks the integration's newest entries, so it runs in batches:
//! on an integration's first entry after start-up and every [`TRIM_EVERY`] entries after that (per
//! process), and for every integration in the housekeeping sweep ([`trim_all`]). Between trims an
//! integration holds at most `KEEP_PER_INTEGRATION + TRIM_EVERY` entries per process writing it;
//! readers ask for the newest `limit <= KEEP_PER_INTEGRATION`.
//!
//! An append's trim looks only at entries from the cutoff of this process's last committed trim
//! on ([`Trims::remember`]): everything older went then. On PostgreSQL a deleted entry stays in
//! the index until vacuum comes by, and a trim that looked at the whole integration walked every
//! entry deleted since — 30–43 ms a trim during a 100,000-user sync, as much of the database's
//! time as the requests it logged. An entry older than that cutoff written afterwards (a batch
//! held back, another replica's clock behind) is left to the housekeeping sweep, which looks at
//! everything.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{LazyLock, Mutex};

use sqlx::Row;

use super::{Backend, Conn};
use crate::clock::Millis;
use crate::error::AppResult;
use crate::scim::push_json_str;

/// How many entries each integration keeps; older ones are deleted in batches as new ones arrive.
pub const KEEP_PER_INTEGRATION: i64 = 1000;

/// An integration's log is trimmed on every this many appends (by this process).
pub const TRIM_EVERY: u64 = 100;

/// What this process knows of each integration's log, by integration id.
static KNOWN: LazyLock<Mutex<HashMap<String, Known>>> = LazyLock::new(Default::default);

#[derive(Debug, Default)]
struct Known {
    /// Appends since start-up, to trim every [`TRIM_EVERY`].
    appends: u64,
    /// The cutoff of this process's last committed trim: every entry older went then.
    trimmed_below: Option<Millis>,
}

/// Counts an append for `integration_id`; when this one should trim (the first after start-up,
/// then every [`TRIM_EVERY`]), the entries to look at: `Some` of the last cutoff (0: all).
fn due_for_trim(integration_id: &str) -> Option<Millis> {
    let Ok(mut known) = KNOWN.lock() else {
        return Some(0);
    };
    let known = match known.get_mut(integration_id) {
        Some(k) => k,
        None => known.entry(integration_id.to_string()).or_default(),
    };
    let due = known.appends % TRIM_EVERY == 0;
    known.appends += 1;
    due.then(|| known.trimmed_below.unwrap_or(0))
}

/// The cutoffs of the trims a batch made, to remember once its transaction has committed (a
/// trim rolled back deleted nothing).
#[derive(Debug, Default)]
#[must_use = "remember the trims after the commit, or later trims look at every entry"]
pub struct Trims(Vec<(String, Millis)>);

impl Trims {
    /// Later trims of these integrations look only at entries from these cutoffs on.
    pub fn remember(self) {
        let Ok(mut known) = KNOWN.lock() else { return };
        for (integration_id, cutoff) in self.0 {
            let known = known.entry(integration_id).or_default();
            known.trimmed_below = Some(known.trimmed_below.map_or(cutoff, |c| c.max(cutoff)));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub at: Millis,
    pub method: String,
    pub path: String,
    pub status: i64,
    pub duration_ms: i64,
    pub error_detail: Option<String>,
    pub request_body: Option<String>,
}

/// Rows per INSERT on SQLite, largest first: a batch is written in chunks of these sizes
/// ([`rows_sql`]), so a handful of statements, each prepared once per connection and then found
/// in its statement cache. Parameters are anonymous (`?`): SQLite resolves each `$N` against a
/// list of the names before it, a cost that grew with the square of the statement's size.
const SQLITE_CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// Columns of one entry's row, in [`rows_sql`]'s order.
const ENTRY_COLUMNS: usize = 9;

/// SQLite's INSERT of `SQLITE_CHUNKS[at]` entries, `?` placeholders in [`bind_entry`]'s order.
fn rows_sql(at: usize) -> &'static str {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        SQLITE_CHUNKS
            .iter()
            .map(|&n| {
                let row = format!("({})", ["?"; ENTRY_COLUMNS].join(","));
                format!(
                    "INSERT INTO scim_request_log (id, integration_id, at, method, path, \
                     status, duration_ms, error_detail, request_body) VALUES {}",
                    vec![row; n].join(",")
                )
            })
            .collect()
    });
    all.get(at).map_or("", String::as_str)
}

/// PostgreSQL's INSERT: one row per element of `$1`, a JSON array of
/// `[id, integration_id, at, method, path, status, duration_ms, error_detail, request_body]`
/// ([`batch_json`]); one parameter whatever the batch's size, and the work is the database's.
const POSTGRES_BATCH_SQL: &str = "INSERT INTO scim_request_log (id, integration_id, at, method, \
     path, status, duration_ms, error_detail, request_body) \
     SELECT e ->> 0, e ->> 1, (e ->> 2)::bigint, e ->> 3, e ->> 4, (e ->> 5)::bigint, \
     (e ->> 6)::bigint, e ->> 7, e ->> 8 FROM json_array_elements($1::json) e";

/// Text as the log stores it: a NUL character (which PostgreSQL's text cannot hold, so one
/// request's entry would fail its whole batch) becomes U+FFFD, on both databases alike.
fn without_nul(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', "\u{fffd}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Binds one entry's [`ENTRY_COLUMNS`] values, in [`rows_sql`]'s order (text borrowed: an
/// owned `String` is copied once more by the `Any` driver).
fn bind_entry<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    integration_id: &'q str,
    e: &'q LogEntry,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(super::new_id())
        .bind(integration_id)
        .bind(e.at)
        .bind(e.method.as_str())
        .bind(e.path.as_str())
        .bind(e.status)
        .bind(e.duration_ms)
        .bind(e.error_detail.as_deref())
        .bind(e.request_body.as_deref())
}

/// The entries with every NUL replaced ([`without_nul`]), when any holds one.
fn cleaned(entries: &[(&str, &LogEntry)]) -> Option<Vec<(String, LogEntry)>> {
    let nul = |s: &str| s.contains('\0');
    let any_nul = entries.iter().any(|(id, e)| {
        nul(id)
            || nul(&e.method)
            || nul(&e.path)
            || e.error_detail.as_deref().is_some_and(nul)
            || e.request_body.as_deref().is_some_and(nul)
    });
    let clean = |s: &str| without_nul(s).into_owned();
    any_nul.then(|| {
        entries
            .iter()
            .map(|(id, e)| {
                let entry = LogEntry {
                    method: clean(&e.method),
                    path: clean(&e.path),
                    error_detail: e.error_detail.as_deref().map(clean),
                    request_body: e.request_body.as_deref().map(clean),
                    ..(*e).clone()
                };
                (clean(id), entry)
            })
            .collect()
    })
}

/// The batch as [`POSTGRES_BATCH_SQL`] reads it.
fn batch_json(entries: &[(&str, &LogEntry)]) -> String {
    let text = |out: &mut String, s: &str| push_json_str(out, &without_nul(s));
    let optional = |out: &mut String, s: Option<&str>| match s {
        Some(s) => text(out, s),
        None => out.push_str("null"),
    };
    let size: usize = entries
        .iter()
        .map(|(id, e)| {
            let bodies = e.error_detail.as_ref().map_or(0, String::len)
                + e.request_body.as_ref().map_or(0, String::len);
            96 + id.len() + e.path.len() + bodies + bodies / 8
        })
        .sum();
    let mut out = String::with_capacity(size);
    out.push('[');
    for (i, (integration_id, e)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        text(&mut out, &super::new_id());
        out.push(',');
        text(&mut out, integration_id);
        let _ = write!(out, ",{},", e.at);
        text(&mut out, &e.method);
        out.push(',');
        text(&mut out, &e.path);
        let _ = write!(out, ",{},{},", e.status, e.duration_ms);
        optional(&mut out, e.error_detail.as_deref());
        out.push(',');
        optional(&mut out, e.request_body.as_deref());
        out.push(']');
    }
    out.push(']');
    out
}

/// Writes the entries: on SQLite in chunks of [`SQLITE_CHUNKS`] rows, on PostgreSQL in one
/// statement.
async fn insert(conn: &mut Conn, entries: &[(&str, &LogEntry)]) -> AppResult<()> {
    if super::backend_of(conn) == Backend::Postgres {
        sqlx::query(POSTGRES_BATCH_SQL)
            .bind(batch_json(entries))
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    let cleaned = cleaned(entries);
    let listed: Vec<(&str, &LogEntry)>;
    let mut rest = match &cleaned {
        Some(c) => {
            listed = c.iter().map(|(id, e)| (id.as_str(), e)).collect();
            &listed[..]
        }
        None => entries,
    };
    while !rest.is_empty() {
        // The largest chunk that fits (the last is one row).
        let at = SQLITE_CHUNKS
            .iter()
            .position(|&n| n <= rest.len())
            .unwrap_or(SQLITE_CHUNKS.len() - 1);
        let (chunk, after) = rest.split_at(SQLITE_CHUNKS[at].min(rest.len()));
        let mut q = sqlx::query(rows_sql(at));
        for (integration_id, e) in chunk {
            q = bind_entry(q, integration_id, e);
        }
        q.execute(&mut *conn).await?;
        rest = after;
    }
    Ok(())
}

/// Records entries of any integrations (one INSERT for them all), then prunes each integration
/// that is due ([`TRIM_EVERY`]), looking only at entries from its last cutoff on. Answers the
/// new cutoffs, to [`Trims::remember`] once committed.
pub async fn record_many(conn: &mut Conn, entries: &[(&str, &LogEntry)]) -> AppResult<Trims> {
    insert(conn, entries).await?;
    let mut due: Vec<(&str, Millis)> = entries
        .iter()
        .filter_map(|(id, _)| due_for_trim(id).map(|since| (*id, since)))
        .collect();
    due.sort_unstable();
    due.dedup_by_key(|(id, _)| *id);
    let mut trims = Trims::default();
    for (integration_id, since) in due {
        if let (_, Some(cutoff)) = trim_from(conn, integration_id, since).await? {
            trims.0.push((integration_id.to_string(), cutoff));
        }
    }
    Ok(trims)
}

/// Which of `ids` (distinct) name integrations that exist.
pub async fn existing_integrations(
    conn: &mut Conn,
    ids: &[&str],
) -> AppResult<std::collections::HashSet<String>> {
    let mut live = std::collections::HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(super::IN_CHUNK) {
        let sql = format!(
            "SELECT id FROM scim_integrations WHERE id IN ({})",
            super::placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&mut *conn).await? {
            live.insert(row.try_get("id")?);
        }
    }
    Ok(live)
}

/// Deletes all but the newest [`KEEP_PER_INTEGRATION`] entries of an integration; answers how
/// many went.
pub async fn trim(conn: &mut Conn, integration_id: &str) -> AppResult<u64> {
    Ok(trim_from(conn, integration_id, 0).await?.0)
}

/// [`trim`] looking only at the entries at or after `since` (older ones are known gone): answers
/// how many went and the cutoff, the time of the oldest entry kept (`None` with at most
/// [`KEEP_PER_INTEGRATION`] entries from `since` on: nothing went). The bound is what keeps
/// both statements off the entries deleted before (module doc).
async fn trim_from(
    conn: &mut Conn,
    integration_id: &str,
    since: Millis,
) -> AppResult<(u64, Option<Millis>)> {
    let cutoff: Option<Millis> = sqlx::query_scalar(
        "SELECT at FROM scim_request_log WHERE integration_id = $1 AND at >= $2 \
         ORDER BY at DESC LIMIT 1 OFFSET $3",
    )
    .bind(integration_id)
    .bind(since)
    .bind(KEEP_PER_INTEGRATION - 1)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(cutoff) = cutoff else {
        return Ok((0, None));
    };
    let done = sqlx::query(
        "DELETE FROM scim_request_log WHERE integration_id = $1 AND at >= $2 AND at < $3",
    )
    .bind(integration_id)
    .bind(since)
    .bind(cutoff)
    .execute(&mut *conn)
    .await?;
    Ok((done.rows_affected(), Some(cutoff)))
}

/// [`trim`] for every integration (the housekeeping sweep); answers how many entries went.
pub async fn trim_all(conn: &mut Conn) -> AppResult<u64> {
    let ids: Vec<String> = sqlx::query("SELECT id FROM scim_integrations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    let mut deleted = 0;
    for id in &ids {
        deleted += trim(conn, id).await?;
    }
    Ok(deleted)
}

/// The newest `limit` entries, newest first.
pub async fn list(conn: &mut Conn, integration_id: &str, limit: i64) -> AppResult<Vec<LogEntry>> {
    list_where(conn, integration_id, false, limit).await
}

/// The newest `limit` entries (at most [`KEEP_PER_INTEGRATION`]), newest first; only failures (status 400 and above) when
/// `failed_only`.
pub async fn list_where(
    conn: &mut Conn,
    integration_id: &str,
    failed_only: bool,
    limit: i64,
) -> AppResult<Vec<LogEntry>> {
    let failed = if failed_only {
        " AND status >= 400"
    } else {
        ""
    };
    let rows = sqlx::query(&format!(
        "SELECT at, method, path, status, duration_ms, error_detail, request_body \
         FROM scim_request_log WHERE integration_id = $1{failed} ORDER BY at DESC, id DESC LIMIT $2"
    ))
    .bind(integration_id)
    .bind(limit.min(KEEP_PER_INTEGRATION))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LogEntry {
                at: r.try_get("at")?,
                method: r.try_get("method")?,
                path: r.try_get("path")?,
                status: r.try_get("status")?,
                duration_ms: r.try_get("duration_ms")?,
                error_detail: r.try_get("error_detail")?,
                request_body: r.try_get("request_body")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::{batch_json, LogEntry};

    #[test]
    fn the_batch_is_a_json_array_of_each_entry_in_insert_order() {
        let tricky = "q\"uote \\ back\nline\ttab \u{1} é \u{1F600}";
        let entries = [
            LogEntry {
                at: 1_764_000_000_123,
                method: "POST".into(),
                path: "/Users/a b".into(),
                status: 201,
                duration_ms: 7,
                error_detail: None,
                request_body: Some(format!("{{\"userName\":\"{tricky}\"}}")),
            },
            LogEntry {
                at: -1,
                method: "PATCH".into(),
                path: tricky.into(),
                status: 400,
                duration_ms: i64::MAX,
                error_detail: Some("nul\0here".into()),
                request_body: None,
            },
        ];
        let batch: Vec<(&str, &LogEntry)> = vec![("i-1", &entries[0]), ("i\"2", &entries[1])];
        let parsed: Value = serde_json::from_str(&batch_json(&batch)).unwrap();
        let rows = parsed.as_array().unwrap();
        assert_eq!(rows.len(), 2);
        let without_id = |row: &Value| Value::from(row.as_array().unwrap()[1..].to_vec());
        assert!(rows[0][0].as_str().unwrap() != rows[1][0].as_str().unwrap());
        assert_eq!(
            without_id(&rows[0]),
            json!([
                "i-1",
                1_764_000_000_123_i64,
                "POST",
                "/Users/a b",
                201,
                7,
                null,
                format!("{{\"userName\":\"{tricky}\"}}")
            ])
        );
        assert_eq!(
            without_id(&rows[1]),
            json!([
                "i\"2",
                -1,
                "PATCH",
                tricky,
                400,
                i64::MAX,
                "nul\u{fffd}here",
                null
            ])
        );
    }
}
