//! The connection that writes a SQLite file's busiest records: trail records and DynamoDB items.
//!
//! SQLite lets one connection write at a time, and a connection that finds the write lock taken
//! sleeps and polls (for milliseconds at a time) until it is free. The trail's group commits and the
//! item writer's group commits come every few hundred microseconds under load; on two connections
//! they would spend their time waiting on each other that way. On this one, shared behind a mutex,
//! they take turns at once. Statements are prepared once and cached on it, on a blocking thread,
//! which costs a few microseconds a statement where sqlx's per-statement overhead costs tens.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::{Result, StoreError};

pub(crate) struct SqliteWriter {
    path: PathBuf,
    conn: Mutex<Option<Open>>,
}

/// The open connection and the `synchronous` mode it is set to (set again only when it changes).
struct Open {
    conn: Connection,
    synced: Option<bool>,
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
        }))
    }

    fn open(&self) -> rusqlite::Result<Open> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch("PRAGMA journal_mode=WAL;")?;
        Ok(Open { conn, synced: None })
    }

    /// Runs `work` on the connection (blocking: call it from a blocking thread). With `sync`, its
    /// commit syncs the WAL (`synchronous=FULL`); without, the sync is left to the next synced commit
    /// or checkpoint (NORMAL). On an error the connection is dropped, which rolls back whatever
    /// `work` left open, and the next call opens a fresh one.
    pub(crate) fn with<T>(
        &self,
        sync: bool,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let mut guard = self.conn.lock().expect("sqlite writer lock");
        if guard.is_none() {
            *guard = Some(self.open().map_err(sqlite_error)?);
        }
        let open = guard.as_mut().expect("connection just opened");
        let result = (|| {
            if open.synced != Some(sync) {
                open.synced = None;
                open.conn.execute_batch(if sync {
                    "PRAGMA synchronous=FULL;"
                } else {
                    "PRAGMA synchronous=NORMAL;"
                })?;
                open.synced = Some(sync);
            }
            work(&open.conn)
        })();
        if result.is_err() {
            *guard = None;
        }
        result.map_err(sqlite_error)
    }
}
