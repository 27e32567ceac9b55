//! Tenant → IAM → Audit log: who changed what in the tenant, newest first, filtered by kind of
//! change and paged both ways. Everything shown is read on the server (`api::audit`).

use leptos::prelude::*;

use crate::api::audit::{list_audit, AuditItem, AuditLog};
use crate::model::{TenantScope, AUDIT_AREAS};
use crate::ui::components::{
    error_text, query_param, Card, EmptyState, ErrorPanel, Loading, PageHeader, INPUT_CLASS,
    SECONDARY_BUTTON,
};
use crate::ui::tenant_page::{tenant_param, TenantPage};
use crate::ui::widgets::{Badge, Pager, Table, Time, Tone, LINK_CLASS, TD};
use crate::url::url_with_query;

#[component]
pub fn AuditPage() -> impl IntoView {
    let tenant = tenant_param();
    let area = query_param("area");
    let before = query_param("before");
    let after = query_param("after");
    let log = Resource::new(
        move || (tenant.get(), area.get(), before.get(), after.get()),
        |(t, area, before, after)| list_audit(t, area, before, after),
    );
    view! {
        <TenantPage title="Audit log" page=move |scope: TenantScope| view! { <AuditBody scope log area/> }/>
    }
}

#[component]
fn AuditBody(
    scope: TenantScope,
    log: Resource<Result<AuditLog, ServerFnError>>,
    area: Signal<Option<String>>,
) -> impl IntoView {
    let scim_href = scope.iam_path("scim");
    let csv = scope.iam_path("audit.csv");
    // A file download, not a page: `rel="external"` keeps the router from taking the click.
    let export = move || url_with_query(&csv, &[("area", &area.get().unwrap_or_default())]);
    view! {
        <PageHeader title="Audit log" subtitle="Every change people made to this tenant, newest first: in this UI or with a roster command.">
            <AreaFilter area=area.get_untracked()/>
            <a href=export rel="external" download class=SECONDARY_BUTTON
                title="These changes, all of them, as a CSV file">"Export CSV"</a>
        </PageHeader>
        <p class="-mt-3 mb-6 text-sm text-slate-500">
            "What identity providers change over SCIM is in each integration's request log, with the body they sent: see "
            <a href=scim_href class=LINK_CLASS>"SCIM Provisioning"</a>"."
        </p>
        <Transition fallback=Loading>
            {move || {
                let scope = scope.clone();
                Suspend::new(async move {
                    match log.await {
                        Ok(page) => view! { <AuditTable scope page area=area.get_untracked()/> }.into_any(),
                        Err(e) => view! { <ErrorPanel message=error_text(&e)/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// The kind-of-change filter: a GET form, so a filtered log has an address and works without JS.
#[component]
fn AreaFilter(area: Option<String>) -> impl IntoView {
    let chosen = area.unwrap_or_default();
    view! {
        <form method="get" class="flex items-center gap-2" aria-label="Filter the audit log">
            <label for="audit-area" class="sr-only">"Kind of change"</label>
            <select id="audit-area" name="area" class=format!("{INPUT_CLASS} w-56")>
                <option value="" selected=chosen.is_empty()>"All changes"</option>
                {AUDIT_AREAS.iter().map(|(slug, label)| view! {
                    <option value=*slug selected=chosen == *slug>{*label}</option>
                }).collect_view()}
            </select>
            <button type="submit" class=SECONDARY_BUTTON>"Show"</button>
        </form>
    }
}

#[component]
fn AuditTable(scope: TenantScope, page: AuditLog, area: Option<String>) -> impl IntoView {
    let path = scope.iam_path("audit");
    let area = area.unwrap_or_default();
    let link = |key: &str, cursor: Option<String>| {
        cursor.map(|c| url_with_query(&path, &[("area", &area), (key, &c)]))
    };
    let (newer, older) = (link("after", page.newer), link("before", page.older));
    let shown = page.events.len();
    let summary = match (shown, newer.is_some()) {
        (0, _) => String::new(),
        (1, false) => "The newest change".to_string(),
        (n, false) => format!("The newest {n} changes"),
        (1, true) => "1 earlier change".to_string(),
        (n, true) => format!("{n} earlier changes"),
    };
    if page.events.is_empty() {
        let body = if area.is_empty() {
            "Changes people make to this tenant appear here: users given access, groups, roles and bindings, service accounts and tokens, SCIM integrations."
        } else {
            "No change of this kind has been made. Choose All changes to see the others."
        };
        return view! { <Card><EmptyState title="No changes yet" body/></Card> }.into_any();
    }
    view! {
        <Card class="overflow-hidden">
            <Table headers=vec!["When", "Who", "What", "Changed", "Details"] caption="Audit log">
                {page.events.into_iter().map(|e| view! { <AuditRowView scope=scope.clone() e/> }).collect_view()}
            </Table>
            <Pager summary prev=newer next=older/>
        </Card>
    }
    .into_any()
}

#[component]
fn AuditRowView(scope: TenantScope, e: AuditItem) -> impl IntoView {
    let target = match e.target_path {
        Some(p) => view! { <a href=scope.iam_path(&p) class=LINK_CLASS>{e.target}</a> }.into_any(),
        None => view! { <span class="font-medium text-slate-900">{e.target}</span> }.into_any(),
    };
    let tone = match e.action.rsplit_once('.').map(|(_, verb)| verb) {
        Some(v) if v.contains("delete") || v.contains("remove") || v.contains("revoke") => {
            Tone::Bad
        }
        Some(v) if v.contains("create") || v.contains("add") || v.contains("grant") => Tone::Good,
        _ => Tone::Neutral,
    };
    view! {
        <tr data-testid=format!("audit-{}", e.action)>
            <td class=TD><Time at=e.at/></td>
            <td class=TD>
                <span class="font-medium text-slate-900">{e.actor}</span>
                {e.by_operator.then(|| view! { <span class="ml-2"><Badge text="CLI"/></span> })}
            </td>
            <td class=TD><Badge text=e.label tone/></td>
            <td class=TD>{target}</td>
            <td class=format!("{TD} max-w-md text-slate-600")>{e.detail}</td>
        </tr>
    }
}
