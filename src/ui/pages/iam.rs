//! Tenant → IAM pages. Each section checks that the signed-in user may enter the tenant;
//! the sections' own content arrives with the IAM and SCIM work.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::tenants::get_tenant;
use crate::ui::components::{Banners, Card, EmptyState, Loading, PageHeader};
use crate::ui::layout::IAM_SECTIONS;
use crate::ui::pages::not_found::NotFound;

fn section_text(slug: &str) -> (&'static str, &'static str) {
    match slug {
        "users" => (
            "People with access to this tenant",
            "Users arrive from your identity provider through SCIM, or are granted access by hand.",
        ),
        "groups" => (
            "Groups and their members",
            "Groups pushed by your identity provider appear here; bind a role to a group to give its members permissions.",
        ),
        "roles" => (
            "What each role may do",
            "Managed roles (Admin, Viewer, SCIMProvisioner) and your custom roles, as a resource × action matrix.",
        ),
        "bindings" => (
            "Who has which role",
            "A binding gives a role to a user, a group or a service account in this tenant.",
        ),
        "service-accounts" => (
            "Machine identities and their API tokens",
            "Service accounts cannot sign in to the UI; their tokens are shown once and stored hashed.",
        ),
        _ => (
            "Sync users and groups from your identity provider",
            "Create an integration, then paste its endpoint URL and secret token into authentik, Okta or Entra ID.",
        ),
    }
}

#[component]
pub fn IamSectionPage() -> impl IntoView {
    let params = use_params_map();
    let tenant_id = move || params.read().get("tenant").unwrap_or_default();
    let section = move || params.read().get("section").unwrap_or_default();
    let tenant = Resource::new(tenant_id, get_tenant);
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let slug = section();
                let label = IAM_SECTIONS.iter().find(|(s, _)| *s == slug).map(|(_, l)| *l);
                match (tenant.await, label) {
                    (Ok(t), Some(label)) => {
                        let (subtitle, body) = section_text(&slug);
                        view! {
                            <Title text=format!("{label} · {} · Roster", t.name)/>
                            <PageHeader title=label subtitle=format!("{subtitle} — tenant {}", t.name)/>
                            <Banners/>
                            <Card>
                                <EmptyState title=format!("No {} yet", label.to_lowercase()) body=body/>
                            </Card>
                        }.into_any()
                    }
                    _ => view! { <NotFound/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
