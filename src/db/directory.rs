//! The admin pages' reads of a tenant's directory: users and groups listed with keyset paging
//! (so the 2,000th page costs what the first does, even at 100,000 users), searched on the
//! `*_lower` columns, with what their badges need.

use sqlx::Row;

use super::{Arg, Conn};
use crate::clock::Millis;
use crate::error::AppResult;

/// Where a page of a keyset-paged list starts: after or before a key (the `*_lower` column the
/// list is ordered by), or at the beginning.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cursor {
    #[default]
    First,
    After(String),
    Before(String),
}

/// One page of rows in ascending key order, with whether there is more on either side.
#[derive(Debug, Clone)]
pub struct KeyPage<T> {
    pub rows: Vec<T>,
    pub has_prev: bool,
    pub has_next: bool,
}

impl<T> KeyPage<T> {
    /// The cursors of the Previous and Next links: the sort key of the first row when there is
    /// an earlier page, of the last row when there is a later one.
    pub fn cursors(&self, key: impl Fn(&T) -> &str) -> (Option<String>, Option<String>) {
        let first = self.rows.first().filter(|_| self.has_prev);
        let last = self.rows.last().filter(|_| self.has_next);
        (
            first.map(|r| key(r).to_string()),
            last.map(|r| key(r).to_string()),
        )
    }
}

/// A `LIKE` pattern matching `text` anywhere, with the wildcards in it taken literally
/// (`ESCAPE '\'`). `text` is lower-cased: the columns searched are the `*_lower` ones.
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Runs `select` (which must end in a WHERE clause that `$args` already satisfy) with the keyset
/// condition on `key`, `LIMIT limit + 1` to learn whether another page follows.
async fn key_page<T>(
    conn: &mut Conn,
    select: &str,
    key: &str,
    mut args: Vec<Arg>,
    cursor: &Cursor,
    limit: i64,
    map: fn(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
) -> AppResult<KeyPage<T>> {
    let sql = keyset_sql(select, key, &mut args, cursor, limit);
    let mut rows = super::fetch_mapped(conn, &sql, &args, map).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok(match cursor {
        Cursor::Before(_) => {
            rows.reverse();
            KeyPage {
                rows,
                has_prev: more,
                has_next: true,
            }
        }
        Cursor::After(_) => KeyPage {
            rows,
            has_prev: true,
            has_next: more,
        },
        Cursor::First => KeyPage {
            rows,
            has_prev: false,
            has_next: more,
        },
    })
}

/// [`key_page`]'s statement: `select` continued after (or before) the cursor's key, in the key's
/// order, `limit + 1` rows (their arguments added to `args`).
fn keyset_sql(select: &str, key: &str, args: &mut Vec<Arg>, cursor: &Cursor, limit: i64) -> String {
    let (cond, dir) = match cursor {
        Cursor::First => (String::new(), "ASC"),
        Cursor::After(k) => {
            args.push(Arg::Text(k.clone()));
            (format!(" AND {key} > ${}", args.len()), "ASC")
        }
        Cursor::Before(k) => {
            args.push(Arg::Text(k.clone()));
            (format!(" AND {key} < ${}", args.len()), "DESC")
        }
    };
    args.push(Arg::Int(limit + 1));
    format!("{select}{cond} ORDER BY {key} {dir} LIMIT ${}", args.len())
}

/// A user as the Users list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserListRow {
    pub id: String,
    pub username: String,
    /// The paging key.
    pub username_lower: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// `users.active` (instance-wide).
    pub user_active: bool,
    /// `tenant_access.active` (this tenant).
    pub access_active: bool,
}

fn user_list_row(r: &sqlx::any::AnyRow) -> Result<UserListRow, sqlx::Error> {
    Ok(UserListRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        username_lower: r.try_get("username_lower")?,
        display_name: r.try_get("display_name")?,
        email: r.try_get("email")?,
        user_active: super::flag_of(r.try_get("active")?),
        access_active: super::flag_of(r.try_get("access_active")?),
    })
}

/// How a search reaches users' email rows.
#[derive(Clone, Copy)]
enum EmailSearch {
    /// Every email row searched once (an uncorrelated `IN`): for a walk of the whole tenant.
    AllAtOnce,
    /// Each walked user's own rows (`EXISTS` on `user_emails`' key): for a walk bounded by
    /// something smaller than the tenant, a group's members. Searched all at once, a group of
    /// 100 members read the email rows of all 100,000 users of its tenant (108 ms).
    PerUser,
}

