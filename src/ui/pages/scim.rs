//! Tenant → IAM → SCIM Provisioning: integrations, their endpoint and token, and the request log.

use leptos::prelude::*;

use crate::ui::components::{Banners, Card, EmptyState, PageHeader};
use crate::ui::tenant_page::TenantPage;

#[component]
pub fn ScimPage() -> impl IntoView {
    view! {
        <TenantPage title="SCIM Provisioning" page=|scope| view! {
            <PageHeader title="SCIM Provisioning" subtitle=format!("Sync users and groups from your identity provider — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="No SCIM integrations yet" body="Create an integration, then paste its endpoint URL and secret token into authentik, Okta or Entra ID."/>
            </Card>
        }/>
    }
}

#[component]
pub fn IntegrationPage() -> impl IntoView {
    view! {
        <TenantPage title="SCIM integration" page=|scope| view! {
            <PageHeader title="SCIM integration" subtitle=format!("One integration: its endpoint, token and request log — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="Nothing here yet" body="This integration's details arrive with the SCIM Provisioning page."/>
            </Card>
        }/>
    }
}
