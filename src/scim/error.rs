//! The one SCIM error type: every failure in this module maps to an HTTP status and an RFC 7644 §3.12 body.

use serde_json::{json, Value};

use super::urn::ERROR_URN;

/// A SCIM protocol error. `Display` gives the full detail (for logs); [`ScimError::to_json`] gives the body.
///
/// The `scimType` cases are the RFC 7644 §3.12 table; the others are plain HTTP outcomes with a SCIM body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    /// 400 `invalidFilter`: the filter syntax was invalid or the filter is not supported.
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// 400 `invalidPath`: the PATCH `path` (or an `attributes` name) is malformed or names no attribute.
    #[error("invalid path: {0}")]
    InvalidPath(String),
    /// 400 `invalidValue`: a value is missing, of the wrong type or otherwise unacceptable.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// 400 `invalidSyntax`: the request body does not follow the SCIM message structure.
    #[error("invalid syntax: {0}")]
    InvalidSyntax(String),
    /// 400 `mutability`: the request tried to change a readOnly or immutable attribute, or remove a required one.
    #[error("mutability: {0}")]
    Mutability(String),
    /// 409 `uniqueness`: a value that must be unique (userName, a group's displayName) is already taken.
    #[error("uniqueness: {0}")]
    Uniqueness(String),
    /// 400 `noTarget`: the path selected nothing where the RFC requires a target.
    #[error("no target: {0}")]
    NoTarget(String),
    /// 400 `tooMany`: the request would return or touch more resources than the server allows.
    #[error("too many: {0}")]
    TooMany(String),
    /// 400 `invalidCursor` (RFC 9865 §2.1): the `cursor` is not one this list gave for this
    /// query.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// 403 `sensitive`: sensitive data was sent in the request URI.
    #[error("sensitive: {0}")]
    Sensitive(String),
    /// 404: no such resource.
    #[error("not found: {0}")]
    NotFound(String),
    /// 409 without `scimType`: a version or state conflict that is not a uniqueness clash.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 412: `If-Match` did not match the resource's version.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// 401: missing, unknown, expired or disabled credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: authenticated but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 405: the endpoint does not support this method (e.g. `/Bulk`).
    #[error("method not allowed: {0}")]
    MethodNotAllowed(String),
    /// 408: the request's body did not arrive in time (`http::serve`'s deadline).
    #[error("request timeout: {0}")]
    RequestTimeout(String),
    /// 413: the body is larger than the advertised `maxPayloadSize`.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// 415: the body is not `application/scim+json` (or `application/json`).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 429: the client sent more requests than its rate allows (the answer carries
    /// `Retry-After`).
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// 503: the server could not take the request in time (its database was busy); nothing was
    /// changed and the client should retry (the answer carries `Retry-After`).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or an outage. The detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ScimError {
    /// The HTTP status code for this error.
    pub fn status(&self) -> u16 {
        match self {
            ScimError::InvalidFilter(_)
            | ScimError::InvalidPath(_)
            | ScimError::InvalidValue(_)
            | ScimError::InvalidSyntax(_)
            | ScimError::Mutability(_)
            | ScimError::NoTarget(_)
            | ScimError::TooMany(_)
            | ScimError::InvalidCursor(_) => 400,
            ScimError::Unauthorized(_) => 401,
            ScimError::Sensitive(_) | ScimError::Forbidden(_) => 403,
            ScimError::NotFound(_) => 404,
            ScimError::MethodNotAllowed(_) => 405,
            ScimError::Uniqueness(_) | ScimError::Conflict(_) => 409,
            ScimError::RequestTimeout(_) => 408,
            ScimError::PreconditionFailed(_) => 412,
            ScimError::PayloadTooLarge(_) => 413,
            ScimError::UnsupportedMediaType(_) => 415,
            ScimError::TooManyRequests(_) => 429,
            ScimError::Internal(_) => 500,
            ScimError::Unavailable(_) => 503,
        }
    }

    /// The RFC 7644 §3.12 `scimType` keyword, if this error has one.
    pub fn scim_type(&self) -> Option<&'static str> {
        Some(match self {
            ScimError::InvalidFilter(_) => "invalidFilter",
            ScimError::InvalidPath(_) => "invalidPath",
            ScimError::InvalidValue(_) => "invalidValue",
            ScimError::InvalidSyntax(_) => "invalidSyntax",
            ScimError::Mutability(_) => "mutability",
            ScimError::Uniqueness(_) => "uniqueness",
            ScimError::NoTarget(_) => "noTarget",
            ScimError::TooMany(_) => "tooMany",
            ScimError::InvalidCursor(_) => "invalidCursor",
            ScimError::Sensitive(_) => "sensitive",
            _ => return None,
        })
    }

    /// The human-readable detail sent to the client (internal errors are not described).
    pub fn detail(&self) -> &str {
        match self {
            ScimError::Internal(_) => "An internal error occurred; the server log has the cause.",
            ScimError::InvalidFilter(d)
            | ScimError::InvalidPath(d)
            | ScimError::InvalidValue(d)
            | ScimError::InvalidSyntax(d)
            | ScimError::Mutability(d)
            | ScimError::Uniqueness(d)
            | ScimError::NoTarget(d)
            | ScimError::TooMany(d)
            | ScimError::InvalidCursor(d)
            | ScimError::Sensitive(d)
            | ScimError::NotFound(d)
            | ScimError::Conflict(d)
            | ScimError::PreconditionFailed(d)
            | ScimError::Unauthorized(d)
            | ScimError::Forbidden(d)
            | ScimError::MethodNotAllowed(d)
            | ScimError::RequestTimeout(d)
            | ScimError::PayloadTooLarge(d)
            | ScimError::UnsupportedMediaType(d)
            | ScimError::TooManyRequests(d)
            | ScimError::Unavailable(d) => d,
        }
    }

    /// The RFC 7644 §3.12 error body: `schemas`, `status` (a string), `scimType` when defined, and `detail`.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_URN],
            "status": self.status().to_string(),
            "detail": self.detail(),
        });
        if let (Some(t), Some(obj)) = (self.scim_type(), body.as_object_mut()) {
            obj.insert("scimType".into(), Value::String(t.into()));
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_filter_renders_an_rfc_error_body_with_status_as_a_string() {
        let body = ScimError::InvalidFilter("unexpected `)` at character 5".into()).to_json();
        assert_eq!(
            body,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "invalidFilter",
                "detail": "unexpected `)` at character 5",
            })
        );
    }

    #[test]
    fn each_scim_type_maps_to_the_rfc_status() {
        let cases = [
            (
                ScimError::InvalidFilter(String::new()),
                400,
                Some("invalidFilter"),
            ),
            (
                ScimError::InvalidPath(String::new()),
                400,
                Some("invalidPath"),
            ),
            (
                ScimError::InvalidValue(String::new()),
                400,
                Some("invalidValue"),
            ),
            (
                ScimError::InvalidSyntax(String::new()),
                400,
                Some("invalidSyntax"),
            ),
            (
                ScimError::Mutability(String::new()),
                400,
                Some("mutability"),
            ),
            (
                ScimError::Uniqueness(String::new()),
                409,
                Some("uniqueness"),
            ),
            (ScimError::NoTarget(String::new()), 400, Some("noTarget")),
            (ScimError::TooMany(String::new()), 400, Some("tooMany")),
            (
                ScimError::InvalidCursor(String::new()),
                400,
                Some("invalidCursor"),
            ),
            (ScimError::Sensitive(String::new()), 403, Some("sensitive")),
            (ScimError::NotFound(String::new()), 404, None),
            (ScimError::Conflict(String::new()), 409, None),
            (ScimError::PreconditionFailed(String::new()), 412, None),
            (ScimError::Unauthorized(String::new()), 401, None),
            (ScimError::Forbidden(String::new()), 403, None),
            (ScimError::MethodNotAllowed(String::new()), 405, None),
            (ScimError::RequestTimeout(String::new()), 408, None),
            (ScimError::PayloadTooLarge(String::new()), 413, None),
            (ScimError::Unavailable(String::new()), 503, None),
            (ScimError::Internal(String::new()), 500, None),
        ];
        for (err, status, scim_type) in cases {
            assert_eq!(err.status(), status, "{err:?}");
            assert_eq!(err.scim_type(), scim_type, "{err:?}");
            assert_eq!(err.to_json()["status"], json!(status.to_string()));
            assert_eq!(
                err.to_json().get("scimType").and_then(Value::as_str),
                scim_type
            );
        }
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause_to_the_client() {
        let err = ScimError::Internal("database password rejected".into());
        assert!(!err.to_json()["detail"]
            .as_str()
            .unwrap_or("")
            .contains("password"));
        assert!(err.to_string().contains("password rejected"));
    }
}
