//! A resource written from its stored JSON text, for the answer most requests want (no
//! `attributes`, no `excludedAttributes`): the stored attributes are copied as text, the
//! server's own (`id`, `meta`, …) put beside them, without building a JSON tree per resource.
//! It writes what [`resource::render`](super::resource::render) followed by the default
//! [`Projection`](super::projection::Projection) would; where the stored text holds anything
//! those would change other than by dropping or adding whole top-level attributes (an
//! extension, an attribute name in another case, a multi-valued attribute that is not an array,
//! a sub-attribute never returned), it declines and the caller takes the tree path.
//!
//! The work is in two steps so that the first can be done once, when the resource is written,
//! and kept beside its JSON: [`view_members`] reads the stored text and chooses what the view
//! shows of it (the [`StoredView`]); [`write_view`] lays the server's attributes over those
//! members on every read, a merge of short lists that reads no JSON. A kept view names the
//! rules it was chosen by ([`view_tag`]): one chosen under other schemas is not used.

use std::sync::OnceLock;

use super::schema::{registry, AttributeDef, ResourceTypeDef, Returned};

/// Separates a [`StoredView`]'s members: a byte compact JSON never holds outside a string, nor
/// inside one (a newline in a string is escaped).
const MEMBER_SEPARATOR: char = '\n';

/// What the default view shows of a stored JSON object: its members (`"name":value`, the name
/// without escapes) in byte order of name, one per line ([`MEMBER_SEPARATOR`]), with the
/// multi-valued attributes it does not assign written empty, and without the server's names.
/// Made by [`view_members`], read by [`write_view`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredView(String);

impl StoredView {
    /// The text that is kept (after its [`view_tag`]) and that [`write_view`] reads.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The members of a view's text ([`StoredView::as_str`]) as one JSON object's text: the stored
/// attributes the default view shows, for the tree path.
pub fn view_object_text(view: &str) -> String {
    let mut text = String::with_capacity(view.len() + 2);
    text.push('{');
    for member in members_of_view(view) {
        separate(&mut text, 1);
        text.push_str(member);
    }
    text.push('}');
    text
}

/// The members of a view's text, in order (each line found by `memchr`: `str::split` took a
/// third of the time of writing a user from their view).
fn members_of_view(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(MEMBER_SEPARATOR as u8, rest.as_bytes()).unwrap_or(rest.len());
        let member = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        if !member.is_empty() {
            return Some(member);
        }
    })
}

/// A member's name: the text between its first two quotes (a view's names hold no escape, and
/// are short: a byte loop).
fn name_of_member(member: &str) -> &str {
    let inner = member.get(1..).unwrap_or("");
    let end = inner.bytes().position(|b| b == b'"').unwrap_or(inner.len());
    &inner[..end]
}

/// The resource's JSON text: the stored attributes (`stored`, a JSON object; `None` = none)
/// with `set` laid over them — `(name, Some(json))` writes the attribute, `(name, None)` removes
/// it; of a name set twice, the last counts — and `schemas`, keys in byte order (as serde_json
/// writes a map). `None` when the stored text needs the tree path (see the module).
/// [`view_members`], then [`write_view`].
pub fn default_view(
    rt: &ResourceTypeDef,
    stored: Option<&str>,
    set: &[(&str, Option<&str>)],
) -> Option<String> {
    let mut server: Vec<(&str, Option<&str>)> = set.to_vec();
    // Stable, then the last of each name kept.
    server.sort_by(|a, b| a.0.cmp(b.0));
    let mut i = server.len();
    while i > 1 {
        i -= 1;
        if server[i - 1].0 == server[i].0 {
            server.remove(i - 1);
        }
    }
    let names: Vec<&str> = server.iter().map(|(name, _)| *name).collect();
    let view = view_members(rt, stored, &names)?;
    write_view(rt, view.as_str(), &server)
}

