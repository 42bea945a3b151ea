//! Group commit of DynamoDB item writes on a SQLite file.
//!
//! Every durable SQLite commit waits for a sync of the WAL, and only one writer holds the database's
//! write lock at a time: one transaction per request caps item writes at the disk's sync rate. Here
//! one thread owns a connection of its own and takes the requests waiting for it together: one
//! `BEGIN IMMEDIATE`, each request inside a savepoint of its own (a request whose expectation fails
//! is rolled back alone, exactly as it would be in a transaction of its own), one commit for them
//! all. Requests run in the order they arrive; a later one sees the writes of the earlier ones of its
//! group, as it would after their commits.
//!
//! **Syncs beside the commits.** A group is committed without a sync (its frames are written to the
//! WAL file) and handed to a second thread, which syncs the WAL file
//! (`fdatasync`) and only then answers every group committed before that sync began. Meanwhile the
//! first thread commits the next group: the disk's sync and the next group's work overlap instead of
//! taking turns. A request is still answered only once its commit is on disk, so an acknowledged
//! write survives a crash as before; what changes is that another connection may read a write a
//! moment before it is acknowledged (and, after a power loss in that moment, find it gone, as its
//! writer was never told it was done).
//!
//! The group runs on the file's shared write connection ([`super::sqlite_writer`]), with cached
//! statements, on the writer's own thread, off the async runtime.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};

use super::sqlite_writer::SqliteWriter;

use super::items::{decode_indexes, encode_indexes, IndexList};
use crate::{Expect, GuardedWrite, ItemRecord, ItemWrite, Result, StoreError};

/// Requests committed together at most.
const MAX_GROUP: usize = 256;

struct Job {
    writes: Vec<GuardedWrite>,
    done: tokio::sync::oneshot::Sender<Result<()>>,
}

/// The item writer of one SQLite file: its thread starts on the first write.
pub(crate) struct SqliteItemWriter {
    writer: Arc<SqliteWriter>,
    queue: Mutex<Option<mpsc::Sender<Job>>>,
}

impl SqliteItemWriter {
    pub(crate) fn new(writer: Arc<SqliteWriter>) -> Self {
        SqliteItemWriter {
            writer,
            queue: Mutex::new(None),
        }
    }

    /// Commits `writes` all or nothing, in a group with whatever other requests are waiting: queues
    /// them behind every job queued before (the thread runs jobs in their order); the
    /// future answers once their group is committed. Dropping it (the client gone) leaves the job to
    /// run to its end on the thread.
    pub(crate) fn queue(&self, writes: Vec<GuardedWrite>) -> crate::QueuedWrites {
        let (done, answer) = tokio::sync::oneshot::channel();
        let sent = self
            .sender()
            .and_then(|s| s.send(Job { writes, done }).map_err(|_| stopped()));
        Box::pin(async move {
            sent?;
            answer.await.map_err(|_| stopped())?
        })
    }

    fn sender(&self) -> Result<mpsc::Sender<Job>> {
        let mut queue = self.queue.lock().expect("item writer queue lock");
        if let Some(sender) = queue.as_ref() {
            return Ok(sender.clone());
        }
        let (sender, jobs) = mpsc::channel();
        let writer = self.writer.clone();
        std::thread::Builder::new()
            .name("m2sec-item-writer".into())
            .spawn(move || run(&writer, &jobs))
            .map_err(|e| StoreError::Unavailable(format!("item writer thread: {e}")))?;
        *queue = Some(sender.clone());
        Ok(sender)
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the item writer thread has stopped".into())
}

/// Answers for the sync thread: each job's outcome, sent once the WAL is synced.
type Answers = Vec<(Job, Result<()>)>;

/// The thread: takes the first waiting request and every other already queued, commits them, and
/// hands their answers to the sync thread.
fn run(writer: &Arc<SqliteWriter>, jobs: &mpsc::Receiver<Job>) {
    let (to_sync, synced) = mpsc::channel::<Answers>();
    let syncing = writer.clone();
    let syncer = std::thread::Builder::new()
        .name("m2sec-item-sync".into())
        .spawn(move || sync_loop(&syncing, &synced));
    if let Err(e) = syncer {
        tracing::warn!(error = %e, "no item sync thread; each group commit syncs itself");
        return run_synced(writer, jobs);
    }
    while let Ok(first) = jobs.recv() {
        let group = take_group(first, jobs);
        let answers = match writer.with(false, |conn| commit_group(conn, &group)) {
            Ok(results) => group.into_iter().zip(results).collect(),
            Err(e) => group.into_iter().map(|job| (job, Err(e.clone()))).collect(),
        };
        if let Err(mpsc::SendError(answers)) = to_sync.send(answers) {
            for (job, _) in answers {
                let _ = job.done.send(Err(stopped()));
            }
        }
    }
}

/// The sync thread: syncs the WAL file once for every group committed before, then answers them.
fn sync_loop(writer: &SqliteWriter, synced: &mpsc::Receiver<Answers>) {
    while let Ok(first) = synced.recv() {
        let mut batch = vec![first];
        batch.extend(synced.try_iter());
        let outcome = writer.sync_wal();
        for (job, result) in batch.into_iter().flatten() {
            let _ = job.done.send(outcome.clone().and(result));
        }
    }
}

fn take_group(first: Job, jobs: &mpsc::Receiver<Job>) -> Vec<Job> {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match jobs.try_recv() {
            Ok(job) => group.push(job),
            Err(_) => break,
        }
    }
    group
}

