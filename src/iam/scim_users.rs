//! SCIM Users in one tenant, as one integration provisions them.
//!
//! Users are global; SCIM is per tenant. The rules (the cross-tenant ones are decided in
//! `iam::reach`):
//! - `userName` is unique across the instance, compared case-insensitively and stored as sent. A
//!   POST whose `userName` exists globally but not in this tenant links that user (grants access,
//!   201) when the tenant may take them in: a superadmin's name is reserved (409), and a user who
//!   can enter another tenant is linked only where the tenant allows it (else 409). When this
//!   tenant already has the user it is 409 `uniqueness`. Superadmins are invisible to integrations.
//! - The integration that created a user (`users.created_by`) owns its global attributes (name,
//!   displayName, the other SCIM attributes) and sees them; the credentials (password, userName,
//!   emails) it changes only while the user can enter no other tenant. Any other integration sees
//!   and changes only what is scoped to its tenant: its own `externalId` for the user, the user's
//!   `active` flag in this tenant, and memberships in this tenant's groups. Global attributes it
//!   sends are ignored; a password it sends is refused with 403.
//! - An integration changes (PUT, PATCH, DELETE) only users it gave access to this tenant.
//! - `active: false` suspends the user in this tenant at once (permissions are computed per
//!   request); sessions end only when the user is suspended in every tenant they belong to.
//!   `DELETE` removes this integration's source of the access; when no source is left the access
//!   and the user's memberships in this tenant's groups go, and the user is 404 here.
//! - Setting a password ends the user's sessions.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use crate::auth::password;
use crate::clock::{Millis, Rfc3339Text};
use crate::db::group_refs::{GroupRefs, RefPrefix};
use crate::db::last_write::LastWrite;
use crate::db::page_cursors::{Continuation, PageCursors, WalkKey};
use crate::db::profile_views::{self, SERVER_ATTRIBUTES};
use crate::db::scim_filter::Kind;
use crate::db::scim_users::{After, ListError, Page, Profile, ProfileText, Refs, ScimUserRow};
use crate::db::{self, Conn};
use crate::iam::audit::{Change, ScimAudit};
use crate::iam::reach::{self, Actor};
use crate::iam::scim::Answered;
use crate::scim::cursor::CursorKey;
use crate::scim::patch::parse_patch_request;
use crate::scim::projection::Projection;
use crate::scim::resource::{self, Intent, ListPage, ListQuery, SortOrder};
use crate::scim::stored_text;
use crate::scim::{push_json_str, registry, ScimError};
use crate::secret::Secret;

/// Most resources one list or search answers (advertised as `filter.maxResults`).
pub const MAX_RESULTS: u64 = 200;

/// Where a SCIM request acts: tenant, integration, endpoint base URL and time.
#[derive(Debug, Clone)]
pub struct Scope {
    pub tenant_id: String,
    pub integration_id: String,
    pub base: String,
    pub now: Millis,
    /// Where this server's paging clients' last pages ended (`db::page_cursors`).
    pub pages: PageCursors,
    /// The instance's key that seals RFC 9865 cursors (`scim::cursor`).
    pub cursor_key: CursorKey,
    /// How the request's transaction ends in its last script (`db::last_write`).
    pub last_write: LastWrite,
    /// What the request's writes record in the tenant's audit log (`iam::audit`).
    pub audit: ScimAudit,
}

impl From<ListError> for ScimError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::Scim(s) => s,
            ListError::App(a) => a.into(),
        }
    }
}

/// A user's ETag value (without `W/` and quotes): the global profile's version, the tenant
/// access's, and the digest of their groups in the tenant when they have any
/// ([`db::group_refs::digest`]; a membership change writes no row of the user).
///
/// `{version}-{access version}`, then `-{digest in hex}` when the user has groups, written
/// without `format!`. Only for a row read with its references (not [`Refs::Skipped`]).
pub fn user_version(row: &ScimUserRow) -> String {
    let mut out = String::with_capacity(48);
    let groups = row
        .groups_digest
        .or_else(|| row.group_refs.as_deref().map(db::group_refs::digest));
    debug_assert!(
        groups.is_some(),
        "a user's version needs their group references"
    );
    let mut number = itoa::Buffer::new();
    out.push_str(number.format(row.version));
    out.push('-');
    out.push_str(number.format(row.access_version));
    let groups = groups.unwrap_or(0);
    if groups != 0 {
        out.push('-');
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digits = 16 - groups.leading_zeros() as usize / 4;
        for i in (0..digits).rev() {
            out.push(char::from(HEX[(groups >> (4 * i)) as usize & 15]));
        }
    }
    out
}

/// The weak ETag header value for a version.
pub fn etag(version: &str) -> String {
    format!("W/\"{version}\"")
}

/// Whether an `If-Match` / `If-None-Match` header names `version` (or is `*`).
pub fn etag_matches(header: &str, version: &str) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == version)
}

/// The user as SCIM JSON, before projection. `groups` (the JSON array of group references:
/// [`groups_of`]) is `None` when not loaded. Without `meta` when the row was read without its
/// group references ([`Refs::Skipped`]: a write's own view of the user, whose version is not
/// known and not needed).
pub fn render(scope: &Scope, row: &ScimUserRow, groups: Option<Value>) -> Value {
    let rt = registry().user();
    // The global profile (name, emails, …) is shown only to the integration that wrote it.
    let owner = row.created_by.as_deref() == Some(scope.integration_id.as_str());
    // A row read for the default view may hold the profile's view instead of its JSON: the
    // members the default view shows, which is all this tree then shows of the profile.
    let from_view = || row.scim_view.as_deref().map(stored_text::view_object_text);
    let profile = match row.scim_json.as_deref() {
        Some(json) => Some(std::borrow::Cow::Borrowed(json)),
        None => from_view().map(std::borrow::Cow::Owned),
    };
    let mut obj: Map<String, Value> = profile
        .filter(|_| owner)
        .and_then(|s| serde_json::from_str::<Map<String, Value>>(&s).ok())
        .unwrap_or_default();
    obj.insert("id".into(), json!(row.id));
    obj.insert("userName".into(), json!(row.username));
    match &row.external_id {
        Some(e) => obj.insert("externalId".into(), json!(e)),
        None => obj.remove("externalId"),
    };
    if row.access_active_assigned || !row.access_active {
        obj.insert("active".into(), json!(row.access_active));
    } else {
        obj.remove("active");
    }
    if let Some(groups) = groups {
        obj.insert("groups".into(), groups);
    }
    if row.groups_digest.is_some() || row.group_refs.is_some() {
        obj.insert("meta".into(), user_meta(scope, row));
    }
    resource::render(rt, Value::Object(obj))
}

