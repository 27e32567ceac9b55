//! Tenant → IAM → SCIM Provisioning: integrations, their endpoint and token, and the request log.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::scim::{
    get_integration, list_integrations, reveal_token, CreateIntegration, DeleteIntegration,
    IntegrationDetail, IntegrationView, LogView, RevealedToken, RotateIntegrationToken,
    SetIntegrationEnabled, SCIM_2_0,
};
use crate::model::{Action, Resource as Res, TenantScope};
use crate::ui::components::{
    error_text, field_error, query_param, Banners, Card, EmptyState, ErrorPanel, Field, Loading,
    PageHeader, INPUT_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
};
use crate::ui::pages::audit::history_link;
use crate::ui::tenant_page::{route_param, tenant_param, TenantPage};
use crate::ui::widgets::{
    count, Badge, ConfirmAction, CopyField, Table, Time, Tone, DANGER_BUTTON, LINK_CLASS, TD,
};

// The pages' resources and actions are made here, outside the tenant frame's `Suspense`, so the
// server and the browser create them once and in the same order (resources made inside a
// `Suspend` are made again when it re-runs, and hydration then misses their data).

#[component]
pub fn ScimPage() -> impl IntoView {
    let tenant = tenant_param();
    let create = ServerAction::<CreateIntegration>::new();
    let list = Resource::new(
        move || (tenant.get(), create.version().get()),
        |(tenant, _)| list_integrations(tenant),
    );
    view! {
        <TenantPage title="SCIM Provisioning" page=move |scope| view! { <IntegrationList scope create list/> }/>
    }
}

#[component]
pub fn IntegrationPage() -> impl IntoView {
    let tenant = tenant_param();
    let id = route_param("integration");
    let failed = query_param("failed");
    let actions = Actions {
        enable: ServerAction::<SetIntegrationEnabled>::new(),
        rotate: ServerAction::<RotateIntegrationToken>::new(),
        delete: ServerAction::<DeleteIntegration>::new(),
    };
    let detail = Resource::new(
        move || {
            (
                tenant.get(),
                id.get(),
                failed.get().is_some(),
                actions.enable.version().get() + actions.rotate.version().get(),
            )
        },
        |(tenant, id, failed, _)| get_integration(tenant, id, failed),
    );
    let revealed = Resource::new(
        move || (tenant.get(), id.get(), actions.rotate.version().get()),
        |(tenant, id, _)| reveal_token(tenant, id),
    );
    view! {
        <TenantPage title="SCIM integration" page=move |scope| view! { <Integration scope detail revealed actions/> }/>
    }
}

/// What went wrong when a form sent with JavaScript was refused (403, 404, …); without
/// JavaScript the browser shows the server's answer itself.
#[component]
fn ActionError<A>(action: ServerAction<A>) -> impl IntoView
where
    A: leptos::server_fn::ServerFn<Output = ()> + Clone + Send + Sync + 'static,
    A::Error: Clone + Send + Sync + 'static,
    ServerFnError: From<A::Error>,
{
    move || {
        action.value().get().and_then(Result::err).map(|e| {
            let e = ServerFnError::from(e);
            view! { <div class="mb-4"><ErrorPanel message=error_text(&e)/></div> }
        })
    }
}

/// The tone of an HTTP status: 2xx good, 4xx and 5xx bad.
fn status_tone(status: i64) -> Tone {
    match status {
        200..=299 => Tone::Good,
        400.. => Tone::Bad,
        _ => Tone::Neutral,
    }
}

type ListResource = Resource<Result<Vec<IntegrationView>, ServerFnError>>;
type DetailResource = Resource<Result<IntegrationDetail, ServerFnError>>;
type RevealResource = Resource<Result<Option<RevealedToken>, ServerFnError>>;

