//! The SCIM 2.0 endpoint, `/api/v1/{tenant}/integrations/{integration_id}/scim/v2/…`: thin
//! handlers over `iam::scim_users` / `iam::scim_groups` and the SCIM core.
//!
//! Every request: the path is normalised (percent-decoding, dot segments, duplicate slashes)
//! before any check; the body is read up to the advertised `maxPayloadSize` (413 SCIM error
//! beyond); the bearer token is checked against the integration named in the URL; the work runs
//! in one transaction; the outcome is recorded in the integration's request log.

use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::db;
use crate::iam::integrations::{self, Caller};
use crate::iam::scim_groups;
use crate::iam::scim_users::{self, etag, etag_matches, Scope};
use crate::scim::discovery::{self, ServiceProviderOptions};
use crate::scim::projection::Projection;
use crate::scim::resource::ListQuery;
use crate::scim::urn::CONTENT_TYPE;
use crate::scim::{registry, ScimError};
use crate::state::AppState;

/// Largest SCIM request body (advertised as `bulk.maxPayloadSize`).
pub const MAX_PAYLOAD: usize = 1024 * 1024;
/// How long a client told 503 should wait before retrying (authentik, Okta and Entra honour it).
const RETRY_AFTER_SECS: &str = "2";
/// Request bodies kept in the log are cut at this many bytes.
const LOG_BODY_MAX: usize = 8 * 1024;

/// What a handler answers before it becomes an HTTP response.
enum Reply {
    Json {
        status: StatusCode,
        body: Value,
        etag: Option<String>,
        location: Option<String>,
    },
    NoContent,
    NotModified(String),
}

impl Reply {
    fn status(&self) -> StatusCode {
        match self {
            Reply::Json { status, .. } => *status,
            Reply::NoContent => StatusCode::NO_CONTENT,
            Reply::NotModified(_) => StatusCode::NOT_MODIFIED,
        }
    }

    fn into_response(self) -> Response {
        match self {
            Reply::Json {
                status,
                body,
                etag,
                location,
            } => {
                let mut res = json_response(status, &body);
                if let Some(e) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
                    res.headers_mut().insert(header::ETAG, e);
                }
                if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
                    res.headers_mut().insert(header::LOCATION, l);
                }
                res
            }
            Reply::NoContent => StatusCode::NO_CONTENT.into_response(),
            Reply::NotModified(e) => {
                let mut res = StatusCode::NOT_MODIFIED.into_response();
                if let Ok(e) = HeaderValue::from_str(&etag(&e)) {
                    res.headers_mut().insert(header::ETAG, e);
                }
                res
            }
        }
    }

    fn ok(body: Value) -> Self {
        Reply::Json {
            status: StatusCode::OK,
            body,
            etag: None,
            location: None,
        }
    }

    fn resource(status: StatusCode, body: Value, version: &str) -> Self {
        let location = (status == StatusCode::CREATED)
            .then(|| body["meta"]["location"].as_str().map(str::to_string))
            .flatten();
        Reply::Json {
            status,
            body,
            etag: Some(etag(version)),
            location,
        }
    }
}

/// An error answer: a SCIM error, or one of the statuses the core has no case for (415).
enum Failure {
    Scim(ScimError),
    UnsupportedMediaType(String),
}

impl From<ScimError> for Failure {
    fn from(e: ScimError) -> Self {
        Failure::Scim(e)
    }
}

impl Failure {
    fn status(&self) -> u16 {
        match self {
            Failure::Scim(e) => e.status(),
            Failure::UnsupportedMediaType(_) => 415,
        }
    }

    fn detail(&self) -> String {
        match self {
            Failure::Scim(ScimError::Internal(d)) => format!("internal: {d}"),
            Failure::Scim(e) => e.detail().to_string(),
            Failure::UnsupportedMediaType(d) => d.clone(),
        }
    }

