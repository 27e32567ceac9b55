//! The application shell around every signed-in page: the top bar (brand, tenant switcher,
//! signed-in user) and the side navigation (Tenant → IAM, Instance → Tenants).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_location;

use crate::api::auth::{get_shell, Logout};
use crate::model::{ShellInfo, TenantSummary};
use crate::ui::components::{error_text, ErrorPanel, Loading};

/// The sections of Tenant → IAM, in the order the side navigation lists them.
pub const IAM_SECTIONS: [(&str, &str); 7] = [
    ("users", "Users"),
    ("groups", "Groups"),
    ("roles", "Roles"),
    ("bindings", "Bindings"),
    ("service-accounts", "Service Accounts"),
    ("scim", "SCIM Provisioning"),
    ("audit", "Audit log"),
];

/// The tenant id in a `/t/{tenant}/…` path.
pub fn tenant_in_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/t/")?;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then(|| id.to_string())
}

/// The tenant the shell points at: the one in the URL, else `main`, else the first visible.
fn current_tenant(shell: &ShellInfo, path: &str) -> Option<String> {
    tenant_in_path(path).or_else(|| {
        shell
            .tenants
            .iter()
            .find(|t| t.id == "main")
            .or(shell.tenants.first())
            .map(|t| t.id.clone())
    })
}

/// Bumped by pages that change what the shell shows (e.g. creating or renaming a tenant), so
/// the tenant switcher refetches without a page load.
#[derive(Clone, Copy)]
pub struct ShellRefresh(pub RwSignal<usize>);

impl ShellRefresh {
    pub fn bump(&self) {
        self.0.update(|n| *n += 1);
    }
}

