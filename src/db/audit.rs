//! Rows of the tenant audit log (`audit_events`): appended inside the change's transaction,
//! read newest first a page at a time by `(at, id)`. A SCIM write's event waits in its request's
//! [`Pending`] until the statement that ends the transaction carries it
//! ([`super::script::run_last`]), or the request's commit writes it.

use std::sync::{Arc, Mutex};

use sqlx::Row;

use super::script::{self, Param};
use super::{Arg, Conn};
use crate::clock::Millis;
use crate::error::AppResult;

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: String,
    pub tenant_id: String,
    pub at: Millis,
    /// `user`, `operator` or `integration` (a SCIM integration's requests).
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    /// `role.create`, `group.member_add`, … (`iam::audit::Change`).
    pub action: String,
    pub target_id: Option<String>,
    pub target_name: String,
    pub detail: String,
}

/// Appends `row`, in the caller's transaction.
pub async fn insert(conn: &mut Conn, row: &AuditRow) -> AppResult<()> {
    script::run(conn, &[&insert_statement(1, false)], &row.params()).await?;
    Ok(())
}

/// The `INSERT` of one event, its parameters ([`AuditRow::params`]) numbered from `$first`;
/// `only_if_user_exists`: only if the user the event names exists ([`PendingEvent`]).
fn insert_statement(first: usize, only_if_user_exists: bool) -> String {
    let values: Vec<String> = (first..first + 10).map(|n| format!("${n}")).collect();
    let guard = if only_if_user_exists {
        format!(
            " WHERE EXISTS (SELECT 1 FROM users WHERE id = ${})",
            first + 7
        )
    } else {
        String::new()
    };
    format!(
        "INSERT INTO audit_events (id, tenant_id, at, actor_kind, actor_id, actor_name, action, \
         target_id, target_name, detail) SELECT {}{guard}",
        values.join(", ")
    )
}

impl AuditRow {
    /// Its values, in the order of [`insert_statement`]'s columns.
    pub fn params(&self) -> [Param<'_>; 10] {
        [
            Param::Text(Some(&self.id)),
            Param::Text(Some(&self.tenant_id)),
            Param::Int(self.at),
            Param::Text(Some(&self.actor_kind)),
            Param::Text(self.actor_id.as_deref()),
            Param::Text(Some(&self.actor_name)),
            Param::Text(Some(&self.action)),
            Param::Text(self.target_id.as_deref()),
            Param::Text(Some(&self.target_name)),
            Param::Text(Some(&self.detail)),
        ]
    }
}

/// An event a SCIM write will record, and whether it depends on the write having happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    pub row: AuditRow,
    /// Recorded only if the user the event names exists when it is written: a create's event,
    /// carried by the script whose insert may have found the userName taken and done nothing.
    pub only_if_user_exists: bool,
}

impl PendingEvent {
    /// The `INSERT` of this event, its parameters ([`Self::params`]) numbered from `$first`.
    pub fn statement(&self, first: usize) -> String {
        insert_statement(first, self.only_if_user_exists)
    }

    /// The values of [`Self::statement`]'s parameters, in order.
    pub fn params(&self) -> [Param<'_>; 10] {
        self.row.params()
    }
}

/// The event a request's write will record, until a statement takes it to the database. Shared
/// by the request's service code (which notes it), its transaction's last script (which may
/// carry it) and the request's end (which writes what is left before the commit).
#[derive(Debug, Clone, Default)]
pub struct Pending(Arc<Mutex<Option<PendingEvent>>>);

impl Pending {
    /// Notes `event`, in place of any noted before.
    pub fn set(&self, event: PendingEvent) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(event);
        }
    }

    /// The noted event, leaving none.
    pub fn take(&self) -> Option<PendingEvent> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }

    /// Whether an event waits.
    pub fn is_set(&self) -> bool {
        self.0.lock().is_ok_and(|slot| slot.is_some())
    }

    /// Writes the waiting event, if any, in the caller's transaction.
    pub async fn write(&self, conn: &mut Conn) -> AppResult<()> {
        let Some(event) = self.take() else {
            return Ok(());
        };
        script::run(conn, &[&event.statement(1)], &event.params()).await?;
        Ok(())
    }
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
    /// Only the changes of SCIM integrations (`true`), or only the others (`false`), when given.
    pub by_integrations: Option<bool>,
    pub start: Start,
    pub limit: i64,
}

