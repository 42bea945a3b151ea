//! The trail's tables on the SQL layer: appending under the chain's lock, lookups, scans, digests,
//! pruning and the counts of the usage report.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::sql::{unavailable, Engine, SqlStore};
use crate::{
    ChainLink, NewTrailEvent, Result, StoreError, TrailCount, TrailDigestRecord, TrailFilter,
    TrailHead, TrailQuery, TrailRow,
};

const COLUMNS: &str =
    "seq, account, region, event_time, event_id, event_name, event_source, read_only, \
     username, access_key_id, resources, body, prev_hash, hash";
const PARAMS_PER_ROW: usize = 14;
/// Rows per INSERT statement (SQLite and PostgreSQL both take this many parameters).
const ROWS_PER_INSERT: usize = 128;

fn row_of(row: &AnyRow) -> Result<TrailRow> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(TrailRow {
        seq: row.try_get("seq").map_err(corrupt)?,
        account: row.try_get("account").map_err(corrupt)?,
        region: row.try_get("region").map_err(corrupt)?,
        event_time: row.try_get("event_time").map_err(corrupt)?,
        event_id: row.try_get("event_id").map_err(corrupt)?,
        event_name: row.try_get("event_name").map_err(corrupt)?,
        event_source: row.try_get("event_source").map_err(corrupt)?,
        read_only: row.try_get::<i64, _>("read_only").map_err(corrupt)? != 0,
        username: row.try_get("username").map_err(corrupt)?,
        access_key_id: row.try_get("access_key_id").map_err(corrupt)?,
        resources: row.try_get("resources").map_err(corrupt)?,
        body: row.try_get("body").map_err(corrupt)?,
        prev_hash: row.try_get("prev_hash").map_err(corrupt)?,
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

/// `($1, $2, …), ($15, …)` for `rows` rows.
fn values_list(rows: usize) -> String {
    let mut out = String::with_capacity(rows * PARAMS_PER_ROW * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..PARAMS_PER_ROW {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * PARAMS_PER_ROW + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

impl SqlStore {
    pub(crate) async fn append_trail(
        &self,
        events: &[NewTrailEvent],
        link: ChainLink,
    ) -> Result<TrailHead> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        // Writing first takes the write lock (SQLite) or the row lock (PostgreSQL) before the head is
        // read, so two writers never chain onto the same head.
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
                values_list(chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for event in chunk {
                seq += 1;
                let next = link(&hash, seq, &event.body);
                query = query
                    .bind(seq)
                    .bind(&event.account)
                    .bind(&event.region)
                    .bind(event.event_time)
                    .bind(&event.event_id)
                    .bind(&event.event_name)
                    .bind(&event.event_source)
                    .bind(event.read_only as i64)
                    .bind(event.username.as_deref())
                    .bind(event.access_key_id.as_deref())
                    .bind(&event.resources)
                    .bind(&event.body)
                    .bind(std::mem::replace(&mut hash, next.clone()))
                    .bind(next);
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
        let contains = match self.engine {
            Engine::Sqlite => "instr(resources, $5) > 0",
            Engine::Postgres => "strpos(resources, $5) > 0",
        };
        let (condition, value): (&str, Option<String>) = match &q.filter {
            None => ("", None),
            Some(TrailFilter::EventId(v)) => (" AND event_id = $5", Some(v.clone())),
            Some(TrailFilter::EventName(v)) => (" AND event_name = $5", Some(v.clone())),
            Some(TrailFilter::ReadOnly(v)) => (
                " AND read_only = CAST($5 AS BIGINT)",
                Some(if *v { "1" } else { "0" }.into()),
            ),
            Some(TrailFilter::Username(v)) => (" AND username = $5", Some(v.clone())),
            Some(TrailFilter::EventSource(v)) => (" AND event_source = $5", Some(v.clone())),
            Some(TrailFilter::AccessKeyId(v)) => (" AND access_key_id = $5", Some(v.clone())),
            Some(TrailFilter::ResourceType(v)) => ("", Some(format!("\n{v}\t"))),
            Some(TrailFilter::ResourceName(v)) => ("", Some(format!("\t{v}\n"))),
        };
        let condition = match &q.filter {
            Some(TrailFilter::ResourceType(_) | TrailFilter::ResourceName(_)) => {
                format!(" AND {contains}")
            }
            _ => condition.to_string(),
        };
        let (before_time, before_seq) = q.before.unwrap_or((i64::MAX, i64::MAX));
        let (p_time, p_seq, p_limit) = if value.is_some() {
            ("$6", "$7", "$8")
        } else {
            ("$5", "$6", "$7")
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM trail_events WHERE account = $1 AND region = $2 \
             AND event_time >= $3 AND event_time <= $4{condition} \
             AND (event_time < {p_time} OR (event_time = {p_time} AND seq < {p_seq})) \
             ORDER BY event_time DESC, seq DESC LIMIT {p_limit}"
        );
        let mut query = sqlx::query(&sql)
            .bind(&q.scope.account)
            .bind(&q.scope.region)
            .bind(q.start_ms)
            .bind(q.end_ms);
        if let Some(v) = value {
            query = query.bind(v);
        }
        let rows = query
            .bind(before_time)
            .bind(before_seq)
            .bind(q.limit)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
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
             AND access_key_id IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
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
