//! Server-side helpers for server functions: the request's user, cookies, redirects and the
//! mapping from domain errors to what the browser sees.
//!
//! Leptos contexts are only reliable before a server function's first `.await` (when it runs
//! inside a resource during server rendering), so each server function starts with [`ctx()`],
//! which captures everything it needs up front.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::auth::session::Browser;
use crate::auth::{client, login, session};
use crate::db::users::UserRow;
use crate::error::AppError;
use crate::state::AppState;

/// What a server function needs from its request, captured before any `.await`.
pub struct Ctx {
    pub state: AppState,
    pub token: Option<String>,
    /// The client's address (`auth::client`), for per-client limits.
    pub client: String,
    /// The request's headers (empty outside a request).
    headers: HeaderMap,
    response: Option<ResponseOptions>,
}

pub fn ctx() -> Ctx {
    let state = expect_context::<AppState>();
    let parts = use_context::<http::request::Parts>();
    let secure = state.settings.secure_cookies();
    let token = parts
        .as_ref()
        .and_then(|p| session::token_from_headers(&p.headers, secure));
    let client = match &parts {
        Some(p) => client::of_request(
            &p.headers,
            &p.extensions,
            state.settings.client_address_header.as_ref(),
        ),
        None => "unknown".into(),
    };
    Ctx {
        state,
        token,
        client,
        headers: parts.map(|p| p.headers).unwrap_or_default(),
        response: use_context::<ResponseOptions>(),
    }
}

impl Ctx {
    pub async fn current_user(&self) -> Result<Option<UserRow>, ServerFnError> {
        let Some(token) = &self.token else {
            return Ok(None);
        };
        login::user_for_token(&self.state.db, self.state.clock.as_ref(), token)
            .await
            .map_err(|e| self.fail(e))
    }

    /// The signed-in user, or a 401.
    pub async fn require_user(&self) -> Result<UserRow, ServerFnError> {
        self.current_user()
            .await?
            .ok_or_else(|| self.fail(AppError::Unauthenticated))
    }

    /// The browser this request comes from, as a sign-in records it.
    pub fn browser(&self) -> Browser<'_> {
        Browser {
            previous_token: self.token.as_deref(),
            address: &self.client,
            user_agent: session::user_agent(&self.headers),
        }
    }

    /// The value of the request's cookie `name`, if it carries a non-empty one.
    pub fn cookie(&self, name: &str) -> Option<String> {
        crate::auth::cookies::value(&self.headers, name)
    }

    /// Whether the request is a plain form post (a browser without JavaScript asks for HTML);
    /// server functions called from code ask for JSON.
    pub fn wants_html(&self) -> bool {
        self.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    }

    /// Marks the answer as not to be kept by any cache (it holds a secret).
    pub fn no_store(&self) {
        if let Some(res) = &self.response {
            res.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }

    pub fn set_cookie(&self, value: &str) {
        if let (Some(res), Ok(v)) = (&self.response, HeaderValue::from_str(value)) {
            res.append_header(header::SET_COOKIE, v);
        }
    }

    /// Adds `Retry-After` when `e` says "not now".
    pub fn retry_after(&self, e: &AppError) {
        if let (Some(res), Some(secs)) = (&self.response, e.retry_after_secs()) {
            res.insert_header(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }

    pub fn set_status(&self, status: StatusCode) {
        if let Some(res) = &self.response {
            res.set_status(status);
        }
    }

    /// Turns a domain error into a server-function error with the matching HTTP status;
    /// internal details are logged, not sent.
    pub fn fail(&self, e: AppError) -> ServerFnError {
        self.set_status(
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
        if let AppError::Internal(detail) = &e {
            tracing::error!(%detail, "request failed");
        }
        ServerFnError::new(e.to_string())
    }
}

/// Sets the response status of the page being rendered, if there is one.
pub fn set_status(status: StatusCode) {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.set_status(status);
    }
}

/// What a form post ends in: a success notice, or a domain error. [`Ctx::answer_form`] turns it
/// into a redirect back to the form's page, so forms behave the same with JavaScript off.
pub type FormOutcome = Result<String, AppError>;

impl Ctx {
    /// Redirects to `path` with a success banner (`Ok(notice)`), or with the error beside its
    /// field plus `keep` (the values to put back in the form) for input and conflict errors.
    /// Anything else (401, 403, 404, 500) is returned as an error with its HTTP status.
    pub fn answer_form(
        &self,
        path: &str,
        outcome: FormOutcome,
        keep: &[(&str, &str)],
    ) -> Result<(), ServerFnError> {
        let mut params: Vec<(&str, &str)> = Vec::new();
        let message;
        match &outcome {
            Ok(notice) => params.push(("notice", notice)),
            Err(AppError::Invalid { field, message: m }) => {
                params.push(("error", m));
                params.push(("field", field));
                params.extend_from_slice(keep);
            }
            Err(AppError::Conflict(m)) => {
                message = m.clone();
                params.push(("error", &message));
                params.extend_from_slice(keep);
            }
            Err(_) => {}
        }
        match outcome {
            Ok(_) | Err(AppError::Invalid { .. }) | Err(AppError::Conflict(_)) => {
                leptos_axum::redirect(&crate::url::url_with_query(path, &params));
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }
}
