//! One SCIM request, start to end. [`lifecycle`] (a middleware around every SCIM route) reads the
//! body once and hands the handlers an empty [`Exchange`]; the [`ScimCaller`] extractor opens the
//! request's write transaction (a read takes only a connection: it needs neither the writer's
//! turn nor a write lock), authenticates in it and leaves it in the
//! exchange; the handler borrows it ([`ScimCaller::tx`]); afterwards `lifecycle` commits a success
//! or rolls back a failure, and queues the log entry for the batching writer
//! ([`crate::db::log_writer`]). Unauthenticated requests leave the exchange empty, so they are
//! never logged per integration.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use super::log::{body_for_log, cut, LOG_PATH_MAX};
use super::path::{percent_decode, NormalisedPath};
use super::reply::{too_many, Failure, LogDetail};
use super::ScimState;
use crate::db::audit::Pending;
use crate::db::last_write::LastWrite;
use crate::db::log_writer::Queued;
use crate::db::scim_log::LogEntry;
use crate::db::{Conn, ReadConn, WriteTx};
use crate::http::hardening::add_security_headers;
use crate::http::metrics::Surface;
use crate::http::serve::BodyTooSlow;
use crate::iam::audit::ScimAudit;
use crate::iam::integrations::{self, Caller};
use crate::iam::scim::{Call, Kind, Query};
use crate::iam::scim_users::Scope;
use crate::scim::urn::CONTENT_TYPE;
use crate::scim::ScimError;

/// Largest SCIM request body (advertised as `bulk.maxPayloadSize`).
pub const MAX_PAYLOAD: usize = 1024 * 1024;

/// The request's share between [`lifecycle`] and the handler: the open transaction once the
/// caller is authenticated, and how reading the body went.
#[derive(Clone, Default)]
pub struct Exchange {
    open: Arc<Mutex<Option<Open>>>,
    body: BodyRead,
}

/// How reading a request's body went.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum BodyRead {
    #[default]
    Whole,
    /// Over [`MAX_PAYLOAD`] (declared or sent).
    TooLarge,
    /// Not whole within the server's deadline for bodies (`http::serve`).
    TooSlow,
}

/// An authenticated request's transaction, integration, token stamp and audit event.
pub struct Open {
    tx: RequestTx,
    integration_id: String,
    token_used: Option<String>,
    /// A write request's audit event, when its last script has not written it.
    audit: Option<Pending>,
}

/// A write request's transaction, or the connection a read request reads on. Reads take no
/// transaction: each statement sees committed data, as every statement does on PostgreSQL
/// (READ COMMITTED) inside a transaction too, and SQLite saves the `BEGIN`/`COMMIT` round trips.
enum RequestTx {
    Read(ReadConn),
    Write(WriteTx),
}

impl RequestTx {
    fn conn(&mut self) -> &mut Conn {
        match self {
            RequestTx::Read(conn) => conn,
            RequestTx::Write(tx) => tx,
        }
    }

    fn last_write(&self) -> LastWrite {
        match self {
            RequestTx::Read(_) => LastWrite::default(),
            RequestTx::Write(tx) => tx.last_write(),
        }
    }

    /// Commits, writing `audit`'s event first if it still waits.
    async fn commit(mut self, audit: Option<&Pending>) -> crate::error::AppResult<()> {
        if let Some(pending) = audit.filter(|p| p.is_set()) {
            // A service that noted its event after its last script: the transaction is no longer
            // the request's to write in. Every test stops there; a release logs it.
            let ended = self.last_write().has_ended();
            debug_assert!(!ended, "an audit event noted after the last script");
            if ended {
                tracing::error!("a SCIM change's audit event was noted too late; not recorded");
                pending.take();
            } else {
                pending.write(self.conn()).await?;
            }
        }
        match self {
            RequestTx::Read(_) => Ok(()),
            RequestTx::Write(tx) => tx.commit().await,
        }
    }
}

