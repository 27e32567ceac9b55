//! Giving a role to a user, a group or a service account of a tenant, and taking it back.
//! The one place these rules live: the Bindings page, the group page's "Attach role" and the
//! user page all call it.

use crate::db::directory::Cursor;
use crate::db::{self, iam::BindingRow, Conn, Db};
use crate::error::{AppError, AppResult};
use crate::iam::audit::{self, Author, Change};
use crate::iam::permissions::{Action, Permissions, Resource};
use crate::iam::{reach, roles};
use crate::model::BindingChoices;

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

    /// As people read it: `user`, `group`, `service account`.
    pub fn label(self) -> &'static str {
        match self {
            SubjectKind::User => "user",
            SubjectKind::Group => "group",
            SubjectKind::ServiceAccount => "service account",
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

/// Users listed in the subject choice; beyond that, the username/email field.
const USER_CHOICES: i64 = 200;
const OTHER_CHOICES: i64 = 1000;

/// The Bindings page: every binding of the tenant and, when `held` allows BINDINGS:CREATE, the
/// form's choices. The form lists a kind of subject only to those who may read it; a user can
/// always be named in the username/email field.
pub async fn page(
    db: &Db,
    held: &Permissions,
    tenant_id: &str,
) -> AppResult<(Vec<BindingRow>, Option<BindingChoices>)> {
    let mut conn = db.acquire().await?;
    let list = list(&mut conn, tenant_id).await?;
    let Some(roles) = roles::choices(&mut conn, held, tenant_id).await? else {
        return Ok((list, None));
    };
    let may = |resource| held.allows(resource, Action::Read);
    let c = &mut conn;
    let mut choices = BindingChoices {
        roles: roles.into_iter().map(|r| (r.id, r.name)).collect(),
        more_users: true,
        ..BindingChoices::default()
    };
    if may(Resource::ServiceAccounts) {
        let accounts = db::iam::list_service_accounts(c, tenant_id).await?;
        choices.service_accounts = accounts.into_iter().map(|a| (a.id, a.name)).collect();
    }
    if may(Resource::Groups) {
        choices.groups = db::iam::group_choices(c, tenant_id, OTHER_CHOICES).await?;
    }
    if may(Resource::Users) {
        // The Users list's first page, read as that list reads it (db::directory::UserWalk):
        // sorting all of a large tenant's access rows took 100 ms at 100,000 users.
        let tenant_users = db::directory::count_users(c, tenant_id).await?;
        let first = db::directory::users_page(
            c,
            tenant_id,
            tenant_users,
            None,
            &Cursor::First,
            USER_CHOICES,
        )
        .await?;
        choices.more_users = first.has_next;
        choices.users = first.rows.into_iter().map(|u| (u.id, u.username)).collect();
    }
    Ok((list, Some(choices)))
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
    by: &Author,
    tenant_id: &str,
    role_id: &str,
    kind: SubjectKind,
    subject_id: &str,
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
    let (subject, now) = (kind.as_str(), by.at());
    let inserted = db::iam::insert_binding(conn, tenant_id, &role.id, subject, subject_id, now);
    let Some(binding_id) = inserted.await? else {
        return Err(AppError::Conflict(format!(
            "The role {} is already bound to this {}.",
            role.name,
            kind.label()
        )));
    };
    let bound = db::iam::find_binding(conn, tenant_id, &binding_id)
        .await?
        .ok_or_else(|| AppError::Internal("the new binding vanished".into()))?;
    let event = Change::RoleBound.on(&role.id, &role.name);
    audit::record(conn, tenant_id, by, event.detail(whose(&bound, "To"))).await?;
    Ok(role.name)
}

/// Who a form names as the subject of a new binding: a user typed by username or email (wins
/// when given), or a `kind:id` picked from the list.
pub struct SubjectChoice<'a> {
    pub user_login: &'a str,
    pub picked: &'a str,
}

impl<'a> SubjectChoice<'a> {
    pub fn new(user_login: &'a str, picked: &'a str) -> Self {
        SubjectChoice { user_login, picked }
    }
}

