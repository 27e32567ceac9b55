//! What a SCIM handler answers ([`Reply`]) or fails with ([`Failure`]), and how each becomes an
//! HTTP response: `application/scim+json`, `ETag`, `Location`, `Allow`, `Retry-After`.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::text_body;
use crate::iam::scim::{Answered, Fetched, Patched, Versioned};
use crate::iam::scim_users::etag;
use crate::scim::json_text::JsonText;
use crate::scim::urn::CONTENT_TYPE;
use crate::scim::ScimError;

/// How long a client told 503 should wait before retrying (authentik, Okta and Entra honour it).
const RETRY_AFTER_SECS: u64 = 2;

/// A handler's result.
pub type Answer = Result<Reply, Failure>;

/// A successful answer.
pub enum Reply {
    Json(Value),
    /// A body already written as JSON text (a ListResponse page).
    Text(JsonText),
    Resource {
        status: StatusCode,
        body: Answered,
        version: String,
    },
    NoContent,
    /// 204 with the new version's ETag.
    Changed(String),
    NotModified(String),
}

impl Reply {
    pub fn created(v: Versioned) -> Self {
        Reply::Resource {
            status: StatusCode::CREATED,
            body: v.body,
            version: v.version,
        }
    }

    pub fn resource(v: Versioned) -> Self {
        Reply::Resource {
            status: StatusCode::OK,
            body: v.body,
            version: v.version,
        }
    }

    pub fn patched(p: Patched) -> Self {
        match p {
            Patched::Resource(v) => Reply::resource(v),
            Patched::Version(version) => Reply::Changed(version),
        }
    }

    pub fn fetched(f: Fetched) -> Self {
        match f {
            Fetched::Resource(v) => Reply::resource(v),
            Fetched::NotModified(version) => Reply::NotModified(version),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Reply::Json(body) => json_response(StatusCode::OK, &body),
            Reply::Text(body) => text_response(StatusCode::OK, body),
            Reply::Resource {
                status,
                body,
                version,
            } => {
                let (res, location) = match body {
                    Answered::Value(body) => {
                        let location = body["meta"]["location"].as_str().map(str::to_string);
                        (json_response(status, &body), location)
                    }
                    Answered::Text { json, location } => {
                        (text_response(status, json), Some(location))
                    }
                };
                let location = location.filter(|_| status == StatusCode::CREATED);
                with_header(
                    with_header(res, header::ETAG, &etag(&version)),
                    header::LOCATION,
                    location.as_deref().unwrap_or(""),
                )
            }
            Reply::NoContent => StatusCode::NO_CONTENT.into_response(),
            Reply::Changed(v) => with_header(
                StatusCode::NO_CONTENT.into_response(),
                header::ETAG,
                &etag(&v),
            ),
            Reply::NotModified(v) => with_header(
                StatusCode::NOT_MODIFIED.into_response(),
                header::ETAG,
                &etag(&v),
            ),
        }
    }
}

/// An error answer: a SCIM error; the methods the path allows when the method was wrong; when to
/// retry (429, 503).
pub struct Failure {
    pub error: ScimError,
    pub allow: Option<&'static str>,
    pub retry_after_secs: Option<u64>,
}

impl From<ScimError> for Failure {
    fn from(error: ScimError) -> Self {
        let retry_after_secs =
            matches!(error, ScimError::Unavailable(_)).then_some(RETRY_AFTER_SECS);
        Failure {
            error,
            allow: None,
            retry_after_secs,
        }
    }
}

impl Failure {
    /// 405 naming the methods `allow`ed.
    pub fn not_allowed(allow: &'static str) -> Self {
        Failure {
            allow: Some(allow),
            ..ScimError::MethodNotAllowed(format!("this endpoint supports {allow}")).into()
        }
    }

    /// What the request log shows: the detail sent to the client. An internal error's cause goes
    /// to the server log only (its log entry is read by tenant viewers).
    pub fn log_detail(&self) -> String {
        match &self.error {
            ScimError::Internal(_) => "internal error (see the server log)".into(),
            e => e.detail().to_string(),
        }
    }
}

/// The failure's log detail, carried on its response for the request's log entry.
#[derive(Debug, Clone)]
pub struct LogDetail(pub String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let ScimError::Internal(d) = &self.error {
            tracing::error!(detail = %d, "SCIM request failed");
        }
        let mut res = json_response(status, &self.error.to_json());
        if let Some(secs) = self.retry_after_secs {
            res = with_header(res, header::RETRY_AFTER, &secs.to_string());
        }
        if status == StatusCode::UNAUTHORIZED {
            res = with_header(
                res,
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"roster-scim\"",
            );
        }
        res = with_header(res, header::ALLOW, self.allow.unwrap_or(""));
        res.extensions_mut().insert(LogDetail(self.log_detail()));
        res
    }
}

/// A 429 with `Retry-After` (whole seconds, at least 1).
pub fn too_many(retry_after_secs: u64) -> Failure {
    let secs = retry_after_secs.max(1);
    Failure {
        retry_after_secs: Some(secs),
        ..ScimError::TooManyRequests(format!(
            "this integration sent more requests than its rate allows; retry after {secs} s"
        ))
        .into()
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    // `to_vec` writes straight into the buffer; `to_string` goes through `fmt::Display`.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let res = (status, Body::from(bytes)).into_response();
    with_header(res, header::CONTENT_TYPE, CONTENT_TYPE)
}

fn text_response(status: StatusCode, body: JsonText) -> Response {
    let res = (status, text_body::body_of(body)).into_response();
    with_header(res, header::CONTENT_TYPE, CONTENT_TYPE)
}

/// Sets `name` to `value` unless `value` is empty or not a valid header value.
fn with_header(mut res: Response, name: header::HeaderName, value: &str) -> Response {
    match HeaderValue::from_str(value) {
        Ok(v) if !value.is_empty() => {
            res.headers_mut().insert(name, v);
        }
        _ => {}
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_out_of_the_log_entry_and_the_body() {
        let f = Failure::from(ScimError::Internal(
            "error returned from database: disk I/O".into(),
        ));
        assert_eq!(f.log_detail(), "internal error (see the server log)");
        let res = f.into_response();
        assert_eq!(res.status(), 500);
        let shown = res.extensions().get::<LogDetail>().unwrap();
        assert!(!shown.0.contains("disk"), "{shown:?}");
    }

    #[test]
    fn busy_answers_503_with_retry_after_and_405_names_the_allowed_methods() {
        let res = Failure::from(ScimError::Unavailable("busy".into())).into_response();
        assert_eq!(res.headers()[header::RETRY_AFTER], "2");
        let res = Failure::not_allowed("GET, POST").into_response();
        assert_eq!(res.status(), 405);
        assert_eq!(res.headers()[header::ALLOW], "GET, POST");
    }
}