#[component]
pub fn AppShell() -> impl IntoView {
    provide_context(ShellRefresh(RwSignal::new(0)));
    let shell = Resource::new(|| (), |_| get_shell());
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match shell.await {
                    Ok(Some(info)) => view! { <ShellFrame info/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! { <div class="p-8"><ErrorPanel message=error_text(&e)/></div> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ShellFrame(info: ShellInfo) -> impl IntoView {
    let location = use_location();
    let info = StoredValue::new(info);
    let tenant =
        Memo::new(move |_| info.with_value(|i| current_tenant(i, &location.pathname.get())));
    view! {
        <div class="min-h-screen bg-slate-50">
            <TopBar info tenant/>
            <div class="mx-auto flex max-w-[1400px]">
                <SideNav info tenant/>
                <main id="main" class="min-w-0 flex-1 px-6 py-8 lg:px-10">
                    <Outlet/>
                </main>
            </div>
        </div>
    }
}

#[component]
fn TopBar(info: StoredValue<ShellInfo>, tenant: Memo<Option<String>>) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    // The tenant list starts from the shell's data and is refetched when a page changes it.
    let refresh = expect_context::<ShellRefresh>().0;
    let tenants = RwSignal::new(info.with_value(|i| i.tenants.clone()));
    let refetched = Resource::new(
        move || refresh.get(),
        |n| async move {
            if n == 0 {
                None
            } else {
                get_shell().await.ok().flatten()
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Some(fresh)) = refetched.get() {
            tenants.set(fresh.tenants);
        }
    });
    // A menu's link navigates within the page, which keeps the menu open: close both menus on
    // every navigation, as a new page would (seen: the user menu left open over Your account).
    let location = use_location();
    let switcher = NodeRef::<leptos::html::Details>::new();
    let user_menu = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        location.pathname.track();
        location.search.track();
        for menu in [switcher, user_menu] {
            if let Some(menu) = menu.get_untracked() {
                let _ = menu.remove_attribute("open");
            }
        }
    });
    let user = info.with_value(|i| i.user.clone());
    let home = move || {
        tenant
            .get()
            .map(|t| format!("/t/{t}/iam/users"))
            .unwrap_or_else(|| "/".into())
    };
    let tenant_name = move || {
        let current = tenant.get();
        tenants.with(|list| {
            list.iter()
                .find(|t| Some(&t.id) == current.as_ref())
                .map(|t| t.name.clone())
                .unwrap_or_else(|| "No tenant".into())
        })
    };
    view! {
        <header class="sticky top-0 z-20 border-b border-slate-200 bg-white/95 backdrop-blur">
            <div class="mx-auto flex h-14 max-w-[1400px] items-center gap-4 px-4 lg:px-6">
                <a href=home class="flex items-center gap-2 font-semibold text-slate-900">
                    <span aria-hidden="true" class="flex h-7 w-7 items-center justify-center rounded-md bg-indigo-600 text-sm font-bold text-white">"R"</span>
                    <span>"Roster"</span>
                </a>
                <span aria-hidden="true" class="text-slate-300">"/"</span>
                <details class="relative" data-testid="tenant-switcher" node_ref=switcher>
                    <summary class="flex cursor-pointer list-none items-center gap-2 rounded-md px-2 py-1 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600" aria-label="Switch tenant">
                        <span class="text-xs uppercase tracking-wide text-slate-400">"Tenant"</span>
                        <span>{tenant_name}</span>
                        <span aria-hidden="true" class="text-slate-400">"▾"</span>
                    </summary>
                    <div class="absolute left-0 mt-2 w-64 rounded-lg border border-slate-200 bg-white p-1 shadow-lg">
                        <p class="px-3 py-2 text-xs font-medium uppercase tracking-wide text-slate-400">"Your tenants"</p>
                        <ul role="list">
                            <For each=move || tenants.get() key=|t| (t.id.clone(), t.name.clone()) children=move |t: TenantSummary| {
                                let id = t.id.clone();
                                let is_current = move || tenant.get().as_deref() == Some(id.as_str());
                                view! {
                                    <li>
                                        <a href=format!("/t/{}/iam/users", t.id)
                                            class="flex items-center justify-between rounded-md px-3 py-2 text-sm text-slate-700 hover:bg-slate-100"
                                            aria-current=move || is_current().then_some("true")>
                                            <span>{t.name.clone()}</span>
                                            <span class="font-mono text-xs text-slate-400">{t.id.clone()}</span>
                                        </a>
                                    </li>
                                }
                            }/>
                        </ul>
                    </div>
                </details>
                <div class="ml-auto">
                    <details class="relative" data-testid="user-menu" node_ref=user_menu>
                        <summary class="flex cursor-pointer list-none items-center gap-2 rounded-full py-1 pl-1 pr-3 text-sm text-slate-700 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600">
                            <span aria-hidden="true" class="flex h-7 w-7 items-center justify-center rounded-full bg-slate-200 text-xs font-semibold uppercase text-slate-700">
                                {user.label().chars().next().map(String::from).unwrap_or_default()}
                            </span>
                            <span data-testid="signed-in-user">{user.label().to_string()}</span>
                        </summary>
                        <div class="absolute right-0 mt-2 w-56 rounded-lg border border-slate-200 bg-white p-1 shadow-lg">
                            <div class="px-3 py-2">
                                <p class="text-sm font-medium text-slate-900">{user.username.clone()}</p>
                                {user.is_superadmin.then(|| view! {
                                    <span class="mt-1 inline-flex rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700">"Superadmin"</span>
                                })}
                            </div>
                            <a href="/account" class="block rounded-md px-3 py-2 text-sm text-slate-700 hover:bg-slate-100">"Your account"</a>
                            <ActionForm action=logout>
                                <button type="submit" class="w-full rounded-md px-3 py-2 text-left text-sm text-slate-700 hover:bg-slate-100">"Sign out"</button>
                            </ActionForm>
                        </div>
                    </details>
                </div>
            </div>
        </header>
    }
}

#[component]
fn SideNav(info: StoredValue<ShellInfo>, tenant: Memo<Option<String>>) -> impl IntoView {
    let is_superadmin = info.with_value(|i| i.user.is_superadmin);
    let link_class = "flex items-center rounded-md px-3 py-2 text-sm text-slate-600 hover:bg-slate-100 hover:text-slate-900 aria-[current=page]:bg-indigo-50 aria-[current=page]:font-medium aria-[current=page]:text-indigo-700";
    view! {
        <nav aria-label="Main" class="sticky top-14 hidden h-[calc(100vh-3.5rem)] w-60 shrink-0 overflow-y-auto border-r border-slate-200 bg-white px-3 py-6 md:block">
            {move || tenant.get().map(|t| view! {
                <p class="px-3 text-xs font-semibold uppercase tracking-wide text-slate-400">"Tenant"</p>
                <p class="mt-3 px-3 text-xs font-medium text-slate-500">"IAM"</p>
                <ul role="list" class="mt-1 space-y-0.5">
                    {IAM_SECTIONS.iter().map(|(slug, label)| view! {
                        <li><A href=format!("/t/{t}/iam/{slug}") attr:class=link_class>{*label}</A></li>
                    }).collect_view()}
                </ul>
            })}
            {is_superadmin.then(|| view! {
                <p class="mt-8 px-3 text-xs font-semibold uppercase tracking-wide text-slate-400">"Instance"</p>
                <ul role="list" class="mt-2 space-y-0.5">
                    <li><A href="/instance/tenants" attr:class=link_class>"Tenants"</A></li>
                    <li><A href="/instance/oidc" attr:class=link_class>"Sign-in providers"</A></li>
                    <li><A href="/instance/sign-ins" attr:class=link_class>"Sign-ins"</A></li>
                </ul>
            })}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_is_read_from_tenant_paths_only() {
        assert_eq!(tenant_in_path("/t/dev/iam/users").as_deref(), Some("dev"));
        assert_eq!(tenant_in_path("/instance/tenants"), None);
        assert_eq!(tenant_in_path("/t/"), None);
    }
}
