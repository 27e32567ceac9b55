//! A user's group references, read in the statement that reads the user: the SQL column that
//! lists them compactly (each group's id and name as they are stored, framed by their lengths),
//! and what turns that text into the SCIM `groups` value — in name order, written straight into
//! the answer's JSON without building a JSON tree.
//!
//! Why so compact: a page of 100 users in ten groups each carries 1,000 references. Written whole
//! by the database (`{"value":…,"$ref":…,"display":…,"type":…}`) they were 2.1 KB a user, built
//! by nine concatenations each and copied three times on the way out of the driver. Quoted as
//! JSON string literals by the database (`json_quote`) they were a tenth of a page's work in
//! SQLite; framed by length, the text is copied as stored and escaped here (a copy, for names
//! without quotes or control characters), and the sort by name the database did per user is done
//! here on ten items.

use std::cmp::Ordering;

use serde_json::{json, Value};

use super::Backend;
use crate::scim::{push_json_escaped, push_json_str};

/// The `group_refs` column when a read does not ask for the references.
const NONE: &str = "CAST(NULL AS TEXT) AS group_refs";

/// The `group_refs` column of a user query: the references ([`column`]) when `with`, else NULL.
pub fn select(backend: Backend, with: bool) -> &'static str {
    if with {
        column(backend)
    } else {
        NONE
    }
}

/// The `group_refs` column of a user `u` of tenant `$1`: one `{id bytes}:{name bytes}:{id}{name}`
/// per group (lengths in UTF-8 bytes, decimal), one after another without a separator (empty
/// without groups), in no particular order ([`GroupRefs::parse`] sorts).
///
/// Both databases must start from the user's memberships and probe each group by id; started
/// from the tenant's groups, the work grows with the number of groups, for every user shown.
/// SQLite keeps the written order of a `CROSS JOIN`. PostgreSQL reorders joins by its
/// statistics, and on tables not yet analyzed (a directory just provisioned) it walked the
/// tenant's groups for each user (60 ms a page against 6): there the group is a `LATERAL`
/// subquery with `LIMIT 1`, which it must run per membership, by id, and the tenant test stays
/// outside it. PostgreSQL counts the bytes of the text converted to UTF-8, what the client
/// receives, whatever the database's own encoding.
pub fn column(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "COALESCE((SELECT string_agg(concat(octet_length(g.id), ':', \
             octet_length(g.display_name), ':', g.id, g.display_name), '') \
             FROM group_members m CROSS JOIN groups g \
             WHERE g.id = m.group_id AND m.user_id = u.id AND g.tenant_id = $1), '') AS group_refs"
        }
        Backend::Postgres => {
            "COALESCE((SELECT string_agg(concat(octet_length(convert_to(g.id, 'UTF8')), ':', \
             octet_length(convert_to(g.display_name, 'UTF8')), ':', g.id, g.display_name), '') \
             FROM group_members m CROSS JOIN LATERAL (SELECT g.id, g.tenant_id, g.display_name \
             FROM groups g WHERE g.id = m.group_id LIMIT 1) g \
             WHERE m.user_id = u.id AND g.tenant_id = $1), '') AS group_refs"
        }
    }
}

/// `{base}/Groups/` as the inside of a JSON string: what a reference's `$ref` starts with.
#[derive(Debug, Clone)]
pub struct RefPrefix(String);

impl RefPrefix {
    pub fn new(base: &str) -> Self {
        let mut escaped = String::with_capacity(base.len() + 8);
        push_json_escaped(&mut escaped, base);
        escaped.push_str("/Groups/");
        RefPrefix(escaped)
    }
}

/// One reference: the group's id and name as stored.
struct Ref<'a> {
    id: &'a str,
    name: &'a str,
}

/// A user's references, parsed from the [`column`]'s text and sorted by name (case-insensitive),
/// then id.
pub struct GroupRefs<'a> {
    refs: Vec<Ref<'a>>,
}

impl<'a> GroupRefs<'a> {
    /// Reads the column's text. Text the column cannot have written (a length past the end or
    /// inside a character) ends the list where it stops making sense.
    pub fn parse(text: &'a str) -> Self {
        let mut refs = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let Some((r, after)) = framed(rest) else {
                break;
            };
            refs.push(r);
            rest = after;
        }
        refs.sort_by(by_name);
        GroupRefs { refs }
    }

    /// Appends the SCIM `groups` array: `[{"value","$ref","display","type":"direct"},…]`.
    pub fn write_json(&self, prefix: &RefPrefix, out: &mut String) {
        out.push('[');
        for (i, r) in self.refs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"value\":");
            push_json_str(out, r.id);
            out.push_str(",\"$ref\":\"");
            out.push_str(&prefix.0);
            push_json_escaped(out, r.id);
            out.push_str("\",\"display\":");
            push_json_str(out, r.name);
            out.push_str(",\"type\":\"direct\"}");
        }
        out.push(']');
    }

    /// The SCIM `groups` array as a JSON value, `$ref`s under the endpoint's URL `base`.
    pub fn to_value(&self, base: &str) -> Value {
        Value::Array(
            self.refs
                .iter()
                .map(|r| {
                    json!({
                        "value": r.id,
                        "$ref": format!("{base}/Groups/{}", r.id),
                        "display": r.name,
                        "type": "direct",
                    })
                })
                .collect(),
        )
    }
}

