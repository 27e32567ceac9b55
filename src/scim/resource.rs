//! SCIM message plumbing shared by every endpoint: `ListResponse`, list/search
//! parameters, and the validation (on the way in) and rendering (on the way out) of User and Group bodies,
//! all driven by the schema registry.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::attr_path::AttrPath;
use super::error::ScimError;
use super::filter::eval::{parse_bool, parse_datetime};
use super::filter::Filter;
use super::json::{get_ci, is_unassigned, push_json_escaped, push_json_str};
use super::json_text::JsonText;
use super::schema::{registry, AttrType, AttributeDef, Mutability, ResourceTypeDef, Returned};
use super::urn::LIST_RESPONSE_URN;

/// One page of a list or search: the total and the page's resources, each already written as
/// JSON text. Pages are written as text, not built as one `Value` tree: a page of users splices
/// each user's group references in as the database wrote them (see `iam::scim_users::list`), a
/// page of groups their members (`iam::scim_groups`), a large group's written only as the client
/// reads them ([`JsonText`]).
#[derive(Debug, Default)]
pub struct ListPage {
    pub total: u64,
    /// The resources' texts, separated by commas.
    resources: JsonText,
    count: usize,
    /// Where the page ended, when it is a page of a walk that can resume after its last
    /// resource (Users or Groups in the default order, filtered or not): a cursor's resume point
    /// (`scim::cursor`).
    pub walk_end: Option<After>,
}

/// The sort key of a resource in the default order (creation time, then id): where a walk of a
/// list resumes, so that deletions before it and creations since neither skip nor repeat a
/// resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub created_at: i64,
    pub id: String,
}

impl ListPage {
    /// An empty page of a list of `total` resources.
    pub fn new(total: u64) -> ListPage {
        ListPage {
            total,
            ..ListPage::default()
        }
    }

    /// [`ListPage::new`], with room for `bytes` of resources' text.
    pub fn with_capacity(total: u64, bytes: usize) -> ListPage {
        ListPage {
            total,
            resources: JsonText::with_capacity(bytes),
            count: 0,
            walk_end: None,
        }
    }

    /// A page of rendered resources.
    pub fn of_values(resources: Vec<Value>, total: u64) -> ListPage {
        let mut page = ListPage::new(total);
        for r in &resources {
            page.push_with(|out| push_json_text(out.text_mut(), r));
        }
        page
    }

    /// Adds a resource written as JSON text.
    pub fn push(&mut self, resource: &str) {
        self.push_with(|out| out.push_str(resource));
    }

    /// Adds a resource that `write` appends.
    pub fn push_with(&mut self, write: impl FnOnce(&mut JsonText)) {
        self.try_push_with(|out| {
            write(out);
            true
        });
    }

    /// Adds a resource that `write` appends, when it can: `write` answers `false` having written
    /// nothing when it cannot, and the page is then as it was.
    pub fn try_push_with(&mut self, write: impl FnOnce(&mut JsonText) -> bool) -> bool {
        let before = self.resources.text_mut().len();
        if self.count > 0 {
            self.resources.push_str(",");
        }
        if write(&mut self.resources) {
            self.count += 1;
            true
        } else {
            self.resources.text_mut().truncate(before);
            false
        }
    }

    /// How many resources the page holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds the resources of `other` after these (the total is the caller's to add).
    pub fn append(&mut self, other: ListPage) {
        if other.count > 0 {
            self.push_with(|out| out.append(other.resources));
            self.count += other.count - 1;
        }
    }

    /// The RFC 7644 §3.4.2 ListResponse: integer `totalResults`, `startIndex`, `itemsPerPage`
    /// and exactly `Resources` (authentik and others read that spelling only).
    pub fn into_response(self, start_index: u64) -> JsonText {
        let position = format!("\"startIndex\":{},", start_index.max(1));
        self.into_list_response(&position)
    }

