//! Tenant → IAM → Users: the people with access to a tenant, and one user's page.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::users::{
    get_user, list_users, GrantAccess, RemoveAccess, SetPassword, UserDetail, UserItem, UserList,
};
use crate::model::{Action, Resource as Res, TenantScope};
use crate::ui::components::{
    error_text, query_param, Banners, Card, EmptyState, ErrorPanel, Field, Loading, PageHeader,
    PRIMARY_BUTTON, SECONDARY_BUTTON,
};
use crate::ui::pages::audit::history_link;
use crate::ui::pages::not_found::NotFound;
use crate::ui::tenant_page::{route_param, tenant_param};
use crate::ui::widgets::{
    count, Badge, ConfirmAction, EmailList, Pager, SearchBox, Table, Time, Tone, DANGER_BUTTON, DD,
    DT, LINK_CLASS, TD,
};
use crate::url::url_with_query;

// Each page loads ONE resource, made up front, whose data carries the tenant scope: a resource
// made inside another Suspense's async branch (as with the `TenantPage` frame) was created in a
// different order in the browser than on the server, and hydration then failed at random.

pub type Loaded<T> = Resource<Result<T, ServerFnError>>;

/// The browser tab's title: "Users · Main · Roster".
#[component]
pub fn TabTitle(#[prop(into)] page: String, scope: TenantScope) -> impl IntoView {
    view! { <Title text=format!("{page} · {} · Roster", scope.tenant.name)/> }
}

/// What a page shows when its data did not load: "not found" for outsiders and missing things
/// (404, as the server answered), the reason for a missing permission (403).
pub fn load_error(title: &'static str, e: &ServerFnError) -> AnyView {
    let message = error_text(e);
    if message.starts_with("You may not") {
        view! { <PageHeader title=title/><ErrorPanel message/> }.into_any()
    } else {
        view! { <NotFound/> }.into_any()
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let tenant = tenant_param();
    let grant = ServerAction::<GrantAccess>::new();
    let q = query_param("q");
    let after = query_param("after");
    let before = query_param("before");
    let list: Loaded<UserList> = Resource::new(
        move || {
            (
                tenant.get(),
                q.get(),
                after.get(),
                before.get(),
                grant.version().get(),
            )
        },
        |(tenant, q, after, before, _)| list_users(tenant, q, after, before),
    );
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! {
                        <TabTitle page="Users" scope=list.scope.clone()/>
                        <UserListView scope=list.scope.clone() list grant/>
                    }.into_any(),
                    Err(e) => load_error("Users", &e),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn UserPage() -> impl IntoView {
    let tenant = tenant_param();
    let user = route_param("user");
    let remove = ServerAction::<RemoveAccess>::new();
    let password = ServerAction::<SetPassword>::new();
    let notice = query_param("notice");
    let detail: Loaded<UserDetail> = Resource::new(
        move || {
            (
                tenant.get(),
                user.get(),
                notice.get(),
                password.version().get(),
            )
        },
        |(tenant, user, _, _)| get_user(tenant, user),
    );
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! {
                        <TabTitle page=d.username.clone() scope=d.scope.clone()/>
                        <UserDetails scope=d.scope.clone() d remove password/>
                    }.into_any(),
                    Err(e) => load_error("User", &e),
                }
            })}
        </Transition>
    }
}

/// The badges of a user in lists: where their access comes from, and whether they are suspended.
#[component]
pub fn UserBadges(user: UserItem) -> impl IntoView {
    view! {
        <div class="flex flex-wrap gap-1">
            {user.provisioned_by.into_iter().map(|name| view! {
                <Badge text=format!("SCIM · {name}") tone=Tone::Brand/>
            }).collect_view()}
            {user.manual.then(|| view! { <Badge text="Granted by hand"/> })}
            {user.suspended.then(|| view! { <Badge text="Suspended" tone=Tone::Bad/> })}
        </div>
    }
}