/// What the default view shows of `stored` (a JSON object's text; `None` = none) when the
/// server writes the attributes named `server` itself: `None` when the text needs the tree path
/// (see the module), or names `schemas` as the server's.
///
/// One pass over the stored members: each is dropped (the server's, `schemas`, `null`, not
/// returned by default), copied, or declines the view; then the kept ones are put in name order
/// (serde_json wrote them so: one pass checks) and the empty arrays merged in.
pub fn view_members(
    rt: &ResourceTypeDef,
    stored: Option<&str>,
    server: &[&str],
) -> Option<StoredView> {
    let plan = ViewPlan::of(rt)?;
    if server.contains(&"schemas") {
        return None;
    }
    let mut kept = match stored {
        Some(text) => members(text)?,
        None => Vec::new(),
    };
    let mut written = 0;
    let mut in_order = true;
    for read in 0..kept.len() {
        let (key, raw) = kept[read];
        if let Some(name) = server.iter().find(|n| n.eq_ignore_ascii_case(key)) {
            if *name == key {
                continue; // the server's value replaces it
            }
            return None;
        }
        if key.eq_ignore_ascii_case("schemas") {
            if key == "schemas" {
                continue; // written by `write_view`
            }
            return None;
        }
        if raw == "null" {
            continue;
        }
        let rule = match plan.rule(key) {
            Some(rule) => rule,
            None => AttrRule::resolved(rt, key)?,
        };
        if rule.declines || (rule.array && !raw.starts_with('[')) {
            return None;
        }
        if rule.hidden {
            continue;
        }
        // Pretty-printed text: its value cannot sit on one line of the view.
        if raw.contains(MEMBER_SEPARATOR) {
            return None;
        }
        if written > 0 && key <= kept[written - 1].0 {
            in_order = false;
        }
        kept[written] = (key, raw);
        written += 1;
    }
    kept.truncate(written);
    if !in_order {
        kept.sort_unstable_by(|a, b| a.0.cmp(b.0));
    }
    // A name twice in the stored text: the tree path decides which one counts.
    if kept.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    let arrays = plan.arrays.iter().filter(|name| !server.contains(name));
    let size = stored.map_or(0, str::len) + plan.arrays.len() * 24;
    let mut text = String::with_capacity(size);
    let mut push = |name: &str, value: &str| {
        if !text.is_empty() {
            text.push(MEMBER_SEPARATOR);
        }
        push_member(&mut text, name, value);
    };
    // The kept members and the empty arrays, both in name order, merged.
    let mut arrays = arrays.peekable();
    for (key, raw) in kept {
        while let Some(name) = arrays.next_if(|name| **name < key) {
            push(name, "[]");
        }
        arrays.next_if(|name| **name == key);
        push(key, raw);
    }
    for name in arrays {
        push(name, "[]");
    }
    Some(StoredView(text))
}

/// The resource's JSON text from the text of its [`StoredView`] (`view`) with `set` laid over
/// it — `(name, Some(json))` writes the attribute, `(name, None)` removes it — and `schemas`:
/// keys in byte order (as serde_json writes a map). `set` is in byte order of name, each name
/// once, without `schemas`; `None` otherwise, or when the resource type has no view.
pub fn write_view(
    rt: &ResourceTypeDef,
    view: &str,
    set: &[(&str, Option<&str>)],
) -> Option<String> {
    let mut text = String::new();
    write_view_into(rt, view, set, &mut text).then_some(text)
}

