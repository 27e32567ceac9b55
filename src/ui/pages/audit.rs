//! Tenant → IAM → Audit log: who changed what in the tenant, newest first, filtered by kind of
//! change and by who made it (people or SCIM integrations), or to the changes of one thing (the
//! "History" link of its page), paged both ways.
//! Everything shown is read on the server (`api::audit`).

use leptos::prelude::*;

use crate::api::audit::{list_audit, AuditItem, AuditLog};
use crate::model::{Action, Resource as Res, TenantScope, AUDIT_ACTORS, AUDIT_AREAS};
use crate::ui::components::{
    query_param, Card, EmptyState, Loading, PageHeader, INPUT_CLASS, SECONDARY_BUTTON,
};
use crate::ui::pages::users::{load_error, Loaded, TabTitle};
use crate::ui::tenant_page::tenant_param;
use crate::ui::widgets::{Badge, Pager, Table, Time, Tone, LINK_CLASS, TD};
use crate::url::url_with_query;

#[component]
pub fn AuditPage() -> impl IntoView {
    let tenant = tenant_param();
    let (area, target, by) = (
        query_param("area"),
        query_param("target"),
        query_param("by"),
    );
    let (before, after) = (query_param("before"), query_param("after"));
    let log: Loaded<AuditLog> = Resource::new(
        move || {
            (
                tenant.get(),
                (area.get(), target.get(), by.get()),
                before.get(),
                after.get(),
            )
        },
        |(t, (area, target, by), before, after)| list_audit(t, area, target, by, before, after),
    );
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match log.await {
                    Ok(page) => view! {
                        <TabTitle page="Audit log" scope=page.scope.clone()/>
                        <AuditView page/>
                    }.into_any(),
                    Err(e) => load_error("Audit log", &e),
                }
            })}
        </Transition>
    }
}

