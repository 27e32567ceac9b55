//! Tenant → IAM → Bindings: which role each user, group and service account has; bind a role
//! and remove a binding.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::bindings::{
    list_bindings, BindingChoices, BindingView, BindingsData, CreateBinding, DeleteBinding,
};
use crate::model::{Action, Resource as Res, TenantScope};
use crate::ui::components::{
    error_text, field_error, query_param, Banners, Card, EmptyState, ErrorPanel, Loading,
    PageHeader, INPUT_CLASS, PRIMARY_BUTTON,
};
use crate::ui::tenant_page::{tenant_param, TenantPage};
use crate::ui::widgets::{
    Badge, ConfirmAction, Table, Time, Tone, DANGER_BUTTON, LINK_CLASS, TD, TD_ACTIONS,
};

/// Actions and resources are made before anything is awaited, so the server and the hydrating
/// browser create them in the same order.
#[component]
pub fn BindingsPage() -> impl IntoView {
    let tenant = tenant_param();
    let create = ServerAction::<CreateBinding>::new();
    let delete = ServerAction::<DeleteBinding>::new();
    let data = Resource::new(
        move || (tenant.get(), create.version().get(), delete.version().get()),
        |(t, _, _)| list_bindings(t),
    );
    view! {
        <TenantPage title="Bindings" page=move |scope: TenantScope| view! { <BindingsBody scope data create delete/> }/>
    }
}

