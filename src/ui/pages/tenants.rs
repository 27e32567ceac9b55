//! Instance → Tenants: list, create and rename tenants, and set whether each may link users of
//! other tenants (superadmins only).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::tenants::{list_tenants, CreateTenant, RenameTenant, SetLinkForeignUsers};
use crate::model::{TenantId, TenantSummary};
use crate::ui::components::{
    error_text, field_error, query_param, Banners, Card, EmptyState, ErrorPanel, Field, Loading,
    PageHeader, INPUT_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
};
use crate::ui::layout::ShellRefresh;

#[component]
pub fn TenantsPage() -> impl IntoView {
    let create = ServerAction::<CreateTenant>::new();
    let rename = ServerAction::<RenameTenant>::new();
    let link = ServerAction::<SetLinkForeignUsers>::new();
    let tenants = Resource::new(
        move || {
            (
                create.version().get(),
                rename.version().get(),
                link.version().get(),
            )
        },
        |_| list_tenants(),
    );
    // The tenant switcher lists tenants too: refresh it after a change made in place.
    let refresh = expect_context::<ShellRefresh>();
    Effect::new(move |_| {
        if create.version().get() + rename.version().get() > 0 {
            refresh.bump();
        }
    });
    view! {
        <Title text="Tenants · Roster"/>
        <PageHeader title="Tenants" subtitle="Each tenant is an isolated space with its own users' access, groups, roles and SCIM integrations."/>
        <Banners hide_field_errors=true/>
        <CreateTenantForm create/>
        <Card class="mt-6 overflow-hidden">
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match tenants.await {
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No tenants" body="Create a tenant above to get started."/>
                        }.into_any(),
                        Ok(list) => view! { <TenantTable list rename link/> }.into_any(),
                        Err(e) => view! { <div class="p-4"><ErrorPanel message=error_text(&e)/></div> }.into_any(),
                    }
                })}
            </Transition>
        </Card>
    }
}

#[component]
fn CreateTenantForm(create: ServerAction<CreateTenant>) -> impl IntoView {
    let posted_id = query_param("id");
    let id_error = field_error("id");
    // What the person is typing, checked as they type (in the browser, once hydrated).
    let typed_id = RwSignal::new(None::<String>);
    let feedback = move || {
        typed_id
            .get()
            .filter(|v| !v.is_empty())
            .map(|v| match TenantId::parse(v) {
                Ok(id) => (true, format!("✓ Available as /t/{id}")),
                Err(e) => (false, e),
            })
    };
    view! {
        <Card class="p-6">
            <h2 class="text-base font-semibold text-slate-900">"Create a tenant"</h2>
            <ActionForm action=create attr:class="mt-4 grid gap-4 md:grid-cols-[1fr_1fr_auto] md:items-start">
                <div class="space-y-1">
                    <label for="field-id" class="block text-sm font-medium text-slate-700">"ID"</label>
                    <input id="field-id" name="id" type="text" required class=INPUT_CLASS placeholder="dev"
                        autocomplete="off" spellcheck="false"
                        value=move || posted_id.get().unwrap_or_default()
                        aria-invalid=move || id_error.get().is_some().to_string()
                        aria-describedby="field-id-hint"
                        on:input=move |ev| typed_id.set(Some(event_target_value(&ev)))/>
                    <p id="field-id-hint" data-testid="tenant-id-feedback" class="text-xs"
                        class:text-emerald-600=move || feedback().is_some_and(|(ok, _)| ok)
                        class:text-amber-600=move || feedback().is_some_and(|(ok, _)| !ok)
                        class:text-slate-500=move || feedback().is_none()>
                        {move || feedback().map(|(_, text)| text).unwrap_or_else(|| "Lowercase letters, digits and hyphens; used in URLs.".into())}
                    </p>
                    {move || id_error.get().map(|e| view! { <p class="text-sm text-rose-600" id="field-id-error">{e}</p> })}
                </div>
                <Field label="Name" name="name" required=true value=query_param("name") hint="Shown in the tenant switcher."/>
                <button type="submit" class=format!("{PRIMARY_BUTTON} md:mt-6") disabled=move || create.pending().get()>
                    "Create tenant"
                </button>
            </ActionForm>
        </Card>
    }
}

#[component]
fn TenantTable(
    list: Vec<TenantSummary>,
    rename: ServerAction<RenameTenant>,
    link: ServerAction<SetLinkForeignUsers>,
) -> impl IntoView {
    let renaming = query_param("rename");
    let rename_error = query_param("rename_error");
    view! {
        <table class="min-w-full divide-y divide-slate-200 text-sm">
            <thead class="bg-slate-50">
                <tr>
                    <th scope="col" class="px-6 py-3 text-left font-medium text-slate-500">"Name"</th>
                    <th scope="col" class="px-6 py-3 text-left font-medium text-slate-500">"ID"</th>
                    <th scope="col" class="px-6 py-3 text-left font-medium text-slate-500">"Created"</th>
                    <th scope="col" class="px-6 py-3 text-left font-medium text-slate-500">"Users of other tenants"</th>
                    <th scope="col" class="px-6 py-3 text-right font-medium text-slate-500"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-100">
                {list.into_iter().map(|t| {
                    let id = t.id.clone();
                    let row_testid = format!("tenant-row-{}", t.id);
                    let input_id = format!("rename-{}", t.id);
                    let input_label = format!("New name for {}", t.id);
                    let summary_label = format!("Rename {}", t.name);
                    let created_day = t.created_at.get(..10).unwrap_or_default().to_string();
                    let link_id = format!("link-{}", t.id);
                    let link_on = t.link_foreign_users;
                    let open = {
                        let id = id.clone();
                        move || renaming.get().as_deref() == Some(id.as_str())
                    };
                    let error_here = {
                        let open = open.clone();
                        move || rename_error.get().filter(|_| open())
                    };
                    view! {
                        <tr data-testid=row_testid>
                            <td class="px-6 py-4 font-medium text-slate-900">{t.name.clone()}</td>
                            <td class="px-6 py-4 font-mono text-slate-600">{t.id.clone()}</td>
                            <td class="px-6 py-4 text-slate-500"><time datetime=t.created_at.clone()>{created_day}</time></td>
                            <td class="px-6 py-4">
                                <ActionForm action=link attr:class="flex items-center gap-2">
                                    <input type="hidden" name="id" value=t.id.clone()/>
                                    <input id=link_id.clone() name="link" type="checkbox" value="on" checked=link_on/>
                                    <label for=link_id class="text-slate-600">"may link"</label>
                                    // "Apply", not "Save": each row's Rename form has the Save button.
                                    <button type="submit" class=SECONDARY_BUTTON aria-label=format!("Apply the linking setting of {}", t.id)>"Apply"</button>
                                </ActionForm>
                            </td>
                            <td class="px-6 py-4 text-right">
                                <details class="inline-block text-left" open=open>
                                    <summary class=format!("{SECONDARY_BUTTON} cursor-pointer list-none") aria-label=summary_label>"Rename"</summary>
                                    <ActionForm action=rename attr:class="mt-2 flex items-start gap-2">
                                        <input type="hidden" name="id" value=id.clone()/>
                                        <label class="sr-only" for=input_id.clone()>{input_label}</label>
                                        <div>
                                            <input id=input_id name="name" type="text" required class=INPUT_CLASS value=t.name.clone()/>
                                            {move || error_here().map(|e| view! { <p class="mt-1 text-sm text-rose-600">{e}</p> })}
                                        </div>
                                        <button type="submit" class=PRIMARY_BUTTON>"Save"</button>
                                    </ActionForm>
                                </details>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
