//! Tenant → IAM → Bindings: which role each user, group and service account has.

use leptos::prelude::*;

use crate::ui::components::{Banners, Card, EmptyState, PageHeader};
use crate::ui::tenant_page::TenantPage;

#[component]
pub fn BindingsPage() -> impl IntoView {
    view! {
        <TenantPage title="Bindings" page=|scope| view! {
            <PageHeader title="Bindings" subtitle=format!("Who has which role — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="No bindings yet" body="A binding gives a role to a user, a group or a service account in this tenant."/>
            </Card>
        }/>
    }
}
