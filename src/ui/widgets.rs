//! Controls several pages share: badges, tables, search and paging, copyable values and
//! confirmations for destructive actions. All work without JavaScript (links, GET forms and
//! `<details>`); with it, copy buttons use the clipboard.

use leptos::prelude::*;

use crate::ui::components::{INPUT_CLASS, SECONDARY_BUTTON};

pub const DANGER_BUTTON: &str = "inline-flex items-center justify-center gap-2 rounded-md bg-rose-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-rose-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-rose-600 disabled:opacity-50";
pub const LINK_CLASS: &str = "font-medium text-indigo-600 hover:text-indigo-500 hover:underline";

/// The colour of a badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Neutral,
    Brand,
    Good,
    Warn,
    Bad,
}

impl Tone {
    fn classes(self) -> &'static str {
        match self {
            Tone::Neutral => "bg-slate-100 text-slate-700 ring-slate-200",
            Tone::Brand => "bg-indigo-50 text-indigo-700 ring-indigo-200",
            Tone::Good => "bg-emerald-50 text-emerald-700 ring-emerald-200",
            Tone::Warn => "bg-amber-50 text-amber-800 ring-amber-200",
            Tone::Bad => "bg-rose-50 text-rose-700 ring-rose-200",
        }
    }
}

/// A small rounded label ("SCIM · authentik", "Suspended", "Managed").
#[component]
pub fn Badge(
    #[prop(into)] text: String,
    #[prop(default = Tone::Neutral)] tone: Tone,
) -> impl IntoView {
    view! {
        <span class=format!("inline-flex items-center whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {}", tone.classes())>
            {text}
        </span>
    }
}

/// The label and value of a fact in a card's `<dl>` (Username, Display name…).
pub const DT: &str = "text-xs font-medium uppercase tracking-wide text-slate-500";
pub const DD: &str = "mt-1 text-sm text-slate-900";