/// [`write_view`], appended to `text` (a page's text: each resource is written where it is
/// sent, not into a string of its own and then copied). `false`, with nothing written, where
/// [`write_view`] answers `None`.
pub fn write_view_into(
    rt: &ResourceTypeDef,
    view: &str,
    set: &[(&str, Option<&str>)],
    text: &mut String,
) -> bool {
    let Some(plan) = ViewPlan::of(rt) else {
        return false;
    };
    if !set.windows(2).all(|w| w[0].0 < w[1].0) || set.iter().any(|(name, _)| *name == "schemas") {
        return false;
    }
    let schemas = [("schemas", Some(plan.schemas.as_str()))];
    let before = set.partition_point(|(name, _)| *name < "schemas");
    let mut server = set[..before]
        .iter()
        .chain(&schemas)
        .chain(&set[before..])
        .peekable();
    let size = view.len()
        + set
            .iter()
            .map(|(k, v)| k.len() + v.map_or(0, str::len) + 4)
            .sum::<usize>()
        // `"schemas":` and its comma, a comma before the first kept member, the braces.
        + plan.schemas.len()
        + 14;
    text.reserve(size);
    let start = text.len();
    text.push('{');
    // The object's first member is the one written right after its brace.
    let first = start + 1;
    for member in members_of_view(view) {
        let name = name_of_member(member);
        let mut replaced = false;
        while let Some(&(server_name, value)) = server.next_if(|e| e.0 <= name) {
            replaced |= server_name == name;
            push_server(text, first, server_name, value);
        }
        if !replaced {
            separate(text, first);
            text.push_str(member);
        }
    }
    for &(name, value) in server {
        push_server(text, first, name, value);
    }
    text.push('}');
    debug_assert!(
        text.len() - start <= size,
        "sized {size}, wrote {}",
        text.len() - start
    );
    true
}

/// Writes the server's member `name` into `text`, unless its `value` is `None` (removed).
fn push_server(text: &mut String, first: usize, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        separate(text, first);
        push_member(text, name, value);
    }
}

/// Writes `"name":value`. A name holds no escape and no control character (`members` declined
/// those; the server's are the schema's).
fn push_member(text: &mut String, name: &str, value: &str) {
    text.push('"');
    text.push_str(name);
    text.push_str("\":");
    text.push_str(value);
}

/// A comma before a member that is not the object's first (which would start at `first`).
fn separate(text: &mut String, first: usize) {
    if text.len() > first {
        text.push(',');
    }
}

/// The tag a [`StoredView`] of `rt` is kept behind when the server writes `server` itself: `=`,
/// sixteen hexadecimal digits, `:`. The digits are a digest (FNV-1a, the same in every build) of
/// every schema and resource type the server knows, the resource type, `server` and the view's
/// format: a view chosen under other rules (another release's schemas) has another tag, and is
/// chosen again from the stored JSON. It starts with a byte no JSON text starts with.
pub fn view_tag(rt: &ResourceTypeDef, server: &[&str]) -> String {
    const FORMAT: &str = "view 1";
    let described = format!("{FORMAT}|{}|{server:?}|{:?}", rt.id, registry());
    let digest = described.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("={digest:016x}:")
}

/// What the default view does with a stored top-level attribute.
#[derive(Debug, Clone, Copy)]
struct AttrRule {
    /// The text cannot be copied (another case than the schema's, an extension, a
    /// sub-attribute never returned): the tree path answers.
    declines: bool,
    /// Multi-valued: copied only when stored as an array.
    array: bool,
    /// Not returned by default (`returned` never or request).
    hidden: bool,
}

impl AttrRule {
    fn of(def: &AttributeDef) -> Self {
        AttrRule {
            declines: def
                .sub_attributes
                .iter()
                .any(|s| s.returned == Returned::Never),
            array: def.multi_valued,
            hidden: matches!(def.returned, Returned::Never | Returned::Request),
        }
    }

    /// The rule for a name the plan does not hold as written: resolved through the registry as
    /// the tree path resolves it. Unknown names and an extension's attribute named without its
    /// URN are copied; `None` for what only the tree path writes.
    fn resolved(rt: &ResourceTypeDef, key: &str) -> Option<Self> {
        let reg = registry();
        if reg.extension_of(rt, key).is_some() {
            return None;
        }
        match reg.top_level(rt, key).filter(|r| !r.extension) {
            Some(r) if r.attr.name != key => None,
            Some(r) => Some(AttrRule::of(r.attr)),
            None => Some(AttrRule {
                declines: false,
                array: false,
                hidden: false,
            }),
        }
    }
}

