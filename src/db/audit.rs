//! Rows of the tenant audit log (`audit_events`): appended inside the change's transaction,
//! read newest first a page at a time by `(at, id)`.

use sqlx::Row;

use super::{Arg, Conn};
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

/// Up to `q.limit` events of the tenant from `q.start`: newest first, but oldest first for
/// [`Start::NewerThan`].
pub async fn page(conn: &mut Conn, tenant_id: &str, q: &AuditQuery) -> AppResult<Vec<AuditRow>> {
    let mut sql = String::from(
        "SELECT id, tenant_id, at, actor_kind, actor_id, actor_name, action, target_id, \
         target_name, detail FROM audit_events WHERE tenant_id = $1",
    );
    let mut args = vec![Arg::Text(tenant_id.into())];
    if let Some(prefix) = &q.action_prefix {
        args.push(Arg::Text(format!("{prefix}%")));
        sql.push_str(&format!(" AND action LIKE ${}", args.len()));
    }
    if let Some(target) = &q.target_id {
        args.push(Arg::Text(target.clone()));
        sql.push_str(&format!(" AND target_id = ${}", args.len()));
    }
    let (seek, order) = match &q.start {
        Start::Newest => (None, "DESC"),
        Start::OlderThan(place) => (Some(("<", place)), "DESC"),
        Start::NewerThan(place) => (Some((">", place)), "ASC"),
    };
    if let Some((op, place)) = seek {
        args.push(Arg::Int(place.at));
        args.push(Arg::Text(place.id.clone()));
        let (at, id) = (args.len() - 1, args.len());
        sql.push_str(&format!(
            " AND (at {op} ${at} OR (at = ${at} AND id {op} ${id}))"
        ));
    }
    sql.push_str(&format!(" ORDER BY at {order}, id {order}"));
    sql.push_str(&super::limit_offset(&mut args, q.limit, 0));
    super::fetch_mapped(conn, &sql, &args, from_row).await
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<AuditRow, sqlx::Error> {
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
}
