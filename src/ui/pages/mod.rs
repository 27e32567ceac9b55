//! One module per page.

pub mod account;
pub mod audit;
pub mod bindings;
pub mod groups;
pub mod home;
pub mod login;
pub mod not_found;
pub mod oidc;
pub mod roles;
pub mod scim;
pub mod service_accounts;
pub mod setup;
pub mod sign_ins;
pub mod tenants;
pub mod users;

use leptos::prelude::*;

/// The centred card the sign-in and setup pages share.
#[component]
pub fn AuthFrame(
    #[prop(into)] title: String,
    #[prop(into)] subtitle: String,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="flex min-h-screen items-center justify-center bg-gradient-to-br from-slate-50 via-white to-indigo-50 px-4 py-12">
            <div class="w-full max-w-md">
                <div class="mb-8 flex items-center justify-center gap-2">
                    <span aria-hidden="true" class="flex h-9 w-9 items-center justify-center rounded-lg bg-indigo-600 font-bold text-white">"R"</span>
                    <span class="text-xl font-semibold text-slate-900">"Roster"</span>
                </div>
                <div class="rounded-2xl border border-slate-200 bg-white p-8 shadow-sm">
                    <h1 class="text-xl font-semibold text-slate-900">{title}</h1>
                    <p class="mt-1 mb-6 text-sm text-slate-500">{subtitle}</p>
                    {children()}
                </div>
            </div>
        </div>
    }
}
