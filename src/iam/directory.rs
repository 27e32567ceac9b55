//! What the admin pages read about a tenant's users and groups, assembled once: keyset-paged
//! listings (a page, its Previous/Next keys and the total), a user's detail with the
//! "may this actor set their password" answer, and a group's detail with the roles it may still
//! be given. Server functions only map these to views.

use std::collections::HashMap;

use crate::db::directory::{self as dir, Cursor, GroupListRow, SourceRow, UserDetailRow};
use crate::db::iam::{BindingRow, RoleRow};
use crate::db::{self, users::UserRow, Conn, Db};
use crate::error::{AppError, AppResult};
use crate::iam::bindings::{self, SubjectKind};
use crate::iam::permissions::{self, Origin, Permissions};
use crate::iam::reach::{self, Actor};
use crate::iam::roles;

/// Rows per page of the Users list and a group's members.
pub const PAGE_SIZE: i64 = 50;

/// One page of a keyset-paged list: its rows, the keys of the Previous and Next links, and how
/// many there are in all (not only the matches).
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub rows: Vec<T>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub total: i64,
}

/// The page the links of a list ask for: `after` wins over `before`; empty values are absent.
pub fn cursor(after: Option<String>, before: Option<String>) -> Cursor {
    match (
        after.filter(|s| !s.is_empty()),
        before.filter(|s| !s.is_empty()),
    ) {
        (Some(a), _) => Cursor::After(a),
        (None, Some(b)) => Cursor::Before(b),
        _ => Cursor::First,
    }
}

/// What a list page asks for: the search text and where the page starts.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub q: Option<String>,
    pub at: Cursor,
}

impl Search {
    /// From a list page's query: `q`, and the `after`/`before` keys of its links ([`cursor`]).
    pub fn new(q: Option<String>, after: Option<String>, before: Option<String>) -> Self {
        Search {
            q,
            at: cursor(after, before),
        }
    }
}

/// A user of a list with the sources of their access to the tenant (for the badges).
#[derive(Debug, Clone)]
pub struct UserEntry {
    pub row: dir::UserListRow,
    pub sources: Vec<SourceRow>,
}

/// Adds to each row of a page the sources of the user's access (one query for the page).
async fn entries(
    conn: &mut Conn,
    tenant_id: &str,
    rows: Vec<dir::UserListRow>,
) -> AppResult<Vec<UserEntry>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let sources = dir::access_sources(conn, tenant_id, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let sources = sources
                .iter()
                .filter(|s| s.user_id == row.id)
                .cloned()
                .collect();
            UserEntry { row, sources }
        })
        .collect())
}

/// One page of the tenant's users by username; `q` searches username, name and email.
pub async fn users(db: &Db, tenant_id: &str, s: &Search) -> AppResult<Listing<UserEntry>> {
    let mut conn = db.acquire().await?;
    let total = dir::count_users(&mut conn, tenant_id).await?;
    let (q, at) = (s.q.as_deref(), &s.at);
    let page = dir::users_page(&mut conn, tenant_id, total, q, at, PAGE_SIZE).await?;
    let (prev, next) = page.cursors(|r| &r.username_lower);
    let rows = entries(&mut conn, tenant_id, page.rows).await?;
    Ok(Listing {
        rows,
        prev,
        next,
        total,
    })
}

/// Users a page of an export holds: the export is read this many at a time, never whole.
pub const EXPORT_PAGE: i64 = 500;

/// A user of an export: their list entry, the names of their groups in the tenant, and where
/// their roles there come from ("Admin", "Viewer, via group Engineering", "superadmin").
#[derive(Debug, Clone)]
pub struct ExportedUser {
    pub entry: UserEntry,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
}

/// The tenant's users by username after the key `after` (from the start without one),
/// [`EXPORT_PAGE`] of them with their sources, groups and roles, and the key of the next page
/// (none after the last). Seven queries a page, whatever its size.
pub async fn users_after(
    db: &Db,
    tenant_id: &str,
    after: Option<String>,
) -> AppResult<(Vec<ExportedUser>, Option<String>)> {
    let mut conn = db.acquire().await?;
    let at = after.map_or(Cursor::First, Cursor::After);
    let tenant_users = dir::count_users(&mut conn, tenant_id).await?;
    let page = dir::users_page(&mut conn, tenant_id, tenant_users, None, &at, EXPORT_PAGE).await?;
    let (_, next) = page.cursors(|r| &r.username_lower);
    let ids: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
    let mut roles_of: HashMap<String, Vec<String>> = HashMap::new();
    for (user_id, role) in dir::user_roles_of(&mut conn, tenant_id, &ids).await? {
        let origin = role.map_or(Origin::Superadmin, Origin::Role);
        roles_of
            .entry(user_id)
            .or_default()
            .push(origin.to_string());
    }
    let mut roles_of_group: HashMap<String, Vec<String>> = HashMap::new();
    for (group_id, role) in dir::group_roles(&mut conn, tenant_id).await? {
        roles_of_group.entry(group_id).or_default().push(role);
    }
    let mut groups_of: HashMap<String, Vec<String>> = HashMap::new();
    for (user_id, group_id, name) in dir::groups_of_users(&mut conn, tenant_id, &ids).await? {
        let via = roles_of_group.get(&group_id).into_iter().flatten();
        let roles = roles_of.entry(user_id.clone()).or_default();
        roles.extend(via.map(|role| Origin::RoleViaGroup(role.clone(), name.clone()).to_string()));
        groups_of.entry(user_id).or_default().push(name);
    }
    let users = entries(&mut conn, tenant_id, page.rows)
        .await?
        .into_iter()
        .map(|entry| {
            let groups = groups_of.remove(&entry.row.id).unwrap_or_default();
            let roles = roles_of.remove(&entry.row.id).unwrap_or_default();
            ExportedUser {
                entry,
                groups,
                roles,
            }
        })
        .collect();
    Ok((users, next))
}