/// The condition matching a search `$n` (a [`contains_pattern`]) on username, display name and
/// every email address of user `u`.
fn user_search(n: usize, emails: EmailSearch) -> String {
    let in_emails = match emails {
        EmailSearch::AllAtOnce => {
            format!("u.id IN (SELECT e.user_id FROM user_emails e WHERE e.value_lower LIKE ${n} ESCAPE '\\')")
        }
        EmailSearch::PerUser => format!(
            "EXISTS (SELECT 1 FROM user_emails e WHERE e.user_id = u.id AND e.value_lower LIKE ${n} ESCAPE '\\')"
        ),
    };
    format!(
        " AND (u.username_lower LIKE ${n} ESCAPE '\\' OR u.display_name_lower LIKE ${n} ESCAPE '\\' \
         OR u.email_lower LIKE ${n} ESCAPE '\\' OR {in_emails})"
    )
}

/// One page of the users with access to `tenant_id` (`tenant_users` of them, [`count_users`]),
/// by username, optionally searched, read the way [`UserWalk::for_share`] chooses for the
/// tenant's share of the instance's users.
pub async fn users_page(
    conn: &mut Conn,
    tenant_id: &str,
    tenant_users: i64,
    search: Option<&str>,
    cursor: &Cursor,
    limit: i64,
) -> AppResult<KeyPage<UserListRow>> {
    let walk = UserWalk::for_share(tenant_users, access_everywhere(conn).await?);
    users_page_by(conn, tenant_id, walk, search, cursor, limit).await
}

/// [`users_page`] read the way `walk` says.
async fn users_page_by(
    conn: &mut Conn,
    tenant_id: &str,
    walk: UserWalk,
    search: Option<&str>,
    cursor: &Cursor,
    limit: i64,
) -> AppResult<KeyPage<UserListRow>> {
    let (select, args) = users_select(tenant_id, walk, search);
    key_page(conn, &select, USER_KEY, args, cursor, limit, user_list_row).await
}

/// How a page of users by name, of a tenant or a group, is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserWalk {
    /// Along the users' name index (its unique index on `username_lower`), each user checked
    /// against the tenant's access (and the group), stopping at the page's end: no sort, and
    /// about `limit` rows read however far into the list, when the set holds much of the
    /// instance's users. A group of all of them was read and sorted whole for each page of 50
    /// before (100,000 members: docs/performance.md).
    Names,
    /// From the set's own rows (the tenant's access rows, the group's members), sorted by
    /// name: a set of a few, where the walk along every name would pass mostly other users (a
    /// tenant of 20 among 2,000 took 0.95 ms a page that way, growing with the instance).
    Set,
}

impl UserWalk {
    /// A set holding at least one in this many of the users walked is walked by name: a page
    /// then looks at most about this many users per row it shows.
    const SHARE: i64 = 20;
    /// Sets smaller than this are read from their rows without counting anything else: their
    /// sort is cheap whatever the instance holds.
    const SET_BELOW: i64 = 1_000;

    /// The walk for a set of `set` users among the `everywhere` the name index holds.
    fn for_share(set: i64, everywhere: i64) -> Self {
        if set * Self::SHARE >= everywhere {
            UserWalk::Names
        } else {
            UserWalk::Set
        }
    }
}

/// The paging key of [`users_page`] and [`members_page`].
const USER_KEY: &str = "u.username_lower";

/// The first tables of a [`UserWalk`], `m` being the group's members when `with_members`.
/// `CROSS JOIN` keeps SQLite on the walk chosen (PostgreSQL plans it freely).
fn user_walk_from(walk: UserWalk, with_members: bool) -> &'static str {
    match (walk, with_members) {
        (UserWalk::Names, false) => "users u CROSS JOIN tenant_access a",
        (UserWalk::Set, false) => "tenant_access a CROSS JOIN users u",
        (UserWalk::Names, true) => "users u CROSS JOIN group_members m CROSS JOIN tenant_access a",
        (UserWalk::Set, true) => "group_members m CROSS JOIN users u CROSS JOIN tenant_access a",
    }
}

