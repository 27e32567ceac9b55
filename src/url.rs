//! URLs Roster builds for both faces, in the browser and on the server: query strings for redirects
//! and links (form errors travel as query parameters), and the "local paths only" rule for the page
//! to return to after sign-in. Compiled for both features; it imports nothing of ours.

/// Percent-encodes a value for a query string.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Builds `path?k=v&…`, leaving out empty values.
pub fn url_with_query(path: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode_query_value(v)))
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Only local paths may be a redirect target after sign-in (no open redirects): a path that
/// starts with one `/` and holds nothing but URL characters. Whitespace and control characters
/// (which browsers strip before resolving, so `/\t/evil.example` would become `//evil.example`),
/// backslashes and anything else fall back to `/`. What passes is also a valid header value.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

fn is_local_path(n: &str) -> bool {
    let bytes = n.as_bytes();
    let url_char = |b: &u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%#".contains(b);
    bytes.first() == Some(&b'/')
        && bytes.get(1) != Some(&b'/')
        && n.len() <= 2048
        && bytes.iter().all(url_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode_query_value("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(url_with_query("/x", &[("a", "1"), ("b", "")]), "/x?a=1");
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/t/main")), "/t/main");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(
            safe_next(Some("/t/main/iam/users?q=a%20b")),
            "/t/main/iam/users?q=a%20b"
        );
        // Browsers drop TAB, CR and LF before resolving: `/\t/evil` would be `//evil` (M1).
        for evil in [
            "/\t/evil.example/sso",
            "/\n/evil.example",
            "/\r//evil.example",
            "/\\evil.example",
            "/ /evil.example",
            "/\u{7f}/evil.example",
            "/\u{3000}/evil.example",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
    }
}
