//! Tenant → IAM → Groups: groups, their members and the roles bound to them.

use leptos::prelude::*;

use crate::ui::components::{Banners, Card, EmptyState, PageHeader};
use crate::ui::tenant_page::TenantPage;

#[component]
pub fn GroupsPage() -> impl IntoView {
    view! {
        <TenantPage title="Groups" page=|scope| view! {
            <PageHeader title="Groups" subtitle=format!("Groups and their members — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="No groups yet" body="Groups pushed by your identity provider appear here; bind a role to a group to give its members permissions."/>
            </Card>
        }/>
    }
}

#[component]
pub fn GroupPage() -> impl IntoView {
    view! {
        <TenantPage title="Group" page=|scope| view! {
            <PageHeader title="Group" subtitle=format!("A group's members and roles — tenant {}", scope.tenant.name)/>
            <Banners/>
            <Card>
                <EmptyState title="Nothing here yet" body="This group's details arrive with the Groups page."/>
            </Card>
        }/>
    }
}
