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
    if !bytes
        .iter()
        .any(|&b| b == b'%' || (plus_as_space && b == b'+'))
    {
        return s.to_string();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                if let (Some(hi), Some(lo)) =
                    (hex_digit(bytes.get(i + 1)), hex_digit(bytes.get(i + 2)))
                {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus_as_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: Option<&u8>) -> Option<u8> {
    let b = *b?;
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether `path` is already what [`normalise`] makes of it: `/`-separated segments, none
/// empty, `.` or `..`, of unreserved bytes only (decoding and re-encoding leave them as they
/// are). Every request an IdP sends is; it then keeps its URI.
fn is_normal(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    rest.split('/').all(|seg| {
        !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    })
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
    if is_normal(req.uri().path()) {
        let decoded = NormalisedPath(req.uri().path().to_string());
        req.extensions_mut().insert(decoded);
        return req;
    }
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
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
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
    fn a_path_already_normal_is_kept_and_any_other_is_rewritten() {
        for (path, normal) in [
            ("/api/v1/main/integrations/x-Y_z~1/scim/v2/Users", true),
            ("/api/v1/main/integrations/x/scim/v2/Users/", false),
            ("/api//v1", false),
            ("/api/./v1", false),
            ("/api/../v1", false),
            ("/api/v1/%55sers", false),
            ("/api/v1/a b", false),
            ("/api\\v1", false),
            ("api/v1", false),
            ("/", false),
        ] {
            assert_eq!(is_normal(path), normal, "{path}");
            let req = Request::builder()
                .uri(format!("http://h{}", path.replace(' ', "%20")))
                .body(axum::body::Body::empty())
                .unwrap();
            let segments = normalise_path(req.uri().path());
            let rewritten = normalise(req);
            let expected: Vec<String> = segments.iter().map(|s| encode_segment(s)).collect();
            assert_eq!(
                rewritten.uri().path(),
                format!("/{}", expected.join("/")),
                "{path}"
            );
            let shown = rewritten.extensions().get::<NormalisedPath>().unwrap();
            assert_eq!(shown.0, format!("/{}", segments.join("/")), "{path}");
        }
    }

    #[test]
    fn bytes_outside_the_unreserved_set_are_encoded_in_upper_case_hex() {
        assert_eq!(encode_segment("a b?%\u{e9}"), "a%20b%3F%25%C3%A9");
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
        assert_eq!(percent_decode("%zz%41%c3%A9", true), "%zzA\u{e9}");
        assert_eq!(percent_decode("plain", true), "plain");
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
