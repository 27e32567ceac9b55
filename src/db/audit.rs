//! Rows of the tenant audit log (`audit_events`): appended inside the change's transaction,
//! read newest first a page at a time by `(at, id)`.

use sqlx::Row;

use super::Conn;
use crate::clock::Millis;
use crate::error::AppResult;

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: String,
    pub tenant_id: String,
    pub at: Millis,
    /// `user` or `operator`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    /// `role.create`, `group.member_add`, … (`iam::audit::Change`).
    pub action: String,
    pub target_id: Option<String>,
    pub target_name: String,
    pub detail: String,
}

pub async fn insert(conn: &mut Conn, row: &AuditRow) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO audit_events (id, tenant_id, at, actor_kind, actor_id, actor_name, action, \
         target_id, target_name, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&row.id)
    .bind(&row.tenant_id)
    .bind(row.at)
    .bind(&row.actor_kind)
    .bind(row.actor_id.as_deref())
    .bind(&row.actor_name)
    .bind(&row.action)
    .bind(row.target_id.as_deref())
    .bind(&row.target_name)
    .bind(&row.detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An event's place in the log, newest first: `(at, id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub at: Millis,
    pub id: String,
}

/// Which way a page goes from its [`Place`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The newest events.
    Newest,
    /// The events strictly older than the place, newest first.
    OlderThan(Place),
    /// The events strictly newer than the place, oldest first.
    NewerThan(Place),
}

/// What a page of the log asks for.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    /// Only actions starting with this (`group.`), when given.
    pub action_prefix: Option<String>,
    /// Only changes to this user, group, role, account or integration, when given.
    pub target_id: Option<String>,
    pub start: Start,
    pub limit: i64,
}

/// Up to `q.limit` events of the tenant from `q.from`: newest first, but oldest first for
/// [`Start::NewerThan`].
pub async fn page(conn: &mut Conn, tenant_id: &str, q: &AuditQuery) -> AppResult<Vec<AuditRow>> {
    let mut sql = String::from(
        "SELECT id, tenant_id, at, actor_kind, actor_id, actor_name, action, target_id, \
         target_name, detail FROM audit_events WHERE tenant_id = $1",
    );
    let mut n = 1;
    if q.action_prefix.is_some() {
        n += 1;
        sql.push_str(&format!(" AND action LIKE ${n}"));
    }
    if q.target_id.is_some() {
        n += 1;
        sql.push_str(&format!(" AND target_id = ${n}"));
    }
    let (seek, order) = match &q.start {
        Start::Newest => (None, "DESC"),
        Start::OlderThan(place) => (Some(("<", place)), "DESC"),
        Start::NewerThan(place) => (Some((">", place)), "ASC"),
    };
    if let Some((op, _)) = seek {
        let (at, id) = (n + 1, n + 2);
        sql.push_str(&format!(
            " AND (at {op} ${at} OR (at = ${at} AND id {op} ${id}))"
        ));
        n += 2;
    }
    sql.push_str(&format!(
        " ORDER BY at {order}, id {order} LIMIT ${}",
        n + 1
    ));
    let mut query = sqlx::query(&sql).bind(tenant_id);
    if let Some(prefix) = &q.action_prefix {
        query = query.bind(format!("{prefix}%"));
    }
    if let Some(target) = &q.target_id {
        query = query.bind(target);
    }
    if let Some((_, place)) = seek {
        query = query.bind(place.at).bind(&place.id);
    }
    let rows = query.bind(q.limit).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(AuditRow {
                id: r.try_get("id")?,
                tenant_id: r.try_get("tenant_id")?,
                at: r.try_get("at")?,
                actor_kind: r.try_get("actor_kind")?,
                actor_id: r.try_get("actor_id")?,
                actor_name: r.try_get("actor_name")?,
                action: r.try_get("action")?,
                target_id: r.try_get("target_id")?,
                target_name: r.try_get("target_name")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}
