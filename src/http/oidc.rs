//! `GET /auth/oidc/{id}/start` and `GET /auth/oidc/{id}/callback`: the browser's side of OpenID
//! Connect sign-in. Thin: the flow lives in `auth::oidc::flow`. Every failure ends on the login
//! page with a sentence for the person and a log line for the operator.

use axum::extract::{Path, Query, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::oidc::flow::{self, CallbackParams, Failure, BINDING_COOKIE};
use crate::auth::{client, session};
use crate::state::AppState;
use crate::url::url_with_query;

#[derive(Debug, Default, serde::Deserialize)]
pub struct StartParams {
    pub next: Option<String>,
}

fn see_other(location: &str, cookies: &[String]) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn binding_cookie(value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    // Lax: the provider sends the browser back with a top-level GET, which Lax allows.
    format!("{BINDING_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

fn to_login(provider_id: &str, failure: Failure, secure: bool) -> Response {
    tracing::warn!(
        provider_id,
        detail = %failure.detail,
        "OpenID Connect sign-in failed: {}",
        failure.message
    );
    see_other(
        &url_with_query("/login", &[("error", &failure.message)]),
        &[binding_cookie("", 0, secure)],
    )
}

pub async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<StartParams>,
) -> Response {
    let secure = state.settings.secure_cookies();
    match flow::start(
        &state.db,
        state.clock.as_ref(),
        &state.settings,
        &state.oidc,
        &id,
        params.next.as_deref(),
    )
    .await
    {
        Ok(started) => see_other(
            &started.authorize_url,
            &[binding_cookie(
                &started.binding,
                crate::auth::oidc::PENDING_TTL_MILLIS / 1000,
                secure,
            )],
        ),
        Err(f) => to_login(&id, f, secure),
    }
}

pub async fn callback(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<CallbackParams>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let secure = state.settings.secure_cookies();
    let binding = crate::auth::cookies::value(&headers, BINDING_COOKIE);
    let previous = session::token_from_headers(&headers, secure);
    let proxy_header = state.settings.client_address_header.as_ref();
    let address = client::of_request(&headers, &extensions, proxy_header);
    let browser = session::Browser {
        previous_token: previous.as_deref(),
        address: &address,
        user_agent: session::user_agent(&headers),
    };
    match flow::callback(
        &state.db,
        state.clock.as_ref(),
        &state.settings,
        &state.oidc,
        &id,
        params,
        binding.as_deref(),
        &browser,
    )
    .await
    {
        Ok(signed_in) => see_other(
            &signed_in.next,
            &[
                session::set_cookie(&signed_in.token, secure),
                binding_cookie("", 0, secure),
            ],
        ),
        Err(f) => to_login(&id, f, secure),
    }
}