    /// The ListResponse of a cursor-paged walk (RFC 9865 §2): no `startIndex`, and `nextCursor`
    /// unless this is the last page.
    pub fn into_cursor_response(self, next_cursor: Option<&str>) -> JsonText {
        let mut position = String::new();
        if let Some(cursor) = next_cursor {
            position.push_str("\"nextCursor\":");
            push_json_str(&mut position, cursor);
            position.push(',');
        }
        self.into_list_response(&position)
    }

    /// The ListResponse with `position`'s members (each followed by a comma) after the total.
    fn into_list_response(self, position: &str) -> JsonText {
        let head = format!(
            "{{\"schemas\":[\"{LIST_RESPONSE_URN}\"],\"totalResults\":{},{position}\
             \"itemsPerPage\":{},\"Resources\":[",
            self.total, self.count
        );
        let mut out = self.resources;
        out.prepend(&head);
        out.end_with("]}");
        out
    }
}

/// A value as compact JSON text. (`serde_json::to_string` writes into a byte buffer; `Value`'s
/// `Display` goes through a formatter adapter, measurably slower on a page of resources.)
pub fn json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// [`json_text`] appended to `out`.
pub fn push_json_text(out: &mut String, value: &Value) {
    out.push_str(&json_text(value));
}

/// The JSON text of `value`'s members but those named in `without` (exact names), as
/// `json_text` would write the object with them removed: written straight from the object, not
/// from a copy of it (a stored profile is written on every create and PUT). `{}` when `value` is
/// not an object.
pub fn object_text_without(value: &Value, without: &[&str]) -> String {
    let Some(obj) = value.as_object() else {
        return "{}".into();
    };
    let mut text = String::with_capacity(256);
    text.push('{');
    for (key, member) in obj.iter().filter(|(k, _)| !without.contains(&k.as_str())) {
        if text.len() > 1 {
            text.push(',');
        }
        super::push_json_str(&mut text, key);
        text.push(':');
        text.push_str(&json_text(member));
    }
    text.push('}');
    text
}

/// Appends a resource object as JSON text with one more member whose value `write_value`
/// appends as JSON text already (a user's group references as the database wrote them, a
/// group's members): spliced in, not parsed, and for a large group written as the client reads
/// it. `resource` must not carry `key`; `write_value` must write valid JSON.
pub fn push_text_with(
    out: &mut JsonText,
    resource: &Value,
    key: &str,
    write_value: impl FnOnce(&mut JsonText),
) {
    let text = json_text(resource);
    let Some(inside) = text.strip_suffix('}') else {
        out.push_str(&text);
        return;
    };
    out.push_str(inside);
    let text = out.text_mut();
    if inside.len() > 1 {
        text.push(',');
    }
    push_json_str(text, key);
    text.push(':');
    write_value(out);
    out.push_str("}");
}

/// `meta` for a resource: its times as RFC 3339 text (`created`, `last_modified`), `version` as
/// a weak ETag when given.
pub fn meta(
    resource_type: &str,
    created: &str,
    last_modified: &str,
    location: &str,
    version: Option<&str>,
) -> Value {
    let mut m = json!({
        "resourceType": resource_type,
        "created": created,
        "lastModified": last_modified,
        "location": location,
    });
    if let (Some(v), Some(obj)) = (version, m.as_object_mut()) {
        obj.insert("version".into(), Value::String(format!("W/\"{v}\"")));
    }
    m
}

/// Appends [`meta`] as JSON text (the same members, in the order `serde_json` writes them), for
/// answers written as text. The location is written from its `parts`, one after the other; no
/// intermediate text is built.
pub fn push_meta_text(
    out: &mut String,
    resource_type: &str,
    created: &str,
    last_modified: &str,
    location: &[&str],
    version: Option<&str>,
) {
    out.push_str("{\"created\":");
    push_json_str(out, created);
    out.push_str(",\"lastModified\":");
    push_json_str(out, last_modified);
    out.push_str(",\"location\":\"");
    for part in location {
        push_json_escaped(out, part);
    }
    out.push_str("\",\"resourceType\":");
    push_json_str(out, resource_type);
    if let Some(v) = version {
        out.push_str(",\"version\":\"W/\\\"");
        push_json_escaped(out, v);
        out.push_str("\\\"\"");
    }
    out.push('}');
}