/// The query that keeps a page's filter (for the pager and the export).
type FilterQuery = [(&'static str, String); 3];

fn with_query(path: &str, query: &[(&'static str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    url_with_query(path, &pairs)
}

/// The "History" button of a page about one thing (a user, group, role, service account or
/// integration): its changes in the audit log, for those who may read the log.
pub fn history_link(scope: &TenantScope, target_id: &str) -> Option<impl IntoView> {
    scope.can(Res::Auditlog, Action::Read).then(|| {
        let href = url_with_query(&scope.iam_path("audit"), &[("target", target_id)]);
        view! { <a href=href class=SECONDARY_BUTTON title="Its changes in the audit log">"History"</a> }
    })
}

/// The page, drawn from what the server answered (the scope and the filter it applied included).
#[component]
fn AuditView(page: AuditLog) -> impl IntoView {
    let scope = page.scope.clone();
    let filter: FilterQuery = [
        ("area", page.area.clone().unwrap_or_default()),
        ("target", page.target.clone().unwrap_or_default()),
        ("by", page.by.clone().unwrap_or_default()),
    ];
    // A file download, not a page: `rel="external"` keeps the router from taking the click.
    let export = with_query(&scope.iam_path("audit.csv"), &filter);
    // The changes of one thing are all of its kinds: the filters are left out then.
    let filters = page
        .target
        .is_none()
        .then(|| view! { <Filters area=page.area.clone() by=page.by.clone()/> });
    let scim_href = scope.iam_path("scim");
    view! {
        <PageHeader title="Audit log" subtitle="Every change made to this tenant, newest first: in this UI, with a roster command, or over SCIM.">
            {filters}
            <a href=export rel="external" download class=format!("{SECONDARY_BUTTON} whitespace-nowrap")
                title="These changes, all of them, as a CSV file">"Export CSV"</a>
        </PageHeader>
        <p class="-mt-3 mb-6 text-sm text-slate-500">
            "The requests identity providers sent, refused ones with their body, are in each integration's request log: see "
            <a href=scim_href class=LINK_CLASS>"SCIM Provisioning"</a>"."
        </p>
        <AuditTable scope page filter/>
    }
}

/// The filters (kind of change, who made it): a GET form, so a filtered log has an address and
/// works without JS.
#[component]
fn Filters(area: Option<String>, by: Option<String>) -> impl IntoView {
    view! {
        <form method="get" class="flex flex-wrap items-center gap-2" aria-label="Filter the audit log">
            <FilterSelect name="area" label="Kind of change" all="All changes" options=&AUDIT_AREAS
                chosen=area.unwrap_or_default() width="w-48"/>
            <FilterSelect name="by" label="Made by" all="By anyone" options=&AUDIT_ACTORS
                chosen=by.unwrap_or_default() width="w-56"/>
            <button type="submit" class=SECONDARY_BUTTON>"Show"</button>
        </form>
    }
}

/// One filter of [`Filters`]: `all` (no filter, the empty value) or one of `options` (slug,
/// label), in a box `width` wide (the input style is full width).
#[component]
fn FilterSelect(
    name: &'static str,
    label: &'static str,
    all: &'static str,
    options: &'static [(&'static str, &'static str)],
    chosen: String,
    width: &'static str,
) -> impl IntoView {
    let id = format!("audit-{name}");
    view! {
        <div class=width>
            <label for=id.clone() class="sr-only">{label}</label>
            <select id=id name=name class=INPUT_CLASS>
                <option value="" selected=chosen.is_empty()>{all}</option>
                {options.iter().map(|(slug, text)| view! {
                    <option value=*slug selected=chosen == *slug>{*text}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

/// "Changes to alice only · Show all changes", when the page holds one thing's changes.
fn target_banner(scope: &TenantScope, name: Option<String>) -> impl IntoView {
    let all = scope.iam_path("audit");
    let name = name.unwrap_or_else(|| "this".into());
    view! {
        <p data-testid="audit-target" class="mb-4 flex flex-wrap items-center gap-2 rounded-lg border border-indigo-100 bg-indigo-50 px-4 py-2 text-sm text-indigo-900">
            "Changes to " <span class="font-semibold">{name}</span> " only."
            <a href=all class=LINK_CLASS>"Show all changes"</a>
        </p>
    }
}

#[component]
fn AuditTable(scope: TenantScope, page: AuditLog, filter: FilterQuery) -> impl IntoView {
    let path = scope.iam_path("audit");
    let query = filter;
    let unfiltered = query[0].1.is_empty() && query[2].1.is_empty();
    let banner = (!query[1].1.is_empty()).then(|| target_banner(&scope, page.target_name.clone()));
    let link = |key: &'static str, cursor: Option<String>| {
        cursor.map(|c| {
            let mut q = query.to_vec();
            q.push((key, c));
            with_query(&path, &q)
        })
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
        let body = if banner.is_some() {
            "No change to this has been recorded: changes are recorded from this release on."
        } else if unfiltered {
            "Changes to this tenant appear here: users provisioned or given access, groups, roles and bindings, service accounts and tokens, SCIM integrations."
        } else {
            "No change of this kind has been made. Choose All changes to see the others."
        };
        return view! { {banner}<Card><EmptyState title="No changes yet" body/></Card> }.into_any();
    }
    view! {
        {banner}
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
    let ends = ["delete", "remove", "revoke", "deprovision"];
    let tone = match e.action.rsplit_once('.').map(|(_, verb)| verb) {
        Some(v) if ends.iter().any(|w| v.contains(w)) => Tone::Bad,
        Some(v)
            if ["create", "add", "grant", "provision"]
                .iter()
                .any(|w| v.contains(w)) =>
        {
            Tone::Good
        }
        _ => Tone::Neutral,
    };
    let actor = match (e.actor_kind.as_str(), e.actor_path) {
        // The operator is one actor however it is stored: "Operator" and where it acted from.
        ("operator", _) => view! {
            <span class="inline-flex items-center gap-2 whitespace-nowrap">
                <span class="font-medium text-slate-900">"Operator"</span><Badge text="command line"/>
            </span>
        }
        .into_any(),
        ("integration", Some(path)) => view! {
            <span class="inline-flex items-center gap-2 whitespace-nowrap">
                <a href=scope.iam_path(&path) class=LINK_CLASS>{e.actor}</a><Badge text="SCIM"/>
            </span>
        }
        .into_any(),
        _ => view! { <span class="font-medium text-slate-900">{e.actor}</span> }.into_any(),
    };
    view! {
        <tr data-testid=format!("audit-{}", e.action)>
            <td class=TD><Time at=e.at/></td>
            <td class=TD>{actor}</td>
            <td class=TD><Badge text=e.label tone/></td>
            <td class=TD>{target}</td>
            <td class=format!("{TD} max-w-md text-slate-600")>{e.detail}</td>
        </tr>
    }
}
