//! SQLite's one writing connection, held outside any pool, and group commit on it. Writes take
//! turns on one connection anyway (SQLite admits one writer; see [`super::Db`]), and a pooled
//! connection is pinged — a round trip to its worker thread — every time it goes back to its
//! pool, which was every write. Here the turn is the connection's lock (fair, in arrival order).
//!
//! Write transactions run in batches: the first opens the batch with `BEGIN IMMEDIATE` (alone in
//! it, it needs nothing more), each one after it takes its turn as `SAVEPOINT member` …
//! `RELEASE member`, and one `COMMIT` ends the batch. A transaction that ends while others wait for the turn does not
//! commit alone: it leaves the batch open, lets the next one in, and waits behind them for the
//! batch's `COMMIT` (the last of a run commits, or the first back in turn). Its `commit` still
//! returns only once its writes are committed, or with the error that kept the batch from
//! committing — one `COMMIT` (one pass writing the WAL's pages) for the whole run, where under
//! parallel syncs each wrote the same hot pages again. A transaction that fails or is dropped is
//! rolled back to its savepoint: the batch's others keep their writes.
//!
//! A savepoint member that ends while others wait opens the next one's savepoint in the same
//! call (`RELEASE member; SAVEPOINT member`): when the next to take the turn is a writer that
//! begins (not one coming back for the batch's `COMMIT`), it takes that savepoint as its own
//! and begins without a trip to the connection's thread (each trip is a wake-up of that thread
//! and of the request's; under parallel creates, thread switches were half the server's CPU).
//!
//! A transaction whose last script says so ([`super::last_write`]) ends in that script's trip:
//! the script carries the `RELEASE member; SAVEPOINT member` its commit would have sent, or the
//! `COMMIT` when nobody waits, and the commit then only settles the batch's state.
//!
//! SQLite may roll the whole batch back by itself (a statement that finds no room, with no
//! statement journal to undo it alone). The writer then takes the batch as ended and failed —
//! never as still open: a `SAVEPOINT` outside a transaction begins one of its own, which its
//! `RELEASE` would commit before the batch's outcome is known.
//!
//! Whoever holds the turn last with a batch open and nobody waiting commits it; a writer that
//! gives up waiting, or a transaction dropped in the middle, leaves a task that takes the turn
//! and does so. A batch holds at most [`MAX_BATCH`] transactions.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::last_write::{Fold, Folded, LastWrite};
use super::sqlite_checkpointer::{checkpoint, Checkpointed};
use super::WRITE_WAIT;
use crate::error::{AppError, AppResult};

/// Most transactions one `COMMIT` carries.
pub const MAX_BATCH: usize = 16;

/// Batches remembered as failed, for members that learn their outcome late.
const FAILED_KEPT: usize = 64;

/// How many pages the WAL may hold before a commit copies them back into the database file
/// (`PRAGMA wal_autocheckpoint`; SQLite's default is 1,000, 4 MiB). Each checkpoint writes
/// every page changed since the last one once more, so the fewer checkpoints, the fewer times a
/// page that many writes change — users' membership index, the request log — is written again
/// (issue #13: at 2,000 users, 4 clients, a 100-member PATCH −20–30 % CPU, a group DELETE
/// −3–10 %, their page reads 37 → 14–24 and 59 → 38). The WAL file grows to about 40 MiB. A
/// commit that checkpointed 10,000 pages itself held the writer's turn meanwhile (60–210 ms, the
/// writes queued behind it waiting as long), so the copy is made beside the writes by
/// [`super::sqlite_checkpointer`], and the writer's own checkpoint waits for a log four times as
/// long ([`SqliteWriter::set_own_checkpoint_limit`]). Only this connection commits, so only it
/// needs the setting.
pub const WAL_PAGES_BEFORE_CHECKPOINT: u32 = 10_000;

/// Sets the log's length, in pages, at which a commit on `conn` checkpoints it.
async fn set_autocheckpoint(conn: &mut AnyConnection, pages: u32) -> Result<(), sqlx::Error> {
    let sql = format!("PRAGMA wal_autocheckpoint = {pages}");
    conn.execute(sql.as_str()).await.map(|_| ())
}

/// Runs one of the batch's control statements (`BEGIN IMMEDIATE`, `SAVEPOINT member`, …) as a
/// statement the connection keeps prepared: sqlx's `Any` driver caches only statements run with
/// arguments (an empty list counts), so `conn.execute(sql)` parsed them again every time — two
/// or three parses a write.
async fn control(conn: &mut AnyConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(conn).await.map(|_| ())
}

/// SQLite's answer to `COMMIT` or `ROLLBACK` on a connection with no transaction open: one a
/// statement that found no room had already rolled back ([`Held::why_failed`]).
fn no_transaction(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.message().contains("no transaction is active"))
}

/// Runs `work` — a transaction's begin, commit or rollback — to its end, even when its caller
/// stops waiting (a request whose client went away: hyper drops its handler). Each of them sends
/// statements to the connection's thread and then notes what they did in [`Held`]; cut short
/// between the two, the statement still runs there but the note is never made, and the writer's
/// idea of the batch parts from SQLite's: a `COMMIT` that ran while the batch is taken for open,
/// after which the next writer's `SAVEPOINT` begins a transaction of its own that its `RELEASE`
/// commits at once — writes answered as failed that were saved.
async fn to_the_end<T: Send + 'static>(
    work: impl std::future::Future<Output = AppResult<T>> + Send + 'static,
) -> AppResult<T> {
    match tokio::spawn(work).await {
        Ok(done) => done,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(AppError::busy(format!(
            "the database's writer stopped: {e}"
        ))),
    }
}

/// The transaction whose turn it is, and how it is undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    /// The batch's first: rolling back the batch undoes it alone.
    First,
    /// One after others that wait for the batch's `COMMIT`: a savepoint.
    Savepoint,
}

/// The writing connection and the state of its batch.
#[derive(Debug)]
struct Held {
    conn: AnyConnection,
    /// `BEGIN IMMEDIATE` ran, and neither `COMMIT` nor `ROLLBACK` since.
    batch_open: bool,
    /// The transaction in progress, from its begin until its commit or rollback.
    member: Option<Member>,
    /// Transactions of the open batch that released their savepoint and wait for its `COMMIT`.
    deferred: usize,
    /// An empty savepoint is open in the batch for the next transaction to take as its own
    /// (opened by the one before it, which ended while it waited). `COMMIT` and `ROLLBACK` end
    /// it with the batch; whoever holds the turn without beginning a transaction leaves it be.
    savepoint_ready: bool,
    /// The transaction in progress, as its last script sees it ([`super::last_write`]).
    fold: Option<Arc<Fold>>,
    /// The savepoint open is the empty one the transaction's last script opened after releasing
    /// its own (`RELEASE member; SAVEPOINT member`): its writes are in the batch already.
    released: bool,
    /// [`crate::error::storage_full_seen`] when the open batch began.
    full_seen_at_open: u64,
    /// Batches ended so far: the open batch's number.
    batch: u64,
    /// The numbers of recent batches that ended without committing, and why.
    failed: VecDeque<(u64, BatchFailure)>,
    closed: bool,
}

