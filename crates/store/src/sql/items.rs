//! DynamoDB items and their secondary index entries on the SQL layer.
//!
//! A batch of writes commits only if every write's expectation holds, so checking and writing must
//! not interleave with another writer's, on this node or another. SQLite's writers take the
//! database's write lock as they begin (`BEGIN IMMEDIATE`: a deferred transaction that read first
//! could not upgrade once another writer committed). PostgreSQL's take a transaction-scoped advisory
//! lock on every item they touch, in one global order, before reading any: row locks alone would not
//! do, as an item that must be absent has no row to lock.
//!
//! An item's row keeps the list of its index partitions (`indexes`), which names exactly the index
//! entries to remove when the item is replaced or deleted, without an index by item on the entries.

use rusqlite::types::ToSql;
use sqlx::{Any, Row, Transaction};

use super::row::Columns;
use super::sqlite_reader;
use super::{unavailable, Engine, SqlStore};
use crate::{
    Expect, ExpiredItem, GuardedWrite, ItemRecord, ItemStats, ItemWrite, Result, StoreError,
};

/// The columns every item read selects first, in this order: [`item_from_row`] reads them by position.
const ITEM_COLUMNS: &str = "i.table_id, i.item_hash, i.partition_hash, i.body, i.version, \
     i.expires_at, i.size, i.indexes";

/// Rows per multi-row statement: a few parameters each, far under either engine's limit.
const ROWS_PER_STATEMENT: usize = 100;

type Tx = Transaction<'static, Any>;

/// An item's index partitions: (index name, partition hash).
pub(super) type IndexList = Vec<(String, Vec<u8>)>;

/// An item's index partitions as stored in its row: per entry, the name's length (u32, big-endian),
/// the name, the partition hash's length and the hash.
pub(super) fn encode_indexes(indexes: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, hash) in indexes {
        for part in [name.as_bytes(), hash.as_slice()] {
            let len = u32::try_from(part.len()).expect("an index name or hash under 4 GiB");
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(part);
        }
    }
    out
}

pub(super) fn decode_indexes(mut bytes: &[u8]) -> Result<IndexList> {
    let corrupt = || StoreError::Corrupt("an item's index list is truncated".into());
    let take = |bytes: &mut &[u8]| -> Result<Vec<u8>> {
        let (len, rest) = bytes.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = u32::from_be_bytes(*len) as usize;
        if rest.len() < len {
            return Err(corrupt());
        }
        let (part, rest) = rest.split_at(len);
        *bytes = rest;
        Ok(part.to_vec())
    };
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let name = String::from_utf8(take(&mut bytes)?)
            .map_err(|_| StoreError::Corrupt("an item's index name is not UTF-8".into()))?;
        out.push((name, take(&mut bytes)?));
    }
    Ok(out)
}

/// An item read by a statement selecting [`ITEM_COLUMNS`] first.
fn item_from_row(row: &impl Columns) -> Result<ItemRecord> {
    let indexes: Vec<u8> = row.column_at(7)?;
    Ok(ItemRecord {
        table_id: row.column_at(0)?,
        item_hash: row.column_at(1)?,
        partition_hash: row.column_at(2)?,
        body: row.column_at(3)?,
        version: row.column_at(4)?,
        expires_at: row.column_at(5)?,
        size: row.column_at(6)?,
        indexes: decode_indexes(&indexes)?,
    })
}