/// The request's connection (in its transaction when it writes), borrowed by a handler.
pub type TxGuard = OwnedMappedMutexGuard<Option<Open>, Conn>;

/// The middleware around every SCIM route: see the module's description.
pub async fn lifecycle(State(s): State<ScimState>, req: Request, next: Next) -> Response {
    let flight = s.metrics.begin(Surface::Scim);
    let mut res = exchange(&s, req, next).await;
    flight.answered(res.status());
    // Every answer, refusals and unknown paths included (the pages' layer does not run here).
    add_security_headers(res.headers_mut(), s.app.settings.secure_cookies(), false);
    res
}

async fn exchange(s: &ScimState, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let at = s.app.clock.now_millis();
    let (req, bytes, exchange) = buffered(req).await;
    let mut entry = LogEntry {
        at,
        method: req.method().to_string(),
        path: logged_path(&req),
        status: 0,
        duration_ms: 0,
        error_detail: None,
        request_body: None,
    };
    let res = next.run(req).await;
    let Some(open) = exchange.open.lock().await.take() else {
        return res;
    };
    entry.status = i64::from(res.status().as_u16());
    entry.duration_ms = started.elapsed().as_millis() as i64;
    settle(s, open, entry, &bytes, res).await
}

/// Reads the body (up to [`MAX_PAYLOAD`]) and puts it back, with an [`Exchange`] beside it.
async fn buffered(req: Request) -> (Request, Bytes, Exchange) {
    let (mut parts, body) = req.into_parts();
    let declared = header_str(&parts.headers, header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_PAYLOAD);
    let (bytes, read) = if declared {
        (Bytes::new(), BodyRead::TooLarge)
    } else {
        match to_bytes(body, MAX_PAYLOAD).await {
            Ok(b) => (b, BodyRead::Whole),
            Err(e) if BodyTooSlow::caused(&e) => (Bytes::new(), BodyRead::TooSlow),
            Err(_) => (Bytes::new(), BodyRead::TooLarge),
        }
    };
    let exchange = Exchange {
        body: read,
        ..Exchange::default()
    };
    parts.extensions.insert(exchange.clone());
    (
        Request::from_parts(parts, Body::from(bytes.clone())),
        bytes,
        exchange,
    )
}

fn logged_path(req: &Request) -> String {
    let path = req
        .extensions()
        .get::<NormalisedPath>()
        .map_or_else(|| req.uri().path().to_string(), |p| p.0.clone());
    let full = match req.uri().query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    cut(full, LOG_PATH_MAX)
}

/// A success commits; a failure rolls back (and keeps its body and detail in the log entry).
/// Either way the entry is queued for the log's writer.
async fn settle(
    s: &ScimState,
    open: Open,
    mut entry: LogEntry,
    body: &[u8],
    res: Response,
) -> Response {
    let Open {
        tx,
        integration_id,
        token_used,
        audit,
    } = open;
    let res = if is_failure(&res) {
        drop(tx); // rolls back whatever the failed request wrote, its event with it
        res
    } else {
        match tx.commit(audit.as_ref()).await {
            Ok(()) => res,
            Err(e) => Failure::from(ScimError::from(e)).into_response(),
        }
    };
    if is_failure(&res) {
        entry.status = i64::from(res.status().as_u16());
        entry.error_detail = res.extensions().get::<LogDetail>().map(|d| d.0.clone());
        entry.request_body = body_for_log(body);
    }
    let queued = Queued {
        integration_id,
        entry,
        token_used,
    };
    s.app.db.queue_log(queued).await;
    res
}

/// The authenticated integration, and the request's transaction it was authenticated in.
pub struct ScimCaller {
    pub caller: Caller,
    pub scope: Scope,
    exchange: Exchange,
}

