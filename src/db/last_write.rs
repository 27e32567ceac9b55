//! A write's last script carrying its transaction's end, on SQLite's writing connection: each
//! trip to that connection's thread is two thread switches, and a write whose last script is
//! known ends its transaction in that script's trip instead of one of its own (issue #13: a
//! create's CPU −11 %, its switches 7–11 → 6).
//!
//! [`super::sqlite_writer`] gives each transaction a [`LastWrite`]; a caller that knows a script
//! is its transaction's last (nothing after it writes, and nothing after it fails) runs it with
//! [`super::script::run_last`], which appends what the commit would have sent:
//! `RELEASE member; SAVEPOINT member` when writers wait to join the batch (the transaction's
//! writes join the batch and the next writer's savepoint is opened, as `commit` does), or
//! `COMMIT` when none waits. A caller that goes on writing after all (its script's outcome said
//! so) calls [`LastWrite::resume`] first; debug builds check at the commit that nothing wrote
//! after a last script otherwise. On PostgreSQL and on pool connections a `LastWrite` is empty
//! and a last script is an ordinary one.

#[cfg(debug_assertions)]
use std::sync::atomic::AtomicI64;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use super::audit::{Pending, PendingEvent};
use super::Conn;
use crate::error::AppResult;

/// What a transaction's last script did to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Folded {
    /// No last script ran (or its caller resumed after it).
    No = 0,
    /// `RELEASE member; SAVEPOINT member`: its writes are in the batch, and an empty savepoint
    /// is open for the next writer.
    Released = 1,
    /// `COMMIT`: the batch, this transaction's writes with it, is committed.
    Committed = 2,
    /// `COMMIT`, then `BEGIN IMMEDIATE` for a caller that resumed: a new batch is open with this
    /// transaction its first.
    Reopened = 3,
    /// A statement appended to the script failed: the batch is not to be trusted.
    Broken = 4,
}

impl Folded {
    fn from_u8(n: u8) -> Self {
        match n {
            1 => Folded::Released,
            2 => Folded::Committed,
            3 => Folded::Reopened,
            4 => Folded::Broken,
            _ => Folded::No,
        }
    }
}

/// One writer transaction's state as its last script sees it (set when it begins; the
/// writer's turn is the transaction's until it ends, so only `waiting` moves meanwhile).
#[derive(Debug)]
pub(super) struct Fold {
    folded: AtomicU8,
    /// The transaction is a savepoint of a batch others are in (else the batch's first).
    savepoint: bool,
    /// The batch can take one more transaction after this one ([`super::sqlite_writer::MAX_BATCH`]).
    room: bool,
    /// Writers waiting for the turn.
    waiting: Arc<AtomicUsize>,
    /// The connection's `total_changes()` when the last script ended (debug builds only): the
    /// writer's commit checks that nothing wrote after it ([`Fold::assert_nothing_after`]).
    #[cfg(debug_assertions)]
    changes_at_end: AtomicI64,
}

impl Fold {
    pub(super) fn new(savepoint: bool, room: bool, waiting: Arc<AtomicUsize>) -> Self {
        Fold {
            folded: AtomicU8::new(Folded::No as u8),
            savepoint,
            room,
            waiting,
            #[cfg(debug_assertions)]
            changes_at_end: AtomicI64::new(-1),
        }
    }

    /// What the last script did (the writer applies it to its state once, when the transaction
    /// ends; it stays, so that a `LastWrite` kept past its transaction appends nothing more).
    pub(super) fn get(&self) -> Folded {
        Folded::from_u8(self.folded.load(Ordering::SeqCst))
    }

    fn set(&self, folded: Folded) {
        self.folded.store(folded as u8, Ordering::SeqCst);
    }

    /// Debug builds (every test): the contract above, checked when a transaction whose last
    /// script ended it commits — a write after that script without [`LastWrite::resume`] would have
    /// gone into the next writer's savepoint or outside any transaction. Panics if one did.
    #[cfg(debug_assertions)]
    pub(super) async fn assert_nothing_after(&self, conn: &mut Conn) {
        if !matches!(self.get(), Folded::Released | Folded::Committed) {
            return;
        }
        let at_end = self.changes_at_end.load(Ordering::SeqCst);
        let now = total_changes(conn).await;
        assert_eq!(
            now, at_end,
            "a transaction wrote after its last script without calling LastWrite::resume"
        );
    }

