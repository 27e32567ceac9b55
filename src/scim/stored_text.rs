//! A resource written from its stored JSON text, for the answer most requests want (no
//! `attributes`, no `excludedAttributes`): the stored attributes are copied as text, the
//! server's own (`id`, `meta`, …) put beside them, without building a JSON tree per resource.
//! It writes what [`resource::render`](super::resource::render) followed by the default
//! [`Projection`](super::projection::Projection) would; where the stored text holds anything
//! those would change other than by dropping or adding whole top-level attributes (an
//! extension, an attribute name in another case, a multi-valued attribute that is not an array,
//! a sub-attribute never returned), it declines and the caller takes the tree path.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::json::push_json_str;
use super::schema::{registry, ResourceTypeDef, Returned};

/// The resource's JSON text: the stored attributes (`stored`, a JSON object; `None` = none)
/// with `set` laid over them — `(name, Some(json))` writes the attribute, `(name, None)` removes
/// it — and `schemas`. `None` when the stored text needs the tree path (see the module).
pub fn default_view(
    rt: &ResourceTypeDef,
    stored: Option<&str>,
    set: &[(&str, Option<&str>)],
) -> Option<String> {
    let reg = registry();
    let core = reg.schema(rt.schema)?;
    // Names are borrowed from the text: one with an escape in it fails to parse here, and the
    // user takes the tree path.
    let parsed: BTreeMap<&str, &RawValue> = match stored {
        Some(text) => serde_json::from_str(text).ok()?,
        None => BTreeMap::new(),
    };
    let mut schemas = String::with_capacity(rt.schema.len() + 4);
    schemas.push('[');
    push_json_str(&mut schemas, rt.schema);
    schemas.push(']');
    let mut out: BTreeMap<&str, &str> = BTreeMap::new();
    for (&key, raw) in &parsed {
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
        if raw.get() == "null" {
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
                || (def.multi_valued && !raw.get().starts_with('['))
            {
                return None;
            }
            if matches!(def.returned, Returned::Never | Returned::Request) {
                continue;
            }
        }
        out.insert(key, raw.get());
    }
    // Multi-valued attributes are always written, empty when unassigned.
    for def in &core.attributes {
        if def.multi_valued && matches!(def.returned, Returned::Default | Returned::Always) {
            out.entry(def.name).or_insert("[]");
        }
    }
    for &(name, value) in set {
        match value {
            Some(json) => {
                out.insert(name, json);
            }
            None => {
                out.remove(name);
            }
        }
    }
    out.insert("schemas", &schemas);
    let mut text = String::with_capacity(out.iter().map(|(k, v)| k.len() + v.len() + 4).sum());
    text.push('{');
    for (i, (key, value)) in out.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        push_json_str(&mut text, key);
        text.push(':');
        text.push_str(value);
    }
    text.push('}');
    Some(text)
}