/// A user's name cell: display name (or username) linking to their page, the username below.
#[component]
pub fn UserCell(user: UserItem, href: String) -> impl IntoView {
    let shown = user
        .display_name
        .clone()
        .unwrap_or_else(|| user.username.clone());
    let sub = user.display_name.is_some().then(|| user.username.clone());
    view! {
        <a href=href class=LINK_CLASS>{shown}</a>
        {sub.map(|s| view! { <p class="mt-0.5 font-mono text-xs text-slate-500">{s}</p> })}
    }
}

/// Previous/next links of a keyset-paged list at `path`, keeping the search.
pub fn pager_links(
    path: &str,
    q: Option<String>,
    prev: Option<String>,
    next: Option<String>,
) -> (Option<String>, Option<String>) {
    let q = q.unwrap_or_default();
    (
        prev.map(|k| url_with_query(path, &[("q", &q), ("before", &k)])),
        next.map(|k| url_with_query(path, &[("q", &q), ("after", &k)])),
    )
}

#[component]
fn UserListView(
    scope: TenantScope,
    list: UserList,
    grant: ServerAction<GrantAccess>,
) -> impl IntoView {
    let tenant = scope.tenant.id.clone();
    let q = query_param("q");
    let can_update = scope.can(Res::Users, Action::Update);
    let subtitle = format!(
        "People with access to tenant {}. They arrive from your identity provider through SCIM, or are granted access by hand.",
        scope.tenant.name
    );
    // A file download, not a page: `rel="external"` keeps the router from taking the click.
    let export = format!("/t/{tenant}/iam/users.csv");
    view! {
        <PageHeader title="Users" subtitle=subtitle>
            <a href=export rel="external" download class=SECONDARY_BUTTON
                title="Every user of this tenant as a CSV file">"Export CSV"</a>
        </PageHeader>
        <Banners hide_field_errors=true/>
        {can_update.then(|| view! {
            <Card class="mb-6 p-6">
                <h2 class="text-base font-semibold text-slate-900">"Grant access"</h2>
                <p class="mt-1 text-sm text-slate-500">"Let an existing Roster user into this tenant. Give them permissions with a role binding or a group afterwards."</p>
                <ActionForm action=grant attr:class="mt-4 flex flex-wrap items-start gap-3" attr:aria-label="Grant access">
                    <input type="hidden" name="tenant" value=tenant.clone()/>
                    <div class="w-80">
                        <Field label="Username or email" name="login" required=true value=query_param("login") autocomplete="off"/>
                    </div>
                    <button type="submit" class=format!("{PRIMARY_BUTTON} mt-6") disabled=move || grant.pending().get()>"Grant access"</button>
                </ActionForm>
            </Card>
        })}
        <Card class="overflow-hidden">
            <div class="flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 px-6 py-4">
                <SearchBox label="Search users" placeholder="Username, name or email" value=q.get_untracked()/>
            </div>
            <UserTable list scope q=q.get_untracked()/>
        </Card>
    }
}

