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

/// The longest User-Agent a session keeps (the header can be kilobytes; the list shows a label).
pub const MAX_USER_AGENT_CHARS: usize = 256;

/// The browser a sign-in comes from: the session it already had (ended by the new one, so a
/// session id planted before sign-in is useless), its address as the sign-in throttle keys it
/// (`auth::client`), and what it calls itself (`User-Agent`), kept with the session so its owner
/// can tell their sessions apart (Your account → Sessions).
#[derive(Debug, Clone, Copy)]
pub struct Browser<'a> {
    pub previous_token: Option<&'a str>,
    pub address: &'a str,
    pub user_agent: Option<&'a str>,
}

impl<'a> Browser<'a> {
    /// The User-Agent as stored: trimmed, at most [`MAX_USER_AGENT_CHARS`], none when empty.
    pub fn stored_user_agent(&self) -> Option<&'a str> {
        let agent = self.user_agent?.trim();
        let end = agent
            .char_indices()
            .nth(MAX_USER_AGENT_CHARS)
            .map_or(agent.len(), |(i, _)| i);
        (!agent.is_empty()).then(|| &agent[..end])
    }
}

/// The name a session goes by in its owner's list (and in the form that ends it): derived from
/// its stored hash, so neither the cookie value nor the database key leaves the server.
pub fn handle(id_hash: &str) -> String {
    let digest = Sha256::digest(format!("session-handle:{id_hash}").as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

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

/// The `User-Agent` a request carries, if it is text.
pub fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
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
    fn a_handle_names_one_session_and_reveals_neither_token_nor_hash() {
        let (token, hash) = new_token();
        let h = handle(&hash);
        assert_eq!(h, handle(&hash));
        assert_ne!(h, handle(&new_token().1));
        assert_eq!(h.len(), 22);
        assert!(!hash.contains(&h) && !token.contains(&h));
    }

    #[test]
    fn a_user_agent_is_kept_trimmed_and_bounded() {
        let long = "é".repeat(MAX_USER_AGENT_CHARS + 10);
        let unknown = Browser {
            previous_token: None,
            address: "unknown",
            user_agent: None,
        };
        let with = |agent| Browser {
            user_agent: Some(agent),
            ..unknown
        };
        assert_eq!(
            with(&long).stored_user_agent().map(|a| a.chars().count()),
            Some(MAX_USER_AGENT_CHARS)
        );
        assert_eq!(with("  curl/8.5  ").stored_user_agent(), Some("curl/8.5"));
        assert_eq!(with("   ").stored_user_agent(), None);
        assert_eq!(unknown.stored_user_agent(), None);
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
