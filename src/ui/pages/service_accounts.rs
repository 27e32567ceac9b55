//! Tenant → IAM → Service Accounts: machine identities and their API tokens.

use leptos::prelude::*;

use crate::ui::components::{Banners, Card, EmptyState, PageHeader};
use crate::ui::tenant_page::TenantPage;

#[component]
pub fn ServiceAccountsPage() -> impl IntoView {
    view! {
        <TenantPage title="Service Accounts" page=|scope| view! {
            <PageHeader title="Service Accounts" subtitle=format!("Machine identities and their API tokens — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="No service accounts yet" body="Service accounts cannot sign in to the UI; their tokens are shown once and stored hashed."/>
            </Card>
        }/>
    }
}

#[component]
pub fn ServiceAccountPage() -> impl IntoView {
    view! {
        <TenantPage title="Service account" page=|scope| view! {
            <PageHeader title="Service account" subtitle=format!("One service account and its tokens — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="Nothing here yet" body="This service account's details arrive with the Service Accounts page."/>
            </Card>
        }/>
    }
}