#[component]
fn UserTable(list: UserList, scope: TenantScope, q: Option<String>) -> impl IntoView {
    if !list.readable {
        return view! {
            <EmptyState title="You cannot see this tenant's users"
                body="You may enter this tenant, but none of your roles here lets you read its users. Ask an administrator of this tenant for a role such as Viewer."/>
        }
        .into_any();
    }
    if list.users.is_empty() {
        return match &q {
            Some(q) => view! {
                <EmptyState title="No matching users" body=format!("No user's username, name or email contains “{q}”. Try a shorter search.")/>
            }.into_any(),
            None => view! {
                <EmptyState title="No users yet" body="Create a SCIM integration under SCIM Provisioning and paste its URL and token into your identity provider, or grant access to an existing user above."/>
            }.into_any(),
        };
    }
    let shown = list.users.len() as i64;
    let summary = match &q {
        Some(q) => format!(
            "Showing {} {} matching “{q}”{} · {} users in this tenant",
            count(shown),
            if shown == 1 { "user" } else { "users" },
            if list.next.is_some() {
                " (more on the next pages)"
            } else {
                ""
            },
            count(list.total)
        ),
        None => format!("Showing {} of {} users", count(shown), count(list.total)),
    };
    let (prev, next) = pager_links(&scope.iam_path("users"), q, list.prev, list.next);
    view! {
        <Table caption="Users with access to this tenant" headers=vec!["User", "Email", "Access"]>
            {list.users.into_iter().map(|u| {
                let href = scope.iam_path(&format!("users/{}", u.id));
                let testid = format!("user-row-{}", u.username);
                view! {
                    <tr data-testid=testid>
                        <td class=TD><UserCell user=u.clone() href/></td>
                        <td class=format!("{TD} text-slate-600")>{u.email.clone().unwrap_or_default()}</td>
                        <td class=TD><UserBadges user=u/></td>
                    </tr>
                }
            }).collect_view()}
        </Table>
        <Pager summary prev next/>
    }
    .into_any()
}

