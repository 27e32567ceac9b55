//! Bindings of a tenant: which role each user, group and service account has. Every change goes
//! through `iam::bindings`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    crate::clock::rfc3339,
    crate::db::{self, iam::BindingRow},
    crate::iam::bindings,
    crate::model::{Action, Resource},
};

/// A binding as lists show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingView {
    pub id: String,
    pub role_id: String,
    pub role_name: String,
    /// `user`, `group` or `service_account`.
    pub subject_type: String,
    pub subject_id: String,
    pub subject_name: String,
    /// RFC 3339.
    pub created_at: String,
}

impl BindingView {
    /// "User", "Group", "Service account".
    pub fn subject_label(&self) -> &'static str {
        match self.subject_type.as_str() {
            "user" => "User",
            "group" => "Group",
            _ => "Service account",
        }
    }

    /// The subject's page, relative to the tenant's IAM pages (`users/<id>`, …).
    pub fn subject_path(&self) -> String {
        let area = match self.subject_type.as_str() {
            "user" => "users",
            "group" => "groups",
            _ => "service-accounts",
        };
        format!("{area}/{}", self.subject_id)
    }
}

#[cfg(feature = "ssr")]
pub fn binding_view(b: BindingRow) -> BindingView {
    BindingView {
        id: b.id,
        role_id: b.role_id,
        role_name: b.role_name,
        subject_type: b.subject_type,
        subject_id: b.subject_id,
        subject_name: b.subject_name,
        created_at: rfc3339(b.created_at),
    }
}

/// `(id, name)` choices for the create form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingChoices {
    pub roles: Vec<(String, String)>,
    pub groups: Vec<(String, String)>,
    pub service_accounts: Vec<(String, String)>,
    pub users: Vec<(String, String)>,
    /// True when the tenant has more users than listed: pick the others by username or email.
    pub more_users: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingsData {
    pub bindings: Vec<BindingView>,
    /// Present when the user may create bindings.
    pub choices: Option<BindingChoices>,
}

/// Users listed in the subject choice; beyond that, the username/email field.
#[cfg(feature = "ssr")]
const USER_CHOICES: i64 = 200;
#[cfg(feature = "ssr")]
const OTHER_CHOICES: i64 = 1000;

#[server(endpoint = "bindings/list")]
pub async fn list_bindings(tenant: String) -> Result<BindingsData, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Bindings, Action::Read)
        .await?;
    let t = &gate.tenant.id;
    let fail = |e| ctx.fail(e);
    let mut conn = ctx.state.db.acquire().await.map_err(fail)?;
    let list = bindings::list(&mut conn, t).await.map_err(fail)?;
    // The form lists a kind of subject only to those who may read it; a user can always be
    // named in the username/email field.
    let choices = if gate.permissions.allows(Resource::Bindings, Action::Create) {
        let may = |resource| gate.permissions.allows(resource, Action::Read);
        let roles = db::iam::list_roles(&mut conn, t).await.map_err(fail)?;
        let service_accounts = if may(Resource::ServiceAccounts) {
            let accounts = db::iam::list_service_accounts(&mut conn, t)
                .await
                .map_err(fail)?;
            accounts.into_iter().map(|a| (a.id, a.name)).collect()
        } else {
            Vec::new()
        };
        let groups = if may(Resource::Groups) {
            db::iam::group_choices(&mut conn, t, OTHER_CHOICES)
                .await
                .map_err(fail)?
        } else {
            Vec::new()
        };
        let (users, more_users) = if may(Resource::Users) {
            let mut users = db::iam::user_choices(&mut conn, t, USER_CHOICES + 1)
                .await
                .map_err(fail)?;
            let more = users.len() as i64 > USER_CHOICES;
            users.truncate(USER_CHOICES as usize);
            (users, more)
        } else {
            (Vec::new(), true)
        };
        Some(BindingChoices {
            roles: roles.into_iter().map(|r| (r.id, r.name)).collect(),
            groups,
            service_accounts,
            users,
            more_users,
        })
    } else {
        None
    };
    Ok(BindingsData {
        bindings: list.into_iter().map(binding_view).collect(),
        choices,
    })
}

/// Where to go after a binding form: a page of this tenant's IAM area, else the Bindings page.
#[cfg(feature = "ssr")]
fn back_path(tenant: &str, back: &str) -> String {
    let prefix = format!("/t/{tenant}/iam/");
    if back.starts_with(&prefix) && !back.contains("..") && !back.contains('?') {
        back.to_string()
    } else {
        format!("{prefix}bindings")
    }
}

/// Binds a role to a subject. `subject` is `group:<id>`, `service_account:<id>` or `user:<id>`;
/// `user_login` (a username or email) picks a user not in the list and wins when given.
#[server(endpoint = "bindings/create")]
pub async fn create_binding(
    tenant: String,
    #[server(default)] role_id: String,
    #[server(default)] subject: String,
    #[server(default)] user_login: String,
    #[server(default)] back: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Bindings, Action::Create)
        .await?;
    let t = gate.tenant.id.clone();
    let state = &ctx.state;
    let choice = bindings::SubjectChoice {
        user_login: &user_login,
        picked: &subject,
    };
    let outcome = bindings::bind_chosen(
        &state.db,
        state.clock.now_millis(),
        &gate.permissions,
        &t,
        &role_id,
        choice,
    )
    .await
    .map(|(role, kind)| format!("Role {role} bound to the {}.", kind.label()));
    ctx.answer_form(
        &back_path(&t, &back),
        outcome,
        &[
            ("role_id", &role_id),
            ("subject", &subject),
            ("user_login", &user_login),
        ],
    )
}

#[server(endpoint = "bindings/delete")]
pub async fn delete_binding(
    tenant: String,
    binding: String,
    #[server(default)] back: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Bindings, Action::Delete)
        .await?;
    let t = &gate.tenant.id;
    let outcome = bindings::unbind(&ctx.state.db, t, &binding)
        .await
        .map(|()| "Binding removed.".to_string());
    ctx.answer_form(&back_path(t, &back), outcome, &[])
}
