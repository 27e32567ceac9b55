//! Sign in with a username (or email) and password.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::AuthFrame;
use crate::api::auth::Login;
use crate::ui::components::{query_param, Banners, INPUT_CLASS, PRIMARY_BUTTON};

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let username = query_param("username");
    let next = query_param("next");
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
        </AuthFrame>
    }
}
