//! The SCIM service the endpoint calls, one function per operation over `scim_users` and
//! `scim_groups`: the permission each operation needs, root search across both resource types,
//! projections (`attributes` / `excludedAttributes`) and what a Groups PATCH answers.

use serde_json::Value;

use crate::db::{self, Conn};
use crate::iam::integrations::Caller;
use crate::iam::permissions::{Action, Resource};
use crate::iam::scim_groups;
use crate::iam::scim_users::{self, etag_matches, Scope, MAX_RESULTS};
use crate::scim::cursor::CursorWalk;
use crate::scim::filter;
use crate::scim::json_text::JsonText;
use crate::scim::projection::Projection;
use crate::scim::resource::{After, ListPage, ListQuery};
use crate::scim::schema::ResourceTypeDef;
use crate::scim::{registry, ScimError};

/// The two resource types an integration provisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Users,
    Groups,
}

/// What a request does to a resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    List,
    Search,
    Create,
    Get,
    Replace,
    Patch,
    Delete,
}

impl Kind {
    pub fn resource_type(self) -> &'static ResourceTypeDef {
        match self {
            Kind::Users => registry().user(),
            Kind::Groups => registry().group(),
        }
    }
}

/// The permission `op` on `kind` needs. Users are global: a Users `DELETE` only removes this
/// tenant's access, so it is an update.
pub fn check_permission(caller: &Caller, kind: Kind, op: Op) -> Result<(), ScimError> {
    let resource = match kind {
        Kind::Users => Resource::Users,
        Kind::Groups => Resource::Groups,
    };
    let action = match (kind, op) {
        (_, Op::List | Op::Search | Op::Get) => Action::Read,
        (_, Op::Create) => Action::Create,
        (_, Op::Replace | Op::Patch) | (Kind::Users, Op::Delete) => Action::Update,
        (Kind::Groups, Op::Delete) => Action::Delete,
    };
    caller.require(resource, action)
}

/// The query string's parameters, decoded, in order.
#[derive(Debug, Clone, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    /// A parameter by name (case-insensitive, as RFC 7644 names are).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn list_query(&self) -> Result<ListQuery, ScimError> {
        ListQuery::from_pairs(self.0.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    fn projection(&self, kind: Kind) -> Result<Projection, ScimError> {
        let (attrs, excluded) = (self.param("attributes"), self.param("excludedAttributes"));
        Projection::from_query(kind.resource_type(), attrs, excluded)
    }

    fn asks_attributes(&self) -> bool {
        self.param("attributes").is_some() || self.param("excludedAttributes").is_some()
    }
}

/// Who asks, where, about which resource type.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    pub scope: &'a Scope,
    pub caller: &'a Caller,
    pub kind: Kind,
}

impl Call<'_> {
    fn may(&self, op: Op) -> Result<(), ScimError> {
        check_permission(self.caller, self.kind, op)
    }
}

/// A resource as answered, with its version (the ETag value).
#[derive(Debug)]
pub struct Versioned {
    pub body: Answered,
    pub version: String,
}

/// A resource's body: a JSON value, or JSON text already written (a user in the default view:
/// no tree is built, rendered and serialized; a group, whose members are written as text), with
/// its `meta.location`.
#[derive(Debug)]
pub enum Answered {
    Value(Value),
    Text { json: JsonText, location: String },
}

/// What a `GET` of one resource answers.
#[derive(Debug)]
pub enum Fetched {
    Resource(Versioned),
    /// `If-None-Match` named the current version.
    NotModified(String),
}

/// `GET /{kind}`: the ListResponse, as JSON text.
pub async fn list(conn: &mut Conn, call: Call<'_>, query: &Query) -> Result<JsonText, ScimError> {
    call.may(Op::List)?;
    answer_list(conn, call, query.list_query()?).await
}

/// `POST /{kind}/.search`: the ListResponse, as JSON text.
pub async fn search(conn: &mut Conn, call: Call<'_>, body: &Value) -> Result<JsonText, ScimError> {
    call.may(Op::Search)?;
    answer_list(conn, call, ListQuery::from_search_body(body)?).await
}

