//! Roles, bindings and the one answer to "what may this subject do in this tenant, and why".
//! Every check (SCIM, server functions, UI) goes through [`effective`].

use crate::clock::Millis;
use crate::db::{self, iam::RoleRow, Conn};
use crate::error::{AppError, AppResult};
pub use crate::model::{Action, Permission, Resource};

pub const ADMIN: &str = "Admin";
pub const VIEWER: &str = "Viewer";
pub const SCIM_PROVISIONER: &str = "SCIMProvisioner";

/// Who asks.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    User { id: &'a str, superadmin: bool },
    ServiceAccount { id: &'a str },
}

/// Where a permission comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Superadmins may do everything everywhere.
    Superadmin,
    /// A role bound to the subject itself.
    Role(String),
    /// A role bound to a group the user belongs to: (role, group display name).
    RoleViaGroup(String, String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Superadmin => f.write_str("superadmin"),
            Origin::Role(r) => f.write_str(r),
            Origin::RoleViaGroup(r, g) => write!(f, "{r}, via group {g}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub resource: Resource,
    pub action: Action,
    pub origin: Origin,
}

/// A subject's effective permissions in a tenant, each with its origins.
#[derive(Debug, Clone, Default)]
pub struct Permissions {
    pub grants: Vec<Grant>,
}

impl Permissions {
    /// The permissions the stored grants give, each with its origin.
    pub fn from_rows(rows: Vec<db::iam::GrantRow>) -> Self {
        let grants = rows
            .into_iter()
            .map(|r| Grant {
                origin: match r.via_group {
                    Some(g) => Origin::RoleViaGroup(r.role_name, g),
                    None => Origin::Role(r.role_name),
                },
                resource: r.permission.0,
                action: r.permission.1,
            })
            .collect();
        Permissions { grants }
    }

    pub fn allows(&self, resource: Resource, action: Action) -> bool {
        self.grants
            .iter()
            .any(|g| g.resource == resource && g.action == action)
    }

    /// The origins of one permission ("Viewer, via group Engineering").
    pub fn origins(&self, resource: Resource, action: Action) -> Vec<&Origin> {
        self.grants
            .iter()
            .filter(|g| g.resource == resource && g.action == action)
            .map(|g| &g.origin)
            .collect()
    }
}

/// The union of the roles bound to the subject and (for users) to each of the tenant's groups
/// they belong to. A user without access to the tenant (or suspended there) has none.
pub async fn effective(
    conn: &mut Conn,
    tenant_id: &str,
    subject: Subject<'_>,
) -> AppResult<Permissions> {
    let rows = match subject {
        Subject::User {
            superadmin: true, ..
        } => {
            let grants = all()
                .map(|(resource, action)| Grant {
                    resource,
                    action,
                    origin: Origin::Superadmin,
                })
                .collect();
            return Ok(Permissions { grants });
        }
        Subject::User { id, .. } => {
            match db::access::find(conn, tenant_id, id).await? {
                Some(a) if a.active => {}
                _ => return Ok(Permissions::default()),
            }
            db::iam::user_grants(conn, tenant_id, id).await?
        }
        Subject::ServiceAccount { id } => {
            db::iam::service_account_grants(conn, tenant_id, id).await?
        }
    };
    Ok(Permissions::from_rows(rows))
}

/// Every permission there is, resource by resource (what Admin and superadmins hold).
pub fn all() -> impl Iterator<Item = Permission> {
    Resource::ALL
        .into_iter()
        .flat_map(|r| Action::ALL.into_iter().map(move |a| (r, a)))
}

/// The permissions of a managed role.
pub fn managed_permissions(name: &str) -> Vec<Permission> {
    match name {
        ADMIN => all().collect(),
        VIEWER => Resource::ALL.map(|r| (r, Action::Read)).to_vec(),
        SCIM_PROVISIONER => {
            let mut p = Vec::new();
            for a in Action::ALL {
                p.push((Resource::Groups, a));
                p.push((Resource::Bindings, a));
            }
            for a in [Action::Create, Action::Read, Action::Update] {
                p.push((Resource::Users, a));
            }
            p
        }
        _ => Vec::new(),
    }
}

/// The managed roles, in the order they are listed. No custom role may take one of these names
/// (compared without case), so a name always means the same role.
pub const MANAGED_ROLES: [&str; 3] = [ADMIN, VIEWER, SCIM_PROVISIONER];

/// Whether `name` is (case aside) the name of a managed role.
pub fn is_managed_name(name: &str) -> bool {
    MANAGED_ROLES
        .iter()
        .any(|m| m.eq_ignore_ascii_case(name.trim()))
}

fn managed_description(name: &str) -> &'static str {
    match name {
        ADMIN => "Everything in this tenant.",
        VIEWER => "Read everything in this tenant.",
        _ => "What a SCIM integration needs to provision users and groups.",
    }
}

/// The managed roles every tenant has from its birth: Admin and Viewer. Called in the
/// transaction that creates the tenant (and by migration 0004 for tenants made before).
pub async fn create_birth_roles(conn: &mut Conn, tenant_id: &str, now: Millis) -> AppResult<()> {
    for name in [ADMIN, VIEWER] {
        ensure_managed_role(conn, tenant_id, name, now).await?;
    }
    Ok(())
}

/// The managed role `name` of a tenant, created when missing (`SCIMProvisioner` with the first
/// integration). Safe under concurrency: the unique index on the name decides who inserts, and
/// the role is then read by its managed flag.
pub async fn ensure_managed_role(
    conn: &mut Conn,
    tenant_id: &str,
    name: &str,
    now: Millis,
) -> AppResult<RoleRow> {
    let role = RoleRow {
        id: db::new_id(),
        tenant_id: tenant_id.into(),
        name: name.into(),
        description: managed_description(name).into(),
        managed: true,
    };
    if db::iam::insert_managed_role_if_missing(conn, &role, now).await? {
        db::iam::add_role_permissions(conn, &role.id, &managed_permissions(name)).await?;
        return Ok(role);
    }
    db::iam::find_managed_role(conn, tenant_id, name)
        .await?
        .ok_or_else(|| {
            AppError::Internal(format!(
                "tenant `{tenant_id}` has a custom role named like the managed role {name}"
            ))
        })
}

/// Creates a custom role (tests and the admin UI).
pub async fn create_custom_role(
    conn: &mut Conn,
    tenant_id: &str,
    name: &str,
    permissions: &[Permission],
    now: Millis,
) -> AppResult<RoleRow> {
    let role = RoleRow {
        id: db::new_id(),
        tenant_id: tenant_id.into(),
        name: name.into(),
        description: String::new(),
        managed: false,
    };
    db::iam::insert_role(conn, &role, permissions, now).await?;
    Ok(role)
}
