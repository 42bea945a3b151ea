//! The connection that writes a SQLite file's busiest records: trail records and DynamoDB items.
//!
//! SQLite lets one connection write at a time, and a connection that finds the write lock taken
//! sleeps and polls (for milliseconds at a time) until it is free. The trail's group commits and the
//! item writer's group commits come every few hundred microseconds under load; on two connections
//! they would spend their time waiting on each other that way. On this one, shared behind a mutex,
//! they take turns at once. Statements are prepared once and cached on it, on a blocking thread,
//! which costs a few microseconds a statement where sqlx's per-statement overhead costs tens.
//!
//! **Checkpoints off the write path.** SQLite copies the WAL back into the database file (a
//! checkpoint) in whichever commit takes the WAL past 1,000 pages, and that commit waits for the copy
//! and its sync: under a steady write load, one group commit in a few hundred took tens of
//! milliseconds, and every request in it waited. This connection does not checkpoint; a thread of
//! its own runs a passive checkpoint (which never blocks writers or readers) every
//! [`CHECKPOINT_EVERY`] from a connection of its own, for as long as the writer lives.
//!
//! **The WAL is reused, not grown without end.** SQLite starts writing the WAL from its beginning
//! again only when a write transaction begins with every frame of it checkpointed. Under a steady
//! load the passive checkpoint never catches up (frames arrive while it copies), and the WAL grew by
//! hundreds of megabytes a minute, each new block costing the commits that wrote it. So once the WAL
//! holds more than [`RESTART_AFTER_FRAMES`], this connection runs a checkpoint itself, after the
//! thread's, before its next work: no commit comes in between, and its next write transaction starts
//! the WAL over. That checkpoint holds up this connection's commits while it copies what arrived
//! since the thread's and syncs both files, so the thread first syncs and catches up as far as it
//! can on its own ([`Checkpointer`]), the syncs are m2sec's `fdatasync`s rather than SQLite's
//! `fsync`s ([`SqliteWriter::catch_up`]), and it is not run after every one of the thread's: a WAL of
//! up to some tens of megabytes costs nothing, a stall of every commit every 100 ms costs every
//! request's tail latency. (At most once a second: a reader that keeps the WAL from starting over
//! keeps it above the mark.)
//!
//! **A failed sync stops all writes.** Durable commits are made without a sync and then synced
//! ([`SqliteWriter::sync_wal`]) through one descriptor of the WAL kept open, so that a write-back
//! error of the file is reported to it even if another descriptor saw it first. After a failed
//! sync, commits that other requests already built on may be lost, and the OS may have dropped the
//! pages it could not write: every later write and sync is refused (PostgreSQL stops for the same
//! reason) until m2sec is started again and SQLite recovers the file from what is on disk.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::{Result, StoreError};

pub(crate) struct SqliteWriter {
    path: PathBuf,
    conn: Mutex<Option<Open>>,
    /// Set by the checkpoint thread when its checkpoint left frames behind: the next call catches
    /// up before its work.
    catch_up: Arc<AtomicBool>,
    restart_after: i64,
    /// The least time between two of those checkpoints.
    catch_up_every: Duration,
    /// Whether the checkpoint thread has been started; cleared when the writer is dropped, which
    /// stops it.
    checkpointing: Arc<AtomicBool>,
    /// The WAL, as SQLite names it (known once the connection is open), and a descriptor of it.
    wal: Mutex<Wal>,
    /// Set when a sync or a checkpoint failed on I/O: every write is refused from then on.
    failed: Arc<Mutex<Option<String>>>,
    /// A descriptor of the database file, for m2sec's own syncs of it: opened once and kept (closing
    /// a descriptor of a file drops the process's POSIX locks on it, SQLite's included).
    db_file: DbFile,
    /// Connections left holding the write lock after a failed sync of the database file, so that
    /// no connection starts the WAL over until m2sec is started again.
    held: Mutex<Vec<Connection>>,
}

type DbFile = Arc<Mutex<Option<Arc<std::fs::File>>>>;

