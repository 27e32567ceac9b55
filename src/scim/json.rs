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
    let bytes = s.as_bytes();
    let mut plain_from = 0;
    while let Some(at) = next_to_escape(bytes, plain_from) {
        text.push_str(&s[plain_from..at]);
        plain_from = at + 1;
        let b = bytes[at];
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            _ => "",
        };
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

/// The first byte at or after `from` that a JSON string must escape (`"`, `\`, a control
/// character), eight bytes at a time. Each test flags a byte whose top bit it clears by
/// borrowing; a borrow only reaches the bytes above a true match, so the lowest flag (the first
/// byte, read little-endian) is a true one. Bytes from 0x80 up (UTF-8 beyond ASCII) are never
/// flagged: every byte to escape is ASCII, so a match is a character boundary.
pub(crate) fn next_to_escape(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & TOPS;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let flags = (x.wrapping_sub(ONES * 0x20) & !x & TOPS)
            | zero_byte(x ^ (ONES * u64::from(b'"')))
            | zero_byte(x ^ (ONES * u64::from(b'\\')));
        if flags != 0 {
            return Some(i + (flags.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes
        .get(i..)?
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .map(|p| i + p)
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

    #[test]
    fn a_character_to_escape_is_found_at_every_position_of_a_word() {
        for len in 0..40 {
            for at in 0..len {
                for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
                    for filler in ['a', 'é', '\u{7f}', ' '] {
                        let s: String = (0..len)
                            .map(|i| if i == at { special } else { filler })
                            .collect();
                        let mut ours = String::new();
                        push_json_str(&mut ours, &s);
                        assert_eq!(ours, serde_json::to_string(&s).unwrap(), "{s:?}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn any_text_is_written_as_serde_json_writes_it(s in any::<String>()) {
            prop_assert_eq!(literal(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
