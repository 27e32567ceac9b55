//! The page for addresses that lead nowhere (answered with 404).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::api::ctx::set_status(axum::http::StatusCode::NOT_FOUND);
    view! {
        <Title text="Not found · Roster"/>
        <div class="flex min-h-[60vh] flex-col items-center justify-center px-6 text-center">
            <p class="text-sm font-semibold text-indigo-600">"404"</p>
            <h1 class="mt-2 text-2xl font-semibold text-slate-900">"Page not found"</h1>
            <p class="mt-2 text-sm text-slate-500">"This address leads nowhere, or to something you cannot see."</p>
            <a href="/" class="mt-6 text-sm font-medium text-indigo-600 hover:text-indigo-500">"Back to Roster"</a>
        </div>
    }
}