#[component]
fn BindingsBody(
    scope: TenantScope,
    data: Resource<Result<BindingsData, ServerFnError>>,
    create: ServerAction<CreateBinding>,
    delete: ServerAction<DeleteBinding>,
) -> impl IntoView {
    view! {
        <PageHeader title="Bindings" subtitle="A binding gives a role to a user, a group or a service account in this tenant. To change one, remove it and bind again."/>
        <Banners hide_field_errors=true/>
        <ActionErrors errors=Signal::derive(move || last_error(create).or_else(|| last_error(delete)))/>
        <Transition fallback=Loading>
            {move || {
                let scope = scope.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(d) => {
                            let can_delete = scope.can(Res::Bindings, Action::Delete);
                            view! {
                                {d.choices.map(|c| view! { <CreateBindingForm scope=scope.clone() choices=c create/> })}
                                <Card class="mt-6 overflow-hidden">
                                    {if d.bindings.is_empty() {
                                        view! {
                                            <EmptyState title="No bindings yet"
                                                body="Nobody has a role in this tenant yet. Bind a role above: to a group synced from your IdP, to a user, or to a service account."/>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <BindingTable scope=scope.clone() list=d.bindings delete=can_delete.then_some(delete) back=String::new()/>
                                        }.into_any()
                                    }}
                                </Card>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorPanel message=error_text(&e)/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// A table of bindings (this page, and a service account's page). `delete` is present when the
/// user may remove bindings; `back` is where the remove form returns to (empty: Bindings).
#[component]
pub fn BindingTable(
    scope: TenantScope,
    list: Vec<BindingView>,
    delete: Option<ServerAction<DeleteBinding>>,
    #[prop(into)] back: String,
) -> impl IntoView {
    view! {
        <Table headers=vec!["Subject", "Role", "Created", ""] caption="Bindings">
            {list.into_iter().map(|b| {
                let subject_href = scope.iam_path(&b.subject_path());
                let role_href = scope.iam_path(&format!("roles/{}", b.role_id));
                let tone = match b.subject_type.as_str() {
                    "user" => Tone::Neutral,
                    "group" => Tone::Brand,
                    _ => Tone::Warn,
                };
                let testid = format!("binding-row-{}-{}", b.subject_name, b.role_name);
                let (tenant, binding_id, back) = (scope.tenant.id.clone(), b.id.clone(), back.clone());
                let remove = delete.map(|action| {
                    let message = format!(
                        "Remove the role {} from {}? They lose the permissions it grants (unless another binding gives them).",
                        b.role_name, b.subject_name
                    );
                    view! {
                        <ConfirmAction label="Remove" aria_label=format!("Remove role {} from {}", b.role_name, b.subject_name) message>
                            <ActionForm action>
                                <input type="hidden" name="tenant" value=tenant/>
                                <input type="hidden" name="binding" value=binding_id/>
                                <input type="hidden" name="back" value=back/>
                                <button type="submit" class=DANGER_BUTTON>"Remove binding"</button>
                            </ActionForm>
                        </ConfirmAction>
                    }
                });
                view! {
                    <tr data-testid=testid>
                        <td class=TD>
                            <div class="flex items-center gap-2">
                                <Badge text=b.subject_label() tone/>
                                <a href=subject_href class=LINK_CLASS>{b.subject_name.clone()}</a>
                            </div>
                        </td>
                        <td class=TD><a href=role_href class=LINK_CLASS>{b.role_name.clone()}</a></td>
                        <td class=TD><Time at=b.created_at.clone()/></td>
                        <td class=TD_ACTIONS>{remove}</td>
                    </tr>
                }
            }).collect_view()}
        </Table>
    }
}

#[component]
fn CreateBindingForm(
    scope: TenantScope,
    choices: BindingChoices,
    create: ServerAction<CreateBinding>,
) -> impl IntoView {
    let kept_role = query_param("role_id").get_untracked().unwrap_or_default();
    let kept_subject = query_param("subject").get_untracked().unwrap_or_default();
    let kept_login = query_param("user_login");
    let role_error = field_error("role_id");
    let subject_error = field_error("subject");
    let login_error = field_error("user_login");
    let option = |value: String, label: String, kept: &str| {
        let selected = value == kept;
        view! { <option value=value selected=selected>{label}</option> }
    };
    let BindingChoices {
        roles,
        groups,
        service_accounts,
        users,
        more_users,
    } = choices;
    let login_hint = if more_users {
        "This tenant has more users than the list shows: type the username or email of anyone with access."
    } else {
        "Instead of the list: the username or email of a user with access to this tenant."
    };
    view! {
        <Card class="p-6">
            <h2 class="text-base font-semibold text-slate-900">"Bind a role"</h2>
            <ActionForm action=create attr:class="mt-4 grid gap-4 md:grid-cols-[1fr_1fr_1fr_auto] md:items-start">
                <input type="hidden" name="tenant" value=scope.tenant.id.clone()/>
                <div class="space-y-1">
                    <label for="field-role_id" class="block text-sm font-medium text-slate-700">"Role"</label>
                    <select id="field-role_id" name="role_id" required class=INPUT_CLASS
                        aria-invalid=move || role_error.get().is_some().to_string()>
                        <option value="">"Choose a role…"</option>
                        {roles.into_iter().map(|(id, name)| option(id, name, &kept_role)).collect_view()}
                    </select>
                    {move || role_error.get().map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
                </div>
                <div class="space-y-1">
                    <label for="field-subject" class="block text-sm font-medium text-slate-700">"Give it to"</label>
                    <select id="field-subject" name="subject" class=INPUT_CLASS
                        aria-invalid=move || subject_error.get().is_some().to_string()>
                        <option value="">"Choose who…"</option>
                        <optgroup label="Groups">
                            {groups.into_iter().map(|(id, name)| option(format!("group:{id}"), name, &kept_subject)).collect_view()}
                        </optgroup>
                        <optgroup label="Service accounts">
                            {service_accounts.into_iter().map(|(id, name)| option(format!("service_account:{id}"), name, &kept_subject)).collect_view()}
                        </optgroup>
                        <optgroup label="Users">
                            {users.into_iter().map(|(id, name)| option(format!("user:{id}"), name, &kept_subject)).collect_view()}
                        </optgroup>
                    </select>
                    {move || subject_error.get().map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
                </div>
                <div class="space-y-1">
                    <label for="field-user_login" class="block text-sm font-medium text-slate-700">"…or a user by username or email"</label>
                    <input id="field-user_login" name="user_login" type="text" class=INPUT_CLASS autocomplete="off"
                        value=move || kept_login.get().unwrap_or_default()
                        aria-invalid=move || login_error.get().is_some().to_string()
                        aria-describedby="field-user_login-hint"/>
                    <p id="field-user_login-hint" class="text-xs text-slate-500">{login_hint}</p>
                    {move || login_error.get().map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
                </div>
                <button type="submit" class=format!("{PRIMARY_BUTTON} md:mt-6") disabled=move || create.pending().get()>"Bind role"</button>
            </ActionForm>
        </Card>
    }
}

/// The error of a form action that did not end in a redirect (403, 404, 500), shown after a
/// post made by the hydrated page; without JavaScript the browser shows the error response.
#[component]
pub fn ActionErrors(#[prop(into)] errors: Signal<Option<String>>) -> impl IntoView {
    move || {
        errors.get().map(|e| {
            view! {
                <div role="alert" class="mb-4 rounded-lg border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800">{e}</div>
            }
        })
    }
}

/// The last error of `action`, in words (for [`ActionErrors`]).
pub fn last_error<S>(action: ServerAction<S>) -> Option<String>
where
    S: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
    S::Error: Clone + Send + Sync + 'static + std::fmt::Display,
{
    action.value().get().and_then(|r| r.err()).map(|e| {
        let text = e.to_string();
        text.split_once(": ")
            .map(|(_, rest)| rest.to_string())
            .unwrap_or(text)
    })
}
