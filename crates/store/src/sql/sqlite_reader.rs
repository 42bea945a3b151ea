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

/// Runs `work`'s statements in one read transaction: they all see the file as of the first of
/// them, and the connection checks its cached pages once.
pub(crate) fn in_one_snapshot<T>(conn: &Connection, work: impl FnOnce() -> Result<T>) -> Result<T> {
    let run = |sql: &str| -> Result<()> {
        prepare(conn, sql)?.execute([]).map_err(sqlite_error)?;
        Ok(())
    };
    run("BEGIN")?;
    let result = work();
    // Ends the transaction whatever `work` came to; a connection that cannot is not kept.
    run("COMMIT")?;
    result
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

#[cfg(test)]
mod tests {
    use super::super::SqlStore;
    use crate::{
        Document, Expect, GuardedWrite, ItemRecord, ItemWrite, ParameterRecord,
        ParameterVersionRecord, Scope, Store, StoreError,
    };

    fn item() -> ItemRecord {
        ItemRecord {
            table_id: "t".into(),
            item_hash: vec![1, 2],
            partition_hash: vec![3],
            body: vec![9; 10],
            version: 1,
            expires_at: Some(7),
            indexes: vec![("by-x".into(), vec![4])],
            size: 10,
        }
    }

    fn parameter() -> ParameterRecord {
        ParameterRecord {
            scope: Scope {
                account: "111122223333".into(),
                region: "eu-west-1".into(),
            },
            name: "/p".into(),
            tags: vec![("k".into(), "v".into())],
            current: ParameterVersionRecord {
                version: 1,
                parameter_type: "String".into(),
                value: "v".into(),
                key_id: None,
                description: Some("d".into()),
                allowed_pattern: None,
                data_type: "text".into(),
                tier: "Standard".into(),
                labels: vec!["l".into()],
                policies: None,
                modified_at: 5,
                modified_by: "arn".into(),
            },
        }
    }

    fn document() -> Document {
        Document {
            account: "111122223333".into(),
            region: "".into(),
            kind: "k".into(),
            name: "n".into(),
            body: "{}".into(),
            updated_at: 3,
        }
    }

    /// A file store, and the same file read through sqlx alone.
    async fn stores(dir: &std::path::Path) -> (SqlStore, SqlStore) {
        let file = SqlStore::connect(&SqlStore::sqlite_url(&dir.join("m2sec.db")))
            .await
            .unwrap();
        assert!(file.sqlite_reader.is_some());
        let sqlx_only = SqlStore {
            pool: file.pool.clone(),
            engine: file.engine,
            sqlite_writer: None,
            sqlite_reader: None,
            item_writer: None,
        };
        (file, sqlx_only)
    }

    /// The kind of result both reads came to, which must be the same; values, which must be equal.
    fn same<T: PartialEq + std::fmt::Debug>(
        what: &str,
        rusqlite: crate::Result<T>,
        sqlx: crate::Result<T>,
    ) -> &'static str {
        let kind = |r: &crate::Result<T>| match r {
            Ok(_) => "ok",
            Err(StoreError::Corrupt(_)) => "corrupt",
            Err(StoreError::Unavailable(_)) => "unavailable",
            Err(_) => "other",
        };
        assert_eq!(kind(&rusqlite), kind(&sqlx), "{what}");
        if let (Ok(a), Ok(b)) = (&rusqlite, &sqlx) {
            assert_eq!(a, b, "{what}");
        }
        kind(&rusqlite)
    }

    #[tokio::test]
    async fn items_read_as_through_sqlx_even_when_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let (file, sqlx_only) = stores(dir.path()).await;
        for (tamper, expected) in [
            ("SELECT 1", ["ok"; 5]),
            (
                "UPDATE ddb_items SET indexes = x'0000000561'",
                ["corrupt"; 5],
            ),
            ("UPDATE ddb_items SET body = 'text'", ["corrupt"; 5]),
            ("UPDATE ddb_items SET version = 'abc'", ["corrupt"; 5]),
            ("UPDATE ddb_items SET version = 1.5", ["corrupt"; 5]),
            ("UPDATE ddb_items SET expires_at = 'x'", ["corrupt"; 5]),
            ("UPDATE ddb_items SET size = x'01'", ["corrupt"; 5]),
            (
                "DROP TABLE ddb_index_entries",
                ["ok", "ok", "unavailable", "ok", "unavailable"],
            ),
            ("DROP TABLE ddb_items", ["unavailable"; 5]),
        ] {
            for reset in [
                "DROP TABLE IF EXISTS ddb_items",
                "DROP TABLE IF EXISTS ddb_index_entries",
                include_str!("../../migrations/sqlite/0008_dynamodb_items.sql"),
                include_str!("../../migrations/sqlite/0009_lone_items_unindexed.sql"),
            ] {
                sqlx::raw_sql(reset).execute(&file.pool).await.unwrap();
            }
            let write = GuardedWrite {
                write: ItemWrite::Put(item()),
                expect: Expect::Anything,
            };
            file.write_items(&[write]).await.expect(tamper);
            sqlx::raw_sql(tamper).execute(&file.pool).await.unwrap();
            let (a, b) = (&file, &sqlx_only);
            let seen = [
                same(
                    tamper,
                    a.get_item("t", &[1, 2]).await,
                    b.get_item("t", &[1, 2]).await,
                ),
                same(
                    tamper,
                    a.partition_items("t", None, &[3]).await,
                    b.partition_items("t", None, &[3]).await,
                ),
                same(
                    tamper,
                    a.partition_items("t", Some("by-x"), &[4]).await,
                    b.partition_items("t", Some("by-x"), &[4]).await,
                ),
                same(
                    tamper,
                    a.scan_items("t", None, Some(&[1]), Some(&[2]), 10).await,
                    b.scan_items("t", None, Some(&[1]), Some(&[2]), 10).await,
                ),
                same(
                    tamper,
                    a.scan_items("t", Some("by-x"), None, Some(&[9]), 10).await,
                    b.scan_items("t", Some("by-x"), None, Some(&[9]), 10).await,
                ),
            ];
            assert_eq!(seen, expected, "{tamper}");
        }
    }

    async fn parameter_and_document(
        s: &SqlStore,
    ) -> (
        crate::Result<Option<ParameterRecord>>,
        crate::Result<Option<Document>>,
    ) {
        let (p, d) = (parameter(), document());
        (
            s.get_parameter(&p.scope, &p.name).await,
            s.get_document(&d.account, &d.region, &d.kind, &d.name)
                .await,
        )
    }

    #[tokio::test]
    async fn parameters_and_documents_read_as_through_sqlx_even_when_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let (file, sqlx_only) = stores(dir.path()).await;
        for (tamper, expected) in [
            ("SELECT 1", ["ok"; 2]),
            (
                "UPDATE ssm_parameter_versions SET labels = 'x'",
                ["corrupt", "ok"],
            ),
            ("UPDATE ssm_parameters SET tags = '[1]'", ["corrupt", "ok"]),
            (
                "UPDATE ssm_parameter_versions SET modified_at = 'x'",
                ["corrupt", "ok"],
            ),
            (
                "UPDATE ssm_parameter_versions SET key_id = x'07'",
                ["corrupt", "ok"],
            ),
            (
                "UPDATE ssm_parameter_versions SET value = x'ff'",
                ["corrupt", "ok"],
            ),
            ("UPDATE documents SET body = x'00'", ["ok", "corrupt"]),
            ("UPDATE documents SET updated_at = 'x'", ["ok", "corrupt"]),
            ("DROP TABLE documents", ["ok", "unavailable"]),
        ] {
            sqlx::raw_sql(
                "DELETE FROM ssm_parameter_versions; DELETE FROM ssm_parameters; \
                 DELETE FROM documents",
            )
            .execute(&file.pool)
            .await
            .unwrap();
            file.put_parameter(&parameter(), true, None).await.unwrap();
            file.put_document(&document(), true).await.unwrap();
            sqlx::raw_sql(tamper).execute(&file.pool).await.unwrap();
            let (pa, da) = parameter_and_document(&file).await;
            let (pb, db) = parameter_and_document(&sqlx_only).await;
            let seen = [same(tamper, pa, pb), same(tamper, da, db)];
            assert_eq!(seen, expected, "{tamper}");
        }
    }

    /// Tasks on several threads each write items through the item writer and read every one back
    /// at once: an acknowledged write is always seen; the idle connections stay within their cap.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_read_after_an_acknowledged_write_sees_it() {
        let dir = tempfile::tempdir().unwrap();
        let (file, _) = stores(dir.path()).await;
        let file = std::sync::Arc::new(file);
        let tasks: Vec<_> = (0..8u8)
            .map(|task| {
                let file = file.clone();
                tokio::spawn(async move {
                    for n in 0..50u8 {
                        let mut written = item();
                        written.item_hash = vec![task, n];
                        written.version = i64::from(n);
                        let write = GuardedWrite {
                            write: ItemWrite::Put(written.clone()),
                            expect: Expect::Anything,
                        };
                        file.write_items(&[write]).await.unwrap();
                        let read = file.get_item("t", &[task, n]).await.unwrap();
                        assert_eq!(read, Some(written));
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let reader = file.sqlite_reader.as_ref().unwrap();
        let idle = reader.idle.lock().unwrap().len();
        assert!((1..=super::MAX_IDLE).contains(&idle), "{idle} idle");
        assert_eq!(
            file.scan_items("t", None, None, None, 1000)
                .await
                .unwrap()
                .len(),
            400
        );
    }
}
