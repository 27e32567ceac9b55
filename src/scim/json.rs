//! Case-insensitive access to JSON object keys: SCIM attribute names are case-insensitive (RFC 7643 §2.1), so
//! every lookup in a resource goes through these helpers.

use serde_json::{Map, Value};

/// Appends `s` as a JSON string literal (escaped only when it has to be).
pub fn push_json_str(text: &mut String, s: &str) {
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        text.push_str(&Value::from(s).to_string());
    } else {
        text.push('"');
        text.push_str(s);
        text.push('"');
    }
}

/// The stored key that equals `key` ignoring ASCII case (an exact match wins).
pub(crate) fn key_ci(obj: &Map<String, Value>, key: &str) -> Option<String> {
    if obj.contains_key(key) {
        return Some(key.to_string());
    }
    obj.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

/// `obj[key]`, ignoring case.
pub(crate) fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Removes every key equal to `key` ignoring case; returns the last removed value.
pub(crate) fn remove_ci(obj: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let keys: Vec<String> = obj
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(key))
        .cloned()
        .collect();
    let mut last = None;
    for k in keys {
        last = obj.remove(&k);
    }
    last
}

/// Sets `key` (replacing any differently-cased spelling) to `value`, using the canonical spelling `key`.
pub(crate) fn set_ci(obj: &mut Map<String, Value>, key: &str, value: Value) {
    remove_ci(obj, key);
    obj.insert(key.to_string(), value);
}

/// RFC 7643 §2.5: null, an empty array and an empty object all mean "unassigned".
pub(crate) fn is_unassigned(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_unassigned),
        _ => false,
    }
}
