//! Tenants for the Instance → Tenants page and the tenant a page is about.

use leptos::prelude::*;

use crate::model::{TenantScope, TenantSummary};

#[cfg(feature = "ssr")]
use {
    super::ctx::ctx,
    crate::clock::rfc3339,
    crate::db::tenants::TenantRow,
    crate::error::AppError,
    crate::iam::{audit::Author, tenants},
    crate::url::url_with_query,
};

#[cfg(feature = "ssr")]
fn summary(t: TenantRow) -> TenantSummary {
    TenantSummary {
        id: t.id,
        name: t.name,
        created_at: rfc3339(t.created_at),
        link_foreign_users: t.link_foreign_users,
    }
}

/// Every tenant; superadmins only.
#[server(endpoint = "tenants/list")]
pub async fn list_tenants() -> Result<Vec<TenantSummary>, ServerFnError> {
    let ctx = ctx();
    let user = ctx.require_user().await?;
    if !user.is_superadmin {
        return Err(ctx.fail(AppError::Forbidden(
            "Only superadmins manage tenants.".into(),
        )));
    }
    let rows = tenants::visible_to(&ctx.state.db, &user)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(rows.into_iter().map(summary).collect())
}

/// The tenant a page is about, if the signed-in user may enter it (404 otherwise, so a
/// tenant's existence is not revealed to outsiders).
#[server(endpoint = "tenants/get")]
pub async fn get_tenant(tenant: String) -> Result<TenantSummary, ServerFnError> {
    let ctx = ctx();
    let user = ctx.require_user().await?;
    let row = tenants::enter(&ctx.state.db, &user, &tenant)
        .await
        .map_err(|e| ctx.fail(e))?;
    row.map(summary).ok_or_else(|| {
        ctx.fail(AppError::NotFound(format!(
            "There is no tenant `{tenant}` you can enter."
        )))
    })
}

/// The tenant a page is about and what the signed-in user may do there (404 when they may not
/// enter it). Every tenant page loads this first.
#[server(endpoint = "tenants/scope")]
pub async fn get_tenant_scope(tenant: String) -> Result<TenantScope, ServerFnError> {
    let ctx = ctx();
    Ok(ctx.enter_tenant(&tenant).await?.scope())
}

/// The Instance → Tenants page.
#[cfg(feature = "ssr")]
const TENANTS: &str = "/instance/tenants";

/// Back to the Tenants page with `params` (a notice, or an error and what was typed).
#[cfg(feature = "ssr")]
fn back_to_tenants(params: &[(&str, &str)]) -> Result<(), ServerFnError> {
    leptos_axum::redirect(&url_with_query(TENANTS, params));
    Ok(())
}

#[server(endpoint = "tenants/create")]
pub async fn create_tenant(id: String, name: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let user = ctx.require_user().await?;
    let state = &ctx.state;
    let by = Author::user(&user, state.clock.as_ref());
    match tenants::create(&state.db, &by, &id, &name).await {
        Ok(t) => back_to_tenants(&[("notice", &format!("Tenant {} created.", t.id))]),
        Err(AppError::Invalid { field, message }) => back_to_tenants(&[
            ("error", &message),
            ("field", field),
            ("id", &id),
            ("name", &name),
        ]),
        Err(e) => Err(ctx.fail(e)),
    }
}

#[server(endpoint = "tenants/rename")]
pub async fn rename_tenant(id: String, name: String) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let user = ctx.require_user().await?;
    let state = &ctx.state;
    let by = Author::user(&user, state.clock.as_ref());
    match tenants::rename(&state.db, &by, &id, &name).await {
        Ok(()) => back_to_tenants(&[("notice", &format!("Tenant {id} renamed."))]),
        Err(AppError::Invalid { message, .. }) => back_to_tenants(&[
            ("rename_error", &message),
            ("rename", &id),
            ("rename_name", &name),
        ]),
        Err(e) => Err(ctx.fail(e)),
    }
}

/// Sets whether a tenant may take in users of other tenants (Instance → Tenants, superadmins).
/// `link` is the checkbox: present (`on`) or absent.
#[server(endpoint = "tenants/link-foreign-users")]
pub async fn set_link_foreign_users(
    id: String,
    #[server(default)] link: String,
) -> Result<(), ServerFnError> {
    let ctx = ctx();
    let user = ctx.require_user().await?;
    let by = Author::user(&user, ctx.state.clock.as_ref());
    let on = !link.is_empty() && link != "off";
    tenants::set_link_foreign_users(&ctx.state.db, &by, &id, on)
        .await
        .map_err(|e| ctx.fail(e))?;
    let notice = if on {
        format!("Tenant {id} may now link users of other tenants.")
    } else {
        format!("Tenant {id} no longer links users of other tenants.")
    };
    back_to_tenants(&[("notice", &notice)])
}
