//! A group's members as SCIM answers them: the database lists their ids as JSON string
//! literals in one text value a group (`"id","id",…`, quoted by the database, in the
//! membership key's order, so read along the key with no sort and no visit to the users), and
//! they are written straight into the answer's JSON.
//!
//! Why: an "everyone" group holds the whole directory, and authentik reads a group back after
//! every change to it. Read as one row a member and built as a JSON tree, a group of 100,000
//! members cost 300–430 ms of CPU and took the server's resident set from 21 to 160 MiB for
//! one `GET` (issue #13). As one value it is 3.8 MB of ids, written once into the answer.

use sqlx::Row;

use super::group_refs::RefPrefix;
use super::json_literals::{self, Literal};
use super::{Backend, Conn};
use crate::error::AppResult;
use crate::scim::json_text::{Deferred, JsonText};

/// The ids of group `$1`'s members as one value (NULL without members), in key order.
fn of_group_sql(backend: Backend) -> &'static str {
    match backend {
        // The primary key's index `(group_id, user_id)` is walked in order: the aggregate takes
        // the ids as it meets them.
        Backend::Sqlite => {
            "SELECT string_agg(json_quote(m.user_id), ',') AS ids FROM group_members m \
             WHERE m.group_id = $1"
        }
        Backend::Postgres => {
            "SELECT string_agg(to_json(m.user_id)::text, ',' ORDER BY m.user_id) AS ids \
             FROM group_members m WHERE m.group_id = $1"
        }
    }
}

/// [`of_group_sql`] as a column of a statement that reads groups as `g`: `member_ids`, each
/// group's members read in the statement that reads the group, so that an answer's members
/// are those of the version its ETag names (two statements would each see their own commit).
pub fn column(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "(SELECT string_agg(json_quote(m.user_id), ',') FROM group_members m \
             WHERE m.group_id = g.id) AS member_ids"
        }
        Backend::Postgres => {
            "(SELECT string_agg(to_json(m.user_id)::text, ',' ORDER BY m.user_id) \
             FROM group_members m WHERE m.group_id = g.id) AS member_ids"
        }
    }
}

/// The member ids of `group_id` as [`write_json`] reads them; empty without members.
pub async fn of_group(conn: &mut Conn, group_id: &str) -> AppResult<String> {
    let row = sqlx::query(of_group_sql(super::backend_of(conn)))
        .bind(group_id)
        .fetch_one(&mut *conn)
        .await?;
    let ids: Option<String> = row.try_get("ids")?;
    Ok(ids.unwrap_or_default())
}

/// The [`column`] of `row`: its group's member ids; empty without members.
pub fn from_row(row: &sqlx::any::AnyRow) -> Result<String, sqlx::Error> {
    let ids: Option<String> = row.try_get("member_ids")?;
    Ok(ids.unwrap_or_default())
}

/// Which of a member's sub-attributes an answer writes: all three by default, some under a
/// projection (`attributes=members.value`, `excludedAttributes=members.$ref`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberFields {
    pub value: bool,
    pub reference: bool,
    pub kind: bool,
}

impl MemberFields {
    /// `value`, `$ref` and `type`: a member as the default view answers it.
    pub const ALL: MemberFields = MemberFields {
        value: true,
        reference: true,
        kind: true,
    };
}

/// Lists of more ids than this are written as the client reads the answer ([`MemberList`]);
/// shorter ones at once (most groups: one more part would cost more than it holds).
pub const DEFERRED_FROM: usize = 32 * 1024;

/// Appends the SCIM `members` array of the ids [`of_group`] listed to `out`:
/// `[{"value","$ref","type":"User"},…]`, in their order — written now, or for a long list as
/// the client reads it. (`display` is not echoed: it is not a schema sub-attribute of
/// `members`, RFC 7643 §8.7.1, and clients compare members with what they sent.)
pub fn append_json(ids: String, prefix: &RefPrefix, fields: MemberFields, out: &mut JsonText) {
    let mut list = MemberList::new(ids, prefix, fields);
    if list.ids.len() < DEFERRED_FROM {
        let text = out.text_mut();
        text.reserve(list.len);
        list.write_piece(text, usize::MAX);
    } else {
        out.push_deferred(Box::new(list));
    }
}