impl Held {
    /// Rolls back the transaction in progress (one dropped without ending, or rolled back), if
    /// any: the batch if it is the first, else its savepoint. A savepoint that cannot be rolled
    /// back leaves a batch that cannot be trusted: it is rolled back whole.
    async fn settle_member(&mut self) {
        self.absorb_fold().await;
        self.released = false;
        match self.member.take() {
            None => {}
            Some(Member::First) => match control(&mut self.conn, "ROLLBACK").await {
                // SQLite had rolled it back by itself (a statement found no room): it is gone
                // all the same. Taken for still open, the next writer's `SAVEPOINT` would have
                // begun a transaction of its own, which its `RELEASE` commits at once, before
                // the batch's outcome is known (a write told "no room" that was saved).
                Err(e) if !no_transaction(&e) => {
                    // Tried again by whoever takes the turn next.
                    self.member = Some(Member::First);
                }
                _ => {
                    self.batch_open = false;
                    self.batch += 1;
                }
            },
            Some(Member::Savepoint) => {
                let undone = control(&mut self.conn, "ROLLBACK TO member").await.is_ok()
                    && control(&mut self.conn, "RELEASE member").await.is_ok();
                if !undone {
                    self.abandon_batch(self.why_failed()).await;
                }
            }
        }
    }

    /// Applies what the transaction's last script did ([`super::last_write`]) to the batch's
    /// state, once.
    async fn absorb_fold(&mut self) {
        let Some(fold) = self.fold.take() else {
            return;
        };
        match fold.get() {
            Folded::No => {}
            Folded::Released => self.released = true,
            Folded::Committed => self.end_batch(None),
            Folded::Reopened => {
                self.end_batch(None);
                self.open_batch();
                self.member = Some(Member::First);
            }
            Folded::Broken => self.abandon_batch(self.why_failed()).await,
        }
    }

    /// Notes that `BEGIN IMMEDIATE` opened a batch.
    fn open_batch(&mut self) {
        self.batch_open = true;
        self.full_seen_at_open = crate::error::storage_full_seen();
    }

    /// Why the open batch failed: for want of room when a statement found none since it opened
    /// ([`crate::error::storage_full_seen`]; the error that ends a batch is turned into an
    /// [`AppError`], and so counted, before this is asked). The failing statement need not be
    /// the last one: SQLite rolls a whole transaction back by itself when a statement finds no
    /// room (a one-row statement has no statement journal to undo alone), and what fails next
    /// (a savepoint's `ROLLBACK TO`, `RELEASE`) says only "no such savepoint".
    fn why_failed(&self) -> BatchFailure {
        if crate::error::storage_full_seen() > self.full_seen_at_open {
            BatchFailure::StorageFull
        } else {
            BatchFailure::Other
        }
    }

    /// Ends the open batch without committing it: every transaction in it fails.
    async fn abandon_batch(&mut self, why: BatchFailure) {
        if self.batch_open {
            let _ = control(&mut self.conn, "ROLLBACK").await;
            self.end_batch(Some(why));
        }
    }

    /// Ends the open batch: committed (`None`), or failed and why.
    fn end_batch(&mut self, failure: Option<BatchFailure>) {
        if let Some(why) = failure {
            if self.failed.len() == FAILED_KEPT {
                self.failed.pop_front();
            }
            self.failed.push_back((self.batch, why));
        }
        self.batch_open = false;
        self.member = None;
        self.deferred = 0;
        self.savepoint_ready = false;
        self.released = false;
        self.fold = None;
        self.batch += 1;
    }

    /// Commits the open batch (the transaction whose turn it is has ended).
    async fn commit_batch(&mut self) -> AppResult<()> {
        if !self.batch_open {
            return self.outcome(self.batch.wrapping_sub(1));
        }
        match control(&mut self.conn, "COMMIT").await {
            Ok(_) => {
                self.end_batch(None);
                Ok(())
            }
            Err(e) => {
                let e = AppError::from(e);
                let _ = control(&mut self.conn, "ROLLBACK").await;
                let why = self.why_failed();
                self.end_batch(Some(why));
                Err(why.told_instead_of(e))
            }
        }
    }

    /// The batch can take one more transaction after the one in progress ([`MAX_BATCH`]).
    fn has_room(&self) -> bool {
        self.deferred + 1 < MAX_BATCH
    }

    /// Commits the open batch unless a writer waits for the turn (it will carry the batch on).
    async fn finish_unless_awaited(&mut self, waiting: usize) {
        if waiting == 0 {
            self.finish_open_batch().await;
        } else {
            self.settle_member().await;
        }
    }

    /// Settles the transaction in progress and commits the open batch, if any.
    async fn finish_open_batch(&mut self) {
        self.settle_member().await;
        // A first transaction whose rollback failed is still in the batch: never committed.
        if self.batch_open && self.member.is_none() {
            // A failure is remembered for the batch's transactions.
            let _ = self.commit_batch().await;
        }
    }

    /// How batch `n`, ended, ended.
    fn outcome(&self, n: u64) -> AppResult<()> {
        match self.failed.iter().find(|(batch, _)| *batch == n) {
            Some((_, why)) => Err(why.error()),
            None => Ok(()),
        }
    }
}

/// Why a batch ended without committing, told to each of its transactions that learns it late
/// (those that wait for its `COMMIT`) as the one whose statement failed was told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BatchFailure {
    /// The database had no room to write ([`crate::error::is_storage_full`]).
    StorageFull,
    Other,
}

impl BatchFailure {
    /// What a transaction whose batch failed for this reason is told, given the error of the
    /// statement (`COMMIT`, `RELEASE`) that found the batch gone: for want of room, the "no
    /// room" that lets a client retry later, whatever that statement said ("cannot commit - no
    /// transaction is active", once SQLite rolled the batch back by itself).
    fn told_instead_of(self, e: AppError) -> AppError {
        match self {
            BatchFailure::StorageFull => self.error(),
            BatchFailure::Other => e,
        }
    }

