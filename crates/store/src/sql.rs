//! The one SQL layer: sqlx's `Any` driver over SQLite (embedded default) or PostgreSQL (by URL).
//! Queries use `$N` placeholders, which both engines accept; only the migrations differ per engine
//! (column types), and each migration runs in a transaction.

use async_trait::async_trait;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::{
    AccessKeyRecord, AliasRecord, ChainLink, Document, KeyRecord, KeyVersionRecord, NewTrailEvent,
    ParameterRecord, ParameterVersionRecord, Result, Scope, Store, StoreError, TrailCount,
    TrailDigestRecord, TrailHead, TrailQuery, TrailRow,
};

/// (version, SQLite text, PostgreSQL text); append only.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../migrations/sqlite/0002_ssm_parameters.sql"),
        include_str!("../migrations/postgres/0002_ssm_parameters.sql"),
    ),
    (
        3,
        include_str!("../migrations/sqlite/0003_documents.sql"),
        include_str!("../migrations/postgres/0003_documents.sql"),
    ),
    (
        4,
        include_str!("../migrations/sqlite/0004_trail.sql"),
        include_str!("../migrations/postgres/0004_trail.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_leases.sql"),
        include_str!("../migrations/postgres/0005_leases.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_kms_key_attributes.sql"),
        include_str!("../migrations/postgres/0006_kms_key_attributes.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_access_key_user_id.sql"),
        include_str!("../migrations/postgres/0007_access_key_user_id.sql"),
    ),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Engine {
    Sqlite,
    Postgres,
}

pub struct SqlStore {
    pub(crate) pool: AnyPool,
    pub(crate) engine: Engine,
    /// SQLite files only: the trail's own appending connection.
    pub(crate) trail_appender: Option<std::sync::Arc<crate::sql_trail::SqliteAppender>>,
}

pub(crate) fn unavailable(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::AlreadyExists;
        }
    }
    StoreError::Unavailable(e.to_string())
}