/// Up to `q.limit` events of the tenant from `q.start`: newest first, but oldest first for
/// [`Start::NewerThan`].
pub async fn page(conn: &mut Conn, tenant_id: &str, q: &AuditQuery) -> AppResult<Vec<AuditRow>> {
    let (sql, args) = page_statement(tenant_id, q);
    super::fetch_mapped(conn, &sql, &args, from_row).await
}

/// The events of people (signed in, or the operator's commands), not of SCIM integrations:
/// written as the condition of the index that holds them alone (migration 0020), which SQLite
/// uses only for a query that repeats it.
const BY_PEOPLE: &str = "actor_kind <> 'integration'";

/// The statement of [`page`], and its arguments.
fn page_statement(tenant_id: &str, q: &AuditQuery) -> (String, Vec<Arg>) {
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
    match q.by_integrations {
        Some(true) => sql.push_str(" AND actor_kind = 'integration'"),
        Some(false) => sql.push_str(&format!(" AND {BY_PEOPLE}")),
        None => {}
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
    (sql, args)
}

/// The tenants holding events from before `cutoff`.
pub async fn tenants_with_events_before(conn: &mut Conn, cutoff: Millis) -> AppResult<Vec<String>> {
    let rows = sqlx::query(
        "SELECT id FROM tenants t WHERE EXISTS \
         (SELECT 1 FROM audit_events e WHERE e.tenant_id = t.id AND e.at < $1)",
    )
    .bind(cutoff)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?)
}

/// Deletes up to `limit` of `tenant_id`'s events from before `cutoff`, the oldest first; answers
/// how many.
pub async fn delete_before(
    conn: &mut Conn,
    tenant_id: &str,
    cutoff: Millis,
    limit: i64,
) -> AppResult<u64> {
    let done = sqlx::query(
        "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events \
         WHERE tenant_id = $1 AND at < $2 ORDER BY at, id LIMIT $3)",
    )
    .bind(tenant_id)
    .bind(cutoff)
    .bind(limit)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
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

#[cfg(test)]
mod tests {

    use super::*;

    /// SQLite's plan of each page the log asks for, on the migrated schema.
    async fn plans(queries: &[AuditQuery]) -> Vec<String> {
        let (_dir, db) = crate::db::plans::migrated_sqlite().await;
        let mut plans = Vec::new();
        for q in queries {
            let (sql, args) = page_statement("main", q);
            plans.push(crate::db::plans::steps(&db, &sql, &args).await.join(" / "));
        }
        plans
    }

    /// A page is read from an index in its own order, whatever its filter: no sort of the
    /// tenant's events, and a thing's history never walks the tenant's whole log.
    #[tokio::test]
    async fn each_page_reads_an_index_in_its_order() {
        let place = Place {
            at: 1,
            id: "x".into(),
        };
        let query = |target: Option<&str>, by: Option<bool>, start: Start| AuditQuery {
            action_prefix: Some("user.".into()),
            target_id: target.map(str::to_string),
            by_integrations: by,
            start,
            limit: 51,
        };
        let history = [
            query(Some("t"), None, Start::Newest),
            query(Some("t"), Some(true), Start::OlderThan(place.clone())),
            query(Some("t"), None, Start::NewerThan(place.clone())),
            query(Some("t"), Some(false), Start::Newest),
        ];
        for plan in plans(&history).await {
            assert!(plan.contains("audit_events_target_idx"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
        let log = [
            query(None, None, Start::Newest),
            query(None, Some(true), Start::OlderThan(place.clone())),
            query(None, Some(true), Start::NewerThan(place.clone())),
        ];
        for plan in plans(&log).await {
            assert!(plan.contains("audit_events_tenant_at_idx"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
        // People's changes are read from the index that holds theirs alone, not found among
        // every SCIM event of the tenant.
        let by_people = [
            query(None, Some(false), Start::Newest),
            query(None, Some(false), Start::OlderThan(place.clone())),
            query(None, Some(false), Start::NewerThan(place)),
        ];
        for plan in plans(&by_people).await {
            assert!(
                plan.contains("audit_events_people_idx (tenant_id=?"),
                "{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
}
