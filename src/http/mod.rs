//! The HTTP face of Roster: one axum router serving the admin UI (Leptos SSR + server
//! functions), static assets, OpenID Connect sign-in, the health check, metrics and the CSV exports. Tests build it with [`router`] and call it
//! in process.

pub mod export;
pub mod guard;
pub mod hardening;
pub mod health;
pub mod metrics;
pub mod oidc;
pub mod scim;
pub mod serve;

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::limit::RequestBodyLimitLayer;

use self::metrics::Metrics;
use crate::app::{shell, App};
use crate::state::AppState;

/// Form posts and server-function calls are small; anything larger is refused early.
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let counts = Metrics::new(
        state.settings.metrics_token.as_ref(),
        state.clock.now_millis(),
    );
    let mut router = Router::new();
    if counts.is_served() {
        let counts = counts.clone();
        router = router.route(
            "/metrics",
            get(move |headers: HeaderMap| async move { metrics::scrape(&counts, &headers) }),
        );
    }
    router
        .route("/healthz", get(health::healthz))
        .route("/t/{tenant}/iam/users.csv", get(export::users::users_csv))
        .route("/t/{tenant}/iam/audit.csv", get(export::audit::audit_csv))
        .route("/auth/oidc/{id}/start", get(oidc::start))
        .route("/auth/oidc/{id}/callback", get(oidc::callback))
        .leptos_routes_with_context(&state, routes, || {}, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::page_guard,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hardening::same_origin_only,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hardening::security_headers,
        ))
        // Outermost: an answer is timed with every layer's work in it.
        .layer(axum::middleware::from_fn_with_state(
            counts.clone(),
            metrics::count,
        ))
        // Added after the layers above, so none of them runs on it: the SCIM endpoint takes
        // bearer tokens, not cookies (nothing to forge), enforces its own advertised body limit
        // with a SCIM error, normalises the path itself before routing, and sets the security
        // headers on its answers itself (`scim::request::lifecycle`). Two fewer layers per
        // SCIM request.
        .route_service("/api/v1/{*rest}", scim::service(state.clone(), counts))
        .with_state(state)
}
