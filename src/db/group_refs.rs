//! A user's group references, read in the statement that reads the user: the SQL expression that
//! lists them compactly (each group's id and name as JSON string literals, quoted by the
//! database when the membership is written and kept on it), how they are written and rewritten,
//! and what turns that text into the SCIM `groups` value — in name order, written
//! straight into the answer's JSON without building a JSON tree.
//!
//! Why so compact: a page of 100 users in ten groups each carries 1,000 references. Written whole
//! by the database (`{"value":…,"$ref":…,"display":…,"type":…}`) they were 2.1 KB a user, built
//! by nine concatenations each and copied three times on the way out of the driver; as literals
//! they are 0.7 KB, and the sort by name the database did per user is done here on ten items.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{json, Value};

use super::json_literals::{literal, Literal};
use super::{Backend, Conn};
use crate::error::AppResult;

/// The references of a user `u` of tenant `$1`: `"id""name","id""name",…` (each a JSON string
/// literal; empty without groups), in no particular order ([`GroupRefs::parse`] sorts), when
/// `with`; else the empty text. Each membership carries its group's reference
/// ([`reference_of_group`]), so this is one range of `group_members_user_refs_idx` on both
/// databases, with no visit to the groups. The text never holds a newline (JSON string literals
/// hold none), so a packed row may end with it (`db::packed_rows`).
pub fn expression(with: bool) -> &'static str {
    if with {
        "COALESCE((SELECT string_agg(m.group_ref, ',') FROM group_members m \
         WHERE m.user_id = u.id AND m.tenant_id = $1), '')"
    } else {
        "''"
    }
}

/// A group `g`'s reference as its memberships carry it: the JSON string literals of its id and
/// display name, one after the other, quoted by the database.
pub fn reference_of_group(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "json_quote(g.id) || json_quote(g.display_name)",
        Backend::Postgres => "to_json(g.id)::text || to_json(g.display_name)::text",
    }
}

/// Writes the reference of every membership of `group_id` again, from the group as it now is
/// (after a rename).
pub async fn rewrite(conn: &mut Conn, group_id: &str) -> AppResult<()> {
    let sql = format!(
        "UPDATE group_members SET group_ref = (SELECT {} FROM groups g WHERE g.id = $1) \
         WHERE group_id = $1",
        reference_of_group(super::backend_of(conn))
    );
    sqlx::query(&sql).bind(group_id).execute(&mut *conn).await?;
    Ok(())
}

/// Gives the memberships that migration 0009 found their references (it cannot quote them: the
/// two databases quote differently); a no-op once done, on the partial index of those rows. Their
/// tenant is written again with them: a membership an older binary wrote beside this one (say,
/// during a rolling start of replicas) has neither, and the next start mends both.
pub async fn fill_missing(conn: &mut Conn) -> AppResult<u64> {
    let sql = fill_missing_sql(super::backend_of(conn));
    Ok(sqlx::query(&sql).execute(&mut *conn).await?.rows_affected())
}

fn fill_missing_sql(backend: Backend) -> String {
    format!(
        "UPDATE group_members SET (tenant_id, group_ref) = (SELECT g.tenant_id, {} FROM groups g \
         WHERE g.id = group_members.group_id) WHERE group_ref IS NULL",
        reference_of_group(backend)
    )
}

/// `{base}/Groups/` (or `{base}/Users/`, [`RefPrefix::of_users`]) as the inside of a JSON
/// string: what a reference's `$ref` starts with.
#[derive(Debug, Clone)]
pub struct RefPrefix(pub(super) String);

impl RefPrefix {
    pub fn new(base: &str) -> Self {
        Self::under(base, "/Groups/")
    }

    /// For a group's members (`db::member_refs`).
    pub fn of_users(base: &str) -> Self {
        Self::under(base, "/Users/")
    }

    fn under(base: &str, resources: &str) -> Self {
        let mut escaped = String::with_capacity(base.len() + resources.len());
        crate::scim::push_json_escaped(&mut escaped, base);
        escaped.push_str(resources);
        RefPrefix(escaped)
    }
}

/// One reference: the group's id and name as the column lists them (JSON string literals) and
/// as text.
struct Ref<'a> {
    id_literal: &'a str,
    name_literal: &'a str,
    id: Cow<'a, str>,
    name: Cow<'a, str>,
}

/// A user's references, parsed from the [`expression`]'s text and sorted by name (case-insensitive),
/// then id.
pub struct GroupRefs<'a> {
    refs: Vec<Ref<'a>>,
    /// [`digest`] of the text, found on the same pass.
    digest: u64,
}

