//! Reading cookies from a request and writing the short-lived, page-scoped ones that carry a
//! secret exactly once (a new token to the page that shows it). One parser for every cookie
//! Roster reads: the session, the OpenID sign-in binding and the one-time token cookies. It lives in
//! `auth` (not `http`) because sessions and sign-in read it, and `auth` sits below `http`.

use axum::http::{header::COOKIE, HeaderMap};

/// The value of cookie `name`, if the request carries a non-empty one.
pub fn value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// `Set-Cookie` for a one-time cookie: HttpOnly (no script reads it), SameSite=Strict, sent
/// only to `path`, gone after `max_age_secs` (0 removes it), Secure under https.
pub fn one_time(name: &str, value: &str, path: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_a_cookie_among_several_headers_and_ignores_empty_ones() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; roster_x="));
        h.append(COOKIE, HeaderValue::from_static("roster_x=tok; b=2"));
        assert_eq!(value(&h, "roster_x").as_deref(), Some("tok"));
        assert_eq!(value(&h, "b").as_deref(), Some("2"));
        assert_eq!(value(&h, "missing"), None);
    }

    #[test]
    fn one_time_cookies_are_httponly_strict_and_scoped() {
        let c = one_time("n", "v", "/t/main/x", 60, true);
        assert_eq!(
            c,
            "n=v; Path=/t/main/x; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
        assert!(!one_time("n", "", "/", 0, false).contains("Secure"));
    }
}
