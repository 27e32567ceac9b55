//! Tenant → IAM → Groups: groups, their members and the roles bound to them.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::groups::{
    get_group, list_groups, AddMember, AttachRole, CreateGroup, DeleteGroup, DetachRole,
    GroupDetail, GroupItem, GroupList, RemoveMember,
};
use crate::model::{Action, Resource as Res, TenantScope};
use crate::ui::components::{
    field_error, query_param, Banners, Card, EmptyState, Field, Loading, PageHeader, INPUT_CLASS,
    PRIMARY_BUTTON, SECONDARY_BUTTON,
};
use crate::ui::pages::audit::history_link;
use crate::ui::pages::users::{load_error, pager_links, Loaded, TabTitle, UserBadges, UserCell};
use crate::ui::tenant_page::{route_param, tenant_param};
use crate::ui::widgets::{
    count, Badge, ConfirmAction, Pager, SearchBox, Table, Tone, DANGER_BUTTON, LINK_CLASS, TD,
    TD_ACTIONS,
};

// One resource per page, made up front, carrying the tenant scope (see users.rs).

#[component]
pub fn GroupsPage() -> impl IntoView {
    let tenant = tenant_param();
    let create = ServerAction::<CreateGroup>::new();
    let q = query_param("q");
    let after = query_param("after");
    let before = query_param("before");
    let notice = query_param("notice");
    let list: Loaded<GroupList> = Resource::new(
        move || {
            (
                tenant.get(),
                q.get(),
                after.get(),
                before.get(),
                notice.get(),
            )
        },
        |(tenant, q, after, before, _)| list_groups(tenant, q, after, before),
    );
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! {
                        <TabTitle page="Groups" scope=list.scope.clone()/>
                        <GroupListView scope=list.scope.clone() list create/>
                    }.into_any(),
                    Err(e) => load_error("Groups", &e),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn GroupPage() -> impl IntoView {
    let tenant = tenant_param();
    let group = route_param("group");
    let q = query_param("q");
    let after = query_param("after");
    let before = query_param("before");
    let notice = query_param("notice");
    let error = query_param("error");
    let actions = GroupActions {
        delete: ServerAction::new(),
        add: ServerAction::new(),
        remove: ServerAction::new(),
        attach: ServerAction::new(),
        detach: ServerAction::new(),
    };
    let detail: Loaded<GroupDetail> = Resource::new(
        move || {
            (
                tenant.get(),
                group.get(),
                q.get(),
                after.get(),
                before.get(),
                (notice.get(), error.get()),
            )
        },
        |(tenant, group, q, after, before, _)| get_group(tenant, group, q, after, before),
    );
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! {
                        <TabTitle page=d.group.name.clone() scope=d.scope.clone()/>
                        <GroupDetails scope=d.scope.clone() d actions q=q.get_untracked()/>
                    }.into_any(),
                    Err(e) => load_error("Group", &e),
                }
            })}
        </Transition>
    }
}

/// "SCIM · authentik" for a group an integration manages, "Roster" for one made here.
#[component]
fn ManagedBadge(group: GroupItem) -> impl IntoView {
    match group.managed_by {
        Some(name) => view! { <Badge text=format!("SCIM · {name}") tone=Tone::Brand/> }.into_any(),
        None => view! { <Badge text="Created in Roster"/> }.into_any(),
    }
}