/// Without a sync thread: each group's commit syncs the WAL itself.
fn run_synced(writer: &SqliteWriter, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let group = take_group(first, jobs);
        match writer.with(true, |conn| commit_group(conn, &group)) {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.done.send(result);
                }
            }
            Err(e) => {
                for job in group {
                    let _ = job.done.send(Err(e.clone()));
                }
            }
        }
    }
}

/// One transaction for the group; per job, its own outcome. An error of the connection itself
/// (not of one job's expectation) fails the whole group.
fn commit_group(conn: &Connection, group: &[Job]) -> rusqlite::Result<Vec<Result<()>>> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let mut results = Vec::with_capacity(group.len());
    for job in group {
        conn.prepare_cached("SAVEPOINT job")?.execute([])?;
        let outcome = apply(conn, &job.writes);
        let result = match outcome {
            Ok(None) => Ok(()),
            Ok(Some(index)) => Err(StoreError::Conflict { index }),
            // The writer drops the connection, which rolls the whole group back.
            Err(Failure::Sql(e)) => return Err(e),
            Err(Failure::Corrupt(m)) => Err(StoreError::Corrupt(m)),
        };
        if result.is_err() {
            conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
        }
        conn.prepare_cached("RELEASE job")?.execute([])?;
        results.push(result);
    }
    conn.prepare_cached("COMMIT")?.execute([])?;
    Ok(results)
}

enum Failure {
    Sql(rusqlite::Error),
    Corrupt(String),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sql(e)
    }
}

/// Applies one request's writes; `Some(index)` names the first whose expectation failed.
fn apply(
    conn: &Connection,
    writes: &[GuardedWrite],
) -> std::result::Result<Option<usize>, Failure> {
    for (index, write) in writes.iter().enumerate() {
        let (table_id, item_hash) = super::items::target(&write.write);
        let current = current_item(conn, table_id, item_hash)?;
        let holds = match write.expect {
            Expect::Anything => true,
            Expect::Absent => current.is_none(),
            Expect::Version(v) => current.as_ref().map(|c| c.0) == Some(v),
        };
        if !holds {
            return Ok(Some(index));
        }
        match (&write.write, current) {
            (ItemWrite::Put(item), current) => {
                put_item(conn, item, current.as_ref().map(|c| c.1.as_slice()))?;
            }
            (ItemWrite::Delete { .. }, Some((_, indexes))) => {
                delete_item(conn, table_id, item_hash, &indexes)?;
            }
            (ItemWrite::Delete { .. }, None) | (ItemWrite::Check { .. }, _) => {}
        }
    }
    Ok(None)
}

fn current_item(
    conn: &Connection,
    table_id: &str,
    item_hash: &[u8],
) -> std::result::Result<Option<(i64, IndexList)>, Failure> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT version, indexes FROM ddb_items WHERE table_id = ?1 AND item_hash = ?2",
        )?
        .query_row(params![table_id, item_hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Ok(None),
        Some((version, indexes)) => match decode_indexes(&indexes) {
            Ok(indexes) => Ok(Some((version, indexes))),
            Err(e) => Err(Failure::Corrupt(e.to_string())),
        },
    }
}

fn delete_entry(
    conn: &Connection,
    table_id: &str,
    (name, partition_hash): (&str, &[u8]),
    item_hash: &[u8],
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "DELETE FROM ddb_index_entries WHERE table_id = ?1 AND index_name = ?2 \
         AND partition_hash = ?3 AND item_hash = ?4",
    )?
    .execute(params![table_id, name, partition_hash, item_hash])?;
    Ok(())
}

fn put_item(
    conn: &Connection,
    item: &ItemRecord,
    old_indexes: Option<&[(String, Vec<u8>)]>,
) -> rusqlite::Result<()> {
    // As on the SQL path: only the entries the item leaves are deleted; the ones it keeps are
    // inserted again and left as they were.
    for (name, partition_hash) in old_indexes.unwrap_or_default() {
        if !item
            .indexes
            .iter()
            .any(|(n, p)| n == name && p == partition_hash)
        {
            delete_entry(
                conn,
                &item.table_id,
                (name, partition_hash),
                &item.item_hash,
            )?;
        }
    }
    // `partition_hash` is not rewritten: the item's hash, the key's, fixes it, and rewriting it
    // would move the item's entry in the partition index for nothing.
    conn.prepare_cached(
        "INSERT INTO ddb_items (table_id, item_hash, partition_hash, body, version, expires_at, size, indexes) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (table_id, item_hash) DO UPDATE SET \
         body = excluded.body, version = excluded.version, \
         expires_at = excluded.expires_at, size = excluded.size, indexes = excluded.indexes",
    )?
    .execute(params![
        item.table_id,
        item.item_hash,
        item.partition_hash,
        item.body,
        item.version,
        item.expires_at,
        item.size,
        encode_indexes(&item.indexes),
    ])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO ddb_index_entries (table_id, index_name, partition_hash, item_hash) \
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
    )?;
    for (name, partition_hash) in &item.indexes {
        insert.execute(params![item.table_id, name, partition_hash, item.item_hash])?;
    }
    Ok(())
}

fn delete_item(
    conn: &Connection,
    table_id: &str,
    item_hash: &[u8],
    indexes: &[(String, Vec<u8>)],
) -> rusqlite::Result<()> {
    for (name, partition_hash) in indexes {
        delete_entry(conn, table_id, (name, partition_hash), item_hash)?;
    }
    conn.prepare_cached("DELETE FROM ddb_items WHERE table_id = ?1 AND item_hash = ?2")?
        .execute(params![table_id, item_hash])?;
    Ok(())
}
