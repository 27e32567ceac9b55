//! The one check every tenant-scoped server function makes first: may the signed-in user enter
//! this tenant (404 otherwise, so outsiders learn nothing), and does a role give them the
//! permission the call needs (403 otherwise).

use leptos::prelude::ServerFnError;

use super::ctx::Ctx;
use crate::db::{tenants::TenantRow, users::UserRow};
use crate::error::AppError;
use crate::iam::audit::Author;
use crate::iam::permissions::Permissions;
use crate::iam::tenants;
use crate::model::{Action, Resource, TenantScope};

/// A signed-in user inside a tenant they may enter, with their effective permissions there.
pub struct TenantGate {
    pub user: UserRow,
    pub tenant: TenantRow,
    pub permissions: Permissions,
}

impl Ctx {
    /// Signed in, and allowed into `tenant_id`; otherwise 401 or 404.
    pub async fn enter_tenant(&self, tenant_id: &str) -> Result<TenantGate, ServerFnError> {
        let user = self.require_user().await?;
        let db = &self.state.db;
        let fail = |e| self.fail(e);
        let not_found = || {
            self.fail(AppError::NotFound(format!(
                "There is no tenant `{tenant_id}` you can enter."
            )))
        };
        let (tenant, permissions) = tenants::enter_with_permissions(db, &user, tenant_id)
            .await
            .map_err(fail)?
            .ok_or_else(not_found)?;
        Ok(TenantGate {
            user,
            tenant,
            permissions,
        })
    }

    /// Like [`Ctx::enter_tenant`], then 403 unless the user may do `action` on `resource`.
    pub async fn enter_tenant_for(
        &self,
        tenant_id: &str,
        resource: Resource,
        action: Action,
    ) -> Result<TenantGate, ServerFnError> {
        let gate = self.enter_tenant(tenant_id).await?;
        gate.require(self, resource, action)?;
        Ok(gate)
    }
}

impl TenantGate {
    /// The author of the changes this request makes, for the tenant's audit log.
    pub fn author(&self, ctx: &Ctx) -> Author {
        Author::user(&self.user, ctx.state.clock.as_ref())
    }

    /// 403 unless the user may do `action` on `resource` in this tenant.
    pub fn require(
        &self,
        ctx: &Ctx,
        resource: Resource,
        action: Action,
    ) -> Result<(), ServerFnError> {
        if self.permissions.allows(resource, action) {
            Ok(())
        } else {
            Err(ctx.fail(AppError::Forbidden(format!(
                "You may not do that here: it needs the {action} permission on {} in tenant {}. \
                 Ask an administrator of this tenant for a role that grants it.",
                resource.as_str().to_lowercase().replace('_', " "),
                self.tenant.id
            ))))
        }
    }

    /// What the UI needs to know to show or hide controls.
    pub fn scope(&self) -> TenantScope {
        let mut permissions: Vec<String> = self
            .permissions
            .grants
            .iter()
            .map(|g| format!("{}:{}", g.resource, g.action))
            .collect();
        permissions.sort();
        permissions.dedup();
        TenantScope {
            tenant: crate::model::TenantSummary {
                id: self.tenant.id.clone(),
                name: self.tenant.name.clone(),
                created_at: crate::clock::rfc3339(self.tenant.created_at),
                link_foreign_users: self.tenant.link_foreign_users,
            },
            permissions,
            is_superadmin: self.user.is_superadmin,
        }
    }
}
