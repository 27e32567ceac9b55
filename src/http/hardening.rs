//! The web surface's defences that do not depend on who is signed in (issue 10, M4 and L3/L4):
//! a state-changing request must come from Roster's own pages, and every answer carries the
//! headers that keep it out of frames, caches and content sniffing. The Content-Security-Policy
//! needs the page's nonce, so the HTML shell sends it (`app::send_content_security_policy`).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Why a request was refused, for the server log and the 403 body.
const CROSS_SITE: &str =
    "Refused: this request did not come from Roster's own pages (Origin / Sec-Fetch-Site).";

/// Refuses state-changing requests that a browser sent from another site (cross-site request
/// forgery, login CSRF). Server functions, form posts, the OpenID start: every method but
/// GET/HEAD/OPTIONS, plus the GET that starts an OpenID sign-in. The SCIM API (bearer tokens,
/// no cookies) is routed beside this layer (`http::router`). Browsers always send
/// `Sec-Fetch-Site` or `Origin` with such requests; a request with neither is not from a
/// browser, so not a forgery.
pub async fn same_origin_only(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let guarded = if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        path.starts_with("/auth/oidc/") && path.ends_with("/start")
    } else {
        true
    };
    if guarded && !from_own_pages(req.headers(), state.settings.public_base()) {
        tracing::warn!(
            method = %req.method(),
            path = %truncated(path),
            origin = ?req.headers().get(header::ORIGIN),
            "cross-site request refused"
        );
        return (StatusCode::FORBIDDEN, CROSS_SITE).into_response();
    }
    next.run(req).await
}

/// True unless the browser says the request came from another site: `Sec-Fetch-Site` is
/// `same-origin` or `none` (typed, bookmarked), or — where browsers send no fetch metadata
/// (plain http to a non-local host) — `Origin` is Roster's public origin or the `Host` asked for.
pub fn from_own_pages(headers: &HeaderMap, public_base: &str) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = text(header::ORIGIN) else {
        return true;
    };
    if origin == public_base {
        return true;
    }
    let host = text(header::HOST);
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

fn truncated(path: &str) -> &str {
    let mut end = path.len().min(200);
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    &path[..end]
}

/// Adds the security headers to every answer: no framing, no sniffing, no referrer to other
/// sites, HSTS under https, and `Cache-Control: no-store` on everything but static assets (pages
/// and server-function answers may carry secrets shown once, and personal data).
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let cacheable = is_static_asset(req.uri().path());
    let mut res = next.run(req).await;
    add_security_headers(
        res.headers_mut(),
        state.settings.secure_cookies(),
        cacheable,
    );
    res
}

/// The headers of [`security_headers`], for an answer that does not pass through it (the SCIM
/// API, routed beside the pages' layers): `cacheable` only for static assets, `secure` (HSTS)
/// when Roster is served over https.
pub fn add_security_headers(h: &mut HeaderMap, secure: bool, cacheable: bool) {
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    if !cacheable {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || (!path.starts_with("/api/") && path.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    const BASE: &str = "https://roster.example.com";

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(from_own_pages(
            &headers(&[("sec-fetch-site", "same-origin")]),
            BASE
        ));
        assert!(from_own_pages(
            &headers(&[("sec-fetch-site", "none")]),
            BASE
        ));
        assert!(!from_own_pages(
            &headers(&[("sec-fetch-site", "same-site")]),
            BASE
        ));
        assert!(!from_own_pages(
            &headers(&[("sec-fetch-site", "cross-site"), ("origin", BASE)]),
            BASE
        ));
    }

    #[test]
    fn otherwise_the_origin_must_be_roster() {
        assert!(from_own_pages(&headers(&[("origin", BASE)]), BASE));
        assert!(from_own_pages(
            &headers(&[
                ("origin", "http://10.0.0.5:3000"),
                ("host", "10.0.0.5:3000")
            ]),
            BASE
        ));
        assert!(!from_own_pages(
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "roster.example.com")
            ]),
            BASE
        ));
        assert!(!from_own_pages(&headers(&[("origin", "null")]), BASE));
        // Not a browser: nothing to forge.
        assert!(from_own_pages(&HeaderMap::new(), BASE));
    }

    #[test]
    fn only_static_assets_may_be_cached() {
        assert!(is_static_asset("/pkg/roster.wasm"));
        assert!(is_static_asset("/favicon.svg"));
        assert!(!is_static_asset("/t/main/scim"));
        assert!(!is_static_asset("/api/scim/reveal"));
    }
}
