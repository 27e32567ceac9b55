//! RFC 9865 cursors: where a cursor-paged walk of a list stands, handed to the client as an
//! opaque token and kept nowhere on the server. Any replica continues a walk another began, a
//! cursor never expires (`cursorTimeout` is not advertised), and open walks cost no memory.
//!
//! A token holds how many resources the walk has answered and, where the list says where its
//! page ended ([`ListPage::walk_end`]: Users and Groups in the default order, filtered or
//! not), the sort key of the last one: the next page then starts after that resource, whatever
//! was deleted before it or created since — never one answered twice, none skipped (keyset
//! paging). It also holds a digest of the query it belongs to (the list, the integration,
//! `filter`, `sortBy`, `sortOrder`): a cursor sent with another query, to another list or by
//! another integration is refused as `invalidCursor`, with the same words whatever the reason
//! (RFC 9865 §6.2). Holding a cursor grants nothing: each page is read with the caller's own
//! scope and permissions.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::error::ScimError;
use super::resource::{After, ListPage, ListQuery, SortOrder};

/// What every refused cursor is told.
const NOT_THIS_LISTS: &str = "`cursor` is not one this list gave for this query: send an empty \
     cursor for the first page, then each page's `nextCursor`, with the same filter, sortBy and \
     sortOrder";

/// The version of the token's layout, its first field.
const LAYOUT: &str = "1";

/// A cursor-paged request, read: where its page starts, and what its answer's `nextCursor` is.
#[derive(Debug)]
pub struct CursorWalk {
    query: String,
    offset: u64,
    /// The resume point the request's cursor held.
    after: Option<After>,
    limit: u64,
}

impl CursorWalk {
    /// Reads `q`'s cursor, if it asks for cursor paging: points `q` at the page the cursor names
    /// (`start_index`, and `after` for a keyset walk) and answers the walk. `q.cursor` stays, to
    /// tell the list that the walk keeps its own position. `list` names the
    /// list (`Users`, `Groups`, the root search) and `integration` the caller; `max` is the most
    /// resources a page holds.
    pub fn begin(
        q: &mut ListQuery,
        list: &str,
        integration: &str,
        max: u64,
    ) -> Result<Option<CursorWalk>, ScimError> {
        let Some(token) = q.cursor.as_deref() else {
            return Ok(None);
        };
        if q.start_index > 1 {
            return Err(ScimError::InvalidValue(
                "send `startIndex` or `cursor`, not both: they are two ways of paging".into(),
            ));
        }
        // `count=0` (a negative count reads as 0) asks for the total alone (RFC 9865 §2).
        let limit = q.count.map_or(max, |n| n.min(max));
        let query = query_digest(list, integration, q);
        let (offset, after) = if token.is_empty() {
            (0, None)
        } else {
            decode(token, &query).ok_or_else(|| ScimError::InvalidCursor(NOT_THIS_LISTS.into()))?
        };
        q.start_index = offset.saturating_add(1);
        q.after = after.clone();
        Ok(Some(CursorWalk {
            query,
            offset,
            after,
            limit,
        }))
    }

    /// The `nextCursor` of `page`, this walk's page: none after a page with room left (the
    /// last); after a full page, one unless the page ended the list, as far as its total tells.
    /// A keyset walk's full page always has one, since deletions before it make the count of
    /// answered resources overstate its position: its next page may then be empty.
    ///
    /// A `count=0` answer (the total alone) moves no further: its `nextCursor` is the position
    /// it was asked at, while resources may lie there — always for a keyset position, else
    /// while the offset is short of the total.
    pub fn next_cursor(&self, page: &ListPage) -> Option<String> {
        if self.limit == 0 {
            let more = self.after.is_some() || self.offset < page.total;
            return more.then(|| encode(&self.query, self.offset, self.after.as_ref()));
        }
        let answered = page.len() as u64;
        if answered < self.limit {
            return None;
        }
        let offset = self.offset + answered;
        match &page.walk_end {
            Some(end) => Some(encode(&self.query, offset, Some(end))),
            None if offset < page.total => Some(encode(&self.query, offset, None)),
            None => None,
        }
    }
}

