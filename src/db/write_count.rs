//! Writes that started and finished on this server, so what was read while none was in flight
//! can be reused, exactly, until the next one starts: cached integration credentials
//! ([`super::credential_cache`]) count every write that can change access.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Writes of one kind that started and finished on this server: a read made while no write was
/// in flight stays exact until the next write starts.
#[derive(Debug, Default)]
pub struct WriteCount {
    started: AtomicU64,
    finished: AtomicU64,
}

impl WriteCount {
    pub fn start(self: &Arc<Self>) -> WriteEnd {
        self.started.fetch_add(1, Ordering::SeqCst);
        WriteEnd(self.clone())
    }

    /// The stamp of a read that begins now: `None` if a write is in flight.
    pub fn stamp(&self) -> Option<u64> {
        let finished = self.finished.load(Ordering::SeqCst);
        let started = self.started.load(Ordering::SeqCst);
        (started == finished).then_some(started)
    }

    /// Whether no write started since the read stamped `stamp` (never, for `None`).
    pub fn unchanged_since(&self, stamp: Option<u64>) -> bool {
        stamp == Some(self.started.load(Ordering::SeqCst))
    }
}

/// Held by a write transaction; its drop (commit or rollback) counts the write as finished.
#[derive(Debug)]
pub struct WriteEnd(Arc<WriteCount>);

impl Drop for WriteEnd {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_stays_exact_until_a_write_starts_and_none_is_stamped_mid_write() {
        let writes: Arc<WriteCount> = Arc::default();
        let before = writes.stamp();
        assert!(before.is_some() && writes.unchanged_since(before));
        let write = writes.start();
        assert!(
            !writes.unchanged_since(before),
            "a started write ends the read's exactness"
        );
        assert_eq!(writes.stamp(), None, "nothing read mid-write is exact");
        drop(write);
        let after = writes.stamp();
        assert!(after.is_some() && after != before && writes.unchanged_since(after));
        assert!(!writes.unchanged_since(None));
    }
}
