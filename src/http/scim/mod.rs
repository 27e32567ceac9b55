//! The SCIM 2.0 endpoint, `/api/v1/{tenant}/integrations/{integration_id}/scim/v2/…`: an axum
//! router of small handlers over `iam::scim`. The path is normalised before routing
//! ([`path`]); one request is one write transaction shared through [`request::Exchange`] (the
//! `lifecycle` middleware owns it, the `ScimCaller` extractor fills it, handlers borrow it);
//! the rate limit ([`limit`]) and the request log ([`log`]) apply to authenticated callers.

pub mod handlers;
pub mod limit;
pub mod log;
pub mod path;
pub mod reply;
pub mod request;
pub mod text_body;

use std::sync::Arc;

use axum::routing::{any, get, post, MethodRouter};
use axum::Router;
use tower::ServiceBuilder;

use handlers as h;
use handlers::{Groups, Resource, Users};
use limit::RateLimiter;
use log::Refused;
pub use request::MAX_PAYLOAD;

use crate::http::metrics::Metrics;
use crate::state::AppState;

/// The SCIM routes' state: the app's, the rate limiter and the count of refused requests.
#[derive(Clone)]
pub struct ScimState {
    pub app: AppState,
    pub limiter: Option<Arc<RateLimiter>>,
    pub refused: Arc<Refused>,
    /// The server's counts of answers (`/metrics`), which the endpoint's requests join.
    pub metrics: Arc<Metrics>,
}

/// Where every endpoint lives.
const ENDPOINT: &str = "/api/v1/{tenant}/integrations/{integration_id}/scim/v2";

/// Everything under `/api/v1/`, paths normalised before routing (a layer on the router itself
/// would run after routing).
pub fn service(
    app: AppState,
    metrics: Arc<Metrics>,
) -> tower::util::MapRequest<Router, fn(axum::extract::Request) -> axum::extract::Request> {
    let state = ScimState {
        limiter: app
            .settings
            .scim_rate
            .map(|r| Arc::new(RateLimiter::new(r))),
        refused: Arc::new(Refused::default()),
        app,
        metrics,
    };
    let router = endpoint()
        .fallback(h::no_endpoint)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request::lifecycle,
        ))
        .with_state(state);
    ServiceBuilder::new()
        .map_request(path::normalise as fn(_) -> _)
        .service(router)
}

/// One integration's endpoint. Each route is written out under [`ENDPOINT`] rather than
/// nested: a nested router rewrites every request's URI to strip the prefix.
fn endpoint() -> Router<ScimState> {
    let at = |path: &str| format!("{ENDPOINT}{path}");
    Router::new()
        .route(
            &at("/ServiceProviderConfig"),
            discovery(get(h::service_provider_config)),
        )
        .route(&at("/ResourceTypes"), discovery(get(h::resource_types)))
        .route(&at("/ResourceTypes/{id}"), discovery(get(h::resource_type)))
        .route(&at("/Schemas"), discovery(get(h::schemas)))
        .route(&at("/Schemas/{id}"), discovery(get(h::schema)))
        .route(&at("/Bulk"), any(h::bulk))
        .route(
            &at("/.search"),
            post(h::root_search).fallback(h::only("POST")),
        )
        .merge(resource::<Users>(&at("/Users")))
        .merge(resource::<Groups>(&at("/Groups")))
        .route(ENDPOINT, any(h::unknown_resource))
        .route(&at("/{*rest}"), any(h::unknown_resource))
}

fn discovery(route: MethodRouter<ScimState>) -> MethodRouter<ScimState> {
    route.fallback(h::only("GET"))
}

/// `/Users` or `/Groups`: the collection, `.search` and one resource.
fn resource<R: Resource>(at: &str) -> Router<ScimState> {
    let collection = get(h::list::<R>).post(h::create::<R>);
    let item = get(h::get::<R>)
        .put(h::replace::<R>)
        .patch(h::patch::<R>)
        .delete(h::delete::<R>);
    Router::new()
        .route(at, collection.fallback(h::only("GET, POST")))
        .route(
            &format!("{at}/.search"),
            post(h::search::<R>).fallback(h::only("POST")),
        )
        .route(
            &format!("{at}/{{id}}"),
            item.fallback(h::only("GET, PUT, PATCH, DELETE")),
        )
}
