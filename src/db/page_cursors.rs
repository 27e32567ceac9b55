//! Where a paging client's last pages of users ended, so that its next page starts from there
//! (a keyset seek on `users_created_idx`) instead of skipping `startIndex - 1` rows again, and
//! the total it was told, so the next page need not count the tenant again. With both, a page
//! at the end of 100,000 users costs what the first page costs (issue #13). A client that asks
//! for several pages at once starts each from the nearest page end it was already given and
//! skips only the rows between.
//!
//! What a continuation answers when the directory changed between two pages: the rows after the
//! last row the client saw — never one twice and none skipped because a row before it was
//! deleted (which `OFFSET` paging does). The total is reused only while no write has started on
//! this server since it was counted and for at most [`TOTAL_TTL`]; a write through another
//! replica can make it lag by that long. A miss (another replica, an expired or evicted entry)
//! falls back to `OFFSET` and a count: slower, never wrong.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::write_count::WriteCount;

/// How long a cursor is remembered after its page was answered.
pub const CURSOR_TTL: Duration = Duration::from_secs(600);
/// How long a counted total is reused by continuation pages.
pub const TOTAL_TTL: Duration = Duration::from_secs(60);
/// Most walks remembered; past it expired ones are dropped, then all.
const WALKS: usize = 1024;
/// Most page ends remembered per walk (the lowest start indexes are dropped first).
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
    /// The walk's total, if it is still exact.
    pub total: Option<Total>,
}

/// The sort key of the last row of a page in the default order (`created_at`, then `id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub created_at: i64,
    pub id: String,
}

/// A total counted at a moment known to [`WriteCount`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    pub value: i64,
    /// [`WriteCount::started`] when the count began; `None` when a write was in flight then.
    stamp: Option<u64>,
    counted_at: Instant,
}

#[derive(Debug, Clone)]
struct Cursor {
    after: After,
    total: Total,
    saved_at: Instant,
}

/// A walk's page ends, by the `startIndex` of the page that follows each cursor's row.
type Walk = BTreeMap<i64, Cursor>;

/// The remembered cursors of one server (shared by its requests).
#[derive(Debug, Clone)]
pub struct PageCursors {
    walks: Arc<Mutex<HashMap<WalkId, Walk>>>,
    writes: Arc<WriteCount>,
}

impl PageCursors {
    pub fn new(writes: Arc<WriteCount>) -> Self {
        PageCursors {
            walks: Arc::default(),
            writes,
        }
    }

    /// Call just before counting the tenant's users; [`CountStart::counted`] makes the total
    /// to [`PageCursors::save`] with the page.
    pub fn count_begins(&self) -> CountStart {
        CountStart {
            stamp: self.writes.stamp(),
            at: Instant::now(),
        }
    }

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
        let total = (now.duration_since(c.total.counted_at) <= TOTAL_TTL
            && self.writes.unchanged_since(c.total.stamp))
        .then_some(c.total);
        Some(Continuation {
            after: c.after.clone(),
            skip: key.start_index - start,
            total,
        })
    }

    /// Remembers that the page at `next` starts after `after` and that the walk's total is `total`.
    pub fn save(&self, next: WalkKey, after: After, total: Total) {
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
                total,
                saved_at: now,
            },
        );
        while walk.len() > PER_WALK {
            walk.pop_first();
        }
    }
}

/// The moment a count began (see [`PageCursors::count_begins`]).
#[derive(Debug, Clone, Copy)]
pub struct CountStart {
    stamp: Option<u64>,
    at: Instant,
}

impl CountStart {
    pub fn counted(self, value: i64) -> Total {
        Total {
            value,
            stamp: self.stamp,
            counted_at: self.at,
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
        let pages = PageCursors::new(Arc::default());
        let total = pages.count_begins().counted(250);
        pages.save(key(101), after("u100"), total);
        let c = pages.find(&key(101)).expect("cursor");
        assert_eq!((c.after, c.skip), (after("u100"), 0));
        assert_eq!(c.total.map(|t| t.value), Some(250));
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
        let pages = PageCursors::new(Arc::default());
        pages.save(key(101), after("u100"), pages.count_begins().counted(900));
        pages.save(key(201), after("u200"), pages.count_begins().counted(900));
        let c = pages.find(&key(401)).expect("cursor");
        assert_eq!((c.after, c.skip), (after("u200"), 200));
        let c = pages.find(&key(150)).expect("cursor");
        assert_eq!((c.after, c.skip), (after("u100"), 49));
    }

    #[test]
    fn a_write_started_after_the_count_makes_the_total_stale_but_keeps_the_cursor() {
        let writes: Arc<WriteCount> = Arc::default();
        let pages = PageCursors::new(writes.clone());
        let total = pages.count_begins().counted(10);
        pages.save(key(101), after("u"), total);
        let write = writes.start();
        let c = pages.find(&key(101)).expect("cursor");
        assert!(c.total.is_none(), "a write began after the count");
        drop(write);
        let c = pages.find(&key(101)).expect("cursor");
        assert!(c.total.is_none(), "the write may have changed the count");
    }

    #[test]
    fn a_count_taken_while_a_write_is_in_flight_is_never_reused() {
        let writes: Arc<WriteCount> = Arc::default();
        let pages = PageCursors::new(writes.clone());
        let write = writes.start();
        let total = pages.count_begins().counted(10);
        drop(write);
        pages.save(key(101), after("u"), total);
        let c = pages.find(&key(101)).expect("cursor");
        assert!(c.total.is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let pages = PageCursors::new(Arc::default());
        for i in 0..(PER_WALK as i64 + 10) {
            pages.save(key(i), after("u"), pages.count_begins().counted(1));
        }
        let per_walk = pages.walks.lock().expect("lock")[&key(1).walk()].len();
        assert_eq!(per_walk, PER_WALK);
        for w in 0..(WALKS + 10) {
            let k = WalkKey {
                integration_id: format!("i{w}"),
                ..key(1)
            };
            pages.save(k, after("u"), pages.count_begins().counted(1));
        }
        let walks = pages.walks.lock().expect("lock");
        assert!(walks.len() <= WALKS, "{} walks", walks.len());
        assert!(walks.values().all(|w| w.len() <= PER_WALK));
    }
}
