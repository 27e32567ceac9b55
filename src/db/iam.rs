//! Roles with their permissions, bindings, service accounts and their API tokens.

use sqlx::Row;

use super::Conn;
use crate::clock::Millis;
use crate::error::{AppError, AppResult, UniqueOr};
use crate::model::{Action, Permission, Resource};

/// The permission a row's `resource` and `action` columns name. Text that names none (only a
/// hand-edited database has it) grants nothing, so it is skipped.
pub(super) fn permission_from(r: &sqlx::any::AnyRow) -> Result<Option<Permission>, sqlx::Error> {
    let resource: String = r.try_get("resource")?;
    let action: String = r.try_get("action")?;
    Ok(Resource::parse(&resource).zip(Action::parse(&action)))
}

/// The permissions of `rows`, skipping text that names none.
fn permissions_from(rows: &[sqlx::any::AnyRow]) -> AppResult<Vec<Permission>> {
    let mut out = Vec::new();
    for r in rows {
        out.extend(permission_from(r)?);
    }
    Ok(out)
}

/// The form error for a role name the tenant already has (the unique index decides).
pub fn role_name_taken(name: &str) -> AppError {
    AppError::invalid(
        "name",
        format!("A role named “{name}” already exists in this tenant (names are compared without case). Choose another name."),
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub description: String,
    pub managed: bool,
}

fn role_from(r: &sqlx::any::AnyRow) -> Result<RoleRow, sqlx::Error> {
    Ok(RoleRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        managed: super::flag_of(r.try_get("managed")?),
    })
}

pub async fn find_role_by_name(
    conn: &mut Conn,
    tenant_id: &str,
    name: &str,
) -> AppResult<Option<RoleRow>> {
    role_named(conn, tenant_id, name, "").await
}

async fn role_named(
    conn: &mut Conn,
    tenant_id: &str,
    name: &str,
    and: &str,
) -> AppResult<Option<RoleRow>> {
    let row = sqlx::query(&format!(
        "SELECT id, tenant_id, name, description, managed FROM roles \
         WHERE tenant_id = $1 AND name_lower = $2{and}"
    ))
    .bind(tenant_id)
    .bind(name.to_lowercase())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(role_from).transpose()?)
}

/// The managed role `name` of a tenant, found by its managed flag (a custom role never passes
/// for a managed one).
pub async fn find_managed_role(
    conn: &mut Conn,
    tenant_id: &str,
    name: &str,
) -> AppResult<Option<RoleRow>> {
    role_named(conn, tenant_id, name, " AND managed = 1").await
}