/// The digest that ties a cursor to its query: 8 bytes of SHA-256, as hex.
fn query_digest(list: &str, integration: &str, q: &ListQuery) -> String {
    let filter = q.filter.as_ref().map(|f| f.to_string()).unwrap_or_default();
    let sort_by = q
        .sort_by
        .as_ref()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let order = match q.sort_order {
        SortOrder::Ascending => "a",
        SortOrder::Descending => "d",
    };
    let mut hash = Sha256::new();
    for part in [
        list,
        integration,
        &filter,
        &sort_by.to_ascii_lowercase(),
        order,
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `1.<query>.<offset>[.<created_at>.<id>]`, in base64url without padding (RFC 4648 §5: only
/// RFC 3986's unreserved characters, as RFC 9865 §2 requires).
fn encode(query: &str, offset: u64, after: Option<&After>) -> String {
    let mut text = format!("{LAYOUT}.{query}.{offset}");
    if let Some(a) = after {
        text.push_str(&format!(".{}.{}", a.created_at, a.id));
    }
    URL_SAFE_NO_PAD.encode(text)
}

/// The offset and resume point of `token`, when it is a cursor of the query `query`.
fn decode(token: &str, query: &str) -> Option<(u64, Option<After>)> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut fields = text.splitn(5, '.');
    if fields.next()? != LAYOUT || fields.next()? != query {
        return None;
    }
    let offset = fields.next()?.parse::<u64>().ok()?;
    let after = match (fields.next(), fields.next()) {
        (None, None) => None,
        (Some(created_at), Some(id)) if !id.is_empty() => Some(After {
            created_at: created_at.parse().ok()?,
            id: id.to_string(),
        }),
        _ => return None,
    };
    Some((offset, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::Filter;

    fn query(filter: Option<&str>, count: Option<u64>, cursor: &str) -> ListQuery {
        ListQuery {
            filter: filter.map(|f| Filter::parse(f).unwrap()),
            start_index: 1,
            count,
            cursor: Some(cursor.into()),
            ..ListQuery::default()
        }
    }

    /// A page of `n` resources of a list of `total`, ending at `end` when a keyset walk.
    fn page(n: usize, total: u64, end: Option<After>) -> ListPage {
        let mut page = ListPage::new(total);
        for _ in 0..n {
            page.push("{}");
        }
        page.walk_end = end;
        page
    }

    fn begin(q: &mut ListQuery) -> Result<Option<CursorWalk>, ScimError> {
        CursorWalk::begin(q, "Users", "integration-1", 200)
    }

    /// A walk by offset: the first page starts at 1, each full page's cursor points past it, the
    /// page that reaches the total has none, and a page with room left has none.
    #[test]
    fn an_offset_walk_goes_page_by_page_and_ends_at_the_total() {
        let mut q = query(Some("displayName sw \"a\""), Some(10), "");
        let walk = begin(&mut q).unwrap().unwrap();
        assert_eq!((q.start_index, q.after.as_ref()), (1, None));
        let next = walk.next_cursor(&page(10, 25, None)).unwrap();
        assert!(
            next.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{next}"
        );
        let mut q = query(Some("displayName sw \"a\""), Some(10), &next);
        let walk = begin(&mut q).unwrap().unwrap();
        assert_eq!(q.start_index, 11);
        let last = walk.next_cursor(&page(10, 25, None)).unwrap();
        let mut q = query(Some("displayName sw \"a\""), Some(10), &last);
        let walk = begin(&mut q).unwrap().unwrap();
        assert_eq!(q.start_index, 21);
        assert_eq!(walk.next_cursor(&page(5, 25, None)), None);
        assert!(walk.next_cursor(&page(10, 31, None)).is_some());
        let mut q = query(None, Some(10), "");
        let walk = begin(&mut q).unwrap().unwrap();
        assert_eq!(
            walk.next_cursor(&page(10, 10, None)),
            None,
            "the page ends it"
        );
    }

    /// A keyset walk's cursor carries the last resource's sort key, and a full page always has
    /// a next cursor (its offset may overstate the position).
    #[test]
    fn a_keyset_walk_resumes_after_the_last_resource_answered() {
        let mut q = query(None, Some(2), "");
        let walk = begin(&mut q).unwrap().unwrap();
        let end = After {
            created_at: 1_700_000_000_123,
            id: "0b7c-id.with.dots".into(),
        };
        let next = walk.next_cursor(&page(2, 2, Some(end.clone()))).unwrap();
        let mut q = query(None, Some(2), &next);
        begin(&mut q).unwrap().unwrap();
        assert_eq!((q.start_index, q.after), (3, Some(end)));
    }

    /// Whatever is wrong with a cursor — not base64, another layout, another query, list or
    /// integration, fields missing — it is refused with the same `invalidCursor`.
    #[test]
    fn a_cursor_of_another_query_or_no_cursor_at_all_is_invalid_cursor() {
        let mut q = query(Some("userName sw \"a\""), Some(5), "");
        let walk = begin(&mut q).unwrap().unwrap();
        let good = walk.next_cursor(&page(5, 50, None)).unwrap();
        let digest = query_digest("Users", "integration-1", &query(None, None, ""));
        let tokens = [
            "not base64!".to_string(),
            "%%%".into(),
            URL_SAFE_NO_PAD.encode("2.0000000000000000.5"),
            URL_SAFE_NO_PAD.encode(format!("1.{digest}")),
            URL_SAFE_NO_PAD.encode(format!("1.{digest}.x")),
            URL_SAFE_NO_PAD.encode(format!("1.{digest}.5.17")),
            URL_SAFE_NO_PAD.encode(format!("1.{digest}.5.x.id")),
        ];
        let mut errors = Vec::new();
        for token in &tokens {
            errors.push(begin(&mut query(None, None, token)).unwrap_err());
        }
        errors.push(begin(&mut query(Some("userName sw \"b\""), Some(5), &good)).unwrap_err());
        let mut sorted = query(Some("userName sw \"a\""), Some(5), &good);
        sorted.sort_order = SortOrder::Descending;
        errors.push(begin(&mut sorted).unwrap_err());
        let mut q = query(Some("userName sw \"a\""), Some(5), &good);
        errors.push(CursorWalk::begin(&mut q, "Groups", "integration-1", 200).unwrap_err());
        let mut q = query(Some("userName sw \"a\""), Some(5), &good);
        errors.push(CursorWalk::begin(&mut q, "Users", "integration-2", 200).unwrap_err());
        for e in &errors {
            assert_eq!(e, &ScimError::InvalidCursor(NOT_THIS_LISTS.into()));
        }
        // The same query, another count: the cursor still stands (count may change per page).
        let mut q = query(Some("userName sw \"a\""), Some(7), &good);
        begin(&mut q).unwrap().unwrap();
        assert_eq!(q.start_index, 6);
    }

    /// `count=0` asks for the total alone: its cursor stays where it was asked, while anything
    /// may lie there; a count over the most is capped; `startIndex` beside a cursor is refused;
    /// no cursor leaves the request to index paging.
    #[test]
    fn count_and_start_index_beside_a_cursor() {
        let mut q = query(None, Some(0), "");
        let walk = begin(&mut q).unwrap().unwrap();
        assert_eq!(walk.next_cursor(&page(0, 0, None)), None, "nothing listed");
        let here = walk.next_cursor(&page(0, 7, None)).unwrap();
        let mut q = query(None, Some(0), &here);
        let walk = begin(&mut q).unwrap().unwrap();
        assert_eq!((q.start_index, q.after.as_ref()), (1, None));
        assert_eq!(walk.next_cursor(&page(0, 7, None)), Some(here));
        let mut q = query(None, Some(3), "");
        let walk = begin(&mut q).unwrap().unwrap();
        let end = After {
            created_at: 5,
            id: "u3".into(),
        };
        let keyset = walk.next_cursor(&page(3, 3, Some(end.clone()))).unwrap();
        let mut q = query(None, Some(0), &keyset);
        let walk = begin(&mut q).unwrap().unwrap();
        assert_eq!((q.start_index, q.after.as_ref()), (4, Some(&end)));
        assert_eq!(walk.next_cursor(&page(0, 3, None)), Some(keyset));
        let mut q = query(None, Some(5000), "");
        let walk = begin(&mut q).unwrap().unwrap();
        assert_eq!(walk.next_cursor(&page(199, 1000, None)), None);
        assert!(walk.next_cursor(&page(200, 1000, None)).is_some());
        let mut q = query(None, None, "");
        q.start_index = 3;
        assert_eq!(begin(&mut q).unwrap_err().scim_type(), Some("invalidValue"));
        let mut q = ListQuery {
            start_index: 3,
            ..ListQuery::default()
        };
        assert!(begin(&mut q).unwrap().is_none());
        assert_eq!(q.start_index, 3);
    }
}