impl ScimCaller {
    /// Borrows the request's write transaction.
    pub async fn tx(&self) -> Result<TxGuard, Failure> {
        let guard: OwnedMutexGuard<Option<Open>> = self.exchange.open.clone().lock_owned().await;
        OwnedMutexGuard::try_map(guard, |o| o.as_mut().map(|open| open.tx.conn()))
            .map_err(|_| ScimError::Internal("the request's transaction is gone".into()).into())
    }

    /// The call on resource type `kind`.
    pub fn on(&self, kind: Kind) -> Call<'_> {
        Call {
            scope: &self.scope,
            caller: &self.caller,
            kind,
        }
    }
}

#[derive(serde::Deserialize)]
struct EndpointPath {
    tenant: String,
    integration_id: String,
}

impl FromRequestParts<ScimState> for ScimCaller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, s: &ScimState) -> Result<Self, Failure> {
        let exchange = parts.extensions.get::<Exchange>().cloned().ok_or_else(|| {
            Failure::from(ScimError::Internal(
                "a SCIM request outside lifecycle".into(),
            ))
        })?;
        let mut scope = scope(parts, s).await?;
        let token = bearer(&parts.headers);
        let (tx, caller) = authenticate(s, &scope, reads_only(parts), token.as_deref()).await?;
        let audit = match &tx {
            RequestTx::Read(_) => None,
            RequestTx::Write(_) => {
                let (t, i) = (&scope.tenant_id, &scope.integration_id);
                scope.audit = ScimAudit::new(t, i, caller.integration_name(), scope.now);
                scope.audit.pending().cloned()
            }
        };
        scope.last_write = match &audit {
            Some(pending) => tx.last_write().carrying(pending),
            None => tx.last_write(),
        };
        *exchange.open.lock().await = Some(Open {
            tx,
            integration_id: scope.integration_id.clone(),
            token_used: caller.token_used.clone(),
            audit,
        });
        if let Some(limiter) = &s.limiter {
            limiter
                .take(&scope.integration_id, Instant::now())
                .map_err(too_many)?;
        }
        match exchange.body {
            BodyRead::Whole => {}
            BodyRead::TooLarge => {
                return Err(ScimError::PayloadTooLarge(format!(
                    "the request body is larger than {MAX_PAYLOAD} bytes (maxPayloadSize)"
                ))
                .into())
            }
            BodyRead::TooSlow => {
                return Err(ScimError::RequestTimeout(format!(
                    "the request body did not arrive within {} seconds",
                    crate::http::serve::BODY_WAIT.as_secs()
                ))
                .into())
            }
        }
        Ok(ScimCaller {
            caller,
            scope,
            exchange,
        })
    }
}

async fn scope(parts: &mut Parts, s: &ScimState) -> Result<Scope, Failure> {
    let Path(p) = Path::<EndpointPath>::from_request_parts(parts, s)
        .await
        .map_err(|e| ScimError::NotFound(format!("no SCIM endpoint here: {e}")))?;
    let base = integrations::endpoint(s.app.settings.public_base(), &p.tenant, &p.integration_id);
    Ok(Scope {
        tenant_id: p.tenant,
        integration_id: p.integration_id,
        base,
        now: s.app.clock.now_millis(),
        pages: s.app.db.page_cursors().clone(),
        cursor_key: s.app.db.cursor_key().map_err(ScimError::from)?,
        last_write: LastWrite::default(),
        audit: ScimAudit::default(),
    })
}

fn is_failure(res: &Response) -> bool {
    res.status().is_client_error() || res.status().is_server_error()
}

/// Whether the request only reads: `GET`/`HEAD`, and the `.search` queries sent as `POST`.
fn reads_only(parts: &Parts) -> bool {
    let m = &parts.method;
    *m == axum::http::Method::GET
        || *m == axum::http::Method::HEAD
        || parts.uri.path().ends_with("/.search")
}

