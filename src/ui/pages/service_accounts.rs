//! Tenant → IAM → Service Accounts: machine identities and their API tokens. A service account
//! gets permissions from the roles bound to it and authenticates with its tokens; a token's
//! full text is shown once, when made.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::bindings::{CreateBinding, DeleteBinding};
use crate::api::service_accounts::{
    get_service_account, list_service_accounts, AccountDetail, AccountSummary,
    CreateServiceAccount, CreateToken, DeleteServiceAccount, NewToken, RevokeToken,
};
use crate::model::{Action, Resource as Res, TenantScope};
use crate::ui::components::{
    error_text, field_error, query_param, Banners, Card, EmptyState, ErrorPanel, Field, Loading,
    PageHeader, INPUT_CLASS, PRIMARY_BUTTON, SECONDARY_BUTTON,
};
use crate::ui::pages::audit::history_link;
use crate::ui::pages::bindings::{last_error, ActionErrors, BindingTable};
use crate::ui::tenant_page::{route_param, tenant_param, TenantPage};
use crate::ui::widgets::{
    count, Badge, ConfirmAction, CopyField, Table, Time, Tone, DANGER_BUTTON, LINK_CLASS, TD,
    TD_ACTIONS,
};

// Each page makes its actions and resources before anything is awaited, so the server and the
// hydrating browser create them in the same order.

#[component]
pub fn ServiceAccountsPage() -> impl IntoView {
    let tenant = tenant_param();
    let create = ServerAction::<CreateServiceAccount>::new();
    let accounts = Resource::new(
        move || (tenant.get(), create.version().get()),
        |(t, _)| list_service_accounts(t),
    );
    view! {
        <TenantPage title="Service Accounts" page=move |scope: TenantScope| view! { <AccountsBody scope accounts create/> }/>
    }
}

fn scim_badge(integration: &Option<(String, String)>) -> Option<impl IntoView> {
    integration
        .as_ref()
        .map(|(_, name)| view! { <Badge text=format!("SCIM · {name}") tone=Tone::Brand/> })
}

