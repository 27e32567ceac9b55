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
//! (RFC 9865 §5.2). The token is sealed with the instance's key ([`CursorKey`]): it shows
//! nothing of what it holds, and one changed or made up is refused the same way. Holding a
//! cursor grants nothing: each page is read with the caller's own scope and permissions.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hmac;
use sha2::{Digest, Sha256};

use super::error::ScimError;
use super::resource::{After, ListPage, ListQuery, SortOrder};

/// What every refused cursor is told.
const NOT_THIS_LISTS: &str = "`cursor` is not one this list gave for this query: send an empty \
     cursor for the first page, then each page's `nextCursor`, with the same filter, sortBy and \
     sortOrder";

/// What a token's seal covers beside its text: the version of its layout.
const LAYOUT: &[u8] = b"roster cursor 1";

/// The key cursors are sealed with (ChaCha20-Poly1305): the instance's own, one for all its
/// replicas (`db::instance_keys`), so that any of them opens a cursor another gave. Sealed, a
/// cursor tells its holder nothing of what it holds, and a cursor changed or made up is refused
/// (RFC 9865 §5.2: opaque, forgeries detected). `Debug` hides it.
#[derive(Clone)]
pub struct CursorKey {
    /// The cipher's key and the nonces' key, each drawn from the instance's key by an HMAC
    /// under its own label: one key is never used by two algorithms.
    cipher: [u8; 32],
    nonces: [u8; 32],
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(***)")
    }
}

impl CursorKey {
    pub fn new(instance_key: [u8; 32]) -> Self {
        let master = hmac::Key::new(hmac::HMAC_SHA256, &instance_key);
        let derive = |label: &[u8]| {
            let mut key = [0u8; 32];
            key.copy_from_slice(hmac::sign(&master, &[LAYOUT, label].concat()).as_ref());
            key
        };
        Self {
            cipher: derive(b" cipher"),
            nonces: derive(b" nonces"),
        }
    }

    fn aead(&self) -> LessSafeKey {
        let key = UnboundKey::new(&CHACHA20_POLY1305, &self.cipher)
            .unwrap_or_else(|_| unreachable!("a 32-byte key is ChaCha20-Poly1305's length"));
        LessSafeKey::new(key)
    }

    /// `text` sealed: its nonce, then the ciphertext and its tag. The nonce is drawn from the
    /// text (an HMAC of it under a key of its own, SIV's construction), not from a generator:
    /// a nonce repeats only with its text, and then the whole token does, which says no more
    /// than that the two cursors stand at the same place.
    fn seal(&self, text: &str) -> Vec<u8> {
        let nonce_key = hmac::Key::new(hmac::HMAC_SHA256, &self.nonces);
        let tag = hmac::sign(&nonce_key, text.as_bytes());
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&tag.as_ref()[..NONCE_LEN]);
        let mut sealed = text.as_bytes().to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(LAYOUT),
                &mut sealed,
            )
            .unwrap_or_else(|_| unreachable!("a cursor's text is far under the cipher's limit"));
        [nonce.as_slice(), &sealed].concat()
    }

    /// The text [`CursorKey::seal`] sealed into `bytes`, unless they were not sealed by this key
    /// or were changed since.
    fn open(&self, bytes: &[u8]) -> Option<String> {
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = sealed.to_vec();
        let text = self
            .aead()
            .open_in_place(nonce, Aad::from(LAYOUT), &mut buf)
            .ok()?;
        String::from_utf8(text.to_vec()).ok()
    }
}