#[component]
fn GroupListView(
    scope: TenantScope,
    list: GroupList,
    create: ServerAction<CreateGroup>,
) -> impl IntoView {
    let tenant = scope.tenant.id.clone();
    let q = query_param("q");
    let can_create = scope.can(Res::Groups, Action::Create);
    let subtitle = format!(
        "Groups of tenant {}. Groups pushed by your identity provider appear here; attach a role to a group to give its members permissions.",
        scope.tenant.name
    );
    view! {
        <PageHeader title="Groups" subtitle=subtitle/>
        <Banners hide_field_errors=true/>
        {can_create.then(|| view! {
            <Card class="mb-6 p-6">
                <h2 class="text-base font-semibold text-slate-900">"Create a group"</h2>
                <ActionForm action=create attr:class="mt-4 flex flex-wrap items-start gap-3" attr:aria-label="Create a group">
                    <input type="hidden" name="tenant" value=tenant.clone()/>
                    <div class="w-80">
                        <Field label="Group name" name="name" required=true value=query_param("name") autocomplete="off"/>
                    </div>
                    <button type="submit" class=format!("{PRIMARY_BUTTON} mt-6") disabled=move || create.pending().get()>"Create group"</button>
                </ActionForm>
            </Card>
        })}
        <Card class="overflow-hidden">
            <div class="flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 px-6 py-4">
                <SearchBox label="Search groups" placeholder="Group name" value=q.get_untracked()/>
            </div>
            <GroupTable list scope q=q.get_untracked()/>
        </Card>
    }
}

#[component]
fn GroupTable(list: GroupList, scope: TenantScope, q: Option<String>) -> impl IntoView {
    if list.groups.is_empty() {
        return match &q {
            Some(q) => view! {
                <EmptyState title="No matching groups" body=format!("No group's name contains “{q}”.")/>
            }.into_any(),
            None => view! {
                <EmptyState title="No groups yet" body="Groups arrive from your identity provider through SCIM once you assign groups to its SCIM provider; you can also create one above."/>
            }.into_any(),
        };
    }
    let shown = list.groups.len() as i64;
    let summary = match &q {
        Some(q) => format!(
            "Showing {} {} matching “{q}” · {} groups in this tenant",
            count(shown),
            if shown == 1 { "group" } else { "groups" },
            count(list.total)
        ),
        None => format!("Showing {} of {} groups", count(shown), count(list.total)),
    };
    let (prev, next) = pager_links(&scope.iam_path("groups"), q, list.prev, list.next);
    view! {
        <Table caption="Groups of this tenant" headers=vec!["Group", "Managed by", "Members"]>
            {list.groups.into_iter().map(|g| {
                let href = scope.iam_path(&format!("groups/{}", g.id));
                let testid = format!("group-row-{}", g.name);
                view! {
                    <tr data-testid=testid>
                        <td class=TD><a href=href class=LINK_CLASS>{g.name.clone()}</a></td>
                        <td class=TD><ManagedBadge group=g.clone()/></td>
                        <td class=TD data-testid="group-members">{count(g.members)}</td>
                    </tr>
                }
            }).collect_view()}
        </Table>
        <Pager summary prev next/>
    }
    .into_any()
}

/// The forms of the group page.
#[derive(Clone, Copy)]
struct GroupActions {
    delete: ServerAction<DeleteGroup>,
    add: ServerAction<AddMember>,
    remove: ServerAction<RemoveMember>,
    attach: ServerAction<AttachRole>,
    detach: ServerAction<DetachRole>,
}

