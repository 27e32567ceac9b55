//! `/`: sends a signed-in person to the first page of their tenant.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::auth::get_shell;
use crate::ui::components::{query_param, Card, EmptyState, Loading};
use crate::url::url_with_query;

#[component]
pub fn HomePage() -> impl IntoView {
    let shell = Resource::new(|| (), |_| get_shell());
    let notice = query_param("notice");
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                let tenants = shell.await.ok().flatten().map(|s| s.tenants).unwrap_or_default();
                let target = tenants.iter().find(|t| t.id == "main").or(tenants.first()).map(|t| t.id.clone());
                match target {
                    Some(t) => {
                        let path = url_with_query(&format!("/t/{t}/iam/users"), &[("notice", &notice.get_untracked().unwrap_or_default())]);
                        view! { <Redirect path=path/> }.into_any()
                    }
                    None => view! {
                        <Card>
                            <EmptyState title="No tenant yet"
                                body="You have no access to any tenant. Ask an administrator to grant you access."/>
                        </Card>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
