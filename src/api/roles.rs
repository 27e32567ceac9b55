//! Roles of a tenant: managed roles (read-only) and custom roles with their permission matrix.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use {
    super::ctx::{ctx, Ctx, FormOutcome},
    crate::iam::roles,
    crate::model::{Action, Resource},
};

/// A role as the Roles list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub managed: bool,
    /// How many bindings give this role.
    pub bindings: i64,
}

/// One role with its permissions as `RESOURCE:ACTION` strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDetail {
    pub role: RoleSummary,
    pub permissions: Vec<String>,
}

impl RoleDetail {
    pub fn grants(&self, resource: &str, action: &str) -> bool {
        self.permissions
            .iter()
            .any(|p| p.split_once(':') == Some((resource, action)))
    }
}

#[cfg(feature = "ssr")]
fn roles_path(tenant: &str, rest: &str) -> String {
    format!("/t/{tenant}/iam/roles{rest}")
}

/// Every role of the tenant (the managed Admin and Viewer roles are created when missing).
#[server(endpoint = "roles/list")]
pub async fn list_roles(tenant: String) -> Result<Vec<RoleSummary>, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Roles, Action::Read)
        .await?;
    let state = &ctx.state;
    let rows = roles::list(&state.db, &gate.tenant.id)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(rows
        .into_iter()
        .map(|(r, n)| RoleSummary {
            id: r.id,
            name: r.name,
            description: r.description,
            managed: r.managed,
            bindings: n,
        })
        .collect())
}

#[cfg(feature = "ssr")]
fn role_detail(d: roles::RoleDetail) -> RoleDetail {
    RoleDetail {
        role: RoleSummary {
            id: d.role.id,
            name: d.role.name,
            description: d.role.description,
            managed: d.role.managed,
            bindings: d.bindings,
        },
        permissions: d
            .permissions
            .into_iter()
            .map(|(r, a)| format!("{r}:{a}"))
            .collect(),
    }
}

#[server(endpoint = "roles/get")]
pub async fn get_role(tenant: String, role: String) -> Result<RoleDetail, ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Roles, Action::Read)
        .await?;
    let d = roles::get(&ctx.state.db, &gate.tenant.id, &role)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(role_detail(d))
}

/// Ends a role form at `path`: the notice, or the error with what was typed put back (the
/// ticked permissions as one comma-separated `perms` value).
#[cfg(feature = "ssr")]
fn answer_role_form(
    ctx: &Ctx,
    path: &str,
    outcome: FormOutcome,
    input: roles::RoleInput,
) -> Result<(), ServerFnError> {
    let perms = input.perms.join(",");
    let keep = [
        ("name", input.name),
        ("description", input.description),
        ("perms", &perms),
    ];
    ctx.answer_form(path, outcome, &keep)
}

/// Creates a custom role. The matrix's checkboxes are named `perm[]` (serde_qs reads repeated
/// `perm[]` keys, also percent-encoded as a browser sends them, as a list).
#[server(endpoint = "roles/create")]
pub async fn create_role(
    tenant: String,
    name: String,
    #[server(default)] description: String,
    #[server(default)] perm: Vec<String>,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Roles, Action::Create)
        .await?;
    let (state, t) = (&ctx.state, &gate.tenant.id);
    let input = roles::RoleInput::new(&name, &description, &perm);
    let made = roles::create(&state.db, &gate.author(&ctx), &gate.permissions, t, input).await;
    let path = match &made {
        Ok(role) => roles_path(t, &format!("/{}", role.id)),
        Err(_) => roles_path(t, "/new"),
    };
    let outcome = made.map(|role| format!("Role {} created.", role.name));
    answer_role_form(&ctx, &path, outcome, input)
}

/// Saves a custom role's name, description and whole matrix at once.
#[server(endpoint = "roles/update")]
pub async fn update_role(
    tenant: String,
    role: String,
    name: String,
    #[server(default)] description: String,
    #[server(default)] perm: Vec<String>,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Roles, Action::Update)
        .await?;
    let (state, t) = (&ctx.state, &gate.tenant.id);
    let (by, held) = (gate.author(&ctx), &gate.permissions);
    let input = roles::RoleInput::new(&name, &description, &perm);
    let saved = roles::update(&state.db, &by, held, t, &role, input).await;
    let outcome = saved.map(|r| format!("Role {} saved.", r.name));
    answer_role_form(&ctx, &roles_path(t, &format!("/{role}")), outcome, input)
}

/// Deletes a custom role and the bindings that give it.
#[server(endpoint = "roles/delete")]
pub async fn delete_role(tenant: String, role: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let gate = ctx
        .enter_tenant_for(&tenant, Resource::Roles, Action::Delete)
        .await?;
    let t = &gate.tenant.id;
    let outcome = roles::delete(&ctx.state.db, &gate.author(&ctx), t, &role)
        .await
        .map(|(name, bindings)| match bindings {
            0 => format!("Role {name} deleted."),
            1 => format!("Role {name} deleted, with its 1 binding."),
            n => format!("Role {name} deleted, with its {n} bindings."),
        });
    ctx.answer_form(&roles_path(t, ""), outcome, &[])
}
