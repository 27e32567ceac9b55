//! Tenant → IAM → Roles: managed roles (read-only) and custom roles with a resource × action matrix.

use leptos::prelude::*;

use crate::ui::components::{Banners, Card, EmptyState, PageHeader};
use crate::ui::tenant_page::TenantPage;

#[component]
pub fn RolesPage() -> impl IntoView {
    view! {
        <TenantPage title="Roles" page=|scope| view! {
            <PageHeader title="Roles" subtitle=format!("What each role may do — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="No roles yet" body="Managed roles (Admin, Viewer, SCIMProvisioner) and your custom roles, as a resource × action matrix."/>
            </Card>
        }/>
    }
}

#[component]
pub fn RolePage() -> impl IntoView {
    view! {
        <TenantPage title="Role" page=|scope| view! {
            <PageHeader title="Role" subtitle=format!("One role's permissions — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="Nothing here yet" body="This role's details arrive with the Roles page."/>
            </Card>
        }/>
    }
}