impl<'a> GroupRefs<'a> {
    /// Reads the column's text. Text the column cannot have written ends the list where it
    /// stops making sense.
    pub fn parse(text: &'a str) -> Self {
        if text.is_empty() {
            return GroupRefs {
                refs: Vec::new(),
                digest: 0,
            };
        }
        // Sized once for ids of 36 characters (`"…""…",` is at least 41 bytes a reference):
        // counting the commas first cost more than growing the vector.
        let mut refs = Vec::with_capacity(text.len() / 32 + 1);
        let mut digest = 0u64;
        for (id, name, reference) in references(text) {
            digest = digest.wrapping_add(hash(reference));
            refs.push(Ref {
                id_literal: id.text,
                name_literal: name.text,
                id: id.unquoted(),
                name: name.unquoted(),
            });
        }
        refs.sort_by(by_name);
        GroupRefs { refs, digest }
    }

    /// [`digest`] of the text they were parsed from.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// Appends the SCIM `groups` array: `[{"value","$ref","display","type":"direct"},…]`.
    pub fn write_json(&self, prefix: &RefPrefix, out: &mut String) {
        // Sized once: the literals twice (the id's inside again in `$ref`), the prefix and the
        // fixed text of each element.
        const FIXED: usize = r#"{"value":,"$ref":"","display":,"type":"direct"},"#.len();
        let size: usize = self
            .refs
            .iter()
            .map(|r| 2 * r.id_literal.len() + r.name_literal.len() + prefix.0.len() + FIXED)
            .sum();
        out.reserve(size + 2);
        out.push('[');
        for (i, r) in self.refs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"value\":");
            out.push_str(r.id_literal);
            out.push_str(",\"$ref\":\"");
            out.push_str(&prefix.0);
            // The literal's inside is already escaped for a JSON string.
            out.push_str(&r.id_literal[1..r.id_literal.len() - 1]);
            out.push_str("\",\"display\":");
            out.push_str(r.name_literal);
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

/// A digest of the references [`expression`] lists, whatever their order: the sum of a 64-bit
/// hash of each reference's text (its id and name literals). 0 without groups. A user's ETag
/// carries it (`iam::scim_users::user_version`), so joining, leaving, and a rename or deletion
/// of one of their groups is a new version of them without a write to them: the membership's
/// own write (or the group's) changes what this reads. Stable across processes and releases (a
/// fixed hash, not std's): replicas answer the same ETag for the same groups.
pub fn digest(text: &str) -> u64 {
    references(text).fold(0u64, |sum, (_, _, reference)| {
        sum.wrapping_add(hash(reference))
    })
}

/// The references [`expression`] lists, in its order: each one's id and name literals and its
/// whole text (what [`hash`] digests). Text the column cannot have written ends the list where
/// it stops making sense.
fn references(text: &str) -> impl Iterator<Item = (Literal<'_>, Literal<'_>, &[u8])> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let start = rest?;
        let (id, after_id) = literal(start)?;
        let (name, after_name) = literal(after_id)?;
        rest = after_name.strip_prefix(',');
        Some((id, name, reference(start, after_name)))
    })
}

/// One reference's text: from the start of `rest` to where `after` (a suffix of it) begins.
fn reference<'a>(rest: &'a str, after: &str) -> &'a [u8] {
    &rest.as_bytes()[..rest.len() - after.len()]
}

