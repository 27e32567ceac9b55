//! Where a paging client's last pages of users ended, so that its next page starts from there
//! (a keyset seek on the tenant's `tenant_access_creation_idx`) instead of skipping
//! `startIndex - 1` rows again: a page at the end of 100,000 users costs what the first page
//! costs (issue #13; the total is the tenant's kept count, `access::kept_count_of`, on every
//! page). A client that asks for several pages at once starts each from the nearest page end it
//! was already given and skips only the rows between.
//!
//! What a continuation answers when the directory changed between two pages: the rows after the
//! last row the client saw — never one twice and none skipped because a row before it was
//! deleted (which `OFFSET` paging does). A miss (another replica, an expired or evicted entry)
//! falls back to `OFFSET`: slower, never wrong.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a cursor is remembered after its page was answered.
pub const CURSOR_TTL: Duration = Duration::from_secs(600);
/// Most walks remembered; past it expired ones are dropped, then all.
const WALKS: usize = 1024;
/// Most page ends remembered per walk (those saved longest ago are dropped first).
const PER_WALK: usize = 64;

/// Which paging walk a page belongs to, and where the page starts (1-based `startIndex`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WalkKey {
    pub tenant_id: String,
    pub integration_id: String,
    pub descending: bool,
    pub start_index: i64,
}

/// A walk without its position.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct WalkId {
    tenant_id: String,
    integration_id: String,
    descending: bool,
}

impl WalkKey {
    fn walk(&self) -> WalkId {
        WalkId {
            tenant_id: self.tenant_id.clone(),
            integration_id: self.integration_id.clone(),
            descending: self.descending,
        }
    }
}

/// Where a page starts, from what the walk was already given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    /// The last row of an earlier page.
    pub after: After,
    /// Rows to skip after it (0 when the page follows it directly).
    pub skip: i64,
}

/// The sort key of the last row of a page in the default order (`created_at`, then `id`).
pub use crate::scim::resource::After;

#[derive(Debug, Clone)]
struct Cursor {
    after: After,
    saved_at: Instant,
}

/// A walk's page ends, by the `startIndex` of the page that follows each cursor's row.
type Walk = BTreeMap<i64, Cursor>;

/// The remembered cursors of one server (shared by its requests).
#[derive(Debug, Clone, Default)]
pub struct PageCursors {
    walks: Arc<Mutex<HashMap<WalkId, Walk>>>,
}

impl PageCursors {
    /// Where the page at `key` starts: after the nearest remembered page end at or before it.
    pub fn find(&self, key: &WalkKey) -> Option<Continuation> {
        let now = Instant::now();
        let walks = self.walks.lock().ok()?;
        let (start, c) = walks
            .get(&key.walk())?
            .range(..=key.start_index)
            .next_back()?;
        if now.duration_since(c.saved_at) > CURSOR_TTL {
            return None;
        }
        Some(Continuation {
            after: c.after.clone(),
            skip: key.start_index - start,
        })
    }

    /// Remembers that the page at `next` starts after `after`.
    pub fn save(&self, next: WalkKey, after: After) {
        let Ok(mut walks) = self.walks.lock() else {
            return;
        };
        let now = Instant::now();
        let id = next.walk();
        if walks.len() >= WALKS && !walks.contains_key(&id) {
            walks.retain(|_, w| {
                w.values()
                    .any(|c| now.duration_since(c.saved_at) <= CURSOR_TTL)
            });
            if walks.len() >= WALKS {
                walks.clear();
            }
        }
        let walk = walks.entry(id).or_default();
        walk.insert(
            next.start_index,
            Cursor {
                after,
                saved_at: now,
            },
        );
        // The end saved longest ago goes, not the lowest: a walk that starts again at 1 (the
        // next sync, or parallel clients each paging from the start) keeps the ends it is
        // making now. Dropping the lowest dropped each new end at once while 64 higher ones of
        // the last walk were kept, and its first 64 pages skipped rows with `OFFSET` again.
        if walk.len() > PER_WALK {
            let oldest = walk.iter().min_by_key(|(_, c)| c.saved_at).map(|(&s, _)| s);
            if let Some(start) = oldest {
                walk.remove(&start);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(start: i64) -> WalkKey {
        WalkKey {
            tenant_id: "t".into(),
            integration_id: "i".into(),
            descending: false,
            start_index: start,
        }
    }

    fn after(id: &str) -> After {
        After {
            created_at: 7,
            id: id.into(),
        }
    }

    #[test]
    fn a_saved_cursor_is_found_for_its_walk_only() {
        let pages = PageCursors::default();
        pages.save(key(101), after("u100"));
        let c = pages.find(&key(101)).expect("cursor");
        assert_eq!((c.after, c.skip), (after("u100"), 0));
        assert!(pages.find(&key(1)).is_none(), "nothing is known before it");
        let other = WalkKey {
            integration_id: "other".into(),
            ..key(101)
        };
        assert!(pages.find(&other).is_none());
        let desc = WalkKey {
            descending: true,
            ..key(101)
        };
        assert!(pages.find(&desc).is_none());
    }

    #[test]
    fn a_page_further_on_starts_from_the_nearest_page_end_before_it() {
        let pages = PageCursors::default();
        pages.save(key(101), after("u100"));
        pages.save(key(201), after("u200"));
        let c = pages.find(&key(401)).expect("cursor");
        assert_eq!((c.after, c.skip), (after("u200"), 200));
        let c = pages.find(&key(150)).expect("cursor");
        assert_eq!((c.after, c.skip), (after("u100"), 49));
    }

    #[test]
    fn a_walk_longer_than_the_bound_continues_every_page_when_it_starts_again() {
        let pages = PageCursors::default();
        let pages_in_walk = PER_WALK as i64 * 3;
        for round in 0..2 {
            for page in 0..pages_in_walk {
                let start = 1 + page * 100;
                if round == 1 && page > 0 {
                    // The second walk has just been given the page before this one.
                    let c = pages
                        .find(&key(start))
                        .unwrap_or_else(|| panic!("page {page} of the second walk has no cursor"));
                    assert_eq!(
                        (c.after, c.skip),
                        (after(&format!("r1 u{}", start - 1)), 0),
                        "page {page}"
                    );
                }
                // Answering the page remembers where the next one starts.
                pages.save(
                    key(start + 100),
                    after(&format!("r{round} u{}", start + 99)),
                );
            }
        }
    }

    #[test]
    fn the_cache_stays_bounded() {
        let pages = PageCursors::default();
        for i in 0..(PER_WALK as i64 + 10) {
            pages.save(key(i), after("u"));
        }
        let per_walk = pages.walks.lock().expect("lock")[&key(1).walk()].len();
        assert_eq!(per_walk, PER_WALK);
        for w in 0..(WALKS + 10) {
            let k = WalkKey {
                integration_id: format!("i{w}"),
                ..key(1)
            };
            pages.save(k, after("u"));
        }
        let walks = pages.walks.lock().expect("lock");
        assert!(walks.len() <= WALKS, "{} walks", walks.len());
        assert!(walks.values().all(|w| w.len() <= PER_WALK));
    }
}