/// A user's `meta` as a JSON value.
fn user_meta(scope: &Scope, row: &ScimUserRow) -> Value {
    resource::meta(
        "User",
        Rfc3339Text::of(row.created_at).as_str(),
        Rfc3339Text::of(row.updated_at).as_str(),
        &user_location(scope, row),
        Some(&user_version(row)),
    )
}

/// The user's `meta.location` (and a created user's `Location`).
fn user_location(scope: &Scope, row: &ScimUserRow) -> String {
    format!("{}/Users/{}", scope.base, row.id)
}

/// The user as the default projection shows them, written from the stored profile's view (kept
/// with it, `db::profile_views`, or chosen here: [`stored_text::view_members`]) with
/// `groups_json` as their groups, or without `groups` when `None` (`excludedAttributes=groups`)
/// ([`stored_text::write_view`]); `None` when the profile needs
/// [`render`]'s JSON tree. The server's attributes are written one after the other into
/// one text, which the view reads in pieces: one allocation for all of them.
fn default_text(scope: &Scope, row: &ScimUserRow, groups_json: Option<&str>) -> Option<String> {
    let mut text = String::new();
    default_text_into(scope, row, groups_json, &mut text).then_some(text)
}

/// [`default_text`], appended to `out` (a page's text); `false`, with nothing written, where
/// [`default_text`] answers `None`.
fn default_text_into(
    scope: &Scope,
    row: &ScimUserRow,
    groups_json: Option<&str>,
    out: &mut String,
) -> bool {
    let owner = row.created_by.as_deref() == Some(scope.integration_id.as_str());
    let mut server = String::with_capacity(
        256 + scope.base.len()
            + 2 * row.id.len()
            + row.username.len()
            + row.external_id.as_ref().map_or(0, String::len),
    );
    let mut piece = |write: &dyn Fn(&mut String)| {
        let start = server.len();
        write(&mut server);
        start..server.len()
    };
    let shows_active = row.access_active_assigned || !row.access_active;
    let active = shows_active
        .then(|| piece(&|s| s.push_str(if row.access_active { "true" } else { "false" })));
    let external_id = row
        .external_id
        .as_deref()
        .map(|e| piece(&|s| push_json_str(s, e)));
    let id = piece(&|s| push_json_str(s, &row.id));
    let meta = piece(&|s| {
        resource::push_meta_text(
            s,
            "User",
            Rfc3339Text::of(row.created_at).as_str(),
            Rfc3339Text::of(row.updated_at).as_str(),
            &[&scope.base, "/Users/", &row.id],
            Some(&user_version(row)),
        )
    });
    let username = piece(&|s| push_json_str(s, &row.username));
    let text = |range: std::ops::Range<usize>| &server[range];
    let set = [
        ("active", active.map(text)),
        ("externalId", external_id.map(text)),
        ("groups", groups_json),
        ("id", Some(text(id))),
        ("meta", Some(text(meta))),
        ("userName", Some(text(username))),
    ];
    debug_assert!(set.iter().map(|(n, _)| *n).eq(SERVER_ATTRIBUTES));
    let rt = registry().user();
    // The profile's view: kept with it, or chosen from its JSON here (a profile written before
    // views were kept, or one whose view was dropped); another integration's user shows none.
    let chosen;
    let view = match (owner, row.scim_view.as_deref()) {
        (false, _) => no_profile_view(),
        (true, Some(kept)) => kept,
        (true, None) => {
            let Some(view) =
                stored_text::view_members(rt, row.scim_json.as_deref(), &SERVER_ATTRIBUTES)
            else {
                return false;
            };
            chosen = view;
            chosen.as_str()
        }
    };
    stored_text::write_view_into(rt, view, &set, out)
}

/// The view of a user whose profile is not shown (another integration's user): the empty arrays.
fn no_profile_view() -> &'static str {
    static VIEW: OnceLock<String> = OnceLock::new();
    VIEW.get_or_init(|| {
        stored_text::view_members(registry().user(), None, &SERVER_ATTRIBUTES)
            .map(|v| v.as_str().to_string())
            .unwrap_or_default()
    })
}

/// What a read of a user brings of their profile: its kept view when the answer is the default
/// view written as text (`as_text`), else its JSON.
fn profile_for(as_text: bool) -> ProfileText {
    if as_text {
        ProfileText::ViewOrJson
    } else {
        ProfileText::Json
    }
}

/// One user of the scope, with what `refs` asks of their group references (same statement) and
/// what `profile` asks of their stored profile.
async fn find(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    refs: Refs,
    profile: ProfileText,
) -> Result<ScimUserRow, ScimError> {
    db::scim_users::find(
        conn,
        &scope.tenant_id,
        &scope.integration_id,
        id,
        refs,
        profile,
    )
    .await?
    .ok_or_else(|| ScimError::NotFound(format!("no user `{id}` in this tenant")))
}

/// Loads and answers one user ([`answer`]); `with_groups` loads memberships.
pub async fn get(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    with_groups: bool,
    as_text: bool,
) -> Result<(Answered, String), ScimError> {
    let refs = if with_groups {
        Refs::Kept
    } else {
        Refs::Digested
    };
    let mut row = find(conn, scope, id, refs, profile_for(as_text)).await?;
    Ok((answer(scope, &mut row, as_text), user_version(&row)))
}

/// A user as answered: JSON text in the default view when `as_text`, their group references
/// were read and the profile allows it ([`default_text`]), else the rendered value.
fn answer(scope: &Scope, row: &mut ScimUserRow, as_text: bool) -> Answered {
    if let Some(refs) = row.group_refs.as_deref().filter(|_| as_text) {
        let mut groups = String::new();
        let parsed = GroupRefs::parse(refs);
        parsed.write_json(&RefPrefix::new(&scope.base), &mut groups);
        row.groups_digest = Some(parsed.digest());
        if let Some(json) = default_text(scope, row, Some(&groups)) {
            let location = user_location(scope, row);
            return Answered::Text {
                json: json.into(),
                location,
            };
        }
    }
    Answered::Value(render(scope, row, groups_of(scope, row)))
}