/// A 64-bit hash of `bytes`, eight at a time (a multiply and a rotation each), then mixed by
/// splitmix64's finaliser (a sum of poorly mixed hashes of similar texts collides too easily).
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let mut last = [0u8; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    h = (h ^ u64::from_le_bytes(last)).wrapping_mul(K);
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Name order without case (lowercased code points), then id: the order groups are listed
/// everywhere.
fn by_name(a: &Ref<'_>, b: &Ref<'_>) -> Ordering {
    without_case(&a.name, &b.name).then_with(|| a.id.cmp(&b.id))
}

/// Compares lowercased code points. Equal bytes are equal characters, so the bytes both share
/// are skipped first, eight at a time (names of one directory often share a long prefix), back to
/// the character boundary before the first difference (the same place in both: the bytes before
/// it are the same). While both sides are ASCII a byte is its own code point, so from there the
/// bytes are compared lowercased; only from the first non-ASCII byte on (a character boundary on
/// both sides, where everything before compared equal) are characters lowercased.
fn without_case(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let mut i = common_prefix(x, y);
    while !a.is_char_boundary(i) {
        i -= 1;
    }
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

/// How many leading bytes `x` and `y` share: eight compared at once, the first that differ found
/// from their XOR (read little-endian, the lowest set bit is in the first differing byte).
fn common_prefix(x: &[u8], y: &[u8]) -> usize {
    let n = x.len().min(y.len());
    let mut i = 0;
    while i + 8 <= n {
        let word = |s: &[u8]| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&s[i..i + 8]);
            u64::from_le_bytes(word)
        };
        let differ = word(x) ^ word(y);
        if differ != 0 {
            return i + (differ.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && x[i] == y[i] {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest is the set's: any order of the same references gives it, and a reference
    /// added, removed or renamed (even to a name one letter away) changes it.
    #[test]
    fn the_digest_is_of_the_set_of_references() {
        let refs = [
            r#""g-1""Admins""#,
            r#""g-2""Ops, \"night\"""#,
            r#""g-3""Zoë 名前""#,
            r#""g-4""Admins""#,
        ];
        let joined = |order: &[usize]| order.iter().map(|&i| refs[i]).collect::<Vec<_>>().join(",");
        let all = digest(&joined(&[0, 1, 2, 3]));
        assert_eq!(GroupRefs::parse(&joined(&[0, 1, 2, 3])).digest(), all);
        assert_eq!(digest(""), 0);
        assert_eq!(GroupRefs::parse("").digest(), 0);
        assert_ne!(all, 0);
        for order in [[3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]] {
            assert_eq!(digest(&joined(&order)), all, "{order:?}");
        }
        let mut seen = std::collections::HashSet::from([all, 0]);
        let head = joined(&[0, 1, 2]);
        for other in [
            head.clone(),
            joined(&[1, 2, 3]),
            joined(&[0]),
            joined(&[3]),
            format!(r#"{head},"g-4""Admint""#),
            format!(r#"{head},"g-5""Admins""#),
            format!(r#"{head},"g-4""""#),
        ] {
            assert!(seen.insert(digest(&other)), "{other} shares a digest");
        }
    }

    const BASE: &str = "https://roster.example/api/v1/acme/integrations/i1/scim/v2";

    fn listed(groups: &[(&str, &str)]) -> String {
        groups
            .iter()
            .map(|(id, name)| format!("{}{}", Value::from(*id), Value::from(*name)))
            .collect::<Vec<_>>()
            .join(",")
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
            // Long shared prefixes: differences in case, in a digit, in a character whose
            // bytes straddle an eight-byte word (é and è share their first byte), after it.
            "bench-grp-run1-00001",
            "bench-grp-run1-00002",
            "Bench-Grp-Run1-00002",
            "bench-grp-run1-0000",
            "1234567é",
            "1234567è",
            "1234567É",
            "1234567e",
            "12345678é-and-more",
            "12345678É-and-more",
            "abcdefghijklmnopİ",
            "abcdefghijklmnopi",
            // Words that differ early one way and late the other: the first difference decides.
            "a-------z",
            "b-------a",
            "A------Zb",
            "a------za",
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

    proptest::proptest! {
        /// Any two names over letters of both cases, digits and characters of two to four
        /// bytes (whose lowercase differ in length or are several characters), often sharing
        /// a long prefix, compare as lowercased code points do.
        #[test]
        fn names_compare_as_lowercased_code_points(
            prefix in "[aA0é日]{0,12}",
            a in "[aAbB9éÉİiΣσß日😀-]{0,10}",
            b in "[aAbB9éÉİiΣσß日😀-]{0,10}",
        ) {
            let (a, b) = (format!("{prefix}{a}"), format!("{prefix}{b}"));
            let reference = a
                .chars()
                .flat_map(char::to_lowercase)
                .cmp(b.chars().flat_map(char::to_lowercase));
            proptest::prop_assert_eq!(without_case(&a, &b), reference, "{:?} against {:?}", a, b);
        }
    }

    /// The fill that follows every migration reads only the memberships without a reference
    /// (none, once filled), on their partial index: never a scan of every membership.
    #[tokio::test]
    async fn the_fill_after_migrating_reads_only_unfilled_memberships() {
        use crate::db::plans;
        let (_dir, db) = plans::migrated_sqlite().await;
        let steps = plans::steps(&db, &fill_missing_sql(Backend::Sqlite), &[]).await;
        assert!(
            steps[0].contains("group_members_unfilled_idx"),
            "{steps:#?}"
        );
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
        let refs = GroupRefs::parse("\"g1\"\"one\",\"g2\"");
        assert_eq!(refs.to_value(BASE).as_array().map(Vec::len), Some(1));
        assert_eq!(GroupRefs::parse("\"unterminated").refs.len(), 0);
        for broken in [
            "\"g1\\",
            "\"g1\\\"\"one\"",
            "\"g\u{1}1\"\"one\"",
            "g1\"\"one\"",
        ] {
            assert_eq!(GroupRefs::parse(broken).refs.len(), 0, "{broken:?}");
        }
        // Escapes anywhere in a long literal: the closing quote is the unescaped one.
        let escaped = listed(&[("0123456789\\\"abcdef\"", "\\\\\"x\"\\")]);
        let refs = GroupRefs::parse(&escaped);
        assert_eq!(refs.refs.len(), 1);
        assert_eq!(refs.refs[0].id, "0123456789\\\"abcdef\"");
        assert_eq!(refs.refs[0].name, "\\\\\"x\"\\");
    }
}