#[component]
fn IntegrationList(
    scope: TenantScope,
    create: ServerAction<CreateIntegration>,
    list: ListResource,
) -> impl IntoView {
    let tenant = scope.tenant.id.clone();
    let can_create = scope.can(Res::Integrations, Action::Create);
    let creating = query_param("create");
    let list_path = scope.iam_path("scim");
    let create_href = format!("{list_path}?create=1");
    let subtitle = format!(
        "Identity providers such as authentik push users and groups into tenant {} through these endpoints.",
        scope.tenant.name
    );
    let form_tenant = tenant.clone();
    let form_cancel = list_path.clone();
    view! {
        <PageHeader title="SCIM Provisioning" subtitle=subtitle>
            {can_create.then(|| view! { <a href=create_href.clone() class=PRIMARY_BUTTON>"Create"</a> })}
        </PageHeader>
        <Banners hide_field_errors=true/>
        <ActionError action=create/>
        {move || (can_create && creating.get().is_some()).then(|| view! {
            <CreateForm create tenant=form_tenant.clone() cancel=form_cancel.clone()/>
        })}
        <Card class="overflow-hidden">
            <Transition fallback=Loading>
                {move || {
                    let scope = scope.clone();
                    Suspend::new(async move {
                        match list.await {
                            Ok(rows) if rows.is_empty() => view! {
                                <EmptyState title="No SCIM integrations yet"
                                    body="Create an integration, then paste its endpoint URL and Secret Token into your identity provider (in authentik: a SCIM provider's URL and Token)."/>
                            }.into_any(),
                            Ok(rows) => view! { <IntegrationTable rows scope/> }.into_any(),
                            Err(e) => view! { <div class="p-4"><ErrorPanel message=error_text(&e)/></div> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </Card>
    }
}

#[component]
fn CreateForm(
    create: ServerAction<CreateIntegration>,
    tenant: String,
    cancel: String,
) -> impl IntoView {
    let type_error = field_error("provisioning_type");
    view! {
        <Card class="mb-6 p-6">
            <h2 class="text-base font-semibold text-slate-900">"Create a SCIM integration"</h2>
            <p class="mt-1 text-sm text-slate-500">
                "Roster makes an endpoint URL and a Secret Token for your identity provider, and a service account bound to the SCIMProvisioner role that the token speaks for."
            </p>
            <ActionForm action=create attr:class="mt-4 grid gap-4 md:grid-cols-2" attr:aria-label="Create a SCIM integration">
                <input type="hidden" name="tenant" value=tenant/>
                <Field label="Name" name="name" required=true value=query_param("name") autofocus=true
                    hint="For example authentik; shown on the users and groups it provisions."/>
                <Field label="Description" name="description" value=query_param("description") hint="Optional."/>
                <div class="space-y-1">
                    <label for="field-provisioning_type" class="block text-sm font-medium text-slate-700">"Provisioning Type"</label>
                    <select id="field-provisioning_type" name="provisioning_type" class=INPUT_CLASS>
                        <option value=SCIM_2_0 selected=true>"SCIM 2.0"</option>
                    </select>
                    {move || type_error.get().map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
                </div>
                <div class="flex items-end gap-2">
                    <button type="submit" class=PRIMARY_BUTTON disabled=move || create.pending().get()>"Save"</button>
                    <a href=cancel class=SECONDARY_BUTTON>"Cancel"</a>
                </div>
            </ActionForm>
        </Card>
    }
}

#[component]
fn IntegrationTable(rows: Vec<IntegrationView>, scope: TenantScope) -> impl IntoView {
    view! {
        <Table caption="SCIM integrations"
            headers=vec!["Name", "Status", "Users", "Groups", "Last request", "Created"]>
            {rows.into_iter().map(|i| {
                let href = scope.iam_path(&format!("scim/{}", i.id));
                let testid = format!("integration-row-{}", i.name);
                let last = match (i.last_request_at.clone(), i.last_status) {
                    (Some(at), Some(status)) => view! {
                        <div class="flex items-center gap-2">
                            <Badge text=status.to_string() tone=status_tone(status)/>
                            <span class="text-slate-500"><Time at/></span>
                        </div>
                    }.into_any(),
                    _ => view! { <span class="text-slate-400">"Never"</span> }.into_any(),
                };
                view! {
                    <tr data-testid=testid>
                        <td class=TD>
                            <a href=href class=LINK_CLASS>{i.name.clone()}</a>
                            {(!i.description.is_empty()).then(|| view! {
                                <p class="mt-0.5 text-xs text-slate-500">{i.description.clone()}</p>
                            })}
                        </td>
                        <td class=TD>
                            {if i.enabled {
                                view! { <Badge text="Enabled" tone=Tone::Good/> }.into_any()
                            } else {
                                view! { <Badge text="Disabled" tone=Tone::Warn/> }.into_any()
                            }}
                        </td>
                        <td class=TD data-testid="integration-users">{count(i.users)}</td>
                        <td class=TD data-testid="integration-groups">{count(i.groups)}</td>
                        <td class=TD>{last}</td>
                        <td class=format!("{TD} text-slate-500")><Time at=i.created_at.clone()/></td>
                    </tr>
                }
            }).collect_view()}
        </Table>
    }
}

#[component]
fn Integration(
    scope: TenantScope,
    detail: DetailResource,
    revealed: RevealResource,
    actions: Actions,
) -> impl IntoView {
    view! {
        <Transition fallback=Loading>
            {move || {
                let scope = scope.clone();
                Suspend::new(async move {
                    let revealed = revealed.await.ok().flatten();
                    match detail.await {
                        Ok(d) => view! { <IntegrationBody d revealed scope actions/> }.into_any(),
                        Err(e) => view! {
                            <nav aria-label="Breadcrumb" class="mb-2 text-sm">
                                <a href=scope.iam_path("scim") class=LINK_CLASS>"← SCIM Provisioning"</a>
                            </nav>
                            <PageHeader title="SCIM integration"/>
                            <ErrorPanel message=error_text(&e)/>
                        }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    enable: ServerAction<SetIntegrationEnabled>,
    rotate: ServerAction<RotateIntegrationToken>,
    delete: ServerAction<DeleteIntegration>,
}

#[component]
fn IntegrationBody(
    d: IntegrationDetail,
    revealed: Option<RevealedToken>,
    scope: TenantScope,
    actions: Actions,
) -> impl IntoView {
    let i = d.integration.clone();
    let tenant = scope.tenant.id.clone();
    let can_update = scope.can(Res::Integrations, Action::Update);
    let can_delete = scope.can(Res::Integrations, Action::Delete);
    let subtitle = if i.description.is_empty() {
        format!("SCIM 2.0 integration of tenant {}", scope.tenant.name)
    } else {
        i.description.clone()
    };
    let toggle_fields = hidden_fields(&tenant, &i.id);
    let rotate_fields = hidden_fields(&tenant, &i.id);
    let delete_fields = hidden_fields(&tenant, &i.id);
    let toggle = can_update.then(|| {
        let (label, value) = if i.enabled {
            ("Disable", "false")
        } else {
            ("Enable", "true")
        };
        view! {
            <ActionForm action=actions.enable>
                {toggle_fields}
                <input type="hidden" name="enabled" value=value/>
                <button type="submit" class=SECONDARY_BUTTON>{label}</button>
            </ActionForm>
        }
    });
    let rotate = can_update.then(|| view! {
        <ConfirmAction label="Rotate token" aria_label=format!("Rotate the Secret Token of {}", i.name)
            message="Issue a new Secret Token? The current one stops working at once, so paste the new one into your identity provider right after.">
            <ActionForm action=actions.rotate on:submit=close_confirm_panel>
                {rotate_fields}
                <button type="submit" class=DANGER_BUTTON>"Rotate token"</button>
            </ActionForm>
        </ConfirmAction>
    });
    let delete = can_delete.then(|| view! {
        <ConfirmAction label="Delete" aria_label=format!("Delete integration {}", i.name)
            message="Delete this integration? The users and groups it provisioned remain in the tenant; its endpoint URL and Secret Token stop working at once.">
            <ActionForm action=actions.delete>
                {delete_fields}
                <button type="submit" class=DANGER_BUTTON>"Delete integration"</button>
            </ActionForm>
        </ConfirmAction>
    });
    let back = scope.iam_path("scim");
    let role_href = d
        .provisioner_role_id
        .clone()
        .map(|role| scope.iam_path(&format!("roles/{role}")));
    let account_href = scope.iam_path(&format!("service-accounts/{}", d.service_account_id));
    let log_path = scope.iam_path(&format!("scim/{}", i.id));
    let account_name = format!("scim-{}", i.id.to_lowercase());
    let history = history_link(&scope, &i.id);
    view! {
        <nav aria-label="Breadcrumb" class="mb-2 text-sm">
            <a href=back class=LINK_CLASS>"← SCIM Provisioning"</a>
        </nav>
        <PageHeader title=i.name.clone() subtitle=subtitle>
            {history}
            {toggle}
            {rotate}
            {delete}
        </PageHeader>
        <Banners/>
        <ActionError action=actions.enable/>
        <ActionError action=actions.rotate/>
        <ActionError action=actions.delete/>
        {revealed.map(|r| view! { <TokenPanel endpoint=d.endpoint.clone() revealed=r/> })}
        <div class="grid gap-6 lg:grid-cols-3">
            <Card class="p-6 lg:col-span-2">
                <h2 class="text-base font-semibold text-slate-900">"Connection"</h2>
                <div class="mt-4">
                    <CopyField label="Endpoint URL" value=d.endpoint.clone() testid="integration-endpoint"/>
                </div>
                <p class="mt-3 text-sm text-slate-500">
                    "The Secret Token is stored only as a hash and cannot be shown again. Lost it? Rotate the token and paste the new one into your identity provider."
                </p>
            </Card>
            <Card class="p-6">
                <h2 class="text-base font-semibold text-slate-900">"Details"</h2>
                <dl class="mt-4 grid grid-cols-[auto_minmax(0,1fr)] gap-x-6 gap-y-3 text-sm">
                    <dt class="text-slate-500">"Status"</dt>
                    <dd data-testid="integration-status">
                        {if i.enabled {
                            view! { <Badge text="Enabled" tone=Tone::Good/> }.into_any()
                        } else {
                            view! { <Badge text="Disabled" tone=Tone::Warn/> }.into_any()
                        }}
                    </dd>
                    <dt class="text-slate-500">"Users"</dt>
                    <dd data-testid="integration-users">{count(i.users)}</dd>
                    <dt class="text-slate-500">"Groups"</dt>
                    <dd data-testid="integration-groups">{count(i.groups)}</dd>
                    <dt class="text-slate-500">"Created"</dt>
                    <dd><Time at=i.created_at.clone()/></dd>
                    <dt class="text-slate-500">"Role"</dt>
                    <dd>
                        {role_href.map(|href| view! {
                            <a href=href class=LINK_CLASS>"SCIMProvisioner"</a>
                        })}
                    </dd>
                    <dt class="text-slate-500">"Service account"</dt>
                    <dd>
                        <a href=account_href class=format!("{LINK_CLASS} break-all")>{account_name}</a>
                    </dd>
                </dl>
            </Card>
        </div>
        <RequestLog log=d.log.clone() path=log_path/>
    }
}

/// Closes the confirmation panel holding a submitted form: with JavaScript the page is updated
/// in place, and a panel the person opened would otherwise stay open.
fn close_confirm_panel(ev: leptos::ev::SubmitEvent) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let details = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|form| form.closest("details").ok().flatten());
        if let Some(details) = details {
            let _ = details.remove_attribute("open");
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}

/// The fields naming the integration a form acts on.
fn hidden_fields(tenant: &str, id: &str) -> impl IntoView {
    let (tenant, id) = (tenant.to_string(), id.to_string());
    view! {
        <input type="hidden" name="tenant" value=tenant/>
        <input type="hidden" name="id" value=id/>
    }
}

/// The endpoint and the Secret Token right after creation or rotation: the only time the token
/// is shown.
#[component]
fn TokenPanel(endpoint: String, revealed: RevealedToken) -> impl IntoView {
    let title = if revealed.rotated {
        "New Secret Token issued"
    } else {
        "Integration created: connect your identity provider"
    };
    view! {
        <section data-testid="token-panel" aria-labelledby="token-panel-title"
            class="mb-6 rounded-xl border border-indigo-200 bg-indigo-50/60 p-6 shadow-sm">
            <h2 id="token-panel-title" class="text-base font-semibold text-slate-900">{title}</h2>
            <p role="alert" class="mt-2 flex items-center gap-2 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
                <span aria-hidden="true" class="font-bold">"!"</span>
                "Copy the Secret Token now: it is shown only this once. Roster keeps only a hash of it."
            </p>
            <div class="mt-4 grid gap-4">
                <CopyField label="Endpoint URL" value=endpoint testid="created-endpoint"/>
                <CopyField label="Secret Token" value=revealed.token secret=true testid="created-token"/>
            </div>
            <div class="mt-4 text-sm text-slate-700">
                <p class="font-medium">"Next step: paste both into your identity provider."</p>
                <ol class="mt-1 list-decimal space-y-1 pl-5">
                    <li>"In authentik: Applications → Providers → Create → SCIM Provider."</li>
                    <li>"Paste the Endpoint URL into URL and the Secret Token into Token, then save."</li>
                    <li>"Add the provider to an application (as a backchannel provider) and let it sync; its requests appear in the request log below."</li>
                </ol>
            </div>
        </section>
    }
}

#[component]
fn RequestLog(log: Vec<LogView>, path: String) -> impl IntoView {
    let failed = query_param("failed");
    let all_href = path.clone();
    let failed_href = format!("{path}?failed=1");
    let tab = "rounded-md px-3 py-1.5 text-sm font-medium";
    let on = "bg-indigo-50 text-indigo-700";
    let off = "text-slate-600 hover:bg-slate-100";
    let only_failures = failed.get_untracked().is_some();
    let empty_text = if only_failures {
        "No failed requests among the newest entries."
    } else {
        "No requests yet. Once your identity provider syncs, every request appears here."
    };
    view! {
        <Card class="mt-6 overflow-hidden">
            <div class="flex flex-wrap items-center justify-between gap-3 border-b border-slate-200 px-6 py-4">
                <div>
                    <h2 class="text-base font-semibold text-slate-900">"Request log"</h2>
                    <p class="text-sm text-slate-500">"Newest first. Open an entry to see why a request failed and what was sent (passwords redacted)."</p>
                </div>
                <nav aria-label="Filter the request log" class="flex gap-1">
                    <a href=all_href class=format!("{tab} {}", if only_failures { off } else { on })
                        aria-current=(!only_failures).then_some("page")>"All requests"</a>
                    <a href=failed_href class=format!("{tab} {}", if only_failures { on } else { off })
                        aria-current=only_failures.then_some("page")>"Failures only"</a>
                </nav>
            </div>
            {if log.is_empty() {
                view! { <p class="px-6 py-10 text-center text-sm text-slate-500">{empty_text}</p> }.into_any()
            } else {
                view! {
                    // Keyed, so an entry someone opened stays with that entry when the log
                    // reloads (instead of its open state moving to whatever row is there now).
                    <ul role="list" class="divide-y divide-slate-100" data-testid="request-log">
                        <For each=move || log.clone()
                            key=|e| (e.at.clone(), e.method.clone(), e.path.clone(), e.status, e.duration_ms)
                            let:e>
                            <LogItem e/>
                        </For>
                    </ul>
                }.into_any()
            }}
        </Card>
    }
}

#[component]
fn LogItem(e: LogView) -> impl IntoView {
    let failed = e.status >= 400;
    // The part after the endpoint URL ("/Users?filter=…") says what was asked; the full path is
    // in the tooltip.
    let short_path = e
        .path
        .split_once("/scim/v2")
        .map(|(_, rest)| if rest.is_empty() { "/" } else { rest })
        .unwrap_or(&e.path)
        .to_string();
    // To the second: a sync sends many requests a minute.
    let shown_at = match (e.at.get(..10), e.at.get(11..19)) {
        (Some(day), Some(hms)) => format!("{day} {hms} UTC"),
        _ => e.at.clone(),
    };
    view! {
        <li data-testid="log-entry">
            <details class="group">
                <summary class="flex cursor-pointer list-none items-center gap-4 px-6 py-3 text-sm hover:bg-slate-50">
                    <span aria-hidden="true" class="text-slate-400 transition group-open:rotate-90">"▸"</span>
                    <span class="w-44 shrink-0 text-slate-500"><time datetime=e.at.clone() class="whitespace-nowrap">{shown_at}</time></span>
                    <span class="w-16 shrink-0 font-mono text-xs font-semibold text-slate-700">{e.method.clone()}</span>
                    <span class="min-w-0 flex-1 truncate font-mono text-xs text-slate-700" title=e.path.clone()>{short_path}</span>
                    <Badge text=e.status.to_string() tone=status_tone(e.status)/>
                    <span class="w-16 shrink-0 text-right text-xs text-slate-400">{format!("{} ms", e.duration_ms)}</span>
                </summary>
                <div class="space-y-3 bg-slate-50 px-6 py-4 text-sm">
                    {if failed {
                        view! {
                            <div>
                                <p class="font-medium text-slate-700">"Error"</p>
                                <p class="mt-1 text-rose-700" data-testid="log-error">
                                    {e.error_detail.clone().unwrap_or_else(|| "No detail was recorded.".into())}
                                </p>
                            </div>
                            <div>
                                <p class="font-medium text-slate-700">"Request body (passwords redacted)"</p>
                                <pre class="mt-1 max-h-80 overflow-auto whitespace-pre-wrap break-all rounded-md border border-slate-200 bg-white p-3 font-mono text-xs text-slate-800">
                                    {e.request_body.clone().unwrap_or_else(|| "(no body)".into())}
                                </pre>
                            </div>
                        }.into_any()
                    } else {
                        view! {
                            <p class="text-slate-500">"Succeeded. Bodies of successful requests are not kept."</p>
                        }.into_any()
                    }}
                </div>
            </details>
        </li>
    }
}
