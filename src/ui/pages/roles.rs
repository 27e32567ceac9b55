//! Tenant → IAM → Roles: managed roles (read-only) and custom roles with a resource × action
//! matrix. `/roles/new` is the create form; `/roles/:role` shows one role and, for a custom role,
//! the same form to edit it.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::roles::{
    get_role, list_roles, CreateRole, DeleteRole, RoleDetail, RoleSummary, UpdateRole,
};
use crate::model::{Action, Resource as Res, TenantScope};
use crate::ui::components::{
    error_text, field_error, query_param, Banners, Card, EmptyState, ErrorPanel, Field, Loading,
    PageHeader, INPUT_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
};
use crate::ui::pages::audit::history_link;
use crate::ui::pages::bindings::{last_error, ActionErrors};
use crate::ui::tenant_page::{route_param, tenant_param, TenantPage};
use crate::ui::widgets::{
    Badge, ConfirmAction, Table, Tone, DANGER_BUTTON, LINK_CLASS, TD, TD_ACTIONS,
};

// Each page creates its actions and resources before anything is awaited, so the server and the
// hydrating browser create them in the same order (their ids must match).

#[component]
pub fn RolesPage() -> impl IntoView {
    let tenant = tenant_param();
    let roles = Resource::new(move || tenant.get(), list_roles);
    view! {
        <TenantPage title="Roles" page=move |scope: TenantScope| view! { <RolesList scope roles/> }/>
    }
}

