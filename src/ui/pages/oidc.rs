//! Instance → Sign-in providers: the OpenID Connect providers people sign in through
//! (superadmins only): list with the redirect URI to register, add, delete.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::oidc::{list_providers, AddProvider, DeleteProvider, ProviderSummary};
use crate::ui::components::{
    error_text, field_error, query_param, Banners, Card, EmptyState, ErrorPanel, Field, Loading,
    PageHeader, INPUT_CLASS, PRIMARY_BUTTON,
};
use crate::ui::widgets::{Badge, ConfirmAction, CopyField, Time, Tone, DANGER_BUTTON};

#[component]
pub fn OidcProvidersPage() -> impl IntoView {
    let add = ServerAction::<AddProvider>::new();
    let delete = ServerAction::<DeleteProvider>::new();
    let page = Resource::new(
        move || (add.version().get(), delete.version().get()),
        |_| list_providers(),
    );
    view! {
        <Title text="Sign-in providers · Roster"/>
        <PageHeader title="Sign-in providers"
            subtitle="OpenID Connect providers (authentik, Okta, Entra ID, Keycloak) people sign in through. Each shows a “Sign in with …” button on the sign-in page."/>
        <Banners hide_field_errors=true/>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! {
                        <div class="grid gap-6 xl:grid-cols-[minmax(0,1fr)_26rem]">
                            <div class="space-y-4" data-testid="provider-list">
                                {if p.providers.is_empty() {
                                    view! {
                                        <Card>
                                            <EmptyState title="No sign-in providers yet"
                                                body="Add your identity provider on the right: create an OAuth2/OpenID application there first, register the redirect URI shown after adding, and people it provisioned through SCIM can sign in with it."/>
                                        </Card>
                                    }.into_any()
                                } else {
                                    p.providers.into_iter().map(|provider| view! { <ProviderCard provider delete/> }).collect_view().into_any()
                                }}
                            </div>
                            <AddProviderForm add pattern=p.redirect_uri_pattern can_store_secrets=p.can_store_secrets/>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorPanel message=error_text(&e)/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProviderCard(provider: ProviderSummary, delete: ServerAction<DeleteProvider>) -> impl IntoView {
    let testid = format!("provider-{}", provider.name);
    let confirm = format!(
        "Delete {}? Its “Sign in with {}” button disappears and sign-ins through it stop. Users keep their accounts, groups and roles; they can still sign in with a password if they have one.",
        provider.name, provider.name
    );
    let facts = [
        ("Issuer", provider.issuer.clone()),
        ("Client ID", provider.client_id.clone()),
        ("Scopes", provider.scopes.clone()),
        (
            "Matches people by",
            claim_label(&provider.claim).to_string(),
        ),
    ];
    view! {
        <Card class="p-6">
            <div data-testid=testid class="space-y-4">
                <div class="flex flex-wrap items-start justify-between gap-3">
                    <div>
                        <h2 class="text-base font-semibold text-slate-900">{provider.name.clone()}</h2>
                        <p class="mt-0.5 text-xs text-slate-500">"Added " <Time at=provider.created_at.clone()/></p>
                    </div>
                    <div class="flex items-center gap-2">
                        {if provider.create_users {
                            view! { <Badge text="Creates unknown people" tone=Tone::Warn/> }.into_any()
                        } else {
                            view! { <Badge text="Existing users only" tone=Tone::Good/> }.into_any()
                        }}
                        <ConfirmAction label="Delete" aria_label=format!("Delete provider {}", provider.name) message=confirm>
                            <ActionForm action=delete>
                                <input type="hidden" name="id" value=provider.id.clone()/>
                                <button type="submit" class=DANGER_BUTTON>"Delete provider"</button>
                            </ActionForm>
                        </ConfirmAction>
                    </div>
                </div>
                <dl class="grid gap-x-6 gap-y-2 text-sm sm:grid-cols-[10rem_minmax(0,1fr)]">
                    {facts.into_iter().map(|(k, v)| view! {
                        <dt class="text-slate-500">{k}</dt>
                        <dd class="break-all font-mono text-slate-800">{v}</dd>
                    }).collect_view()}
                </dl>
                <CopyField label="Redirect URI" value=provider.redirect_uri.clone() testid=format!("redirect-uri-{}", provider.name)/>
            </div>
        </Card>
    }
}

fn claim_label(claim: &str) -> &'static str {
    match claim {
        "email" => "email (matched against users' email addresses)",
        "preferred_username" => "preferred_username (matched against usernames)",
        _ => "sub (matched against usernames and SCIM externalIds)",
    }
}

#[component]
fn AddProviderForm(
    add: ServerAction<AddProvider>,
    pattern: String,
    can_store_secrets: bool,
) -> impl IntoView {
    let claim = query_param("claim");
    let claim_error = field_error("claim");
    let secret_error = field_error("client_secret");
    let scopes = Signal::derive(move || {
        query_param("scopes")
            .get()
            .or_else(|| Some("openid email profile".into()))
    });
    let selected = move |value: &'static str| claim.get().as_deref().unwrap_or("email") == value;
    view! {
        <Card class="h-fit p-6">
            <h2 class="text-base font-semibold text-slate-900">"Add a provider"</h2>
            <p class="mt-1 text-sm text-slate-500">
                "At the provider, create an OAuth2/OpenID application (authentik: Applications → Providers → OAuth2/OpenID, confidential client) and copy its client ID and secret. Its redirect URI will be "
                <code class="break-all rounded bg-slate-100 px-1 text-xs">{pattern}</code>
                " — the exact one is shown after adding."
            </p>
            {(!can_store_secrets).then(|| view! {
                <p role="alert" class="mt-3 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
                    "ROSTER_SECRET_KEY is not set, so client secrets cannot be stored encrypted. Set it (32 random bytes, base64 — e.g. `openssl rand -base64 32`) and restart Roster to add providers."
                </p>
            })}
            <ActionForm action=add attr:class="mt-4 space-y-4">
                <Field label="Name" name="name" required=true value=query_param("name") hint="Shown on the button: “Sign in with <name>”."/>
                <Field label="Issuer URL" name="issuer" kind="url" required=true value=query_param("issuer")
                    hint="Where /.well-known/openid-configuration lives, e.g. https://auth.example.com/application/o/roster/"/>
                <Field label="Client ID" name="client_id" required=true value=query_param("client_id") autocomplete="off"/>
                <div class="space-y-1">
                    <label for="field-client_secret" class="block text-sm font-medium text-slate-700">"Client secret"</label>
                    <input id="field-client_secret" name="client_secret" type="password" required autocomplete="new-password" class=INPUT_CLASS
                        aria-describedby="field-client_secret-hint" aria-invalid=move || secret_error.get().is_some().to_string()/>
                    <p id="field-client_secret-hint" class="text-xs text-slate-500">"Stored encrypted; never shown again."</p>
                    {move || secret_error.get().map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
                </div>
                <Field label="Scopes" name="scopes" value=scopes hint="Space-separated; openid is always included."/>
                <div class="space-y-1">
                    <label for="field-claim" class="block text-sm font-medium text-slate-700">"Match people by"</label>
                    <select id="field-claim" name="claim" class=INPUT_CLASS aria-invalid=move || claim_error.get().is_some().to_string()>
                        <option value="email" selected=move || selected("email")>"email — users' email addresses"</option>
                        <option value="preferred_username" selected=move || selected("preferred_username")>"preferred_username — usernames"</option>
                        <option value="sub" selected=move || selected("sub")>"sub — usernames or SCIM externalIds"</option>
                    </select>
                    {move || claim_error.get().map(|e| view! { <p class="text-sm text-rose-600">{e}</p> })}
                </div>
                <div class="flex items-start gap-2">
                    <input id="field-create_users" name="create_users" type="checkbox" value="on" class="mt-1 h-4 w-4 rounded border-slate-300 text-indigo-600"/>
                    <label for="field-create_users" class="text-sm text-slate-700">
                        "Create unknown people on first sign-in"
                        <span class="block text-xs text-slate-500">"Off: only existing users (typically provisioned by SCIM) may sign in."</span>
                    </label>
                </div>
                <button type="submit" class=format!("{PRIMARY_BUTTON} w-full") disabled=move || add.pending().get()>"Add provider"</button>
            </ActionForm>
        </Card>
    }
}