#[component]
fn AccountsBody(
    scope: TenantScope,
    accounts: Resource<Result<Vec<AccountSummary>, ServerFnError>>,
    create: ServerAction<CreateServiceAccount>,
) -> impl IntoView {
    let can_create = scope.can(Res::ServiceAccounts, Action::Create);
    let tenant_id = scope.tenant.id.clone();
    view! {
        <PageHeader title="Service Accounts" subtitle="Identities for scripts, CI jobs and IdPs. They cannot sign in to this UI: they use API tokens, and get permissions from the roles bound to them."/>
        <Banners hide_field_errors=true/>
        <ActionErrors errors=Signal::derive(move || last_error(create))/>
        {can_create.then(|| view! {
            <Card class="mb-6 p-6">
                <h2 class="text-base font-semibold text-slate-900">"Create a service account"</h2>
                <ActionForm action=create attr:class="mt-4 grid gap-4 md:grid-cols-[1fr_2fr_auto] md:items-start">
                    <input type="hidden" name="tenant" value=tenant_id/>
                    <Field label="Name" name="name" required=true value=query_param("name")
                        hint="Lowercase letters, digits and hyphens, like ci-bot."/>
                    <Field label="Description" name="description" value=query_param("description")
                        hint="What uses it, so others know whether it can go."/>
                    <button type="submit" class=format!("{PRIMARY_BUTTON} md:mt-6") disabled=move || create.pending().get()>"Create service account"</button>
                </ActionForm>
            </Card>
        })}
        <Card class="overflow-hidden">
            <Transition fallback=Loading>
                {move || {
                    let scope = scope.clone();
                    Suspend::new(async move {
                        match accounts.await {
                            Ok(list) if list.is_empty() => view! {
                                <EmptyState title="No service accounts yet"
                                    body="Create one for a script or a CI job, bind a role to it under Bindings, then give it a token. SCIM integrations create their own."/>
                            }.into_any(),
                            Ok(list) => view! {
                                <Table headers=vec!["Name", "Description", "Roles", "Tokens", "Created"] caption="Service accounts of this tenant">
                                    {list.into_iter().map(|a| {
                                        let href = scope.iam_path(&format!("service-accounts/{}", a.id));
                                        let testid = format!("account-row-{}", a.name);
                                        let roles = if a.roles.is_empty() {
                                            view! { <span class="text-slate-400">"None"</span> }.into_any()
                                        } else {
                                            a.roles.iter().map(|(id, name)| view! {
                                                <a href=scope.iam_path(&format!("roles/{id}")) class=format!("{LINK_CLASS} mr-2")>{name.clone()}</a>
                                            }).collect_view().into_any()
                                        };
                                        view! {
                                            <tr data-testid=testid>
                                                <td class=TD>
                                                    <div class="flex flex-wrap items-center gap-2">
                                                        <a href=href class=format!("{LINK_CLASS} font-mono")>{a.name.clone()}</a>
                                                        {scim_badge(&a.integration)}
                                                    </div>
                                                </td>
                                                <td class=TD>{a.description.clone()}</td>
                                                <td class=TD>{roles}</td>
                                                <td class=TD>{count(a.tokens)}</td>
                                                <td class=TD><Time at=a.created_at.clone()/></td>
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
pub fn ServiceAccountPage() -> impl IntoView {
    let tenant = tenant_param();
    let account = route_param("account");
    let actions = Actions {
        create_token: ServerAction::new(),
        revoke: ServerAction::new(),
        delete: ServerAction::new(),
        bind: ServerAction::new(),
        unbind: ServerAction::new(),
    };
    let detail = Resource::new(
        move || {
            (
                tenant.get(),
                account.get(),
                actions.create_token.version().get()
                    + actions.revoke.version().get()
                    + actions.bind.version().get()
                    + actions.unbind.version().get(),
            )
        },
        |(t, a, _)| get_service_account(t, a),
    );
    view! {
        <TenantPage title="Service account" page=move |scope: TenantScope| view! { <AccountView scope detail actions/> }/>
    }
}

/// The server actions of the account page; the page reloads its data after each.
#[derive(Clone, Copy)]
struct Actions {
    create_token: ServerAction<CreateToken>,
    revoke: ServerAction<RevokeToken>,
    delete: ServerAction<DeleteServiceAccount>,
    bind: ServerAction<CreateBinding>,
    unbind: ServerAction<DeleteBinding>,
}

#[component]
fn AccountView(
    scope: TenantScope,
    detail: Resource<Result<AccountDetail, ServerFnError>>,
    actions: Actions,
) -> impl IntoView {
    view! {
        <Transition fallback=Loading>
            {move || {
                let scope = scope.clone();
                Suspend::new(async move {
                    match detail.await {
                        Ok(d) => view! { <AccountBody scope d actions/> }.into_any(),
                        Err(e) => view! {
                            <PageHeader title="Service account"/>
                            <ErrorPanel message=error_text(&e)/>
                        }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn AccountBody(scope: TenantScope, d: AccountDetail, actions: Actions) -> impl IntoView {
    let a = d.account.clone();
    let tenant = scope.tenant.id.clone();
    let here = scope.iam_path(&format!("service-accounts/{}", a.id));
    let can_update = scope.can(Res::ServiceAccounts, Action::Update);
    let delete_view = if a.integration.is_some() {
        None
    } else {
        let (tenant, id) = (tenant.clone(), a.id.clone());
        scope.can(Res::ServiceAccounts, Action::Delete).then(|| {
            let message = format!(
                "Delete {}? Its {} token{} stop working at once and its role bindings are removed.",
                a.name,
                a.tokens,
                if a.tokens == 1 { "" } else { "s" }
            );
            view! {
                <ConfirmAction label="Delete" aria_label=format!("Delete service account {}", a.name) message>
                    <ActionForm action=actions.delete>
                        <input type="hidden" name="tenant" value=tenant/>
                        <input type="hidden" name="account" value=id/>
                        <button type="submit" class=DANGER_BUTTON>"Delete service account"</button>
                    </ActionForm>
                </ConfirmAction>
            }
        })
    };
    let owner_note = a.integration.clone().map(|(id, name)| {
        let href = scope.iam_path(&format!("scim/{id}"));
        view! {
            <div role="note" class="mb-4 rounded-lg border border-indigo-200 bg-indigo-50 px-4 py-3 text-sm text-indigo-900">
                "This account belongs to the SCIM integration "
                <a href=href class=LINK_CLASS>{name}</a>
                ". Its Secret Token is managed there; deleting the integration removes this account."
            </div>
        }
    });
    let subtitle = if a.description.is_empty() {
        "Service account".to_string()
    } else {
        a.description.clone()
    };
    let back_href = scope.iam_path("service-accounts");
    let from_cookie = d.new_token.clone();
    // The token just made: the action's answer (JavaScript) or the one-time cookie (plain form).
    let new_token = move || -> Option<NewToken> {
        match actions.create_token.value().get() {
            Some(Ok(Some(t))) => Some(t),
            _ => from_cookie.clone(),
        }
    };
    let unbind = scope
        .can(Res::Bindings, Action::Delete)
        .then_some(actions.unbind);
    let bind_form = d.role_choices.clone().map(|roles| {
        let (tenant, subject, back) = (tenant.clone(), format!("service_account:{}", a.id), here.clone());
        view! {
            <ActionForm action=actions.bind attr:class="flex items-center gap-2">
                <input type="hidden" name="tenant" value=tenant/>
                <input type="hidden" name="subject" value=subject/>
                <input type="hidden" name="back" value=back/>
                <label for="field-role_id" class="whitespace-nowrap text-sm text-slate-700">"Give it a role"</label>
                <select id="field-role_id" name="role_id" required class=format!("{INPUT_CLASS} w-48")>
                    <option value="">"Choose a role…"</option>
                    {roles.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
                <button type="submit" class=format!("{SECONDARY_BUTTON} whitespace-nowrap")>"Bind role"</button>
            </ActionForm>
        }
    });
    let bindings_view = if d.bindings.is_empty() {
        view! { <EmptyState title="No roles" body="Without a role this account may do nothing: bind one, e.g. Viewer for read-only access."/> }.into_any()
    } else {
        view! { <BindingTable scope=scope.clone() list=d.bindings.clone() delete=unbind back=here.clone()/> }.into_any()
    };
    let token_form = can_update.then(|| {
        view! { <CreateTokenForm tenant=tenant.clone() account=a.id.clone() action=actions.create_token/> }
    });
    let tokens_view = if d.tokens.is_empty() {
        view! { <EmptyState title="No tokens" body="Create a token to let a script or job act as this account."/> }.into_any()
    } else {
        let revoke = can_update.then_some(actions.revoke);
        view! { <TokenTable d=d.clone() tenant=tenant.clone() revoke/> }.into_any()
    };
    let history = history_link(&scope, &a.id);
    view! {
        <PageHeader title=a.name.clone() subtitle>
            <a href=back_href class=SECONDARY_BUTTON>"All service accounts"</a>
            {history}
            {delete_view}
        </PageHeader>
        <Banners hide_field_errors=true/>
        <ActionErrors errors=Signal::derive(move || {
            last_error(actions.create_token)
                .or_else(|| last_error(actions.revoke))
                .or_else(|| last_error(actions.delete))
                .or_else(|| last_error(actions.bind))
                .or_else(|| last_error(actions.unbind))
        })/>
        <div class="mb-4 flex flex-wrap items-center gap-3 text-sm text-slate-600">
            {scim_badge(&a.integration)}
            <span>"Created " <Time at=a.created_at.clone()/></span>
        </div>
        {owner_note}
        {move || new_token().map(|t| view! { <NewTokenPanel t/> })}
        <Card class="mb-6 overflow-hidden">
            <div class="flex flex-wrap items-center justify-between gap-4 border-b border-slate-200 px-6 py-4">
                <h2 class="text-base font-semibold text-slate-900">"Roles"</h2>
                {bind_form}
            </div>
            {bindings_view}
        </Card>
        <Card class="overflow-hidden">
            <div class="border-b border-slate-200 px-6 py-4">
                <h2 class="text-base font-semibold text-slate-900">"API tokens"</h2>
                <p class="mt-1 text-sm text-slate-500">"Send a token as " <code>"Authorization: Bearer <token>"</code> ". Only a hash is stored: a lost token cannot be shown again, make a new one."</p>
            </div>
            {token_form}
            {tokens_view}
        </Card>
    }
}

#[component]
fn NewTokenPanel(t: NewToken) -> impl IntoView {
    view! {
        <div role="status" data-testid="new-token-panel" class="mb-6 rounded-xl border border-amber-300 bg-amber-50 p-6">
            <h2 class="text-base font-semibold text-amber-900">{format!("Token {} created", t.name)}</h2>
            <p class="mt-1 mb-4 text-sm text-amber-900">
                <strong>"Copy it now: it is shown only this once."</strong>
                " Roster keeps only a hash, so it cannot show this token again. Store it where the script or job reads its secrets."
            </p>
            <CopyField label="Token" value=t.token secret=true testid="new-token"/>
        </div>
    }
}

#[component]
fn CreateTokenForm(
    tenant: String,
    account: String,
    action: ServerAction<CreateToken>,
) -> impl IntoView {
    let days_error = field_error("expires_days");
    let kept_days = query_param("expires_days");
    view! {
        <ActionForm action attr:class="grid gap-4 border-b border-slate-200 px-6 py-4 md:grid-cols-[2fr_1fr_auto] md:items-start">
            <input type="hidden" name="tenant" value=tenant/>
            <input type="hidden" name="account" value=account/>
            <Field label="Token name" name="token_name" required=true value=query_param("token_name")
                hint="Where it is used, e.g. GitHub Actions."/>
            <div class="space-y-1">
                <label for="field-expires_days" class="block text-sm font-medium text-slate-700">"Expires in (days)"</label>
                <input id="field-expires_days" name="expires_days" type="number" min="1" max="3650" class=INPUT_CLASS
                    placeholder="Never" value=move || kept_days.get().unwrap_or_default()
                    aria-invalid=move || days_error.get().is_some().to_string()
                    aria-describedby="field-expires_days-hint"/>
                <p id="field-expires_days-hint" class="text-xs text-slate-500">"Leave empty for a token that never expires."</p>
                {move || days_error.get().map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
            </div>
            <button type="submit" class=format!("{PRIMARY_BUTTON} md:mt-6") disabled=move || action.pending().get()>"Create token"</button>
        </ActionForm>
    }
}

#[component]
fn TokenTable(
    d: AccountDetail,
    tenant: String,
    revoke: Option<ServerAction<RevokeToken>>,
) -> impl IntoView {
    let owned = d.account.integration.is_some();
    view! {
        <Table headers=vec!["Name", "Prefix", "Created", "Expires", "Last used", ""] caption="API tokens">
            {d.tokens.into_iter().map(|t| {
                let testid = format!("token-row-{}", t.name);
                let expires = match (&t.expires_at, t.expired) {
                    (_, true) => view! { <Badge text="Expired" tone=Tone::Bad/> }.into_any(),
                    (Some(at), false) => view! { <Time at=at.clone()/> }.into_any(),
                    (None, _) => view! { <span class="text-slate-500">"Never"</span> }.into_any(),
                };
                let last_used = match &t.last_used_at {
                    Some(at) => view! { <Time at=at.clone()/> }.into_any(),
                    None => view! { <span class="text-slate-400">"Never used"</span> }.into_any(),
                };
                let (tenant, account, token_id) = (tenant.clone(), d.account.id.clone(), t.id.clone());
                let remove = revoke.map(|action| {
                    let message = if owned {
                        format!("Revoke the token {}? It stops working at once — if the IdP uses it, provisioning stops until you rotate the integration's token.", t.name)
                    } else {
                        format!("Revoke the token {}? Anything that uses it is refused from now on.", t.name)
                    };
                    view! {
                        <ConfirmAction label="Revoke" aria_label=format!("Revoke token {}", t.name) message>
                            <ActionForm action>
                                <input type="hidden" name="tenant" value=tenant/>
                                <input type="hidden" name="account" value=account/>
                                <input type="hidden" name="token" value=token_id/>
                                <button type="submit" class=DANGER_BUTTON>"Revoke token"</button>
                            </ActionForm>
                        </ConfirmAction>
                    }
                });
                view! {
                    <tr data-testid=testid>
                        <td class=TD>{t.name.clone()}</td>
                        <td class=TD><code class="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs">{format!("{}…", t.prefix)}</code></td>
                        <td class=TD><Time at=t.created_at.clone()/></td>
                        <td class=TD>{expires}</td>
                        <td class=TD>{last_used}</td>
                        <td class=TD_ACTIONS>{remove}</td>
                    </tr>
                }
            }).collect_view()}
        </Table>
    }
}
