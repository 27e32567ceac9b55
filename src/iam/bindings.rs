//! Giving a role to a user, a group or a service account of a tenant, and taking it back.
//! The one place these rules live: the Bindings page, the group page's "Attach role" and the
//! user page all call it.

use crate::clock::Millis;
use crate::db::{self, iam::BindingRow, Conn};
use crate::error::{AppError, AppResult};

/// Who a binding is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

impl SubjectKind {
    /// As stored and as sent by forms: `user`, `group`, `service_account`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::User => "user",
            SubjectKind::Group => "group",
            SubjectKind::ServiceAccount => "service_account",
        }
    }

    pub fn parse(s: &str) -> AppResult<Self> {
        match s {
            "user" => Ok(SubjectKind::User),
            "group" => Ok(SubjectKind::Group),
            "service_account" => Ok(SubjectKind::ServiceAccount),
            _ => Err(AppError::invalid(
                "subject_type",
                "Choose whether the role goes to a user, a group or a service account.",
            )),
        }
    }
}

/// All bindings of a tenant.
pub async fn list(conn: &mut Conn, tenant_id: &str) -> AppResult<Vec<BindingRow>> {
    db::iam::list_bindings(conn, tenant_id, None).await
}

/// The bindings of one subject.
pub async fn of_subject(
    conn: &mut Conn,
    tenant_id: &str,
    kind: SubjectKind,
    subject_id: &str,
) -> AppResult<Vec<BindingRow>> {
    db::iam::list_bindings(conn, tenant_id, Some((kind.as_str(), subject_id))).await
}

/// Binds `role_id` to the subject. The role and the subject must belong to the tenant (a user:
/// has access to it, suspended or not); binding twice is a conflict with a message saying so. Returns the role's name.
pub async fn create(
    conn: &mut Conn,
    tenant_id: &str,
    role_id: &str,
    kind: SubjectKind,
    subject_id: &str,
    now: Millis,
) -> AppResult<String> {
    let role = db::iam::find_role(conn, tenant_id, role_id)
        .await?
        .ok_or_else(|| AppError::invalid("role_id", "Choose a role of this tenant."))?;
    let exists = match kind {
        SubjectKind::User => db::access::find(conn, tenant_id, subject_id)
            .await?
            .is_some(),
        SubjectKind::Group => db::groups::find(conn, tenant_id, subject_id)
            .await?
            .is_some(),
        SubjectKind::ServiceAccount => {
            db::iam::service_account_exists(conn, tenant_id, subject_id).await?
        }
    };
    if !exists {
        return Err(AppError::invalid(
            "subject_id",
            match kind {
                SubjectKind::User => "Choose a user with access to this tenant.",
                SubjectKind::Group => "Choose a group of this tenant.",
                SubjectKind::ServiceAccount => "Choose a service account of this tenant.",
            },
        ));
    }
    if db::iam::binding_exists(conn, tenant_id, &role.id, kind.as_str(), subject_id).await? {
        return Err(AppError::Conflict(format!(
            "The role {} is already bound to this {}.",
            role.name,
            kind.as_str().replace('_', " ")
        )));
    }
    db::iam::insert_binding(conn, tenant_id, &role.id, kind.as_str(), subject_id, now).await?;
    Ok(role.name)
}

/// Deletes a binding of the tenant; 404 when there is none with this id.
pub async fn delete(conn: &mut Conn, tenant_id: &str, binding_id: &str) -> AppResult<()> {
    if db::iam::delete_binding(conn, tenant_id, binding_id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(
            "That binding does not exist (any more).".into(),
        ))
    }
}
