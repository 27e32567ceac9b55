//! Small building blocks every page uses, so pages look and behave alike: page headers,
//! banners, form fields with inline errors, cards and empty states.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The value of query parameter `key`, reactive.
pub fn query_param(key: &'static str) -> Signal<Option<String>> {
    let query = use_query_map();
    Signal::derive(move || query.read().get(key).filter(|v| !v.is_empty()))
}

#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(into, optional)] subtitle: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="mb-6 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
                {subtitle.map(|s| view! { <p class="mt-1 text-sm text-slate-500">{s}</p> })}
            </div>
            <div class="flex items-center gap-2">{children.map(|c| c())}</div>
        </div>
    }
}

/// Success and failure messages carried in the URL (`?notice=` / `?error=`) after a form post.
#[component]
pub fn Banners(
    /// Leave out `error` when the page shows it beside a field instead.
    #[prop(optional)]
    hide_field_errors: bool,
) -> impl IntoView {
    let notice = query_param("notice");
    let error = query_param("error");
    let field = query_param("field");
    view! {
        {move || notice.get().map(|n| view! {
            <div role="status" class="mb-4 flex items-center gap-2 rounded-lg border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-800">
                <span aria-hidden="true" class="font-bold">"✓"</span>
                <span>{n}</span>
            </div>
        })}
        {move || {
            let show = !(hide_field_errors && field.get().is_some());
            error.get().filter(|_| show).map(|e| view! {
                <div role="alert" class="mb-4 flex items-center gap-2 rounded-lg border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800">
                    <span aria-hidden="true" class="font-bold">"!"</span>
                    <span>{e}</span>
                </div>
            })
        }}
    }
}

/// The error for form field `name`, when the last post marked it.
pub fn field_error(name: &'static str) -> Signal<Option<String>> {
    let error = query_param("error");
    let field = query_param("field");
    Signal::derive(move || {
        (field.get().as_deref() == Some(name))
            .then(|| error.get())
            .flatten()
    })
}

pub const INPUT_CLASS: &str = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm placeholder:text-slate-400 focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30 aria-[invalid=true]:border-rose-400";
pub const PRIMARY_BUTTON: &str = "inline-flex items-center justify-center gap-2 rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-50";
pub const SECONDARY_BUTTON: &str = "inline-flex items-center justify-center gap-2 rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600";

/// A labelled input with its inline error and an optional hint.
#[component]
pub fn Field(
    #[prop(into)] label: String,
    name: &'static str,
    #[prop(into, default = "text".to_string())] kind: String,
    #[prop(into, optional)] value: Signal<Option<String>>,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    let error = field_error(name);
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        let has_hint = hint.is_some();
        move || {
            if error.get().is_some() {
                Some(error_id.clone())
            } else if has_hint {
                Some(hint_id.clone())
            } else {
                None
            }
        }
    };
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <input
                id=id
                name=name
                type=kind
                class=INPUT_CLASS
                required=required
                autofocus=autofocus
                autocomplete=autocomplete
                prop:value=move || value.get().unwrap_or_default()
                value=move || value.get().unwrap_or_default()
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
            />
            {hint.map(|h| view! { <p id=hint_id class="text-xs text-slate-500">{h}</p> })}
            {move || error.get().map(|e| view! {
                <p id=error_id.clone() class="text-sm text-rose-600">{e}</p>
            })}
        </div>
    }
}

#[component]
pub fn Card(children: Children, #[prop(into, optional)] class: String) -> impl IntoView {
    view! {
        <section class=format!("rounded-xl border border-slate-200 bg-white shadow-sm {class}")>
            {children()}
        </section>
    }
}

#[component]
pub fn EmptyState(#[prop(into)] title: String, #[prop(into)] body: String) -> impl IntoView {
    view! {
        <div class="flex flex-col items-center justify-center px-6 py-14 text-center">
            <div aria-hidden="true" class="mb-3 flex h-12 w-12 items-center justify-center rounded-full bg-indigo-50 text-xl text-indigo-600">"○"</div>
            <h2 class="text-base font-semibold text-slate-900">{title}</h2>
            <p class="mt-1 max-w-md text-sm text-slate-500">{body}</p>
        </div>
    }
}

/// Shown while a page's data loads (only ever seen after client-side navigation).
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="px-6 py-10 text-sm text-slate-500" role="status">"Loading…"</p> }
}

/// An error from a server function, in words a person can act on.
#[component]
pub fn ErrorPanel(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <div role="alert" class="rounded-lg border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800">{message}</div>
    }
}

/// Removes the "error running server function: " prefix Leptos adds.
pub fn error_text(e: &ServerFnError) -> String {
    let text = e.to_string();
    text.split_once(": ")
        .map(|(_, rest)| rest.to_string())
        .unwrap_or(text)
}