#[component]
fn UserDetails(
    d: UserDetail,
    scope: TenantScope,
    remove: ServerAction<RemoveAccess>,
    password: ServerAction<SetPassword>,
) -> impl IntoView {
    let tenant = scope.tenant.id.clone();
    let can_update = scope.can(Res::Users, Action::Update);
    let title = d.display_name.clone().unwrap_or_else(|| d.username.clone());
    let subtitle = format!("{} · user in tenant {}", d.username, scope.tenant.name);
    let manual = d.sources.iter().any(|s| s.manual);
    let scim_sources: Vec<String> = d
        .sources
        .iter()
        .filter(|s| !s.manual)
        .map(|s| s.label.clone())
        .collect();
    let remove_message = if scim_sources.is_empty() {
        format!(
            "Remove {}'s access to this tenant? Their memberships in its groups and the roles bound to them here go too. The account itself stays.",
            d.username
        )
    } else {
        format!(
            "Remove the access granted by hand? {} keeps access through {} until the identity provider unassigns them.",
            d.username,
            scim_sources.join(", ")
        )
    };
    let emails = d.emails.clone();
    let remove_control = (can_update && manual).then(|| {
        let aria = format!("Remove access of {}", d.username);
        let tenant = tenant.clone();
        let id = d.id.clone();
        view! {
            <ConfirmAction label="Remove access" aria_label=aria message=remove_message>
                <ActionForm action=remove>
                    <input type="hidden" name="tenant" value=tenant/>
                    <input type="hidden" name="user" value=id/>
                    <button type="submit" class=DANGER_BUTTON>"Remove access"</button>
                </ActionForm>
            </ConfirmAction>
        }
    });
    let groups = if d.groups.is_empty() {
        view! { <p class="mt-2 text-sm text-slate-500">"Not a member of any group in this tenant."</p> }.into_any()
    } else {
        view! { <ul class="mt-3 flex flex-wrap gap-2" aria-label="Groups">{d.groups.iter().cloned().map(|(id, name)| view! {
            <li><a href=scope.iam_path(&format!("groups/{id}")) class=format!("{LINK_CLASS} inline-block rounded-md bg-slate-50 px-2 py-1 ring-1 ring-slate-200")>{name}</a></li>
        }).collect_view()}</ul> }.into_any()
    };
    let roles = if d.bindings.is_empty() {
        view! { <p class="mt-2 text-sm text-slate-500">"No role is bound to this user directly (see Bindings). Roles can also come from groups."</p> }.into_any()
    } else {
        view! { <ul class="mt-3 flex flex-wrap gap-2" aria-label="Roles bound to this user">{d.bindings.iter().cloned().map(|b| view! {
            <li><a href=scope.iam_path(&format!("roles/{}", b.role_id)) class=LINK_CLASS>{b.role_name}</a></li>
        }).collect_view()}</ul> }.into_any()
    };
    let password_form = (can_update && d.password_settable).then(|| {
        let tenant = tenant.clone();
        let id = d.id.clone();
        let heading = if d.has_password { "Reset password" } else { "Set a password" };
        view! {
            <Card class="mt-6 p-6">
                <h2 class="text-base font-semibold text-slate-900">{heading}</h2>
                <p class="mt-1 text-sm text-slate-500">"A local password lets the user sign in here with their username or email. Their other sessions end."</p>
                <ActionForm action=password attr:class="mt-4 flex flex-wrap items-start gap-3" attr:aria-label="Set password">
                    <input type="hidden" name="tenant" value=tenant/>
                    <input type="hidden" name="user" value=id/>
                    <div class="w-80">
                        <Field label="New password" name="password" kind="password" required=true autocomplete="new-password" hint="At least 8 characters."/>
                    </div>
                    <button type="submit" class=format!("{PRIMARY_BUTTON} mt-6") disabled=move || password.pending().get()>"Save password"</button>
                </ActionForm>
            </Card>
        }
    });
    let password_note = if d.own_account {
        Some(view! {
            <p class="mt-6 text-sm text-slate-500">"This is you. Change your password under "<a href="/account" class=LINK_CLASS>"Your account"</a>", where your current one is asked first."</p>
        }.into_any())
    } else {
        (can_update && !d.password_settable).then(|| view! {
            <p class="mt-6 text-sm text-slate-500">"Only a superadmin can set this user's password: they are a superadmin or can also enter other tenants."</p>
        }.into_any())
    };
    let permission_table = view! { <PermissionTable d=d.clone()/> };
    let badges = view! {
        {d.is_superadmin.then(|| view! { <Badge text="Superadmin" tone=Tone::Brand/> })}
        {(d.suspended_here || d.suspended_everywhere).then(|| view! { <Badge text="Suspended" tone=Tone::Bad/> })}
    };
    let sources = d.sources.clone();
    let status = if d.suspended_everywhere {
        "Suspended on this instance"
    } else if d.suspended_here {
        "Suspended in this tenant"
    } else {
        "Active"
    };
    let password_state = if d.has_password { "Set" } else { "Not set" };
    let history = history_link(&scope, &d.id);
    // Sign-ins belong to the instance: superadmins read them there, kept to this person.
    let sign_ins = scope.is_superadmin.then(|| {
        let href = url_with_query(crate::api::sign_ins::PAGE, &[("user", d.id.as_str())]);
        view! { <a href=href class=SECONDARY_BUTTON title="This person's sign-ins and failed password checks">"Sign-ins"</a> }
    });
    view! {
        <PageHeader title=title subtitle=subtitle>
            {badges}
            {sign_ins}
            {history}
        </PageHeader>
        <Banners hide_field_errors=true/>
        <div class="grid gap-6 lg:grid-cols-2">
            <Card class="p-6">
                <h2 class="text-base font-semibold text-slate-900">"Attributes"</h2>
                <dl class="mt-4 grid grid-cols-1 gap-4 sm:grid-cols-2">
                    <div><dt class=DT>"Username"</dt><dd class=format!("{DD} font-mono")>{d.username.clone()}</dd></div>
                    <div><dt class=DT>"Display name"</dt><dd class=DD>{d.display_name.clone().unwrap_or_else(|| "—".into())}</dd></div>
                    <div class="sm:col-span-2"><dt class=DT>"Emails"</dt>
                        <dd class=DD><EmailList emails/></dd>
                    </div>
                    <div><dt class=DT>"Local password"</dt><dd class=DD>{password_state}</dd></div>
                    <div><dt class=DT>"Status here"</dt><dd class=DD>{status}</dd></div>
                    <div><dt class=DT>"Created"</dt><dd class=DD><Time at=d.created_at.clone()/></dd></div>
                    <div><dt class=DT>"Updated"</dt><dd class=DD><Time at=d.updated_at.clone()/></dd></div>
                </dl>
            </Card>
            <Card class="p-6">
                <div class="flex items-start justify-between gap-4">
                    <div>
                        <h2 class="text-base font-semibold text-slate-900">"Access to this tenant"</h2>
                        <p class="mt-1 text-sm text-slate-500">"Since "<Time at=d.access_since.clone()/>". Access lasts while at least one source grants it."</p>
                    </div>
                    {remove_control}
                </div>
                <ul class="mt-4 divide-y divide-slate-100" aria-label="Access sources">
                    {sources.into_iter().map(|s| view! {
                        <li class="flex flex-wrap items-center justify-between gap-2 py-2 text-sm">
                            <Badge text=s.label.clone() tone=if s.manual { Tone::Neutral } else { Tone::Brand }/>
                            <span class="text-slate-500">
                                {s.external_id.clone().map(|x| view! { <span class="mr-3">"External ID "<code class="font-mono text-slate-700">{x}</code></span> })}
                                <Time at=s.since.clone()/>
                            </span>
                        </li>
                    }).collect_view()}
                </ul>
                {(!manual && !scim_sources.is_empty()).then(|| view! {
                    <p class="mt-3 text-xs text-slate-500">"This access comes from SCIM provisioning; unassign the user in the identity provider to end it."</p>
                })}
            </Card>
            <Card class="p-6">
                <h2 class="text-base font-semibold text-slate-900">"Groups"</h2>
                {groups}
            </Card>
            <Card class="p-6">
                <h2 class="text-base font-semibold text-slate-900">"Roles bound to this user"</h2>
                {roles}
            </Card>
        </div>
        <Card class="mt-6 overflow-hidden">
            <div class="px-6 py-4">
                <h2 class="text-base font-semibold text-slate-900">"Effective permissions"</h2>
                <p class="mt-1 text-sm text-slate-500">"What this user may do in this tenant, from the roles bound to them and to their groups."</p>
            </div>
            {permission_table}
        </Card>
        {password_form}
        {password_note}
    }
}

