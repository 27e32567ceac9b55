//! Browser sessions: a random cookie value whose SHA-256 is the key of a `sessions` row.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::header::HeaderMap;
use sha2::{Digest, Sha256};

/// The session cookie over http (local use, tests).
pub const COOKIE_NAME: &str = "roster_session";
/// The session cookie under https: the `__Host-` prefix makes the browser refuse it unless it
/// is `Secure`, for `Path=/` and without `Domain`, so a sibling subdomain cannot plant one.
pub const HOST_COOKIE_NAME: &str = "__Host-roster_session";

fn cookie_name(secure: bool) -> &'static str {
    if secure {
        HOST_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}
/// A session lasts 12 hours from sign-in.
pub const SESSION_TTL_MILLIS: i64 = 12 * 60 * 60 * 1000;

/// A new session token (for the cookie) and its hash (for the database).
pub fn new_token() -> (String, String) {
    let token = super::random::url_safe_token(32);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

/// The session token a request carries, if any (under https only in the `__Host-` cookie).
pub fn token_from_headers(headers: &HeaderMap, secure: bool) -> Option<String> {
    super::cookies::value(headers, cookie_name(secure))
}

/// `Set-Cookie` value that stores `token`.
pub fn set_cookie(token: &str, secure: bool) -> String {
    let max_age = SESSION_TTL_MILLIS / 1000;
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn tokens_are_random_and_hashes_are_stable() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), ha);
        assert!(a.len() >= 43);
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            HeaderValue::from_static("theme=dark; roster_session=abc123; x=y"),
        );
        assert_eq!(token_from_headers(&h, false).as_deref(), Some("abc123"));
    }

    #[test]
    fn cookies_are_httponly_lax_and_secure_only_under_https() {
        let c = set_cookie("t", false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"));
        assert!(set_cookie("t", true).ends_with("; Secure"));
    }

    #[test]
    fn under_https_only_the_host_prefixed_cookie_counts() {
        let c = set_cookie("t", true);
        assert!(c.starts_with("__Host-roster_session=t; Path=/;"), "{c}");
        assert!(!c.contains("Domain"));
        assert!(clear_cookie(true).starts_with("__Host-roster_session=;"));
        let mut h = HeaderMap::new();
        // A sibling subdomain can toss a plain cookie; it is not read under https.
        h.insert(
            http::header::COOKIE,
            HeaderValue::from_static("roster_session=planted; __Host-roster_session=mine"),
        );
        assert_eq!(token_from_headers(&h, true).as_deref(), Some("mine"));
        h.insert(
            http::header::COOKIE,
            HeaderValue::from_static("roster_session=planted"),
        );
        assert_eq!(token_from_headers(&h, true), None);
    }
}
