//! SQLite's own file layer with one change: a transaction's WAL frames reach the file together
//! at its commit, in one `pwrite` per 124 KiB and one for the commit's own page, not two per page
//! (issue #13). SQLite writes each frame as its 24-byte header and then its page, a call each; a
//! group DELETE writes about 45 frames, and a call costs the kernel more than the 4 KiB it copies.
//!
//! The write-ahead log is wrapped, and every other file's calls (the main database file's, a
//! sub-journal's, a temporary file's) pass through to its `unix` file, some after a flush (below),
//! and a write longer than the `unix` file takes at once in pieces. Writes to the log that follow
//! each other are gathered in memory and written when:
//! - a commit frame's header comes (one whose "database size after commit" is not zero): it and
//!   all gathered before it are written before the write returns, and so is the page that
//!   follows it. A commit frame's header is not always followed by its page: when a transaction
//!   wrote a page again after SQLite had spilled it, SQLite rewrites the checksums of its frames
//!   after the commit frame, the commit frame's header last. Either way the commit's frames are
//!   in the file before SQLite publishes the commit in the shared wal-index (it does that after
//!   writing them), so no other connection reads a frame that is not there, and an error
//!   reaches SQLite as the commit's;
//! - a write is not contiguous with what is gathered, or the gathered bytes reach [`GATHER_MAX`];
//! - any other call on the log (read, size, sync, truncate, lock, close, file control) comes:
//!   the frames a large transaction spills before its commit are read back by its own
//!   connection through this file, and find them written;
//! - the main database file (wrapped too, its calls passed to the `unix` file it is) locks or
//!   unlocks part of the wal-index, or publishes a commit in it (its barrier): so a transaction
//!   that spilled frames and rolled back has them written, past the end of the log, before its
//!   write lock lets another writer append there. The file finds its connection's log through
//!   the thread both are called on.
//!
//! A crash loses only gathered frames, which belong to a transaction that had not committed:
//! the same as a crash before SQLite wrote them.
//!
//! The layer also tells whoever watches a log ([`watch_log`]) how far into it each commit
//! reached, so that the log is copied back into the database file when it has grown, by a
//! connection other than the one writing (`db::sqlite_checkpointer`).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use libsqlite3_sys::{
    sqlite3_file, sqlite3_int64, sqlite3_io_methods, sqlite3_vfs, sqlite3_vfs_find,
    sqlite3_vfs_register, SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_IOERR_WRITE, SQLITE_NOTFOUND,
    SQLITE_OK, SQLITE_OPEN_WAL,
};

/// The name connections ask for (`vfs=` in the SQLite URL).
pub const NAME: &CStr = c"roster-wal";

/// The most bytes gathered before they are written anyway (a transaction of more pages than this
/// is written in pieces of this size; its commit still ends with a write).
const GATHER_MAX: usize = 4 << 20;

/// The gathering buffer's capacity kept between transactions; a larger one (after a large
/// transaction) is given back.
const KEEP_CAPACITY: usize = 1 << 20;

/// The most one call to SQLite's `unix` file writes: its `seekAndWrite` keeps only the low 17
/// bits of a length (under 128 KiB), so what is gathered is written in pieces of this size.
const WRITE_MAX: usize = 0x1_f000;

/// A WAL frame's header is this long; every other write to the log is the log's 32-byte header
/// or a page.
const FRAME_HEADER: usize = 24;

/// Registers the layer (once per process) and answers its name for the connection URL; `None`
/// when SQLite has no default layer to build on (then connections use SQLite's own).
pub fn register() -> Option<&'static str> {
    static REGISTERED: OnceLock<Option<&'static str>> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // SAFETY: `sqlite3_vfs_find(NULL)` answers SQLite's default layer (`unix`), a static of
        // SQLite's that lives as long as the process. The copy made of it is leaked, so it too
        // lives as long as the process, as `sqlite3_vfs_register` requires.
        let registered = unsafe {
            let base = sqlite3_vfs_find(ptr::null());
            if base.is_null() {
                None
            } else {
                let mut vfs: sqlite3_vfs = *base;
                vfs.pNext = ptr::null_mut();
                vfs.zName = NAME.as_ptr();
                vfs.szOsFile = (*base).szOsFile.saturating_add(REAL_OFFSET as c_int);
                vfs.xOpen = Some(open);
                let _ = BASE.set(BaseVfs(base));
                let vfs = Box::leak(Box::new(vfs));
                (sqlite3_vfs_register(vfs, 0) == SQLITE_OK).then_some(())
            }
        };
        if registered.is_none() {
            tracing::warn!(
                "SQLite's WAL-gathering file layer could not be registered; SQLite's own is used"
            );
        }
        registered.and_then(|()| NAME.to_str().ok())
    })
}