/// The reference `text` starts with (`{id bytes}:{name bytes}:{id}{name}`), and what follows it.
fn framed(text: &str) -> Option<(Ref<'_>, &str)> {
    let (id_len, rest) = length(text)?;
    let (name_len, rest) = length(rest)?;
    let name_end = id_len.checked_add(name_len)?;
    let r = Ref {
        id: rest.get(..id_len)?,
        name: rest.get(id_len..name_end)?,
    };
    Some((r, &rest[name_end..]))
}

/// The decimal length `text` starts with, ended by `:`, and what follows the `:`.
fn length(text: &str) -> Option<(usize, &str)> {
    let (digits, rest) = text.split_once(':')?;
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, rest))
}

/// Name order without case (lowercased code points), then id: the order groups are listed
/// everywhere.
fn by_name(a: &Ref<'_>, b: &Ref<'_>) -> Ordering {
    without_case(a.name, b.name).then_with(|| a.id.cmp(b.id))
}

/// Compares lowercased code points. While both sides are ASCII a byte is its own code point, so
/// the common prefix is compared bytewise; only from the first non-ASCII byte on (a character
/// boundary on both sides, where everything before compared equal) are characters lowercased.
fn without_case(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < x.len() && i < y.len() && x[i].is_ascii() && y[i].is_ascii() {
        match x[i].to_ascii_lowercase().cmp(&y[i].to_ascii_lowercase()) {
            Ordering::Equal => i += 1,
            unequal => return unequal,
        }
    }
    a[i..]
        .chars()
        .flat_map(char::to_lowercase)
        .cmp(b[i..].chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://roster.example/api/v1/acme/integrations/i1/scim/v2";

    /// What [`column`] lists for these groups.
    fn listed(groups: &[(&str, &str)]) -> String {
        groups
            .iter()
            .map(|(id, name)| format!("{}:{}:{id}{name}", id.len(), name.len()))
            .collect()
    }

    #[test]
    fn references_come_out_in_name_order_with_names_escaped_exactly() {
        let names = [
            ("g3", "ops \"night\" \\ shift"),
            ("g1", "Zeta"),
            ("g2", "alpha"),
            ("g5", "Émile\u{1}tab\t"),
            ("g4", "alpha"),
            ("g6", "ÄRZTE"),
            ("g7", "äpfel"),
        ];
        let text = listed(&names);
        let refs = GroupRefs::parse(&text);
        let mut json = String::new();
        refs.write_json(&RefPrefix::new(BASE), &mut json);
        let written: Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(written, refs.to_value(BASE));
        let order: Vec<&str> = written
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["value"].as_str().expect("id"))
            .collect();
        // By lowercased code points: alpha (g2, then g4 by id), ops, Zeta, äpfel, ÄRZTE, Émile.
        assert_eq!(order, ["g2", "g4", "g3", "g1", "g7", "g6", "g5"]);
        let ops = &written[2];
        assert_eq!(ops["display"], "ops \"night\" \\ shift");
        assert_eq!(ops["$ref"], format!("{BASE}/Groups/g3"));
        assert_eq!(ops["type"], "direct");
        assert_eq!(written[6]["display"], "Émile\u{1}tab\t");
    }

    #[test]
    fn the_ascii_shortcut_orders_as_lowercased_code_points_do() {
        let names = [
            "",
            "a",
            "A",
            "ab",
            "aB",
            "a b",
            "a-b",
            "a_b",
            "a[",
            "a{",
            "Z",
            "z",
            "zz",
            "@",
            "`",
            "ä",
            "Ä",
            "aä",
            "aÄ",
            "AÄb",
            "aİ",
            "ai",
            "ai\u{307}",
            "İ",
            "i",
            "Σ",
            "σς",
            "ß",
            "ss",
            "Émile",
            "emile",
            "é",
            "e\u{301}",
            "日本",
            "a日",
            "A日b",
            "\u{1}",
            "\u{7f}x",
            "\u{80}",
        ];
        for a in names {
            for b in names {
                let reference = a
                    .chars()
                    .flat_map(char::to_lowercase)
                    .cmp(b.chars().flat_map(char::to_lowercase));
                assert_eq!(without_case(a, b), reference, "{a:?} against {b:?}");
            }
        }
    }

    #[test]
    fn ids_and_prefixes_that_need_escaping_stay_valid_json() {
        let text = listed(&[("a\"b", "x")]);
        let base = "https://h/p\"q";
        let mut json = String::new();
        GroupRefs::parse(&text).write_json(&RefPrefix::new(base), &mut json);
        let written: Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(written[0]["value"], "a\"b");
        assert_eq!(written[0]["$ref"], "https://h/p\"q/Groups/a\"b");
    }

    #[test]
    fn no_groups_is_an_empty_array_and_broken_text_stops_the_list() {
        let mut json = String::new();
        GroupRefs::parse("").write_json(&RefPrefix::new(BASE), &mut json);
        assert_eq!(json, "[]");
        let one = listed(&[("g1", "one")]);
        let cut = format!("{one}2:3:g2");
        let refs = GroupRefs::parse(&cut);
        assert_eq!(refs.to_value(BASE).as_array().map(Vec::len), Some(1));
        for broken in [
            "2:3:g1",
            "x:3:g1one",
            ":3:g1one",
            "2:",
            "2:9999999999:g1",
            "1:1:aé",
        ] {
            assert_eq!(GroupRefs::parse(broken).refs.len(), 0, "{broken:?}");
        }
    }
}