/// The descriptor `slot` keeps of the database file at `path`, opened (for writing) on first use.
fn database_file(slot: &DbFile, path: &std::path::Path) -> std::io::Result<Arc<std::fs::File>> {
    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(file) = slot.as_ref() {
        return Ok(file.clone());
    }
    let file = Arc::new(std::fs::OpenOptions::new().write(true).open(path)?);
    *slot = Some(file.clone());
    Ok(file)
}

#[derive(Default)]
struct Wal {
    path: Option<PathBuf>,
    /// The open descriptor, with the device and inode it was opened on.
    file: Option<(std::fs::File, u64, u64)>,
}

/// How often the checkpoint thread copies the WAL back into the database file.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// WAL frames (of one page each, 4 KiB by default) past which the write connection checkpoints
/// itself so that the WAL starts over.
pub(crate) const RESTART_AFTER_FRAMES: i64 = 16_384;

impl Drop for SqliteWriter {
    fn drop(&mut self) {
        self.checkpointing.store(false, Ordering::Release);
    }
}

/// Runs passive checkpoints of `path` until `alive` is cleared; sets `catch_up` when the WAL holds
/// more than `restart_after` frames, at most once per `catch_up_every`.
fn checkpoint_loop(
    path: PathBuf,
    alive: Arc<AtomicBool>,
    catch_up: Arc<AtomicBool>,
    (restart_after, catch_up_every): (i64, Duration),
    failed: Arc<Mutex<Option<String>>>,
    db_file: DbFile,
) {
    let mut checkpointer: Option<Checkpointer> = None;
    let mut caught_up_at: Option<Instant> = None;
    while alive.load(Ordering::Acquire) {
        std::thread::sleep(CHECKPOINT_EVERY);
        if failed.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            // After a failed sync the WAL may hold the only good copy of pages the disk did not
            // take: nothing more is copied out of it (a descriptor opened now would not even see
            // the error) until m2sec is started again and SQLite recovers from what is on disk.
            return;
        }
        if checkpointer.is_none() {
            checkpointer = Checkpointer::open(&path, &db_file).ok();
        }
        let Some(c) = &checkpointer else { continue };
        let round = c.run(false).and_then(|frames| {
            if frames <= restart_after || caught_up_at.is_some_and(|t| t.elapsed() < catch_up_every)
            {
                return Ok(());
            }
            // Before the write connection catches up: what was copied is synced, and what arrived
            // meanwhile is copied and synced too, so that little is left for it to do with
            // commits waiting.
            c.sync()?;
            c.run(true)?;
            caught_up_at = Some(Instant::now());
            catch_up.store(true, Ordering::Release);
            Ok(())
        });
        match round {
            Ok(()) => {}
            Err(CheckpointError::Io(e)) => {
                tracing::error!(error = %e, "a WAL checkpoint failed on I/O; writes are refused until restart");
                fail(&failed, format!("checkpointing the WAL: {e}"));
                return;
            }
            Err(CheckpointError::Other(e)) => {
                tracing::debug!(error = %e, "a WAL checkpoint failed; trying again with a new connection");
                checkpointer = None;
            }
        }
    }
}

/// The checkpoint thread's connection, and a descriptor of the database file it syncs.
///
/// SQLite syncs the database file only after a checkpoint that copied every frame of the WAL,
/// which under a steady load only the write connection's own checkpoint does (new frames arrive
/// while this thread's copy runs). That sync then wrote back everything this thread had copied
/// since the last one, tens of megabytes, while every commit waited: a p99 of 35–39 ms for ticket
/// scans (bench/gates.py), against 10 ms with no such checkpoints. So before the write connection
/// catches up, this thread syncs what it copied (`fdatasync`, off the write path), copies what
/// arrived meanwhile and syncs that too: the p99 fell to 13–17 ms, throughput unchanged. (A sync
/// after every one of its checkpoints cost a tenth of the throughput: pages written again and
/// again.)
struct Checkpointer {
    conn: Connection,
    db: Arc<std::fs::File>,
}