/// Sort direction of a list request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Ascending,
    Descending,
}

/// The parameters of `GET /Users?…` or a `POST /.search` body (RFC 7644 §3.4.2, §3.4.3).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    pub attributes: Vec<String>,
    pub excluded_attributes: Vec<String>,
    pub sort_by: Option<AttrPath>,
    pub sort_order: SortOrder,
    /// 1-based; values below 1 are read as 1 (RFC 7644 §3.4.2.4).
    pub start_index: u64,
    /// `None` when the client gave no count; negative counts are read as 0.
    pub count: Option<u64>,
    /// RFC 9865's `cursor`: `Some("")` asks for the first page of a cursor-paged walk, any other
    /// value is a `nextCursor` this list gave (`scim::cursor`); `None` pages by `startIndex`.
    pub cursor: Option<String>,
    /// Where a keyset walk resumes: the page holds the resources after this one (`start_index`
    /// still tells its position). Set from a cursor, never by the client directly.
    pub after: Option<After>,
}

impl ListQuery {
    /// From already-percent-decoded query pairs (`+` decoded as space, as authentik sends it). Names are
    /// case-insensitive.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ListQuery, ScimError> {
        let mut q = ListQuery {
            start_index: 1,
            ..ListQuery::default()
        };
        for (k, v) in pairs {
            match k.to_ascii_lowercase().as_str() {
                "filter" => q.filter = Some(Filter::parse(v)?),
                "attributes" => q.attributes = split_list(v),
                "excludedattributes" => q.excluded_attributes = split_list(v),
                "sortby" => q.sort_by = Some(AttrPath::parse(v)?),
                "sortorder" => q.sort_order = parse_sort_order(v)?,
                "startindex" => q.start_index = parse_int(v, "startIndex")?.max(1) as u64,
                "count" => q.count = Some(parse_int(v, "count")?.max(0) as u64),
                "cursor" => q.cursor = Some(v.to_string()),
                _ => {}
            }
        }
        Ok(q)
    }

    /// From a `POST /.search` body (RFC 7644 §3.4.3); `attributes` may be arrays or comma-separated strings.
    pub fn from_search_body(body: &Value) -> Result<ListQuery, ScimError> {
        let obj = body.as_object().ok_or_else(|| {
            ScimError::InvalidSyntax("a search request body must be a JSON object".into())
        })?;
        let mut q = ListQuery {
            start_index: 1,
            ..ListQuery::default()
        };
        for (k, v) in obj {
            match (k.to_ascii_lowercase().as_str(), v) {
                ("filter", Value::String(s)) => q.filter = Some(Filter::parse(s)?),
                ("attributes", v) => q.attributes = string_list(v, "attributes")?,
                ("excludedattributes", v) => {
                    q.excluded_attributes = string_list(v, "excludedAttributes")?
                }
                ("sortby", Value::String(s)) => q.sort_by = Some(AttrPath::parse(s)?),
                ("sortorder", Value::String(s)) => q.sort_order = parse_sort_order(s)?,
                ("startindex", v) => q.start_index = json_int(v, "startIndex")?.max(1) as u64,
                ("count", v) => q.count = Some(json_int(v, "count")?.max(0) as u64),
                ("cursor", Value::String(s)) => q.cursor = Some(s.clone()),
                ("schemas", _) | ("cursor", Value::Null) => {}
                ("filter" | "sortby" | "sortorder" | "cursor", _) => {
                    return Err(ScimError::InvalidSyntax(format!("`{k}` must be a string")))
                }
                _ => {}
            }
        }
        Ok(q)
    }
}

/// `"userName, name.givenName"` → `["userName", "name.givenName"]`.
pub fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn string_list(v: &Value, what: &str) -> Result<Vec<String>, ScimError> {
    match v {
        Value::String(s) => Ok(split_list(s)),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| ScimError::InvalidSyntax(format!("`{what}` must list strings")))
            })
            .collect(),
        Value::Null => Ok(Vec::new()),
        _ => Err(ScimError::InvalidSyntax(format!(
            "`{what}` must be an array of strings"
        ))),
    }
}