impl SqlStore {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`), creating the SQLite file if needed, and
    /// applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = Self::connect_unmigrated(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without touching the schema.
    pub(crate) async fn connect_unmigrated(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            return Err(StoreError::Unavailable(format!(
                "unsupported store URL scheme (expected sqlite:// or postgres://): {}",
                url.split(':').next().unwrap_or("")
            )));
        };
        let mut options =
            // No ping before every query: a broken connection fails its query (a retryable 503)
            // instead, and hot paths that read the store (SSM GetParameter) save a round trip each.
            AnyPoolOptions::new()
                .test_before_acquire(false)
                .max_connections(if engine == Engine::Sqlite { 4 } else { 16 });
        if engine == Engine::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers run beside the writer; FULL syncs the WAL on every commit so an
                    // acknowledged write survives power loss, not only a process crash.
                    for pragma in [
                        "PRAGMA journal_mode=WAL",
                        "PRAGMA synchronous=FULL",
                        "PRAGMA busy_timeout=10000",
                    ] {
                        sqlx::Executor::execute(&mut *conn, pragma).await?;
                    }
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await.map_err(unavailable)?;
        let trail_appender = if engine == Engine::Sqlite {
            crate::sql_trail::SqliteAppender::for_url(url)
        } else {
            None
        };
        Ok(SqlStore {
            pool,
            engine,
            trail_appender,
        })
    }

    /// The SQLite URL for a file inside the data dir.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }

    async fn migrate(&self) -> Result<()> {
        self.migrate_through(i64::MAX).await
    }

    /// Applies the pending migrations numbered up to `last`.
    pub(crate) async fn migrate_through(&self, last: i64) -> Result<()> {
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS m2sec_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        for (version, sqlite, postgres) in MIGRATIONS.iter().filter(|m| m.0 <= last) {
            let mut tx = self.pool.begin().await.map_err(unavailable)?;
            let done = sqlx::query("SELECT version FROM m2sec_migrations WHERE version = $1")
                .bind(*version)
                .fetch_optional(&mut *tx)
                .await
                .map_err(unavailable)?;
            if done.is_some() {
                continue;
            }
            let text = if self.engine == Engine::Sqlite {
                sqlite
            } else {
                postgres
            };
            sqlx::raw_sql(text)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
            sqlx::query("INSERT INTO m2sec_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
            tx.commit().await.map_err(unavailable)?;
            tracing::info!(version, "applied store migration");
        }
        Ok(())
    }
}

use crate::clock::now_ms;

const KEY_COLUMNS: &str = "account, region, key_id, description, key_usage, key_spec, origin, key_manager, key_state, \
     created_at, deletion_date, pending_window_days, rotation_enabled, rotation_period_days, next_rotation_at, \
     current_version, policy, tags, attributes";

fn key_from_row(row: &AnyRow) -> Result<KeyRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    let tags: String = row.try_get("tags").map_err(corrupt)?;
    let attributes: String = row.try_get("attributes").map_err(corrupt)?;
    Ok(KeyRecord {
        scope: Scope {
            account: row.try_get("account").map_err(corrupt)?,
            region: row.try_get("region").map_err(corrupt)?,
        },
        key_id: row.try_get("key_id").map_err(corrupt)?,
        description: row.try_get("description").map_err(corrupt)?,
        key_usage: row.try_get("key_usage").map_err(corrupt)?,
        key_spec: row.try_get("key_spec").map_err(corrupt)?,
        origin: row.try_get("origin").map_err(corrupt)?,
        key_manager: row.try_get("key_manager").map_err(corrupt)?,
        key_state: row.try_get("key_state").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
        deletion_date: row.try_get("deletion_date").map_err(corrupt)?,
        pending_window_days: row.try_get("pending_window_days").map_err(corrupt)?,
        rotation_enabled: row.try_get::<i64, _>("rotation_enabled").map_err(corrupt)? != 0,
        rotation_period_days: row.try_get("rotation_period_days").map_err(corrupt)?,
        next_rotation_at: row.try_get("next_rotation_at").map_err(corrupt)?,
        current_version: row.try_get::<i64, _>("current_version").map_err(corrupt)? as u32,
        policy: row.try_get("policy").map_err(corrupt)?,
        tags: serde_json::from_str(&tags).map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?,
        attributes: serde_json::from_str(&attributes)
            .map_err(|e| StoreError::Corrupt(format!("attributes: {e}")))?,
    })
}

fn version_from_row(row: &AnyRow) -> Result<KeyVersionRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(KeyVersionRecord {
        scope: Scope {
            account: row.try_get("account").map_err(corrupt)?,
            region: row.try_get("region").map_err(corrupt)?,
        },
        key_id: row.try_get("key_id").map_err(corrupt)?,
        version: row.try_get::<i64, _>("version").map_err(corrupt)? as u32,
        wrapped_material: row.try_get("wrapped_material").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
        rotation_type: row.try_get("rotation_type").map_err(corrupt)?,
    })
}

fn alias_from_row(row: &AnyRow) -> Result<AliasRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(AliasRecord {
        scope: Scope {
            account: row.try_get("account").map_err(corrupt)?,
            region: row.try_get("region").map_err(corrupt)?,
        },
        alias_name: row.try_get("alias_name").map_err(corrupt)?,
        target_key_id: row.try_get("target_key_id").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
        updated_at: row.try_get("updated_at").map_err(corrupt)?,
    })
}

fn tags_json(key: &KeyRecord) -> String {
    serde_json::to_string(&key.tags).expect("tags serialize")
}

fn attributes_json(key: &KeyRecord) -> String {
    serde_json::to_string(&key.attributes).expect("attributes serialize")
}

/// Writes a key with `sql`, whose `$1`…`$19` are the columns of [`KEY_COLUMNS`] in that order.
async fn write_key<'c, E>(exec: E, sql: &str, key: &KeyRecord) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(sql)
        .bind(&key.scope.account)
        .bind(&key.scope.region)
        .bind(&key.key_id)
        .bind(&key.description)
        .bind(&key.key_usage)
        .bind(&key.key_spec)
        .bind(&key.origin)
        .bind(&key.key_manager)
        .bind(&key.key_state)
        .bind(key.created_at)
        .bind(key.deletion_date)
        .bind(key.pending_window_days)
        .bind(key.rotation_enabled as i64)
        .bind(key.rotation_period_days)
        .bind(key.next_rotation_at)
        .bind(key.current_version as i64)
        .bind(&key.policy)
        .bind(tags_json(key))
        .bind(attributes_json(key))
        .execute(exec)
        .await
        .map_err(unavailable)?;
    Ok(())
}

async fn update_key_in<'c, E>(exec: E, key: &KeyRecord) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    // created_at ($10) never changes; writing it back keeps one binding order for both statements.
    write_key(
        exec,
        "UPDATE kms_keys SET description = $4, key_usage = $5, key_spec = $6, origin = $7, key_manager = $8, \
         key_state = $9, created_at = $10, deletion_date = $11, pending_window_days = $12, rotation_enabled = $13, \
         rotation_period_days = $14, next_rotation_at = $15, current_version = $16, policy = $17, tags = $18, \
         attributes = $19 WHERE account = $1 AND region = $2 AND key_id = $3",
        key,
    )
    .await
}

async fn insert_key_in<'c, E>(exec: E, key: &KeyRecord) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    write_key(
        exec,
        &format!(
            "INSERT INTO kms_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        ),
        key,
    )
    .await
}

async fn insert_version<'c, E>(exec: E, v: &KeyVersionRecord) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO kms_key_versions (account, region, key_id, version, wrapped_material, created_at, rotation_type) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&v.scope.account)
    .bind(&v.scope.region)
    .bind(&v.key_id)
    .bind(v.version as i64)
    .bind(&v.wrapped_material)
    .bind(v.created_at)
    .bind(&v.rotation_type)
    .execute(exec)
    .await
    .map_err(unavailable)?;
    Ok(())
}

const PARAMETER_VERSION_COLUMNS: &str =
    "v.version, v.parameter_type, v.value, v.key_id, v.description, \
     v.allowed_pattern, v.data_type, v.tier, v.labels, v.policies, v.modified_at, v.modified_by";

fn parameter_version_from_row(row: &AnyRow) -> Result<ParameterVersionRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    let labels: String = row.try_get("labels").map_err(corrupt)?;
    Ok(ParameterVersionRecord {
        version: row.try_get::<i64, _>("version").map_err(corrupt)? as u32,
        parameter_type: row.try_get("parameter_type").map_err(corrupt)?,
        value: row.try_get("value").map_err(corrupt)?,
        key_id: row.try_get("key_id").map_err(corrupt)?,
        description: row.try_get("description").map_err(corrupt)?,
        allowed_pattern: row.try_get("allowed_pattern").map_err(corrupt)?,
        data_type: row.try_get("data_type").map_err(corrupt)?,
        tier: row.try_get("tier").map_err(corrupt)?,
        labels: serde_json::from_str(&labels)
            .map_err(|e| StoreError::Corrupt(format!("labels: {e}")))?,
        policies: row.try_get("policies").map_err(corrupt)?,
        modified_at: row.try_get("modified_at").map_err(corrupt)?,
        modified_by: row.try_get("modified_by").map_err(corrupt)?,
    })
}

fn parameter_from_row(row: &AnyRow) -> Result<ParameterRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    let tags: String = row.try_get("tags").map_err(corrupt)?;
    Ok(ParameterRecord {
        scope: Scope {
            account: row.try_get("account").map_err(corrupt)?,
            region: row.try_get("region").map_err(corrupt)?,
        },
        name: row.try_get("name").map_err(corrupt)?,
        tags: serde_json::from_str(&tags).map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?,
        current: parameter_version_from_row(row)?,
    })
}

fn parameters_query(condition: &str) -> String {
    format!(
        "SELECT p.account, p.region, p.name, p.tags, {PARAMETER_VERSION_COLUMNS} FROM ssm_parameters p \
         JOIN ssm_parameter_versions v ON v.account = p.account AND v.region = p.region AND v.name = p.name \
         AND v.version = p.current_version WHERE p.account = $1 AND p.region = $2 AND {condition} ORDER BY p.name"
    )
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializes")
}

const ACCESS_KEY_COLUMNS: &str =
    "access_key_id, account, user_name, user_id, principal_arn, wrapped_secret, status, created_at";

fn access_key_from_row(row: &AnyRow) -> Result<AccessKeyRecord> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(AccessKeyRecord {
        access_key_id: row.try_get("access_key_id").map_err(corrupt)?,
        account: row.try_get("account").map_err(corrupt)?,
        user_name: row.try_get("user_name").map_err(corrupt)?,
        user_id: row.try_get("user_id").map_err(corrupt)?,
        principal_arn: row.try_get("principal_arn").map_err(corrupt)?,
        wrapped_secret: row.try_get("wrapped_secret").map_err(corrupt)?,
        status: row.try_get("status").map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
    })
}

fn document_from_row(row: &AnyRow) -> Result<Document> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(Document {
        account: row.try_get("account").map_err(corrupt)?,
        region: row.try_get("region").map_err(corrupt)?,
        kind: row.try_get("kind").map_err(corrupt)?,
        name: row.try_get("name").map_err(corrupt)?,
        body: row.try_get("body").map_err(corrupt)?,
        updated_at: row.try_get("updated_at").map_err(corrupt)?,
    })
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }

    async fn create_key(
        &self,
        key: &KeyRecord,
        first_version: Option<&KeyVersionRecord>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        insert_key_in(&mut *tx, key).await?;
        if let Some(first_version) = first_version {
            insert_version(&mut *tx, first_version).await?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn create_related_key(
        &self,
        key: &KeyRecord,
        versions: &[KeyVersionRecord],
        related: &[KeyRecord],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        insert_key_in(&mut *tx, key).await?;
        for version in versions {
            insert_version(&mut *tx, version).await?;
        }
        for other in related {
            update_key_in(&mut *tx, other).await?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn update_key(&self, key: &KeyRecord) -> Result<()> {
        update_key_in(&self.pool, key).await
    }

    async fn update_keys(&self, keys: &[KeyRecord]) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        for key in keys {
            update_key_in(&mut *tx, key).await?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn add_key_version(&self, key: &KeyRecord, version: &KeyVersionRecord) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        insert_version(&mut *tx, version).await?;
        update_key_in(&mut *tx, key).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn remove_key_material(&self, key: &KeyRecord) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query(
            "DELETE FROM kms_key_versions WHERE account = $1 AND region = $2 AND key_id = $3",
        )
        .bind(&key.scope.account)
        .bind(&key.scope.region)
        .bind(&key.key_id)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        update_key_in(&mut *tx, key).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn get_key(&self, scope: &Scope, key_id: &str) -> Result<Option<KeyRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM kms_keys WHERE account = $1 AND region = $2 AND key_id = $3"
        ))
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn list_keys(
        &self,
        scope: &Scope,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM kms_keys WHERE account = $1 AND region = $2 AND key_id > $3 \
             ORDER BY key_id LIMIT $4"
        ))
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(key_from_row).collect()
    }

    async fn key_versions(&self, scope: &Scope, key_id: &str) -> Result<Vec<KeyVersionRecord>> {
        let rows = sqlx::query(
            "SELECT account, region, key_id, version, wrapped_material, created_at, rotation_type \
             FROM kms_key_versions WHERE account = $1 AND region = $2 AND key_id = $3 ORDER BY version",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(key_id)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(version_from_row).collect()
    }

    async fn delete_key(&self, scope: &Scope, key_id: &str) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        for sql in [
            "DELETE FROM kms_aliases WHERE account = $1 AND region = $2 AND target_key_id = $3",
            "DELETE FROM kms_key_versions WHERE account = $1 AND region = $2 AND key_id = $3",
            "DELETE FROM kms_keys WHERE account = $1 AND region = $2 AND key_id = $3",
        ] {
            sqlx::query(sql)
                .bind(&scope.account)
                .bind(&scope.region)
                .bind(key_id)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn keys_due(&self, now_ms: i64) -> Result<Vec<KeyRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM kms_keys WHERE deletion_date <= $1 OR next_rotation_at <= $1 \
             ORDER BY account, region, key_id"
        ))
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(key_from_row).collect()
    }

    async fn create_alias(&self, alias: &AliasRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO kms_aliases (account, region, alias_name, target_key_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&alias.scope.account)
        .bind(&alias.scope.region)
        .bind(&alias.alias_name)
        .bind(&alias.target_key_id)
        .bind(alias.created_at)
        .bind(alias.updated_at)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn update_alias(&self, alias: &AliasRecord) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE kms_aliases SET target_key_id = $4, updated_at = $5 \
             WHERE account = $1 AND region = $2 AND alias_name = $3",
        )
        .bind(&alias.scope.account)
        .bind(&alias.scope.region)
        .bind(&alias.alias_name)
        .bind(&alias.target_key_id)
        .bind(alias.updated_at)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_alias(&self, scope: &Scope, alias_name: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM kms_aliases WHERE account = $1 AND region = $2 AND alias_name = $3",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(alias_name)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_alias(&self, scope: &Scope, alias_name: &str) -> Result<Option<AliasRecord>> {
        let row = sqlx::query(
            "SELECT account, region, alias_name, target_key_id, created_at, updated_at FROM kms_aliases \
             WHERE account = $1 AND region = $2 AND alias_name = $3",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(alias_name)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.as_ref().map(alias_from_row).transpose()
    }

    async fn list_aliases(&self, scope: &Scope) -> Result<Vec<AliasRecord>> {
        let rows = sqlx::query(
            "SELECT account, region, alias_name, target_key_id, created_at, updated_at FROM kms_aliases \
             WHERE account = $1 AND region = $2 ORDER BY alias_name",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(alias_from_row).collect()
    }

    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO access_keys (access_key_id, account, principal_arn, wrapped_secret, status, created_at, user_name, user_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&key.access_key_id)
        .bind(&key.account)
        .bind(&key.principal_arn)
        .bind(&key.wrapped_secret)
        .bind(&key.status)
        .bind(key.created_at)
        .bind(&key.user_name)
        .bind(&key.user_id)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE access_key_id = $1"
        ))
        .bind(access_key_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.as_ref().map(access_key_from_row).transpose()
    }

    async fn list_access_keys(
        &self,
        account: &str,
        user_name: Option<&str>,
    ) -> Result<Vec<AccessKeyRecord>> {
        let by_user = format!(
            "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE account = $1 AND user_name = $2 ORDER BY created_at, access_key_id"
        );
        let by_root = format!(
            "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE account = $1 AND user_name IS NULL ORDER BY created_at, access_key_id"
        );
        let query = match user_name {
            Some(user) => sqlx::query(&by_user).bind(account).bind(user),
            None => sqlx::query(&by_root).bind(account),
        };
        let rows = query.fetch_all(&self.pool).await.map_err(unavailable)?;
        rows.iter().map(access_key_from_row).collect()
    }

    async fn set_access_key_status(&self, access_key_id: &str, status: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE access_keys SET status = $2 WHERE access_key_id = $1")
            .bind(access_key_id)
            .bind(status)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_access_key(&self, access_key_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1")
            .bind(access_key_id)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_document(&self, doc: &Document, create: bool) -> Result<()> {
        let sql = if create {
            "INSERT INTO documents (account, region, kind, name, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6)"
        } else {
            "INSERT INTO documents (account, region, kind, name, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account, region, kind, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at"
        };
        sqlx::query(sql)
            .bind(&doc.account)
            .bind(&doc.region)
            .bind(&doc.kind)
            .bind(&doc.name)
            .bind(&doc.body)
            .bind(doc.updated_at)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get_document(
        &self,
        account: &str,
        region: &str,
        kind: &str,
        name: &str,
    ) -> Result<Option<Document>> {
        let row = sqlx::query(
            "SELECT account, region, kind, name, body, updated_at FROM documents \
             WHERE account = $1 AND region = $2 AND kind = $3 AND name = $4",
        )
        .bind(account)
        .bind(region)
        .bind(kind)
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.as_ref().map(document_from_row).transpose()
    }

    async fn list_documents(
        &self,
        account: &str,
        region: &str,
        kind: &str,
    ) -> Result<Vec<Document>> {
        let rows = sqlx::query(
            "SELECT account, region, kind, name, body, updated_at FROM documents \
             WHERE account = $1 AND region = $2 AND kind = $3 ORDER BY name",
        )
        .bind(account)
        .bind(region)
        .bind(kind)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(document_from_row).collect()
    }

    async fn documents_of_kind(&self, kind: &str) -> Result<Vec<Document>> {
        let rows = sqlx::query(
            "SELECT account, region, kind, name, body, updated_at FROM documents \
             WHERE kind = $1 ORDER BY account, region, name",
        )
        .bind(kind)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(document_from_row).collect()
    }

    async fn delete_document(
        &self,
        account: &str,
        region: &str,
        kind: &str,
        name: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM documents WHERE account = $1 AND region = $2 AND kind = $3 AND name = $4",
        )
        .bind(account)
        .bind(region)
        .bind(kind)
        .bind(name)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_setting(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(|r| {
            r.try_get("value")
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .transpose()
    }

    async fn put_setting(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn try_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool> {
        // One statement: a new lease is inserted; an existing one is taken over only when it has
        // expired or is already ours (the row lock of the conflict makes concurrent askers take turns,
        // and the loser sees the winner's row and changes nothing).
        let done = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
        )
        .bind(name)
        .bind(holder)
        .bind(now_ms.saturating_add(ttl_ms.max(0)))
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_parameter(&self, scope: &Scope, name: &str) -> Result<Option<ParameterRecord>> {
        let row = sqlx::query(&parameters_query("p.name = $3"))
            .bind(&scope.account)
            .bind(&scope.region)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.as_ref().map(parameter_from_row).transpose()
    }

    async fn list_parameters(&self, scope: &Scope, prefix: &str) -> Result<Vec<ParameterRecord>> {
        // A range on the primary key rather than LIKE: names may contain '_' and '%'.
        let rows = sqlx::query(&parameters_query(
            "p.name >= $3 AND substr(p.name, 1, CAST($4 AS INTEGER)) = $3",
        ))
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(prefix)
        .bind(prefix.chars().count() as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(parameter_from_row).collect()
    }

    async fn count_parameters(&self, scope: &Scope) -> Result<(u64, u64)> {
        let rows = sqlx::query(
            "SELECT v.tier, COUNT(*) AS n FROM ssm_parameters p JOIN ssm_parameter_versions v \
             ON v.account = p.account AND v.region = p.region AND v.name = p.name AND v.version = p.current_version \
             WHERE p.account = $1 AND p.region = $2 GROUP BY v.tier",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let (mut standard, mut advanced) = (0, 0);
        for row in rows {
            let tier: String = row
                .try_get("tier")
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let n: i64 = row
                .try_get("n")
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if tier == "Advanced" {
                advanced += n as u64;
            } else {
                standard += n as u64;
            }
        }
        Ok((standard, advanced))
    }

    async fn parameter_versions(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<Vec<ParameterVersionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {PARAMETER_VERSION_COLUMNS} FROM ssm_parameter_versions v \
             WHERE v.account = $1 AND v.region = $2 AND v.name = $3 ORDER BY v.version"
        ))
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(name)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(parameter_version_from_row).collect()
    }

    async fn put_parameter(
        &self,
        parameter: &ParameterRecord,
        create: bool,
        drop_version: Option<u32>,
    ) -> Result<()> {
        let (scope, name, v) = (&parameter.scope, &parameter.name, &parameter.current);
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let sql = if create {
            "INSERT INTO ssm_parameters (account, region, name, current_version, tags) VALUES ($1, $2, $3, $4, $5)"
        } else {
            "UPDATE ssm_parameters SET current_version = $4, tags = $5 WHERE account = $1 AND region = $2 AND name = $3"
        };
        let done = sqlx::query(sql)
            .bind(&scope.account)
            .bind(&scope.region)
            .bind(name)
            .bind(v.version as i64)
            .bind(json(&parameter.tags))
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Unavailable(format!(
                "parameter {name} changed concurrently"
            )));
        }
        if let Some(old) = drop_version {
            sqlx::query("DELETE FROM ssm_parameter_versions WHERE account = $1 AND region = $2 AND name = $3 AND version = $4")
                .bind(&scope.account)
                .bind(&scope.region)
                .bind(name)
                .bind(old as i64)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        sqlx::query(
            "INSERT INTO ssm_parameter_versions (account, region, name, version, parameter_type, value, key_id, \
             description, allowed_pattern, data_type, tier, labels, policies, modified_at, modified_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(name)
        .bind(v.version as i64)
        .bind(&v.parameter_type)
        .bind(&v.value)
        .bind(&v.key_id)
        .bind(&v.description)
        .bind(&v.allowed_pattern)
        .bind(&v.data_type)
        .bind(&v.tier)
        .bind(json(&v.labels))
        .bind(&v.policies)
        .bind(v.modified_at)
        .bind(&v.modified_by)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn set_parameter_labels(
        &self,
        scope: &Scope,
        name: &str,
        labels: &[(u32, Vec<String>)],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        for (version, list) in labels {
            sqlx::query(
                "UPDATE ssm_parameter_versions SET labels = $5 WHERE account = $1 AND region = $2 AND name = $3 AND version = $4",
            )
            .bind(&scope.account)
            .bind(&scope.region)
            .bind(name)
            .bind(*version as i64)
            .bind(json(list))
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn set_parameter_tags(
        &self,
        scope: &Scope,
        name: &str,
        tags: &[(String, String)],
    ) -> Result<()> {
        sqlx::query(
            "UPDATE ssm_parameters SET tags = $4 WHERE account = $1 AND region = $2 AND name = $3",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(name)
        .bind(json(&tags))
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn delete_parameter(&self, scope: &Scope, name: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query(
            "DELETE FROM ssm_parameter_versions WHERE account = $1 AND region = $2 AND name = $3",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        let done = sqlx::query(
            "DELETE FROM ssm_parameters WHERE account = $1 AND region = $2 AND name = $3",
        )
        .bind(&scope.account)
        .bind(&scope.region)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn trail_append(
        &self,
        events: std::sync::Arc<Vec<NewTrailEvent>>,
        link: ChainLink,
        sync: bool,
    ) -> Result<TrailHead> {
        self.append_trail(events, link, sync).await
    }

    async fn trail_head(&self) -> Result<TrailHead> {
        self.head_of_trail().await
    }

    async fn trail_lookup(&self, query: &TrailQuery) -> Result<Vec<TrailRow>> {
        self.lookup_trail(query).await
    }

    async fn trail_scan(&self, after_seq: i64, limit: i64) -> Result<Vec<TrailRow>> {
        self.scan_trail(after_seq, limit).await
    }

    async fn trail_first_seq(&self) -> Result<Option<i64>> {
        self.trail_seq_where("SELECT MIN(seq) FROM trail_events", None)
            .await
    }

    async fn trail_last_seq_before(&self, time_ms: i64) -> Result<Option<i64>> {
        self.trail_seq_where(
            "SELECT MAX(seq) FROM trail_events WHERE event_time < $1",
            Some(time_ms),
        )
        .await
    }

    async fn trail_mean_record_bytes(&self, newest: i64) -> Result<Option<f64>> {
        self.trail_mean_bytes(newest).await
    }

    async fn trail_put_digest(&self, digest: &TrailDigestRecord) -> Result<()> {
        self.put_trail_digest(digest).await
    }

    async fn trail_digests(&self) -> Result<Vec<TrailDigestRecord>> {
        self.trail_digest_list("").await
    }

    async fn trail_last_digest(&self) -> Result<Option<TrailDigestRecord>> {
        Ok(self
            .trail_digest_list(" DESC LIMIT 1")
            .await?
            .into_iter()
            .next())
    }

    async fn trail_prune(&self, through_seq: i64) -> Result<u64> {
        self.prune_trail(through_seq).await
    }

    async fn trail_counts(
        &self,
        account: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<TrailCount>> {
        self.count_trail(account, start_ms, end_ms).await
    }

    async fn all_keys(&self) -> Result<Vec<KeyRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM kms_keys ORDER BY account, region, key_id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(key_from_row).collect()
    }
}