/// [`users_page`]'s statement before its keyset condition, and its arguments.
fn users_select(tenant_id: &str, walk: UserWalk, search: Option<&str>) -> (String, Vec<Arg>) {
    let mut args = vec![Arg::Text(tenant_id.into())];
    let from = user_walk_from(walk, false);
    let mut select = format!(
        "SELECT u.id, u.username, u.username_lower, u.display_name, u.email, u.active, \
         a.active AS access_active FROM {from} WHERE a.user_id = u.id AND a.tenant_id = $1"
    );
    if let Some(q) = search.map(str::trim).filter(|q| !q.is_empty()) {
        args.push(Arg::Text(contains_pattern(q)));
        select.push_str(&user_search(args.len(), EmailSearch::AllAtOnce));
    }
    (select, args)
}

/// How many access rows all tenants keep counts of: the users a walk along every name passes,
/// about (a user in two tenants counts twice; one in none, not at all).
async fn access_everywhere(conn: &mut Conn) -> AppResult<i64> {
    let row =
        sqlx::query("SELECT COALESCE(CAST(SUM(n) AS BIGINT), 0) AS n FROM tenant_access_counts")
            .fetch_one(&mut *conn)
            .await?;
    Ok(row.try_get("n")?)
}

/// How many users have access to the tenant: the count it keeps of its access rows
/// (`db::access::kept_count_of`, moved by `db::access`), not a count of them.
pub async fn count_users(conn: &mut Conn, tenant_id: &str) -> AppResult<i64> {
    let row = sqlx::query(concat!(
        "SELECT ",
        super::access::kept_count_of!("$1"),
        " AS n"
    ))
    .bind(tenant_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("n")?)
}

/// One source of a user's tenant access, with the integration's name when the source is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub user_id: String,
    /// `manual` or an integration id.
    pub source: String,
    /// The integration's name; `None` for `manual` (or an integration since deleted).
    pub integration: Option<String>,
    pub external_id: Option<String>,
    pub created_at: Millis,
}