fn parse_sort_order(v: &str) -> Result<SortOrder, ScimError> {
    match v.to_ascii_lowercase().as_str() {
        "ascending" => Ok(SortOrder::Ascending),
        "descending" => Ok(SortOrder::Descending),
        _ => Err(ScimError::InvalidValue(format!(
            "sortOrder must be ascending or descending, not `{v}`"
        ))),
    }
}

fn parse_int(v: &str, what: &str) -> Result<i64, ScimError> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::InvalidValue(format!("`{what}` must be an integer, not `{v}`")))
}

fn json_int(v: &Value, what: &str) -> Result<i64, ScimError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| ScimError::InvalidValue(format!("`{what}` must be an integer"))),
        Value::String(s) => parse_int(s, what),
        _ => Err(ScimError::InvalidValue(format!(
            "`{what}` must be an integer"
        ))),
    }
}

// ---- Incoming bodies ---------------------------------------------------------------------------------------

/// Whether a body creates a resource or replaces (PUT) an existing one.
#[derive(Clone, Copy)]
pub enum Intent<'a> {
    Create,
    /// PUT: immutable attributes must keep their stored value. `existing` renders the stored
    /// resource, called only when its schemas have an immutable attribute (RFC 7643's User and
    /// Group have none at the top level: a user's PUT rendered it for nothing).
    Replace {
        existing: &'a dyn Fn() -> Value,
    },
}

/// Validates and normalises a POST/PUT body for `rt`: canonical attribute names, booleans from `"True"`/
/// `"False"` strings, type checks, required attributes, readOnly attributes (`id`, `meta`, `groups`,
/// `members[].display`) dropped, unknown schema URNs (e.g. Entra's ADSCIM Group URN) and unknown attributes
/// ignored, `password` kept for storage to hash, `schemas` rebuilt. Returns the clean resource.
pub fn validate_resource(
    rt: &ResourceTypeDef,
    body: &Value,
    intent: Intent<'_>,
) -> Result<Value, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::InvalidSyntax("the request body must be a JSON object".into()))?;
    if let Some(schemas) = get_ci(obj, "schemas") {
        if !schemas.is_array() && !schemas.is_null() {
            return Err(ScimError::InvalidSyntax(
                "`schemas` must be an array of URNs".into(),
            ));
        }
    }
    let reg = registry();
    let mut out = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = reg.extension_of(rt, key) {
            let Some(fields) = value.as_object() else {
                if value.is_null() {
                    continue;
                }
                return Err(ScimError::InvalidValue(format!(
                    "`{key}` must be an object of extension attributes"
                )));
            };
            let mut ext_out = Map::new();
            for (k, v) in fields {
                if let Some(def) = ext.attr(k) {
                    if let Some(v) = coerce_input(def, v, k)? {
                        ext_out.insert(def.name.to_string(), v);
                    }
                }
            }
            if !ext_out.is_empty() {
                out.insert(ext.id.to_string(), Value::Object(ext_out));
            }
            continue;
        }
        let Some(resolved) = reg.top_level(rt, key) else {
            continue;
        };
        if resolved.extension {
            // An unqualified extension attribute: keep it where it belongs.
            if let Some(v) = coerce_input(resolved.attr, value, key)? {
                let slot = out
                    .entry(resolved.schema.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(o) = slot.as_object_mut() {
                    o.insert(resolved.attr.name.to_string(), v);
                }
            }
            continue;
        }
        if let Some(v) = coerce_input(resolved.attr, value, key)? {
            out.insert(resolved.attr.name.to_string(), v);
        }
    }
    for def in reg
        .schema(rt.schema)
        .map(|s| s.attributes.as_slice())
        .unwrap_or(&[])
    {
        if def.required {
            match out.get(def.name) {
                Some(Value::String(s)) if !s.trim().is_empty() => {}
                Some(v) if !v.is_string() && !is_unassigned(v) => {}
                _ => {
                    return Err(ScimError::InvalidValue(format!(
                        "`{}` is required and must not be empty",
                        def.name
                    )))
                }
            }
        }
    }
    if let Intent::Replace { existing } = intent {
        check_immutable(rt, existing, &out)?;
    }
    let mut result = Value::Object(out);
    set_schemas(rt, &mut result);
    Ok(result)
}