#[component]
fn PermissionTable(d: UserDetail) -> impl IntoView {
    let actions = d.actions.clone();
    view! {
        <div class="relative overflow-x-auto border-t border-slate-200">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="effective-permissions">
                <caption class="sr-only">"Effective permissions by resource and action"</caption>
                <thead class="bg-slate-50">
                    <tr>
                        <th scope="col" class="px-6 py-3 text-left font-medium text-slate-500">"Resource"</th>
                        {actions.iter().map(|a| view! { <th scope="col" class="px-4 py-3 text-left font-medium text-slate-500">{a.clone()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 bg-white">
                    {d.permissions.into_iter().map(|row| {
                        let resource = row.resource.clone();
                        let actions = actions.clone();
                        view! {
                            <tr>
                                <th scope="row" class="px-6 py-3 text-left font-mono text-xs font-medium text-slate-700">{row.resource.clone()}</th>
                                {row.cells.into_iter().zip(actions).map(|(origins, action)| {
                                    let label = format!("{resource} · {action}");
                                    if origins.is_empty() {
                                        view! { <td class="px-4 py-3 text-slate-300" aria-label=format!("{label}: not granted")>"—"</td> }.into_any()
                                    } else {
                                        view! {
                                            <td class="px-4 py-3 align-top" data-permission=label.clone()>
                                                <span class="sr-only">{format!("{label} — ")}</span>
                                                <span aria-hidden="true" class="font-bold text-emerald-600">"✓ "</span>
                                                {origins.into_iter().map(|o| view! { <span class="block text-xs text-slate-600">{o}</span> }).collect_view()}
                                            </td>
                                        }.into_any()
                                    }
                                }).collect_view()}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
