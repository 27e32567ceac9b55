//! Case-insensitive access to JSON object keys: SCIM attribute names are case-insensitive (RFC 7643 §2.1), so
//! every lookup in a resource goes through these helpers.

use serde_json::{Map, Value};

/// Appends `s` as a JSON string literal, escaped as serde_json escapes it: runs of plain text
/// are copied whole (every byte that needs escaping is ASCII, so a run ends on a character
/// boundary).
pub fn push_json_str(text: &mut String, s: &str) {
    text.reserve(s.len() + 2);
    text.push('"');
    push_json_escaped(text, s);
    text.push('"');
}

/// Appends `s` escaped for the inside of a JSON string literal (no quotes around it), as
/// [`push_json_str`] escapes it.
pub fn push_json_escaped(text: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut plain_from = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        text.push_str(&s[plain_from..i]);
        plain_from = i + 1;
        if escaped.is_empty() {
            text.push_str("\\u00");
            text.push(char::from(HEX[usize::from(b >> 4)]));
            text.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            text.push_str(escaped);
        }
    }
    text.push_str(&s[plain_from..]);
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::push_json_str;

    fn literal(s: &str) -> String {
        let mut out = String::from("x");
        push_json_str(&mut out, s);
        out.split_off(1)
    }

    #[test]
    fn every_character_that_must_be_escaped_is_escaped_as_serde_json_does() {
        for s in [
            "",
            "plain",
            "a\"b\\c",
            "\n\r\t\u{8}\u{c}",
            "\u{0}\u{1f}\u{7f}",
            "é\"ü\u{1F600}\n",
        ] {
            assert_eq!(literal(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn any_text_is_written_as_serde_json_writes_it(s in any::<String>()) {
            prop_assert_eq!(literal(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
