//! The HTML shell and the route table of the admin UI.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::ui::layout::AppShell;
use crate::ui::pages::{
    account::AccountPage,
    audit::AuditPage,
    bindings::BindingsPage,
    groups::{GroupPage, GroupsPage},
    home::HomePage,
    login::LoginPage,
    not_found::NotFound,
    oidc::OidcProvidersPage,
    roles::{RolePage, RolesPage},
    scim::{IntegrationPage, ScimPage},
    service_accounts::{ServiceAccountPage, ServiceAccountsPage},
    setup::SetupPage,
    sign_ins::InstanceSignInsPage,
    tenants::TenantsPage,
    users::{UserPage, UsersPage},
};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let css = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    #[cfg(feature = "ssr")]
    send_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" href=css/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="h-full bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// Sends the page's Content-Security-Policy (issue 10, L4): scripts only from Roster and the
/// page's own inline hydration script (by the nonce Leptos puts on it), WebAssembly allowed to
/// compile, styles only from Roster's stylesheet, nothing framed. The other security headers
/// are added to every answer by `http::hardening`.
#[cfg(feature = "ssr")]
fn send_content_security_policy() {
    use axum::http::{header::CONTENT_SECURITY_POLICY, HeaderValue};
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Every page waits for its data on the server, so pages are complete without JavaScript
    // and redirects/statuses can still be set.
    view! {
        <Title text="Roster"/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=AppShell ssr=SsrMode::Async>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/instance/tenants") view=TenantsPage ssr=SsrMode::Async/>
                    <Route path=path!("/instance/oidc") view=OidcProvidersPage ssr=SsrMode::Async/>
                    <Route path=path!("/instance/sign-ins") view=InstanceSignInsPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/users/:user") view=UserPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/groups") view=GroupsPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/groups/:group") view=GroupPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/roles") view=RolesPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/roles/:role") view=RolePage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/bindings") view=BindingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/service-accounts") view=ServiceAccountsPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/service-accounts/:account") view=ServiceAccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/scim") view=ScimPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/scim/:integration") view=IntegrationPage ssr=SsrMode::Async/>
                    <Route path=path!("/t/:tenant/iam/audit") view=AuditPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