/// PUT must not change an immutable attribute that already has a value (RFC 7643 §7).
fn check_immutable(
    rt: &ResourceTypeDef,
    existing: &dyn Fn() -> Value,
    new: &Map<String, Value>,
) -> Result<(), ScimError> {
    let reg = registry();
    let immutable: Vec<_> = reg
        .schemas_of(rt)
        .flat_map(|schema| {
            schema
                .attributes
                .iter()
                .filter(|d| d.mutability == Mutability::Immutable)
                .map(move |def| (schema, def))
        })
        .collect();
    if immutable.is_empty() {
        return Ok(());
    }
    let existing = existing();
    for (schema, def) in immutable {
        let ext = schema.id != rt.schema;
        let old = if ext {
            existing.get(schema.id).and_then(|e| e.get(def.name))
        } else {
            existing.get(def.name)
        };
        let new_v = if ext {
            new.get(schema.id).and_then(|e| e.get(def.name))
        } else {
            new.get(def.name)
        };
        if let Some(old) = old.filter(|v| !is_unassigned(v)) {
            if new_v != Some(old) {
                return Err(ScimError::Mutability(format!(
                    "`{}` is immutable and cannot be changed",
                    def.name
                )));
            }
        }
    }
    Ok(())
}

/// Sets `schemas` to the core URN plus the extension URNs present in the resource.
pub fn set_schemas(rt: &ResourceTypeDef, resource: &mut Value) {
    let Some(obj) = resource.as_object_mut() else {
        return;
    };
    let mut schemas = vec![Value::String(rt.schema.to_string())];
    for (urn, _) in &rt.extensions {
        if obj.get(*urn).is_some_and(|v| !is_unassigned(v)) {
            schemas.push(Value::String((*urn).to_string()));
        } else {
            obj.remove(*urn);
        }
    }
    obj.insert("schemas".into(), Value::Array(schemas));
}

/// Type-checks and normalises one incoming value for `def`, dropping readOnly parts. `None` = unassigned.
pub(crate) fn coerce_input(
    def: &AttributeDef,
    value: &Value,
    path: &str,
) -> Result<Option<Value>, ScimError> {
    if def.is_read_only() {
        return Ok(None);
    }
    coerce(def, value, path, true)
}

/// Type-checks and normalises a value for `def`: booleans from strings, numbers from numeric strings,
/// a bare string for a complex attribute with a `value` sub-attribute (Entra's `manager: "id"`), a single value
/// for a multi-valued attribute wrapped in an array; `null` members of arrays dropped.
pub(crate) fn coerce(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    drop_read_only: bool,
) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if def.multi_valued {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        let mut elements = Elements::with_capacity(def, items.len());
        for item in items {
            if let Some(v) = coerce_single(def, item, path, drop_read_only)? {
                // A repeated value (same `value` and `type`) is one value.
                elements.merge(v);
            }
        }
        let mut out = elements.into_items();
        enforce_single_primary(&mut out, None);
        return Ok(Some(Value::Array(out)));
    }
    coerce_single(def, value, path, drop_read_only)
}

