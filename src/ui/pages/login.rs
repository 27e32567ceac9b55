//! Sign in with a username (or email) and password.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::AuthFrame;
use crate::api::auth::{sso_options, Login};
use crate::ui::components::{query_param, Banners, INPUT_CLASS, PRIMARY_BUTTON};

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let username = query_param("username");
    let next = query_param("next");
    let providers = Resource::new(move || next.get(), sso_options);
    view! {
        <Title text="Sign in · Roster"/>
        <AuthFrame title="Sign in" subtitle="Use your Roster username or email and password.">
            <Banners/>
            <ActionForm action=login attr:class="space-y-4">
                <input type="hidden" name="next" value=move || next.get().unwrap_or_default()/>
                <div class="space-y-1">
                    <label for="login-username" class="block text-sm font-medium text-slate-700">"Username or email"</label>
                    <input id="login-username" name="username" type="text" required autocomplete="username" autofocus
                        class=INPUT_CLASS value=move || username.get().unwrap_or_default()/>
                </div>
                <div class="space-y-1">
                    <label for="login-password" class="block text-sm font-medium text-slate-700">"Password"</label>
                    <input id="login-password" name="password" type="password" required autocomplete="current-password" class=INPUT_CLASS/>
                </div>
                <button type="submit" class=format!("{PRIMARY_BUTTON} w-full") disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <Suspense>
                {move || providers.get().and_then(Result::ok).filter(|p| !p.is_empty()).map(|providers| view! {
                    <div class="mt-6 space-y-2" data-testid="sso-options">
                        <p class="text-center text-xs uppercase tracking-wide text-slate-400">"or"</p>
                        {providers.into_iter().map(|p| view! {
                            <a href=p.href rel="external"
                                class="flex w-full items-center justify-center rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50">
                                {format!("Sign in with {}", p.name)}
                            </a>
                        }).collect_view()}
                    </div>
                })}
            </Suspense>
        </AuthFrame>
    }
}
