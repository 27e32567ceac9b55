//! Bindings of a tenant: which role each user, group and service account has. Every change goes
//! through `iam::bindings`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    crate::clock::rfc3339,
    crate::db::iam::BindingRow,
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

pub use crate::model::BindingChoices;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingsData {
    pub bindings: Vec<BindingView>,
    /// Present when the user may create bindings.
    pub choices: Option<BindingChoices>,
}

#[server(endpoint = "bindings/list")]
pub async fn list_bindings(tenant: String) -> Result<BindingsData, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Bindings, Action::Read)
        .await?;
    let (list, choices) = bindings::page(&ctx.state.db, &gate.permissions, &gate.tenant.id)
        .await
        .map_err(|e| ctx.fail(e))?;
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
    let (state, t) = (&ctx.state, &gate.tenant.id);
    let (by, held) = (gate.author(&ctx), &gate.permissions);
    let choice = bindings::SubjectChoice::new(&user_login, &subject);
    let bound = bindings::bind_chosen(&state.db, &by, held, t, &role_id, choice).await;
    let outcome = bound.map(|(role, kind)| format!("Role {role} bound to the {}.", kind.label()));
    let keep: [(&str, &str); 3] = [
        ("role_id", &role_id),
        ("subject", &subject),
        ("user_login", &user_login),
    ];
    ctx.answer_form(&back_path(t, &back), outcome, &keep)
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
    let outcome = bindings::unbind(&ctx.state.db, &gate.author(&ctx), t, &binding)
        .await
        .map(|()| "Binding removed.".to_string());
    ctx.answer_form(&back_path(t, &back), outcome, &[])
}