/// One page of the tenant's groups by name; `q` searches names.
pub async fn groups(db: &Db, tenant_id: &str, s: &Search) -> AppResult<Listing<GroupListRow>> {
    let mut conn = db.acquire().await?;
    let page = dir::groups_page(&mut conn, tenant_id, s.q.as_deref(), &s.at, PAGE_SIZE).await?;
    let (prev, next) = page.cursors(|r| &r.display_name_lower);
    let total = dir::count_groups(&mut conn, tenant_id).await?;
    Ok(Listing {
        rows: page.rows,
        prev,
        next,
        total,
    })
}

/// Everything the user page shows about one user with access to the tenant.
#[derive(Debug, Clone)]
pub struct UserFacts {
    pub row: UserDetailRow,
    /// `(address, type)`, the primary address first, each address once (case aside).
    pub emails: Vec<(String, String)>,
    pub sources: Vec<SourceRow>,
    /// `(group id, name)`.
    pub groups: Vec<(String, String)>,
    pub bindings: Vec<BindingRow>,
    pub effective: Permissions,
    /// Whether the actor may set this user's password (`reach::may_change_credentials`, the
    /// rule `iam::users::set_password` enforces; never their own, see `own_account`).
    pub password_settable: bool,
    /// The actor is this user (their password is changed under Your account).
    pub own_account: bool,
}

/// A user's addresses: `primary` (the user row's) first, then the others recorded for them,
/// each address once (case aside), as `(address, type)`.
pub async fn emails_of(
    conn: &mut Conn,
    user_id: &str,
    primary: Option<&str>,
) -> AppResult<Vec<(String, String)>> {
    let mut emails: Vec<(String, String)> = Vec::new();
    if let Some(primary) = primary {
        emails.push((primary.to_string(), "primary".into()));
    }
    for (value, kind) in dir::emails_of(conn, user_id).await? {
        if !emails.iter().any(|(v, _)| v.eq_ignore_ascii_case(&value)) {
            emails.push((value, kind));
        }
    }
    Ok(emails)
}

/// The user page of `user_id` in the tenant, as `actor` sees it; 404 without access there.
pub async fn user(
    db: &Db,
    actor: &UserRow,
    tenant_id: &str,
    user_id: &str,
) -> AppResult<UserFacts> {
    let mut conn = db.acquire().await?;
    let row = dir::user_in_tenant(&mut conn, tenant_id, user_id)
        .await?
        .ok_or_else(|| {
            AppError::NotFound("There is no such user with access to this tenant.".into())
        })?;
    let emails = emails_of(&mut conn, &row.id, row.email.as_deref()).await?;
    let sources = dir::access_sources(&mut conn, tenant_id, std::slice::from_ref(&row.id)).await?;
    let groups = db::scim_users::groups_of(&mut conn, tenant_id, &row.id).await?;
    let bindings = bindings::of_subject(&mut conn, tenant_id, SubjectKind::User, &row.id).await?;
    let subject = permissions::Subject::User {
        id: &row.id,
        superadmin: row.is_superadmin,
    };
    let effective = permissions::effective(&mut conn, tenant_id, subject).await?;
    let target = reach::facts(&mut conn, tenant_id, &row.id).await?;
    let own_account = actor.id == row.id;
    let password_settable =
        !own_account && reach::may_change_credentials(Actor::of(actor), &target).is_ok();
    Ok(UserFacts {
        row,
        emails,
        sources,
        groups,
        bindings,
        effective,
        password_settable,
        own_account,
    })
}

/// Everything the group page shows: the group, a page of its members, its bindings and the
/// roles it may still be given.
#[derive(Debug, Clone)]
pub struct GroupFacts {
    pub group: GroupListRow,
    pub members: Listing<UserEntry>,
    pub bindings: Vec<BindingRow>,
    /// The tenant's roles not yet bound to the group; empty unless `held` allows
    /// BINDINGS:CREATE.
    pub attachable: Vec<RoleRow>,
}

/// The group page of `group_id` with the page of members `s` asks for (its text searches them);
/// 404 when the tenant has no such group.
pub async fn group(
    db: &Db,
    held: &Permissions,
    tenant_id: &str,
    group_id: &str,
    s: &Search,
) -> AppResult<GroupFacts> {
    let mut conn = db.acquire().await?;
    let group = dir::group(&mut conn, tenant_id, group_id)
        .await?
        .ok_or_else(|| AppError::NotFound("There is no such group in this tenant.".into()))?;
    let (q, at) = (s.q.as_deref(), &s.at);
    let page = dir::members_page(
        &mut conn,
        tenant_id,
        &group.id,
        group.members,
        q,
        at,
        PAGE_SIZE,
    )
    .await?;
    let (prev, next) = page.cursors(|r| &r.username_lower);
    let rows = entries(&mut conn, tenant_id, page.rows).await?;
    let bindings =
        bindings::of_subject(&mut conn, tenant_id, SubjectKind::Group, &group.id).await?;
    let attachable = match roles::choices(&mut conn, held, tenant_id).await? {
        Some(roles) => roles
            .into_iter()
            .filter(|r| !bindings.iter().any(|b| b.role_id == r.id))
            .collect(),
        None => Vec::new(),
    };
    Ok(GroupFacts {
        members: Listing {
            rows,
            prev,
            next,
            total: group.members,
        },
        group,
        bindings,
        attachable,
    })
}
