//! Admin-side rules for a tenant's groups (the SCIM side is `scim_groups`): creating and deleting
//! groups by hand and changing members, with the same version bump SCIM changes make (the group's;
//! each affected member's ETag follows from their groups: `db::group_refs::digest`), so IdPs see
//! the change in ETags.

use crate::db::{self, groups::GroupRow, last_write::LastWrite, Db};
use crate::error::{AppError, AppResult};
use crate::iam::audit::{self, Author, Change};

pub const NAME_MAX: usize = 255;

pub fn validate_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "Enter a group name."));
    }
    if name.chars().count() > NAME_MAX {
        return Err(AppError::invalid(
            "name",
            format!("Use at most {NAME_MAX} characters."),
        ));
    }
    Ok(name.to_string())
}

/// Creates a group managed by hand (no integration). Answers it.
pub async fn create(db: &Db, by: &Author, tenant_id: &str, name: &str) -> AppResult<GroupRow> {
    let name = validate_name(name)?;
    let now = by.at();
    let row = GroupRow {
        id: db::new_id(),
        tenant_id: tenant_id.into(),
        display_name: name.clone(),
        external_id: None,
        managed_by: None,
        scim_json: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let mut tx = db.begin_write().await?;
    match db::groups::insert(&mut tx, &row, &LastWrite::default()).await {
        Ok(()) => {}
        Err(AppError::Conflict(_)) => {
            return Err(AppError::invalid(
                "name",
                format!("A group named {name} already exists in this tenant."),
            ))
        }
        Err(e) => return Err(e),
    }
    let event = Change::GroupCreated.on(&row.id, &row.display_name);
    audit::record(&mut tx, tenant_id, by, event).await?;
    tx.commit().await?;
    Ok(row)
}

async fn require(conn: &mut db::Conn, tenant_id: &str, group_id: &str) -> AppResult<GroupRow> {
    db::groups::find(conn, tenant_id, group_id)
        .await?
        .ok_or_else(|| AppError::NotFound("That group does not exist (any more).".into()))
}

/// Deletes a group with its memberships and the bindings that named it. Answers its name.
pub async fn delete(db: &Db, by: &Author, tenant_id: &str, group_id: &str) -> AppResult<String> {
    let mut tx = db.begin_write().await?;
    let group = require(&mut tx, tenant_id, group_id).await?;
    db::groups::delete(&mut tx, tenant_id, group_id, &Default::default()).await?;
    let event = Change::GroupDeleted.on(&group.id, &group.display_name);
    audit::record(&mut tx, tenant_id, by, event).await?;
    tx.commit().await?;
    Ok(group.display_name)
}

/// Adds the user whose username or email is `login` to the group; they must have access to the
/// tenant, and the actor (`held`) must hold every permission the group's roles give
/// (`reach::may_add_to_group`). Answers the notice.
pub async fn add_member(
    db: &Db,
    by: &Author,
    held: &crate::iam::permissions::Permissions,
    tenant_id: &str,
    group_id: &str,
    login: &str,
) -> AppResult<String> {
    if login.trim().is_empty() {
        return Err(AppError::invalid(
            "login",
            "Enter a username or an email address.",
        ));
    }
    let mut tx = db.begin_write().await?;
    let group = require(&mut tx, tenant_id, group_id).await?;
    crate::iam::reach::may_add_to_group(&mut tx, tenant_id, held, &group.id).await?;
    let user = db::users::find_by_login(&mut tx, login).await?;
    let user = match user {
        Some(u) if db::groups::can_be_member(&mut tx, tenant_id, &u.id).await? => u,
        _ => {
            return Err(AppError::invalid(
                "login",
                format!(
                    "No user with access to this tenant has the username or email `{}`. \
                     Grant them access on the Users page first.",
                    login.trim()
                ),
            ))
        }
    };
    let now = by.at();
    if !db::groups::add_member(&mut tx, group_id, &user.id, now).await? {
        return Err(AppError::Conflict(format!(
            "{} is already a member of {}.",
            user.username, group.display_name
        )));
    }
    db::groups::touch(&mut tx, group_id, now, &Default::default()).await?;
    let event = Change::MemberAdded.on(&group.id, &group.display_name);
    audit::record(&mut tx, tenant_id, by, event.detail(member(&user.username))).await?;
    tx.commit().await?;
    Ok(format!(
        "{} added to {}.",
        user.username, group.display_name
    ))
}

/// Removes a member from the group. Answers the notice.
pub async fn remove_member(
    db: &Db,
    by: &Author,
    tenant_id: &str,
    group_id: &str,
    user_id: &str,
) -> AppResult<String> {
    let mut tx = db.begin_write().await?;
    let group = require(&mut tx, tenant_id, group_id).await?;
    if !db::directory::is_member(&mut tx, group_id, user_id).await? {
        return Err(AppError::NotFound(
            "That user is not a member of this group (any more).".into(),
        ));
    }
    let name = db::users::find_by_id(&mut tx, user_id)
        .await?
        .map(|u| u.username)
        .unwrap_or_else(|| user_id.to_string());
    db::groups::remove_member(&mut tx, group_id, user_id).await?;
    db::groups::touch(&mut tx, group_id, by.at(), &Default::default()).await?;
    let event = Change::MemberRemoved.on(&group.id, &group.display_name);
    audit::record(&mut tx, tenant_id, by, event.detail(member(&name))).await?;
    tx.commit().await?;
    Ok(format!("{name} removed from {}.", group.display_name))
}

/// The audit log's detail of a membership change.
fn member(username: &str) -> String {
    format!("Member {username}.")
}
