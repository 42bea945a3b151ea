//! The connections that read a SQLite file's busiest records: DynamoDB items (GetItem, the read
//! before every conditional write, Query and Scan), SSM parameters and documents.
//!
//! sqlx's SQLite driver runs every statement on a worker thread of its connection and hands the rows
//! back through a channel: the two thread switches of every read, and sqlx's per-statement overhead,
//! cost far more than a point read itself. These reads run instead on rusqlite connections kept idle
//! in a small pool, each with its statements prepared once and cached.
//!
//! A read runs inline, on the thread of the task that asks for it: no hand-off to a blocking thread,
//! which would cost the same two switches again. A point read through a cached statement over pages
//! in memory takes microseconds, like any other work a request does on its thread. The limit: a page
//! that is not in memory is read from disk on that thread, which then waits (and so do the tasks
//! queued behind it) for the disk's latency; a Query or a Scan page takes as long as its rows take to
//! read; and a reader that finds the file busy (only while another connection recovers the WAL)
//! waits as sqlx's would, up to the same busy timeout. With the data in the OS's page cache, as a
//! busy store's is, none of this happens often.
//!
//! The file is in WAL mode (the store's connections set it, and the file keeps it), so readers never
//! wait for the writer, nor it for them. Each statement runs in a read transaction of its own, begun
//! when it starts and ended when it is reset after its rows are read, so it sees every write
//! committed before it began: a read after an acknowledged write sees that write. The connections are
//! opened for writing, as any WAL connection may need to (the first to open the file builds its WAL
//! index), but with `query_only` set: they never change a record.
//!
//! Connections are opened when a read finds none idle, and at most [`MAX_IDLE`] are kept. As reads
//! never wait inside, there are never more in use than threads reading. An in-memory database has no
//! file for another connection to open: its reads stay on sqlx.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::types::ToSql;
use rusqlite::{Connection, OpenFlags};

use super::sqlite_writer::{file_path, sqlite_error};
use crate::{Result, StoreError};

/// Idle connections kept at most (one per thread reading at once; more are closed after use).
const MAX_IDLE: usize = 16;

/// Prepared statements cached per connection: every statement of this module's callers, with room.
const STATEMENTS_CACHED: usize = 32;

pub(crate) struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SqliteReader {
    /// For a `sqlite://PATH[?…]` URL naming a file.
    pub(crate) fn for_url(url: &str) -> Option<Arc<SqliteReader>> {
        Some(Arc::new(SqliteReader {
            path: file_path(url)?,
            idle: Mutex::new(Vec::new()),
        }))
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA query_only=ON;")?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS_CACHED);
        Ok(conn)
    }

    /// Runs `work` on an idle connection (or a new one), inline: see the module's doc for why and
    /// for the cost. A connection whose work failed as unavailable is closed rather than kept.
    pub(crate) fn read<T>(&self, work: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let idle = self.idle.lock().expect("sqlite reader lock").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(sqlite_error)?,
        };
        let result = work(&conn);
        if !matches!(result, Err(StoreError::Unavailable(_))) {
            let surplus = {
                let mut idle = self.idle.lock().expect("sqlite reader lock");
                if idle.len() < MAX_IDLE {
                    idle.push(conn);
                    None
                } else {
                    Some(conn)
                }
            };
            // Closed outside the lock.
            drop(surplus);
        }
        result
    }
}

/// Prepares `sql` (or finds it cached), whose parameters are `$1`…`$N` in the order they first appear.
fn prepare<'c>(conn: &'c Connection, sql: &str) -> Result<rusqlite::CachedStatement<'c>> {
    let statement = conn.prepare_cached(sql).map_err(sqlite_error)?;
    // SQLite numbers `$N` parameters in the order they first appear, not by N (sqlx binds by N): the
    // values are bound in order, so that order must be N's.
    debug_assert!(
        (1..=statement.parameter_count())
            .all(|i| statement.parameter_name(i) == Some(format!("${i}").as_str())),
        "parameters out of order in {sql}"
    );
    Ok(statement)
}

/// The first row of `sql` for `params`, decoded, if there is one.
pub(crate) fn first<T>(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    decode: impl Fn(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut statement = prepare(conn, sql)?;
    let mut rows = statement.query(params).map_err(sqlite_error)?;
    rows.next().map_err(sqlite_error)?.map(decode).transpose()
}

/// Every row of `sql` for `params`, decoded.
pub(crate) fn all<T>(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    decode: impl Fn(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut statement = prepare(conn, sql)?;
    let mut rows = statement.query(params).map_err(sqlite_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite_error)? {
        out.push(decode(row)?);
    }
    Ok(out)
}