fn source_row(r: &sqlx::any::AnyRow) -> Result<SourceRow, sqlx::Error> {
    Ok(SourceRow {
        user_id: r.try_get("user_id")?,
        source: r.try_get("source")?,
        integration: r.try_get("integration")?,
        external_id: r.try_get("external_id")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The access sources of the given users in a tenant (one query for a whole page of users).
pub async fn access_sources(
    conn: &mut Conn,
    tenant_id: &str,
    user_ids: &[String],
) -> AppResult<Vec<SourceRow>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec![Arg::Text(tenant_id.into())];
    let mut marks = Vec::with_capacity(user_ids.len());
    for id in user_ids {
        args.push(Arg::Text(id.clone()));
        marks.push(format!("${}", args.len()));
    }
    let sql = format!(
        "SELECT s.user_id, s.source, i.name AS integration, s.external_id, s.created_at \
         FROM tenant_access_sources s \
         LEFT JOIN scim_integrations i ON i.id = s.source AND i.tenant_id = s.tenant_id \
         WHERE s.tenant_id = $1 AND s.user_id IN ({}) ORDER BY s.created_at, s.source",
        marks.join(", ")
    );
    super::fetch_mapped(conn, &sql, &args, source_row).await
}

/// [`groups_of_users`]' statement without its order: the members' rows of the users in the
/// tenant first (their index by user and tenant), each group then by its key. Led by the groups
/// (SQLite's choice when the order was left to it, for the sort), it tried every one of the
/// tenant's groups for each user of the page: 4.5 minutes of CPU to export 100,000 users in
/// 10,000 groups. The page's memberships are sorted instead (ten groups a user: 5,000 rows).
fn groups_of_users_select(users: usize) -> String {
    format!(
        "SELECT m.user_id, g.id, g.display_name, g.display_name_lower FROM group_members m \
         CROSS JOIN groups g \
         WHERE m.user_id IN ({}) AND m.tenant_id = $1 AND g.id = m.group_id AND g.tenant_id = $1",
        super::placeholders(2, users)
    )
}

/// The tenant's groups each of `user_ids` belongs to, as (user id, group id, group name), by
/// name: one query for a page of users.
pub async fn groups_of_users(
    conn: &mut Conn,
    tenant_id: &str,
    user_ids: &[String],
) -> AppResult<Vec<(String, String, String)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec![Arg::Text(tenant_id.into())];
    args.extend(user_ids.iter().map(|id| Arg::Text(id.clone())));
    let sql = format!(
        "{} ORDER BY g.display_name_lower, g.id",
        groups_of_users_select(user_ids.len())
    );
    super::fetch_mapped(conn, &sql, &args, |r| {
        Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
    })
    .await
}

/// The roles bound to the tenant's groups, as (group id, role name), by role name. A page of an
/// export matches them to its users' groups ([`groups_of_users`]) rather than joining the
/// bindings to every membership: SQLite walked all of the tenant's bindings for each one.
pub async fn group_roles(conn: &mut Conn, tenant_id: &str) -> AppResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT b.subject_id, r.name FROM bindings b JOIN roles r ON r.id = b.role_id \
         WHERE b.tenant_id = $1 AND b.subject_type = 'group' ORDER BY r.name, b.subject_id",
    )
    .bind(tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

/// The roles bound to each of `user_ids` themselves in the tenant, as (user id, role name), and
/// (user id, `None`) for a superadmin: one query for a page of users, superadmins first, then
/// by role name.
pub async fn user_roles_of(
    conn: &mut Conn,
    tenant_id: &str,
    user_ids: &[String],
) -> AppResult<Vec<(String, Option<String>)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = vec![Arg::Text(tenant_id.into())];
    args.extend(user_ids.iter().map(|id| Arg::Text(id.clone())));
    let ids = super::placeholders(2, user_ids.len());
    let sql = format!(
        "SELECT u.id AS user_id, NULL AS role_name, 0 AS rank FROM users u \
         WHERE u.is_superadmin = 1 AND u.id IN ({ids}) \
         UNION ALL \
         SELECT b.subject_id, r.name, 1 FROM bindings b JOIN roles r ON r.id = b.role_id \
         WHERE b.tenant_id = $1 AND b.subject_type = 'user' AND b.subject_id IN ({ids}) \
         ORDER BY 3, 2"
    );
    super::fetch_mapped(conn, &sql, &args, |r| {
        Ok((r.try_get("user_id")?, r.try_get("role_name")?))
    })
    .await
}

/// What the user page shows of the global user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetailRow {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub is_superadmin: bool,
    pub user_active: bool,
    pub has_password: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub access_active: bool,
    pub access_since: Millis,
}

/// A user with access to the tenant (`None` otherwise, even if the user exists).
pub async fn user_in_tenant(
    conn: &mut Conn,
    tenant_id: &str,
    user_id: &str,
) -> AppResult<Option<UserDetailRow>> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.email, u.is_superadmin, u.active, \
         CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS has_password, \
         u.created_at, u.updated_at, a.active AS access_active, a.created_at AS access_since \
         FROM users u JOIN tenant_access a ON a.user_id = u.id AND a.tenant_id = $1 WHERE u.id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(UserDetailRow {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            email: r.try_get("email")?,
            is_superadmin: super::flag_of(r.try_get("is_superadmin")?),
            user_active: super::flag_of(r.try_get("active")?),
            has_password: super::flag_of(r.try_get("has_password")?),
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            access_active: super::flag_of(r.try_get("access_active")?),
            access_since: r.try_get("access_since")?,
        })
    })
    .transpose()
}

/// Every email address of a user (lower-cased, as stored for lookups), with its type.
pub async fn emails_of(conn: &mut Conn, user_id: &str) -> AppResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT value_lower, kind FROM user_emails WHERE user_id = $1 ORDER BY value_lower, kind",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("value_lower")?, r.try_get("kind")?)))
        .collect()
}

/// How many tenants other than `tenant_id` the user has access to.
pub async fn other_tenants(conn: &mut Conn, tenant_id: &str, user_id: &str) -> AppResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM tenant_access WHERE user_id = $1 AND tenant_id <> $2",
    )
    .bind(user_id)
    .bind(tenant_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("n")?)
}

/// A group as the Groups list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListRow {
    pub id: String,
    pub display_name: String,
    /// The paging key.
    pub display_name_lower: String,
    pub managed_by: Option<String>,
    /// The managing integration's name (`None` when not managed or the integration is gone).
    pub integration: Option<String>,
    pub members: i64,
}

