//! A resource written from its stored JSON text, for the answer most requests want (no
//! `attributes`, no `excludedAttributes`): the stored attributes are copied as text, the
//! server's own (`id`, `meta`, …) put beside them, without building a JSON tree per resource.
//! It writes what [`resource::render`](super::resource::render) followed by the default
//! [`Projection`](super::projection::Projection) would; where the stored text holds anything
//! those would change other than by dropping or adding whole top-level attributes (an
//! extension, an attribute name in another case, a multi-valued attribute that is not an array,
//! a sub-attribute never returned), it declines and the caller takes the tree path.

use std::sync::OnceLock;

use super::schema::{registry, AttributeDef, ResourceTypeDef, Returned};

/// The resource's JSON text: the stored attributes (`stored`, a JSON object; `None` = none)
/// with `set` laid over them — `(name, Some(json))` writes the attribute, `(name, None)` removes
/// it — and `schemas`, keys in byte order (as serde_json writes a map). `None` when the stored
/// text needs the tree path (see the module).
///
/// One pass over the stored members, then a merge of three lists in name order: the kept stored
/// members (in byte order already when serde_json wrote them; sorted otherwise), the server's
/// (`set` and `schemas`) and the multi-valued attributes written empty when unassigned.
pub fn default_view(
    rt: &ResourceTypeDef,
    stored: Option<&str>,
    set: &[(&str, Option<&str>)],
) -> Option<String> {
    let plan = ViewPlan::of(rt)?;
    let mut kept = match stored {
        Some(text) => members(text)?,
        None => Vec::new(),
    };
    let mut written = 0;
    let mut in_order = true;
    for read in 0..kept.len() {
        let (key, raw) = kept[read];
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
    if set.iter().any(|(name, _)| *name == "schemas") {
        return None;
    }
    let mut server: Vec<(&str, Option<&str>)> = Vec::with_capacity(set.len() + 1);
    server.extend_from_slice(set);
    server.push(("schemas", Some(&plan.schemas)));
    // Stable: of one name set twice, the last counts.
    server.sort_by(|a, b| a.0.cmp(b.0));

    let size = stored.map_or(0, str::len)
        + server
            .iter()
            .map(|(k, v)| k.len() + v.map_or(0, str::len) + 4)
            .sum::<usize>()
        + plan.arrays.len() * 24
        + 2;
    let mut text = String::with_capacity(size);
    text.push('{');
    let (mut k, mut s, mut a) = (0, 0, 0);
    loop {
        let heads = [
            kept.get(k).map(|e| e.0),
            server.get(s).map(|e| e.0),
            plan.arrays.get(a).copied(),
        ];
        let Some(name) = heads.into_iter().flatten().min() else {
            break;
        };
        // Empty when unassigned, then the stored value, then the server's: the later counts.
        let mut value = None;
        if heads[2] == Some(name) {
            value = Some("[]");
            a += 1;
        }
        if heads[0] == Some(name) {
            value = Some(kept[k].1);
            k += 1;
        }
        while server.get(s).is_some_and(|e| e.0 == name) {
            value = server[s].1;
            s += 1;
        }
        if let Some(value) = value {
            if text.len() > 1 {
                text.push(',');
            }
            // A name holds no escape and no control character (`members` declined those).
            text.push('"');
            text.push_str(name);
            text.push_str("\":");
            text.push_str(value);
        }
    }
    text.push('}');
    Some(text)
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

    proptest! {
        #[test]
        fn the_merged_view_is_the_collected_and_sorted_view(
            members in prop::collection::vec((any_stored_name(), any_stored_value()), 0..10),
            no_profile in any::<bool>(),
            user in any::<bool>(),
            shown in prop::collection::vec(any::<bool>(), 6),
        ) {
            let rt = if user { registry().user() } else { registry().group() };
            let text = format!(
                "{{{}}}",
                members
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            );
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