    fn error(self) -> AppError {
        match self {
            BatchFailure::StorageFull => AppError::StorageFull(
                "the batch holding this write could not commit: the database has no room".into(),
            ),
            BatchFailure::Other => AppError::Internal(
                "the database did not commit this write (its batch failed)".into(),
            ),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SqliteWriter {
    held: Arc<Mutex<Held>>,
    /// Writers waiting in [`SqliteWriter::begin`] for the turn.
    waiting: Arc<AtomicUsize>,
}

impl SqliteWriter {
    /// Opens the connection with `options` (the pool options every SQLite connection gets),
    /// checkpointing every [`WAL_PAGES_BEFORE_CHECKPOINT`] pages until told otherwise.
    pub async fn connect(options: AnyPoolOptions, url: &str) -> AppResult<Self> {
        let mut conn = super::sqlite_connections(options, url, 1)
            .await?
            .pop()
            .ok_or_else(|| AppError::Internal("no SQLite connection was opened".into()))?;
        set_autocheckpoint(&mut conn, WAL_PAGES_BEFORE_CHECKPOINT).await?;
        Ok(SqliteWriter {
            held: Arc::new(Mutex::new(Held {
                conn,
                batch_open: false,
                member: None,
                deferred: 0,
                savepoint_ready: false,
                fold: None,
                released: false,
                full_seen_at_open: 0,
                batch: 0,
                failed: VecDeque::new(),
                closed: false,
            })),
            waiting: Arc::default(),
        })
    }

    fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Waits for the turn (at most [`WRITE_WAIT`]) and begins a write transaction.
    pub async fn begin(&self) -> AppResult<WriterTx> {
        let waiter = Waiter::new(self);
        let locked = tokio::time::timeout(WRITE_WAIT, self.held.clone().lock_owned()).await;
        let held =
            locked.map_err(|_| AppError::busy("waited too long for the database's writer"))?;
        waiter.served();
        to_the_end(self.clone().begin_holding(held)).await
    }

    /// [`SqliteWriter::begin`], the turn taken.
    async fn begin_holding(self, mut held: OwnedMutexGuard<Held>) -> AppResult<WriterTx> {
        if held.closed {
            return Err(AppError::busy("the database is shutting down"));
        }
        // A transaction dropped without ending, whose rollback could not run yet.
        held.settle_member().await;
        if held.member.is_some() {
            // A batch's first whose `ROLLBACK` failed again: a savepoint now would join its
            // writes, or begin a transaction outside any batch if SQLite had ended it.
            return Err(AppError::busy(
                "the database's last write could not be undone yet",
            ));
        }
        let mut tx = WriterTx {
            held,
            writer: self,
            ended: false,
        };
        tx.open().await?;
        Ok(tx)
    }

    /// A task that takes the turn and commits an open batch nobody else will.
    fn finish_later(&self) {
        let writer = self.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut held = writer.held.lock().await;
                held.finish_unless_awaited(writer.waiting()).await;
            });
        }
    }

    /// Sets the log's length, in pages, at which a commit copies it back into the database file
    /// itself (`PRAGMA wal_autocheckpoint`), in the writer's turn.
    pub async fn set_own_checkpoint_limit(&self, pages: u32) -> AppResult<()> {
        let mut held = self.held.clone().lock_owned().await;
        to_the_end(async move { Ok(set_autocheckpoint(&mut held.conn, pages).await?) }).await
    }

    /// Copies what is left of the log back into the database file in the writer's turn (at most
    /// [`WRITE_WAIT`] to take it), after committing the open batch: no frame is added meanwhile,
    /// so once every reader has moved past the log's end, the next write starts it over
    /// ([`super::sqlite_checkpointer`] copies the bulk of it beforehand, beside the writes).
    pub async fn checkpoint_in_turn(&self) -> AppResult<Checkpointed> {
        let locked = tokio::time::timeout(WRITE_WAIT, self.held.clone().lock_owned()).await;
        let mut held =
            locked.map_err(|_| AppError::busy("waited too long for the database's writer"))?;
        to_the_end(async move {
            held.finish_open_batch().await;
            if held.batch_open || held.closed {
                return Ok(Checkpointed::NOT_RUN);
            }
            Ok(checkpoint(&mut held.conn).await?)
        })
        .await
    }

    /// Waits for the transaction in progress, commits the open batch, refuses new ones, and
    /// copies the WAL back into the database file, leaving it empty: a stopped server's file is
    /// whole by itself, and the next start does not read up to [`WAL_PAGES_BEFORE_CHECKPOINT`]
    /// pages of log to rebuild its index. (SQLite checkpoints when the last connection closes;
    /// this one is never closed before the process ends.) A connection of another process
    /// reading then makes it wait for that read, at most the busy timeout, and stop short.
    pub async fn close(&self) {
        let mut held = self.held.lock().await;
        held.finish_open_batch().await;
        held.closed = true;
        let _ = control(&mut held.conn, "PRAGMA wal_checkpoint(TRUNCATE)").await;
    }
}

/// Counts a writer waiting for the turn; one that leaves unserved (timed out, dropped) may
/// have been counted on to carry a batch on, so it leaves a task to finish it.
struct Waiter<'a> {
    writer: &'a SqliteWriter,
    served: bool,
}

impl<'a> Waiter<'a> {
    fn new(writer: &'a SqliteWriter) -> Self {
        writer.waiting.fetch_add(1, Ordering::SeqCst);
        Waiter {
            writer,
            served: false,
        }
    }

    fn served(mut self) {
        self.served = true;
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.writer.waiting.fetch_sub(1, Ordering::SeqCst);
        if !self.served {
            self.writer.finish_later();
        }
    }
}

/// A write transaction on the writing connection (a savepoint of the open batch); holds the
/// turn until it ends.
#[derive(Debug)]
pub struct WriterTx {
    held: OwnedMutexGuard<Held>,
    writer: SqliteWriter,
    /// Committed or rolled back: nothing is left for [`Drop`] to do.
    ended: bool,
}

impl WriterTx {
    /// Opens a batch with this transaction, or its savepoint in the open batch.
    async fn open(&mut self) -> AppResult<()> {
        if !self.held.batch_open {
            if let Err(e) = control(&mut self.held.conn, "BEGIN IMMEDIATE").await {
                self.ended = true;
                return Err(e.into());
            }
            self.held.open_batch();
            self.begun(Member::First);
            return Ok(());
        }
        if std::mem::take(&mut self.held.savepoint_ready) {
            self.begun(Member::Savepoint);
            return Ok(());
        }
        if let Err(e) = control(&mut self.held.conn, "SAVEPOINT member").await {
            let waiting = self.writer.waiting();
            self.held.finish_unless_awaited(waiting).await;
            self.ended = true;
            return Err(e.into());
        }
        self.begun(Member::Savepoint);
        Ok(())
    }