/// A cursor-paged request, read: where its page starts, and what its answer's `nextCursor` is.
#[derive(Debug)]
pub struct CursorWalk {
    key: CursorKey,
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
        key: &CursorKey,
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
            decode(key, token, &query)
                .ok_or_else(|| ScimError::InvalidCursor(NOT_THIS_LISTS.into()))?
        };
        q.start_index = offset.saturating_add(1);
        q.after = after.clone();
        Ok(Some(CursorWalk {
            key: key.clone(),
            query,
            offset,
            after,
            limit,
        }))
    }

    /// Where a full keyset page of this walk may have ended the list: its resume point, when the
    /// resources answered so far reach the total. Either nothing follows it, or resources before
    /// it were deleted (the count of those answered then overstates the page's position), so the
    /// total cannot tell; the caller looks past the point, and drops the page's
    /// [`ListPage::walk_end`] when nothing is there, so that [`CursorWalk::next_cursor`] ends
    /// the walk on this page (RFC 9865 §2: `nextCursor` is omitted only on the last page, and a
    /// client is not sent on to an empty one).
    pub fn end_to_confirm<'p>(&self, page: &'p ListPage) -> Option<&'p After> {
        let answered = page.len() as u64;
        if self.limit == 0 || answered < self.limit {
            return None;
        }
        let end = page.walk_end.as_ref()?;
        (self.offset.saturating_add(answered) >= page.total).then_some(end)
    }

    /// The `nextCursor` of `page`, this walk's page: none after a page with room left (the
    /// last); after a full page, one unless the page ended the list, as far as its total tells.
    /// A keyset walk's full page has one while it keeps its resume point: deletions before it
    /// make the count of answered resources overstate its position, so the total cannot tell
    /// (see [`CursorWalk::end_to_confirm`]).
    ///
    /// A `count=0` answer (the total alone) moves no further: its `nextCursor` is the position
    /// it was asked at, while resources may lie there — always for a keyset position, else
    /// while the offset is short of the total.
    pub fn next_cursor(&self, page: &ListPage) -> Option<String> {
        if self.limit == 0 {
            let more = self.after.is_some() || self.offset < page.total;
            return more.then(|| encode(&self.key, &self.query, self.offset, self.after.as_ref()));
        }
        let answered = page.len() as u64;
        if answered < self.limit {
            return None;
        }
        let offset = self.offset + answered;
        match &page.walk_end {
            Some(end) => Some(encode(&self.key, &self.query, offset, Some(end))),
            None if offset < page.total => Some(encode(&self.key, &self.query, offset, None)),
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

/// `<query>.<offset>[.<created_at>.<id>]`, sealed with `key`, in base64url without padding
/// (RFC 4648 §5: only RFC 3986's unreserved characters, as RFC 9865 §2 requires).
fn encode(key: &CursorKey, query: &str, offset: u64, after: Option<&After>) -> String {
    let mut text = format!("{query}.{offset}");
    if let Some(a) = after {
        text.push_str(&format!(".{}.{}", a.created_at, a.id));
    }
    URL_SAFE_NO_PAD.encode(key.seal(&text))
}

/// The offset and resume point of `token`, when `key` sealed it for the query `query`.
fn decode(key: &CursorKey, token: &str, query: &str) -> Option<(u64, Option<After>)> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let text = key.open(&bytes)?;
    let mut fields = text.splitn(4, '.');
    if fields.next()? != query {
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

    fn key() -> CursorKey {
        CursorKey::new([7; 32])
    }

    fn begin(q: &mut ListQuery) -> Result<Option<CursorWalk>, ScimError> {
        CursorWalk::begin(q, "Users", "integration-1", 200, &key())
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

    /// A keyset walk's cursor carries the last resource's sort key. A full page keeps a next
    /// cursor while it keeps its resume point (its offset may overstate the position); one
    /// whose answered resources reach the total asks to be confirmed, and without its resume
    /// point (nothing past it) it is the last.
    #[test]
    fn a_keyset_walk_resumes_after_the_last_resource_answered() {
        let mut q = query(None, Some(2), "");
        let walk = begin(&mut q).unwrap().unwrap();
        let end = After {
            created_at: 1_700_000_000_123,
            id: "0b7c-id.with.dots".into(),
        };
        assert_eq!(walk.end_to_confirm(&page(2, 3, Some(end.clone()))), None);
        assert_eq!(walk.end_to_confirm(&page(1, 1, Some(end.clone()))), None);
        assert_eq!(walk.end_to_confirm(&page(2, 2, None)), None);
        assert_eq!(
            walk.end_to_confirm(&page(2, 2, Some(end.clone()))),
            Some(&end)
        );
        assert_eq!(walk.next_cursor(&page(2, 2, None)), None, "confirmed last");
        let next = walk.next_cursor(&page(2, 2, Some(end.clone()))).unwrap();
        let mut q = query(None, Some(2), &next);
        begin(&mut q).unwrap().unwrap();
        assert_eq!((q.start_index, q.after), (3, Some(end.clone())));
        // Opaque: the token shows neither the resource it stands after nor its position; the
        // same place sealed again reads the same, another place otherwise.
        let bytes = URL_SAFE_NO_PAD.decode(&next).unwrap();
        let shown = String::from_utf8_lossy(&bytes);
        assert!(
            !shown.contains(&end.id) && !shown.contains("1700000000123"),
            "{shown}"
        );
        assert_eq!(
            walk.next_cursor(&page(2, 2, Some(end.clone()))).unwrap(),
            next
        );
        let mut elsewhere = end;
        elsewhere.created_at += 1;
        let other = walk.next_cursor(&page(2, 2, Some(elsewhere))).unwrap();
        assert_ne!(other[..16], next[..16], "another place, another nonce");
    }

    /// Whatever is wrong with a cursor — not base64, not sealed (a plain text, an earlier
    /// release's layout), sealed by another instance's key, changed by one bit, another query,
    /// list or integration, fields missing — it is refused with the same `invalidCursor`.
    #[test]
    fn a_cursor_of_another_query_or_no_cursor_at_all_is_invalid_cursor() {
        let mut q = query(Some("userName sw \"a\""), Some(5), "");
        let walk = begin(&mut q).unwrap().unwrap();
        let good = walk.next_cursor(&page(5, 50, None)).unwrap();
        let digest = query_digest("Users", "integration-1", &query(None, None, ""));
        let sealed = |key: &CursorKey, text: &str| URL_SAFE_NO_PAD.encode(key.seal(text));
        let mut flipped = URL_SAFE_NO_PAD.decode(&good).unwrap();
        flipped[NONCE_LEN + 3] ^= 1;
        let tokens = [
            "not base64!".to_string(),
            "%%%".into(),
            URL_SAFE_NO_PAD.encode(format!("1.{digest}.5")),
            URL_SAFE_NO_PAD.encode(format!("{digest}.5")),
            sealed(&CursorKey::new([8; 32]), &format!("{digest}.5")),
            URL_SAFE_NO_PAD.encode(flipped),
            sealed(&key(), &digest),
            sealed(&key(), &format!("{digest}.x")),
            sealed(&key(), &format!("{digest}.5.17")),
            sealed(&key(), &format!("{digest}.5.x.id")),
        ];
        // The same text sealed by this key is a cursor: the cases above fail for their reason.
        let mut q = query(None, None, &sealed(&key(), &format!("{digest}.5")));
        begin(&mut q).unwrap().unwrap();
        assert_eq!(q.start_index, 6);
        let mut errors = Vec::new();
        for token in &tokens {
            errors.push(begin(&mut query(None, None, token)).unwrap_err());
        }
        errors.push(begin(&mut query(Some("userName sw \"b\""), Some(5), &good)).unwrap_err());
        let mut sorted = query(Some("userName sw \"a\""), Some(5), &good);
        sorted.sort_order = SortOrder::Descending;
        errors.push(begin(&mut sorted).unwrap_err());
        let mut q = query(Some("userName sw \"a\""), Some(5), &good);
        errors.push(CursorWalk::begin(&mut q, "Groups", "integration-1", 200, &key()).unwrap_err());
        let mut q = query(Some("userName sw \"a\""), Some(5), &good);
        errors.push(CursorWalk::begin(&mut q, "Users", "integration-2", 200, &key()).unwrap_err());
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