/// A page of `call`'s list, paged by `startIndex` or by cursor (RFC 9865).
async fn answer_list(
    conn: &mut Conn,
    call: Call<'_>,
    mut q: ListQuery,
) -> Result<JsonText, ScimError> {
    let list = call.kind.resource_type().endpoint;
    let scope = call.scope;
    let walk = CursorWalk::begin(
        &mut q,
        list,
        &scope.integration_id,
        MAX_RESULTS,
        &scope.cursor_key,
    )?;
    let mut page = list_of(conn, call, &q).await?;
    if let Some(end) = walk.as_ref().and_then(|w| w.end_to_confirm(&page)) {
        if !resumes_with_more(conn, call, &q, end.clone()).await? {
            page.walk_end = None;
        }
    }
    Ok(paged(page, &q, walk.as_ref()))
}

/// Whether `q`'s list holds a resource after `end`, its resume point: the list asked again,
/// from there, for one resource's `id`.
async fn resumes_with_more(
    conn: &mut Conn,
    call: Call<'_>,
    q: &ListQuery,
    end: After,
) -> Result<bool, ScimError> {
    let past = ListQuery {
        attributes: vec!["id".into()],
        excluded_attributes: Vec::new(),
        count: Some(1),
        after: Some(end),
        ..q.clone()
    };
    Ok(!list_of(conn, call, &past).await?.is_empty())
}

/// `page` as its ListResponse: with its `nextCursor` when the request paged by cursor.
fn paged(page: ListPage, q: &ListQuery, walk: Option<&CursorWalk>) -> JsonText {
    match walk {
        Some(walk) => {
            let next = walk.next_cursor(&page);
            page.into_cursor_response(next.as_deref())
        }
        None => page.into_response(q.start_index),
    }
}

async fn list_of(conn: &mut Conn, call: Call<'_>, q: &ListQuery) -> Result<ListPage, ScimError> {
    match call.kind {
        Kind::Users => scim_users::list(conn, call.scope, q).await,
        Kind::Groups => scim_groups::list(conn, call.scope, q).await,
    }
}

/// `GET /{kind}/{id}`: the resource, or not modified when `If-None-Match` names its version.
pub async fn get(
    conn: &mut Conn,
    call: Call<'_>,
    id: &str,
    query: &Query,
    if_none_match: Option<&str>,
) -> Result<Fetched, ScimError> {
    call.may(Op::Get)?;
    let p = query.projection(call.kind)?;
    let (body, version) = load(conn, call, id, &p).await?;
    if if_none_match.is_some_and(|h| etag_matches(h, &version)) {
        return Ok(Fetched::NotModified(version));
    }
    Ok(Fetched::Resource(projected(&p, body, version)))
}

async fn load(
    conn: &mut Conn,
    call: Call<'_>,
    id: &str,
    p: &Projection,
) -> Result<(Answered, String), ScimError> {
    match call.kind {
        Kind::Users => {
            scim_users::get(conn, call.scope, id, p.includes("groups"), p.is_default()).await
        }
        Kind::Groups => scim_groups::get(conn, call.scope, id, p).await,
    }
}

/// `POST /{kind}`.
pub async fn create(
    conn: &mut Conn,
    call: Call<'_>,
    body: &Value,
    query: &Query,
) -> Result<Versioned, ScimError> {
    call.may(Op::Create)?;
    let p = query.projection(call.kind)?;
    let (body, version) = match call.kind {
        Kind::Users => scim_users::create(conn, call.scope, body, p.is_default()).await?,
        Kind::Groups => scim_groups::create(conn, call.scope, body, &p).await?,
    };
    Ok(projected(&p, body, version))
}

/// `PUT /{kind}/{id}`.
pub async fn replace(
    conn: &mut Conn,
    call: Call<'_>,
    id: &str,
    body: &Value,
    query: &Query,
    if_match: Option<&str>,
) -> Result<Versioned, ScimError> {
    call.may(Op::Replace)?;
    let p = query.projection(call.kind)?;
    let (body, version) = match call.kind {
        Kind::Users => {
            let as_text = p.is_default();
            scim_users::replace(conn, call.scope, id, body, if_match, as_text).await?
        }
        Kind::Groups => scim_groups::replace(conn, call.scope, id, body, if_match, &p).await?,
    };
    Ok(projected(&p, body, version))
}

/// What a PATCH answers.
#[derive(Debug)]
pub enum Patched {
    Resource(Versioned),
    /// Only the new version (a Groups PATCH that asked for no attributes: 204 with its ETag,
    /// as RFC 5789 §2.1's example answers, so the next `If-Match` needs no read).
    Version(String),
}