/// A person's email addresses, each with its type ("primary", "work") as a badge; "None" when
/// there is none.
#[component]
pub fn EmailList(emails: Vec<(String, String)>) -> impl IntoView {
    if emails.is_empty() {
        return view! { <span class="text-slate-400">"None"</span> }.into_any();
    }
    view! {
        <ul class="space-y-1">
            {emails.into_iter().map(|(address, kind)| view! {
                <li class="flex flex-wrap items-center gap-2">
                    <span class="break-all">{address}</span>
                    {(!kind.is_empty()).then(|| view! { <Badge text=kind/> })}
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// A table with a header row; the body rows are the children.
#[component]
pub fn Table(
    /// Column headings; an empty heading is read as "Actions" by screen readers and right-aligned.
    headers: Vec<&'static str>,
    /// What the table lists, for screen readers ("SCIM integrations").
    #[prop(into)]
    caption: String,
    children: Children,
) -> impl IntoView {
    view! {
        // `relative`: screen-reader-only text in a cell (absolute) is placed and clipped inside
        // the scroller; else it widened a narrow page to where the table's hidden part ends.
        <div class="relative overflow-x-auto">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <caption class="sr-only">{caption}</caption>
                <thead class="bg-slate-50">
                    <tr>
                        {headers.into_iter().map(|h| if h.is_empty() {
                            view! { <th scope="col" class="px-6 py-3 text-right font-medium text-slate-500"><span class="sr-only">"Actions"</span></th> }.into_any()
                        } else {
                            view! { <th scope="col" class="px-6 py-3 text-left font-medium text-slate-500">{h}</th> }.into_any()
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 bg-white">{children()}</tbody>
            </table>
        </div>
    }
}

/// Cell classes for table bodies, so every table lines up.
pub const TD: &str = "px-6 py-4 align-top text-slate-700";
pub const TD_ACTIONS: &str = "px-6 py-4 align-top text-right whitespace-nowrap";

/// A search box that submits with GET (`?q=`), so results have an address and work without JS.
/// (No hidden fields: optional ones broke hydration where this is used.)
#[component]
pub fn SearchBox(
    /// What is searched, e.g. "Search users".
    #[prop(into)]
    label: String,
    #[prop(into)] placeholder: String,
    value: Option<String>,
) -> impl IntoView {
    view! {
        // The form takes up to 28rem of its row and the field all of it but the button's room
        // (a fixed width beside INPUT_CLASS's `w-full` lost to it, and cut the placeholder).
        <form method="get" role="search" class="flex w-full max-w-md items-center gap-2">
            <label for="search-q" class="sr-only">{label}</label>
            <input id="search-q" name="q" type="search" class=format!("{INPUT_CLASS} min-w-0")
                placeholder=placeholder value=value/>
            <button type="submit" class=SECONDARY_BUTTON>"Search"</button>
        </form>
    }
}

/// "Showing 1–50 of 1,234" with Previous/Next links (absent at the ends).
#[component]
pub fn Pager(
    #[prop(into)] summary: String,
    prev: Option<String>,
    next: Option<String>,
) -> impl IntoView {
    let link = |href: Option<String>, text: &'static str, rel: &'static str| {
        match href {
        Some(h) => view! { <a href=h rel=rel class=SECONDARY_BUTTON>{text}</a> }.into_any(),
        None => view! { <span aria-disabled="true" class=format!("{SECONDARY_BUTTON} cursor-not-allowed opacity-40")>{text}</span> }.into_any(),
    }
    };
    view! {
        <nav aria-label="Pagination" class="flex items-center justify-between border-t border-slate-200 px-6 py-3 text-sm text-slate-500">
            <p data-testid="pager-summary">{summary}</p>
            <div class="flex gap-2">
                {link(prev, "Previous", "prev")}
                {link(next, "Next", "next")}
            </div>
        </nav>
    }
}

/// Thousands separators for counts ("100,000").
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// An RFC 3339 time as "2026-11-29 14:03 UTC" (the `datetime` attribute keeps the exact value).
/// A narrow column breaks it between the day and the time, never inside either (kept whole, it
/// ran past the edge of the integration page's Details card).
#[component]
pub fn Time(#[prop(into)] at: String) -> impl IntoView {
    let parts = at.get(..10).zip(at.get(11..16));
    let parts = parts.map(|(day, hm)| (day.to_string(), format!("{hm} UTC")));
    match parts {
        Some((day, hm)) => view! {
            <time datetime=at>
                <span class="whitespace-nowrap">{day}</span>" "
                <span class="whitespace-nowrap">{hm}</span>
            </time>
        }
        .into_any(),
        None => {
            let shown = at.clone();
            view! { <time datetime=at class="whitespace-nowrap">{shown}</time> }.into_any()
        }
    }
}

/// A value to paste elsewhere (endpoint URL, token) with a copy button. A `secret` value is
/// masked until revealed (a `<details>` toggle, so it works without JavaScript too).
#[component]
pub fn CopyField(
    #[prop(into)] label: String,
    #[prop(into)] value: String,
    #[prop(optional)] secret: bool,
    /// `data-testid` of the element holding the plain value.
    #[prop(into)]
    testid: String,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy_value = value.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&copy_value);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &copy_value;
    };
    let button_label = format!("Copy {}", label.to_lowercase());
    let shown = if secret {
        view! {
            <details class="group min-w-0 flex-1">
                <summary class="flex cursor-pointer list-none items-center justify-between gap-2 rounded-md border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-sm text-slate-500">
                    <span aria-hidden="true" class="group-open:hidden">"••••••••••••••••••••••••"</span>
                    <span class="hidden group-open:inline text-slate-400">"Shown below"</span>
                    <span class="text-xs font-sans font-medium text-indigo-600">
                        <span class="group-open:hidden">"Reveal"</span><span class="hidden group-open:inline">"Hide"</span>
                    </span>
                </summary>
                <code data-testid=testid.clone() class="mt-2 block break-all rounded-md border border-amber-200 bg-amber-50 px-3 py-2 font-mono text-xs text-slate-900">{value.clone()}</code>
            </details>
        }.into_any()
    } else {
        view! {
            <code data-testid=testid.clone() class="min-w-0 flex-1 break-all rounded-md border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-sm text-slate-900">{value.clone()}</code>
        }.into_any()
    };
    view! {
        <div class="space-y-1">
            <p class="text-sm font-medium text-slate-700">{label}</p>
            <div class="flex items-start gap-2">
                {shown}
                <button type="button" class=SECONDARY_BUTTON aria-label=button_label on:click=copy>
                    {move || if copied.get() { "Copied ✓" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}

/// A destructive action behind a confirmation: the button opens a panel that says what will
/// happen (and what stays) and holds the form that does it (the children).
#[component]
pub fn ConfirmAction(
    /// The button's text, e.g. "Delete".
    #[prop(into)]
    label: String,
    /// For screen readers, e.g. "Delete integration authentik".
    #[prop(into)]
    aria_label: String,
    /// What will happen, in plain words.
    #[prop(into)]
    message: String,
    children: Children,
) -> impl IntoView {
    view! {
        <details class="relative inline-block text-left">
            <summary class=format!("{SECONDARY_BUTTON} cursor-pointer list-none text-rose-700") aria-label=aria_label>{label}</summary>
            <div role="dialog" class="absolute right-0 z-10 mt-2 w-80 rounded-lg border border-slate-200 bg-white p-4 text-left shadow-lg">
                <p class="text-sm text-slate-700">{message}</p>
                <div class="mt-3 flex justify-end gap-2">{children()}</div>
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(100000), "100,000");
        assert_eq!(count(1234567), "1,234,567");
    }
}
