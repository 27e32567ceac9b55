//! Groups of a tenant and their members. Member changes touch one row per added or removed member;
//! each membership carries its group's tenant and reference (`group_refs`), which a rename rewrites.

use std::collections::HashSet;

use sqlx::Row;

use super::group_refs;
use super::last_write::LastWrite;
use super::member_refs;
use super::scim_filter::{self, GroupSeek, Kind, Sql};
use super::scim_users::{ListError, Page};
use super::script::{self, Param};
use super::{Arg, Conn};
use crate::clock::Millis;
use crate::error::{AppError, AppResult, UniqueOr};
use crate::scim::resource::SortOrder;

#[derive(Debug, Clone)]
pub struct GroupRow {
    pub id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub managed_by: Option<String>,
    pub scim_json: Option<String>,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

const COLUMNS: &str = "g.id, g.tenant_id, g.display_name, g.external_id, g.managed_by, \
     g.scim_json, g.version, g.created_at, g.updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<GroupRow, sqlx::Error> {
    Ok(GroupRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        display_name: r.try_get("display_name")?,
        external_id: r.try_get("external_id")?,
        managed_by: r.try_get("managed_by")?,
        scim_json: r.try_get("scim_json")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn find(conn: &mut Conn, tenant_id: &str, id: &str) -> AppResult<Option<GroupRow>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM groups g WHERE g.tenant_id = $1 AND g.id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// [`find`] with the group's member ids as [`member_refs`] lists them, read by the same
/// statement: the members of the version the row is.
pub async fn find_with_members(
    conn: &mut Conn,
    tenant_id: &str,
    id: &str,
) -> AppResult<Option<(GroupRow, String)>> {
    let members = member_refs::column(super::backend_of(conn));
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, {members} FROM groups g WHERE g.tenant_id = $1 AND g.id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(with_members).transpose()?)
}

fn with_members(r: &sqlx::any::AnyRow) -> Result<(GroupRow, String), sqlx::Error> {
    Ok((from_row(r)?, member_refs::from_row(r)?))
}

/// A page of groups, each with its member ids when `members` asks for them (read by the
/// page's statement, as [`find_with_members`] does).
pub async fn list(
    conn: &mut Conn,
    tenant_id: &str,
    page: &Page<'_>,
    members: bool,
) -> Result<(i64, Vec<(GroupRow, Option<String>)>), ListError> {
    let backend = super::backend_of(conn);
    let statements = list_statements(backend, tenant_id, page, members)?;
    let map: fn(&_) -> _ = if members {
        |r| {
            let (g, ids) = with_members(r)?;
            Ok(((g, Some(ids)), r.try_get("n")?))
        }
    } else {
        |r| Ok(((from_row(r)?, None), r.try_get("n")?))
    };
    let counted: Vec<(_, i64)> =
        super::fetch_mapped(conn, &statements.page, &statements.page_args, map).await?;
    if let Some(&(_, total)) = counted.first() {
        return Ok((total, counted.into_iter().map(|(row, _)| row).collect()));
    }
    // No rows (past the end, or `count=0`): nothing to disagree with.
    let total: i64 = super::bind_all(sqlx::query(&statements.count), &statements.count_args)
        .fetch_one(&mut *conn)
        .await
        .map_err(AppError::from)?
        .try_get("n")
        .map_err(AppError::from)?;
    Ok((total, Vec::new()))
}

/// A page of groups' statement (its rows, each with the total) and the total's alone.
struct ListStatements {
    page: String,
    page_args: Vec<Arg>,
    count: String,
    count_args: Vec<Arg>,
}

/// Whether a page of groups starts after its [`Page::after`] group rather than at its offset:
/// in the default order (creation), filtered or not.
pub fn resumes_after(page: &Page<'_>) -> bool {
    page.sort_by.is_none()
}

fn list_statements(
    backend: super::Backend,
    tenant_id: &str,
    page: &Page<'_>,
    members: bool,
) -> Result<ListStatements, ListError> {
    let mut sql = Sql::new(backend, vec![Arg::Text(tenant_id.into())]);
    if let Some(f) = page.filter {
        sql.text.push_str(" AND ");
        scim_filter::translate(Kind::Group, f, &mut sql)?;
    }
    let order = match page.sort_by {
        Some(p) => scim_filter::sort_column(Kind::Group, p)?,
        None => "g.created_at",
    };
    let dir = match page.sort_order {
        SortOrder::Ascending => "ASC",
        SortOrder::Descending => "DESC",
    };
    // SQLite, without statistics, would walk the tenant's groups in the page's order and test
    // each against a filter that an index answers in a few rows (a member's groups 2.4 ms of
    // CPU at 10,000 groups, growing with them). A unary `+` keeps a column out of index choice: the
    // order is then sorted from the few rows found, and a member's groups are found from their
    // ids rather than from the tenant's index. PostgreSQL has statistics and plans freely.
    let seek = match backend {
        super::Backend::Sqlite => page.filter.and_then(scim_filter::seeks_groups),
        super::Backend::Postgres => None,
    };
    let sorted = if seek.is_some() { "+" } else { "" };
    let tenant = match seek {
        Some(GroupSeek::Member) => "+g.tenant_id",
        _ => "g.tenant_id",
    };
    let filter_sql = &sql.text;
    let members_column = if members {
        format!(", {}", member_refs::column(backend))
    } else {
        String::new()
    };
    // The total comes with the rows, read by their statement (their snapshot: counted by a
    // second statement, a full page could list more groups than its total when a write
    // committed between the two). Uncorrelated, it is computed once.
    let count = format!("SELECT COUNT(*) AS n FROM groups g WHERE {tenant} = $1{filter_sql}");
    let mut page_args = sql.args.clone();
    // A walk in the default order that resumes after a group (a cursor's, `Page::after`) starts
    // after it instead of skipping `offset` groups: unfiltered, a seek on
    // `groups_tenant_created_idx`; filtered, a test of the filter's groups.
    let mut resume = String::new();
    let mut offset = page.offset;
    if let Some((after, skip)) = page.after.filter(|_| resumes_after(page)) {
        // Filtered, on SQLite, the resume point is a test of the filter's groups (`+`): as a
        // range on `groups_tenant_created_idx` it drew SQLite away from the filter's own index
        // (an `externalId eq` or `displayName sw` walked the tenant's groups after the cursor).
        let (created, id) = match backend {
            super::Backend::Sqlite if page.filter.is_some() => ("+g.created_at", "+g.id"),
            _ => ("g.created_at", "g.id"),
        };
        resume = super::seek_after(&mut page_args, after, page.sort_order, created, id);
        offset = skip;
    }
    let limit_offset = super::limit_offset(&mut page_args, page.limit, offset);
    let page_sql = format!(
        "SELECT {COLUMNS}{members_column}, ({count}) AS n \
         FROM groups g WHERE {tenant} = $1{filter_sql}{resume} \
         ORDER BY {sorted}{}, g.id {dir}{limit_offset}",
        scim_filter::sort_terms(order, dir),
    );
    Ok(ListStatements {
        page: page_sql,
        page_args,
        count,
        count_args: sql.args,
    })
}

fn taken(name: &str) -> AppError {
    AppError::Conflict(format!(
        "a group named `{name}` already exists in this tenant"
    ))
}

/// The statement is the transaction's last as `last` says ([`script::run_last`]).
pub async fn insert(conn: &mut Conn, g: &GroupRow, last: &LastWrite) -> AppResult<()> {
    let lower = g.display_name.to_lowercase();
    let params = [
        Param::Text(Some(&g.id)),
        Param::Text(Some(&g.tenant_id)),
        Param::Text(Some(&g.display_name)),
        Param::Text(Some(&lower)),
        Param::Text(g.external_id.as_deref()),
        Param::Text(g.managed_by.as_deref()),
        Param::Text(g.scim_json.as_deref()),
        Param::Int(g.created_at),
        Param::Int(g.updated_at),
    ];
    let result = script::run_last(
        conn,
        &[
            "INSERT INTO groups (id, tenant_id, display_name, display_name_lower, external_id, \
           managed_by, scim_json, version, created_at, updated_at) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)",
        ],
        &params,
        last,
    )
    .await;
    result.map(|_| ()).unique_or(|| taken(&g.display_name))
}

/// Updates name, externalId and stored attributes; bumps the version. A rename rewrites the
/// reference each membership carries: O(members), the one write that is (and, through the
/// references' digest, a new ETag of each member: `group_refs::digest`).
pub async fn update(
    conn: &mut Conn,
    g: &GroupRow,
    previous_name: &str,
    now: Millis,
) -> AppResult<()> {
    let result = sqlx::query(
        "UPDATE groups SET display_name = $1, display_name_lower = $2, external_id = $3, \
         scim_json = $4, updated_at = $5, version = version + 1 WHERE tenant_id = $6 AND id = $7",
    )
    .bind(&g.display_name)
    .bind(g.display_name.to_lowercase())
    .bind(g.external_id.as_deref())
    .bind(g.scim_json.as_deref())
    .bind(now)
    .bind(&g.tenant_id)
    .bind(&g.id)
    .execute(&mut *conn)
    .await;
    result.map(|_| ()).unique_or(|| taken(&g.display_name))?;
    if g.display_name != previous_name {
        group_refs::rewrite(conn, &g.id).await?;
    }
    Ok(())
}

/// Marks a membership change (lastModified and ETag); answers the group's new version. The
/// statement is the transaction's last as `last` says ([`script::run_last`]).
pub async fn touch(conn: &mut Conn, id: &str, now: Millis, last: &LastWrite) -> AppResult<i64> {
    let done = script::run_last(
        conn,
        &["UPDATE groups SET updated_at = $1, version = version + 1 WHERE id = $2 RETURNING version"],
        &[Param::Int(now), Param::Text(Some(id))],
        last,
    )
    .await?;
    let row = done
        .rows
        .first()
        .ok_or_else(|| AppError::NotFound(format!("no group {id}")))?;
    Ok(row.try_get("version")?)
}

/// Deletes a group of the tenant with the role bindings that name it (its memberships go with
/// it, by their foreign key): one script, so one trip to SQLite's writing thread where a
/// statement each took two (issue #13: a SCIM group DELETE). True when the group was there. The
/// script is the transaction's last as `last` says ([`script::run_last`]).
pub async fn delete(
    conn: &mut Conn,
    tenant_id: &str,
    id: &str,
    last: &LastWrite,
) -> AppResult<bool> {
    let done = script::run_last(
        conn,
        &[
            "DELETE FROM bindings WHERE tenant_id = $1 AND subject_type = 'group' AND subject_id = $2",
            "DELETE FROM groups WHERE tenant_id = $1 AND id = $2",
        ],
        &[Param::Text(Some(tenant_id)), Param::Text(Some(id))],
        last,
    )
    .await?;
    Ok(done.affected.last().is_some_and(|&n| n > 0))
}

/// Members as `(user id, display)`: the display is the user's display name, else the userName.
pub async fn members(conn: &mut Conn, group_id: &str) -> AppResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT u.id, COALESCE(u.display_name, u.username) AS display FROM group_members m \
         JOIN users u ON u.id = m.user_id WHERE m.group_id = $1 ORDER BY u.username_lower",
    )
    .bind(group_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("display")?)))
        .collect()
}