fn group_list_row(r: &sqlx::any::AnyRow) -> Result<GroupListRow, sqlx::Error> {
    Ok(GroupListRow {
        id: r.try_get("id")?,
        display_name: r.try_get("display_name")?,
        display_name_lower: r.try_get("display_name_lower")?,
        managed_by: r.try_get("managed_by")?,
        integration: r.try_get("integration")?,
        members: r.try_get("members")?,
    })
}

const GROUP_SELECT: &str = "SELECT g.id, g.display_name, g.display_name_lower, g.managed_by, \
     i.name AS integration, \
     (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS members \
     FROM groups g LEFT JOIN scim_integrations i ON i.id = g.managed_by";

/// One page of a tenant's groups by name, optionally searched (name contains).
pub async fn groups_page(
    conn: &mut Conn,
    tenant_id: &str,
    search: Option<&str>,
    cursor: &Cursor,
    limit: i64,
) -> AppResult<KeyPage<GroupListRow>> {
    let mut args = vec![Arg::Text(tenant_id.into())];
    let mut select = format!("{GROUP_SELECT} WHERE g.tenant_id = $1");
    if let Some(q) = search.map(str::trim).filter(|q| !q.is_empty()) {
        args.push(Arg::Text(contains_pattern(q)));
        select.push_str(&format!(
            " AND g.display_name_lower LIKE ${} ESCAPE '\\'",
            args.len()
        ));
    }
    key_page(
        conn,
        &select,
        "g.display_name_lower",
        args,
        cursor,
        limit,
        group_list_row,
    )
    .await
}

/// One group of the tenant with its member count and managing integration.
pub async fn group(
    conn: &mut Conn,
    tenant_id: &str,
    group_id: &str,
) -> AppResult<Option<GroupListRow>> {
    let sql = format!("{GROUP_SELECT} WHERE g.tenant_id = $1 AND g.id = $2");
    let rows = super::fetch_mapped(
        conn,
        &sql,
        &[Arg::Text(tenant_id.into()), Arg::Text(group_id.into())],
        group_list_row,
    )
    .await?;
    Ok(rows.into_iter().next())
}

pub async fn count_groups(conn: &mut Conn, tenant_id: &str) -> AppResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM groups WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("n")?)
}

/// One page of a group's members (`members` of them) by username, optionally searched like the
/// Users list: along the users' names when the group holds much of the instance's users (an
/// identity provider's "everyone"), from its members otherwise and for a search.
pub async fn members_page(
    conn: &mut Conn,
    tenant_id: &str,
    group_id: &str,
    members: i64,
    search: Option<&str>,
    cursor: &Cursor,
    limit: i64,
) -> AppResult<KeyPage<UserListRow>> {
    let searched = search.is_some_and(|q| !q.trim().is_empty());
    let walk = if searched || members < UserWalk::SET_BELOW {
        UserWalk::Set
    } else {
        UserWalk::for_share(members, access_everywhere(conn).await?)
    };
    members_page_by(conn, tenant_id, group_id, walk, search, cursor, limit).await
}

/// [`members_page`] read the way `walk` says.
async fn members_page_by(
    conn: &mut Conn,
    tenant_id: &str,
    group_id: &str,
    walk: UserWalk,
    search: Option<&str>,
    cursor: &Cursor,
    limit: i64,
) -> AppResult<KeyPage<UserListRow>> {
    let (select, args) = members_select(tenant_id, group_id, walk, search);
    key_page(conn, &select, USER_KEY, args, cursor, limit, user_list_row).await
}

/// [`members_page`]'s statement before its keyset condition, and its arguments. From the
/// members, with a search SQLite's planner otherwise walked every user of the tenant and probed
/// the group for each.
fn members_select(
    tenant_id: &str,
    group_id: &str,
    walk: UserWalk,
    search: Option<&str>,
) -> (String, Vec<Arg>) {
    let mut args = vec![Arg::Text(tenant_id.into()), Arg::Text(group_id.into())];
    let from = user_walk_from(walk, true);
    let mut select = format!(
        "SELECT u.id, u.username, u.username_lower, u.display_name, u.email, u.active, \
         a.active AS access_active FROM {from} \
         WHERE m.group_id = $2 AND u.id = m.user_id AND a.user_id = u.id AND a.tenant_id = $1"
    );
    if let Some(q) = search.map(str::trim).filter(|q| !q.is_empty()) {
        args.push(Arg::Text(contains_pattern(q)));
        select.push_str(&user_search(args.len(), EmailSearch::PerUser));
    }
    (select, args)
}