/// [`append_json`] into a string, all of it now.
pub fn write_json(ids: &str, prefix: &RefPrefix, fields: MemberFields, out: &mut String) {
    let mut list = MemberList::new(ids, prefix, fields);
    out.reserve(list.len);
    list.write_piece(out, usize::MAX);
}

/// A `members` array written a piece at a time from the ids the database listed (`S`: the
/// listing, owned or borrowed).
pub struct MemberList<S> {
    ids: S,
    /// Where in `ids` the next literal starts; `None` before the `[`.
    next: Option<usize>,
    /// Each member's text is `opening`, its literal when `fields.value`, then `ref_opening` (the
    /// escaped `$ref` prefix at its end) and the literal's inside when `fields.reference`, then
    /// `closing`: the fixed text of the sub-attributes kept, ready once for every member.
    fields: MemberFields,
    opening: String,
    ref_opening: String,
    closing: String,
    /// The bytes the whole array is.
    len: usize,
}

impl<S: AsRef<str>> MemberList<S> {
    fn new(ids: S, prefix: &RefPrefix, fields: MemberFields) -> Self {
        let MemberFields {
            value,
            reference,
            kind,
        } = fields;
        let opening = if value { "{\"value\":" } else { "" }.to_string();
        let ref_opening = if reference {
            format!("{}\"$ref\":\"{}", if value { "," } else { "{" }, prefix.0)
        } else {
            String::new()
        };
        let mut closing = String::from(if reference { "\"" } else { "" });
        if kind {
            closing.push_str(if value || reference { "," } else { "{" });
            closing.push_str("\"type\":\"User\"");
        } else if !value && !reference {
            closing.push('{');
        }
        closing.push('}');
        // Each member's text (its literal once or twice: its inside again in `$ref`, without
        // its quotes), a comma between members, the brackets.
        let fixed = opening.len() + ref_opening.len() + closing.len();
        let (mut count, mut literals) = (0usize, 0);
        for id in json_literals::comma_separated(ids.as_ref()) {
            count += 1;
            literals +=
                usize::from(value) * id.text.len() + usize::from(reference) * (id.text.len() - 2);
        }
        let len = 2 + count * fixed + literals + count.saturating_sub(1);
        MemberList {
            ids,
            next: None,
            fields,
            opening,
            ref_opening,
            closing,
            len,
        }
    }

    /// [`Deferred::write_next`].
    fn write_piece(&mut self, out: &mut String, budget: usize) -> bool {
        let ids = self.ids.as_ref();
        let start = out.len();
        let mut at = match self.next {
            Some(at) => at,
            None => {
                out.push('[');
                0
            }
        };
        let mut rest = json_literals::comma_separated(&ids[at.min(ids.len())..]);
        while out.len() - start < budget {
            let Some(id) = rest.next() else {
                out.push(']');
                self.next = Some(ids.len());
                return false;
            };
            if at > 0 {
                out.push(',');
            }
            self.write_member(out, &id);
            // Past the literal and the comma after it.
            at = offset_in(ids, id.text) + id.text.len() + 1;
        }
        self.next = Some(at);
        true
    }

    /// One member's object: the sub-attributes [`MemberList::fields`] keeps, in the order
    /// `value`, `$ref`, `type`.
    fn write_member(&self, out: &mut String, id: &Literal<'_>) {
        if self.fields == MemberFields::ALL {
            // The default view's members (every answer but a rare projection's): their fixed
            // text as constants, which the compiler copies without a call.
            out.push_str("{\"value\":");
            out.push_str(id.text);
            out.push_str(&self.ref_opening);
            out.push_str(inside(id));
            out.push_str("\",\"type\":\"User\"}");
            return;
        }
        out.push_str(&self.opening);
        if self.fields.value {
            out.push_str(id.text);
        }
        out.push_str(&self.ref_opening);
        if self.fields.reference {
            // The literal's inside is already escaped for a JSON string.
            out.push_str(inside(id));
        }
        out.push_str(&self.closing);
    }
}