/// The advisory lock standing for one item (FNV-1a): the same on every node. Two items sharing one
/// only take turns needlessly.
fn lock_key(table_id: &str, item_hash: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in table_id
        .bytes()
        .chain([0xff])
        .chain(item_hash.iter().copied())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

pub(super) fn target(write: &ItemWrite) -> (&str, &[u8]) {
    match write {
        ItemWrite::Put(item) => (&item.table_id, &item.item_hash),
        ItemWrite::Delete {
            table_id,
            item_hash,
        }
        | ItemWrite::Check {
            table_id,
            item_hash,
        } => (table_id, item_hash),
    }
}

impl SqlStore {
    /// A transaction that may write items, holding SQLite's write lock from its start.
    async fn begin_item_writes(&self) -> Result<Tx> {
        let tx = match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.pool.begin().await,
        };
        tx.map_err(unavailable)
    }

    /// On PostgreSQL, waits for and takes the items' advisory locks, held until the transaction
    /// ends; in ascending order, so two writers never each hold what the other waits for. SQLite's
    /// write lock already covers every item.
    async fn lock_items<'a>(
        &self,
        tx: &mut Tx,
        items: impl Iterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<()> {
        if self.engine != Engine::Postgres {
            return Ok(());
        }
        let mut keys: Vec<i64> = items.map(|(t, h)| lock_key(t, h)).collect();
        keys.sort_unstable();
        keys.dedup();
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let values: Vec<String> = (1..=chunk.len()).map(|n| format!("(${n})")).collect();
            // A VALUES list is scanned in the order written, so the locks come in ascending order.
            // `IS NULL` gives the void result a type the driver can read.
            let sql = format!(
                "SELECT pg_advisory_xact_lock(k) IS NULL AS locked FROM (VALUES {}) AS t(k)",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(*key);
            }
            query.execute(&mut **tx).await.map_err(unavailable)?;
        }
        Ok(())
    }
}

/// The version and index partitions of an item, if it exists.
async fn current_item(
    tx: &mut Tx,
    table_id: &str,
    item_hash: &[u8],
) -> Result<Option<(i64, IndexList)>> {
    let row = sqlx::query(
        "SELECT version, indexes FROM ddb_items WHERE table_id = $1 AND item_hash = $2",
    )
    .bind(table_id)
    .bind(item_hash)
    .fetch_optional(&mut **tx)
    .await
    .map_err(unavailable)?;
    let Some(row) = row else { return Ok(None) };
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    let indexes: Vec<u8> = row.try_get("indexes").map_err(corrupt)?;
    Ok(Some((
        row.try_get("version").map_err(corrupt)?,
        decode_indexes(&indexes)?,
    )))
}

/// Removes index entries of one table, each given as (index name, partition hash, item hash).
async fn delete_entries(
    tx: &mut Tx,
    table_id: &str,
    entries: &[(&str, &[u8], &[u8])],
) -> Result<()> {
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        // ORs of whole keys rather than a row value IN a VALUES list: SQLite plans the former as
        // one primary key lookup each, the latter as a scan of the table's entries.
        let terms: Vec<String> = (0..chunk.len())
            .map(|r| {
                let n = 2 + 3 * r;
                format!(
                    "(index_name = ${n} AND partition_hash = ${} AND item_hash = ${})",
                    n + 1,
                    n + 2
                )
            })
            .collect();
        let sql = format!(
            "DELETE FROM ddb_index_entries WHERE table_id = $1 AND ({})",
            terms.join(" OR ")
        );
        let mut query = sqlx::query(&sql).bind(table_id);
        for (name, partition_hash, item_hash) in chunk {
            query = query.bind(*name).bind(*partition_hash).bind(*item_hash);
        }
        query.execute(&mut **tx).await.map_err(unavailable)?;
    }
    Ok(())
}

async fn insert_entries(tx: &mut Tx, item: &ItemRecord) -> Result<()> {
    for chunk in item.indexes.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|r| format!("($1, ${}, ${}, $2)", 3 + 2 * r, 4 + 2 * r))
            .collect();
        let sql = format!(
            "INSERT INTO ddb_index_entries (table_id, index_name, partition_hash, item_hash) VALUES {} \
             ON CONFLICT DO NOTHING",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(&item.table_id).bind(&item.item_hash);
        for (name, partition_hash) in chunk {
            query = query.bind(name).bind(partition_hash);
        }
        query.execute(&mut **tx).await.map_err(unavailable)?;
    }
    Ok(())
}

fn entries_of<'a>(
    item_hash: &'a [u8],
    indexes: &'a [(String, Vec<u8>)],
) -> impl Iterator<Item = (&'a str, &'a [u8], &'a [u8])> {
    indexes
        .iter()
        .map(move |(name, partition_hash)| (name.as_str(), partition_hash.as_slice(), item_hash))
}