/// The ids of a group's members (in no particular order), on the membership's primary key alone.
pub async fn member_ids(conn: &mut Conn, group_id: &str) -> AppResult<Vec<String>> {
    let rows = sqlx::query("SELECT user_id FROM group_members WHERE group_id = $1")
        .bind(group_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| Ok(r.try_get("user_id")?)).collect()
}

/// Whether `user_id` has access to `tenant_id` (suspended or not): only such users can be members.
pub async fn can_be_member(conn: &mut Conn, tenant_id: &str, user_id: &str) -> AppResult<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM tenant_access WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Adds a member; false when they were one already (the primary key decides).
pub async fn add_member(
    conn: &mut Conn,
    group_id: &str,
    user_id: &str,
    now: Millis,
) -> AppResult<bool> {
    let sql = format!(
        "INSERT INTO group_members (group_id, user_id, created_at, tenant_id, group_ref) \
         SELECT g.id, $2, $3, g.tenant_id, {} FROM groups g WHERE g.id = $1 \
         ON CONFLICT (group_id, user_id) DO NOTHING",
        group_refs::reference_of_group(super::backend_of(conn))
    );
    let done = sqlx::query(&sql)
        .bind(group_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn remove_member(conn: &mut Conn, group_id: &str, user_id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
        .bind(group_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// [`add_member`] for many users, per [`super::IN_CHUNK`] users: one count of those who can be
/// members (users with access to the group's tenant, never a superadmin, who is out of every
/// integration's reach) that tells whether all of them can, then one INSERT (the group's
/// reference quoted once for all the rows).
/// Answers how many memberships are new, or `Err` with the first user (in the order given) who
/// cannot be a member; some of the others may be added by then, so the caller rolls its
/// transaction back.
pub async fn add_members(
    conn: &mut Conn,
    group_id: &str,
    user_ids: &[String],
    now: Millis,
) -> AppResult<Result<u64, String>> {
    let mut added = 0;
    for chunk in user_ids.chunks(super::IN_CHUNK) {
        if let Some(refused) = first_ineligible(conn, group_id, chunk).await? {
            return Ok(Err(refused));
        }
        let sql = format!(
            "WITH r AS MATERIALIZED (SELECT g.id, g.tenant_id, {} AS reference FROM groups g \
             WHERE g.id = $1) \
             INSERT INTO group_members (group_id, user_id, created_at, tenant_id, group_ref) \
             SELECT r.id, v.column1, $2, r.tenant_id, r.reference FROM (VALUES {}) v \
             CROSS JOIN r WHERE true ON CONFLICT (group_id, user_id) DO NOTHING",
            group_refs::reference_of_group(super::backend_of(conn)),
            super::value_rows(3, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(group_id).bind(now);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        added += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(Ok(added))
}

/// The first of `user_ids` (at most [`super::IN_CHUNK`]) who cannot be a member of the group,
/// if any. The count of those who can answers whether all can (one row, nothing per user through
/// the driver); only when it falls short are they read, to name who is refused. On PostgreSQL
/// the counted access rows are locked (`FOR SHARE`) until the transaction ends, so a removal of
/// one of those users' access waits for the membership rather than missing it.
async fn first_ineligible(
    conn: &mut Conn,
    group_id: &str,
    user_ids: &[String],
) -> AppResult<Option<String>> {
    let mut seen = HashSet::with_capacity(user_ids.len());
    let distinct: Vec<&str> = user_ids
        .iter()
        .map(String::as_str)
        .filter(|id| seen.insert(*id))
        .collect();
    let backend = super::backend_of(conn);
    fn bind<'q>(
        sql: &'q str,
        group_id: &'q str,
        user_ids: &[&'q str],
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        let mut q = sqlx::query(sql).bind(group_id);
        for id in user_ids {
            q = q.bind(*id);
        }
        q
    }
    let count = eligibility_count(backend, distinct.len());
    let counted: i64 = bind(&count, group_id, &distinct)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    if counted == distinct.len() as i64 {
        return Ok(None);
    }
    let read = format!(
        "SELECT ta.user_id {}",
        eligible_rows(backend, distinct.len(), false)
    );
    let can: HashSet<String> = bind(&read, group_id, &distinct)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("user_id"))
        .collect::<Result<_, _>>()?;
    Ok(user_ids.iter().find(|id| !can.contains(*id)).cloned())
}

/// How many of `count` distinct users `$2…` may be members of group `$1` ([`eligible_rows`]); on
/// PostgreSQL their access rows stay locked (`FOR SHARE`) until the transaction ends.
pub fn eligibility_count(backend: super::Backend, count: usize) -> String {
    format!(
        "SELECT COUNT(*) AS n FROM (SELECT ta.user_id {}) e",
        eligible_rows(backend, count, true)
    )
}

/// `FROM …` the access rows, in the tenant of group `$1`, of the `count` distinct users `$2…`
/// who may be members: not superadmins. Each user's row is found by the access key, one user of
/// the list (`VALUES`) at a time, whatever the planner knows of the table: asked with `user_id IN
/// (…)`, PostgreSQL read every access row of a freshly provisioned tenant (no statistics yet)
/// and filtered them, 16,000 rows for a 100-member PATCH; joined to the list, it hashed them all.
/// There the row is read by a `LATERAL` subquery that `OFFSET 0` keeps whole, so the only join
/// is a loop over the list, and locked there when `lock`. A superadmin is looked for in
/// `users_superadmins_idx`, the partial index of the few there are; left to choose, SQLite
/// searched the users' primary key and then their table for each member, two searches of the
/// whole directory (a 100-member PATCH grew by a fifth from 1,000 to 100,000 users, these among
/// the searches that grew).
fn eligible_rows(backend: super::Backend, count: usize, lock: bool) -> String {
    let values = super::value_rows(2, count);
    let not_superadmin = |indexed: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM users u {indexed}WHERE u.id = ta.user_id \
             AND u.is_superadmin = 1)"
        )
    };
    let tenant = "(SELECT tenant_id FROM groups WHERE id = $1)";
    match backend {
        super::Backend::Sqlite => format!(
            "FROM (VALUES {values}) v CROSS JOIN tenant_access ta \
             WHERE ta.tenant_id = {tenant} AND ta.user_id = v.column1 AND {}",
            not_superadmin("INDEXED BY users_superadmins_idx ")
        ),
        super::Backend::Postgres => format!(
            "FROM (VALUES {values}) v CROSS JOIN LATERAL (SELECT ta.user_id FROM tenant_access ta \
             WHERE ta.tenant_id = {tenant} AND ta.user_id = v.column1 AND {} OFFSET 0{}) ta",
            not_superadmin(""),
            if lock { " FOR SHARE OF ta" } else { "" }
        ),
    }
}

/// [`remove_member`] for many users: one DELETE per [`super::IN_CHUNK`] users. Answers how
/// many of them were members.
pub async fn remove_members(
    conn: &mut Conn,
    group_id: &str,
    user_ids: &[String],
) -> AppResult<u64> {
    let mut removed = 0;
    for chunk in user_ids.chunks(super::IN_CHUNK) {
        let sql = format!(
            "DELETE FROM group_members WHERE group_id = $1 AND user_id IN ({})",
            super::placeholders(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(group_id);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        removed += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::super::scim_users::ProfileText;
    use super::super::{plans, Arg, Backend};
    use super::{eligibility_count, list_statements, Page};
    use crate::scim::resource::{After, SortOrder};
    use crate::scim::{AttrPath, Filter};

    /// A page of groups filtered by `externalId eq`, `displayName sw` or by a member starts
    /// from that index on SQLite and sorts the few groups it finds; it never walks the tenant's
    /// groups in the page's order testing each (the plan SQLite chose before, without
    /// statistics) — nor, continued after a cursor's group, those after it.
    #[tokio::test]
    async fn a_page_of_groups_found_by_external_id_or_member_seeks_them() {
        let (_dir, db) = plans::migrated_sqlite().await;
        let by_name = AttrPath::new("displayName");
        let resume = After {
            created_at: 5,
            id: "g5".into(),
        };
        for (text, sort_by, index) in [
            (
                "displayName sw \"team\"",
                None,
                "(tenant_id=? AND display_name_lower>? AND display_name_lower<?)",
            ),
            (
                "externalId eq \"e1\"",
                None,
                "groups_tenant_external_idx (tenant_id=? AND external_id=?)",
            ),
            (
                "externalId eq \"e1\"",
                Some(&by_name),
                "groups_tenant_external_idx (tenant_id=? AND external_id=?)",
            ),
            (
                "members[value eq \"u1\"]",
                None,
                "group_members_user_refs_idx (user_id=?)",
            ),
            (
                "members eq \"u1\" and meta.lastModified gt \"2026-01-01T00:00:00Z\"",
                Some(&by_name),
                "group_members_user_refs_idx (user_id=?)",
            ),
        ] {
            let filter = Filter::parse(text).expect("filter");
            for (after, members) in [(None, false), (None, true), (Some((&resume, 0)), false)] {
                let page = Page {
                    filter: Some(&filter),
                    sort_by,
                    sort_order: SortOrder::Ascending,
                    offset: 0,
                    limit: 100,
                    after,
                    with_group_refs: false,
                    profile: ProfileText::ViewOrJson,
                };
                let statements =
                    list_statements(Backend::Sqlite, "t", &page, members).expect("statements");
                for (sql, args) in [
                    (&statements.page, &statements.page_args),
                    (&statements.count, &statements.count_args),
                ] {
                    let steps = plans::steps(&db, sql, args).await;
                    assert!(
                        steps.iter().any(|s| s.contains(index)),
                        "{text}: {steps:#?}"
                    );
                    for step in &steps {
                        assert!(
                            !step.ends_with("(tenant_id=?)")
                                && !step.starts_with("SCAN g")
                                && !step.contains("groups_tenant_created_idx"),
                            "{text}: `{step}` walks the tenant's groups: {steps:#?}"
                        );
                    }
                }
            }
        }
    }

    /// Who may be a member is one search of the access key per user asked about and, for
    /// superadmins, one of their partial index: no search of the whole users' table or key.
    #[tokio::test]
    async fn eligibility_looks_superadmins_up_in_their_partial_index() {
        let (_dir, db) = plans::migrated_sqlite().await;
        let sql = eligibility_count(Backend::Sqlite, 3);
        let args = ["g", "u1", "u2", "u3"].map(|a| Arg::Text(a.to_string()));
        let steps = plans::steps(&db, &sql, &args).await;
        assert!(
            steps
                .iter()
                .any(|s| s.contains("users_superadmins_idx (id=?)")),
            "{steps:?}"
        );
        assert!(
            steps
                .iter()
                .any(|s| s.contains("SEARCH ta") && s.contains("(tenant_id=? AND user_id=?)")),
            "{steps:?}"
        );
        // The one scan is of the users asked about.
        assert!(
            !steps.iter().any(|s| s.contains("sqlite_autoindex_users")
                || (s.starts_with("SCAN") && !s.contains("VALUES"))),
            "{steps:?}"
        );
    }
}
