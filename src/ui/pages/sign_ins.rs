//! Instance → Sign-ins (superadmins only): every account's sign-ins and failed password checks,
//! newest first, filtered to the failures or to one account, paged both ways. The cells of a
//! sign-in are the ones Your account shows of a person's own.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::sign_ins::{list_sign_ins, AccountSignIn, InstanceSignIns, SignInItem, PAGE};
use crate::ui::components::{
    error_text, query_param, Card, EmptyState, ErrorPanel, Loading, PageHeader, INPUT_CLASS,
    SECONDARY_BUTTON,
};
use crate::ui::widgets::{count, Badge, Pager, Table, Time, Tone, LINK_CLASS, TD};
use crate::url::url_with_query;

/// A sign-in's cells after its time: what happened, how, from which browser and address.
#[component]
pub fn SignInCells(s: SignInItem) -> impl IntoView {
    let tone = if s.failed { Tone::Bad } else { Tone::Good };
    view! {
        <td class=TD><Badge text=s.what tone/></td>
        <td class=TD>{s.how}</td>
        <td class=TD><span title=s.user_agent.unwrap_or_default()>{s.browser}</span></td>
        <td class=format!("{TD} font-mono")>{s.address}</td>
    }
}

#[component]
pub fn InstanceSignInsPage() -> impl IntoView {
    let (failed, user) = (query_param("failed"), query_param("user"));
    let (before, after) = (query_param("before"), query_param("after"));
    let page = Resource::new(
        move || (failed.get(), user.get(), before.get(), after.get()),
        |(failed, user, before, after)| list_sign_ins(failed, user, before, after),
    );
    view! {
        <Title text="Sign-ins · Roster"/>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <SignInsView p/> }.into_any(),
                    Err(e) => view! {
                        <PageHeader title="Sign-ins" subtitle="Every account's sign-ins and failed password checks."/>
                        <ErrorPanel message=error_text(&e)/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The query that keeps the page's filter, for its links.
fn filter_query(p: &InstanceSignIns) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if p.failed_only {
        q.push(("failed", "1".to_string()));
    }
    if let Some((id, _)) = &p.user {
        q.push(("user", id.clone()));
    }
    q
}

fn href(query: &[(&'static str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    url_with_query(PAGE, &pairs)
}

#[component]
fn SignInsView(p: InstanceSignIns) -> impl IntoView {
    let query = filter_query(&p);
    let link = |key: &'static str, cursor: Option<String>| {
        cursor.map(|c| {
            let mut q = query.clone();
            q.push((key, c));
            href(&q)
        })
    };
    let (newer, older) = (
        link("after", p.newer.clone()),
        link("before", p.older.clone()),
    );
    let banner = p.user.clone().map(|(_, username)| {
        let mut everyone = query.clone();
        everyone.retain(|(k, _)| *k != "user");
        view! {
            <p data-testid="sign-ins-user" class="mb-4 flex flex-wrap items-center gap-2 rounded-lg border border-indigo-100 bg-indigo-50 px-4 py-2 text-sm text-indigo-900">
                "Sign-ins of " <span class="font-semibold">{username}</span> " only."
                <a href=href(&everyone) class=LINK_CLASS>"Show everyone's"</a>
            </p>
        }
    });
    let summary = match (p.sign_ins.len(), newer.is_some()) {
        (0, _) => String::new(),
        (1, false) => "The newest".to_string(),
        (n, false) => format!("The newest {n}"),
        (n, true) => format!("{n} earlier"),
    };
    let body = if p.sign_ins.is_empty() {
        let text = if p.failed_only {
            "No password check has failed. Choose Everything to see the sign-ins."
        } else {
            "Sign-ins appear here as people sign in, with a password or through a sign-in provider, and as they change their password."
        };
        view! { <EmptyState title="Nothing recorded" body=text/> }.into_any()
    } else {
        view! {
            <Table headers=vec!["When", "Account", "What", "How", "Browser", "Address"] caption="Sign-ins">
                {p.sign_ins.into_iter().map(|row| view! { <SignInRow row filter=query.clone()/> }).collect_view()}
            </Table>
            <Pager summary prev=newer next=older/>
        }
        .into_any()
    };
    view! {
        <PageHeader title="Sign-ins" subtitle="Every account's sign-ins, password changes and failed password checks, newest first. Each account keeps its latest 50.">
            <Filters failed_only=p.failed_only user=p.user.as_ref().map(|(id, _)| id.clone())/>
        </PageHeader>
        <FailuresLately n=p.failed_lately/>
        {banner}
        <Card class="overflow-hidden">{body}</Card>
    }
}

/// How many password checks failed in the last day, across the instance.
#[component]
fn FailuresLately(n: i64) -> impl IntoView {
    let (tone, text) = match n {
        0 => (
            "border-emerald-100 bg-emerald-50 text-emerald-900",
            "No password check failed in the last 24 hours.".to_string(),
        ),
        1 => (
            "border-amber-200 bg-amber-50 text-amber-900",
            "1 password check failed in the last 24 hours.".to_string(),
        ),
        n => (
            "border-amber-200 bg-amber-50 text-amber-900",
            format!("{} password checks failed in the last 24 hours.", count(n)),
        ),
    };
    let failures = (n > 0).then(|| {
        view! { <a href=href(&[("failed", "1".to_string())]) class=LINK_CLASS>"Show the failures"</a> }
    });
    view! {
        <p data-testid="sign-ins-failed-lately" class=format!("mb-4 flex flex-wrap items-center gap-2 rounded-lg border px-4 py-2 text-sm {tone}")>
            {text} {failures}
        </p>
    }
}

/// The filter: everything or the failures only (a GET form: the filtered page has an address
/// and works without JavaScript); the account it keeps to stays.
#[component]
fn Filters(failed_only: bool, user: Option<String>) -> impl IntoView {
    view! {
        <form method="get" action=PAGE class="flex flex-wrap items-center gap-2" aria-label="Filter the sign-ins">
            {user.map(|id| view! { <input type="hidden" name="user" value=id/> })}
            <div class="w-56">
                <label for="sign-ins-failed" class="sr-only">"Which"</label>
                <select id="sign-ins-failed" name="failed" class=INPUT_CLASS>
                    <option value="" selected=!failed_only>"Everything"</option>
                    <option value="1" selected=failed_only>"Failed password checks"</option>
                </select>
            </div>
            <button type="submit" class=SECONDARY_BUTTON>"Show"</button>
        </form>
    }
}

#[component]
fn SignInRow(row: AccountSignIn, filter: Vec<(&'static str, String)>) -> impl IntoView {
    let mut only = filter;
    only.retain(|(k, _)| *k != "user");
    only.push(("user", row.user_id.clone()));
    let s = row.sign_in;
    let (failed, at) = (s.failed.to_string(), s.at.clone());
    view! {
        <tr data-testid="instance-sign-in" data-failed=failed>
            <td class=TD><Time at/></td>
            <td class=TD>
                <a href=href(&only) class=LINK_CLASS title="This account's sign-ins only">{row.username}</a>
            </td>
            <SignInCells s/>
        </tr>
    }
}