async fn put_item(
    tx: &mut Tx,
    item: &ItemRecord,
    old_indexes: Option<&[(String, Vec<u8>)]>,
) -> Result<()> {
    // Only the entries the item leaves are deleted; the ones it keeps are inserted again and left
    // as they were. So an entry missing despite the row's list (its index deleted, then created
    // again under its name) is restored by the next write of the item.
    if let Some(old) = old_indexes {
        let gone: Vec<_> = entries_of(&item.item_hash, old)
            .filter(|(name, partition_hash, _)| {
                !item
                    .indexes
                    .iter()
                    .any(|(n, p)| n == name && p == partition_hash)
            })
            .collect();
        delete_entries(tx, &item.table_id, &gone).await?;
    }
    // `partition_hash` is not rewritten: the item's hash, the key's, fixes it, and rewriting it
    // would move the item's entry in the partition index for nothing.
    sqlx::query(
        "INSERT INTO ddb_items (table_id, item_hash, partition_hash, body, version, expires_at, size, indexes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (table_id, item_hash) DO UPDATE SET \
         body = excluded.body, version = excluded.version, \
         expires_at = excluded.expires_at, size = excluded.size, indexes = excluded.indexes",
    )
    .bind(&item.table_id)
    .bind(&item.item_hash)
    .bind(&item.partition_hash)
    .bind(&item.body)
    .bind(item.version)
    .bind(item.expires_at)
    .bind(item.size)
    .bind(encode_indexes(&item.indexes))
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    insert_entries(tx, item).await
}

/// Deletes items of one table with their entries (given by their rows' index lists); returns how
/// many items were deleted.
async fn delete_items(tx: &mut Tx, table_id: &str, items: &[(Vec<u8>, IndexList)]) -> Result<u64> {
    let entries: Vec<_> = items
        .iter()
        .flat_map(|(item_hash, indexes)| entries_of(item_hash, indexes))
        .collect();
    delete_entries(tx, table_id, &entries).await?;
    let mut deleted = 0;
    for chunk in items.chunks(ROWS_PER_STATEMENT) {
        let hashes: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "DELETE FROM ddb_items WHERE table_id = $1 AND item_hash IN ({})",
            hashes.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(table_id);
        for (item_hash, _) in chunk {
            query = query.bind(item_hash);
        }
        deleted += query
            .execute(&mut **tx)
            .await
            .map_err(unavailable)?
            .rows_affected();
    }
    Ok(deleted)
}

/// Runs a transaction of item writes to its end in a task of its own. A request dropped midway (its
/// client gone) would otherwise drop the transaction's future at any await: after SQLite's
/// `BEGIN IMMEDIATE` but before sqlx knows of it, the connection went back to the pool inside a
/// transaction that held the database's write lock for good.
async fn detached<T, F>(s: &SqlStore, work: impl FnOnce(SqlStore) -> F) -> Result<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T>> + Send + 'static,
{
    let store = SqlStore {
        pool: s.pool.clone(),
        engine: s.engine,
        sqlite_writer: None,
        sqlite_reader: None,
        item_writer: None,
    };
    tokio::spawn(work(store))
        .await
        .map_err(|e| StoreError::Unavailable(format!("item write task: {e}")))?
}

pub(super) async fn write_items(s: &SqlStore, writes: &[GuardedWrite]) -> Result<()> {
    let writes = writes.to_vec();
    if let Some(writer) = &s.item_writer {
        return writer.queue(writes).await;
    }
    detached(
        s,
        move |s| async move { write_items_now(&s, &writes).await },
    )
    .await
}