/// SQLite's default layer, which does the work.
struct BaseVfs(*mut sqlite3_vfs);
// SAFETY: a pointer to SQLite's static, thread-safe `unix` layer, never written through here.
unsafe impl Send for BaseVfs {}
unsafe impl Sync for BaseVfs {}

static BASE: OnceLock<BaseVfs> = OnceLock::new();

fn base() -> *mut sqlite3_vfs {
    BASE.get().map_or(ptr::null_mut(), |b| b.0)
}

/// Calls method `$m` of the `unix` methods `$methods` on `$file`; `$none` if they have none
/// (SQLite's `unix` files have them all).
macro_rules! forward {
    ($methods:expr, $file:expr, $m:ident ( $($arg:expr),* ), $none:expr) => {{
        let file = $file;
        match (*$methods).$m {
            Some(method) => method(file, $($arg),*),
            None => $none,
        }
    }};
}

/// Calls method `$m` of a log's wrapped `unix` file; an error if it has none.
macro_rules! call {
    ($file:expr, $m:ident ( $($arg:expr),* )) => {{
        let real = real($file);
        forward!((*real).pMethods, real, $m($($arg),*), SQLITE_IOERR)
    }};
}

/// A write-ahead log as this layer keeps it: SQLite's file follows at [`REAL_OFFSET`].
#[repr(C)]
struct WalFile {
    /// What SQLite sees: `pMethods` is [`WAL_METHODS`].
    file: sqlite3_file,
    /// Owned: made in [`open`], dropped in [`close`].
    gathered: *mut Gathered,
}

/// Where the wrapped file starts in the memory SQLite gives a file (aligned for any field).
const REAL_OFFSET: usize = std::mem::size_of::<WalFile>().next_multiple_of(16);

/// Bytes written to the log and not yet to its file.
#[derive(Default)]
struct Gathered {
    bytes: Vec<u8>,
    /// The file offset of `bytes[0]`.
    start: i64,
    /// The last write was a commit frame's header: the next, its page, is written at once.
    commit_page_next: bool,
    /// This log among all opened in the process (a closed log's memory may hold the next one).
    id: u64,
    /// The log's path as SQLite names it: by it the tests count its writes, and its watch is
    /// found.
    path: Option<String>,
    /// The log's watches as last looked up, and the [`WATCHES_CHANGED`] count they were looked
    /// up at.
    watch: (u64, Vec<Weak<dyn LogWatch>>),
}

/// Told how long a log is after each commit written to it.
pub trait LogWatch: Send + Sync {
    /// A commit's last frame reaches `log_bytes` into the log: told as its header is written,
    /// past the header (its page, one page more, follows). The log starts over from its head
    /// once it has all been copied back into the database file, so this can go down.
    fn committed(&self, log_bytes: u64);
}

/// The logs watched, by path (a log can have several: two databases of one process on one file);
/// a watch dropped is forgotten.
static WATCHES: Mutex<Vec<(String, Weak<dyn LogWatch>)>> = Mutex::new(Vec::new());

/// How many times [`WATCHES`] changed: a log looks its watch up again when this moved.
static WATCHES_CHANGED: AtomicU64 = AtomicU64::new(1);