enum CheckpointError {
    /// The disk failed: what was copied may not be on it.
    Io(String),
    Other(String),
}

impl Checkpointer {
    fn open(
        path: &std::path::Path,
        db_file: &DbFile,
    ) -> std::result::Result<Self, CheckpointError> {
        let conn = Connection::open(path)
            .and_then(|c| c.busy_timeout(Duration::from_secs(1)).map(|()| c))
            .map_err(|e| CheckpointError::Other(e.to_string()))?;
        let db = database_file(db_file, path).map_err(|e| CheckpointError::Other(e.to_string()))?;
        Ok(Checkpointer { conn, db })
    }

    /// One passive checkpoint, then (with `sync`) a sync of what it copied; the number of frames
    /// in the WAL.
    fn run(&self, sync: bool) -> std::result::Result<i64, CheckpointError> {
        let frames = checkpoint(&self.conn).map_err(|e| match is_io_error(&e) {
            true => CheckpointError::Io(e.to_string()),
            false => CheckpointError::Other(e.to_string()),
        })?;
        if sync {
            self.sync()?;
        }
        Ok(frames)
    }

    fn sync(&self) -> std::result::Result<(), CheckpointError> {
        self.db
            .sync_data()
            .map_err(|e| CheckpointError::Io(format!("syncing the database file: {e}")))
    }
}

/// One passive checkpoint; the number of frames in the WAL.
fn checkpoint(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
}

struct Open {
    conn: Connection,
    /// For the catch-up checkpoint: a connection that holds the write lock while it runs (opened
    /// when first needed).
    hold: Option<Connection>,
}

fn is_io_error(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::SystemIoFailure)
}

/// Records the first I/O failure: from then on every write is refused.
fn fail(failed: &Mutex<Option<String>>, why: String) {
    let mut failed = failed.lock().unwrap_or_else(|e| e.into_inner());
    failed.get_or_insert(why);
}

/// The file a `sqlite://PATH[?…]` URL names; none for an in-memory database, which no other
/// connection can open.
pub(crate) fn file_path(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite://")?.split('?').next()?;
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(PathBuf::from(path))
}

pub(crate) fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {e}"))
}

impl SqliteWriter {
    /// For a `sqlite://PATH[?…]` URL naming a file.
    pub(crate) fn for_url(url: &str) -> Option<Arc<SqliteWriter>> {
        Some(Arc::new(SqliteWriter {
            path: file_path(url)?,
            conn: Mutex::new(None),
            catch_up: Arc::new(AtomicBool::new(false)),
            restart_after: RESTART_AFTER_FRAMES,
            catch_up_every: Duration::from_secs(1),
            checkpointing: Arc::new(AtomicBool::new(false)),
            wal: Mutex::new(Wal::default()),
            failed: Arc::new(Mutex::new(None)),
            db_file: Arc::new(Mutex::new(None)),
            held: Mutex::new(Vec::new()),
        }))
    }