/// `GET /Users` and `POST /Users/.search`.
pub async fn list(conn: &mut Conn, scope: &Scope, q: &ListQuery) -> Result<ListPage, ScimError> {
    let rt = registry().user();
    let projection = Projection::new(rt, &q.attributes, &q.excluded_attributes)?;
    if let Some(f) = &q.filter {
        crate::scim::filter::validate(f, rt)?;
    }
    let limit = q.count.unwrap_or(MAX_RESULTS).min(MAX_RESULTS) as i64;
    if let Some(f) = q
        .filter
        .as_ref()
        .filter(|f| !db::scim_filter::is_indexed(Kind::User, f))
    {
        return list_in_memory(conn, scope, q, f, &projection, limit).await;
    }
    // A `startIndex` walk of the whole list in the default order continues where this server
    // ended its last page.
    let walk = |start_index: i64| {
        (q.filter.is_none() && q.sort_by.is_none()).then(|| WalkKey {
            tenant_id: scope.tenant_id.clone(),
            integration_id: scope.integration_id.clone(),
            descending: q.sort_order == SortOrder::Descending,
            start_index,
        })
    };
    // Without `groups` (their digest, the users' version, is still read), the default view's
    // text path too: a client that asks for less is not sent through the JSON tree for it.
    let default_but_groups = projection.is_default_but("groups");
    let start_index = q.start_index.max(1) as i64;
    // A cursor's resume point (`scim::cursor`), else the page end this server gave the walk.
    let continued = match &q.after {
        Some(after) => Some(Continuation {
            after: after.clone(),
            skip: 0,
        }),
        None => walk(start_index).and_then(|k| scope.pages.find(&k)),
    };
    let page = Page {
        filter: q.filter.as_ref(),
        sort_by: q.sort_by.as_ref(),
        sort_order: q.sort_order,
        offset: start_index - 1,
        limit,
        after: continued.as_ref().map(|c| (&c.after, c.skip)),
        // Each user's group references come in the page's own statement.
        with_group_refs: projection.includes("groups"),
        profile: profile_for(projection.is_default() || default_but_groups),
    };
    let (total, mut rows) =
        db::scim_users::list(conn, &scope.tenant_id, &scope.integration_id, &page).await?;
    let walk_end = rows
        .last()
        .filter(|_| db::scim_users::resumes_after(&page))
        .map(|last| After {
            created_at: last.created_at,
            id: last.id.clone(),
        });
    // A cursor-paged walk holds its own position: its offsets are no key for others.
    if let Some((next, end)) = walk(start_index + rows.len() as i64).zip(walk_end.as_ref()) {
        if rows.len() as i64 == limit && q.cursor.is_none() {
            scope.pages.save(next, end.clone());
        }
    }
    let as_written = projection.keeps_whole("groups");
    let default_view = projection.is_default();
    let prefix = RefPrefix::new(&scope.base);
    // Room for the page up front, so that its text is not copied into larger buffers as it
    // grows: each user's profile, server attributes and `$ref`s, and their references written
    // out (a reference listed in 70 bytes is written in about 240, its `$ref` under the base).
    let room: usize = rows
        .iter()
        .map(|r| {
            let profile = r.scim_view.as_ref().or(r.scim_json.as_ref());
            let refs = r.group_refs.as_ref().map_or(0, String::len);
            768 + 2 * scope.base.len() + profile.map_or(0, String::len) + 4 * refs
        })
        .sum();
    let mut items = ListPage::with_capacity(total.max(0) as u64, room);
    items.walk_end = walk_end;
    let mut refs_json = String::new();
    for row in &mut rows {
        if default_but_groups
            && items.try_push_with(|out| default_text_into(scope, row, None, out.text_mut()))
        {
            continue;
        }
        // The references are written into the answer's text, not built as a JSON tree; their
        // digest (the user's version) is found on the same pass.
        let refs_written = match row.group_refs.as_deref() {
            Some(refs) if default_view || as_written => {
                refs_json.clear();
                let parsed = GroupRefs::parse(refs);
                parsed.write_json(&prefix, &mut refs_json);
                row.groups_digest = Some(parsed.digest());
                true
            }
            _ => false,
        };
        let row = &*row;
        if refs_written
            && default_view
            && items.try_push_with(|out| {
                default_text_into(scope, row, Some(&refs_json), out.text_mut())
            })
        {
            continue;
        }
        if refs_written && as_written {
            let mut user = projection.apply(render(scope, row, None));
            if let Some(obj) = user.as_object_mut() {
                obj.remove("groups");
            }
            items.push_with(|out| {
                resource::push_text_with(out, &user, "groups", |o| o.push_str(&refs_json))
            });
        } else {
            let user = projection.apply(render(scope, row, groups_of(scope, row)));
            items.push_with(|out| resource::push_json_text(out.text_mut(), &user));
        }
    }
    Ok(items)
}

/// A user's group references as a JSON value, when the read loaded them.
fn groups_of(scope: &Scope, row: &ScimUserRow) -> Option<Value> {
    let refs = row.group_refs.as_deref()?;
    Some(GroupRefs::parse(refs).to_value(&scope.base))
}

/// Most users of a tenant a filter on unindexed attributes may scan; beyond it the filter is
/// refused (400 `tooMany`) rather than answered partly.
pub const MAX_SCAN: i64 = 1000;

