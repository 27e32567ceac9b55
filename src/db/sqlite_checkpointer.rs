//! Copies SQLite's write-ahead log back into the database file beside the writes, so that no
//! write waits while it is copied (issue #13). SQLite's own way is a checkpoint run by the commit
//! that grows the log past its limit, in the writer's turn: with the limit at
//! [`super::sqlite_writer::WAL_PAGES_BEFORE_CHECKPOINT`] that commit held every write queued behind it for 60–210 ms
//! (the slowest create, PATCH and group DELETE of a benchmark phase, its p99 in a short one).
//!
//! Here the log's layer ([`super::wal_vfs`]) tells this task how far each commit reached. When
//! the log has grown past the limit, the task copies it on a connection of its own while the
//! writes go on (a `PASSIVE` checkpoint: it waits for no reader and no writer), then takes the
//! writer's turn for the few frames committed meanwhile ([`SqliteWriter::checkpoint_in_turn`]),
//! so that the log is copied whole and the next write starts it over from its head. The writer
//! keeps a checkpoint of its own at [`WRITER_LIMIT_FACTOR`] times the limit, for a log this task
//! cannot keep copied whole (a reader holding an old snapshot for a long time).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, Row};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::sqlite_writer::SqliteWriter;
use super::wal_vfs::{self, LogWatch};
use crate::error::AppResult;

/// The writer's own checkpoint limit while this task copies the log: this many times the
/// task's.
pub const WRITER_LIMIT_FACTOR: u32 = 4;

/// The least time between two copies, so that a log that cannot be copied whole (a reader's old
/// snapshot keeps its last frames) is not copied again at every commit.
const PAUSE: Duration = Duration::from_millis(100);

/// The longest pause after copies that failed or left the log unfinished: the pause doubles
/// after each such copy, up to this, and is [`PAUSE`] again after a whole copy. So a reader
/// that holds an old snapshot for minutes, or a disk that refuses every write, costs the
/// writer's turn (and the log a warning) about once in this time, not ten times a second.
const LONGEST_PAUSE: Duration = Duration::from_millis(3_200);

/// The pause after a copy: [`PAUSE`] after a whole one, otherwise twice `before`, up to
/// [`LONGEST_PAUSE`].
fn pause_after(whole: bool, before: Duration) -> Duration {
    if whole {
        PAUSE
    } else {
        (before * 2).min(LONGEST_PAUSE)
    }
}

/// Frames left for the writer's turn to copy: the commits made during a copy beside the writes
/// are copied beside them again until they are no more than this.
const LEFT_FOR_THE_TURN: i64 = 256;

/// The most copies beside the writes before the rest is copied in the writer's turn (each
/// copies about half as many frames as the one before it under a writer that never pauses).
const ROUNDS_BESIDE: usize = 8;

/// A log frame's size for a page of `page_size` bytes: its 24-byte header and the page.
fn frame_bytes(page_size: u64) -> u64 {
    24 + page_size
}

/// How far into the log the commits have reached, and the nudge given when that passes the limit.
struct Growth {
    limit_bytes: u64,
    /// How far into the log the last commit reached.
    log_bytes: AtomicU64,
    /// A copy was asked for and has not finished: commits past the limit nudge no more.
    asked: AtomicBool,
    nudge: Notify,
    /// Copies that left the whole log in the database file.
    whole_copies: AtomicU64,
    /// Copies begun, whole or not.
    copies_begun: AtomicU64,
}

impl Growth {
    /// Nudges the task once the last commit has reached past the limit, unless a copy was asked
    /// for already.
    fn nudge_if_grown(&self) {
        if self.log_bytes.load(Ordering::Acquire) >= self.limit_bytes
            && !self.asked.load(Ordering::Acquire)
            && !self.asked.swap(true, Ordering::AcqRel)
        {
            self.nudge.notify_one();
        }
    }
}

impl LogWatch for Growth {
    fn committed(&self, log_bytes: u64) {
        self.log_bytes.store(log_bytes, Ordering::Release);
        self.nudge_if_grown();
    }
}

/// The task that copies the log, and how it is stopped.
pub struct SqliteCheckpointer {
    stop: Arc<Notify>,
    task: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    /// Kept alive here: the log's layer holds it weakly.
    growth: Arc<Growth>,
}

impl std::fmt::Debug for SqliteCheckpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteCheckpointer").finish_non_exhaustive()
    }
}

