//! The trail's tables on the SQL layer: appending under the chain's lock, lookups, scans, digests,
//! pruning and the counts of the usage report.
//!
//! Appends happen for every call, so on SQLite they bypass sqlx: they run on the file's shared write
//! connection ([`super::sqlite_writer`]) with cached prepared statements.

use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{unavailable, SqlStore};
use crate::{
    ChainLink, NewTrailEvent, Result, StoreError, TrailCount, TrailDigestRecord, TrailHead,
    TrailQuery, TrailRow,
};

const COLUMNS: &str =
    "seq, account, region, event_time, event_source, event_name, flags, body, hash";
const READ_ONLY: i64 = 1;
const SERVICE_EVENT: i64 = 2;
/// Rows per INSERT statement on PostgreSQL.
const ROWS_PER_INSERT: usize = 32;

fn flags(e: &NewTrailEvent) -> i64 {
    (if e.read_only { READ_ONLY } else { 0 }) | (if e.service_event { SERVICE_EVENT } else { 0 })
}

fn row_of(row: &AnyRow) -> Result<TrailRow> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    let flags: i64 = row.try_get("flags").map_err(corrupt)?;
    Ok(TrailRow {
        seq: row.try_get("seq").map_err(corrupt)?,
        event: NewTrailEvent {
            account: row.try_get("account").map_err(corrupt)?,
            region: row.try_get("region").map_err(corrupt)?,
            event_time: row.try_get("event_time").map_err(corrupt)?,
            event_source: row.try_get("event_source").map_err(corrupt)?,
            event_name: row.try_get("event_name").map_err(corrupt)?,
            read_only: flags & READ_ONLY != 0,
            service_event: flags & SERVICE_EVENT != 0,
            body: row.try_get("body").map_err(corrupt)?,
        },
        hash: row.try_get("hash").map_err(corrupt)?,
    })
}

fn digest_of(row: &AnyRow) -> Result<TrailDigestRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(TrailDigestRecord {
        last_seq: row.try_get("last_seq").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
        body: row.try_get("body").map_err(corrupt)?,
        signature: row.try_get("signature").map_err(corrupt)?,
    })
}

/// Rows per INSERT statement on the SQLite appender (the rest of a batch goes one row a statement).
const SQLITE_ROWS_PER_INSERT: usize = 16;

/// The appender's INSERT of `rows` rows (1 or [`SQLITE_ROWS_PER_INSERT`]).
fn sqlite_insert(rows: usize) -> &'static str {
    static TEXT: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
    let text = TEXT.get_or_init(|| {
        let of = |n: usize| {
            format!(
                "INSERT INTO trail_events ({COLUMNS}) VALUES {}",
                vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; n].join(", ")
            )
        };
        [of(1), of(SQLITE_ROWS_PER_INSERT)]
    });
    &text[usize::from(rows != 1)]
}

