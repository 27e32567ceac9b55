//! Path normalisation, run before routing: percent-decoding, `.` and `..` segments, empty
//! segments (double and trailing slashes) and `\` as a separator, so every check and route sees
//! one spelling of a path.

use axum::extract::Request;
use axum::http::Uri;

/// The normalised path, decoded (what the request log shows).
#[derive(Debug, Clone)]
pub struct NormalisedPath(pub String);

/// Percent-decodes `s`; with `plus_as_space`, `+` is a space (query strings, as authentik sends).
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex_at(bytes, i + 1)) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) if plus_as_space => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_at(bytes: &[u8], at: usize) -> Option<u8> {
    let pair = bytes.get(at..at + 2)?;
    u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()
}

/// The path's segments after percent-decoding, with empty and `.` segments dropped and `..`
/// applied.
pub fn normalise_path(path: &str) -> Vec<String> {
    let decoded = percent_decode(path, false);
    let mut out: Vec<String> = Vec::new();
    for seg in decoded.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s.to_string()),
        }
    }
    out
}

/// Rewrites the request's URI to its normalised path (segments re-encoded, so a decoded `?` or
/// `%` stays inside its segment) and records the decoded form as [`NormalisedPath`].
pub fn normalise(mut req: Request) -> Request {
    let segments = normalise_path(req.uri().path());
    let encoded: Vec<String> = segments.iter().map(|s| encode_segment(s)).collect();
    let mut path_and_query = format!("/{}", encoded.join("/"));
    if let Some(q) = req.uri().query() {
        path_and_query = format!("{path_and_query}?{q}");
    }
    if let Ok(uri) = Uri::builder().path_and_query(path_and_query).build() {
        *req.uri_mut() = uri;
    }
    let decoded = NormalisedPath(format!("/{}", segments.join("/")));
    req.extensions_mut().insert(decoded);
    req
}

fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decoded_and_dot_segments_applied() {
        assert_eq!(
            normalise_path("/api//v1/main/./integrations/x/scim/v2/%55sers/../Users"),
            vec![
                "api",
                "v1",
                "main",
                "integrations",
                "x",
                "scim",
                "v2",
                "Users"
            ]
        );
    }

    #[test]
    fn plus_is_a_space_in_queries_only() {
        assert_eq!(
            percent_decode("userName+eq+%22a%2Bb%22", true),
            "userName eq \"a+b\""
        );
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("%4", true), "%4");
    }

    #[test]
    fn the_uri_is_rewritten_with_segments_re_encoded_and_the_query_kept() {
        let req = Request::builder()
            .uri("/a//b/./c%3Fd/%2e%2e/e%20f/?x=1%202")
            .body(axum::body::Body::empty())
            .unwrap();
        let req = normalise(req);
        assert_eq!(req.uri().path(), "/a/b/e%20f");
        assert_eq!(req.uri().query(), Some("x=1%202"));
        let shown = req.extensions().get::<NormalisedPath>().unwrap();
        assert_eq!(shown.0, "/a/b/e f");
    }
}