/// Binds `role_id` to the subject a form chose, in one write transaction; answers the role's
/// name and the subject's kind. `held` are the actor's permissions: they must cover the role's
/// (`reach::may_bind_role`). Errors name the form field to mark (`user_login`, `subject`,
/// `role_id`).
pub async fn bind_chosen(
    db: &Db,
    by: &Author,
    held: &Permissions,
    tenant_id: &str,
    role_id: &str,
    choice: SubjectChoice<'_>,
) -> AppResult<(String, SubjectKind)> {
    if role_id.is_empty() {
        return Err(AppError::invalid("role_id", "Choose a role."));
    }
    let login = choice.user_login.trim();
    let no_such_login = || {
        AppError::invalid(
            "user_login",
            format!("No user with access to this tenant is called {login}."),
        )
    };
    let mut tx = db.begin_write().await?;
    reach::may_bind_role(&mut tx, tenant_id, held, role_id).await?;
    let (kind, subject_id) = if !login.is_empty() {
        let user = db::users::find_by_login(&mut tx, login)
            .await?
            .ok_or_else(no_such_login)?;
        (SubjectKind::User, user.id)
    } else {
        let (kind, id) = choice.picked.split_once(':').ok_or_else(|| {
            AppError::invalid(
                "subject",
                "Choose who gets the role: a group, a service account or a user.",
            )
        })?;
        (SubjectKind::parse(kind)?, id.to_string())
    };
    let role = create(&mut tx, by, tenant_id, role_id, kind, &subject_id)
        .await
        .map_err(|e| match e {
            AppError::Invalid {
                field: "subject_id",
                ..
            } if !login.is_empty() => no_such_login(),
            AppError::Invalid {
                field: "subject_id",
                message,
            } => AppError::invalid("subject", message),
            e => e,
        })?;
    tx.commit().await?;
    Ok((role, kind))
}

/// Binds `role_id` to one subject in its own write transaction; answers the role's name. `held`
/// must cover the role's permissions (`reach::may_bind_role`).
pub async fn bind(
    db: &Db,
    by: &Author,
    held: &Permissions,
    tenant_id: &str,
    role_id: &str,
    kind: SubjectKind,
    subject_id: &str,
) -> AppResult<String> {
    let mut tx = db.begin_write().await?;
    reach::may_bind_role(&mut tx, tenant_id, held, role_id).await?;
    let role = create(&mut tx, by, tenant_id, role_id, kind, subject_id).await?;
    tx.commit().await?;
    Ok(role)
}

/// Deletes a binding of the tenant in its own write transaction.
pub async fn unbind(db: &Db, by: &Author, tenant_id: &str, binding_id: &str) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    delete(&mut tx, by, tenant_id, binding_id).await?;
    tx.commit().await
}

/// Deletes one binding of one subject (the group page's "Detach"); answers the role's name.
pub async fn detach(
    db: &Db,
    by: &Author,
    tenant_id: &str,
    kind: SubjectKind,
    subject_id: &str,
    binding_id: &str,
) -> AppResult<String> {
    let mut tx = db.begin_write().await?;
    let theirs = of_subject(&mut tx, tenant_id, kind, subject_id).await?;
    let Some(b) = theirs.into_iter().find(|b| b.id == binding_id) else {
        return Err(AppError::NotFound(format!(
            "That role is not bound to this {} (any more).",
            kind.label()
        )));
    };
    delete(&mut tx, by, tenant_id, &b.id).await?;
    tx.commit().await?;
    Ok(b.role_name)
}

/// Deletes a binding of the tenant; 404 when there is none with this id.
pub async fn delete(
    conn: &mut Conn,
    by: &Author,
    tenant_id: &str,
    binding_id: &str,
) -> AppResult<()> {
    let gone = || AppError::NotFound("That binding does not exist (any more).".into());
    let binding = db::iam::find_binding(conn, tenant_id, binding_id)
        .await?
        .ok_or_else(gone)?;
    if !db::iam::delete_binding(conn, tenant_id, binding_id).await? {
        return Err(gone());
    }
    let event = Change::BindingRemoved.on(&binding.role_id, &binding.role_name);
    audit::record(conn, tenant_id, by, event.detail(whose(&binding, "From"))).await
}

/// The audit log's detail of a binding: "To group engineering." / "From user alice.".
fn whose(binding: &BindingRow, preposition: &str) -> String {
    let kind = SubjectKind::parse(&binding.subject_type).map_or("subject", SubjectKind::label);
    format!("{preposition} {kind} {}.", binding.subject_name)
}