/// Appends on SQLite's shared write connection.
fn sqlite_append(
    conn: &rusqlite::Connection,
    events: &[NewTrailEvent],
    link: ChainLink,
) -> rusqlite::Result<TrailHead> {
    // IMMEDIATE takes the write lock before the head is read. The statements are cached: a batch
    // then prepares nothing. On an error the caller drops the connection, which rolls back.
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let (mut seq, mut hash): (i64, String) = conn
        .prepare_cached("SELECT seq, hash FROM trail_head WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    // Full blocks of rows go in one statement each: SQLite then opens its cursor and finishes the
    // statement once per block, not once per row.
    for block in events.chunks(SQLITE_ROWS_PER_INSERT) {
        let rows_per_statement = if block.len() == SQLITE_ROWS_PER_INSERT {
            SQLITE_ROWS_PER_INSERT
        } else {
            1
        };
        let mut insert = conn.prepare_cached(sqlite_insert(rows_per_statement))?;
        for rows in block.chunks(rows_per_statement) {
            for (r, e) in rows.iter().enumerate() {
                seq += 1;
                hash = link(&hash, seq, &e.body);
                let at = r * 9;
                insert.raw_bind_parameter(at + 1, seq)?;
                insert.raw_bind_parameter(at + 2, e.account.as_str())?;
                insert.raw_bind_parameter(at + 3, e.region.as_str())?;
                insert.raw_bind_parameter(at + 4, e.event_time)?;
                insert.raw_bind_parameter(at + 5, e.event_source.as_str())?;
                insert.raw_bind_parameter(at + 6, e.event_name.as_str())?;
                insert.raw_bind_parameter(at + 7, flags(e))?;
                insert.raw_bind_parameter(at + 8, e.body.as_str())?;
                insert.raw_bind_parameter(at + 9, hash.as_str())?;
            }
            insert.raw_execute()?;
        }
    }
    conn.prepare_cached("UPDATE trail_head SET seq = ?1, hash = ?2 WHERE id = 1")?
        .execute(rusqlite::params![seq, hash.as_str()])?;
    conn.prepare_cached("COMMIT")?.execute([])?;
    Ok(TrailHead { seq, hash })
}

/// `($1, $2, …), ($10, …)` for `rows` rows of `per_row` parameters.
fn values_list(rows: usize, per_row: usize) -> String {
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=per_row)
                .map(|c| format!("${}", r * per_row + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl SqlStore {
    pub(crate) async fn append_trail(
        &self,
        events: Arc<Vec<NewTrailEvent>>,
        link: ChainLink,
        sync: bool,
    ) -> Result<TrailHead> {
        if let Some(writer) = &self.sqlite_writer {
            let writer = writer.clone();
            return tokio::task::spawn_blocking(move || {
                writer.with(sync, |conn| sqlite_append(conn, &events, link))
            })
            .await
            .map_err(|e| StoreError::Unavailable(format!("trail writer thread: {e}")))?;
        }
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        // Writing first takes the row lock (PostgreSQL) or the write lock (SQLite) before the head
        // is read, so two writers never chain onto the same head.
        sqlx::query("UPDATE trail_head SET seq = seq WHERE id = 1")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        let head = sqlx::query("SELECT seq, hash FROM trail_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(unavailable)?;
        let mut seq: i64 = head.try_get("seq").map_err(unavailable)?;
        let mut hash: String = head.try_get("hash").map_err(unavailable)?;
        for chunk in events.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO trail_events ({COLUMNS}) VALUES {}",
                values_list(chunk.len(), 9)
            );
            let mut query = sqlx::query(&sql);
            for e in chunk {
                seq += 1;
                hash = link(&hash, seq, &e.body);
                query = query
                    .bind(seq)
                    .bind(&e.account)
                    .bind(&e.region)
                    .bind(e.event_time)
                    .bind(&e.event_source)
                    .bind(&e.event_name)
                    .bind(flags(e))
                    .bind(&e.body)
                    .bind(hash.clone());
            }
            query.execute(&mut *tx).await.map_err(unavailable)?;
        }
        sqlx::query("UPDATE trail_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(&hash)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(TrailHead { seq, hash })
    }

    pub(crate) async fn head_of_trail(&self) -> Result<TrailHead> {
        let row = sqlx::query("SELECT seq, hash FROM trail_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(TrailHead {
            seq: row.try_get("seq").map_err(unavailable)?,
            hash: row.try_get("hash").map_err(unavailable)?,
        })
    }

    pub(crate) async fn lookup_trail(&self, q: &TrailQuery) -> Result<Vec<TrailRow>> {
        let name = if q.event_name.is_some() {
            " AND event_name = $7"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM trail_events WHERE account = $1 AND region = $2 \
             AND event_time >= $3 AND event_time <= $4 AND seq < $5{name} \
             ORDER BY seq DESC LIMIT $6"
        );
        let mut query = sqlx::query(&sql)
            .bind(&q.scope.account)
            .bind(&q.scope.region)
            .bind(q.start_ms)
            .bind(q.end_ms)
            .bind(q.before_seq.unwrap_or(i64::MAX))
            .bind(q.limit);
        if let Some(n) = &q.event_name {
            query = query.bind(n);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(unavailable)?;
        rows.iter().map(row_of).collect()
    }

    pub(crate) async fn scan_trail(&self, after_seq: i64, limit: i64) -> Result<Vec<TrailRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM trail_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(row_of).collect()
    }

    pub(crate) async fn trail_seq_where(&self, sql: &str, arg: Option<i64>) -> Result<Option<i64>> {
        let mut query = sqlx::query(sql);
        if let Some(a) = arg {
            query = query.bind(a);
        }
        let row = query.fetch_one(&self.pool).await.map_err(unavailable)?;
        row.try_get::<Option<i64>, _>(0).map_err(unavailable)
    }

    pub(crate) async fn trail_mean_bytes(&self, newest: i64) -> Result<Option<f64>> {
        let row = sqlx::query(
            "SELECT CAST(AVG(LENGTH(body) + LENGTH(hash)) AS DOUBLE PRECISION) FROM \
             (SELECT body, hash FROM trail_events ORDER BY seq DESC LIMIT $1) newest",
        )
        .bind(newest)
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        row.try_get::<Option<f64>, _>(0).map_err(unavailable)
    }

    pub(crate) async fn put_trail_digest(&self, d: &TrailDigestRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO trail_digests (last_seq, created_at, body, signature) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (last_seq) DO NOTHING",
        )
        .bind(d.last_seq)
        .bind(d.created_at)
        .bind(&d.body)
        .bind(&d.signature)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    /// Digests by `last_seq`; `order` completes the ORDER BY (`" DESC LIMIT 1"`).
    pub(crate) async fn trail_digest_list(&self, order: &str) -> Result<Vec<TrailDigestRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT last_seq, created_at, body, signature FROM trail_digests ORDER BY last_seq{order}"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(digest_of).collect()
    }

    pub(crate) async fn prune_trail(&self, through_seq: i64) -> Result<u64> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let done = sqlx::query("DELETE FROM trail_events WHERE seq <= $1")
            .bind(through_seq)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::query("DELETE FROM trail_digests WHERE last_seq < $1")
            .bind(through_seq)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    pub(crate) async fn count_trail(
        &self,
        account: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<TrailCount>> {
        let rows = sqlx::query(
            "SELECT region, event_time / 86400000 AS day, event_source, event_name, COUNT(*) AS n \
             FROM trail_events WHERE account = $1 AND event_time >= $2 AND event_time < $3 \
             AND flags < 2 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        )
        .bind(account)
        .bind(start_ms)
        .bind(end_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
        rows.iter()
            .map(|row| {
                Ok(TrailCount {
                    region: row.try_get("region").map_err(corrupt)?,
                    day: row.try_get("day").map_err(corrupt)?,
                    event_source: row.try_get("event_source").map_err(corrupt)?,
                    event_name: row.try_get("event_name").map_err(corrupt)?,
                    count: row.try_get("n").map_err(corrupt)?,
                })
            })
            .collect()
    }
}