    fn body(&self) -> Value {
        match self {
            Failure::Scim(e) => e.to_json(),
            Failure::UnsupportedMediaType(d) => serde_json::json!({
                "schemas": [crate::scim::urn::ERROR_URN],
                "status": "415",
                "detail": d,
            }),
        }
    }

    fn into_response(self, allow: Option<&str>) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Failure::Scim(ScimError::Internal(d)) = &self {
            tracing::error!(detail = %d, "SCIM request failed");
        }
        let mut res = json_response(status, &self.body());
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"roster-scim\""),
            );
        }
        if let Some(allow) = allow.and_then(|a| HeaderValue::from_str(a).ok()) {
            res.headers_mut().insert(header::ALLOW, allow);
        }
        res
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, Body::from(body.to_string())).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    res
}

/// Percent-decodes `s`; with `plus_as_space`, `+` is a space (query strings, as authentik sends).
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 3 <= bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_as_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

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

fn body_for_log(bytes: &[u8]) -> Option<String> {
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
    if text.len() > LOG_BODY_MAX {
        let mut cut = LOG_BODY_MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        Some(format!("{}…", &text[..cut]))
    } else {
        Some(text)
    }
}

/// The single entry point for everything under `/api/v1/`.
pub async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let segments = normalise_path(parts.uri.path());
    let path_text = format!("/{}", segments.join("/"));
    let target = match segments.as_slice() {
        [api, v1, tenant, integ, id, scim, v2, rest @ ..]
            if api == "api"
                && v1 == "v1"
                && integ == "integrations"
                && scim == "scim"
                && v2 == "v2" =>
        {
            Some((tenant.clone(), id.clone(), rest.to_vec()))
        }
        _ => None,
    };
    let Some((tenant_id, integration_id, rest)) = target else {
        return Failure::Scim(ScimError::NotFound(format!(
            "no SCIM endpoint at {path_text}"
        )))
        .into_response(None);
    };
    let (bytes, mut too_large) = match to_bytes(body, MAX_PAYLOAD).await {
        Ok(b) => (b, false),
        Err(_) => (Vec::new().into(), true),
    };
    too_large |= parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_PAYLOAD);
    let now = state.clock.now_millis();
    let base = integrations::endpoint(state.settings.public_base(), &tenant_id, &integration_id);
    let scope = Scope {
        tenant_id: tenant_id.clone(),
        integration_id: integration_id.clone(),
        base,
        now,
    };
    let query = query_pairs(parts.uri.query());
    // The whole request is one write transaction: the token check and its last-used time, the
    // work, and (when it succeeds) its log entry commit together or not at all.
    let mut tx = match state.db.begin_write().await {
        Ok(tx) => tx,
        Err(e) => {
            let failure = Failure::Scim(e.into());
            tracing::warn!(path = %path_text, "SCIM request not taken: {}", failure.detail());
            return failure.into_response(None);
        }
    };
    let outcome = if too_large {
        Err(fail(ScimError::PayloadTooLarge(format!(
            "the request body is larger than {MAX_PAYLOAD} bytes (maxPayloadSize)"
        ))))
    } else {
        let (method, headers) = (&parts.method, &parts.headers);
        serve(&mut tx, &scope, method, headers, &rest, &query, &bytes).await
    };
    let mut entry = db::scim_log::LogEntry {
        at: now,
        method: parts.method.to_string(),
        path: match parts.uri.query() {
            Some(q) => format!("{path_text}?{q}"),
            None => path_text,
        },
        status: 0,
        duration_ms: 0,
        request_body: None,
        error_detail: None,
    };
    let (failure, allow) = match outcome {
        Ok(reply) => {
            entry.status = i64::from(reply.status().as_u16());
            entry.duration_ms = started.elapsed().as_millis() as i64;
            let committed = async {
                db::scim_log::record(&mut tx, &integration_id, &entry).await?;
                tx.commit().await
            }
            .await;
            match committed {
                Ok(()) => return reply.into_response(),
                Err(e) => (Failure::Scim(e.into()), None),
            }
        }
        Err(failed) => {
            drop(tx); // rolls back whatever the failed request wrote
            failed
        }
    };
    entry.status = i64::from(failure.status());
    entry.duration_ms = started.elapsed().as_millis() as i64;
    entry.error_detail = Some(failure.detail());
    entry.request_body = body_for_log(&bytes);
    record_failure(&state, &tenant_id, &integration_id, &entry).await;
    failure.into_response(allow.as_deref())
}