    /// `Err` once a sync or a checkpoint failed on I/O.
    fn refuse_if_failed(&self) -> Result<()> {
        match &*self.failed.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(why) => Err(StoreError::Unavailable(format!(
                "sqlite: writes are refused since {why}; restart m2sec to recover the database"
            ))),
            None => Ok(()),
        }
    }

    /// Syncs the WAL (`fdatasync`): every commit written before this call is on disk once it
    /// returns `Ok`. Through one descriptor kept open (opened again if the WAL was replaced); no
    /// WAL means none is needed (SQLite removes it only once it has checkpointed every frame).
    pub(crate) fn sync_wal(&self) -> Result<()> {
        self.refuse_if_failed()?;
        let mut wal = self.wal.lock().unwrap_or_else(|e| e.into_inner());
        let path = wal.path.clone().unwrap_or_else(|| self.default_wal_path());
        let identity = match std::fs::metadata(&path) {
            Ok(m) => (m.dev(), m.ino()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.sync_failed(&path, &e)),
        };
        if wal.file.as_ref().map(|f| (f.1, f.2)) != Some(identity) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| {
                    StoreError::Unavailable(format!("sqlite: opening {}: {e}", path.display()))
                })?;
            // A WAL new to this descriptor may be a new file: its directory entry is synced too
            // (SQLite's own first sync of a WAL does the same).
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| self.sync_failed(dir, &e))?;
            }
            wal.file = Some((file, identity.0, identity.1));
        }
        let (file, _, _) = wal.file.as_ref().expect("just opened");
        file.sync_data().map_err(|e| self.sync_failed(&path, &e))
    }

    fn sync_failed(&self, path: &std::path::Path, e: &std::io::Error) -> StoreError {
        let why = format!("syncing {} failed: {e}", path.display());
        tracing::error!(error = %e, path = %path.display(), "syncing the WAL failed; writes are refused until restart");
        fail(&self.failed, why);
        self.refuse_if_failed().expect_err("just failed")
    }

    /// The file's write-ahead log, as the URL names it (SQLite's own name once a connection is
    /// open: [`Wal::path`]).
    fn default_wal_path(&self) -> PathBuf {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        PathBuf::from(wal)
    }

    fn open(&self) -> rusqlite::Result<Open> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Syncing the WAL after a commit is what makes it durable: without one, refuse.
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!(
                    "the database stays in journal mode {mode}, not WAL"
                )),
            ));
        }
        // temp_store: a group of item writes runs each request in a savepoint, and SQLite keeps the
        // pages a savepoint may restore in a sub-journal that otherwise spills past 64 KiB to a
        // temporary file in /var/tmp (a file created, written and deleted per group, and a
        // dependency on another file system's free space). The page cache stays at SQLite's
        // default (2 MB): a commit after a B-tree page split (which numbers a page past the end of
        // the file for a moment) walks the cache's whole hash table, so a cache of 64 MiB cost the
        // writer thread a quarter of its time under load (perf, during bench/gates.py), for no
        // gain in reads.
        conn.execute_batch(
            "PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL; \
             PRAGMA temp_store=MEMORY;",
        )?;
        if let Some(main) = conn.path().filter(|p| !p.is_empty()) {
            let mut wal = self.wal.lock().unwrap_or_else(|e| e.into_inner());
            wal.path = Some(PathBuf::from(format!("{main}-wal")));
        }
        if !self.checkpointing.swap(true, Ordering::AcqRel) {
            let (path, alive) = (self.path.clone(), self.checkpointing.clone());
            let (catch_up, failed) = (self.catch_up.clone(), self.failed.clone());
            let marks = (self.restart_after, self.catch_up_every);
            let db_file = self.db_file.clone();
            let started = std::thread::Builder::new()
                .name("m2sec-checkpoint".into())
                .spawn(move || checkpoint_loop(path, alive, catch_up, marks, failed, db_file));
            if let Err(e) = started {
                // Without the thread, this connection checkpoints as SQLite does by default.
                tracing::warn!(error = %e, "no WAL checkpoint thread; commits checkpoint themselves");
                self.checkpointing.store(false, Ordering::Release);
                conn.execute_batch("PRAGMA wal_autocheckpoint=1000;")?;
            }
        }
        Ok(Open { conn, hold: None })
    }

    /// The write connection's own checkpoint, after which its next write transaction starts the
    /// WAL over. SQLite's own syncs around a checkpoint are full `fsync`s (a journal commit each,
    /// tens of milliseconds under load while every commit waits), so it runs with them off, between
    /// syncs of m2sec's own (`fdatasync`) in the order SQLite keeps: every frame on disk before any
    /// is copied, the copies on disk before the WAL can start over. A write of another connection
    /// would start it over as soon as the copy is done: a connection of its own holds the write
    /// lock until the database file is synced.
    fn catch_up(&self, open: &mut Open) -> std::result::Result<(), CheckpointError> {
        let sql = |e: rusqlite::Error| match is_io_error(&e) {
            true => CheckpointError::Io(e.to_string()),
            false => CheckpointError::Other(e.to_string()),
        };
        let db = database_file(&self.db_file, &self.path)
            .map_err(|e| CheckpointError::Other(e.to_string()))?;
        if open.hold.is_none() {
            let hold = Connection::open(&self.path)
                .and_then(|c| c.busy_timeout(Duration::from_millis(100)).map(|()| c))
                .map_err(sql)?;
            open.hold = Some(hold);
        }
        // A failed sync has refused every write already (`sync_wal`); any other failure is not
        // the disk's.
        self.sync_wal()
            .map_err(|e| CheckpointError::Other(e.to_string()))?;
        let began = open
            .hold
            .as_ref()
            .expect("just opened")
            .execute_batch("BEGIN IMMEDIATE");
        match began {
            Ok(()) => {}
            // Another connection is writing: a later round catches up.
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                return Ok(())
            }
            Err(e) => {
                open.hold = None;
                return Err(sql(e));
            }
        }
        let copied = open
            .conn
            .execute_batch("PRAGMA synchronous=OFF")
            .and_then(|()| checkpoint(&open.conn));
        let restored = open.conn.execute_batch("PRAGMA synchronous=NORMAL");
        // Whatever the checkpoint did, what it may have copied is on disk before the lock is
        // given back.
        if let Err(e) = db.sync_data() {
            // SQLite counts the copies as done, and they may not be on disk: the lock stays
            // taken, so that no connection starts the WAL over, until m2sec is started again.
            let hold = open.hold.take().expect("holding the lock");
            self.held
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(hold);
            return Err(CheckpointError::Io(format!(
                "syncing the database file: {e}"
            )));
        }
        let released = open
            .hold
            .as_ref()
            .expect("holding the lock")
            .execute_batch("ROLLBACK");
        if released.is_err() {
            // Dropping it gives the lock back.
            open.hold = None;
        }
        copied.and(restored).and(released).map_err(sql)
    }

    /// Runs `work` on the connection (blocking: call it from a blocking thread). With `sync`, the
    /// WAL is synced once its commit is written and before this returns, so the commit is durable;
    /// without, the sync is left to the next synced commit or checkpoint. The sync runs after the
    /// connection's lock is given back: the next commit is written while this one's sync runs, and
    /// no commit waits behind another's sync. (SQLite's own `synchronous=FULL` syncs inside the
    /// commit, holding the lock.) On an error the connection is dropped, which rolls back whatever
    /// `work` left open, and the next call opens a fresh one.
    pub(crate) fn with<T>(
        &self,
        sync: bool,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        self.refuse_if_failed()?;
        let mut guard = self.conn.lock().expect("sqlite writer lock");
        if guard.is_none() {
            *guard = Some(self.open().map_err(sqlite_error)?);
        }
        let open = guard.as_mut().expect("connection just opened");
        if self.catch_up.swap(false, Ordering::AcqRel) {
            match self.catch_up(open) {
                Ok(()) => {}
                Err(CheckpointError::Io(e)) => {
                    tracing::error!(error = %e, "the write connection's WAL checkpoint failed on I/O; writes are refused until restart");
                    fail(&self.failed, format!("checkpointing the WAL: {e}"));
                    *guard = None;
                    return Err(self.refuse_if_failed().expect_err("just failed"));
                }
                Err(CheckpointError::Other(e)) => {
                    // The connection may be left with its syncs off: a fresh one does the work.
                    tracing::debug!(error = %e, "the write connection's WAL checkpoint failed");
                    *guard = None;
                    *guard = Some(self.open().map_err(sqlite_error)?);
                }
            }
        }
        let open = guard.as_mut().expect("connection open");
        let result = work(&open.conn);
        if result.is_err() {
            *guard = None;
        }
        drop(guard);
        let done = result.map_err(sqlite_error)?;
        if sync {
            self.sync_wal()?;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer of `m2sec.db` in `dir`, and that file's path.
    fn writer_in(dir: &std::path::Path) -> (PathBuf, Arc<SqliteWriter>) {
        let path = dir.join("m2sec.db");
        let writer = SqliteWriter::for_url(&format!("sqlite://{}", path.display())).unwrap();
        (path, writer)
    }

    #[test]
    fn commits_reach_the_database_file_through_the_checkpoint_thread() {
        let dir = tempfile::tempdir().unwrap();
        let (path, writer) = writer_in(dir.path());
        writer
            .with(true, |c| {
                c.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2);")
            })
            .unwrap();
        // `immutable=1` reads the database file alone, without the WAL: the rows are there once a
        // checkpoint copied them, which the writer's own commits no longer do.
        let in_file = || {
            let uri = format!("file:{}?immutable=1", path.display());
            let flags =
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
            Connection::open_with_flags(uri, flags)
                .and_then(|c| c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)))
                .ok()
        };
        let deadline = std::time::Instant::now() + CHECKPOINT_EVERY * 20;
        while in_file() != Some(2) {
            assert!(
                std::time::Instant::now() < deadline,
                "not checkpointed: {:?}",
                in_file()
            );
            std::thread::sleep(CHECKPOINT_EVERY / 5);
        }
        drop(writer);
    }

    #[test]
    fn the_wal_is_reused_under_a_steady_write_load() {
        let dir = tempfile::tempdir().unwrap();
        let (_, mut writer) = writer_in(dir.path());
        let w = Arc::get_mut(&mut writer).unwrap();
        (w.restart_after, w.catch_up_every) = (100, Duration::ZERO);
        writer
            .with(false, |c| c.execute_batch("CREATE TABLE t (x BLOB)"))
            .unwrap();
        // A commit (at least one 4 KiB frame) every 200 µs or so, as group commits come under load,
        // for ten checkpoint intervals.
        let (start, mut commits) = (std::time::Instant::now(), 0u64);
        while start.elapsed() < CHECKPOINT_EVERY * 10 {
            writer
                .with(false, |c| {
                    c.execute("INSERT INTO t VALUES (zeroblob(1000))", [])
                        .map(|_| ())
                })
                .unwrap();
            commits += 1;
            std::thread::sleep(Duration::from_micros(200));
        }
        let wal = std::fs::metadata(writer.default_wal_path()).unwrap().len();
        let appended = commits * 4096;
        assert!(
            wal < appended / 3,
            "{commits} commits left a WAL of {wal} bytes: it was not started over"
        );
        // The catch-up checkpoints run with SQLite's syncs off: they are back on after.
        let synchronous: i64 = writer
            .with(false, |c| {
                c.query_row("PRAGMA synchronous", [], |r| r.get(0))
            })
            .unwrap();
        assert_eq!(
            synchronous, 1,
            "the write connection was left with its syncs off"
        );
        drop(writer);
    }

    #[test]
    fn a_database_reached_through_a_symlink_syncs_the_wal_sqlite_writes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        let (_, writer) = writer_in(&dir.path().join("link"));
        writer
            .with(true, |c| c.execute_batch("CREATE TABLE t (x INTEGER)"))
            .unwrap();
        writer
            .with(true, |c| {
                c.execute("INSERT INTO t VALUES (1)", []).map(|_| ())
            })
            .unwrap();
        writer.sync_wal().unwrap();
    }

    #[test]
    fn after_a_failed_sync_every_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (_, writer) = writer_in(dir.path());
        writer
            .with(true, |c| c.execute_batch("CREATE TABLE t (x INTEGER)"))
            .unwrap();
        fail(
            &writer.failed,
            "syncing the WAL failed: Input/output error".into(),
        );
        let refused = writer
            .with(false, |c| {
                c.execute("INSERT INTO t VALUES (1)", []).map(|_| ())
            })
            .unwrap_err();
        assert!(refused.to_string().contains("restart m2sec"), "{refused}");
        assert!(writer.sync_wal().is_err());
    }
}
