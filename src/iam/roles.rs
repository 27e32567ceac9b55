//! Custom roles and their resource × action matrix: the rules for creating, editing and deleting
//! them (names unique per tenant and never a managed role's name, managed roles untouchable).

use crate::db::{self, iam::RoleRow, Conn, Db};
use crate::error::{AppError, AppResult};
use crate::iam::audit::{self, Author, Change};
use crate::iam::permissions::{self, Action, Permission, Permissions, Resource};
use crate::iam::reach;
use crate::model::RoleName;

pub const DESCRIPTION_MAX: usize = 500;

/// A role with its permissions (`(resource, action)`) and how many bindings give it.
#[derive(Debug, Clone)]
pub struct RoleDetail {
    pub role: RoleRow,
    pub permissions: Vec<Permission>,
    pub bindings: i64,
}

/// Every role of the tenant with its number of bindings (the managed ones first). A read: the
/// managed roles exist from the tenant's birth.
pub async fn list(db: &Db, tenant_id: &str) -> AppResult<Vec<(RoleRow, i64)>> {
    let mut conn = db.acquire().await?;
    db::iam::list_roles_with_binding_counts(&mut conn, tenant_id).await
}

/// The roles a form may offer to bind: every role of the tenant when `held` allows
/// BINDINGS:CREATE, else `None` (the form is not shown). The one answer for the Bindings,
/// group and service account pages.
pub async fn choices(
    conn: &mut Conn,
    held: &Permissions,
    tenant_id: &str,
) -> AppResult<Option<Vec<RoleRow>>> {
    if !held.allows(Resource::Bindings, Action::Create) {
        return Ok(None);
    }
    Ok(Some(db::iam::list_roles(conn, tenant_id).await?))
}

fn not_found() -> AppError {
    AppError::NotFound("This tenant has no such role (it may have been deleted).".into())
}

pub async fn get(db: &Db, tenant_id: &str, role_id: &str) -> AppResult<RoleDetail> {
    let mut conn = db.acquire().await?;
    let role = db::iam::find_role(&mut conn, tenant_id, role_id)
        .await?
        .ok_or_else(not_found)?;
    let permissions = db::iam::role_permissions(&mut conn, &role.id).await?;
    let bindings = db::iam::count_bindings_of_role(&mut conn, &role.id).await?;
    Ok(RoleDetail {
        role,
        permissions,
        bindings,
    })
}

/// Checks `RESOURCE:ACTION` values from the matrix form; duplicates are dropped.
pub fn parse_permissions(values: &[String]) -> AppResult<Vec<Permission>> {
    let mut out = Vec::new();
    for v in values {
        match crate::model::parse_permission(v) {
            Some(p) if !out.contains(&p) => out.push(p),
            Some(_) => {}
            None => {
                return Err(AppError::invalid(
                    "perm",
                    format!("`{v}` is not a permission: use RESOURCE:ACTION from the matrix."),
                ))
            }
        }
    }
    Ok(out)
}

/// The role form's name and description, checked: a [`RoleName`] that is no managed role's name,
/// and a description of at most [`DESCRIPTION_MAX`] characters.
fn check_fields(name: &str, description: &str) -> AppResult<RoleName> {
    let name = RoleName::parse(name).map_err(|m| AppError::invalid("name", m))?;
    if permissions::is_managed_name(name.as_str()) {
        return Err(AppError::invalid(
            "name",
            format!(
                "A role named “{name}” already exists: it is a managed role, and no custom role \
                 may share its name (compared without case). Choose another name."
            ),
        ));
    }
    if description.chars().count() > DESCRIPTION_MAX {
        return Err(AppError::invalid(
            "description",
            format!("Use at most {DESCRIPTION_MAX} characters for the description."),
        ));
    }
    Ok(name)
}

fn managed_refused(role: &RoleRow, verb: &str) -> AppError {
    AppError::Forbidden(format!(
        "{} is a managed role: it cannot be {verb}. Create a custom role instead.",
        role.name
    ))
}

/// What the role form sends: name, description and the ticked `RESOURCE:ACTION` values.
#[derive(Debug, Clone, Copy)]
pub struct RoleInput<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub perms: &'a [String],
}

impl<'a> RoleInput<'a> {
    pub fn new(name: &'a str, description: &'a str, perms: &'a [String]) -> Self {
        RoleInput {
            name,
            description,
            perms,
        }
    }
}

/// Creates a custom role with its permissions, in one transaction. The actor (`held`) must hold
/// every permission the role gets (`reach::may_grant`).
pub async fn create(
    db: &Db,
    by: &Author,
    held: &Permissions,
    tenant_id: &str,
    input: RoleInput<'_>,
) -> AppResult<RoleRow> {
    let (name, description, perms) = (input.name, input.description.trim(), input.perms);
    let name = check_fields(name, description)?;
    let perms = parse_permissions(perms)?;
    reach::may_grant(held, perms.iter().copied())?;
    let now = by.at();
    let mut tx = db.begin_write().await?;
    let role = RoleRow {
        id: db::new_id(),
        tenant_id: tenant_id.into(),
        name: name.into(),
        description: description.into(),
        managed: false,
    };
    db::iam::insert_role(&mut tx, &role, &perms, now).await?;
    let event = Change::RoleCreated.on(&role.id, &role.name);
    audit::record(&mut tx, tenant_id, by, event.detail(listed(&perms))).await?;
    tx.commit().await?;
    Ok(role)
}