async fn write_items_now(s: &SqlStore, writes: &[GuardedWrite]) -> Result<()> {
    let mut tx = s.begin_item_writes().await?;
    s.lock_items(&mut tx, writes.iter().map(|w| target(&w.write)))
        .await?;
    for (index, write) in writes.iter().enumerate() {
        let (table_id, item_hash) = target(&write.write);
        let current = current_item(&mut tx, table_id, item_hash).await?;
        let holds = match write.expect {
            Expect::Anything => true,
            Expect::Absent => current.is_none(),
            Expect::Version(v) => current.as_ref().map(|c| c.0) == Some(v),
        };
        if !holds {
            tx.rollback().await.map_err(unavailable)?;
            return Err(StoreError::Conflict { index });
        }
        match (&write.write, current) {
            (ItemWrite::Put(item), current) => {
                put_item(&mut tx, item, current.as_ref().map(|c| c.1.as_slice())).await?;
            }
            (ItemWrite::Delete { .. }, Some((_, indexes))) => {
                delete_items(&mut tx, table_id, &[(item_hash.to_vec(), indexes)]).await?;
            }
            (ItemWrite::Delete { .. }, None) | (ItemWrite::Check { .. }, _) => {}
        }
    }
    tx.commit().await.map_err(unavailable)
}

fn get_item_sql() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!("SELECT {ITEM_COLUMNS} FROM ddb_items i WHERE i.table_id = $1 AND i.item_hash = $2")
    })
}

pub(super) async fn get_item(
    s: &SqlStore,
    table_id: &str,
    item_hash: &[u8],
) -> Result<Option<ItemRecord>> {
    let sql = get_item_sql();
    if let Some(reader) = &s.sqlite_reader {
        return reader.read(|conn| {
            sqlite_reader::first(conn, sql, &[&table_id, &item_hash], |row| {
                item_from_row(row)
            })
        });
    }
    let row = sqlx::query(sql)
        .bind(table_id)
        .bind(item_hash)
        .fetch_optional(&s.pool)
        .await
        .map_err(unavailable)?;
    row.as_ref().map(item_from_row).transpose()
}

pub(super) async fn get_items(
    s: &SqlStore,
    keys: &[(&str, &[u8])],
) -> Result<Vec<Option<ItemRecord>>> {
    match keys {
        [] => return Ok(Vec::new()),
        [(table_id, item_hash)] => return Ok(vec![get_item(s, table_id, item_hash).await?]),
        _ => {}
    }
    if let Some(reader) = &s.sqlite_reader {
        // Point reads in one read transaction: one snapshot, and the connection checks once
        // whether its cached pages still hold.
        let sql = get_item_sql();
        return reader.read(|conn| {
            sqlite_reader::in_one_snapshot(conn, || {
                keys.iter()
                    .map(|(table_id, item_hash)| {
                        sqlite_reader::first(conn, sql, &[table_id, item_hash], |row| {
                            item_from_row(row)
                        })
                    })
                    .collect()
            })
        });
    }
    // One statement reads one snapshot on either engine (a transaction takes at most 100 items,
    // one statement's worth). ORs of whole keys, as in `delete_entries`: one lookup each.
    let mut found = Vec::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let terms: Vec<String> = (0..chunk.len())
            .map(|r| {
                format!(
                    "(i.table_id = ${} AND i.item_hash = ${})",
                    2 * r + 1,
                    2 * r + 2
                )
            })
            .collect();
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM ddb_items i WHERE {}",
            terms.join(" OR ")
        );
        let mut query = sqlx::query(&sql);
        for (table_id, item_hash) in chunk {
            query = query.bind(*table_id).bind(*item_hash);
        }
        for row in query.fetch_all(&s.pool).await.map_err(unavailable)? {
            found.push(item_from_row(&row)?);
        }
    }
    Ok(keys
        .iter()
        .map(|(table_id, item_hash)| {
            found
                .iter()
                .position(|r| r.table_id == *table_id && r.item_hash == *item_hash)
                .map(|i| found[i].clone())
        })
        .collect())
}

/// The items of a partition of the table, or (`of_index`) of an index. The table's own partitions
/// list only items whose partition hash is not their item hash: the partition index (partial, with
/// this same condition, which the query must state for the index to serve it) holds no others.
pub(super) fn partition_sql(of_index: bool) -> String {
    if of_index {
        format!(
            "SELECT {ITEM_COLUMNS} FROM ddb_index_entries e JOIN ddb_items i \
             ON i.table_id = e.table_id AND i.item_hash = e.item_hash \
             WHERE e.table_id = $1 AND e.partition_hash = $2 AND e.index_name = $3 ORDER BY e.item_hash"
        )
    } else {
        format!(
            "SELECT {ITEM_COLUMNS} FROM ddb_items i WHERE i.table_id = $1 AND i.partition_hash = $2 \
             AND i.partition_hash <> i.item_hash ORDER BY i.item_hash"
        )
    }
}

