//! Sends page requests to the right door before rendering: to first-run setup while no
//! superadmin exists, to sign-in without a session, away from sign-in with one. Data access is
//! checked again by every server function; this only spares people pages they cannot use.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::{login, session};
use crate::iam::instance;
use crate::state::AppState;

fn is_page(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path.starts_with("/auth/")
        || path.starts_with("/pkg/")
        || path == "/healthz"
        || path == "/metrics"
        || path.contains('.'))
}

pub async fn page_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if req.method() != Method::GET || !is_page(&path) {
        return next.run(req).await;
    }
    let needs_setup = match instance::needs_setup(&state.db).await {
        Ok(v) => v,
        Err(_) => return unavailable(),
    };
    if needs_setup {
        return if path == "/setup" {
            render(next, req).await
        } else {
            Redirect::to("/setup").into_response()
        };
    }
    if path == "/setup" {
        return Redirect::to("/login").into_response();
    }
    let token = session::token_from_headers(req.headers(), state.settings.secure_cookies());
    let user = match token {
        Some(t) => match login::user_for_token(&state.db, state.clock.as_ref(), &t).await {
            Ok(u) => u,
            Err(_) => return unavailable(),
        },
        None => None,
    };
    match (user.is_some(), path.as_str()) {
        (true, "/login") => Redirect::to("/").into_response(),
        (false, "/login") => render(next, req).await,
        (false, _) => {
            let target = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            let next_param = crate::url::encode_query_value(&target);
            Redirect::to(&format!("/login?next={next_param}")).into_response()
        }
        (true, _) => render(next, req).await,
    }
}

/// No page render may hold a request (and its browser tab) forever: past [`RENDER_LIMIT`] the
/// render is dropped and the answer is 503 with `Retry-After`.
pub const RENDER_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

async fn render(next: Next, req: Request) -> Response {
    let path = req.uri().path().to_string();
    match tokio::time::timeout(RENDER_LIMIT, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::error!(%path, "page render did not finish within {RENDER_LIMIT:?}; dropped");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "1")],
                Body::from("This page took too long to prepare. Reload it."),
            )
                .into_response()
        }
    }
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "5")],
        Body::from("Roster cannot reach its database right now. Try again in a moment."),
    )
        .into_response()
}