/// Records a failed request in its own small transaction (the request's was rolled back), when
/// the integration exists.
async fn record_failure(
    state: &AppState,
    tenant_id: &str,
    integration_id: &str,
    entry: &db::scim_log::LogEntry,
) {
    let result = async {
        let mut conn = state.db.acquire().await?;
        if db::scim_integrations::find(&mut conn, tenant_id, integration_id)
            .await?
            .is_some()
        {
            db::scim_log::record(&mut conn, integration_id, entry).await?;
        }
        Ok::<(), crate::error::AppError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record a SCIM request in the log");
    }
}

type Outcome = Result<Reply, (Failure, Option<String>)>;

fn fail(e: impl Into<Failure>) -> (Failure, Option<String>) {
    (e.into(), None)
}

fn not_allowed(allow: &str) -> Outcome {
    Err((
        Failure::Scim(ScimError::MethodNotAllowed(format!(
            "this endpoint supports {allow}"
        ))),
        Some(allow.to_string()),
    ))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn json_body(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, Failure> {
    let ct = header_str(headers, header::CONTENT_TYPE).unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != CONTENT_TYPE && mime != "application/json" {
        return Err(Failure::UnsupportedMediaType(format!(
            "send the body as {CONTENT_TYPE} (or application/json), not `{ct}`"
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Failure::Scim(ScimError::InvalidSyntax(format!(
            "the body is not valid JSON: {e}"
        )))
    })
}

fn list_query(query: &[(String, String)]) -> Result<ListQuery, ScimError> {
    ListQuery::from_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn projection(
    query: &[(String, String)],
    rt: &crate::scim::schema::ResourceTypeDef,
) -> Result<Projection, ScimError> {
    Projection::from_query(
        rt,
        param(query, "attributes"),
        param(query, "excludedAttributes"),
    )
}

async fn serve(
    conn: &mut db::Conn,
    scope: &Scope,
    method: &Method,
    headers: &HeaderMap,
    rest: &[String],
    query: &[(String, String)],
    bytes: &[u8],
) -> Outcome {
    let token = bearer(headers);
    let caller = integrations::authenticate(
        conn,
        scope.now,
        &scope.tenant_id,
        &scope.integration_id,
        token.as_deref(),
    )
    .await
    .map_err(fail)?;
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let opts = ServiceProviderOptions {
        max_payload_size: MAX_PAYLOAD,
        max_results: scim_users::MAX_RESULTS as usize,
        change_password: true,
        sort: true,
        etag: true,
        ..ServiceProviderOptions::default()
    };
    let is_get = method == Method::GET;
    match rest.as_slice() {
        ["ServiceProviderConfig"] if is_get => {
            return Ok(Reply::ok(discovery::service_provider_config(
                &scope.base,
                &opts,
            )))
        }
        ["ResourceTypes"] if is_get => {
            return Ok(Reply::ok(discovery::resource_types(&scope.base)))
        }
        ["ResourceTypes", id] if is_get => {
            return discovery::resource_type(&scope.base, id)
                .map(Reply::ok)
                .map_err(fail)
        }
        ["Schemas"] if is_get => return Ok(Reply::ok(discovery::schemas(&scope.base))),
        ["Schemas", id] if is_get => {
            return discovery::schema(&scope.base, id)
                .map(Reply::ok)
                .map_err(fail)
        }
        ["ServiceProviderConfig"]
        | ["ResourceTypes"]
        | ["ResourceTypes", _]
        | ["Schemas"]
        | ["Schemas", _] => return not_allowed("GET"),
        ["Bulk"] => {
            return Err(fail(ScimError::MethodNotAllowed(
                "bulk operations are not supported (bulk.supported is false)".into(),
            )))
        }
        _ => {}
    }
    if rest.as_slice() == [".search"] {
        if method != Method::POST {
            return not_allowed("POST");
        }
        caller.require("USERS", "READ").map_err(fail)?;
        caller.require("GROUPS", "READ").map_err(fail)?;
        let body = json_body(headers, bytes).map_err(|f| (f, None))?;
        let q = ListQuery::from_search_body(&body).map_err(fail)?;
        let list = root_search(conn, scope, &q).await.map_err(fail)?;
        return Ok(Reply::ok(list));
    }
    let kind = match rest.first() {
        Some(&"Users") => Kind::Users,
        Some(&"Groups") => Kind::Groups,
        _ => {
            return Err(fail(ScimError::NotFound(format!(
                "no SCIM resource at /{}; try /Users or /Groups",
                rest.join("/")
            ))))
        }
    };
    let op = match (rest.len(), rest.get(1).copied(), method.as_str()) {
        (1, _, "GET") => Op::List,
        (1, _, "POST") => Op::Create,
        (1, _, _) => return not_allowed("GET, POST"),
        (2, Some(".search"), "POST") => Op::Search,
        (2, Some(".search"), _) => return not_allowed("POST"),
        (2, Some(_), "GET") => Op::Get,
        (2, Some(_), "PUT") => Op::Replace,
        (2, Some(_), "PATCH") => Op::Patch,
        (2, Some(_), "DELETE") => Op::Delete,
        (2, Some(_), _) => return not_allowed("GET, PUT, PATCH, DELETE"),
        _ => {
            return Err(fail(ScimError::NotFound(format!(
                "no SCIM resource at /{}",
                rest.join("/")
            ))))
        }
    };
    let id = rest.get(1).copied().unwrap_or_default();
    check_permission(&caller, kind, op).map_err(fail)?;
    let body = match op {
        Op::Create | Op::Search | Op::Replace | Op::Patch => {
            Some(json_body(headers, bytes).map_err(|f| (f, None))?)
        }
        _ => None,
    };
    let body = body.unwrap_or(Value::Null);
    let if_match = header_str(headers, header::IF_MATCH);
    let if_none_match = header_str(headers, header::IF_NONE_MATCH);
    run(
        conn,
        scope,
        kind,
        op,
        id,
        &body,
        query,
        if_match,
        if_none_match,
    )
    .await
    .map_err(fail)
}

/// `POST /.search` (RFC 7644 §3.4.3): Users, then Groups, paged as one list. A resource type
/// whose schema lacks an attribute of the filter has no matches.
async fn root_search(
    conn: &mut db::Conn,
    scope: &Scope,
    q: &ListQuery,
) -> Result<Value, ScimError> {
    let limit = q
        .count
        .unwrap_or(scim_users::MAX_RESULTS)
        .min(scim_users::MAX_RESULTS);
    let mut offset = q.start_index.saturating_sub(1);
    let mut remaining = limit;
    let mut total = 0u64;
    let mut resources = Vec::new();
    for kind in [Kind::Users, Kind::Groups] {
        let rt = match kind {
            Kind::Users => registry().user(),
            Kind::Groups => registry().group(),
        };
        if let Some(f) = &q.filter {
            if crate::scim::filter::validate(f, rt).is_err() {
                continue;
            }
        }
        let mut part = q.clone();
        part.start_index = offset + 1;
        part.count = Some(remaining);
        let list = match kind {
            Kind::Users => scim_users::list(conn, scope, &part).await?,
            Kind::Groups => scim_groups::list(conn, scope, &part).await?,
        };
        let t = list["totalResults"].as_u64().unwrap_or(0);
        total += t;
        let items = list["Resources"].as_array().cloned().unwrap_or_default();
        remaining = remaining.saturating_sub(items.len() as u64);
        resources.extend(items);
        offset = offset.saturating_sub(t);
    }
    Ok(crate::scim::resource::list_response(
        resources,
        total,
        q.start_index,
    ))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Users,
    Groups,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    List,
    Search,
    Create,
    Get,
    Replace,
    Patch,
    Delete,
}

fn check_permission(caller: &Caller, kind: Kind, op: Op) -> Result<(), ScimError> {
    let resource = match kind {
        Kind::Users => "USERS",
        Kind::Groups => "GROUPS",
    };
    let action = match (kind, op) {
        (_, Op::List | Op::Search | Op::Get) => "READ",
        (_, Op::Create) => "CREATE",
        (_, Op::Replace | Op::Patch) => "UPDATE",
        // Users are global: DELETE only removes this tenant's access, an update.
        (Kind::Users, Op::Delete) => "UPDATE",
        (Kind::Groups, Op::Delete) => "DELETE",
    };
    caller.require(resource, action)
}

#[allow(clippy::too_many_arguments)]
async fn run(
    conn: &mut db::Conn,
    scope: &Scope,
    kind: Kind,
    op: Op,
    id: &str,
    body: &Value,
    query: &[(String, String)],
    if_match: Option<&str>,
    if_none_match: Option<&str>,
) -> Result<Reply, ScimError> {
    let rt = match kind {
        Kind::Users => registry().user(),
        Kind::Groups => registry().group(),
    };
    match op {
        Op::List | Op::Search => {
            let q = if op == Op::Search {
                ListQuery::from_search_body(body)?
            } else {
                list_query(query)?
            };
            let list = match kind {
                Kind::Users => scim_users::list(conn, scope, &q).await?,
                Kind::Groups => scim_groups::list(conn, scope, &q).await?,
            };
            Ok(Reply::ok(list))
        }
        Op::Get => {
            let p = projection(query, rt)?;
            let (v, version) = match kind {
                Kind::Users => scim_users::get(conn, scope, id, p.includes("groups")).await?,
                Kind::Groups => scim_groups::get(conn, scope, id, p.includes("members")).await?,
            };
            if if_none_match.is_some_and(|h| etag_matches(h, &version)) {
                return Ok(Reply::NotModified(version));
            }
            Ok(Reply::resource(StatusCode::OK, p.apply(&v), &version))
        }
        Op::Create | Op::Replace => {
            let p = projection(query, rt)?;
            let (v, version) = match (kind, op) {
                (Kind::Users, Op::Create) => scim_users::create(conn, scope, body).await?,
                (Kind::Groups, Op::Create) => scim_groups::create(conn, scope, body).await?,
                (Kind::Users, _) => scim_users::replace(conn, scope, id, body, if_match).await?,
                (Kind::Groups, _) => scim_groups::replace(conn, scope, id, body, if_match).await?,
            };
            let status = if op == Op::Create {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(Reply::resource(status, p.apply(&v), &version))
        }
        Op::Patch => {
            let p = projection(query, rt)?;
            match kind {
                Kind::Users => {
                    let (v, version) = scim_users::patch(conn, scope, id, body, if_match).await?;
                    Ok(Reply::resource(StatusCode::OK, p.apply(&v), &version))
                }
                Kind::Groups => {
                    scim_groups::patch(conn, scope, id, body, if_match).await?;
                    let asked = param(query, "attributes").is_some()
                        || param(query, "excludedAttributes").is_some();
                    if !asked {
                        return Ok(Reply::NoContent);
                    }
                    let (v, version) =
                        scim_groups::get(conn, scope, id, p.includes("members")).await?;
                    Ok(Reply::resource(StatusCode::OK, p.apply(&v), &version))
                }
            }
        }
        Op::Delete => {
            match kind {
                Kind::Users => scim_users::delete(conn, scope, id, if_match).await?,
                Kind::Groups => scim_groups::delete(conn, scope, id, if_match).await?,
            }
            Ok(Reply::NoContent)
        }
    }
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
    }

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
}
