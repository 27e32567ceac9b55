//! The frame of every Tenant → IAM page: it loads the tenant and what the signed-in user may do
//! there, shows "not found" to outsiders, sets the title, and hands the [`TenantScope`] to the
//! page so it can leave out the controls the user may not use.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::tenants::get_tenant_scope;
use crate::model::TenantScope;
use crate::ui::components::Loading;
use crate::ui::pages::not_found::NotFound;

/// The `:tenant` route parameter, reactive.
pub fn tenant_param() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("tenant").unwrap_or_default())
}

/// A route parameter other than the tenant (e.g. `"user"` in `/t/:tenant/iam/users/:user`).
pub fn route_param(name: &'static str) -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get(name).unwrap_or_default())
}

/// Renders `page` with the scope of the tenant in the URL; `title` is the page's name in the
/// browser tab ("Users" → "Users · Main · Roster").
#[component]
pub fn TenantPage<F, V>(#[prop(into)] title: String, page: F) -> impl IntoView
where
    F: Fn(TenantScope) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let tenant = tenant_param();
    let scope = Resource::new(move || tenant.get(), get_tenant_scope);
    view! {
        <Suspense fallback=Loading>
            {move || {
                let (page, title) = (page.clone(), title.clone());
                Suspend::new(async move {
                    match scope.await {
                        Ok(scope) => {
                            // Plain text, not a signal: leptos_meta reads the title when it
                            // writes the head, which under parallel renders came after a
                            // signal made for it here had been disposed (the render panicked
                            // and never answered; `tests/api/renders.rs`).
                            let tab = format!("{title} · {} · Roster", scope.tenant.name);
                            view! {
                                <Title text=tab/>
                                {page(scope.clone())}
                            }
                            .into_any()
                        }
                        Err(_) => view! { <NotFound/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