#[component]
fn GroupDetails(
    d: GroupDetail,
    scope: TenantScope,
    actions: GroupActions,
    q: Option<String>,
) -> impl IntoView {
    let tenant = scope.tenant.id.clone();
    let g = d.group.clone();
    let history = history_link(&scope, &g.id);
    let can_update = scope.can(Res::Groups, Action::Update);
    let can_delete = scope.can(Res::Groups, Action::Delete);
    let can_attach = scope.can(Res::Bindings, Action::Create);
    let can_detach = scope.can(Res::Bindings, Action::Delete);
    let subtitle = format!(
        "{} {} · group in tenant {}",
        count(g.members),
        if g.members == 1 { "member" } else { "members" },
        scope.tenant.name
    );
    let delete_control = can_delete.then(|| {
        let message = format!(
            "Delete the group {}? Its members keep their accounts and access to this tenant, but lose the roles attached to the group.{}",
            g.name,
            if g.managed_by.is_some() { " The identity provider may create it again on its next sync." } else { "" }
        );
        let tenant = tenant.clone();
        let id = g.id.clone();
        view! {
            <ConfirmAction label="Delete group" aria_label=format!("Delete group {}", g.name) message>
                <ActionForm action=actions.delete>
                    <input type="hidden" name="tenant" value=tenant/>
                    <input type="hidden" name="group" value=id/>
                    <button type="submit" class=DANGER_BUTTON>"Delete group"</button>
                </ActionForm>
            </ConfirmAction>
        }
    });
    let warning = g.managed_by.clone().map(|name| {
        let text = format!(
            "This group is managed by SCIM · {name}. The next sync from {name} may undo members \
             added or removed here; change membership in {name} to make it last. Roles attached \
             here stay: Roster keeps them across syncs."
        );
        view! {
            <div role="note" data-testid="scim-managed-warning" class="mb-6 flex gap-3 rounded-lg border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900">
                <span aria-hidden="true" class="font-bold">"!"</span>
                <p>{text}</p>
            </div>
        }
    });
    let header_badge = view! { <ManagedBadge group=g.clone()/> };
    let role_list = view! { <RoleList d=d.clone() scope=scope.clone() actions can_detach/> };
    let attach_form =
        can_attach.then(|| view! { <AttachForm d=d.clone() tenant=tenant.clone() actions/> });
    let add_form = can_update.then(|| {
                    let tenant = tenant.clone();
                    let id = g.id.clone();
                    view! {
                        <ActionForm action=actions.add attr:class="flex flex-wrap items-start gap-3" attr:aria-label="Add member">
                            <input type="hidden" name="tenant" value=tenant/>
                            <input type="hidden" name="group" value=id/>
                            <div class="w-72">
                                <Field label="Add member (username or email)" name="login" required=true value=query_param("login") autocomplete="off"/>
                            </div>
                            <button type="submit" class=format!("{PRIMARY_BUTTON} mt-6")>"Add member"</button>
                        </ActionForm>
                    }
                });
    let search = {
        let q = q.clone();
        view! { <SearchBox label="Search members" placeholder="Username, name or email" value=q/> }
    };
    let title = g.name.clone();
    let member_table = view! { <MemberTable d scope actions can_update q/> };
    view! {
        <PageHeader title=title subtitle=subtitle>
            {header_badge}
            {history}
            {delete_control}
        </PageHeader>
        <Banners hide_field_errors=true/>
        {warning}
        <Card class="mb-6 p-6">
            <h2 class="text-base font-semibold text-slate-900">"Roles"</h2>
            <p class="mt-1 text-sm text-slate-500">"Every member of this group has the permissions of the roles attached to it, in this tenant."</p>
            {role_list}
            {attach_form}
        </Card>
        <Card class="overflow-hidden">
            <div class="flex flex-wrap items-end justify-between gap-4 border-b border-slate-200 px-6 py-4">
                // Grows into the row's free room, so the search field is as wide as the list's.
                <div class="min-w-64 flex-1">
                    <h2 class="text-base font-semibold text-slate-900">"Members"</h2>
                    {search}
                </div>
                {add_form}
            </div>
            {member_table}
        </Card>
    }
}