impl SqliteCheckpointer {
    /// Opens a connection with `options` to `url`'s database, watches its log, and leaves the
    /// writer's own checkpoints for a log [`WRITER_LIMIT_FACTOR`] times longer than
    /// `limit_pages`. `None` when the database is not opened through the log's layer (a `vfs=`
    /// of the operator's): then the writer checkpoints as SQLite does.
    pub async fn start(
        options: AnyPoolOptions,
        url: &str,
        writer: SqliteWriter,
        limit_pages: u32,
    ) -> AppResult<Option<Self>> {
        let through_layer =
            wal_vfs::register().is_some_and(|name| url.contains(&format!("vfs={name}")));
        if !through_layer {
            return Ok(None);
        }
        let mut conn = super::sqlite_connections(options, url, 1)
            .await?
            .pop()
            .ok_or_else(|| crate::error::AppError::Internal("no SQLite connection".into()))?;
        let row = sqlx::query(
            "SELECT (SELECT file FROM pragma_database_list WHERE name = 'main') AS file, \
             (SELECT page_size FROM pragma_page_size) AS page_size",
        )
        .fetch_one(&mut conn)
        .await?;
        let file: String = row.try_get("file")?;
        let page_size: i64 = row.try_get("page_size")?;
        let page_size = u64::try_from(page_size).unwrap_or(4096);
        let growth = Arc::new(Growth {
            limit_bytes: 32 + u64::from(limit_pages) * frame_bytes(page_size),
            log_bytes: AtomicU64::new(0),
            asked: AtomicBool::new(false),
            nudge: Notify::new(),
            whole_copies: AtomicU64::new(0),
            copies_begun: AtomicU64::new(0),
        });
        let watch: Arc<dyn LogWatch> = growth.clone();
        wal_vfs::watch_log(&format!("{file}-wal"), &watch);
        writer
            .set_own_checkpoint_limit(limit_pages.saturating_mul(WRITER_LIMIT_FACTOR))
            .await?;
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(copy_when_grown(conn, writer, growth.clone(), stop.clone()));
        Ok(Some(SqliteCheckpointer {
            stop,
            task: tokio::sync::Mutex::new(Some(task)),
            growth,
        }))
    }

    /// How many times the log was copied whole so far (each time, the next write starts it
    /// over).
    pub fn whole_copies(&self) -> u64 {
        self.growth.whole_copies.load(Ordering::Acquire)
    }

    /// How many copies were begun so far, whole or not.
    pub fn copies_begun(&self) -> u64 {
        self.growth.copies_begun.load(Ordering::Acquire)
    }

    /// Stops the task, after the copy in progress if any.
    pub async fn close(&self) {
        self.stop.notify_one();
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}

/// Copies the log each time `growth` says it has passed its limit, until `stop`.
async fn copy_when_grown(
    mut conn: AnyConnection,
    writer: SqliteWriter,
    growth: Arc<Growth>,
    stop: Arc<Notify>,
) {
    let mut pause = PAUSE;
    loop {
        tokio::select! {
            () = growth.nudge.notified() => {}
            () = stop.notified() => break,
        }
        growth.copies_begun.fetch_add(1, Ordering::AcqRel);
        let whole = copy_whole(&mut conn, &writer).await;
        if whole {
            growth.whole_copies.fetch_add(1, Ordering::AcqRel);
            // The log is empty now: its last commit's reach (from before the copy) would nudge
            // a needless copy after the pause, running into the next write, which starts the
            // log over. That write tells its own reach.
            growth.log_bytes.store(0, Ordering::Release);
        }
        pause = pause_after(whole, pause);
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = stop.notified() => break,
        }
        growth.asked.store(false, Ordering::Release);
        // Commits during the copy and the pause nudged nobody: one of them may have taken the
        // log past its limit again.
        growth.nudge_if_grown();
    }
    use sqlx::Connection;
    let _ = conn.close().await;
}

/// Copies the log while the writes go on, again for what they committed meanwhile, until that
/// is at most [`LEFT_FOR_THE_TURN`] frames (or [`ROUNDS_BESIDE`] copies), then the rest in the
/// writer's turn; true when the whole log is then in the database file. What stops it is logged
/// and left to the next time (or to the writer's own checkpoint).
async fn copy_whole(conn: &mut AnyConnection, writer: &SqliteWriter) -> bool {
    let mut copied_before = -1;
    for _ in 0..ROUNDS_BESIDE {
        match checkpoint(conn).await {
            Ok(beside) if beside.busy => return false,
            Ok(beside) => {
                // Done, or held back by a reader's snapshot: the turn adds nothing beside.
                if beside.log - beside.copied <= LEFT_FOR_THE_TURN || beside.copied == copied_before
                {
                    break;
                }
                copied_before = beside.copied;
            }
            Err(e) => {
                tracing::warn!(error = %e, "copying the write-ahead log beside the writes failed");
                return false;
            }
        }
    }
    match writer.checkpoint_in_turn().await {
        Ok(last) => last.whole(),
        Err(e) => {
            tracing::warn!(error = %e, "copying the write-ahead log's last frames failed");
            false
        }
    }
}