/// A filter that names attributes without a column (e.g. `title`, `name.givenName`): the core's
/// evaluator over the tenant's users, bounded by [`MAX_SCAN`].
async fn list_in_memory(
    conn: &mut Conn,
    scope: &Scope,
    q: &ListQuery,
    filter: &crate::scim::Filter,
    projection: &Projection,
    limit: i64,
) -> Result<ListPage, ScimError> {
    let rt = registry().user();
    let page = Page {
        filter: None,
        sort_by: q.sort_by.as_ref(),
        sort_order: q.sort_order,
        offset: 0,
        limit: MAX_SCAN + 1,
        after: None,
        with_group_refs: true,
        // The filter reads the whole profile.
        profile: ProfileText::Json,
    };
    let (_, rows) =
        db::scim_users::list(conn, &scope.tenant_id, &scope.integration_id, &page).await?;
    if rows.len() as i64 > MAX_SCAN {
        return Err(ScimError::TooMany(format!(
            "this filter needs attributes without an index and the tenant has more than {MAX_SCAN} \
             users; filter on userName, externalId, emails.value, displayName, active or \
             meta.lastModified"
        )));
    }
    let mut matched = Vec::new();
    for row in &rows {
        let v = render(scope, row, groups_of(scope, row));
        if crate::scim::filter::matches(filter, &v, rt) {
            matched.push(v);
        }
    }
    let total = matched.len() as u64;
    let items = matched
        .into_iter()
        .skip(q.start_index.saturating_sub(1) as usize)
        .take(limit.max(0) as usize)
        .map(|v| projection.apply(v))
        .collect();
    Ok(ListPage::of_values(items, total))
}

struct Incoming {
    resource: Value,
    password: Option<String>,
}

fn split_password(mut resource: Value) -> Result<Incoming, ScimError> {
    let password = match resource.as_object_mut().and_then(|o| o.remove("password")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            return Err(ScimError::InvalidValue(
                "`password` must be a string".into(),
            ))
        }
    };
    Ok(Incoming { resource, password })
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The emails of a resource as `(value, type)`, and the primary one (else the first).
fn emails_of(v: &Value) -> (Vec<(String, String)>, Option<String>) {
    emails_in(
        v.get("emails")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice),
    )
}

/// [`emails_of`] a profile's `emails` items.
fn emails_in(items: &[Value]) -> (Vec<(String, String)>, Option<String>) {
    let mut out = Vec::with_capacity(items.len());
    let mut primary = None;
    for e in items {
        let Some(value) = str_of(e, "value").map(str::trim).filter(|s| !s.is_empty()) else {
            continue;
        };
        if e.get("primary").and_then(Value::as_bool) == Some(true) && primary.is_none() {
            primary = Some(value.to_string());
        }
        out.push((
            value.to_string(),
            str_of(e, "type").unwrap_or("").to_string(),
        ));
    }
    if primary.is_none() {
        primary = out.first().map(|(v, _)| v.clone());
    }
    (out, primary)
}

/// The `emails` items of a stored profile's text, without building the rest of it as a JSON tree
/// (its other members are skipped as they are parsed); none when the text is not an object.
fn stored_emails(scim_json: &str) -> Vec<Value> {
    #[derive(serde::Deserialize)]
    struct Emails {
        #[serde(default)]
        emails: Option<Vec<Value>>,
    }
    serde_json::from_str::<Emails>(scim_json)
        .ok()
        .and_then(|e| e.emails)
        .unwrap_or_default()
}

/// What is stored as `scim_json`: the resource without the attributes that have their own column
/// or are per tenant / computed.
fn stored_json(resource: &Value) -> String {
    resource::object_text_without(
        resource,
        &[
            "id",
            "meta",
            "groups",
            "userName",
            "externalId",
            "active",
            "password",
        ],
    )
}

async fn hash_password(text: &str) -> Result<String, ScimError> {
    crate::model::validate_new_password(text)
        .map_err(|m| ScimError::InvalidValue(format!("password: {m}")))?;
    Ok(password::hash(Secret::new(text)).await?)
}

fn username_of(resource: &Value) -> Result<String, ScimError> {
    let name = str_of(resource, "userName")
        .unwrap_or("")
        .trim()
        .to_string();
    crate::model::Username::parse(name)
        .map(String::from)
        .map_err(|m| ScimError::InvalidValue(format!("userName: {m}")))
}

/// `POST /Users`. The new user is answered as JSON text in the default view when `as_text` and
/// the profile allows it ([`default_text`]), else as the rendered value.
pub async fn create(
    conn: &mut Conn,
    scope: &Scope,
    body: &Value,
    as_text: bool,
) -> Result<(Answered, String), ScimError> {
    let rt = registry().user();
    let incoming = split_password(resource::validate_resource(rt, body, Intent::Create)?)?;
    let resource = &incoming.resource;
    let username = username_of(resource)?;
    let external_id = str_of(resource, "externalId");
    let active = resource
        .get("active")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let (emails, primary) = emails_of(resource);
    let json_text = stored_json(resource);
    let view = profile_views::kept_view(&json_text);
    let profile = Profile {
        username: &username,
        display_name: str_of(resource, "displayName"),
        primary_email: primary.as_deref(),
        scim_json: &json_text,
        scim_view: view.as_deref(),
        emails: &emails,
    };
    let t = &scope.tenant_id;
    // A new userName is inserted straight away: the insert itself tells whether the name is
    // taken (one statement, where a look-up first was two). A taken name links the existing
    // global user, where the tenant may take them in.
    let hash = match &incoming.password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let new_id = db::new_id();
    let assigned = resource.get("active").is_some();
    let source = &scope.integration_id;
    let (now, ext) = (scope.now, external_id);
    // The new user, their email rows and their access in one script; a taken userName leaves
    // it without effect, and the access of the user who has it is granted below.
    let new_user = db::scim_users::NewUser {
        profile: &profile,
        password_hash: hash.as_deref(),
        created_by: &scope.integration_id,
    };
    // A new active user is answered from memory: the script ends the transaction (an inactive
    // one's suspension writes after it).
    let last = scope.last_write.when(active);
    let nothing_after = LastWrite::default();
    // Written with the new user, and only if the insert made them.
    let inactive = if active { "" } else { "Provisioned inactive." };
    let provisioned = Change::UserProvisioned.on(&new_id, &username);
    scope.audit.note_if_created(provisioned.detail(inactive));
    let first = db::access::grant_as(
        conn,
        t,
        &new_id,
        source,
        ext,
        now,
        active,
        assigned,
        Some(&new_user),
        &last,
    )
    .await?;
    let (user_id, created, new_access) = if first.user_inserted {
        (new_id, true, first.new_access)
    } else {
        // The script changed nothing (the name is taken): what follows is one transaction.
        last.resume(conn).await?;
        let Some((id, _)) = db::scim_users::find_global(conn, &username).await? else {
            return Err(ScimError::Uniqueness(format!(
                "the userName `{username}` was taken and released while this request ran; \
                 send it again"
            )));
        };
        let target = reach::facts(conn, t, &id).await?;
        if target.is_superadmin {
            return Err(reach::reserved(&username).into());
        }
        if db::access::find(conn, t, &id).await?.is_some() {
            return Err(ScimError::Uniqueness(format!(
                "this tenant already has a user with userName `{username}`; find it with \
                 filter=userName eq \"{username}\""
            )));
        }
        // Only the integration that created the user changes its global attributes, and its
        // credentials only as far as `reach` allows (`write_global` checks before it writes a
        // password, and hashes it again: the hash above was for a new user).
        let actor = Actor::Integration {
            id: &scope.integration_id,
        };
        reach::may_take_in(conn, t, actor, &username, &target).await?;
        let stored = db::scim_users::find_stored(conn, &id).await?;
        let changed = write_global(
            conn,
            scope,
            &mut Target::read(t, &target),
            &stored,
            resource,
            incoming.password.as_deref(),
            &nothing_after,
        )
        .await?
        .any();
        if !changed {
            db::scim_users::touch(conn, &id, scope.now).await?;
        }
        let granted = db::access::grant_as(
            conn,
            t,
            &id,
            source,
            ext,
            now,
            active,
            assigned,
            None,
            &nothing_after,
        )
        .await?;
        let linked = Change::UserProvisioned.on(&id, &username).detail(format!(
            "The user existed already (in another tenant or signing in with a password): \
             given access here.{}",
            if active { "" } else { " Inactive." }
        ));
        scope.audit.note(linked);
        (id, false, granted.new_access)
    };
    if !new_access {
        db::access::set_active(conn, t, &user_id, active, assigned).await?;
    }
    if !active {
        reach::after_suspension(conn, &user_id).await?;
    }
    if new_access {
        // Only users with access to the tenant are members of its groups: none yet. A user
        // this request wrote is answered as written, without reading it back.
        let mut row = if created {
            db::scim_users::Inserted {
                id: &user_id,
                profile: &profile,
                created_by: &scope.integration_id,
                now,
                active,
                active_assigned: assigned,
                external_id: ext,
            }
            .row()
        } else {
            find(conn, scope, &user_id, Refs::Digested, profile_for(as_text)).await?
        };
        row.group_refs = Some(String::new()); // an empty listing: no groups
        return Ok((answer(scope, &mut row, as_text), user_version(&row)));
    }
    get(conn, scope, &user_id, true, as_text).await
}