fn watches() -> std::sync::MutexGuard<'static, Vec<(String, Weak<dyn LogWatch>)>> {
    WATCHES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Tells `watch` how far each commit to the log at `wal_path` (the database file's path as
/// SQLite names it, `PRAGMA database_list`, and `-wal`) reaches, from any connection of this
/// process, for as long as `watch` lives.
pub fn watch_log(wal_path: &str, watch: &Arc<dyn LogWatch>) {
    let mut watches = watches();
    watches.retain(|(_, w)| w.strong_count() > 0);
    watches.push((wal_path.to_string(), Arc::downgrade(watch)));
    WATCHES_CHANGED.fetch_add(1, Ordering::AcqRel);
}

/// Tells the log's watches, if any, that a commit reached `log_bytes` into it.
fn report_commit(gathered: &mut Gathered, log_bytes: u64) {
    let changed = WATCHES_CHANGED.load(Ordering::Acquire);
    if gathered.watch.0 != changed {
        let found = match gathered.path.as_deref() {
            Some(path) => watches()
                .iter()
                .filter(|(p, w)| p == path && w.strong_count() > 0)
                .map(|(_, w)| w.clone())
                .collect(),
            None => Vec::new(),
        };
        gathered.watch = (changed, found);
    }
    for watch in gathered.watch.1.iter().filter_map(Weak::upgrade) {
        watch.committed(log_bytes);
    }
}

/// The `unix` file inside `file` (a [`WalFile`]).
unsafe fn real(file: *mut sqlite3_file) -> *mut sqlite3_file {
    file.cast::<u8>().add(REAL_OFFSET).cast()
}

unsafe fn gathered<'a>(file: *mut sqlite3_file) -> &'a mut Gathered {
    &mut *(*file.cast::<WalFile>()).gathered
}

/// Writes what is gathered (in as few calls as [`WRITE_MAX`] allows) and empties the buffer,
/// whatever the outcome: after an error SQLite rolls the transaction back and writes its frames
/// again.
unsafe fn flush(file: *mut sqlite3_file) -> c_int {
    let gathered = gathered(file);
    let real = real(file);
    let rc = write_in_pieces((*real).pMethods, real, &gathered.bytes, gathered.start);
    #[cfg(test)]
    for _ in gathered.bytes.chunks(WRITE_MAX) {
        tests::count_write(gathered.path.as_deref(), tests::Side::Made);
    }
    gathered.bytes.clear();
    if gathered.bytes.capacity() > KEEP_CAPACITY {
        gathered.bytes.shrink_to(KEEP_CAPACITY);
    }
    PENDING.with(|pending| {
        if pending.get().0 == file {
            pending.set(NONE_PENDING);
        }
    });
    rc
}

/// Writes `bytes` at `offset` of `file` with its `methods`' `xWrite`, [`WRITE_MAX`] at most a
/// call; the first error ends it.
unsafe fn write_in_pieces(
    methods: *const sqlite3_io_methods,
    file: *mut sqlite3_file,
    bytes: &[u8],
    mut offset: i64,
) -> c_int {
    let Some(write) = (*methods).xWrite else {
        return SQLITE_IOERR_WRITE;
    };
    for piece in bytes.chunks(WRITE_MAX) {
        // `WRITE_MAX` fits a `c_int`.
        let rc = write(file, piece.as_ptr().cast(), piece.len() as c_int, offset);
        if rc != SQLITE_OK {
            return rc;
        }
        offset += piece.len() as i64;
    }
    SQLITE_OK
}

thread_local! {
    /// The log on this thread with bytes gathered and not written, and its id (null when none).
    /// SQLite makes a connection's calls on the thread that calls it, and sqlx calls each
    /// connection from a thread of its own for its whole life, so the database file's calls
    /// below find their connection's log here.
    static PENDING: Cell<(*mut sqlite3_file, u64)> = const { Cell::new(NONE_PENDING) };
}

const NONE_PENDING: (*mut sqlite3_file, u64) = (ptr::null_mut(), 0);

/// The logs open now, by address, with their ids: [`flush_pending`] writes to none that was
/// closed, nor to another log opened since in the same memory.
static OPEN_LOGS: Mutex<BTreeMap<usize, u64>> = Mutex::new(BTreeMap::new());

/// The id the next log opened gets.
static NEXT_LOG_ID: AtomicU64 = AtomicU64::new(1);

fn open_logs() -> std::sync::MutexGuard<'static, BTreeMap<usize, u64>> {
    OPEN_LOGS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes what this thread's log has gathered. Called before the database file changes a lock
/// of the wal-index or publishes a commit in it: a transaction's frames, spilled ones too, are in
/// the file before its end lets another writer in or lets a reader see them.
fn flush_pending() {
    let (file, id) = PENDING.with(|pending| pending.replace(NONE_PENDING));
    if file.is_null() || open_logs().get(&(file as usize)) != Some(&id) {
        return;
    }
    // SAFETY: the log is open (in `OPEN_LOGS`, left only in `close`), and its calls are this
    // thread's.
    let rc = unsafe { flush(file) };
    if rc != SQLITE_OK {
        tracing::error!(code = rc, "writing gathered WAL frames failed");
    }
}

/// `xOpen`: the log is wrapped, every other file is the default layer's own.
unsafe extern "C" fn open(
    _vfs: *mut sqlite3_vfs,
    name: *const c_char,
    file: *mut sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let base = base();
    let Some(base_open) = base.as_ref().and_then(|b| b.xOpen) else {
        return SQLITE_CANTOPEN;
    };
    if flags & SQLITE_OPEN_WAL == 0 {
        let rc = base_open(base, name, file, flags, out_flags);
        if rc == SQLITE_OK && !(*file).pMethods.is_null() {
            *unix_methods_slot(file) = (*file).pMethods;
            (*file).pMethods = &PASSED_METHODS;
        }
        return rc;
    }
    let wal = file.cast::<WalFile>();
    (*wal).file.pMethods = ptr::null();
    let rc = base_open(base, name, real(file), flags, out_flags);
    if rc != SQLITE_OK {
        return rc;
    }
    let id = NEXT_LOG_ID.fetch_add(1, Ordering::Relaxed);
    let gathered = Gathered {
        id,
        path: (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned()),
        ..Gathered::default()
    };
    (*wal).gathered = Box::into_raw(Box::new(gathered));
    open_logs().insert(file as usize, id);
    (*wal).file.pMethods = &WAL_METHODS;
    SQLITE_OK
}

static WAL_METHODS: sqlite3_io_methods = sqlite3_io_methods {
    iVersion: 1,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: None,
    xShmLock: None,
    xShmBarrier: None,
    xShmUnmap: None,
    xFetch: None,
    xUnfetch: None,
};

unsafe extern "C" fn write(
    file: *mut sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: sqlite3_int64,
) -> c_int {
    let Some(bytes) = asked(data, amount) else {
        return SQLITE_IOERR_WRITE;
    };
    let gathered = gathered(file);
    #[cfg(test)]
    tests::count_write(gathered.path.as_deref(), tests::Side::Asked);
    let end = gathered.start + gathered.bytes.len() as i64;
    if !gathered.bytes.is_empty() && offset != end {
        let rc = flush(file);
        if rc != SQLITE_OK {
            return rc;
        }
    }
    let gathered = self::gathered(file);
    if gathered.bytes.is_empty() {
        gathered.start = offset;
    }
    gathered.bytes.extend_from_slice(bytes);
    let ends_commit = if bytes.len() == FRAME_HEADER {
        // Bytes 4..8 of a frame's header: the database's size in pages after a commit, else 0.
        let commit = bytes[4..8] != [0, 0, 0, 0];
        gathered.commit_page_next = commit;
        if commit {
            let frame_start = u64::try_from(offset).unwrap_or(0);
            report_commit(gathered, frame_start + FRAME_HEADER as u64);
        }
        commit
    } else {
        std::mem::take(&mut gathered.commit_page_next)
    };
    if ends_commit || gathered.bytes.len() >= GATHER_MAX {
        return flush(file);
    }
    let this = (file, gathered.id);
    PENDING.with(|pending| {
        let other = pending.replace(this);
        if !other.0.is_null() && other != this {
            pending.set(other);
            flush_pending();
            pending.set(this);
        }
    });
    SQLITE_OK
}

unsafe extern "C" fn close(file: *mut sqlite3_file) -> c_int {
    let flushed = flush(file);
    open_logs().remove(&(file as usize));
    let closed = call!(file, xClose());
    let wal = file.cast::<WalFile>();
    drop(Box::from_raw((*wal).gathered));
    (*wal).gathered = ptr::null_mut();
    if flushed != SQLITE_OK {
        flushed
    } else {
        closed
    }
}

/// Writes what is gathered, then passes the call to the wrapped file.
macro_rules! after_flush {
    ($name:ident, $method:ident ( $($arg:ident : $ty:ty),* )) => {
        unsafe extern "C" fn $name(file: *mut sqlite3_file, $($arg: $ty),*) -> c_int {
            let rc = flush(file);
            if rc != SQLITE_OK {
                return rc;
            }
            call!(file, $method($($arg),*))
        }
    };
}

after_flush!(read, xRead(data: *mut c_void, amount: c_int, offset: sqlite3_int64));
after_flush!(truncate, xTruncate(size: sqlite3_int64));
after_flush!(sync, xSync(flags: c_int));
after_flush!(file_size, xFileSize(size: *mut sqlite3_int64));
after_flush!(lock, xLock(level: c_int));
after_flush!(unlock, xUnlock(level: c_int));
after_flush!(check_reserved_lock, xCheckReservedLock(out: *mut c_int));
after_flush!(file_control, xFileControl(op: c_int, arg: *mut c_void));

unsafe extern "C" fn sector_size(file: *mut sqlite3_file) -> c_int {
    let real = real(file);
    forward!((*real).pMethods, real, xSectorSize(), 4096)
}

unsafe extern "C" fn device_characteristics(file: *mut sqlite3_file) -> c_int {
    let real = real(file);
    forward!((*real).pMethods, real, xDeviceCharacteristics(), 0)
}

/// Where a file other than a log keeps the methods SQLite's `unix` layer gave it: the `unix` file
/// starts where SQLite's memory does, and this slot follows it (SQLite gives every file
/// [`REAL_OFFSET`] bytes more than the `unix` layer asks).
unsafe fn unix_methods_slot(file: *mut sqlite3_file) -> *mut *const sqlite3_io_methods {
    let unix_size = usize::try_from((*base()).szOsFile).unwrap_or(0);
    file.cast::<u8>().add(unix_size.next_multiple_of(8)).cast()
}

/// The methods of every file but a log (the main database file, sub-journals, temporary files):
/// the `unix` layer's; the wal-index's locks and barrier (and the file's close) after
/// [`flush_pending`]; a write in pieces of at most [`WRITE_MAX`] ([`passed_write`]).
static PASSED_METHODS: sqlite3_io_methods = sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(passed_close),
    xRead: Some(passed_read),
    xWrite: Some(passed_write),
    xTruncate: Some(passed_truncate),
    xSync: Some(passed_sync),
    xFileSize: Some(passed_file_size),
    xLock: Some(passed_lock),
    xUnlock: Some(passed_unlock),
    xCheckReservedLock: Some(passed_check_reserved_lock),
    xFileControl: Some(passed_file_control),
    xSectorSize: Some(passed_sector_size),
    xDeviceCharacteristics: Some(passed_device_characteristics),
    xShmMap: Some(passed_shm_map),
    xShmLock: Some(passed_shm_lock),
    xShmBarrier: Some(passed_shm_barrier),
    xShmUnmap: Some(passed_shm_unmap),
    xFetch: Some(passed_fetch),
    xUnfetch: Some(passed_unfetch),
};