#[component]
fn RoleList(
    d: GroupDetail,
    scope: TenantScope,
    actions: GroupActions,
    can_detach: bool,
) -> impl IntoView {
    if d.bindings.is_empty() {
        return view! {
            <p class="mt-4 text-sm text-slate-500" data-testid="group-roles-empty">"No role is attached yet, so membership gives no permissions."</p>
        }
        .into_any();
    }
    let tenant = scope.tenant.id.clone();
    view! {
        <ul class="mt-4 divide-y divide-slate-100 rounded-lg border border-slate-200" aria-label="Roles attached to this group">
            {d.bindings.into_iter().map(|b| {
                let href = scope.iam_path(&format!("roles/{}", b.role_id));
                let tenant = tenant.clone();
                let group = d.group.id.clone();
                view! {
                    <li class="flex items-center justify-between gap-4 px-4 py-3 text-sm">
                        <a href=href class=LINK_CLASS>{b.role_name.clone()}</a>
                        {can_detach.then(|| view! {
                            <ActionForm action=actions.detach>
                                <input type="hidden" name="tenant" value=tenant/>
                                <input type="hidden" name="group" value=group/>
                                <input type="hidden" name="binding" value=b.binding_id.clone()/>
                                <button type="submit" class=format!("{SECONDARY_BUTTON} text-rose-700")
                                    aria-label=format!("Detach role {}", b.role_name)>"Detach"</button>
                            </ActionForm>
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn AttachForm(d: GroupDetail, tenant: String, actions: GroupActions) -> impl IntoView {
    let role_error = field_error("role_id").get_untracked();
    if d.attachable.is_empty() {
        return view! { <p class="mt-4 text-sm text-slate-500">"Every role of this tenant is attached already."</p> }.into_any();
    }
    view! {
        <ActionForm action=actions.attach attr:class="mt-4 flex flex-wrap items-end gap-3" attr:aria-label="Attach role">
            <input type="hidden" name="tenant" value=tenant/>
            <input type="hidden" name="group" value=d.group.id.clone()/>
            <div class="w-64 space-y-1">
                <label for="field-role_id" class="block text-sm font-medium text-slate-700">"Role to attach"</label>
                <select id="field-role_id" name="role_id" class=INPUT_CLASS>
                    {d.attachable.into_iter().map(|r| view! { <option value=r.id>{r.name}</option> }).collect_view()}
                </select>
                {role_error.map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
            </div>
            <button type="submit" class=PRIMARY_BUTTON disabled=move || actions.attach.pending().get()>"Attach role"</button>
        </ActionForm>
    }
    .into_any()
}

#[component]
fn MemberTable(
    d: GroupDetail,
    scope: TenantScope,
    actions: GroupActions,
    can_update: bool,
    q: Option<String>,
) -> impl IntoView {
    if d.members.is_empty() {
        return match &q {
            Some(q) => view! { <EmptyState title="No matching members" body=format!("No member's username, name or email contains “{q}”.")/> }.into_any(),
            None => view! { <EmptyState title="No members yet" body="Add a user with access to this tenant above, or assign the group to users in your identity provider."/> }.into_any(),
        };
    }
    let shown = d.members.len() as i64;
    let summary = match &q {
        Some(q) => format!(
            "Showing {} matching “{q}” of {} members",
            count(shown),
            count(d.group.members)
        ),
        None => format!(
            "Showing {} of {} {}",
            count(shown),
            count(d.group.members),
            if d.group.members == 1 {
                "member"
            } else {
                "members"
            }
        ),
    };
    let path = scope.iam_path(&format!("groups/{}", d.group.id));
    let (prev, next) = pager_links(&path, q, d.prev, d.next);
    let tenant = scope.tenant.id.clone();
    let group = d.group.id.clone();
    let headers = if can_update {
        vec!["Member", "Email", "Access", ""]
    } else {
        vec!["Member", "Email", "Access"]
    };
    view! {
        <Table caption="Members of this group" headers>
            {d.members.into_iter().map(|u| {
                let href = scope.iam_path(&format!("users/{}", u.id));
                let testid = format!("member-row-{}", u.username);
                let remove = can_update.then(|| {
                    let label = format!("Remove {} from the group", u.username);
                    let (tenant, group, user) = (tenant.clone(), group.clone(), u.id.clone());
                    view! {
                        <td class=TD_ACTIONS>
                            <ActionForm action=actions.remove>
                                <input type="hidden" name="tenant" value=tenant/>
                                <input type="hidden" name="group" value=group/>
                                <input type="hidden" name="user" value=user/>
                                <button type="submit" class=format!("{SECONDARY_BUTTON} text-rose-700") aria-label=label>"Remove"</button>
                            </ActionForm>
                        </td>
                    }
                });
                view! {
                    <tr data-testid=testid>
                        <td class=TD><UserCell user=u.clone() href/></td>
                        <td class=format!("{TD} text-slate-600")>{u.email.clone().unwrap_or_default()}</td>
                        <td class=TD><UserBadges user=u/></td>
                        {remove}
                    </tr>
                }
            }).collect_view()}
        </Table>
        <Pager summary prev next/>
    }
    .into_any()
}