/// What a write's first read of the user needs of their group references: their digest when
/// an `If-Match` is to be checked against the user's version, else nothing.
fn refs_for(if_match: Option<&str>) -> Refs {
    match if_match {
        Some(_) => Refs::Digested,
        None => Refs::Skipped,
    }
}

/// `If-Match` against the user as read (with [`refs_for`] it).
fn check_if_match(if_match: Option<&str>, row: &ScimUserRow) -> Result<(), ScimError> {
    let Some(h) = if_match else {
        return Ok(());
    };
    let version = user_version(row);
    if etag_matches(h, &version) {
        return Ok(());
    }
    Err(ScimError::PreconditionFailed(format!(
        "the user has changed: its version is {}",
        etag(&version)
    )))
}

/// Applies a full new state of a user (from PUT or PATCH) within the integration's reach, and
/// changes `row` (read in this request's transaction, with its profile's JSON and group
/// references) as it changes the stored user: true when `row` is then the user as stored, to be
/// answered without reading them back (one trip to the database fewer a PUT or PATCH); false
/// when the write changed what the row alone does not tell (a new externalId), and the user is
/// to be read again.
async fn apply(
    conn: &mut Conn,
    scope: &Scope,
    row: &mut ScimUserRow,
    incoming: Incoming,
    how: &How,
) -> Result<bool, ScimError> {
    let resource = &incoming.resource;
    let t = &scope.tenant_id;
    let mut target = Target::unread(t, &row.id, row.created_by.as_deref());
    let stored = db::scim_users::StoredProfile {
        username: row.username.clone(),
        scim_json: row.scim_json.clone(),
    };
    let external_id = str_of(resource, "externalId");
    let active = resource
        .get("active")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let assigned = resource.get("active").is_some();
    // `row` was read in this request's transaction: what does not change needs no statement.
    let external_id_changes = external_id != row.external_id.as_deref();
    let state_changes = (row.access_active, row.access_active_assigned) != (active, assigned);
    // With neither changing, the profile's update is the request's last write and ends its
    // transaction (`db::last_write`).
    let last = scope
        .last_write
        .when(!external_id_changes && !state_changes);
    // Noted before the write that may end the transaction (which then carries it); withdrawn
    // below if nothing changed after all.
    let state = match (state_changes, row.access_active, active) {
        (true, true, false) => "Deactivated.",
        (true, false, true) => "Reactivated.",
        _ => "",
    };
    let detail = how.detail(state, external_id_changes);
    scope.audit.note(
        Change::UserUpdated
            .on(&row.id, &row.username)
            .detail(detail),
    );
    let written = write_global(
        conn,
        scope,
        &mut target,
        &stored,
        resource,
        incoming.password.as_deref(),
        &last,
    )
    .await?;
    if !written.any() && !external_id_changes && !state_changes {
        scope.audit.withdraw();
    }
    // As `set_password` and `update_profile` wrote them.
    if written.password {
        row.updated_at = scope.now;
    }
    if let Some(profile) = written.profile {
        row.username = profile.username;
        row.scim_view = profile
            .kept_view
            .as_deref()
            .and_then(profile_views::untagged)
            .map(str::to_string);
        row.scim_json = Some(profile.json);
        row.updated_at = scope.now;
        row.version += 1;
    }
    let mut as_stored = true;
    if external_id_changes {
        db::access::grant(
            conn,
            t,
            &row.id,
            &scope.integration_id,
            external_id,
            scope.now,
        )
        .await?;
        db::access::touch(conn, t, &row.id).await?;
        as_stored = false;
    }
    // The state's write is what suspends the user.
    let suspends = row.access_active && !active;
    if state_changes {
        db::access::set_active(conn, t, &row.id, active, assigned).await?;
        // As `set_active` wrote them: the version moves with a change.
        (row.access_active, row.access_active_assigned) = (active, assigned);
        row.access_version += 1;
    }
    if suspends {
        reach::after_suspension(conn, &row.id).await?;
    }
    Ok(as_stored)
}