pub(crate) fn coerce_single(
    def: &AttributeDef,
    value: &Value,
    path: &str,
    drop_read_only: bool,
) -> Result<Option<Value>, ScimError> {
    let wrong = |expected: &str| {
        Err(ScimError::InvalidValue(format!(
            "`{path}` must be {expected}, not {}",
            kind(value)
        )))
    };
    Ok(Some(match (def.ty, value) {
        (_, Value::Null) => return Ok(None),
        (AttrType::Complex, Value::Object(fields)) => {
            let mut out = Map::new();
            // `path.sub` for error messages, in one buffer per object (a `format!` per
            // sub-attribute cost more than the checks).
            let mut sub_path = String::with_capacity(path.len() + 24);
            sub_path.push_str(path);
            sub_path.push('.');
            let sub_at = sub_path.len();
            for (k, v) in fields {
                let Some(sub) = def.sub(k) else { continue };
                if drop_read_only && sub.is_read_only() {
                    continue;
                }
                sub_path.truncate(sub_at);
                sub_path.push_str(sub.name);
                if let Some(v) = coerce(sub, v, &sub_path, drop_read_only)? {
                    out.insert(sub.name.to_string(), v);
                }
            }
            if out.is_empty() {
                return Ok(None);
            }
            Value::Object(out)
        }
        (AttrType::Complex, Value::String(_) | Value::Number(_)) if def.sub("value").is_some() => {
            let inner = def
                .sub("value")
                .map(|s| coerce_single(s, value, path, drop_read_only))
                .transpose()?
                .flatten();
            match inner {
                Some(v) => json!({ "value": v }),
                None => return Ok(None),
            }
        }
        (AttrType::Complex, _) => return wrong("an object"),
        (AttrType::Boolean, Value::Bool(_)) => value.clone(),
        (AttrType::Boolean, Value::String(s)) => match parse_bool(s) {
            Some(b) => Value::Bool(b),
            None => return wrong("true or false"),
        },
        (AttrType::Boolean, _) => return wrong("true or false"),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => value.clone(),
        (AttrType::Integer, Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(i) => json!(i),
            Err(_) => return wrong("an integer"),
        },
        (AttrType::Integer, _) => return wrong("an integer"),
        (AttrType::Decimal, Value::Number(_)) => value.clone(),
        (AttrType::Decimal, Value::String(s)) => match s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            Some(n) => Value::Number(n),
            None => return wrong("a number"),
        },
        (AttrType::Decimal, _) => return wrong("a number"),
        (AttrType::DateTime, Value::String(s)) if parse_datetime(s).is_some() => value.clone(),
        (AttrType::DateTime, _) => {
            return wrong("an RFC 3339 dateTime such as \"2011-05-13T04:42:34Z\"")
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => {
            value.clone()
        }
        (AttrType::String, Value::Number(n)) => Value::String(n.to_string()),
        (AttrType::String | AttrType::Reference | AttrType::Binary, _) => return wrong("a string"),
    }))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// RFC 7643 §2.4: `primary: true` at most once. The element at `winner` keeps it (default: the first one).
pub(crate) fn enforce_single_primary(items: &mut [Value], winner: Option<usize>) {
    let primaries: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, v)| v.get("primary").and_then(Value::as_bool) == Some(true))
        .map(|(i, _)| i)
        .collect();
    if primaries.len() <= 1 && winner.is_none() {
        return;
    }
    let keep = winner
        .filter(|w| primaries.contains(w))
        .or_else(|| primaries.first().copied());
    for i in primaries {
        if Some(i) != keep {
            if let Some(o) = items.get_mut(i).and_then(Value::as_object_mut) {
                o.insert("primary".into(), Value::Bool(false));
            }
        }
    }
}

// ---- Outgoing bodies ---------------------------------------------------------------------------------------

/// The `value` sub-attribute of an element, for matching (case-folded unless caseExact).
pub(crate) fn element_key(def: &AttributeDef, v: &Value) -> Option<String> {
    let value = v
        .as_object()
        .and_then(|o| get_ci(o, "value"))
        .or(if v.is_object() { None } else { Some(v) })?;
    let s = match value {
        Value::String(s) => s.clone(),
        Value::Null => return None,
        other => other.to_string(),
    };
    let exact = def.sub("value").is_some_and(|s| s.case_exact);
    Some(if exact { s } else { s.to_lowercase() })
}