/// Inserts a managed role unless the tenant has one of that name; true when it was inserted
/// (then its permissions are to be added). Concurrent callers cannot both insert.
pub async fn insert_managed_role_if_missing(
    conn: &mut Conn,
    role: &RoleRow,
    now: Millis,
) -> AppResult<bool> {
    let done = sqlx::query(
        "INSERT INTO roles (id, tenant_id, name, name_lower, description, managed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6) ON CONFLICT (tenant_id, name_lower) DO NOTHING",
    )
    .bind(&role.id)
    .bind(&role.tenant_id)
    .bind(&role.name)
    .bind(role.name.to_lowercase())
    .bind(&role.description)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find_role(conn: &mut Conn, tenant_id: &str, id: &str) -> AppResult<Option<RoleRow>> {
    let row = sqlx::query(
        "SELECT id, tenant_id, name, description, managed FROM roles \
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(role_from).transpose()?)
}

pub async fn list_roles(conn: &mut Conn, tenant_id: &str) -> AppResult<Vec<RoleRow>> {
    let rows = sqlx::query(
        "SELECT id, tenant_id, name, description, managed FROM roles \
         WHERE tenant_id = $1 ORDER BY name_lower",
    )
    .bind(tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(role_from).collect::<Result<_, _>>()?)
}

/// Inserts a role and its permissions (`(resource, action)` pairs). A name the tenant has
/// already is a field error on `name`.
pub async fn insert_role(
    conn: &mut Conn,
    role: &RoleRow,
    permissions: &[Permission],
    now: Millis,
) -> AppResult<()> {
    let inserted = sqlx::query(
        "INSERT INTO roles (id, tenant_id, name, name_lower, description, managed, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&role.id)
    .bind(&role.tenant_id)
    .bind(&role.name)
    .bind(role.name.to_lowercase())
    .bind(&role.description)
    .bind(super::flag(role.managed))
    .bind(now)
    .execute(&mut *conn)
    .await;
    inserted.unique_or(|| role_name_taken(&role.name))?;
    add_role_permissions(conn, &role.id, permissions).await
}

/// Adds `(resource, action)` permissions to a role.
pub async fn add_role_permissions(
    conn: &mut Conn,
    role_id: &str,
    permissions: &[Permission],
) -> AppResult<()> {
    for (resource, action) in permissions {
        sqlx::query("INSERT INTO role_permissions (role_id, resource, action) VALUES ($1, $2, $3)")
            .bind(role_id)
            .bind(resource.as_str())
            .bind(action.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn role_permissions(conn: &mut Conn, role_id: &str) -> AppResult<Vec<Permission>> {
    let rows = sqlx::query(
        "SELECT resource, action FROM role_permissions WHERE role_id = $1 ORDER BY resource, action",
    )
    .bind(role_id)
    .fetch_all(&mut *conn)
    .await?;
    permissions_from(&rows)
}

pub async fn delete_role(conn: &mut Conn, role_id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM roles WHERE id = $1")
        .bind(role_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Binds a role to a subject; `None` when that binding exists already (the unique index
/// decides, so concurrent binders cannot both insert).
pub async fn insert_binding(
    conn: &mut Conn,
    tenant_id: &str,
    role_id: &str,
    subject_type: &str,
    subject_id: &str,
    now: Millis,
) -> AppResult<Option<String>> {
    let id = super::new_id();
    let done = sqlx::query(
        "INSERT INTO bindings (id, tenant_id, role_id, subject_type, subject_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, role_id, subject_type, subject_id) DO NOTHING",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(role_id)
    .bind(subject_type)
    .bind(subject_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok((done.rows_affected() == 1).then_some(id))
}

pub async fn delete_binding(conn: &mut Conn, tenant_id: &str, id: &str) -> AppResult<bool> {
    let done = sqlx::query("DELETE FROM bindings WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete_bindings_of(
    conn: &mut Conn,
    tenant_id: &str,
    subject_type: &str,
    subject_id: &str,
) -> AppResult<()> {
    sqlx::query(
        "DELETE FROM bindings WHERE tenant_id = $1 AND subject_type = $2 AND subject_id = $3",
    )
    .bind(tenant_id)
    .bind(subject_type)
    .bind(subject_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One permission a subject holds and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub permission: Permission,
    pub role_name: String,
    /// `None` when bound directly; the group's display name when through a group.
    pub via_group: Option<String>,
}

fn grants_from(rows: &[sqlx::any::AnyRow]) -> AppResult<Vec<GrantRow>> {
    let mut out = Vec::new();
    for r in rows {
        if let Some(permission) = permission_from(r)? {
            out.push(GrantRow {
                permission,
                role_name: r.try_get("role_name")?,
                via_group: r.try_get("via_group")?,
            });
        }
    }
    Ok(out)
}

/// Permissions bound to user `$2` in tenant `$1` directly, and through each of the tenant's
/// groups they belong to. The groups' part starts from the user's memberships (`CROSS JOIN`
/// fixes the order SQLite joins in): left to itself it walked all of the tenant's group
/// bindings and probed the memberships of each.
const USER_GRANTS: &str = "SELECT p.resource, p.action, r.name AS role_name, NULL AS via_group \
     FROM bindings b JOIN roles r ON r.id = b.role_id JOIN role_permissions p ON p.role_id = r.id \
     WHERE b.tenant_id = $1 AND b.subject_type = 'user' AND b.subject_id = $2 \
     UNION ALL \
     SELECT p.resource, p.action, r.name AS role_name, g.display_name AS via_group \
     FROM group_members m CROSS JOIN groups g CROSS JOIN bindings b \
     JOIN roles r ON r.id = b.role_id JOIN role_permissions p ON p.role_id = r.id \
     WHERE m.user_id = $2 AND g.id = m.group_id AND g.tenant_id = $1 \
     AND b.tenant_id = $1 AND b.subject_type = 'group' AND b.subject_id = g.id";

/// Permissions bound to service account `$2` in tenant `$1`.
const SERVICE_ACCOUNT_GRANTS: &str =
    "SELECT p.resource, p.action, r.name AS role_name, NULL AS via_group \
     FROM bindings b JOIN roles r ON r.id = b.role_id JOIN role_permissions p ON p.role_id = r.id \
     WHERE b.tenant_id = $1 AND b.subject_type = 'service_account' AND b.subject_id = $2";

/// The permissions of every role bound to group `$2` of tenant `$1`.
const GROUP_ROLE_PERMISSIONS: &str = "SELECT DISTINCT p.resource, p.action FROM bindings b \
     JOIN role_permissions p ON p.role_id = b.role_id \
     WHERE b.tenant_id = $1 AND b.subject_type = 'group' AND b.subject_id = $2";

/// Permissions bound to a user directly and through the tenant's groups they belong to.
pub async fn user_grants(
    conn: &mut Conn,
    tenant_id: &str,
    user_id: &str,
) -> AppResult<Vec<GrantRow>> {
    let rows = sqlx::query(USER_GRANTS)
        .bind(tenant_id)
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    grants_from(&rows)
}

/// Permissions bound to a service account.
pub async fn service_account_grants(
    conn: &mut Conn,
    tenant_id: &str,
    service_account_id: &str,
) -> AppResult<Vec<GrantRow>> {
    let rows = sqlx::query(SERVICE_ACCOUNT_GRANTS)
        .bind(tenant_id)
        .bind(service_account_id)
        .fetch_all(&mut *conn)
        .await?;
    grants_from(&rows)
}

/// Inserts a service account; a name the tenant has already is a field error on `name`.
pub async fn insert_service_account(
    conn: &mut Conn,
    id: &str,
    tenant_id: &str,
    name: &str,
    description: &str,
    now: Millis,
) -> AppResult<()> {
    let inserted = sqlx::query(
        "INSERT INTO service_accounts (id, tenant_id, name, description, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(name)
    .bind(description)
    .bind(now)
    .execute(&mut *conn)
    .await;
    inserted.map(|_| ()).unique_or(|| {
        AppError::invalid(
            "name",
            format!("A service account named {name} already exists in this tenant. Choose another name."),
        )
    })
}

pub async fn delete_service_account(conn: &mut Conn, id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM service_accounts WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub token_hash: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
}

pub async fn insert_token(
    conn: &mut Conn,
    service_account_id: &str,
    token: &TokenRow,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, service_account_id, name, prefix, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&token.id)
    .bind(service_account_id)
    .bind(&token.name)
    .bind(&token.prefix)
    .bind(&token.token_hash)
    .bind(token.created_at)
    .bind(token.expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The tokens of a service account (live or not), newest first.
pub async fn tokens_of(conn: &mut Conn, service_account_id: &str) -> AppResult<Vec<TokenRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens t \
         WHERE t.service_account_id = $1 ORDER BY t.created_at DESC"
    ))
    .bind(service_account_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(token_from).collect::<Result<_, _>>()?)
}

/// A token's columns (table alias `t`), named so they can sit beside another table's.
pub(super) const TOKEN_COLUMNS: &str = "t.id AS token_id, t.name AS token_name, t.prefix, \
     t.token_hash, t.created_at AS token_created_at, t.expires_at, t.last_used_at";

/// A token from [`TOKEN_COLUMNS`].
pub(super) fn token_from(r: &sqlx::any::AnyRow) -> Result<TokenRow, sqlx::Error> {
    Ok(TokenRow {
        id: r.try_get("token_id")?,
        name: r.try_get("token_name")?,
        prefix: r.try_get("prefix")?,
        token_hash: r.try_get("token_hash")?,
        created_at: r.try_get("token_created_at")?,
        expires_at: r.try_get("expires_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// Ends the service account's current tokens: deleted now, or expiring at `until`.
pub async fn expire_tokens(
    conn: &mut Conn,
    service_account_id: &str,
    until: Option<Millis>,
) -> AppResult<()> {
    match until {
        None => {
            sqlx::query("DELETE FROM api_tokens WHERE service_account_id = $1")
                .bind(service_account_id)
                .execute(&mut *conn)
                .await?;
        }
        Some(t) => {
            sqlx::query(
                "UPDATE api_tokens SET expires_at = $1 WHERE service_account_id = $2 \
                 AND (expires_at IS NULL OR expires_at > $1)",
            )
            .bind(t)
            .bind(service_account_id)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

pub async fn mark_token_used(conn: &mut Conn, token_id: &str, now: Millis) -> AppResult<()> {
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $1 \
         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
    )
    .bind(now)
    .bind(token_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A binding with the names a person recognises: the role's and the subject's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingRow {
    pub id: String,
    pub role_id: String,
    pub role_name: String,
    /// `user`, `group` or `service_account`.
    pub subject_type: String,
    pub subject_id: String,
    /// Username, group display name or service-account name (the id when the subject is gone).
    pub subject_name: String,
    pub created_at: Millis,
}

/// The bindings of a tenant, or of one subject (`Some((type, id))`), ordered by subject then role.
pub async fn list_bindings(
    conn: &mut Conn,
    tenant_id: &str,
    subject: Option<(&str, &str)>,
) -> AppResult<Vec<BindingRow>> {
    let (filter, args): (&str, Vec<&str>) = match subject {
        Some((t, id)) => (
            " AND b.subject_type = $2 AND b.subject_id = $3",
            vec![tenant_id, t, id],
        ),
        None => ("", vec![tenant_id]),
    };
    bindings_where(conn, filter, &args).await
}

/// The tenant's binding with this id, with its role's and subject's names.
pub async fn find_binding(
    conn: &mut Conn,
    tenant_id: &str,
    id: &str,
) -> AppResult<Option<BindingRow>> {
    let found = bindings_where(conn, " AND b.id = $2", &[tenant_id, id]).await?;
    Ok(found.into_iter().next())
}

/// The bindings of tenant `$1` that `filter` (over `b`, binding `args[1..]`) keeps.
async fn bindings_where(
    conn: &mut Conn,
    filter: &str,
    args: &[&str],
) -> AppResult<Vec<BindingRow>> {
    let sql = format!(
        "SELECT b.id, b.role_id, r.name AS role_name, b.subject_type, b.subject_id, b.created_at, \
           COALESCE(u.username, g.display_name, s.name, b.subject_id) AS subject_name \
         FROM bindings b JOIN roles r ON r.id = b.role_id \
         LEFT JOIN users u ON b.subject_type = 'user' AND u.id = b.subject_id \
         LEFT JOIN groups g ON b.subject_type = 'group' AND g.id = b.subject_id \
         LEFT JOIN service_accounts s ON b.subject_type = 'service_account' AND s.id = b.subject_id \
         WHERE b.tenant_id = $1{filter} \
         ORDER BY b.subject_type, LOWER(COALESCE(u.username, g.display_name, s.name, b.subject_id)), r.name_lower"
    );
    let mut q = sqlx::query(&sql);
    for a in args {
        q = q.bind(*a);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(BindingRow {
                id: r.try_get("id")?,
                role_id: r.try_get("role_id")?,
                role_name: r.try_get("role_name")?,
                subject_type: r.try_get("subject_type")?,
                subject_id: r.try_get("subject_id")?,
                subject_name: r.try_get("subject_name")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Whether a service account of this tenant has this id.
pub async fn service_account_exists(conn: &mut Conn, tenant_id: &str, id: &str) -> AppResult<bool> {
    let row = sqlx::query("SELECT 1 FROM service_accounts WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

// ---- Roles and service accounts pages (admin UI) ----

/// The roles of a tenant, each with how many bindings use it.
pub async fn list_roles_with_binding_counts(
    conn: &mut Conn,
    tenant_id: &str,
) -> AppResult<Vec<(RoleRow, i64)>> {
    let rows = sqlx::query(
        "SELECT r.id, r.tenant_id, r.name, r.description, r.managed, \
           (SELECT COUNT(*) FROM bindings b WHERE b.role_id = r.id) AS n \
         FROM roles r WHERE r.tenant_id = $1 ORDER BY r.managed DESC, r.name_lower",
    )
    .bind(tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((role_from(r)?, r.try_get::<i64, _>("n")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// How many bindings give this role.
pub async fn count_bindings_of_role(conn: &mut Conn, role_id: &str) -> AppResult<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM bindings WHERE role_id = $1")
        .bind(role_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("n")?)
}

/// Renames a role and sets its description.
pub async fn update_role(
    conn: &mut Conn,
    role_id: &str,
    name: &str,
    description: &str,
    now: Millis,
) -> AppResult<()> {
    let updated = sqlx::query(
        "UPDATE roles SET name = $1, name_lower = $2, description = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(name)
    .bind(name.to_lowercase())
    .bind(description)
    .bind(now)
    .bind(role_id)
    .execute(&mut *conn)
    .await;
    updated.map(|_| ()).unique_or(|| role_name_taken(name))
}

/// Replaces a role's permissions with `permissions`.
pub async fn set_role_permissions(
    conn: &mut Conn,
    role_id: &str,
    permissions: &[Permission],
) -> AppResult<()> {
    sqlx::query("DELETE FROM role_permissions WHERE role_id = $1")
        .bind(role_id)
        .execute(&mut *conn)
        .await?;
    for (resource, action) in permissions {
        sqlx::query("INSERT INTO role_permissions (role_id, resource, action) VALUES ($1, $2, $3)")
            .bind(role_id)
            .bind(resource.as_str())
            .bind(action.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Deletes every binding of a role; returns how many there were.
pub async fn delete_bindings_of_role(conn: &mut Conn, role_id: &str) -> AppResult<u64> {
    let done = sqlx::query("DELETE FROM bindings WHERE role_id = $1")
        .bind(role_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// `(id, name)` pairs for choosing a subject: groups of the tenant, by name (at most `limit`).
pub async fn group_choices(
    conn: &mut Conn,
    tenant_id: &str,
    limit: i64,
) -> AppResult<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT id, display_name AS name FROM groups WHERE tenant_id = $1 \
         ORDER BY display_name_lower LIMIT $2",
    )
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    pairs(&rows)
}

fn pairs(rows: &[sqlx::any::AnyRow]) -> AppResult<Vec<(String, String)>> {
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// A service account with what its list row shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub description: String,
    pub created_at: Millis,
    /// Tokens it holds (expired ones included until revoked).
    pub token_count: i64,
    /// The SCIM integration that owns it: (id, name).
    pub integration: Option<(String, String)>,
}

const SERVICE_ACCOUNT_SELECT: &str =
    "SELECT s.id, s.tenant_id, s.name, s.description, s.created_at, \
       (SELECT COUNT(*) FROM api_tokens t WHERE t.service_account_id = s.id) AS token_count, \
       i.id AS integration_id, i.name AS integration_name \
     FROM service_accounts s LEFT JOIN scim_integrations i ON i.service_account_id = s.id \
     WHERE s.tenant_id = $1";

fn service_account_from(r: &sqlx::any::AnyRow) -> Result<ServiceAccountRow, sqlx::Error> {
    let integration_id: Option<String> = r.try_get("integration_id")?;
    let integration_name: Option<String> = r.try_get("integration_name")?;
    Ok(ServiceAccountRow {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        created_at: r.try_get("created_at")?,
        token_count: r.try_get("token_count")?,
        integration: integration_id.zip(integration_name),
    })
}

/// The service accounts of a tenant, by name.
pub async fn list_service_accounts(
    conn: &mut Conn,
    tenant_id: &str,
) -> AppResult<Vec<ServiceAccountRow>> {
    let rows = sqlx::query(&format!("{SERVICE_ACCOUNT_SELECT} ORDER BY s.name"))
        .bind(tenant_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .iter()
        .map(service_account_from)
        .collect::<Result<_, _>>()?)
}

pub async fn find_service_account(
    conn: &mut Conn,
    tenant_id: &str,
    id: &str,
) -> AppResult<Option<ServiceAccountRow>> {
    let row = sqlx::query(&format!("{SERVICE_ACCOUNT_SELECT} AND s.id = $2"))
        .bind(tenant_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(service_account_from).transpose()?)
}

/// Deletes one token of a service account; false when it has no such token.
pub async fn delete_token(
    conn: &mut Conn,
    service_account_id: &str,
    token_id: &str,
) -> AppResult<bool> {
    let done = sqlx::query("DELETE FROM api_tokens WHERE service_account_id = $1 AND id = $2")
        .bind(service_account_id)
        .bind(token_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The permissions of every role bound to a group of the tenant (what membership gives).
pub async fn group_role_permissions(
    conn: &mut Conn,
    tenant_id: &str,
    group_id: &str,
) -> AppResult<Vec<Permission>> {
    let rows = sqlx::query(GROUP_ROLE_PERMISSIONS)
        .bind(tenant_id)
        .bind(group_id)
        .fetch_all(&mut *conn)
        .await?;
    permissions_from(&rows)
}

#[cfg(test)]
mod tests {
    use super::super::plans::{migrated_sqlite, steps};
    use super::super::scim_integrations::credentials_statement;
    use super::super::{Arg, Backend};
    use super::{GROUP_ROLE_PERMISSIONS, SERVICE_ACCOUNT_GRANTS, USER_GRANTS};

    /// The step of a plan that reads the bindings (alias `b`) seeks one subject's entries.
    const SEEKS_THE_SUBJECT: &str =
        "bindings_subject_idx (tenant_id=? AND subject_type=? AND subject_id=?)";

    /// Every permission check reads only its subject's bindings, whatever else the tenant has
    /// bound: a person's (directly, and through each of their groups, starting from their
    /// memberships), a service account's, a group's, and a SCIM integration's credentials.
    #[tokio::test]
    async fn a_permission_check_seeks_its_subjects_bindings() {
        let (_dir, db) = migrated_sqlite().await;
        let text = |t: &str| Arg::Text(t.into());
        let checks = [
            (USER_GRANTS.to_string(), vec![text("t"), text("u")], 2),
            (
                SERVICE_ACCOUNT_GRANTS.to_string(),
                vec![text("t"), text("s")],
                1,
            ),
            (
                GROUP_ROLE_PERMISSIONS.to_string(),
                vec![text("t"), text("g")],
                1,
            ),
            (
                credentials_statement(Backend::Sqlite),
                vec![text("t"), text("i")],
                1,
            ),
        ];
        for (sql, args, reads) in checks {
            let plan = steps(&db, &sql, &args).await;
            let of_bindings: Vec<&String> = plan
                .iter()
                .filter(|s| s.starts_with("SEARCH b ") || s.starts_with("SCAN b"))
                .collect();
            assert_eq!(of_bindings.len(), reads, "{plan:#?}");
            for step in of_bindings {
                assert!(step.contains(SEEKS_THE_SUBJECT), "{step} in {plan:#?}");
            }
        }
        let plan = steps(&db, USER_GRANTS, &[text("t"), text("u")]).await;
        let groups_part = &plan[plan
            .iter()
            .position(|s| s == "UNION ALL")
            .expect("two parts")..];
        assert!(
            groups_part[1]
                .starts_with("SEARCH m USING INDEX group_members_user_refs_idx (user_id=?"),
            "the groups' part starts from the user's memberships: {plan:#?}"
        );
    }
}