    /// The transaction has begun as `member` of the batch.
    fn begun(&mut self, member: Member) {
        self.held.member = Some(member);
        self.held.fold = Some(Arc::new(Fold::new(
            member == Member::Savepoint,
            self.held.has_room(),
            self.writer.waiting.clone(),
        )));
    }

    /// How this transaction's last script ends it ([`super::last_write`]).
    pub fn last_write(&self) -> LastWrite {
        self.held
            .fold
            .clone()
            .map(LastWrite::of)
            .unwrap_or_default()
    }

    /// Commits: returns once the batch holding this transaction has committed (with the error
    /// if it did not).
    pub async fn commit(self) -> AppResult<()> {
        to_the_end(self.commit_to_the_end()).await
    }

    async fn commit_to_the_end(mut self) -> AppResult<()> {
        let writer = self.writer.clone();
        #[cfg(debug_assertions)]
        if let Some(fold) = self.held.fold.clone() {
            fold.assert_nothing_after(&mut self.held.conn).await;
        }
        self.held.absorb_fold().await;
        if self.held.member.is_none() {
            // Its last script committed the batch (or a statement it appended failed).
            self.ended = true;
            return self.held.commit_batch().await;
        }
        let defer = writer.waiting() > 0 && self.held.has_room();
        let released = std::mem::take(&mut self.held.released);
        if self.held.member == Some(Member::Savepoint) && defer {
            // The next transaction's savepoint opened with this one's release, in one call (or
            // in its last script's).
            if !released {
                let handed = control(&mut self.held.conn, "RELEASE member; SAVEPOINT member").await;
                if let Err(e) = handed {
                    let e = AppError::from(e);
                    // Which of the two failed is unknown: the batch is not to be trusted.
                    let why = self.held.why_failed();
                    self.held.abandon_batch(why).await;
                    self.ended = true;
                    return Err(why.told_instead_of(e));
                }
            }
            self.held.savepoint_ready = true;
        }
        // A savepoint not handed on ends with the batch: `COMMIT` commits it too.
        self.held.member = None;
        if !defer {
            let committed = self.held.commit_batch().await;
            self.ended = true;
            return committed;
        }
        // Others wait: they go first, in this batch; its COMMIT is theirs or, back in turn, ours.
        self.held.deferred += 1;
        let batch = self.held.batch;
        self.ended = true;
        drop(self);
        let requeued = Requeued {
            writer: &writer,
            back: false,
        };
        let mut back = writer.held.clone().lock_owned().await;
        requeued.back();
        if back.batch != batch {
            return back.outcome(batch);
        }
        back.settle_member().await;
        back.commit_batch().await
    }

    /// Rolls back this transaction's writes (the batch's others keep theirs).
    pub async fn rollback(self) -> AppResult<()> {
        to_the_end(self.rollback_to_the_end()).await
    }

    async fn rollback_to_the_end(mut self) -> AppResult<()> {
        let waiting = self.writer.waiting();
        // `settle_member` rolls it back; the batch's others are then committed unless a writer
        // waiting carries them on.
        self.held.finish_unless_awaited(waiting).await;
        self.ended = true;
        if self.held.member.is_some() {
            return Err(AppError::Internal("the rollback did not run".into()));
        }
        Ok(())
    }
}

impl Deref for WriterTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.held.conn
    }
}

impl DerefMut for WriterTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.held.conn
    }
}

/// Dropped before it ended: a task takes the turn next, rolls its savepoint back and commits
/// what the batch's others wrote, unless a writer waiting took the turn first and did (in
/// [`SqliteWriter::begin`]).
impl Drop for WriterTx {
    fn drop(&mut self) {
        if !self.ended {
            self.writer.finish_later();
        }
    }
}

/// A committed transaction waiting for the turn back; dropped on the way (its request gone), it
/// leaves a task to commit the batch in its place.
struct Requeued<'a> {
    writer: &'a SqliteWriter,
    back: bool,
}

impl Requeued<'_> {
    fn back(mut self) {
        self.back = true;
    }
}