/// Passes a call on a file other than a log to the `unix` layer, after [`flush_pending`] when
/// `flush`.
macro_rules! passed_method {
    ($name:ident, $m:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty, $none:expr, $flush:expr) => {
        unsafe extern "C" fn $name(file: *mut sqlite3_file, $($arg: $ty),*) -> $ret {
            if $flush {
                flush_pending();
            }
            forward!(*unix_methods_slot(file), file, $m($($arg),*), $none)
        }
    };
}

passed_method!(passed_close, xClose() -> c_int, SQLITE_IOERR, true);
passed_method!(passed_read, xRead(data: *mut c_void, amount: c_int, offset: sqlite3_int64) -> c_int, SQLITE_IOERR, false);
passed_method!(passed_truncate, xTruncate(size: sqlite3_int64) -> c_int, SQLITE_IOERR, false);
passed_method!(passed_sync, xSync(flags: c_int) -> c_int, SQLITE_IOERR, false);
passed_method!(passed_file_size, xFileSize(size: *mut sqlite3_int64) -> c_int, SQLITE_IOERR, false);
passed_method!(passed_lock, xLock(level: c_int) -> c_int, SQLITE_IOERR, false);
passed_method!(passed_unlock, xUnlock(level: c_int) -> c_int, SQLITE_IOERR, false);
passed_method!(passed_check_reserved_lock, xCheckReservedLock(out: *mut c_int) -> c_int, SQLITE_IOERR, false);
passed_method!(passed_file_control, xFileControl(op: c_int, arg: *mut c_void) -> c_int, SQLITE_NOTFOUND, false);
passed_method!(passed_sector_size, xSectorSize() -> c_int, 4096, false);
passed_method!(passed_device_characteristics, xDeviceCharacteristics() -> c_int, 0, false);
passed_method!(passed_shm_map, xShmMap(region: c_int, size: c_int, extend: c_int, out: *mut *mut c_void) -> c_int, SQLITE_IOERR, false);
passed_method!(passed_shm_lock, xShmLock(offset: c_int, n: c_int, flags: c_int) -> c_int, SQLITE_IOERR, true);
passed_method!(passed_shm_unmap, xShmUnmap(delete: c_int) -> c_int, SQLITE_OK, true);
passed_method!(passed_fetch, xFetch(offset: sqlite3_int64, amount: c_int, out: *mut *mut c_void) -> c_int, { *out = ptr::null_mut(); SQLITE_OK }, false);
passed_method!(passed_unfetch, xUnfetch(offset: sqlite3_int64, page: *mut c_void) -> c_int, SQLITE_OK, false);