/// The emails of a resource ([`emails_of`]), lowercased and sorted, to tell whether a write
/// changes them.
fn email_values(emails: &[(String, String)]) -> Vec<String> {
    let mut v: Vec<String> = emails
        .iter()
        .map(|(value, _)| value.to_lowercase())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The user a write changes, and the facts `reach` judges credential changes by: read only when
/// the write changes credentials (most PUTs and PATCHes change neither password, userName nor
/// emails, and so cost no read of them).
struct Target<'a> {
    tenant_id: &'a str,
    id: &'a str,
    created_by: Option<&'a str>,
    facts: Option<db::users::ReachFacts>,
}

impl<'a> Target<'a> {
    fn unread(tenant_id: &'a str, id: &'a str, created_by: Option<&'a str>) -> Self {
        Target {
            tenant_id,
            id,
            created_by,
            facts: None,
        }
    }

    /// A user whose facts the caller has read already.
    fn read(tenant_id: &'a str, facts: &'a db::users::ReachFacts) -> Self {
        Target {
            tenant_id,
            id: &facts.id,
            created_by: facts.created_by.as_deref(),
            facts: Some(facts.clone()),
        }
    }

    /// `reach::may_change_credentials` for this user, reading the facts on first use.
    async fn may_change_credentials(
        &mut self,
        conn: &mut Conn,
        actor: Actor<'_>,
    ) -> Result<(), ScimError> {
        let facts = match self.facts.take() {
            Some(facts) => facts,
            None => reach::facts(conn, self.tenant_id, self.id).await?,
        };
        let allowed = reach::may_change_credentials(actor, &facts);
        self.facts = Some(facts);
        Ok(allowed?)
    }
}

/// Writes what an integration may write of a user's global record: the password (refused unless
/// `reach::may_change_credentials` allows it; the user's sessions end), and for the owning
/// integration the profile, whose userName and emails are credentials too. Other integrations'
/// global attributes are ignored. Answers what it wrote.
async fn write_global(
    conn: &mut Conn,
    scope: &Scope,
    target: &mut Target<'_>,
    stored: &db::scim_users::StoredProfile,
    resource: &Value,
    password: Option<&str>,
    last: &LastWrite,
) -> Result<GlobalWrite, ScimError> {
    let actor = Actor::Integration {
        id: &scope.integration_id,
    };
    let mut written = GlobalWrite::default();
    if let Some(p) = password {
        target.may_change_credentials(conn, actor).await?;
        let hash = hash_password(p).await?;
        db::scim_users::set_password(conn, target.id, &hash, scope.now).await?;
        db::scim_users::end_sessions(conn, target.id).await?;
        written.password = true;
    }
    let owner = target.created_by == Some(scope.integration_id.as_str());
    if !owner {
        return Ok(written);
    }
    let username = username_of(resource)?;
    let json_text = stored_json(resource);
    let old_json = stored.scim_json.as_deref().unwrap_or_default();
    // The same userName and profile text hold the same emails: nothing to write or judge.
    if username == stored.username && json_text == old_json {
        return Ok(written);
    }
    let (emails, primary) = emails_of(resource);
    let (old_emails, _) = emails_in(&stored_emails(old_json));
    if username != stored.username || email_values(&emails) != email_values(&old_emails) {
        target.may_change_credentials(conn, actor).await?;
    }
    // The email rows are rewritten only when the emails (values, types, order) change.
    let emails_changed = emails != old_emails;
    let kept_view = profile_views::kept_view(&json_text);
    db::scim_users::update_profile(
        conn,
        target.id,
        &Profile {
            username: &username,
            display_name: str_of(resource, "displayName"),
            primary_email: primary.as_deref(),
            scim_json: &json_text,
            scim_view: kept_view.as_deref(),
            emails: &emails,
        },
        emails_changed,
        scope.now,
        last,
    )
    .await?;
    written.profile = Some(WrittenProfile {
        username,
        json: json_text,
        kept_view,
    });
    Ok(written)
}

/// What [`write_global`] wrote of a user's global record.
#[derive(Default)]
struct GlobalWrite {
    /// A new password hash (and with it `updated_at`).
    password: bool,
    /// A new profile (`update_profile`: with it `updated_at` and the version).
    profile: Option<WrittenProfile>,
}

impl GlobalWrite {
    fn any(&self) -> bool {
        self.password || self.profile.is_some()
    }
}

/// A profile as [`write_global`] stored it.
struct WrittenProfile {
    username: String,
    json: String,
    /// As `profile_views::kept_view` gives it: its tag, then the view.
    kept_view: Option<String>,
}

/// `PUT /Users/{id}`; answered as [`get`] answers.
pub async fn replace(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    as_text: bool,
) -> Result<(Answered, String), ScimError> {
    let rt = registry().user();
    let mut row = find(conn, scope, id, Refs::Kept, ProfileText::Json).await?;
    reach::integration_gave_access(row.from_this_integration)?;
    check_if_match(if_match, &row)?;
    let existing = || render(scope, &row, None);
    let incoming = split_password(resource::validate_resource(
        rt,
        body,
        Intent::Replace {
            existing: &existing,
        },
    )?)?;
    answer_applied(conn, scope, &mut row, incoming, &How::Replaced, as_text).await
}

/// How a PUT or PATCH changed a user, for the audit log.
enum How {
    Replaced,
    /// The attributes a PATCH changed (`PatchOutcome::changed`).
    Patched(Vec<String>),
}

impl How {
    /// The event's detail: the state's change (`Deactivated.`, …), then what else changed.
    fn detail(&self, state: &str, external_id_changes: bool) -> String {
        let mut parts = vec![state.to_string()];
        match self {
            How::Replaced => parts.push("Replaced (PUT).".into()),
            How::Patched(changed) => {
                // The attributes' names without their schema's URN; `active` is told above.
                let names: Vec<&str> = changed
                    .iter()
                    .map(|c| c.rsplit(':').next().unwrap_or(c))
                    .filter(|c| *c != "active" && (*c != "externalId" || !external_id_changes))
                    .collect();
                if !names.is_empty() {
                    parts.push(format!("Changed {}.", names.join(", ")));
                }
            }
        }
        if external_id_changes {
            parts.push("externalId changed.".into());
        }
        parts.retain(|p| !p.is_empty());
        parts.join(" ")
    }
}

