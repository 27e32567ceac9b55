//! What the integration's request log keeps of a request (passwords redacted, bodies and paths
//! cut), and the server-log count of requests refused before authentication, which never enter an
//! integration's log (anyone can reach the URL; they must not flush or spoof its history).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Request bodies kept in the log are cut at this many bytes.
const LOG_BODY_MAX: usize = 8 * 1024;
/// Stored paths (with their query) are cut at this many bytes.
pub const LOG_PATH_MAX: usize = 2 * 1024;
/// The server log reports refused requests at most this often.
const REFUSED_REPORT_EVERY: Duration = Duration::from_secs(60);

/// Replaces every `password` value (and the value of a PATCH operation on `password`).
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let patches_password = o.iter().any(|(k, p)| {
                k.eq_ignore_ascii_case("path")
                    && p.as_str()
                        .is_some_and(|s| s.to_ascii_lowercase().contains("password"))
            });
            for (k, item) in o.iter_mut() {
                // Any spelling: `password`, `Password`, URN-qualified
                // (`urn:…:User:password`), inside a PATCH `value` object (M6).
                if k.to_ascii_lowercase().contains("password")
                    || (patches_password && k.eq_ignore_ascii_case("value"))
                {
                    *item = Value::String("[redacted]".into());
                } else {
                    redact(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// A failed request's body as the log keeps it: redacted JSON, cut at 8 KiB.
pub fn body_for_log(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    let text = match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            redact(&mut v);
            v.to_string()
        }
        Err(_) => format!("(not JSON, {} bytes)", bytes.len()),
    };
    Some(cut(text, LOG_BODY_MAX))
}

/// `text` cut at `max` bytes (on a character boundary), marked with `…` when cut.
pub fn cut(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut at = max;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    format!("{}…", &text[..at])
}

/// Requests refused before authentication (no or bad token, disabled or unknown integration),
/// counted and reported to the server log at most once a minute. Tokens are never logged.
#[derive(Debug)]
pub struct Refused {
    count: AtomicU64,
    last_report: Mutex<Option<Instant>>,
}

impl Default for Refused {
    fn default() -> Self {
        Self {
            count: AtomicU64::new(0),
            last_report: Mutex::new(None),
        }
    }
}

impl Refused {
    /// Counts one refusal (`status` and its reason); reports the count when a minute has passed.
    pub fn note(&self, status: u16, reason: &str) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let Ok(mut last) = self.last_report.lock() else {
            return;
        };
        if last.is_some_and(|t| t.elapsed() < REFUSED_REPORT_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let refused = self.count.swap(0, Ordering::Relaxed);
        tracing::warn!(
            refused,
            status,
            latest = reason,
            "SCIM requests refused before authentication since the last report"
        );
    }

    /// Refusals counted since the last report.
    pub fn pending(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_in_bodies_and_patch_operations() {
        let mut v = serde_json::json!({"userName": "a", "password": "s3cret",
            "Operations": [{"op": "replace", "path": "password", "value": "x"}]});
        redact(&mut v);
        let text = v.to_string();
        assert!(
            !text.contains("s3cret") && !text.contains("\"x\""),
            "{text}"
        );
    }

    #[test]
    fn urn_qualified_and_differently_cased_passwords_are_redacted_too() {
        let mut v = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User:password": "Summer2025!"}},
                {"op": "replace", "value": {"PASSWORD": "Winter2025!", "displayName": "kept"}},
                {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:Password", "value": "Autumn2025!"}
            ]
        });
        redact(&mut v);
        let text = v.to_string();
        for secret in ["Summer2025!", "Winter2025!", "Autumn2025!"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("kept"), "{text}");
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        assert_eq!(cut("abc".into(), 5), "abc");
        assert_eq!(cut("ééé".into(), 3), "é…");
    }

    #[test]
    fn refusals_are_reported_then_counted_until_the_next_report() {
        let r = Refused::default();
        r.note(401, "no token");
        assert_eq!(r.pending(), 0);
        r.note(401, "no token");
        r.note(401, "no token");
        assert_eq!(r.pending(), 2);
    }
}