impl Drop for Requeued<'_> {
    fn drop(&mut self) {
        if !self.back {
            self.writer.finish_later();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{Executor, Row};

    async fn count(conn: &mut AnyConnection) -> i64 {
        sqlx::query("SELECT COUNT(*) AS n FROM t")
            .fetch_one(conn)
            .await
            .unwrap()
            .get::<i64, _>("n")
    }

    /// A writer on a fresh database with table `t`, and a second connection to read what is
    /// committed (as another process would).
    async fn fresh() -> (tempfile::TempDir, SqliteWriter, SqliteWriter) {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/w.db?mode=rwc", dir.path().display());
        let options = || super::super::sqlite_options(AnyPoolOptions::new());
        let writer = SqliteWriter::connect(options(), &url).await.unwrap();
        let mut tx = writer.begin().await.unwrap();
        tx.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
        tx.commit().await.unwrap();
        let reader = SqliteWriter::connect(options(), &url).await.unwrap();
        (dir, writer, reader)
    }

    /// What the other connection sees committed: `t`'s values in order.
    async fn committed(reader: &SqliteWriter) -> Vec<i64> {
        let mut held = reader.held.lock().await;
        sqlx::query("SELECT x FROM t ORDER BY x")
            .fetch_all(&mut held.conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<i64, _>("x"))
            .collect()
    }

    /// A transaction begun on `writer` that has inserted `x` into `t`.
    async fn inserting(writer: &SqliteWriter, x: i64) -> WriterTx {
        let mut tx = writer.begin().await.unwrap();
        tx.execute(format!("INSERT INTO t VALUES ({x})").as_str())
            .await
            .unwrap();
        tx
    }

    /// How [`held_second`]'s transaction ends.
    #[derive(Clone, Copy)]
    enum Ending {
        Commit,
        Rollback,
        /// Its insert is its last script, run once `go` is sent (with a writer waiting, the
        /// script releases its savepoint and opens the next one's), then it commits.
        LastScript,
    }

    /// A second transaction, on a task of its own, that inserts `x` (waiting for the turn while
    /// another holds it), then keeps the turn until `go` is sent, and ends as `ending` says.
    fn held_second(
        writer: &SqliteWriter,
        x: i64,
        ending: Ending,
    ) -> (
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<AppResult<()>>,
    ) {
        let writer = writer.clone();
        let (go, ready) = tokio::sync::oneshot::channel::<()>();
        let second = tokio::spawn(async move {
            let insert = format!("INSERT INTO t VALUES ({x})");
            let mut tx = writer.begin().await?;
            if let Ending::LastScript = ending {
                ready.await.unwrap();
                let (done, folded) = last_script(&mut tx, &[&insert]).await;
                done?;
                assert_eq!(folded, Folded::Released);
                return tx.commit().await;
            }
            tx.execute(insert.as_str()).await.unwrap();
            ready.await.unwrap();
            match ending {
                Ending::Rollback => tx.rollback().await,
                _ => tx.commit().await,
            }
        });
        (go, second)
    }

    /// Waits (at most 5 s) until `n` writers wait for the turn.
    async fn until_waiting(writer: &SqliteWriter, n: usize) {
        for _ in 0..500 {
            if writer.waiting() == n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{} writers wait, not {n}", writer.waiting());
    }

    /// Two transactions that overlap share one COMMIT, and the first one's `commit` returns only
    /// once that COMMIT ran: never before its writes can be read.
    #[tokio::test]
    async fn overlapping_transactions_commit_together_and_each_returns_once_committed() {
        let (_dir, writer, reader) = fresh().await;
        let batches_before = writer.held.lock().await.batch;
        let first = inserting(&writer, 1).await;
        let (go, second) = held_second(&writer, 2, Ending::Commit);
        until_waiting(&writer, 1).await;
        let first = tokio::spawn(first.commit());
        // The second holds the turn now; the first waits for the batch's COMMIT.
        until_waiting(&writer, 0).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(
            !first.is_finished(),
            "the first returned before its batch committed"
        );
        assert_eq!(committed(&reader).await, Vec::<i64>::new());
        go.send(()).unwrap();
        second.await.unwrap().unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(committed(&reader).await, vec![1, 2]);
        assert_eq!(
            writer.held.lock().await.batch,
            batches_before + 1,
            "one COMMIT"
        );
    }

    /// Leaves the database no room beyond the pages its file has (`max_page_count`, on the
    /// writing connection), and answers the error of an insert that needs more.
    async fn write_without_room(tx: &mut WriterTx) -> sqlx::Error {
        tx.execute("PRAGMA max_page_count = 1").await.unwrap();
        tx.execute("INSERT INTO t VALUES (zeroblob(200000))")
            .await
            .unwrap_err()
    }

    /// Gives the database room again and commits an insert of `x`.
    async fn insert_with_room(writer: &SqliteWriter, x: i64) {
        let mut tx = writer.begin().await.unwrap();
        tx.execute("PRAGMA max_page_count = 1073741823")
            .await
            .unwrap();
        tx.execute(format!("INSERT INTO t VALUES ({x})").as_str())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// A statement that finds no room makes SQLite roll the whole batch back by itself (a
    /// one-row insert has no statement journal to undo alone), so the savepoint of the write
    /// that failed is gone too. The batch's other transaction, waiting for its `COMMIT`, learns
    /// that its write was lost as the same "no room" 503, not as an internal error, and the
    /// writer goes on once there is room.
    #[tokio::test]
    async fn a_batch_sqlite_rolled_back_for_want_of_room_tells_its_others_so() {
        let (_dir, writer, reader) = fresh().await;
        let first = inserting(&writer, 1).await;
        let second = {
            let writer = writer.clone();
            tokio::spawn(async move {
                let mut tx = writer.begin().await.unwrap();
                // As a request's `?` does; dropped unfinished, as a request's transaction is.
                AppError::from(write_without_room(&mut tx).await)
            })
        };
        until_waiting(&writer, 1).await;
        let first = first.commit().await;
        let second = second.await.unwrap();
        assert!(matches!(second, AppError::StorageFull(_)), "{second:?}");
        assert!(
            matches!(first, Err(AppError::StorageFull(_))),
            "the first write's batch was lost for want of room, and it was told {first:?}"
        );
        assert_eq!(committed(&reader).await, Vec::<i64>::new());

        insert_with_room(&writer, 3).await;
        assert_eq!(committed(&reader).await, vec![3]);
    }

    /// A batch's first write that finds no room (SQLite rolled it back by itself, so the
    /// `ROLLBACK` after it finds no transaction) leaves the writer able to write: the next
    /// transactions commit, together when they overlap.
    #[tokio::test]
    async fn a_first_write_that_found_no_room_leaves_the_writer_writing() {
        let (_dir, writer, reader) = fresh().await;
        let mut tx = writer.begin().await.unwrap();
        let err = write_without_room(&mut tx).await;
        assert!(crate::error::is_storage_full(&err), "{err:?}");
        tx.rollback().await.ok();
        insert_with_room(&writer, 1).await;
        let first = inserting(&writer, 2).await;
        let (go, second) = held_second(&writer, 3, Ending::Commit);
        until_waiting(&writer, 1).await;
        let first = tokio::spawn(first.commit());
        until_waiting(&writer, 0).await;
        go.send(()).unwrap();
        second.await.unwrap().unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(committed(&reader).await, vec![1, 2, 3]);
    }

    /// How a write of [`parallel_writers_into_a_database_without_room_are_told_truly`] ends.
    #[derive(Debug, Clone, Copy)]
    enum WriteEnd {
        Commit,
        /// Its statements are its last script ([`super::super::last_write`]), then it commits.
        LastScript,
        Rollback,
        /// Dropped before its commit, as a request whose client went away.
        Dropped,
        /// Its commit given up after `n` µs, as a request whose client went away meanwhile:
        /// saved or not, the client cannot know.
        GivenUp(u64),
    }

    /// What a write of [`write_rows`] was answered.
    #[derive(Debug, PartialEq)]
    enum Told {
        Saved,
        NotSaved,
        NoRoom,
        /// Given up before the answer.
        Unknown,
    }

    /// One write: deletes `deleting` and inserts `inserting` (each name a row of `size` bytes,
    /// in one statement), and ends as `end` says.
    async fn write_rows(
        writer: &SqliteWriter,
        deleting: &[String],
        inserting: &[String],
        size: usize,
        end: WriteEnd,
    ) -> Result<Told, String> {
        let told = |r: AppResult<()>| match r {
            Ok(()) => Ok(Told::Saved),
            Err(AppError::StorageFull(_)) => Ok(Told::NoRoom),
            Err(e) => Err(e.to_string()),
        };
        let mut tx = match writer.begin().await {
            Ok(tx) => tx,
            Err(e) => return told(Err(e)),
        };
        let mut statements: Vec<String> = deleting
            .iter()
            .map(|name| format!("DELETE FROM t WHERE c = '{name}'"))
            .collect();
        if !inserting.is_empty() {
            // One statement for all: with several rows SQLite keeps a statement journal, and a
            // statement that finds no room undoes itself alone; with one row it rolls back the
            // whole batch. Both happen here.
            let rows: Vec<String> = inserting
                .iter()
                .map(|name| format!("(randomblob({size}), '{name}')"))
                .collect();
            statements.push(format!("INSERT INTO t (b, c) VALUES {}", rows.join(", ")));
        }
        if let WriteEnd::LastScript = end {
            let sql: Vec<&str> = statements.iter().map(String::as_str).collect();
            if let (Err(e), _) = last_script(&mut tx, &sql).await {
                return told(Err(e));
            }
            return told(tx.commit().await);
        }
        for sql in &statements {
            if let Err(e) = tx.execute(sql.as_str()).await {
                return told(Err(e.into()));
            }
        }
        tokio::task::yield_now().await;
        match end {
            WriteEnd::Commit | WriteEnd::LastScript => told(tx.commit().await),
            WriteEnd::Rollback => tx
                .rollback()
                .await
                .map(|()| Told::NotSaved)
                .map_err(|e| e.to_string()),
            WriteEnd::Dropped => {
                drop(tx);
                Ok(Told::NotSaved)
            }
            WriteEnd::GivenUp(micros) => {
                let wait = std::time::Duration::from_micros(micros);
                match tokio::time::timeout(wait, tx.commit()).await {
                    Ok(r) => told(r),
                    Err(_) => Ok(Told::Unknown),
                }
            }
        }
    }

    /// Six writers at once, batched, into a database that fills up and frees room again, their
    /// writes ending every way a request's can: every write answered `Ok` is saved, and every
    /// other is not (rolled back, dropped, or answered "no room"; nothing else is answered).
    /// (A batch's first write that SQLite rolled back by itself used to be taken for still
    /// open: the next writer's savepoint then began a transaction of its own, committed by its
    /// `RELEASE` — writes told "no room" that were saved, and "cannot commit - no transaction
    /// is active" answered as an internal error.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_writers_into_a_database_without_room_are_told_truly() {
        use std::collections::{BTreeMap, BTreeSet};
        use std::sync::Mutex as Shared;
        let (_dir, writer, reader) = fresh().await;
        let mut tx = writer.begin().await.unwrap();
        tx.execute("DROP TABLE t; CREATE TABLE t (x INTEGER PRIMARY KEY, b BLOB, c TEXT UNIQUE)")
            .await
            .unwrap();
        tx.execute("CREATE INDEX t_b ON t (b)").await.unwrap();
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.execute(format!("PRAGMA max_page_count = {}", pages + 30).as_str())
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let next = Arc::new(AtomicUsize::new(0));
        // Rows whose insert was answered Ok, and not deleted by a delete answered Ok.
        let saved: Arc<Shared<Vec<String>>> = Arc::default();
        // Rows written by a write given up: there or not.
        let unknown: Arc<Shared<BTreeSet<String>>> = Arc::default();
        let writers = (0..6).map(|k| {
            let (writer, next) = (writer.clone(), next.clone());
            let (saved, unknown) = (saved.clone(), unknown.clone());
            tokio::spawn(async move {
                let mut answers: BTreeMap<String, usize> = BTreeMap::new();
                let mut wrong = Vec::new();
                for _ in 0..250 {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let deleting: Vec<String> = if n % 5 == 4 {
                        let mut saved = saved.lock().unwrap();
                        let take = saved.len().min(3);
                        saved.drain(..take).collect()
                    } else {
                        Vec::new()
                    };
                    let inserting: Vec<String> = match (n % 5, k % 2) {
                        (4, _) => Vec::new(),
                        (_, 0) => vec![format!("c{n}")],
                        _ => (1..=3).map(|v| format!("d{n}-{v}")).collect(),
                    };
                    let end = match n % 10 {
                        0 | 5 => WriteEnd::LastScript,
                        3 => WriteEnd::Rollback,
                        7 => WriteEnd::Dropped,
                        9 => WriteEnd::GivenUp((n as u64 * 37) % 400),
                        _ => WriteEnd::Commit,
                    };
                    let size = 100 + (n * 7919) % 3000;
                    match write_rows(&writer, &deleting, &inserting, size, end).await {
                        Ok(told) => {
                            *answers.entry(format!("{told:?}")).or_default() += 1;
                            match told {
                                Told::Saved => saved.lock().unwrap().extend(inserting),
                                Told::NotSaved | Told::NoRoom => {
                                    saved.lock().unwrap().extend(deleting)
                                }
                                Told::Unknown => unknown
                                    .lock()
                                    .unwrap()
                                    .extend(deleting.into_iter().chain(inserting)),
                            }
                        }
                        Err(e) => wrong.push(format!("{end:?}: {e}")),
                    }
                }
                (answers, wrong)
            })
        });
        let mut answers: BTreeMap<String, usize> = BTreeMap::new();
        for w in writers.collect::<Vec<_>>() {
            let (told, wrong) = w.await.unwrap();
            assert_eq!(
                wrong,
                Vec::<String>::new(),
                "answers other than saved and no room"
            );
            for (k, v) in told {
                *answers.entry(k).or_default() += v;
            }
        }
        let count = |k: &str| answers.get(k).copied().unwrap_or(0);
        assert!(
            count("Saved") > 50 && count("NoRoom") > 100 && count("NotSaved") > 20,
            "{answers:?}"
        );
        let unknown = unknown.lock().unwrap().clone();
        let expected: BTreeSet<String> = saved.lock().unwrap().iter().cloned().collect();
        let mut held = reader.held.lock().await;
        let found: BTreeSet<String> = sqlx::query_scalar("SELECT c FROM t")
            .fetch_all(&mut held.conn)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| !unknown.contains(c))
            .collect();
        let lost: Vec<_> = expected.difference(&found).collect();
        let saved_unsaid: Vec<_> = found.difference(&expected).collect();
        assert!(
            lost.is_empty() && saved_unsaid.is_empty(),
            "lost {lost:?}; not answered Ok, yet saved: {saved_unsaid:?}"
        );
    }

    /// `sql` run as `tx`'s last script ([`super::super::script::run_last`]).
    async fn last_script(tx: &mut WriterTx, sql: &[&str]) -> (AppResult<()>, Folded) {
        let last = tx.last_write();
        let done = super::super::script::run_last(tx, sql, &[], &last).await;
        (done.map(|_| ()).map_err(AppError::from), last.folded())
    }

    /// With nobody waiting for the turn, a transaction's last script commits the batch in its own
    /// trip: its writes can be read before `commit` is called, which then returns at once.
    #[tokio::test]
    async fn a_last_script_with_nobody_waiting_commits_in_its_own_trip() {
        let (_dir, writer, reader) = fresh().await;
        let batches_before = writer.held.lock().await.batch;
        let mut tx = writer.begin().await.unwrap();
        let (done, folded) = last_script(&mut tx, &["INSERT INTO t VALUES (1)"]).await;
        done.unwrap();
        assert_eq!(folded, Folded::Committed);
        assert_eq!(committed(&reader).await, vec![1]);
        tx.commit().await.unwrap();
        assert_eq!(writer.held.lock().await.batch, batches_before + 1);
        inserting(&writer, 2).await.commit().await.unwrap();
        assert_eq!(committed(&reader).await, vec![1, 2]);
    }

    /// A caller that goes on writing after its last script (which changed nothing) resumes: what
    /// it writes then is one transaction again, rolled back whole when its request fails.
    #[tokio::test]
    async fn resuming_after_a_last_script_makes_the_rest_one_transaction() {
        let (_dir, writer, reader) = fresh().await;
        let mut tx = writer.begin().await.unwrap();
        let last = tx.last_write();
        let (done, folded) = last_script(&mut tx, &["INSERT INTO t SELECT 9 WHERE 0"]).await;
        done.unwrap();
        assert_eq!(folded, Folded::Committed);
        last.resume(&mut tx).await.unwrap();
        tx.execute("INSERT INTO t VALUES (5)").await.unwrap();
        drop(tx);
        inserting(&writer, 6).await.commit().await.unwrap();
        assert_eq!(committed(&reader).await, vec![6]);
        // Resumed and committed, its writes are.
        let mut tx = writer.begin().await.unwrap();
        let last = tx.last_write();
        last_script(&mut tx, &["INSERT INTO t SELECT 9 WHERE 0"])
            .await
            .0
            .unwrap();
        last.resume(&mut tx).await.unwrap();
        tx.execute("INSERT INTO t VALUES (7)").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(committed(&reader).await, vec![6, 7]);
    }

    /// The last script's contract, checked in debug builds: a transaction that writes after its
    /// last script without resuming (here outside any transaction, the script having committed)
    /// fails at its commit instead of passing unnoticed.
    #[cfg(debug_assertions)]
    #[tokio::test]
    #[should_panic(expected = "wrote after its last script")]
    async fn a_write_after_the_last_script_without_resuming_is_caught_at_commit() {
        let (_dir, writer, _reader) = fresh().await;
        let mut tx = writer.begin().await.unwrap();
        let (done, folded) = last_script(&mut tx, &["INSERT INTO t VALUES (1)"]).await;
        done.unwrap();
        assert_eq!(folded, Folded::Committed);
        tx.execute("INSERT INTO t VALUES (2)").await.unwrap();
        let _ = tx.commit().await;
    }

    /// A last script whose own statement fails does not end its transaction, which is then rolled
    /// back whole: nothing of the request is half-written.
    #[tokio::test]
    async fn a_last_script_that_fails_leaves_its_transaction_to_roll_back_whole() {
        let (_dir, writer, reader) = fresh().await;
        let mut tx = inserting(&writer, 1).await;
        let sql = ["INSERT INTO t VALUES (2)", "INSERT INTO nowhere VALUES (3)"];
        let (done, folded) = last_script(&mut tx, &sql).await;
        assert!(done.is_err());
        assert_eq!(folded, Folded::No);
        tx.rollback().await.unwrap();
        inserting(&writer, 4).await.commit().await.unwrap();
        assert_eq!(committed(&reader).await, vec![4]);
    }

    /// In a batch, a transaction rolled back or dropped loses only its own writes.
    #[tokio::test]
    async fn a_transaction_undone_in_a_batch_leaves_the_others_writes() {
        for drop_it in [false, true] {
            let (_dir, writer, reader) = fresh().await;
            let first = inserting(&writer, 1).await;
            let second_writer = writer.clone();
            let second = tokio::spawn(async move {
                let tx = inserting(&second_writer, 2).await;
                if drop_it {
                    drop(tx);
                } else {
                    tx.rollback().await.unwrap();
                }
            });
            until_waiting(&writer, 1).await;
            first.commit().await.unwrap();
            second.await.unwrap();
            assert_eq!(committed(&reader).await, vec![1], "dropped: {drop_it}");
            // The writer goes on: the next transaction commits alone.
            inserting(&writer, 3).await.commit().await.unwrap();
            assert_eq!(committed(&reader).await, vec![1, 3], "dropped: {drop_it}");
        }
    }

    /// A committed transaction whose request goes away while it waits for its batch's COMMIT
    /// (its task aborted) still has its writes committed with the batch, and the writer goes on.
    #[tokio::test]
    async fn a_deferred_transaction_whose_request_is_gone_is_still_committed() {
        let (_dir, writer, reader) = fresh().await;
        let first = inserting(&writer, 1).await;
        let (go, second) = held_second(&writer, 2, Ending::Rollback);
        until_waiting(&writer, 1).await;
        let first = tokio::spawn(first.commit());
        until_waiting(&writer, 0).await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        go.send(()).unwrap();
        second.await.unwrap().unwrap();
        // The first's row, committed by whoever finished the batch; the second's rolled back.
        for _ in 0..100 {
            if committed(&reader).await == vec![1] {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(committed(&reader).await, vec![1]);
        inserting(&writer, 3).await.commit().await.unwrap();
        assert_eq!(committed(&reader).await, vec![1, 3]);
    }

    /// A savepoint member that ends while another writer waits opens that writer's savepoint
    /// with its own release (in its commit's call, or in its last script's:
    /// [`super::super::last_write`]); the next takes it as its own: committed, it joins the
    /// batch's one COMMIT; rolled back, it undoes its own writes only.
    #[tokio::test]
    async fn the_next_transaction_takes_the_savepoint_opened_for_it() {
        let cases = [(true, false), (false, false), (true, true), (false, true)];
        for (commit_third, last_script_second) in cases {
            let (_dir, writer, reader) = fresh().await;
            let batches_before = writer.held.lock().await.batch;
            let first = inserting(&writer, 1).await;
            // The second and the third wait for the turn, in that order, before the first ends.
            let second_ends = if last_script_second {
                Ending::LastScript
            } else {
                Ending::Commit
            };
            let (go_second, second) = held_second(&writer, 2, second_ends);
            until_waiting(&writer, 1).await;
            let third_ends = if commit_third {
                Ending::Commit
            } else {
                Ending::Rollback
            };
            let (go_third, third) = held_second(&writer, 3, third_ends);
            until_waiting(&writer, 2).await;
            let first = tokio::spawn(first.commit());
            // The second holds the turn (a savepoint of the first's batch) until told to end.
            until_waiting(&writer, 1).await;
            go_second.send(()).unwrap();
            // The third takes the turn, in the savepoint the second's commit opened for it (its
            // rollback rolls back to that savepoint: were there none, the batch would be lost).
            until_waiting(&writer, 0).await;
            go_third.send(()).unwrap();
            third.await.unwrap().unwrap();
            second.await.unwrap().unwrap();
            first.await.unwrap().unwrap();
            let expected: Vec<i64> = if commit_third {
                vec![1, 2, 3]
            } else {
                vec![1, 2]
            };
            assert_eq!(
                committed(&reader).await,
                expected,
                "third committed: {commit_third}, second's last script: {last_script_second}"
            );
            {
                let held = writer.held.lock().await;
                assert_eq!(held.batch, batches_before + 1, "one COMMIT");
                assert!(!held.batch_open && !held.savepoint_ready);
            }
            // The writer goes on: the next transaction begins its own batch.
            inserting(&writer, 4).await.commit().await.unwrap();
            assert_eq!(committed(&reader).await.last(), Some(&4));
        }
    }

    /// A batch carries at most MAX_BATCH transactions, and every one of them is committed.
    #[tokio::test]
    async fn many_parallel_writers_are_all_committed_in_few_batches() {
        let (_dir, writer, reader) = fresh().await;
        let batches_before = writer.held.lock().await.batch;
        let writers = (1..=40).map(|x| {
            let w = writer.clone();
            tokio::spawn(async move {
                let tx = inserting(&w, x).await;
                tokio::task::yield_now().await;
                tx.commit().await
            })
        });
        for w in writers.collect::<Vec<_>>() {
            w.await.unwrap().unwrap();
        }
        assert_eq!(committed(&reader).await, (1..=40).collect::<Vec<i64>>());
        let batches = writer.held.lock().await.batch - batches_before;
        assert!(
            (40 / MAX_BATCH as u64..40).contains(&batches),
            "{batches} COMMITs for 40 parallel transactions"
        );
    }

    #[tokio::test]
    async fn a_dropped_transaction_is_rolled_back_and_releases_the_write_lock() {
        let (_dir, writer, other) = fresh().await;

        // Dropped, then the next transaction begins at once: it sees none of the dropped writes.
        let mut tx = writer.begin().await.unwrap();
        tx.execute("INSERT INTO t VALUES (1)").await.unwrap();
        drop(tx);
        let mut tx = writer.begin().await.unwrap();
        assert_eq!(count(&mut tx).await, 0);
        tx.execute("INSERT INTO t VALUES (2)").await.unwrap();
        tx.commit().await.unwrap();

        // Dropped with no writer waiting here: another connection (a replica, the CLI) gets the
        // write lock, so the rollback ran without a next transaction to run it.
        let mut tx = writer.begin().await.unwrap();
        tx.execute("INSERT INTO t VALUES (3)").await.unwrap();
        drop(tx);
        let mut theirs = tokio::time::timeout(std::time::Duration::from_secs(3), other.begin())
            .await
            .expect("the write lock was released")
            .unwrap();
        assert_eq!(count(&mut theirs).await, 1);
        theirs.execute("INSERT INTO t VALUES (4)").await.unwrap();
        theirs.rollback().await.unwrap();
        let mut next = other.begin().await.unwrap();
        assert_eq!(
            count(&mut next).await,
            1,
            "a rolled-back first transaction left nothing"
        );
        next.rollback().await.unwrap();

        // Closed: waits for nothing in flight, then refuses.
        writer.close().await;
        assert!(writer.begin().await.is_err());
    }

    /// The temp files SQLite has open in this process: it unlinks them as soon as it opens them,
    /// so they show only among the process's open files, as `…/etilqs_… (deleted)`.
    fn sqlite_temp_files_open() -> Vec<String> {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .map(|target| target.to_string_lossy().into_owned())
            .filter(|target| target.contains("etilqs_"))
            .collect()
    }

    /// A batch member is a savepoint, whose sub-journal holds the pages it changes that the
    /// batch had already changed. SQLite's default spills it to a temp file past 64 KiB (a
    /// file opened, written and unlinked for a third of the creates under parallel load); the
    /// bundled SQLite keeps it in memory up to 4 MiB (`.cargo/config.toml`).
    #[tokio::test]
    async fn a_batch_members_sub_journal_stays_in_memory() {
        let (_dir, writer, reader) = fresh().await;
        let batches_before = writer.held.lock().await.batch;
        // About 40 pages of `t`, which the second transaction then changes again: 160 KB of
        // sub-journal.
        let mut first = writer.begin().await.unwrap();
        first
            .execute(
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000) \
                 INSERT INTO t SELECT x FROM n",
            )
            .await
            .unwrap();
        let second = {
            let writer = writer.clone();
            tokio::spawn(async move {
                let mut tx = writer.begin().await.unwrap();
                tx.execute("UPDATE t SET x = x + 1").await.unwrap();
                let open = sqlite_temp_files_open();
                tx.commit().await.unwrap();
                open
            })
        };
        until_waiting(&writer, 1).await;
        let first = tokio::spawn(first.commit());
        let open = second.await.unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(
            writer.held.lock().await.batch,
            batches_before + 1,
            "the two transactions were one batch, the second a savepoint"
        );
        assert!(open.is_empty(), "the sub-journal went to {open:?}");
        let values = committed(&reader).await;
        assert_eq!(values.len(), 20_000);
        assert_eq!((values[0], values[19_999]), (2, 20_001));
    }

    /// The writer leaves up to [`WAL_PAGES_BEFORE_CHECKPOINT`] pages in the WAL: three commits
    /// of about 1,500 pages each are all still in it. (With SQLite's default of 1,000, the
    /// first commit's pages are copied back at once and each commit after starts the WAL over:
    /// it stays at one commit's size, about 6 MB.)
    #[tokio::test]
    async fn the_wal_holds_many_commits_before_a_checkpoint() {
        let (dir, writer, _reader) = fresh().await;
        for _ in 0..3 {
            let mut tx = writer.begin().await.unwrap();
            tx.execute(
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1500) \
                 INSERT INTO t SELECT randomblob(3500) FROM n",
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
        let wal = std::fs::metadata(dir.path().join("w.db-wal"))
            .unwrap()
            .len();
        assert!(
            wal > 4_000 * 4_096,
            "the WAL holds {wal} bytes: it was checkpointed and started over"
        );
    }
}
