//! Tenants: only superadmins create and rename them; everyone sees the ones they can enter. A
//! tenant is born with its managed roles (Admin, Viewer), in the transaction that creates it.

use crate::clock::Millis;
use crate::db::{self, tenants::TenantRow, users::UserRow, Conn, Db};
use crate::error::{AppError, AppResult};
use crate::iam::audit::{self, Author, Change};
use crate::iam::permissions;
use crate::model::{self, TenantId};

fn require_superadmin(by: &Author) -> AppResult<()> {
    if by.is_above_tenants() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only superadmins manage tenants.".into(),
        ))
    }
}

pub async fn create(db: &Db, by: &Author, id: &str, name: &str) -> AppResult<TenantRow> {
    require_superadmin(by)?;
    let id = TenantId::parse(id.trim()).map_err(|m| AppError::invalid("id", m))?;
    model::validate_tenant_name(name).map_err(|m| AppError::invalid("name", m))?;
    let mut tx = db.begin_write().await?;
    found(&mut tx, &id, name.trim(), by.at()).await?;
    let row = db::tenants::find(&mut tx, id.as_str())
        .await?
        .ok_or_else(|| AppError::Internal("new tenant vanished".into()))?;
    let event = Change::TenantCreated.on(&row.id, &row.name);
    audit::record(&mut tx, &row.id, by, event).await?;
    tx.commit().await?;
    Ok(row)
}

/// Inserts a tenant with the managed roles it is born with, inside the caller's transaction.
pub async fn found(conn: &mut Conn, id: &TenantId, name: &str, now: Millis) -> AppResult<()> {
    db::tenants::insert(conn, id.as_str(), name, now).await?;
    permissions::create_birth_roles(conn, id.as_str(), now).await
}

pub async fn rename(db: &Db, by: &Author, id: &str, name: &str) -> AppResult<()> {
    require_superadmin(by)?;
    model::validate_tenant_name(name).map_err(|m| AppError::invalid("name", m))?;
    let mut tx = db.begin_write().await?;
    let before = db::tenants::find(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no tenant `{id}`.")))?;
    db::tenants::rename(&mut tx, id, name.trim(), by.at()).await?;
    let event = Change::TenantRenamed.on(id, name.trim());
    let detail = format!("Renamed from {}.", before.name);
    audit::record(&mut tx, id, by, event.detail(detail)).await?;
    tx.commit().await
}

/// Sets whether the tenant may take in users who can already enter another tenant (its SCIM
/// integrations link them, its admins grant them access; see `iam::reach::may_take_in`).
/// Superadmins only.
pub async fn set_link_foreign_users(db: &Db, by: &Author, id: &str, on: bool) -> AppResult<()> {
    require_superadmin(by)?;
    let mut tx = db.begin_write().await?;
    let before = db::tenants::find(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("There is no tenant `{id}`.")))?;
    db::tenants::set_link_foreign_users(&mut tx, id, on, by.at()).await?;
    if before.link_foreign_users != on {
        let detail = match on {
            true => "Its admins and integrations may now take in users of other tenants.",
            false => "Users of other tenants may no longer be taken in.",
        };
        let event = Change::TenantLinkingSet.on(id, &before.name);
        audit::record(&mut tx, id, by, event.detail(detail)).await?;
    }
    tx.commit().await
}

/// Whether the tenant may take in users of other tenants.
pub async fn links_foreign_users(db: &Db, id: &str) -> AppResult<bool> {
    let mut conn = db.acquire().await?;
    db::tenants::link_foreign_users(&mut conn, id).await
}

/// The tenants `user` may enter: all of them for a superadmin.
pub async fn visible_to(db: &Db, user: &UserRow) -> AppResult<Vec<TenantRow>> {
    let mut conn = db.acquire().await?;
    if user.is_superadmin {
        db::tenants::list_all(&mut conn).await
    } else {
        db::tenants::list_for_user(&mut conn, &user.id).await
    }
}

/// The tenant `tenant_id` when `user` may enter it (a superadmin: any; others: where they have
/// access, suspended or not), else `None`, whether or not it exists.
pub async fn enter(db: &Db, user: &UserRow, tenant_id: &str) -> AppResult<Option<TenantRow>> {
    let mut conn = db.acquire().await?;
    enter_on(&mut conn, user, tenant_id).await
}

/// [`enter`] on a connection the caller holds.
async fn enter_on(
    conn: &mut Conn,
    user: &UserRow,
    tenant_id: &str,
) -> AppResult<Option<TenantRow>> {
    let Some(tenant) = db::tenants::find(conn, tenant_id).await? else {
        return Ok(None);
    };
    if user.is_superadmin || db::tenants::has_access(conn, tenant_id, &user.id).await? {
        Ok(Some(tenant))
    } else {
        Ok(None)
    }
}

/// `user` inside `tenant_id` with their effective permissions there ([`enter`]): `None` when
/// they may not enter it. Every tenant-scoped request (server functions, exports) starts here,
/// on one connection.
pub async fn enter_with_permissions(
    db: &Db,
    user: &UserRow,
    tenant_id: &str,
) -> AppResult<Option<(TenantRow, permissions::Permissions)>> {
    let mut conn = db.acquire().await?;
    let Some(tenant) = enter_on(&mut conn, user, tenant_id).await? else {
        return Ok(None);
    };
    let subject = permissions::Subject::User {
        id: &user.id,
        superadmin: user.is_superadmin,
    };
    let held = permissions::effective(&mut conn, tenant_id, subject).await?;
    Ok(Some((tenant, held)))
}