/// `xWrite` in pieces of at most [`WRITE_MAX`]. SQLite writes a sub-journal it kept in memory to
/// a file once it outgrows `SQLITE_STMTJRNL_SPILL` (4 MiB, `.cargo/config.toml`), the first
/// 4 MiB in one write; the `unix` file keeps the low 17 bits of its length, 0, writes nothing and
/// answers SQLITE_FULL, "database or disk is full" (a 1,000-member PATCH among 100,000 users).
unsafe extern "C" fn passed_write(
    file: *mut sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: sqlite3_int64,
) -> c_int {
    match asked(data, amount) {
        Some(bytes) => write_in_pieces(*unix_methods_slot(file), file, bytes, offset),
        None => SQLITE_IOERR_WRITE,
    }
}

/// The bytes an `xWrite` was asked to write; `None` for a negative length.
unsafe fn asked<'a>(data: *const c_void, amount: c_int) -> Option<&'a [u8]> {
    let len = usize::try_from(amount).ok()?;
    Some(std::slice::from_raw_parts(data.cast::<u8>(), len))
}

unsafe extern "C" fn passed_shm_barrier(file: *mut sqlite3_file) {
    flush_pending();
    if let Some(method) = (**unix_methods_slot(file)).xShmBarrier {
        method(file);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use sqlx::{Connection, Executor, Row, SqliteConnection};

    use super::*;

    /// Whose write a count is: SQLite's to this layer, or this layer's to SQLite's file.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub(super) enum Side {
        Asked,
        Made,
    }

    /// Writes to each log file, by path and side.
    static WRITES: Mutex<Option<HashMap<(String, Side), u64>>> = Mutex::new(None);

    pub(super) fn count_write(path: Option<&str>, side: Side) {
        if let Some(path) = path {
            let mut writes = WRITES.lock().unwrap();
            *writes
                .get_or_insert_default()
                .entry((path.to_string(), side))
                .or_default() += 1;
        }
    }

    /// `(asked, made)` so far on the log of `dir`'s `t.db`.
    fn writes_to(dir: &std::path::Path) -> (u64, u64) {
        let wal = format!("{}/t.db-wal", dir.display());
        let writes = WRITES.lock().unwrap();
        let count = |side| {
            let key = (wal.clone(), side);
            writes
                .as_ref()
                .and_then(|w| w.get(&key))
                .copied()
                .unwrap_or(0)
        };
        (count(Side::Asked), count(Side::Made))
    }

    async fn open(dir: &std::path::Path) -> SqliteConnection {
        let vfs = register().unwrap();
        let url = format!("sqlite://{}/t.db?mode=rwc&vfs={vfs}", dir.display());
        let mut conn = SqliteConnection::connect(&url).await.unwrap();
        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .await
            .unwrap();
        conn
    }

    /// The number `sql` answers on `conn`.
    async fn number(conn: &mut SqliteConnection, sql: &str) -> i64 {
        sqlx::query(sql).fetch_one(conn).await.unwrap().get(0)
    }

    async fn count(conn: &mut SqliteConnection) -> i64 {
        count_where(conn, "1").await
    }

    /// The rows of `t` that `condition` holds for.
    async fn count_where(conn: &mut SqliteConnection, condition: &str) -> i64 {
        number(conn, &format!("SELECT COUNT(*) FROM t WHERE {condition}")).await
    }

    /// `PRAGMA integrity_check` on `conn` finds nothing wrong.
    async fn assert_intact(conn: &mut SqliteConnection) {
        let check: String = sqlx::query("PRAGMA integrity_check")
            .fetch_one(conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(check, "ok");
    }

    /// Rows `ids` with bodies of `body` repeated, inserted in `conn`'s open transaction.
    async fn insert_rows(conn: &mut SqliteConnection, ids: std::ops::Range<i64>, body: &str) {
        for id in ids {
            sqlx::query("INSERT INTO t (id, body) VALUES ($1, $2)")
                .bind(id)
                .bind(body)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
    }

    /// Rows `ids` with bodies of `body_len` bytes, in a transaction of their own.
    async fn insert(conn: &mut SqliteConnection, ids: std::ops::Range<i64>, body_len: usize) {
        let mut tx = conn.begin().await.unwrap();
        insert_rows(&mut tx, ids, &"x".repeat(body_len)).await;
        tx.commit().await.unwrap();
    }

    /// Table `t` made on `conn`, whose page cache holds `pages`: a larger transaction spills.
    async fn create_table(conn: &mut SqliteConnection, pages: u32) {
        conn.execute(
            format!(
                "PRAGMA cache_size = {pages}; \
                 CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
            )
            .as_str(),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_commit_of_many_pages_takes_a_few_writes_and_another_connection_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = open(dir.path()).await;
        let mut reader = open(dir.path()).await;
        create_table(&mut writer, 2000).await;
        assert_eq!(count(&mut reader).await, 0);
        for round in 0..5 {
            let (asked, made) = writes_to(dir.path());
            // About 75 pages, 310 KB: SQLite writes each frame's header and page apart; here
            // three pieces and the commit's page.
            insert(&mut writer, round * 300..round * 300 + 300, 1000).await;
            let (asked, made) = (
                writes_to(dir.path()).0 - asked,
                writes_to(dir.path()).1 - made,
            );
            assert!(asked >= 150, "round {round}: SQLite asked {asked} writes");
            assert!(
                made <= 4,
                "round {round}: {made} writes made for {asked} asked"
            );
            assert_eq!(count(&mut reader).await, (round + 1) * 300);
        }
    }

    #[tokio::test]
    async fn a_transaction_larger_than_the_buffer_and_the_page_cache_commits_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = open(dir.path()).await;
        let mut reader = open(dir.path()).await;
        // A small page cache makes SQLite spill frames before the commit and read them back.
        create_table(&mut writer, 50).await;
        insert(&mut writer, 0..3000, 2000).await; // about 6 MB: over GATHER_MAX
        assert_eq!(count(&mut reader).await, 3000);
        let sum = number(&mut reader, "SELECT SUM(length(body)) FROM t").await;
        assert_eq!(sum, 3000 * 2000);
        // A rolled-back transaction leaves nothing behind, and the next one commits.
        let mut tx = writer.begin().await.unwrap();
        tx.execute("DELETE FROM t").await.unwrap();
        tx.rollback().await.unwrap();
        insert(&mut writer, 3000..3010, 10).await;
        assert_eq!(count(&mut reader).await, 3010);
        for conn in [&mut writer, &mut reader] {
            assert_intact(conn).await;
        }
        // Checkpointed into the database file and read from there by a new connection.
        writer
            .execute("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .unwrap();
        drop(reader);
        let mut fresh = open(dir.path()).await;
        assert_eq!(count(&mut fresh).await, 3010);
    }

    /// A transaction that writes a page again after SQLite spilled it overwrites that frame and,
    /// at its commit, rewrites the checksums of every frame from there on, the commit frame's
    /// header last. The files as they are right after the commit (a crash then: copied, without
    /// the shared wal-index, so SQLite recovers the log by its checksums) hold the transaction.
    #[tokio::test]
    async fn a_commit_whose_frames_were_rewritten_is_in_the_files_when_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = open(dir.path()).await;
        create_table(&mut writer, 20).await;
        let mut tx = writer.begin().await.unwrap();
        insert_rows(&mut tx, 0..1000, &"x".repeat(1000)).await;
        // The first rows' pages were spilled long ago: written again, in place.
        tx.execute("UPDATE t SET body = 'again' WHERE id < 20")
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let copy = tempfile::tempdir().unwrap();
        for name in ["t.db", "t.db-wal"] {
            std::fs::copy(dir.path().join(name), copy.path().join(name)).unwrap();
        }
        let mut recovered = open(copy.path()).await;
        assert_eq!(count(&mut recovered).await, 1000);
        let again = count_where(&mut recovered, "body = 'again'").await;
        assert_eq!(again, 20);
        drop(writer);
    }

    /// A savepoint's sub-journal is kept in memory up to `SQLITE_STMTJRNL_SPILL` (4 MiB,
    /// `.cargo/config.toml`) and then written to a file of its own, its first 4 MiB in one write:
    /// SQLite's `unix` file keeps only the low 17 bits of a write's length, 0 of 4 MiB, and answered
    /// that write of nothing with SQLITE_FULL ("database or disk is full"; a 1,000-member PATCH in
    /// a directory of 100,000 users answered 500). Such a savepoint is released and another rolled
    /// back, the journal read back from its file.
    #[tokio::test]
    async fn a_sub_journal_past_the_spill_size_is_written_to_its_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(dir.path()).await;
        create_table(&mut conn, 4000).await;
        insert(&mut conn, 0..3000, 2000).await; // about 1,500 pages, 6 MB
        let before = number(&mut conn, "SELECT SUM(length(body)) FROM t").await;
        // Each savepoint changes every page: a sub-journal of about 6 MB.
        conn.execute(
            "BEGIN; SAVEPOINT s; UPDATE t SET body = body || 'y'; \
             ROLLBACK TO s; RELEASE s; COMMIT",
        )
        .await
        .unwrap();
        assert_eq!(
            number(&mut conn, "SELECT SUM(length(body)) FROM t").await,
            before
        );
        conn.execute("BEGIN; SAVEPOINT s; UPDATE t SET body = body || 'z'; RELEASE s; COMMIT")
            .await
            .unwrap();
        let after = number(&mut conn, "SELECT SUM(length(body)) FROM t").await;
        assert_eq!(after, before + 3000);
        assert_intact(&mut conn).await;
    }

    /// Frames a transaction spilled and then rolled back are never written over the frames
    /// another connection commits next at the same place in the log.
    #[tokio::test]
    async fn frames_of_a_rolled_back_transaction_never_land_over_the_next_writers_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = open(dir.path()).await;
        let mut second = open(dir.path()).await;
        create_table(&mut first, 20).await;
        let mut tx = first.begin().await.unwrap();
        insert_rows(&mut tx, 0..300, &"spilled".repeat(150)).await;
        tx.rollback().await.unwrap();
        insert(&mut second, 1000..1300, 1000).await;
        insert(&mut first, 2000..2001, 10).await;

        let mut third = open(dir.path()).await;
        assert_eq!(count(&mut third).await, 301);
        let spilled = count_where(&mut third, "body LIKE 'spilled%'").await;
        assert_eq!(spilled, 0);
        assert_intact(&mut third).await;
    }
}