/// Whether the user is a member of the group.
pub async fn is_member(conn: &mut Conn, group_id: &str, user_id: &str) -> AppResult<bool> {
    let row =
        sqlx::query("SELECT 1 AS one FROM group_members WHERE group_id = $1 AND user_id = $2")
            .bind(group_id)
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{plans, Db};

    /// The export's groups per page of users start from those users' memberships (by user and
    /// tenant), never from the tenant's groups: led by the groups, every group was tried for
    /// each user of the page.
    #[tokio::test]
    async fn an_export_pages_groups_start_from_its_users() {
        let (_dir, db) = plans::migrated_sqlite().await;
        let ids: Vec<Arg> = std::iter::once(Arg::Text("t".into()))
            .chain((0..500).map(|n| Arg::Text(format!("u{n}"))))
            .collect();
        let sql = groups_of_users_select(500);
        let steps = plans::steps(&db, &sql, &ids).await;
        let by_user = |s: &&String| {
            s.starts_with("SEARCH m USING") && s.contains("group_members_user_refs_idx")
        };
        assert!(steps.iter().any(|s| by_user(&s)), "{sql}: {steps:?}");
        let groups_by_tenant = |s: &&String| s.starts_with("SEARCH g") && !s.contains("(id=?)");
        assert!(
            !steps.iter().any(|s| groups_by_tenant(&s)),
            "{sql}: {steps:?}"
        );
        assert!(
            steps.iter().all(|s| !s.starts_with("SCAN")),
            "{sql}: {steps:?}"
        );
    }

    /// Tenant `t` of 40 users (`u00`…`u39`, each with a second email `uNN@home.test`), another
    /// tenant `o` with 20 more who share every search term, and group `g` of `t`: the 5 users
    /// `u00`, `u08`, `u16`, `u24`, `u32`.
    async fn directory_with_a_group(db: &Db) {
        let mut tx = db.begin_write().await.expect("a write");
        sqlx::raw_sql(
            "INSERT INTO tenants (id, name, created_at, updated_at) VALUES \
             ('t', 'T', 0, 0), ('o', 'O', 0, 0); \
             INSERT INTO groups (id, tenant_id, display_name, display_name_lower, created_at, \
             updated_at) VALUES ('g', 't', 'G', 'g', 0, 0)",
        )
        .execute(&mut *tx)
        .await
        .expect("tenants and group");
        for n in 0..60 {
            let (id, tenant) = if n < 40 {
                (format!("u{n:02}"), "t")
            } else {
                (format!("x{n:02}"), "o")
            };
            sqlx::query(
                "INSERT INTO users (id, username, username_lower, email, email_lower, \
                 display_name, display_name_lower, created_at, updated_at) \
                 VALUES ($1, $1, $1, $2, $2, $3, $3, $4, $4)",
            )
            .bind(&id)
            .bind(format!("{id}@work.test"))
            .bind(format!("person {id}"))
            .bind(n)
            .execute(&mut *tx)
            .await
            .expect("user");
            sqlx::query(
                "INSERT INTO user_emails (user_id, value_lower, kind) VALUES ($1, $2, 'home')",
            )
            .bind(&id)
            .bind(format!("{id}@home.test"))
            .execute(&mut *tx)
            .await
            .expect("email");
            crate::db::access::grant(&mut tx, tenant, &id, "manual", None, 1)
                .await
                .expect("access");
            if n < 40 && n % 8 == 0 {
                sqlx::query(
                    "INSERT INTO group_members (group_id, user_id, created_at, tenant_id) \
                     VALUES ('g', $1, 0, 't')",
                )
                .bind(&id)
                .execute(&mut *tx)
                .await
                .expect("member");
            }
        }
        tx.commit().await.expect("commit");
    }

    async fn member_names(db: &Db, search: Option<&str>, cursor: &Cursor) -> KeyPage<String> {
        let mut conn = db.acquire().await.expect("connection");
        let page = members_page(&mut conn, "t", "g", 5, search, cursor, 2)
            .await
            .expect("members");
        KeyPage {
            rows: page.rows.into_iter().map(|u| u.username).collect(),
            has_prev: page.has_prev,
            has_next: page.has_next,
        }
    }

    /// A search of a group's members finds them by any of their emails and finds no one else,
    /// page by page; its plan starts from the group's members and searches only their email
    /// rows. (It walked every user of the tenant and read every email row of the instance:
    /// 108 ms for a group of 100 in a tenant of 100,000.)
    #[tokio::test]
    async fn a_member_search_walks_the_group_not_the_tenant() {
        let (_dir, db) = plans::migrated_sqlite().await;
        directory_with_a_group(&db).await;
        let first = member_names(&db, Some("@HOME.test"), &Cursor::First).await;
        assert_eq!(first.rows, ["u00", "u08"]);
        assert!(first.has_next && !first.has_prev);
        let next = member_names(&db, Some("@home.test"), &Cursor::After("u08".into())).await;
        assert_eq!(next.rows, ["u16", "u24"]);
        let last = member_names(&db, Some("@home.test"), &Cursor::After("u24".into())).await;
        assert_eq!(last.rows, ["u32"]);
        assert!(!last.has_next);
        let by_home = member_names(&db, Some("u16@home"), &Cursor::First).await;
        assert_eq!(by_home.rows, ["u16"], "a second email finds its member");
        let outsider = member_names(&db, Some("u17@home"), &Cursor::First).await;
        assert!(
            outsider.rows.is_empty(),
            "{:?}: not a member",
            outsider.rows
        );
        let all = member_names(&db, None, &Cursor::After("u16".into())).await;
        assert_eq!(all.rows, ["u24", "u32"]);

        let (select, mut args) = members_select("t", "g", UserWalk::Set, Some("home"));
        let sql = keyset_sql(&select, USER_KEY, &mut args, &Cursor::First, 50);
        let steps = plans::steps(&db, &sql, &args).await;
        assert!(
            steps[0].starts_with("SEARCH m USING COVERING INDEX")
                && steps[0].contains("(group_id=?)"),
            "the walk starts from the group's members: {steps:#?}"
        );
        assert!(
            steps.iter().all(|s| !s.starts_with("SCAN")),
            "nothing is read whole: {steps:#?}"
        );
    }

    /// The names on a page, and whether it has pages before and after.
    type Walked = (Vec<String>, bool, bool);

    fn walked(page: &KeyPage<UserListRow>) -> Walked {
        let names = page.rows.iter().map(|u| u.username.clone()).collect();
        (names, page.has_prev, page.has_next)
    }

    /// The pages of a group's members (`group`) or of the tenant's users, walked `walk`'s way
    /// from the first page on, then the page before `before`.
    async fn pages_walked(db: &Db, walk: UserWalk, group: bool, before: &str) -> Vec<Walked> {
        let mut conn = db.acquire().await.expect("connection");
        let mut pages = Vec::new();
        let mut cursor = Cursor::First;
        loop {
            let page = if group {
                members_page_by(&mut conn, "t", "g", walk, None, &cursor, 2).await
            } else {
                users_page_by(&mut conn, "t", walk, None, &cursor, 12).await
            }
            .expect("page");
            pages.push(walked(&page));
            match page.cursors(|u| &u.username_lower).1 {
                Some(last) if pages.len() < 10 => cursor = Cursor::After(last),
                _ => break,
            }
        }
        let back = if group {
            members_page_by(
                &mut conn,
                "t",
                "g",
                walk,
                None,
                &Cursor::Before(before.into()),
                2,
            )
            .await
        } else {
            users_page_by(
                &mut conn,
                "t",
                walk,
                None,
                &Cursor::Before(before.into()),
                12,
            )
            .await
        };
        pages.push(walked(&back.expect("page back")));
        pages
    }

    /// A set of users (a tenant's, a group's) holding much of the instance's is paged along the
    /// users' names (no sort); a smaller one from its own rows, sorted. Both walks give the same
    /// pages, forwards and back, and each reads what it says.
    #[tokio::test]
    async fn a_set_of_users_is_walked_by_name_when_it_holds_much_of_the_instance() {
        use UserWalk::{Names, Set};
        assert_eq!(UserWalk::for_share(1_000, 1_000), Names);
        assert_eq!(UserWalk::for_share(5_000, 100_000), Names, "one user in 20");
        assert_eq!(UserWalk::for_share(4_999, 100_000), Set);
        assert_eq!(
            UserWalk::for_share(20, 2_000),
            Set,
            "a small tenant among many"
        );

        let (_dir, db) = plans::migrated_sqlite().await;
        directory_with_a_group(&db).await;
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let members = pages_walked(&db, Set, true, "u32").await;
        assert_eq!(
            members,
            [
                (names(&["u00", "u08"]), false, true),
                (names(&["u16", "u24"]), true, true),
                (names(&["u32"]), true, false),
                (names(&["u16", "u24"]), true, true),
            ]
        );
        assert_eq!(pages_walked(&db, Names, true, "u32").await, members);
        let users = pages_walked(&db, Set, false, "u30").await;
        assert_eq!(
            users.len(),
            5,
            "40 users, 12 a page, and the page back: {users:?}"
        );
        assert_eq!(users[3].0, names(&["u36", "u37", "u38", "u39"]));
        assert_eq!(
            users[4].0,
            (18..30).map(|n| format!("u{n}")).collect::<Vec<_>>()
        );
        assert_eq!(pages_walked(&db, Names, false, "u30").await, users);

        for cursor in [
            Cursor::First,
            Cursor::After("u08".into()),
            Cursor::Before("u32".into()),
        ] {
            for (walk, group) in [(Names, true), (Set, true), (Names, false), (Set, false)] {
                let (select, mut args) = if group {
                    members_select("t", "g", walk, None)
                } else {
                    users_select("t", walk, None)
                };
                let sql = keyset_sql(&select, USER_KEY, &mut args, &cursor, 50);
                let steps = plans::steps(&db, &sql, &args).await;
                let sorted = steps.iter().any(|s| s.contains("TEMP B-TREE"));
                match walk {
                    Names => {
                        assert!(
                            steps[0].contains("u USING INDEX sqlite_autoindex_users_2"),
                            "along the users' names: {steps:#?}"
                        );
                        assert!(!sorted, "nothing sorted: {steps:#?}");
                    }
                    Set => {
                        let first = if group { "SEARCH m " } else { "SEARCH a " };
                        assert!(steps[0].starts_with(first), "from the set: {steps:#?}");
                        assert!(
                            steps.iter().all(|s| !s.starts_with("SCAN")),
                            "nothing read whole: {steps:#?}"
                        );
                    }
                }
            }
        }
    }

    /// The Users list (and the Bindings form's first users, its first page) walks the users in
    /// username order and stops at the page's end: no sort of the tenant's users. (The form's
    /// list sorted every access row of the tenant: 100 ms at 100,000 users.)
    #[tokio::test]
    async fn the_users_list_reads_a_page_in_username_order_without_sorting_the_tenant() {
        let (_dir, db) = plans::migrated_sqlite().await;
        directory_with_a_group(&db).await;
        let mut conn = db.acquire().await.expect("connection");
        let first = users_page(&mut conn, "t", 40, None, &Cursor::First, 3)
            .await
            .expect("page");
        let names: Vec<_> = first.rows.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["u00", "u01", "u02"]);
        assert!(first.has_next);
        let found = users_page(&mut conn, "t", 40, Some("U39@home"), &Cursor::First, 3)
            .await
            .expect("search");
        let names: Vec<_> = found.rows.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["u39"], "by a second email, and only in its tenant");
        drop(conn);

        let (select, mut args) = users_select("t", UserWalk::Names, None);
        let sql = keyset_sql(&select, USER_KEY, &mut args, &Cursor::First, 200);
        let steps = plans::steps(&db, &sql, &args).await;
        assert!(
            steps[0].starts_with("SCAN u USING INDEX"),
            "users walked by username: {steps:#?}"
        );
        assert!(
            steps.iter().all(|s| !s.contains("TEMP B-TREE")),
            "no sort: {steps:#?}"
        );
    }

    #[test]
    fn search_patterns_take_wildcards_literally() {
        assert_eq!(contains_pattern(" Ada "), "%ada%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