/// Opens the request's transaction (or, for a read, takes a connection) and checks the token. A busy database
/// is 503; a refusal is counted for the server log.
async fn authenticate(
    s: &ScimState,
    scope: &Scope,
    read: bool,
    token: Option<&str>,
) -> Result<(RequestTx, Caller), Failure> {
    let opened = if read {
        s.app.db.acquire().await.map(RequestTx::Read)
    } else {
        s.app
            .db
            .begin_write_keeping_credentials()
            .await
            .map(RequestTx::Write)
    };
    let mut tx = opened.map_err(|e| {
        tracing::warn!(error = %e, "SCIM request not taken");
        Failure::from(ScimError::from(e))
    })?;
    let (t, i) = (&scope.tenant_id, &scope.integration_id);
    let cache = s.app.db.credential_cache();
    match integrations::authenticate(tx.conn(), cache, scope.now, t, i, token).await {
        Ok(caller) => Ok((tx, caller)),
        Err(e) => {
            if matches!(e.status(), 401 | 404) {
                s.refused.note(e.status(), e.detail());
            }
            Err(e.into())
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = header_str(headers, header::AUTHORIZATION)?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A SCIM request body: `application/scim+json` (or `application/json`), valid JSON.
pub struct ScimJson(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimJson {
    type Rejection = Failure;

    async fn from_request(req: Request, s: &S) -> Result<Self, Failure> {
        let ct = header_str(req.headers(), header::CONTENT_TYPE)
            .unwrap_or("")
            .to_string();
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if mime != CONTENT_TYPE && mime != "application/json" {
            return Err(ScimError::UnsupportedMediaType(format!(
                "send the body as {CONTENT_TYPE} (or application/json), not `{ct}`"
            ))
            .into());
        }
        let bytes = Bytes::from_request(req, s)
            .await
            .map_err(|e| ScimError::InvalidSyntax(format!("the body could not be read: {e}")))?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Failure::from(ScimError::InvalidSyntax(format!(
                "the body is not valid JSON: {e}"
            )))
        })?;
        // In JSON a NUL can only be written as an escape: most bodies are never walked.
        if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
            if let Some(at) = nul_at(&body, String::new()) {
                return Err(ScimError::InvalidValue(format!(
                    "`{at}` holds a NUL character (\\u0000); remove it and send again"
                ))
                .into());
            }
        }
        Ok(ScimJson(body))
    }
}

/// Where a string of `v` (a name or a value) holds a NUL character, as a dotted path; identity
/// data never does, and PostgreSQL's text cannot store one.
fn nul_at(v: &Value, at: String) -> Option<String> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_string()
        } else {
            format!("{at}.{key}")
        }
    };
    match v {
        Value::String(s) if s.contains('\0') => Some(at),
        Value::Array(items) => items.iter().find_map(|item| nul_at(item, at.clone())),
        Value::Object(map) => map.iter().find_map(|(key, value)| {
            if key.contains('\0') {
                Some(join(key))
            } else {
                nul_at(value, join(key))
            }
        }),
        _ => None,
    }
}

/// The query string's parameters, percent-decoded (`+` is a space).
pub struct ScimQuery(pub Query);

impl<S: Send + Sync> FromRequestParts<S> for ScimQuery {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let pairs = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k, true), percent_decode(v, true))
            });
        Ok(ScimQuery(Query(pairs.collect())))
    }
}

/// The `If-Match` and `If-None-Match` headers.
pub struct Preconditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Preconditions {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let get = |name| header_str(&parts.headers, name).map(str::to_string);
        Ok(Preconditions {
            if_match: get(header::IF_MATCH),
            if_none_match: get(header::IF_NONE_MATCH),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_other_schemes_are_no_token() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn a_logged_path_is_cut_at_two_kilobytes() {
        let req = Request::builder()
            .uri(format!("/x?{}", "a".repeat(4096)))
            .body(Body::empty())
            .unwrap();
        let p = logged_path(&req);
        assert!(p.len() <= LOG_PATH_MAX + '…'.len_utf8(), "{}", p.len());
    }
}
