//! The SCIM handlers, one per resource and method: each extracts, calls `iam::scim` in the
//! request's transaction, and maps the result to a [`Reply`].

use axum::extract::Path;

use super::reply::{Answer, Failure, Reply};
use super::request::{Preconditions, ScimCaller, ScimJson, ScimQuery, MAX_PAYLOAD};
use crate::iam::scim::{self, Kind};
use crate::iam::scim_users::MAX_RESULTS;
use crate::scim::discovery::{self, ServiceProviderOptions};
use crate::scim::ScimError;

/// A resource type as a type, so one generic handler serves `/Users` and `/Groups`.
pub trait Resource: Send + Sync + 'static {
    const KIND: Kind;
}

pub struct Users;
pub struct Groups;

impl Resource for Users {
    const KIND: Kind = Kind::Users;
}

impl Resource for Groups {
    const KIND: Kind = Kind::Groups;
}

/// The `{id}` of `/Users/{id}` and `/Groups/{id}`.
#[derive(serde::Deserialize)]
pub struct Item {
    id: String,
}

pub async fn list<R: Resource>(c: ScimCaller, ScimQuery(q): ScimQuery) -> Answer {
    let mut tx = c.tx().await?;
    Ok(Reply::Text(scim::list(&mut tx, c.on(R::KIND), &q).await?))
}

pub async fn search<R: Resource>(c: ScimCaller, ScimJson(body): ScimJson) -> Answer {
    let mut tx = c.tx().await?;
    Ok(Reply::Text(
        scim::search(&mut tx, c.on(R::KIND), &body).await?,
    ))
}

pub async fn create<R: Resource>(
    c: ScimCaller,
    ScimQuery(q): ScimQuery,
    ScimJson(body): ScimJson,
) -> Answer {
    let mut tx = c.tx().await?;
    Ok(Reply::created(
        scim::create(&mut tx, c.on(R::KIND), &body, &q).await?,
    ))
}

pub async fn get<R: Resource>(
    c: ScimCaller,
    Path(item): Path<Item>,
    ScimQuery(q): ScimQuery,
    pre: Preconditions,
) -> Answer {
    let mut tx = c.tx().await?;
    let inm = pre.if_none_match.as_deref();
    let fetched = scim::get(&mut tx, c.on(R::KIND), &item.id, &q, inm).await?;
    Ok(Reply::fetched(fetched))
}

pub async fn replace<R: Resource>(
    c: ScimCaller,
    (Path(item), ScimQuery(q), pre): (Path<Item>, ScimQuery, Preconditions),
    ScimJson(body): ScimJson,
) -> Answer {
    let mut tx = c.tx().await?;
    let im = pre.if_match.as_deref();
    let v = scim::replace(&mut tx, c.on(R::KIND), &item.id, &body, &q, im).await?;
    Ok(Reply::resource(v))
}

pub async fn patch<R: Resource>(
    c: ScimCaller,
    (Path(item), ScimQuery(q), pre): (Path<Item>, ScimQuery, Preconditions),
    ScimJson(body): ScimJson,
) -> Answer {
    let mut tx = c.tx().await?;
    let im = pre.if_match.as_deref();
    let v = scim::patch(&mut tx, c.on(R::KIND), &item.id, &body, &q, im).await?;
    Ok(Reply::patched(v))
}

pub async fn delete<R: Resource>(
    c: ScimCaller,
    Path(item): Path<Item>,
    pre: Preconditions,
) -> Answer {
    let mut tx = c.tx().await?;
    let im = pre.if_match.as_deref();
    scim::delete(&mut tx, c.on(R::KIND), &item.id, im).await?;
    Ok(Reply::NoContent)
}

/// `POST /.search`: Users and Groups in one list.
pub async fn root_search(c: ScimCaller, ScimJson(body): ScimJson) -> Answer {
    let mut tx = c.tx().await?;
    Ok(Reply::Text(
        scim::root_search(&mut tx, &c.scope, &c.caller, &body).await?,
    ))
}

pub async fn service_provider_config(c: ScimCaller) -> Answer {
    let opts = ServiceProviderOptions {
        max_payload_size: MAX_PAYLOAD,
        max_results: MAX_RESULTS as usize,
        change_password: true,
        sort: true,
        etag: true,
        ..ServiceProviderOptions::default()
    };
    Ok(Reply::Json(discovery::service_provider_config(
        &c.scope.base,
        &opts,
    )))
}

pub async fn resource_types(c: ScimCaller) -> Answer {
    Ok(Reply::Text(discovery::resource_types(&c.scope.base).into()))
}

pub async fn resource_type(c: ScimCaller, Path(item): Path<Item>) -> Answer {
    Ok(Reply::Json(discovery::resource_type(
        &c.scope.base,
        &item.id,
    )?))
}

pub async fn schemas(c: ScimCaller) -> Answer {
    Ok(Reply::Text(discovery::schemas(&c.scope.base).into()))
}

pub async fn schema(c: ScimCaller, Path(item): Path<Item>) -> Answer {
    Ok(Reply::Json(discovery::schema(&c.scope.base, &item.id)?))
}

/// `/Bulk`, any method.
pub async fn bulk(_: ScimCaller) -> Failure {
    ScimError::MethodNotAllowed(
        "bulk operations are not supported (bulk.supported is false)".into(),
    )
    .into()
}

/// A path under the endpoint that names no resource (after authentication, like every path).
pub async fn unknown_resource(_: ScimCaller, uri: axum::http::Uri) -> Failure {
    // The path below the endpoint: `/api/v1/{tenant}/integrations/{id}/scim/v2` is 7 segments.
    let below = uri.path().splitn(9, '/').nth(8).unwrap_or("");
    ScimError::NotFound(format!(
        "no SCIM resource at /{below}; try /Users or /Groups"
    ))
    .into()
}

/// A path outside any SCIM endpoint (no integration to authenticate against).
pub async fn no_endpoint(path: axum::http::Uri) -> Failure {
    ScimError::NotFound(format!("no SCIM endpoint at {}", path.path())).into()
}

/// A wrong method on a known path: 405 with `Allow`, after authentication.
pub fn only(
    allow: &'static str,
) -> impl Fn(ScimCaller) -> std::future::Ready<Failure> + Clone + Send + Sync + 'static {
    move |_| std::future::ready(Failure::not_allowed(allow))
}