/// A resource type's default view, worked out once: its `schemas` text, the rule of every
/// attribute a name resolves to as written, and the multi-valued attributes always written.
struct ViewPlan {
    resource_type: &'static str,
    schemas: String,
    /// By name (byte order), for names that resolve to themselves: the core schema's, then the
    /// common attributes no core attribute shadows.
    rules: Vec<(&'static str, AttrRule)>,
    /// Multi-valued core attributes returned by default, by name.
    arrays: Vec<&'static str>,
}

impl ViewPlan {
    fn of(rt: &ResourceTypeDef) -> Option<&'static ViewPlan> {
        static PLANS: OnceLock<Vec<ViewPlan>> = OnceLock::new();
        PLANS
            .get_or_init(|| {
                let reg = registry();
                reg.resource_types
                    .iter()
                    .filter_map(ViewPlan::build)
                    .collect()
            })
            .iter()
            .find(|p| p.resource_type == rt.id)
    }

    fn build(rt: &ResourceTypeDef) -> Option<ViewPlan> {
        let reg = registry();
        let core = reg.schema(rt.schema)?;
        let mut schemas = String::with_capacity(rt.schema.len() + 4);
        schemas.push('[');
        crate::scim::json::push_json_str(&mut schemas, rt.schema);
        schemas.push(']');
        let mut rules: Vec<(&'static str, AttrRule)> = Vec::new();
        for def in core.attributes.iter().chain(&reg.common) {
            if !rules.iter().any(|(n, _)| n.eq_ignore_ascii_case(def.name)) {
                rules.push((def.name, AttrRule::of(def)));
            }
        }
        rules.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut arrays: Vec<&'static str> = core
            .attributes
            .iter()
            .filter(|d| {
                d.multi_valued && matches!(d.returned, Returned::Default | Returned::Always)
            })
            .map(|d| d.name)
            .collect();
        arrays.sort_unstable();
        Some(ViewPlan {
            resource_type: rt.id,
            schemas,
            rules,
            arrays,
        })
    }

    /// The rule of an attribute named exactly as the schema names it.
    fn rule(&self, key: &str) -> Option<AttrRule> {
        self.rules
            .binary_search_by(|(n, _)| (*n).cmp(key))
            .ok()
            .map(|i| self.rules[i].1)
    }
}

/// Deepest nesting [`members`] reads; deeper text takes the tree path.
const MAX_DEPTH: usize = 64;

/// The members of the JSON object `text`, in written order: each name (the text inside its
/// quotes) and its value's text, without reading the values into a tree. `None` when `text` is
/// not one JSON object, or a name holds an escape (the tree path compares names decoded).
fn members(text: &str) -> Option<Vec<(&str, &str)>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let mut found = Vec::with_capacity(16);
    if b.get(i) == Some(&b'}') {
        return (skip_ws(b, i + 1) == b.len()).then_some(found);
    }
    loop {
        let key_end = skip_string(b, i)?;
        let key = &text[i + 1..key_end - 1];
        if key.contains('\\') {
            return None;
        }
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let value_start = skip_ws(b, i + 1);
        let value_end = skip_value(b, value_start, 1)?;
        found.push((key, &text[value_start..value_end]));
        i = skip_ws(b, value_end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return (skip_ws(b, i + 1) == b.len()).then_some(found),
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The end (one past the closing quote) of the JSON string starting at `i`.
fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut i = i + 1;
    loop {
        // Plain text is skipped eight bytes at a time, to the next quote, backslash or control.
        i = super::json::next_to_escape(b, i)?;
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => match *b.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => {
                    let hex = b.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    i += 6;
                }
                _ => return None,
            },
            _ => return None, // a control character
        }
    }
}