/// Saves a custom role's name, description and whole matrix, in one transaction. Managed roles
/// are refused (403). The actor (`held`) must hold every permission the edit adds
/// (`reach::may_grant`); those the role had already stay as they were.
pub async fn update(
    db: &Db,
    by: &Author,
    held: &Permissions,
    tenant_id: &str,
    role_id: &str,
    input: RoleInput<'_>,
) -> AppResult<RoleRow> {
    let (name, description, perms) = (input.name, input.description.trim(), input.perms);
    let now = by.at();
    let mut tx = db.begin_write().await?;
    let role = db::iam::find_role(&mut tx, tenant_id, role_id)
        .await?
        .ok_or_else(not_found)?;
    if role.managed {
        return Err(managed_refused(&role, "edited"));
    }
    let name = check_fields(name, description)?;
    let perms = parse_permissions(perms)?;
    let before = db::iam::role_permissions(&mut tx, &role.id).await?;
    reach::may_grant(held, perms.iter().copied().filter(|p| !before.contains(p)))?;
    db::iam::update_role(&mut tx, &role.id, name.as_str(), description, now).await?;
    db::iam::set_role_permissions(&mut tx, &role.id, &perms).await?;
    let event = Change::RoleUpdated.on(&role.id, name.as_str());
    let detail = role_changes(&role, (name.as_str(), description), &before, &perms);
    audit::record(&mut tx, tenant_id, by, event.detail(detail)).await?;
    tx.commit().await?;
    Ok(RoleRow {
        name: name.into(),
        description: description.into(),
        ..role
    })
}

/// Deletes a custom role and the bindings that give it; returns its name and how many bindings
/// went with it. Managed roles are refused (403).
pub async fn delete(
    db: &Db,
    by: &Author,
    tenant_id: &str,
    role_id: &str,
) -> AppResult<(String, u64)> {
    let mut tx = db.begin_write().await?;
    let role = db::iam::find_role(&mut tx, tenant_id, role_id)
        .await?
        .ok_or_else(not_found)?;
    if role.managed {
        return Err(managed_refused(&role, "deleted"));
    }
    let bindings = db::iam::delete_bindings_of_role(&mut tx, &role.id).await?;
    db::iam::delete_role(&mut tx, &role.id).await?;
    let event = Change::RoleDeleted.on(&role.id, &role.name);
    let detail = match bindings {
        0 => String::new(),
        1 => "With its 1 binding.".to_string(),
        n => format!("With its {n} bindings."),
    };
    audit::record(&mut tx, tenant_id, by, event.detail(detail)).await?;
    tx.commit().await?;
    Ok((role.name, bindings))
}

/// Permissions as the audit log shows them: `USERS:READ, GROUPS:CREATE`, or "no permissions".
fn listed(perms: &[Permission]) -> String {
    if perms.is_empty() {
        return "No permissions.".into();
    }
    let names: Vec<String> = perms.iter().map(|(r, a)| format!("{r}:{a}")).collect();
    names.join(", ")
}

/// What an edit changed, for the audit log: the new name, and the permissions added and removed.
fn role_changes(
    role: &RoleRow,
    (name, description): (&str, &str),
    before: &[Permission],
    after: &[Permission],
) -> String {
    let mut parts = Vec::new();
    if role.name != name {
        parts.push(format!("Renamed from {}.", role.name));
    }
    if role.description != description {
        parts.push("Description changed.".into());
    }
    let added: Vec<Permission> = after
        .iter()
        .filter(|p| !before.contains(p))
        .copied()
        .collect();
    let removed: Vec<Permission> = before
        .iter()
        .filter(|p| !after.contains(p))
        .copied()
        .collect();
    if !added.is_empty() {
        parts.push(format!("Added {}.", listed(&added)));
    }
    if !removed.is_empty() {
        parts.push(format!("Removed {}.", listed(&removed)));
    }
    if parts.is_empty() {
        parts.push("Saved unchanged.".into());
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_values_are_checked_and_deduplicated() {
        let ok = parse_permissions(&[
            "USERS:READ".into(),
            "GROUPS:DELETE".into(),
            "USERS:READ".into(),
        ])
        .unwrap();
        use permissions::{Action, Resource};
        assert_eq!(
            ok,
            vec![
                (Resource::Users, Action::Read),
                (Resource::Groups, Action::Delete)
            ]
        );
        assert!(parse_permissions(&["USERS:FLY".into()]).is_err());
        assert!(parse_permissions(&["users:READ".into()]).is_err());
        assert!(parse_permissions(&["USERS".into()]).is_err());
    }
}