impl Deferred for MemberList<String> {
    fn len(&self) -> usize {
        self.len
    }

    fn write_next(&mut self, out: &mut String, budget: usize) -> bool {
        self.write_piece(out, budget)
    }
}

/// Where `part` (a slice of `whole`) starts in it.
fn offset_in(whole: &str, part: &str) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

/// A literal without its quotes, still escaped.
fn inside<'a>(literal: &Literal<'a>) -> &'a str {
    &literal.text[1..literal.text.len() - 1]
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    const BASE: &str = "https://roster.example/api/v1/acme/integrations/i1/scim/v2";

    /// The same members as JSON values, to compare the text with.
    fn to_values(ids: &str, base: &str) -> Vec<Value> {
        json_literals::comma_separated(ids)
            .map(|id| {
                let id = id.unquoted();
                json!({"value": id, "$ref": format!("{base}/Users/{id}"), "type": "User"})
            })
            .collect()
    }

    fn quoted(ids: &[&str]) -> String {
        ids.iter()
            .map(|id| Value::from(*id).to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn members_are_written_as_the_values_would_be_in_the_database_order() {
        let ids = quoted(&["u-2", "u-1", "a \"quoted\", \\ id", "Zoë"]);
        let mut json = String::new();
        write_json(
            &ids,
            &RefPrefix::of_users(BASE),
            MemberFields::ALL,
            &mut json,
        );
        let written: Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(written, Value::Array(to_values(&ids, BASE)));
        assert_eq!(
            written[0],
            json!({"value": "u-2", "$ref": format!("{BASE}/Users/u-2"), "type": "User"})
        );
        assert_eq!(written[2]["value"], "a \"quoted\", \\ id");
        assert_eq!(
            written[2]["$ref"],
            format!("{BASE}/Users/a \"quoted\", \\ id")
        );
        assert_eq!(written.as_array().map(Vec::len), Some(4));
    }

    /// Written a piece at a time, a list is what it is written at once, piece after piece, and
    /// as long as it said it would be, whatever the pieces' size.
    #[test]
    fn a_long_list_written_in_pieces_is_the_list_written_at_once() {
        let ids: Vec<String> = (0..500).map(|i| format!("0193a2c4-{i:04}")).collect();
        let mut names: Vec<&str> = ids.iter().map(String::as_str).collect();
        names.insert(250, "an \"escaped\", id");
        for listed in [quoted(&names), quoted(&names[..1]), String::new()] {
            let prefix = RefPrefix::of_users(BASE);
            let mut whole = String::new();
            write_json(&listed, &prefix, MemberFields::ALL, &mut whole);
            for budget in [1, 97, 4096, usize::MAX] {
                let mut list = MemberList::new(listed.clone(), &prefix, MemberFields::ALL);
                assert_eq!(list.len(), whole.len());
                let mut pieces = Vec::new();
                loop {
                    let mut piece = String::new();
                    let more = list.write_next(&mut piece, budget);
                    pieces.push(piece);
                    if !more {
                        break;
                    }
                }
                assert_eq!(pieces.concat(), whole, "pieces of {budget}");
                if budget == 97 && listed.len() > 100 {
                    assert!(pieces.len() > 100, "{} pieces", pieces.len());
                }
            }
            let mut text = JsonText::default();
            append_json(listed.clone(), &prefix, MemberFields::ALL, &mut text);
            let deferred = listed.len() >= DEFERRED_FROM;
            assert_eq!(text.len(), whole.len());
            assert_eq!(text.has_deferred(), deferred);
        }
    }

    /// Under a projection each member carries only the sub-attributes kept, in the same
    /// order, and a list still declares its length exactly, in pieces or whole.
    #[test]
    fn a_projection_writes_only_the_kept_sub_attributes_of_each_member() {
        let ids = quoted(&["u-2", "an \"escaped\", id", "u-1"]);
        let prefix = RefPrefix::of_users(BASE);
        let full: Vec<Value> = to_values(&ids, BASE);
        for value in [false, true] {
            for reference in [false, true] {
                for kind in [false, true] {
                    let fields = MemberFields {
                        value,
                        reference,
                        kind,
                    };
                    let mut text = String::new();
                    write_json(&ids, &prefix, fields, &mut text);
                    let written: Value = serde_json::from_str(&text).expect("valid JSON");
                    let expected: Vec<Value> = full
                        .iter()
                        .map(|m| {
                            let mut m = m.as_object().unwrap().clone();
                            m.retain(|k, _| match k.as_str() {
                                "value" => value,
                                "$ref" => reference,
                                _ => kind,
                            });
                            Value::Object(m)
                        })
                        .collect();
                    assert_eq!(written, Value::Array(expected), "{fields:?}");
                    for budget in [1, 40, usize::MAX] {
                        let mut list = MemberList::new(ids.clone(), &prefix, fields);
                        assert_eq!(list.len(), text.len(), "{fields:?}");
                        let mut pieces = String::new();
                        while list.write_next(&mut pieces, budget) {}
                        assert_eq!(pieces, text, "{fields:?} in pieces of {budget}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_list_past_the_threshold_is_deferred() {
        let ids: Vec<String> = (0..2000)
            .map(|i| format!("0193a2c4-7d1e-7000-8000-{i:012}"))
            .collect();
        let names: Vec<&str> = ids.iter().map(String::as_str).collect();
        let listed = quoted(&names);
        assert!(listed.len() >= DEFERRED_FROM);
        let prefix = RefPrefix::of_users(BASE);
        let mut whole = String::new();
        write_json(&listed, &prefix, MemberFields::ALL, &mut whole);
        let mut text = JsonText::from(String::from("{\"members\":"));
        append_json(listed, &prefix, MemberFields::ALL, &mut text);
        text.push_str("}");
        assert!(text.has_deferred());
        let mut sent = String::new();
        while let Some(piece) = text.next_piece(16 * 1024) {
            assert!(piece.len() < 20 * 1024);
            sent.push_str(&piece);
        }
        assert_eq!(sent, format!("{{\"members\":{whole}}}"));
    }

    #[test]
    fn no_members_is_an_empty_array_and_a_base_that_needs_escaping_stays_valid() {
        let mut json = String::new();
        write_json("", &RefPrefix::of_users(BASE), MemberFields::ALL, &mut json);
        assert_eq!(json, "[]");
        json.clear();
        write_json(
            &quoted(&["u1"]),
            &RefPrefix::of_users("https://h/p\"q"),
            MemberFields::ALL,
            &mut json,
        );
        let written: Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(written[0]["$ref"], "https://h/p\"q/Users/u1");
    }

    /// A group's members are one range of the membership's primary key, read in its order:
    /// no sort (a temporary b-tree) and no visit to the users, whatever the group's size —
    /// alone, or as the column of a statement that reads groups.
    #[tokio::test]
    async fn members_are_read_along_the_key_without_a_sort() {
        use crate::db::{plans, Arg};
        let (_dir, db) = plans::migrated_sqlite().await;
        let one = plans::steps(&db, of_group_sql(Backend::Sqlite), &[Arg::Text("g".into())]).await;
        assert_eq!(one.len(), 1, "{one:#?}");
        let with_groups = format!(
            "SELECT g.id, {} FROM groups g WHERE g.tenant_id = $1 ORDER BY g.created_at LIMIT 100",
            column(Backend::Sqlite)
        );
        let many = plans::steps(&db, &with_groups, &[Arg::Text("t".into())]).await;
        for steps in [&one, &many] {
            let members: Vec<_> = steps.iter().filter(|s| s.contains(" m ")).collect();
            assert_eq!(members.len(), 1, "{steps:#?}");
            assert!(
                members[0].contains("USING COVERING INDEX sqlite_autoindex_group_members_1"),
                "{steps:#?}"
            );
            assert!(
                !steps
                    .iter()
                    .any(|s| s.contains("users") || s.contains("TEMP B-TREE")),
                "{steps:#?}"
            );
        }
    }
}