fn element_type(v: &Value) -> Option<String> {
    v.get("type").and_then(Value::as_str).map(str::to_lowercase)
}

/// The elements of a multi-valued attribute while values are merged into them: an element with
/// the `value` of one already there (and the same `type`, when both have one) is merged into it
/// rather than added. Elements are found by their `value` through a map, so merging n elements
/// is O(n): compared with every element before it, a group POSTed with 6,400 members spent 0.4 s
/// on its members' list alone, 2 s with 12,800.
pub(crate) struct Elements<'a> {
    def: &'a AttributeDef,
    items: Vec<Value>,
    /// The elements with a `value`, by [`element_key`], in their order.
    by_key: HashMap<String, Vec<usize>>,
    /// The elements without one (an address), in their order.
    keyless: Vec<usize>,
}

impl<'a> Elements<'a> {
    /// None yet, with room for `n`.
    pub(crate) fn with_capacity(def: &'a AttributeDef, n: usize) -> Self {
        Elements {
            def,
            items: Vec::with_capacity(n),
            by_key: HashMap::with_capacity(n),
            keyless: Vec::new(),
        }
    }

    /// `items` as they are (not merged with each other), ready for more.
    pub(crate) fn new(def: &'a AttributeDef, items: Vec<Value>) -> Self {
        let mut elements = Elements::with_capacity(def, items.len());
        for item in items {
            let key = element_key(def, &item);
            elements.push(key, item);
        }
        elements
    }

    /// Adds `item`, or merges its sub-attributes into the first element it repeats. Returns the
    /// element's index.
    pub(crate) fn merge(&mut self, item: Value) -> usize {
        let key = element_key(self.def, &item);
        let found = match &key {
            None => self
                .keyless
                .iter()
                .copied()
                .find(|&i| self.items[i] == item),
            Some(k) => {
                let ty = element_type(&item);
                let items = &self.items;
                self.by_key.get(k).and_then(|at| {
                    at.iter().copied().find(|&i| {
                        ty.is_none() || {
                            let theirs = element_type(&items[i]);
                            theirs.is_none() || theirs == ty
                        }
                    })
                })
            }
        };
        match (found, item) {
            (Some(i), Value::Object(fields)) => {
                if let Some(o) = self.items[i].as_object_mut() {
                    o.extend(fields);
                }
                i
            }
            (Some(i), _) => i,
            (None, item) => self.push(key, item),
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<&Value> {
        self.items.get(i)
    }

    pub(crate) fn into_items(self) -> Vec<Value> {
        self.items
    }

    fn push(&mut self, key: Option<String>, item: Value) -> usize {
        let i = self.items.len();
        self.items.push(item);
        match key {
            Some(k) => self.by_key.entry(k).or_default().push(i),
            None => self.keyless.push(i),
        }
        i
    }
}

/// Renders a stored resource for a response: `returned: never` attributes (password) removed, nulls dropped,
/// every multi-valued attribute of the core schema present (as `[]` when empty — authentik and Okta need
/// `members: []`, `emails: []`), `schemas` rebuilt. Apply [`crate::scim::projection`] afterwards.
pub fn render(rt: &ResourceTypeDef, stored: Value) -> Value {
    let reg = registry();
    let mut out = match stored {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    out.retain(|_, v| !v.is_null());
    for schema in reg.schemas_of(rt) {
        let is_ext = schema.id != rt.schema;
        for def in &schema.attributes {
            let holder = if is_ext {
                out.get_mut(schema.id).and_then(Value::as_object_mut)
            } else {
                Some(&mut out)
            };
            let Some(holder) = holder else { continue };
            if def.returned == Returned::Never {
                crate::scim::json::remove_ci(holder, def.name);
            } else if def.multi_valued && !is_ext {
                let present = holder.get(def.name).is_some_and(Value::is_array);
                if !present {
                    holder.insert(def.name.to_string(), Value::Array(Vec::new()));
                }
            }
        }
    }
    let mut v = Value::Object(out);
    set_schemas(rt, &mut v);
    v
}

#[cfg(test)]
mod tests;