/// Applies a PUT's or PATCH's new state to `row` (read with its group references) and answers
/// the user as [`get`] does: from the row as written when [`apply`] tells it is the user as
/// stored, else read again.
async fn answer_applied(
    conn: &mut Conn,
    scope: &Scope,
    row: &mut ScimUserRow,
    incoming: Incoming,
    how: &How,
    as_text: bool,
) -> Result<(Answered, String), ScimError> {
    if apply(conn, scope, row, incoming, how).await? {
        return Ok((answer(scope, row, as_text), user_version(row)));
    }
    get(conn, scope, &row.id, true, as_text).await
}

/// `PATCH /Users/{id}`; answered as [`get`] answers.
pub async fn patch(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    as_text: bool,
) -> Result<(Answered, String), ScimError> {
    let rt = registry().user();
    let ops = parse_patch_request(body)?;
    let mut row = find(conn, scope, id, Refs::Kept, ProfileText::Json).await?;
    reach::integration_gave_access(row.from_this_integration)?;
    check_if_match(if_match, &row)?;
    let mut current = render(scope, &row, None);
    if let Some(o) = current.as_object_mut() {
        o.remove("meta");
        o.remove("groups");
    }
    let outcome = crate::scim::patch::apply_patch(rt, &current, &ops)?;
    let incoming = split_password(outcome.resource)?;
    let how = How::Patched(outcome.changed);
    answer_applied(conn, scope, &mut row, incoming, &how, as_text).await
}

/// `DELETE /Users/{id}`.
pub async fn delete(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), ScimError> {
    let row = find(conn, scope, id, refs_for(if_match), ProfileText::Json).await?;
    reach::integration_gave_access(row.from_this_integration)?;
    check_if_match(if_match, &row)?;
    let t = &scope.tenant_id;
    scope.audit.note(
        Change::UserDeprovisioned
            .on(id, &row.username)
            .detail("Access to this tenant ended."),
    );
    // The end of access is the request's last write: it ends the transaction too, and writes
    // the event noted.
    let last = &scope.last_write;
    db::access::revoke(conn, t, id, &scope.integration_id, scope.now, last).await?;
    Ok(())
}

#[cfg(test)]
mod tests {

    use serde_json::json;

    use super::*;

    const INTEGRATION: &str = "i-own";

    fn scope() -> Scope {
        Scope {
            tenant_id: "acme".into(),
            integration_id: INTEGRATION.into(),
            base: "https://roster.example/api/v1/acme/integrations/i-own/scim/v2".into(),
            now: 1_700_000_000_000,
            pages: PageCursors::default(),
            cursor_key: CursorKey::new([3; 32]),
            last_write: LastWrite::default(),
            audit: ScimAudit::default(),
        }
    }

    /// What a create of `body` stores as the user's profile.
    fn stored(body: &Value) -> String {
        let rt = registry().user();
        let incoming = resource::validate_resource(rt, body, Intent::Create)
            .and_then(split_password)
            .expect("valid payload");
        stored_json(&incoming.resource)
    }

    fn row(scim_json: Option<String>, created_by: &str) -> ScimUserRow {
        ScimUserRow {
            id: "0193a2c4-7d1e-7000-8000-000000000001".into(),
            username: "bjensen@example.com".into(),
            scim_json,
            scim_view: None,
            created_by: Some(created_by.into()),
            created_at: 1_700_000_000_000,
            updated_at: 1_700_000_123_456,
            version: 3,
            access_active: true,
            access_active_assigned: false,
            access_version: 2,
            external_id: None,
            from_this_integration: true,
            group_refs: None,
            groups_digest: Some(0),
        }
    }

    fn fixture(text: &str, key: &str) -> Value {
        let all: Value = serde_json::from_str(text).expect("fixture");
        all[key]
            .get("body")
            .cloned()
            .unwrap_or_else(|| all[key].clone())
    }

    /// The emails a write compares with are those of the stored profile as [`emails_of`] reads
    /// the whole tree; other members (objects, arrays, strings that look like emails) are
    /// skipped; text that is not an object has none.
    #[test]
    fn stored_emails_are_the_profiles_emails_without_its_tree() {
        for body in [
            include_str!("../scim/fixtures/idp_authentik.json"),
            include_str!("../scim/fixtures/idp_okta.json"),
        ] {
            let text = stored(&fixture(body, "user_create"));
            let tree: Value = serde_json::from_str(&text).expect("stored text");
            assert!(!emails_of(&tree).0.is_empty(), "{text}");
            assert_eq!(emails_in(&stored_emails(&text)), emails_of(&tree), "{text}");
        }
        let text = r#"{"addresses":[{"emails":"x"}],"emails":[{"value":"A@x.org","type":"work"},{"value":" "},{"type":"home","value":"b@x.org","primary":true}],"name":{"emails":[1]}}"#;
        assert_eq!(
            emails_in(&stored_emails(text)),
            (
                vec![
                    ("A@x.org".to_string(), "work".to_string()),
                    ("b@x.org".to_string(), "home".to_string())
                ],
                Some("b@x.org".to_string())
            )
        );
        for nothing in ["", "[]", "{}", "{\"emails\":null}", "not json"] {
            assert!(stored_emails(nothing).is_empty(), "{nothing}");
        }
    }

    /// A user's version: their profile's, their access's, and their groups' digest in hex
    /// (without leading zeros) when they have groups.
    #[test]
    fn a_users_version_names_profile_access_and_groups() {
        let mut r = row(None, INTEGRATION);
        for (version, access, digest, expected) in [
            (3, 2, 0, "3-2"),
            (1, 1, 0xab, "1-1-ab"),
            (12_345, 0, 0x0123_4567_89ab_cdef, "12345-0-123456789abcdef"),
            (
                i64::MAX,
                -1,
                u64::MAX,
                "9223372036854775807--1-ffffffffffffffff",
            ),
        ] {
            r.version = version;
            r.access_version = access;
            r.groups_digest = Some(digest);
            assert_eq!(user_version(&r), expected);
            assert_eq!(
                user_version(&r),
                format!(
                    "{version}-{access}{}",
                    if digest == 0 {
                        String::new()
                    } else {
                        format!("-{digest:x}")
                    }
                )
            );
        }
    }