/// The end of the JSON value starting at `i` (`depth` = the containers it is inside).
fn skip_value(b: &[u8], i: usize, depth: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        open @ (b'{' | b'[') => {
            if depth >= MAX_DEPTH {
                return None;
            }
            let close = if open == b'{' { b'}' } else { b']' };
            let mut i = skip_ws(b, i + 1);
            if b.get(i) == Some(&close) {
                return Some(i + 1);
            }
            loop {
                if open == b'{' {
                    i = skip_ws(b, skip_string(b, i)?);
                    if b.get(i) != Some(&b':') {
                        return None;
                    }
                    i = skip_ws(b, i + 1);
                }
                i = skip_ws(b, skip_value(b, i, depth + 1)?);
                match *b.get(i)? {
                    b',' => i = skip_ws(b, i + 1),
                    c if c == close => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        b't' => b[i..].starts_with(b"true").then_some(i + 4),
        b'f' => b[i..].starts_with(b"false").then_some(i + 5),
        b'n' => b[i..].starts_with(b"null").then_some(i + 4),
        b'-' | b'0'..=b'9' => {
            let end = i + b[i..]
                .iter()
                .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .unwrap_or(b.len() - i);
            // The number's text must be one serde_json reads as a number.
            std::str::from_utf8(&b[i..end])
                .ok()
                .filter(|n| serde_json::from_str::<serde_json::Number>(n).is_ok())
                .map(|_| end)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::{json, value::RawValue, Value};

    use super::*;

    /// What serde_json reads as the object's members (names borrowed: none with an escape).
    fn serde_members(text: &str) -> Option<BTreeMap<&str, &str>> {
        let parsed: BTreeMap<&str, &RawValue> = serde_json::from_str(text).ok()?;
        Some(parsed.into_iter().map(|(k, v)| (k, v.get())).collect())
    }

    fn ours(text: &str) -> Option<BTreeMap<&str, &str>> {
        members(text).map(|m| m.into_iter().collect())
    }

    #[test]
    fn members_are_read_as_serde_json_reads_them() {
        let texts = [
            r#"{}"#,
            r#" { } "#,
            r#"{"a":1}"#,
            r#"{"name":{"givenName":"Ann","familyName":"O\"Neil"},"emails":[{"value":"a@x","primary":true}],"n":-1.5e3,"z":null,"f":false}"#,
            r#"{ "a" : [ 1 , { "b" : [ ] } , "x\u00e9\\" ] , "c" : "}" }"#,
            r#"{"title":"Staff \ud83d\ude80 \/ ok","k":"日本"}"#,
        ];
        for text in texts {
            assert_eq!(ours(text), serde_members(text), "{text}");
            assert!(ours(text).is_some(), "{text}");
        }
    }

    #[test]
    fn text_that_is_not_one_object_or_names_an_escape_is_declined() {
        let texts = [
            "",
            "[]",
            "null",
            r#"{"a":1"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":1} x"#,
            r#"{"a":[1,]}"#,
            r#"{"a":{"b"}}"#,
            r#"{"a":tru}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":"x\q"}"#,
            r#"{"a":"\u12"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a\"b":1}"#,
            r#"{"a":}"#,
        ];
        for text in texts {
            assert_eq!(members(text), None, "{text:?}");
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(70), "]".repeat(70));
        assert_eq!(members(&deep), None);
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z\"\\\\é ]{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_object_serde_json_writes_is_read_alike(
            object in prop::collection::btree_map("[a-zA-Z\"é]{0,6}", any_json(), 0..8),
            pretty in any::<bool>(),
        ) {
            let value = Value::Object(object.into_iter().collect());
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                value.to_string()
            };
            prop_assert_eq!(ours(&text), serde_members(&text));
        }
    }

    /// The view as it was first written (collect, lay the server's over, add the empty arrays,
    /// sort): the merge must write the same text, byte for byte.
    fn reference_view(
        rt: &ResourceTypeDef,
        stored: Option<&str>,
        set: &[(&str, Option<&str>)],
    ) -> Option<String> {
        let reg = registry();
        let core = reg.schema(rt.schema)?;
        let parsed = match stored {
            Some(text) => members(text)?,
            None => Vec::new(),
        };
        let mut schemas = String::with_capacity(rt.schema.len() + 4);
        schemas.push('[');
        crate::scim::json::push_json_str(&mut schemas, rt.schema);
        schemas.push(']');
        // A dozen attributes at most: a vector searched in place is cheaper than a map.
        let mut out: Vec<(&str, &str)> = Vec::with_capacity(parsed.len() + set.len() + 4);
        for (key, raw) in parsed {
            if let Some((name, _)) = set.iter().find(|(n, _)| n.eq_ignore_ascii_case(key)) {
                if *name == key {
                    continue; // the server's value replaces it
                }
                return None;
            }
            if key.eq_ignore_ascii_case("schemas") {
                if key == "schemas" {
                    continue; // written below
                }
                return None;
            }
            if raw == "null" {
                continue;
            }
            if reg.extension_of(rt, key).is_some() {
                return None;
            }
            if let Some(r) = reg.top_level(rt, key).filter(|r| !r.extension) {
                let def = r.attr;
                if def.name != key
                    || def
                        .sub_attributes
                        .iter()
                        .any(|s| s.returned == Returned::Never)
                    || (def.multi_valued && !raw.starts_with('['))
                {
                    return None;
                }
                if matches!(def.returned, Returned::Never | Returned::Request) {
                    continue;
                }
            }
            out.push((key, raw));
        }
        // Multi-valued attributes are always written, empty when unassigned.
        for def in &core.attributes {
            if def.multi_valued
                && matches!(def.returned, Returned::Default | Returned::Always)
                && !out.iter().any(|(k, _)| *k == def.name)
            {
                out.push((def.name, "[]"));
            }
        }
        for &(name, value) in set {
            out.retain(|(k, _)| *k != name);
            if let Some(json) = value {
                out.push((name, json));
            }
        }
        out.push(("schemas", &schemas));
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        // A name twice in the stored text: the tree path decides which one counts.
        if out.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        let mut text = String::with_capacity(out.iter().map(|(k, v)| k.len() + v.len() + 4).sum());
        text.push('{');
        for (i, (key, value)) in out.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            // A name holds no escape and no control character (`members` declined those).
            text.push('"');
            text.push_str(key);
            text.push_str("\":");
            text.push_str(value);
        }
        text.push('}');
        Some(text)
    }

    /// Stored names: the schema's, another case of them, the server's, `schemas`, an
    /// extension's URN and attribute, unknown ones.
    fn any_stored_name() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "title",
            "name",
            "emails",
            "Emails",
            "nickName",
            "nickname",
            "password",
            "groups",
            "x509Certificates",
            "addresses",
            "roles",
            "id",
            "ID",
            "meta",
            "userName",
            "schemas",
            "Schemas",
            "externalId",
            "active",
            "employeeNumber",
            "custom",
            "zeta",
            "Alpha",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ])
        .prop_map(str::to_string)
    }

    fn any_stored_value() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "null",
            "\"x\"",
            "[]",
            "[{\"value\":\"a@b.c\"}]",
            "{\"givenName\":\"Ann\"}",
            "1",
            "true",
            "{\"value\":\"a\"}",
        ])
        .prop_map(str::to_string)
    }

    /// The JSON object of `members` (name, value text), in their order.
    fn object_of(members: &[(String, String)]) -> String {
        let written: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        format!("{{{}}}", written.join(","))
    }

    proptest! {
        #[test]
        fn the_merged_view_is_the_collected_and_sorted_view(
            members in prop::collection::vec((any_stored_name(), any_stored_value()), 0..10),
            no_profile in any::<bool>(),
            user in any::<bool>(),
            shown in prop::collection::vec(any::<bool>(), 6),
        ) {
            let rt = if user { registry().user() } else { registry().group() };
            let text = object_of(&members);
            let stored = (!no_profile).then_some(text.as_str());
            let values = ["\"u1\"", "\"ann\"", "\"e-1\"", "true", "[{\"value\":\"g\"}]", "{\"x\":1}"];
            let names = ["id", "userName", "externalId", "active", "groups", "meta"];
            let set: Vec<(&str, Option<&str>)> = names
                .iter()
                .zip(values)
                .zip(&shown)
                .map(|((n, v), on)| (*n, on.then_some(v)))
                .collect();
            prop_assert_eq!(default_view(rt, stored, &set), reference_view(rt, stored, &set));
        }
    }

    proptest! {
        /// A kept view is what the default view shows of the profile: as an object, the
        /// reference view without the server's names and `schemas`; one member a line.
        #[test]
        fn a_kept_view_holds_the_profiles_shown_members_one_a_line(
            members in prop::collection::vec((any_stored_name(), any_stored_value()), 0..10),
            user in any::<bool>(),
        ) {
            let rt = if user { registry().user() } else { registry().group() };
            let text = object_of(&members);
            let server = ["active", "externalId", "groups", "id", "meta", "userName"];
            let set: Vec<(&str, Option<&str>)> = server.iter().map(|n| (*n, None)).collect();
            let view = view_members(rt, Some(&text), &server);
            let reference = reference_view(rt, Some(&text), &set);
            prop_assert_eq!(view.is_some(), reference.is_some());
            if let (Some(view), Some(reference)) = (view, reference) {
                let mut expected: Value = serde_json::from_str(&reference).unwrap();
                expected.as_object_mut().unwrap().remove("schemas");
                let kept: Value = serde_json::from_str(&view_object_text(view.as_str())).unwrap();
                prop_assert_eq!(&kept, &expected);
                prop_assert_eq!(
                    members_of_view(view.as_str()).count(),
                    expected.as_object().unwrap().len()
                );
                prop_assert_eq!(write_view(rt, view.as_str(), &set), Some(reference.clone()));
                // Appended to a page's text, the resource is the same text after it (its first
                // member has no comma before it, whatever the page held).
                let mut page = String::from("[{\"id\":\"0\"},");
                prop_assert!(write_view_into(rt, view.as_str(), &set, &mut page));
                prop_assert_eq!(page, format!("[{{\"id\":\"0\"}},{reference}"));
            }
        }
    }

    #[test]
    fn a_view_with_a_line_break_in_a_value_is_left_to_the_tree_path() {
        let rt = registry().user();
        let pretty = "{\"title\":\"Dr\",\"name\":{\n  \"givenName\": \"Ann\"\n}}";
        assert_eq!(view_members(rt, Some(pretty), &[]), None);
        let compact = r#"{"title":"Dr","name":{"givenName":"Ann"}}"#;
        let view = view_members(rt, Some(compact), &[]).expect("a view");
        let lines: Vec<&str> = view.as_str().lines().collect();
        for member in [
            r#""name":{"givenName":"Ann"}"#,
            r#""title":"Dr""#,
            r#""emails":[]"#,
        ] {
            assert!(lines.contains(&member), "{member} in {lines:?}");
        }
        assert!(lines.is_sorted(), "{lines:?}");
    }

    #[test]
    fn a_views_tag_names_its_rules() {
        let (user, group) = (registry().user(), registry().group());
        let tag = view_tag(user, &["id", "meta"]);
        assert_eq!(tag.len(), 18);
        assert!(tag.starts_with('=') && tag.ends_with(':'));
        assert!(tag[1..17].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            tag,
            view_tag(user, &["id", "meta"]),
            "the same rules, the same tag"
        );
        assert_ne!(tag, view_tag(user, &["id"]), "other server attributes");
        assert_ne!(
            tag,
            view_tag(group, &["id", "meta"]),
            "another resource type"
        );
    }

    #[test]
    fn the_view_lists_names_in_byte_order_with_the_servers_values() {
        let rt = registry().user();
        let stored =
            json!({"title": "Dr", "name": {"givenName": "Ann"}, "nickName": null}).to_string();
        let text = default_view(
            rt,
            Some(&stored),
            &[
                ("id", Some("\"u1\"")),
                ("userName", Some("\"ann\"")),
                ("active", None),
            ],
        )
        .expect("written from text");
        let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(&text)
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["id"], "u1");
        assert_eq!(v["title"], "Dr");
        assert_eq!(v["emails"], json!([]));
        assert!(v.get("nickName").is_none() && v.get("active").is_none());
        // A name twice is left to the tree path.
        assert_eq!(
            default_view(rt, Some(r#"{"title":"a","title":"b"}"#), &[]),
            None
        );
    }
}