#[component]
fn RolesList(
    scope: TenantScope,
    roles: Resource<Result<Vec<RoleSummary>, ServerFnError>>,
) -> impl IntoView {
    let new_path = scope.iam_path("roles/new");
    let can_create = scope.can(Res::Roles, Action::Create);
    let scope2 = scope.clone();
    view! {
        <PageHeader title="Roles" subtitle="What each role allows in this tenant. Give roles to users, groups and service accounts under Bindings.">
            {can_create.then(|| view! { <a href=new_path.clone() class=PRIMARY_BUTTON>"Create role"</a> })}
        </PageHeader>
        <Banners/>
        <Card class="overflow-hidden">
            <Transition fallback=Loading>
                {move || {
                    let scope = scope2.clone();
                    Suspend::new(async move {
                        match roles.await {
                            Ok(list) if list.is_empty() => view! {
                                <EmptyState title="No roles yet" body="Create a custom role with the permissions it should grant, then bind it under Bindings."/>
                            }.into_any(),
                            Ok(list) => view! {
                                <Table headers=vec!["Role", "Description", "Bindings", ""] caption="Roles of this tenant">
                                    {list.into_iter().map(|r| {
                                        let href = scope.iam_path(&format!("roles/{}", r.id));
                                        let testid = format!("role-row-{}", r.name);
                                        let bindings = match r.bindings {
                                            1 => "1 binding".to_string(),
                                            n => format!("{n} bindings"),
                                        };
                                        view! {
                                            <tr data-testid=testid>
                                                <td class=TD>
                                                    <div class="flex items-center gap-2">
                                                        <a href=href.clone() class=LINK_CLASS>{r.name.clone()}</a>
                                                        {r.managed.then(|| view! { <Badge text="Managed" tone=Tone::Brand/> })}
                                                    </div>
                                                </td>
                                                <td class=TD>{r.description.clone()}</td>
                                                <td class=TD>{bindings}</td>
                                                <td class=TD_ACTIONS>
                                                    <a href=href class=SECONDARY_BUTTON aria-label=format!("View role {}", r.name)>"View"</a>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </Table>
                            }.into_any(),
                            Err(e) => view! { <div class="p-4"><ErrorPanel message=error_text(&e)/></div> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </Card>
    }
}

#[component]
pub fn RolePage() -> impl IntoView {
    let role = route_param("role");
    let tenant = tenant_param();
    let create = ServerAction::<CreateRole>::new();
    let update = ServerAction::<UpdateRole>::new();
    let delete = ServerAction::<DeleteRole>::new();
    let detail = Resource::new(
        move || (tenant.get(), role.get(), update.version().get()),
        |(t, r, _)| async move {
            if r == "new" {
                Ok(None)
            } else {
                get_role(t, r).await.map(Some)
            }
        },
    );
    view! {
        <TenantPage title="Role" page=move |scope: TenantScope| {
            // Reactive: after a create, the browser moves from /roles/new to the new role's page
            // within the same route.
            move || {
                let scope = scope.clone();
                if role.get() == "new" {
                    view! { <NewRole scope create/> }.into_any()
                } else {
                    view! { <RoleView scope detail update delete/> }.into_any()
                }
            }
        }/>
    }
}

/// The resource × action matrix: checkboxes named `perm[]` when `editable`, ✓ marks otherwise.
#[component]
fn Matrix(granted: Vec<String>, editable: bool) -> impl IntoView {
    let has = move |r: Res, a: Action| {
        granted
            .iter()
            .any(|p| crate::model::parse_permission(p) == Some((r, a)))
    };
    view! {
        <div class="relative overflow-x-auto">
            <table class="min-w-full text-sm" data-testid="permission-matrix">
                <caption class="sr-only">"Permissions: resources by actions"</caption>
                <thead>
                    <tr class="border-b border-slate-200">
                        <th scope="col" class="px-4 py-2 text-left font-medium text-slate-500">"Resource"</th>
                        {Action::ALL.iter().map(|a| view! {
                            <th scope="col" class="px-4 py-2 text-center font-medium text-slate-500">{a.label()}</th>
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {Res::ALL.iter().map(|&r| view! {
                        <tr>
                            <th scope="row" class="px-4 py-2 text-left font-medium text-slate-800">{r.label()}</th>
                            {Action::ALL.iter().map(|&a| {
                                let (r_label, a_label) = (r.label(), a.label());
                                let on = has(r, a);
                                let label = format!("{r_label}: {}", a_label.to_lowercase());
                                if editable {
                                    view! {
                                        <td class="px-4 py-2 text-center">
                                            <input type="checkbox" name="perm[]" value=format!("{r}:{a}") checked=on
                                                aria-label=label
                                                class="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500"/>
                                        </td>
                                    }.into_any()
                                } else if on {
                                    view! {
                                        <td class="px-4 py-2 text-center">
                                            <span role="img" aria-label=format!("{label}: allowed") class="font-bold text-emerald-600">"✓"</span>
                                        </td>
                                    }.into_any()
                                } else {
                                    view! {
                                        <td class="px-4 py-2 text-center">
                                            <span role="img" aria-label=format!("{label}: not allowed") class="text-slate-300">"—"</span>
                                        </td>
                                    }.into_any()
                                }
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Name, description and matrix, shared by create and edit. After a refused post, the values
/// come back from the URL (`?name=&description=&perms=`).
#[component]
fn RoleFields(name: String, description: String, granted: Vec<String>) -> impl IntoView {
    let error = query_param("error");
    let kept = move |key: &'static str, current: String| {
        let v = query_param(key);
        Signal::derive(move || {
            if error.get().is_some() {
                Some(v.get().unwrap_or_default())
            } else {
                Some(current.clone())
            }
        })
    };
    let perms_kept = query_param("perms");
    let granted = if error.get_untracked().is_some() {
        perms_kept
            .get_untracked()
            .map(|p| p.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    } else {
        granted
    };
    let description_error = field_error("description");
    let perm_error = field_error("perm");
    let description = kept("description", description);
    view! {
        <div class="grid gap-4 md:grid-cols-2">
            <Field label="Name" name="name" required=true value=kept("name", name) hint="Unique in this tenant, at most 100 characters."/>
            <div class="space-y-1">
                <label for="field-description" class="block text-sm font-medium text-slate-700">"Description"</label>
                <input id="field-description" name="description" type="text" class=INPUT_CLASS
                    value=move || description.get().unwrap_or_default()
                    aria-invalid=move || description_error.get().is_some().to_string()/>
                {move || description_error.get().map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
            </div>
        </div>
        <fieldset class="mt-6">
            <legend class="text-sm font-medium text-slate-700">"Permissions"</legend>
            <p class="mb-2 text-xs text-slate-500">"Tick what this role allows. Read lets people see a page; Create, Update and Delete let them change it."</p>
            {move || perm_error.get().map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
            <div class="rounded-lg border border-slate-200">
                <Matrix granted editable=true/>
            </div>
        </fieldset>
    }
}

#[component]
fn NewRole(scope: TenantScope, create: ServerAction<CreateRole>) -> impl IntoView {
    let back = scope.iam_path("roles");
    view! {
        <PageHeader title="Create a role" subtitle="A custom role: a name and the permissions it grants.">
            <a href=back class=SECONDARY_BUTTON>"Back to roles"</a>
        </PageHeader>
        <Banners hide_field_errors=true/>
        <ActionErrors errors=Signal::derive(move || last_error(create))/>
        {if scope.can(Res::Roles, Action::Create) {
            view! {
                <Card class="p-6">
                    <ActionForm action=create>
                        <input type="hidden" name="tenant" value=scope.tenant.id.clone()/>
                        <RoleFields name=String::new() description=String::new() granted=Vec::new()/>
                        <div class="mt-6 flex justify-end">
                            <button type="submit" class=PRIMARY_BUTTON disabled=move || create.pending().get()>"Create role"</button>
                        </div>
                    </ActionForm>
                </Card>
            }.into_any()
        } else {
            view! { <ErrorPanel message="You may not create roles in this tenant: it needs the Create permission on roles."/> }.into_any()
        }}
    }
}

#[component]
fn RoleView(
    scope: TenantScope,
    detail: Resource<Result<Option<RoleDetail>, ServerFnError>>,
    update: ServerAction<UpdateRole>,
    delete: ServerAction<DeleteRole>,
) -> impl IntoView {
    view! {
        <Transition fallback=Loading>
            {move || {
                let scope = scope.clone();
                Suspend::new(async move {
                    match detail.await {
                        Ok(Some(d)) => view! { <RoleBody scope d update delete/> }.into_any(),
                        Ok(None) => view! { <Loading/> }.into_any(),
                        Err(e) => view! {
                            <PageHeader title="Role"/>
                            <ErrorPanel message=error_text(&e)/>
                        }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn RoleBody(
    scope: TenantScope,
    d: RoleDetail,
    update: ServerAction<UpdateRole>,
    delete: ServerAction<DeleteRole>,
) -> impl IntoView {
    let r = d.role.clone();
    let editable = !r.managed && scope.can(Res::Roles, Action::Update);
    let deletable = !r.managed && scope.can(Res::Roles, Action::Delete);
    let bindings_text = match r.bindings {
        0 => "No binding gives this role yet.".to_string(),
        1 => "1 binding gives this role.".to_string(),
        n => format!("{n} bindings give this role."),
    };
    let delete_message = match r.bindings {
        0 => format!("Delete the role {}? Nobody has it.", r.name),
        n => format!(
            "Delete the role {}? Its {n} binding{} go too: everyone who has it through them loses its permissions.",
            r.name,
            if n == 1 { "" } else { "s" }
        ),
    };
    let tenant = scope.tenant.id.clone();
    let delete_view = deletable.then(|| {
        let tenant = tenant.clone();
        let id = r.id.clone();
        view! {
            <ConfirmAction label="Delete" aria_label=format!("Delete role {}", r.name) message=delete_message>
                <ActionForm action=delete>
                    <input type="hidden" name="tenant" value=tenant/>
                    <input type="hidden" name="role" value=id/>
                    <button type="submit" class=DANGER_BUTTON>"Delete role"</button>
                </ActionForm>
            </ConfirmAction>
        }
    });
    let roles_href = scope.iam_path("roles");
    let subtitle = if r.description.is_empty() {
        "Custom role".to_string()
    } else {
        r.description.clone()
    };
    let history = history_link(&scope, &r.id);
    view! {
        <PageHeader title=r.name.clone() subtitle=subtitle>
            <a href=roles_href class=SECONDARY_BUTTON>"All roles"</a>
            {history}
            {delete_view}
        </PageHeader>
        <Banners hide_field_errors=editable/>
        <ActionErrors errors=Signal::derive(move || last_error(update).or_else(|| last_error(delete)))/>
        <div class="mb-4 flex flex-wrap items-center gap-3 text-sm text-slate-600">
            {if r.managed {
                view! { <Badge text="Managed" tone=Tone::Brand/> }.into_any()
            } else {
                view! { <Badge text="Custom"/> }.into_any()
            }}
            <span>{bindings_text}</span>
            <a href=scope.iam_path("bindings") class=LINK_CLASS>"Manage bindings"</a>
        </div>
        {r.managed.then(|| view! {
            <div role="note" class="mb-4 rounded-lg border border-indigo-200 bg-indigo-50 px-4 py-3 text-sm text-indigo-900">
                "Managed role: Roster defines its permissions, so it cannot be edited or deleted. For a different set of permissions, create a custom role."
            </div>
        })}
        <Card class="p-6">
            {if editable {
                view! {
                    <h2 class="mb-4 text-base font-semibold text-slate-900">"Edit role"</h2>
                    <ActionForm action=update>
                        <input type="hidden" name="tenant" value=tenant.clone()/>
                        <input type="hidden" name="role" value=r.id.clone()/>
                        <RoleFields name=r.name.clone() description=r.description.clone() granted=d.permissions.clone()/>
                        <div class="mt-6 flex justify-end">
                            <button type="submit" class=PRIMARY_BUTTON disabled=move || update.pending().get()>"Save role"</button>
                        </div>
                    </ActionForm>
                }.into_any()
            } else {
                view! {
                    <h2 class="mb-4 text-base font-semibold text-slate-900">"Permissions"</h2>
                    <Matrix granted=d.permissions.clone() editable=false/>
                }.into_any()
            }}
        </Card>
    }
}
