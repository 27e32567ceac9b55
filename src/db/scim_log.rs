//! The per-integration SCIM request log, bounded to the newest [`KEEP_PER_INTEGRATION`] entries.

use sqlx::Row;

use super::Conn;
use crate::clock::Millis;
use crate::error::AppResult;

/// How many entries each integration keeps; older ones are deleted as new ones arrive.
pub const KEEP_PER_INTEGRATION: i64 = 1000;

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

/// Records an entry and prunes the integration's log to the newest entries.
pub async fn record(conn: &mut Conn, integration_id: &str, e: &LogEntry) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO scim_request_log (id, integration_id, at, method, path, status, duration_ms, \
         error_detail, request_body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(super::new_id())
    .bind(integration_id)
    .bind(e.at)
    .bind(&e.method)
    .bind(&e.path)
    .bind(e.status)
    .bind(e.duration_ms)
    .bind(e.error_detail.as_deref())
    .bind(e.request_body.as_deref())
    .execute(&mut *conn)
    .await?;
    // With fewer entries than the bound, the subquery is NULL and nothing is deleted.
    sqlx::query(
        "DELETE FROM scim_request_log WHERE integration_id = $1 AND at < \
         (SELECT at FROM scim_request_log WHERE integration_id = $1 \
          ORDER BY at DESC LIMIT 1 OFFSET $2)",
    )
    .bind(integration_id)
    .bind(KEEP_PER_INTEGRATION - 1)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The newest `limit` entries, newest first.
pub async fn list(conn: &mut Conn, integration_id: &str, limit: i64) -> AppResult<Vec<LogEntry>> {
    list_where(conn, integration_id, false, limit).await
}

/// The newest `limit` entries, newest first; only failures (status 400 and above) when
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
    .bind(limit)
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