pub(super) async fn partition_items(
    s: &SqlStore,
    table_id: &str,
    index: Option<&str>,
    partition_hash: &[u8],
) -> Result<Vec<ItemRecord>> {
    let sql = partition_sql(index.is_some());
    if let Some(reader) = &s.sqlite_reader {
        let mut params: Vec<&dyn ToSql> = vec![&table_id, &partition_hash];
        if let Some(index) = &index {
            params.push(index);
        }
        return reader
            .read(|conn| sqlite_reader::all(conn, &sql, &params, |row| item_from_row(row)));
    }
    let mut query = sqlx::query(&sql).bind(table_id).bind(partition_hash);
    if let Some(index) = index {
        query = query.bind(index);
    }
    let rows = query.fetch_all(&s.pool).await.map_err(unavailable)?;
    rows.iter().map(item_from_row).collect()
}

pub(super) async fn scan_items(
    s: &SqlStore,
    table_id: &str,
    index: Option<&str>,
    after: Option<&[u8]>,
    before: Option<&[u8]>,
    limit: u32,
) -> Result<Vec<ItemRecord>> {
    // Over an index, its entries give the order and the bounds (a sparse index is not read through
    // every item of the table); the items give the rest.
    let (mut sql, bounded, mut n): (_, &[&str], _) = match index {
        None => (
            format!("SELECT {ITEM_COLUMNS} FROM ddb_items i WHERE i.table_id = $1"),
            &["i.item_hash"],
            2,
        ),
        // The bounds go on both sides of the join: PostgreSQL may merge the two in item hash
        // order, and would otherwise read the items from the table's first one on every page.
        Some(_) => (
            format!(
                "SELECT {ITEM_COLUMNS} FROM ddb_index_entries e JOIN ddb_items i \
                 ON i.table_id = e.table_id AND i.item_hash = e.item_hash \
                 WHERE e.table_id = $1 AND e.index_name = $2"
            ),
            &["e.item_hash", "i.item_hash"],
            3,
        ),
    };
    for (bound, op) in [(after, '>'), (before, '<')] {
        if bound.is_some() {
            for column in bounded {
                sql += &format!(" AND {column} {op} ${n}");
            }
            n += 1;
        }
    }
    let hash = bounded[0];
    sql += &format!(" ORDER BY {hash} LIMIT ${n}");
    let limit = i64::from(limit);
    if let Some(reader) = &s.sqlite_reader {
        let mut params: Vec<&dyn ToSql> = vec![&table_id];
        if let Some(index) = &index {
            params.push(index);
        }
        for bound in [&after, &before].into_iter().flatten() {
            params.push(bound);
        }
        params.push(&limit);
        return reader
            .read(|conn| sqlite_reader::all(conn, &sql, &params, |row| item_from_row(row)));
    }
    let mut query = sqlx::query(&sql).bind(table_id);
    if let Some(index) = index {
        query = query.bind(index);
    }
    for bound in [after, before].into_iter().flatten() {
        query = query.bind(bound);
    }
    let rows = query
        .bind(limit)
        .fetch_all(&s.pool)
        .await
        .map_err(unavailable)?;
    rows.iter().map(item_from_row).collect()
}

pub(super) async fn delete_table_items(s: &SqlStore, table_id: &str, limit: u32) -> Result<u64> {
    let table_id = table_id.to_string();
    detached(s, move |s| async move {
        delete_table_items_now(&s, &table_id, limit).await
    })
    .await
}

