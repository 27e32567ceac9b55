//! Tenant → IAM → Users: the people with access to a tenant, and one user's page.

use leptos::prelude::*;

use crate::ui::components::{Banners, Card, EmptyState, PageHeader};
use crate::ui::tenant_page::TenantPage;

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <TenantPage title="Users" page=|scope| view! {
            <PageHeader title="Users" subtitle=format!("People with access to this tenant — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="No users yet" body="Users arrive from your identity provider through SCIM, or are granted access by hand."/>
            </Card>
        }/>
    }
}

#[component]
pub fn UserPage() -> impl IntoView {
    view! {
        <TenantPage title="User" page=|scope| view! {
            <PageHeader title="User" subtitle=format!("A user's access, groups, bindings and effective permissions — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="Nothing here yet" body="This user's details arrive with the Users page."/>
            </Card>
        }/>
    }
}