/// `PATCH /{kind}/{id}`. A Users PATCH answers the user; a Groups PATCH answers its new version
/// alone unless `attributes` or `excludedAttributes` ask for the group (a large group's member
/// list is not sent back on every change).
pub async fn patch(
    conn: &mut Conn,
    call: Call<'_>,
    id: &str,
    body: &Value,
    query: &Query,
    if_match: Option<&str>,
) -> Result<Patched, ScimError> {
    call.may(Op::Patch)?;
    let p = query.projection(call.kind)?;
    if call.kind == Kind::Users {
        let as_text = p.is_default();
        let (body, version) =
            scim_users::patch(conn, call.scope, id, body, if_match, as_text).await?;
        return Ok(Patched::Resource(projected(&p, body, version)));
    }
    let version = scim_groups::patch(conn, call.scope, id, body, if_match).await?;
    if !query.asks_attributes() {
        return Ok(Patched::Version(version));
    }
    let (v, version) = load(conn, call, id, &p).await?;
    Ok(Patched::Resource(projected(&p, v, version)))
}

/// `DELETE /{kind}/{id}`.
pub async fn delete(
    conn: &mut Conn,
    call: Call<'_>,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), ScimError> {
    call.may(Op::Delete)?;
    match call.kind {
        Kind::Users => scim_users::delete(conn, call.scope, id, if_match).await,
        Kind::Groups => scim_groups::delete(conn, call.scope, id, if_match).await,
    }
}

/// The answer under projection `p`; text is written in the default view already (only a
/// default projection asks for it), so there is nothing to project.
fn projected(p: &Projection, body: Answered, version: String) -> Versioned {
    let body = match body {
        Answered::Value(v) => Answered::Value(p.apply(v)),
        text @ Answered::Text { .. } => text,
    };
    Versioned { body, version }
}

/// `POST /.search` (RFC 7644 §3.4.3): Users, then Groups, paged as one list. Needs read on both.
pub async fn root_search(
    conn: &mut Conn,
    scope: &Scope,
    caller: &Caller,
    body: &Value,
) -> Result<JsonText, ScimError> {
    check_permission(caller, Kind::Users, Op::Search)?;
    check_permission(caller, Kind::Groups, Op::Search)?;
    let mut q = ListQuery::from_search_body(body)?;
    // Its cursors hold an offset alone: Users then Groups are no one walk in creation order.
    let walk = CursorWalk::begin(
        &mut q,
        "/.search",
        &scope.integration_id,
        MAX_RESULTS,
        &scope.cursor_key,
    )?;
    q.after = None;
    let mut page = RootPage::new(&q);
    // Both types at one moment: a user's `groups` and the groups' `members` agree, and the total
    // counts one directory.
    let mut snapshot = db::read_at_one_moment(conn).await?;
    for kind in [Kind::Users, Kind::Groups] {
        page.add(
            &mut snapshot,
            Call {
                scope,
                caller,
                kind,
            },
            &q,
        )
        .await?;
    }
    snapshot
        .commit()
        .await
        .map_err(crate::error::AppError::from)?;
    Ok(paged(page.page, &q, walk.as_ref()))
}

/// The root search's page as it fills: the offset left to skip and the room left.
struct RootPage {
    offset: u64,
    remaining: u64,
    page: ListPage,
}

impl RootPage {
    fn new(q: &ListQuery) -> Self {
        Self {
            offset: q.start_index.saturating_sub(1),
            remaining: q.count.unwrap_or(MAX_RESULTS).min(MAX_RESULTS),
            page: ListPage::default(),
        }
    }

    /// Adds one resource type's part. A type whose schema lacks an attribute of the filter has
    /// no matches.
    async fn add(
        &mut self,
        conn: &mut Conn,
        call: Call<'_>,
        q: &ListQuery,
    ) -> Result<(), ScimError> {
        let rt = call.kind.resource_type();
        if q.filter
            .as_ref()
            .is_some_and(|f| filter::validate(f, rt).is_err())
        {
            return Ok(());
        }
        let mut part = q.clone();
        part.start_index = self.offset + 1;
        part.count = Some(self.remaining);
        let part = list_of(conn, call, &part).await?;
        self.page.total += part.total;
        self.remaining = self.remaining.saturating_sub(part.len() as u64);
        self.offset = self.offset.saturating_sub(part.total);
        self.page.append(part);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_found_by_any_case() {
        let q = Query(vec![("ATTRIBUTES".into(), "userName".into())]);
        assert_eq!(q.param("attributes"), Some("userName"));
        assert!(q.asks_attributes());
        assert!(!Query::default().asks_attributes());
    }
}