/// What a `PRAGMA wal_checkpoint` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpointed {
    /// It could not run (another checkpoint was running), or not to the end.
    pub busy: bool,
    /// Frames in the log (-1 when it did not run).
    pub log: i64,
    /// Frames of the log now in the database file.
    pub copied: i64,
}

impl Checkpointed {
    /// A checkpoint that did not run.
    pub const NOT_RUN: Checkpointed = Checkpointed {
        busy: true,
        log: -1,
        copied: -1,
    };

    /// The whole log is in the database file: the next write can start it over.
    pub fn whole(&self) -> bool {
        !self.busy && self.log >= 0 && self.copied == self.log
    }
}

/// A `PASSIVE` checkpoint on `conn`.
pub(super) async fn checkpoint(conn: &mut AnyConnection) -> Result<Checkpointed, sqlx::Error> {
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(conn)
        .await?;
    Ok(Checkpointed {
        busy: row.try_get::<i64, _>(0)? != 0,
        log: row.try_get(1)?,
        copied: row.try_get(2)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log's limit in these tests, in pages.
    const LIMIT: u32 = 200;

    /// A writer and a checkpointer on a fresh database file in `dir`, with table `t`.
    async fn fresh(dir: &std::path::Path) -> (SqliteWriter, SqliteCheckpointer, String) {
        sqlx::any::install_default_drivers();
        let url = super::super::sqlite_file_url(&format!("sqlite://{}/t.db", dir.display()));
        let writer = SqliteWriter::connect(options(), &url).await.unwrap();
        let mut tx = writer.begin().await.unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let checkpointer = SqliteCheckpointer::start(options(), &url, writer.clone(), LIMIT)
            .await
            .unwrap()
            .expect("the database is opened through the log's layer");
        (writer, checkpointer, url)
    }

    fn options() -> AnyPoolOptions {
        super::super::sqlite_options(AnyPoolOptions::new())
    }

    async fn connection(url: &str) -> AnyConnection {
        let mut opened = super::super::sqlite_connections(options(), url, 1)
            .await
            .unwrap();
        opened.pop().unwrap()
    }

    /// Rows `ids`, each on a page of its own, in one write transaction.
    async fn insert(writer: &SqliteWriter, ids: std::ops::Range<i64>) {
        let mut tx = writer.begin().await.unwrap();
        for id in ids {
            sqlx::query("INSERT INTO t (id, body) VALUES ($1, $2)")
                .bind(id)
                .bind("x".repeat(3000))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// Rows in `t`, read in a write transaction (all that is committed).
    async fn rows(writer: &SqliteWriter) -> i64 {
        let mut tx = writer.begin().await.unwrap();
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap()
            .get(0);
        tx.commit().await.unwrap();
        n
    }

    /// The log file's length (SQLite reuses the file from its head when it starts the log over,
    /// so this is the longest the log has been).
    fn log_file_len(dir: &std::path::Path) -> u64 {
        std::fs::metadata(dir.join("t.db-wal")).map_or(0, |m| m.len())
    }

    /// Waits (at most 10 s) until the checkpointer has copied the log whole more than `copies`
    /// times.
    async fn until_copied(checkpointer: &SqliteCheckpointer, copies: u64) {
        for _ in 0..1000 {
            if checkpointer.whole_copies() > copies {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the log was not copied whole within 10 s");
    }

    /// Written to fifteen times its limit, with gaps between the writes as a sync's requests
    /// leave, the log is copied back and started over by the checkpointer each time it passes
    /// the limit: it never grows near the writer's own limit, four times larger, and every row
    /// is in the database file.
    #[tokio::test]
    async fn the_log_is_copied_back_and_started_over_beside_the_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, checkpointer, url) = fresh(dir.path()).await;
        // 3,000 pages in commits of 20, a gap after every 220 pages.
        for block in 0..15 {
            let copies = checkpointer.whole_copies();
            for round in 0..11 {
                let first = (block * 11 + round) * 20;
                insert(&writer, first..first + 20).await;
            }
            until_copied(&checkpointer, copies).await;
        }
        // Each block's 220 pages are copied before the next: the log reaches about 1.1 times
        // its limit, once in a while (a starved machine: a copy's locks meet the write that
        // would start the log over, which then goes on) about 2.3 times. The writer's own
        // checkpoint alone would let it reach 4 times.
        let limit_bytes = u64::from(LIMIT) * frame_bytes(4096);
        let longest = log_file_len(dir.path());
        assert!(
            longest < 3 * limit_bytes,
            "the log grew to {longest} bytes, three times its limit ({limit_bytes})"
        );
        assert_eq!(rows(&writer).await, 15 * 11 * 20);
        checkpointer.close().await;
        writer.close().await;
        // A connection of its own reads every row from the database file alone.
        assert_eq!(log_file_len(dir.path()), 0);
        let mut fresh = connection(&url).await;
        let row = sqlx::query("SELECT COUNT(*), SUM(length(body)) FROM t")
            .fetch_one(&mut fresh)
            .await
            .unwrap();
        assert_eq!(row.get::<i64, _>(0), 15 * 11 * 20);
        assert_eq!(row.get::<i64, _>(1), 15 * 11 * 20 * 3000);
        let check: String = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&mut fresh)
            .await
            .unwrap()
            .get(0);
        assert_eq!(check, "ok");
    }

    #[test]
    fn the_pause_doubles_after_each_unfinished_copy_up_to_its_longest_and_starts_over_after_a_whole_one(
    ) {
        let mut pause = PAUSE;
        let mut pauses = Vec::new();
        for _ in 0..7 {
            pause = pause_after(false, pause);
            pauses.push(pause.as_millis());
        }
        assert_eq!(pauses, [200, 400, 800, 1_600, 3_200, 3_200, 3_200]);
        assert_eq!(pause_after(true, pause), PAUSE);
    }

    /// A reader that keeps an old snapshot open keeps the log from being copied whole: the rows
    /// it reads stay as they were and the writes go on. Once it ends, the log is copied whole
    /// without waiting for another write, and started over: it grows no longer.
    #[tokio::test]
    async fn a_reader_holding_an_old_snapshot_loses_nothing_and_the_log_catches_up() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, checkpointer, url) = fresh(dir.path()).await;
        insert(&writer, 0..20).await;
        let mut reader = connection(&url).await;
        let mut snapshot = super::super::read_at_one_moment(&mut reader).await.unwrap();
        let count = "SELECT COUNT(*) FROM t";
        let seen: i64 = sqlx::query(count)
            .fetch_one(&mut *snapshot)
            .await
            .unwrap()
            .get(0);
        assert_eq!(seen, 20);
        // 400 pages, twice the limit (and half the writer's own): never copied whole meanwhile.
        for round in 1..21 {
            insert(&writer, round * 20..round * 20 + 20).await;
        }
        // Each copy meanwhile takes the writer's turn and leaves the log unfinished: they come
        // further and further apart (0.2, 0.4, 0.8 s ...), where one every 0.1 s would be 16.
        tokio::time::sleep(Duration::from_millis(1_600)).await;
        assert_eq!(checkpointer.whole_copies(), 0);
        let begun = checkpointer.copies_begun();
        assert!(
            (1..=6).contains(&begun),
            "{begun} copies begun in 1.6 s while a reader held the log"
        );
        let still: i64 = sqlx::query(count)
            .fetch_one(&mut *snapshot)
            .await
            .unwrap()
            .get(0);
        assert_eq!(still, 20, "the old snapshot reads as it was");
        snapshot.rollback().await.unwrap();
        {
            use sqlx::Connection;
            reader.close().await.unwrap();
        }
        until_copied(&checkpointer, 0).await;
        let grown = log_file_len(dir.path());
        for block in 0..3 {
            let copies = checkpointer.whole_copies();
            for round in 0..11 {
                let first = 1000 + (block * 11 + round) * 20;
                insert(&writer, first..first + 20).await;
            }
            until_copied(&checkpointer, copies).await;
        }
        assert_eq!(rows(&writer).await, 21 * 20 + 3 * 11 * 20);
        // Started over, the log reaches no further than before: 3 × 220 pages more if it were
        // not (a write that meets a copy's locks may go on past it once, less than a block).
        let block_bytes = 11 * 20 * frame_bytes(4096);
        let now = log_file_len(dir.path());
        assert!(
            now < grown + block_bytes,
            "the log grew on after the reader ended, from {grown} to {now} bytes: it was not started over"
        );
        checkpointer.close().await;
        writer.close().await;
    }
}