    /// Whether the transaction's commit would hand the batch on (writers wait and the batch has
    /// room), as `sqlite_writer`'s commit decides it.
    pub(super) fn hands_on(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) > 0 && self.room
    }
}

/// A transaction's way to end in its last script; empty where there is no writer's batch. It
/// may carry the request's audit event ([`Pending`]): the last script writes it too, in the
/// same trip, before the statements that end the transaction.
#[derive(Debug, Clone, Default)]
pub struct LastWrite {
    fold: Option<Arc<Fold>>,
    event: Option<Pending>,
}

impl LastWrite {
    pub(super) fn of(fold: Arc<Fold>) -> Self {
        LastWrite {
            fold: Some(fold),
            event: None,
        }
    }

    /// This one, whose last script also writes the event `pending` holds by then.
    pub fn carrying(mut self, pending: &Pending) -> LastWrite {
        self.event = Some(pending.clone());
        self
    }

    /// This one where the script is the transaction's last, an empty one where it is not.
    pub fn when(&self, last: bool) -> LastWrite {
        if last {
            self.clone()
        } else {
            LastWrite::default()
        }
    }

    /// Whether a last script may still end the transaction (on SQLite's writer, none has yet).
    pub(super) fn is_open(&self) -> bool {
        self.fold
            .as_ref()
            .is_some_and(|fold| fold.get() == Folded::No)
    }

    /// The event the last script is to write along, taken from the request's [`Pending`].
    pub(super) fn take_event(&self) -> Option<PendingEvent> {
        self.event.as_ref().and_then(Pending::take)
    }

    /// Whether a last script ended (or handed on) the transaction already: nothing may write in
    /// it now without [`Self::resume`].
    pub fn has_ended(&self) -> bool {
        self.fold.as_ref().is_some_and(|fold| {
            matches!(
                fold.get(),
                Folded::Released | Folded::Committed | Folded::Broken
            )
        })
    }

    /// The statements a last script ends with now, and what they will have done; `None` when
    /// there is nothing to save (the batch's first, handing the batch on, needs no statement)
    /// or a last script already ran.
    pub(super) fn suffix(&self) -> Option<(&'static [&'static str], Folded)> {
        let fold = self.fold.as_ref()?;
        if fold.get() != Folded::No {
            return None;
        }
        match (fold.hands_on(), fold.savepoint) {
            (true, true) => Some((&["RELEASE member", "SAVEPOINT member"], Folded::Released)),
            (true, false) => None,
            (false, _) => Some((&["COMMIT"], Folded::Committed)),
        }
    }

    /// What the last script did so far (for tests).
    #[cfg(test)]
    pub(super) fn folded(&self) -> Folded {
        self.fold.as_ref().map_or(Folded::No, |fold| fold.get())
    }

    /// Records what the last script's appended statements did.
    pub(super) fn mark(&self, folded: Folded) {
        if let Some(fold) = &self.fold {
            fold.set(folded);
        }
    }

    /// Debug builds: notes how many rows the connection has changed so far, as the last script
    /// ends (see [`Fold::assert_nothing_after`]).
    #[cfg(debug_assertions)]
    pub(super) async fn note_end(&self, conn: &mut Conn) {
        if let Some(fold) = &self.fold {
            fold.changes_at_end
                .store(total_changes(conn).await, Ordering::SeqCst);
        }
    }

    /// For a caller that writes again after its last script (its outcome asked for more): the
    /// writes after this are one transaction again, rolled back together if the request fails.
    /// Those of the last script stay: call it only where that script changed nothing.
    pub async fn resume(&self, conn: &mut Conn) -> AppResult<()> {
        let Some(fold) = &self.fold else {
            return Ok(());
        };
        match fold.get() {
            // The empty savepoint opened for the next writer is this transaction's again.
            Folded::Released => fold.set(Folded::No),
            Folded::Committed => {
                sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
                fold.set(Folded::Reopened);
            }
            Folded::No | Folded::Reopened | Folded::Broken => {}
        }
        Ok(())
    }
}

/// The rows the connection has inserted, updated or deleted since it opened.
#[cfg(debug_assertions)]
async fn total_changes(conn: &mut Conn) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT total_changes() AS n")
        .fetch_one(&mut *conn)
        .await
        .and_then(|row| row.try_get::<i64, _>("n"))
        .unwrap_or(-2)
}