    /// The default view from text, where it answers, is the tree path's answer; and it answers
    /// for the profiles IdPs send without extensions.
    #[test]
    fn a_user_written_from_stored_text_is_the_user_the_tree_path_renders() {
        let s = scope();
        let rt = registry().user();
        let groups_text = format!(
            "{}{},{}{}",
            Value::from("g-2"),
            Value::from("Zeta \"night\""),
            Value::from("g-1"),
            Value::from("alpha")
        );
        let mut groups_json = String::new();
        GroupRefs::parse(&groups_text).write_json(&RefPrefix::new(&s.base), &mut groups_json);
        let groups = GroupRefs::parse(&groups_text).to_value(&s.base);
        let sent = [
            (
                fixture(
                    include_str!("../scim/fixtures/idp_authentik.json"),
                    "user_create",
                ),
                true,
            ),
            (
                fixture(
                    include_str!("../scim/fixtures/idp_okta.json"),
                    "user_create",
                ),
                true,
            ),
            (
                serde_json::from_str(include_str!("../scim/fixtures/rfc7643_user_minimal.json"))
                    .expect("fixture"),
                true,
            ),
            (
                serde_json::from_str(include_str!("../scim/fixtures/rfc7643_user_full.json"))
                    .expect("fixture"),
                true,
            ),
            (
                fixture(
                    include_str!("../scim/fixtures/idp_entra.json"),
                    "user_create",
                ),
                false,
            ),
            (
                serde_json::from_str(include_str!(
                    "../scim/fixtures/rfc7643_enterprise_user.json"
                ))
                .expect("fixture"),
                false,
            ),
        ];
        let mut profiles: Vec<(Option<String>, bool)> = Vec::new();
        for (body, plain) in &sent {
            if body.is_object() {
                profiles.push((Some(stored(body)), *plain));
            }
        }
        // Stored text no create writes, but that an older Roster or a hand edit might hold.
        for (text, answers) in [
            (
                r#"{"displayName":null,"title":"x","password":"p","nickName":"n"}"#,
                true,
            ),
            (r#"{"unknownThing":{"a":[1,2]},"emails":[]}"#, true),
            (r#"{"Emails":[{"value":"a@b.c"}]}"#, false),
            (r#"{"emails":{"value":"a@b.c"}}"#, false),
            (r#"{"ID":"forged"}"#, false),
            (
                r#"{"schemas":["urn:x"],"id":"forged","meta":{"x":1},"groups":[1]}"#,
                true,
            ),
            ("not json", false),
        ] {
            profiles.push((Some(text.to_string()), answers));
        }
        profiles.push((None, true));
        let mut answered = 0;
        for (profile, should_answer) in &profiles {
            for owner in [INTEGRATION, "someone-else"] {
                for (active, assigned, external, digest) in [
                    (true, false, None, 0),
                    (true, true, Some("ext-1"), 0xab),
                    (false, true, Some("ext \"2\""), 0x0123_4567_89ab_cdef),
                    (false, false, None, u64::MAX),
                ] {
                    let mut r = row(profile.clone(), owner);
                    r.access_active = active;
                    r.access_active_assigned = assigned;
                    r.external_id = external.map(str::to_string);
                    r.groups_digest = Some(digest);
                    let tree = Projection::all(rt).apply(render(&s, &r, Some(groups.clone())));
                    // The row as a read for the default view brings it: the view kept with the
                    // profile in place of its JSON.
                    let kept = profile.as_deref().and_then(profile_views::kept_view);
                    let mut read_for_view = r.clone();
                    if let Some(kept) = &kept {
                        let view = kept
                            .strip_prefix(profile_views::view_tag())
                            .expect("tagged");
                        read_for_view.scim_view = Some(view.to_string());
                        read_for_view.scim_json = None;
                        let from_view = render(&s, &read_for_view, Some(groups.clone()));
                        assert_eq!(Projection::all(rt).apply(from_view), tree, "{profile:?}");
                    }
                    match default_text(&s, &r, Some(&groups_json)) {
                        Some(text) => {
                            let written: Value = serde_json::from_str(&text).expect("valid JSON");
                            assert_eq!(written, tree, "profile {profile:?}, owner {owner}");
                            // Answered for its owner: its view can be kept.
                            assert!(
                                kept.is_some() || profile.is_none() || owner != INTEGRATION,
                                "{profile:?}"
                            );
                            assert_eq!(
                                default_text(&s, &read_for_view, Some(&groups_json)).as_deref(),
                                Some(text.as_str()),
                                "from the kept view: {profile:?}, owner {owner}"
                            );
                            answered += 1;
                        }
                        None => assert!(
                            !should_answer || owner != INTEGRATION,
                            "declined {profile:?} for its owner"
                        ),
                    }
                    // Without `groups` (`excludedAttributes=groups`): answered for the same
                    // profiles, and the tree's answer without them, the version unchanged.
                    let bare = Projection::new(rt, &[], &["groups".to_string()]).expect("bare");
                    assert!(bare.is_default_but("groups"));
                    let without = default_text(&s, &r, None);
                    assert_eq!(
                        without.is_some(),
                        default_text(&s, &r, Some(&groups_json)).is_some(),
                        "{profile:?}, owner {owner}"
                    );
                    if let Some(text) = without {
                        let written: Value = serde_json::from_str(&text).expect("valid JSON");
                        let expected = bare.apply(render(&s, &r, Some(groups.clone())));
                        assert_eq!(written, expected, "without groups: {profile:?}, {owner}");
                        assert!(written.get("groups").is_none());
                        assert_eq!(written["meta"]["version"], tree["meta"]["version"]);
                    }
                    if owner == INTEGRATION && !should_answer {
                        assert!(
                            default_text(&s, &r, Some(&groups_json)).is_none(),
                            "answered {profile:?}, which needs the tree path"
                        );
                    }
                }
            }
        }
        assert!(
            answered >= 60,
            "the text path answered only {answered} cases"
        );
        assert_eq!(
            Projection::all(rt).apply(render(&s, &row(None, "x"), Some(json!([]))))["emails"],
            json!([])
        );
    }
}