async fn delete_table_items_now(s: &SqlStore, table_id: &str, limit: u32) -> Result<u64> {
    let mut tx = s.begin_item_writes().await?;
    let rows = sqlx::query(
        "SELECT item_hash FROM ddb_items WHERE table_id = $1 ORDER BY item_hash LIMIT $2",
    )
    .bind(table_id)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(unavailable)?;
    let hashes = rows
        .iter()
        .map(|row| row.try_get::<Vec<u8>, _>("item_hash"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    s.lock_items(&mut tx, hashes.iter().map(|h| (table_id, h.as_slice())))
        .await?;
    // Read the index lists under the locks: a writer may have replaced an item meanwhile.
    let mut items = Vec::with_capacity(hashes.len());
    for item_hash in hashes {
        if let Some((_, indexes)) = current_item(&mut tx, table_id, &item_hash).await? {
            items.push((item_hash, indexes));
        }
    }
    let deleted = delete_items(&mut tx, table_id, &items).await?;
    tx.commit().await.map_err(unavailable)?;
    Ok(deleted)
}

pub(super) async fn delete_index_entries(s: &SqlStore, table_id: &str, index: &str) -> Result<u64> {
    let done = sqlx::query("DELETE FROM ddb_index_entries WHERE table_id = $1 AND index_name = $2")
        .bind(table_id)
        .bind(index)
        .execute(&s.pool)
        .await
        .map_err(unavailable)?;
    Ok(done.rows_affected())
}

pub(super) async fn item_stats(s: &SqlStore, table_id: &str) -> Result<ItemStats> {
    // PostgreSQL sums BIGINTs as NUMERIC, which the driver does not read.
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes \
         FROM ddb_items WHERE table_id = $1",
    )
    .bind(table_id)
    .fetch_one(&s.pool)
    .await
    .map_err(unavailable)?;
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(ItemStats {
        count: row.try_get::<i64, _>("n").map_err(corrupt)? as u64,
        bytes: row.try_get::<i64, _>("bytes").map_err(corrupt)? as u64,
    })
}

pub(super) async fn expired_items(
    s: &SqlStore,
    now_secs: i64,
    limit: u32,
) -> Result<Vec<ExpiredItem>> {
    let rows = sqlx::query(
        "SELECT table_id, item_hash, version FROM ddb_items \
         WHERE expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
    )
    .bind(now_secs)
    .bind(i64::from(limit))
    .fetch_all(&s.pool)
    .await
    .map_err(unavailable)?;
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    rows.iter()
        .map(|row| {
            Ok(ExpiredItem {
                table_id: row.try_get("table_id").map_err(corrupt)?,
                item_hash: row.try_get("item_hash").map_err(corrupt)?,
                version: row.try_get("version").map_err(corrupt)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lists_round_trip_and_truncation_is_corrupt() {
        let indexes = vec![
            ("by-date".to_string(), vec![1, 2, 3]),
            ("é".to_string(), vec![]),
        ];
        let bytes = encode_indexes(&indexes);
        assert_eq!(decode_indexes(&bytes).unwrap(), indexes);
        assert_eq!(decode_indexes(&[]).unwrap(), vec![]);
        // Cut anywhere but between entries, the list no longer reads.
        let first = encode_indexes(&indexes[..1]).len();
        for cut in (1..bytes.len()).filter(|&cut| cut != first) {
            assert!(
                matches!(decode_indexes(&bytes[..cut]), Err(StoreError::Corrupt(_))),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn lock_keys_depend_on_table_and_item() {
        assert_eq!(lock_key("t1", b"ab"), lock_key("t1", b"ab"));
        assert_ne!(lock_key("t1", b"ab"), lock_key("t2", b"ab"));
        assert_ne!(lock_key("t1", b"ab"), lock_key("t1", b"ba"));
        // The separator keeps the table id and the hash apart.
        assert_ne!(lock_key("t1", b"a"), lock_key("t1a", b""));
    }

    #[test]
    fn item_columns_are_in_the_order_item_from_row_reads_them() {
        let names: Vec<&str> = ITEM_COLUMNS
            .split(',')
            .map(|c| c.trim().trim_start_matches("i."))
            .collect();
        assert_eq!(
            names,
            [
                "table_id",
                "item_hash",
                "partition_hash",
                "body",
                "version",
                "expires_at",
                "size",
                "indexes"
            ]
        );
    }
}
