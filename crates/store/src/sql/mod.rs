//! The one SQL layer: sqlx's `Any` driver over SQLite (embedded default) or PostgreSQL (by URL).
//! Queries use `$N` placeholders, which both engines accept; only the migrations differ per engine
//! (column types), and each migration runs in a transaction.
//!
//! One file per resource area holds its queries and row conversions: `keys` (KMS keys, versions,
//! aliases), `parameters` (SSM), `identity` (access keys, settings, job leases), `documents` (IAM,
//! Route53 and ACM records), `trail` (the trail's tables), `items` (DynamoDB items and their index
//! entries) and `probe` (the health probe). The
//! [`Store`] implementation here only routes each method to its area.
//!
//! On a SQLite file, the busiest statements bypass sqlx: trail appends and item writes run on one
//! shared write connection (`sqlite_writer`, `item_writer`), and the hot reads on a small pool of
//! reading connections (`sqlite_reader`). A record read both ways is decoded once, over `row`.

mod documents;
mod identity;
mod item_writer;
mod items;
mod keys;
#[cfg(test)]
mod migration_tests;
mod parameters;
mod probe;
mod row;
mod sqlite_reader;
mod sqlite_writer;
pub(crate) mod trail;

use async_trait::async_trait;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

use crate::clock::now_ms;
use crate::{
    AccessKeyRecord, AliasRecord, ChainLink, Document, ExpiredItem, GuardedWrite, ItemRecord,
    ItemStats, KeyRecord, KeyVersionRecord, NewTrailEvent, ParameterRecord, ParameterVersionRecord,
    Result, Scope, Store, StoreError, TrailCount, TrailDigestRecord, TrailHead, TrailQuery,
    TrailRow,
};

/// (version, SQLite text, PostgreSQL text); append only.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        include_str!("../../migrations/sqlite/0001_init.sql"),
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        include_str!("../../migrations/sqlite/0002_ssm_parameters.sql"),
        include_str!("../../migrations/postgres/0002_ssm_parameters.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_documents.sql"),
        include_str!("../../migrations/postgres/0003_documents.sql"),
    ),
    (
        4,
        include_str!("../../migrations/sqlite/0004_trail.sql"),
        include_str!("../../migrations/postgres/0004_trail.sql"),
    ),
    (
        5,
        include_str!("../../migrations/sqlite/0005_leases.sql"),
        include_str!("../../migrations/postgres/0005_leases.sql"),
    ),
    (
        6,
        include_str!("../../migrations/sqlite/0006_kms_key_attributes.sql"),
        include_str!("../../migrations/postgres/0006_kms_key_attributes.sql"),
    ),
    (
        7,
        include_str!("../../migrations/sqlite/0007_access_key_user_id.sql"),
        include_str!("../../migrations/postgres/0007_access_key_user_id.sql"),
    ),
    (
        8,
        include_str!("../../migrations/sqlite/0008_dynamodb_items.sql"),
        include_str!("../../migrations/postgres/0008_dynamodb_items.sql"),
    ),
    (
        9,
        include_str!("../../migrations/sqlite/0009_lone_items_unindexed.sql"),
        include_str!("../../migrations/postgres/0009_lone_items_unindexed.sql"),
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
    /// SQLite files only: the connection that appends the trail and writes items.
    pub(crate) sqlite_writer: Option<std::sync::Arc<sqlite_writer::SqliteWriter>>,
    /// SQLite files only: the connections of the hot reads (items, parameters, documents).
    pub(crate) sqlite_reader: Option<std::sync::Arc<sqlite_reader::SqliteReader>>,
    /// SQLite files only: the thread that commits item writes in groups.
    pub(crate) item_writer: Option<std::sync::Arc<item_writer::SqliteItemWriter>>,
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
        let (sqlite_writer, sqlite_reader) = if engine == Engine::Sqlite {
            (
                sqlite_writer::SqliteWriter::for_url(url),
                sqlite_reader::SqliteReader::for_url(url),
            )
        } else {
            (None, None)
        };
        let item_writer = sqlite_writer
            .clone()
            .map(|w| std::sync::Arc::new(item_writer::SqliteItemWriter::new(w)));
        Ok(SqlStore {
            pool,
            engine,
            sqlite_writer,
            sqlite_reader,
            item_writer,
        })
    }

    /// The SQLite URL for a file inside the data dir.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }

    async fn migrate(&self) -> Result<()> {
        self.migrate_through(i64::MAX).await
    }

    /// Applies the pending migrations numbered up to `last`. A store migrated further than this
    /// build knows is refused: its records may be written in ways this build misreads (since
    /// migration 9, a Query of an older build finds no item of a table without a sort key).
    pub(crate) async fn migrate_through(&self, last: i64) -> Result<()> {
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS m2sec_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        let applied: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM m2sec_migrations")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?
            .try_get("v")
            .map_err(unavailable)?;
        if let Some(applied) = applied.filter(|&v| v > known) {
            return Err(StoreError::Unavailable(format!(
                "the store is at schema version {applied}, newer than this build of m2sec knows \
                 ({known}): run that version of m2sec or a later one"
            )));
        }
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
        keys::create_key(self, key, first_version).await
    }

    async fn create_related_key(
        &self,
        key: &KeyRecord,
        versions: &[KeyVersionRecord],
        related: &[KeyRecord],
    ) -> Result<()> {
        keys::create_related_key(self, key, versions, related).await
    }

    async fn update_key(&self, key: &KeyRecord) -> Result<()> {
        keys::update_key(self, key).await
    }

    async fn update_keys(&self, keys: &[KeyRecord]) -> Result<()> {
        keys::update_keys(self, keys).await
    }

    async fn add_key_version(&self, key: &KeyRecord, version: &KeyVersionRecord) -> Result<()> {
        keys::add_key_version(self, key, version).await
    }

    async fn remove_key_material(&self, key: &KeyRecord) -> Result<()> {
        keys::remove_key_material(self, key).await
    }

    async fn get_key(&self, scope: &Scope, key_id: &str) -> Result<Option<KeyRecord>> {
        keys::get_key(self, scope, key_id).await
    }

    async fn list_keys(
        &self,
        scope: &Scope,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>> {
        keys::list_keys(self, scope, after, limit).await
    }

    async fn key_versions(&self, scope: &Scope, key_id: &str) -> Result<Vec<KeyVersionRecord>> {
        keys::key_versions(self, scope, key_id).await
    }

    async fn delete_key(&self, scope: &Scope, key_id: &str) -> Result<()> {
        keys::delete_key(self, scope, key_id).await
    }

    async fn keys_due(&self, now_ms: i64) -> Result<Vec<KeyRecord>> {
        keys::keys_due(self, now_ms).await
    }

    async fn create_alias(&self, alias: &AliasRecord) -> Result<()> {
        keys::create_alias(self, alias).await
    }

    async fn update_alias(&self, alias: &AliasRecord) -> Result<bool> {
        keys::update_alias(self, alias).await
    }

    async fn delete_alias(&self, scope: &Scope, alias_name: &str) -> Result<bool> {
        keys::delete_alias(self, scope, alias_name).await
    }

    async fn get_alias(&self, scope: &Scope, alias_name: &str) -> Result<Option<AliasRecord>> {
        keys::get_alias(self, scope, alias_name).await
    }

    async fn list_aliases(&self, scope: &Scope) -> Result<Vec<AliasRecord>> {
        keys::list_aliases(self, scope).await
    }

    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<()> {
        identity::create_access_key(self, key).await
    }

    async fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>> {
        identity::get_access_key(self, access_key_id).await
    }

    async fn list_access_keys(
        &self,
        account: &str,
        user_name: Option<&str>,
    ) -> Result<Vec<AccessKeyRecord>> {
        identity::list_access_keys(self, account, user_name).await
    }

    async fn set_access_key_status(&self, access_key_id: &str, status: &str) -> Result<bool> {
        identity::set_access_key_status(self, access_key_id, status).await
    }

    async fn delete_access_key(&self, access_key_id: &str) -> Result<bool> {
        identity::delete_access_key(self, access_key_id).await
    }

    async fn put_document(&self, doc: &Document, create: bool) -> Result<()> {
        documents::put_document(self, doc, create).await
    }

    async fn get_document(
        &self,
        account: &str,
        region: &str,
        kind: &str,
        name: &str,
    ) -> Result<Option<Document>> {
        documents::get_document(self, account, region, kind, name).await
    }

    async fn list_documents(
        &self,
        account: &str,
        region: &str,
        kind: &str,
    ) -> Result<Vec<Document>> {
        documents::list_documents(self, account, region, kind).await
    }

    async fn documents_of_kind(&self, kind: &str) -> Result<Vec<Document>> {
        documents::documents_of_kind(self, kind).await
    }

    async fn delete_document(
        &self,
        account: &str,
        region: &str,
        kind: &str,
        name: &str,
    ) -> Result<bool> {
        documents::delete_document(self, account, region, kind, name).await
    }

    async fn get_setting(&self, name: &str) -> Result<Option<String>> {
        identity::get_setting(self, name).await
    }

    async fn put_setting(&self, name: &str, value: &str) -> Result<()> {
        identity::put_setting(self, name, value).await
    }

    async fn try_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool> {
        identity::try_lease(self, name, holder, now_ms, ttl_ms).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        identity::release_lease(self, name, holder).await
    }

    async fn get_parameter(&self, scope: &Scope, name: &str) -> Result<Option<ParameterRecord>> {
        parameters::get_parameter(self, scope, name).await
    }

    async fn list_parameters(&self, scope: &Scope, prefix: &str) -> Result<Vec<ParameterRecord>> {
        parameters::list_parameters(self, scope, prefix).await
    }

    async fn count_parameters(&self, scope: &Scope) -> Result<(u64, u64)> {
        parameters::count_parameters(self, scope).await
    }

    async fn parameter_versions(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<Vec<ParameterVersionRecord>> {
        parameters::parameter_versions(self, scope, name).await
    }

    async fn put_parameter(
        &self,
        parameter: &ParameterRecord,
        create: bool,
        drop_version: Option<u32>,
    ) -> Result<()> {
        parameters::put_parameter(self, parameter, create, drop_version).await
    }

    async fn set_parameter_labels(
        &self,
        scope: &Scope,
        name: &str,
        labels: &[(u32, Vec<String>)],
    ) -> Result<()> {
        parameters::set_parameter_labels(self, scope, name, labels).await
    }

    async fn set_parameter_tags(
        &self,
        scope: &Scope,
        name: &str,
        tags: &[(String, String)],
    ) -> Result<()> {
        parameters::set_parameter_tags(self, scope, name, tags).await
    }

    async fn delete_parameter(&self, scope: &Scope, name: &str) -> Result<bool> {
        parameters::delete_parameter(self, scope, name).await
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
        keys::all_keys(self).await
    }

    async fn get_item(&self, table_id: &str, item_hash: &[u8]) -> Result<Option<ItemRecord>> {
        items::get_item(self, table_id, item_hash).await
    }

    async fn get_items(&self, keys: &[(&str, &[u8])]) -> Result<Vec<Option<ItemRecord>>> {
        items::get_items(self, keys).await
    }

    async fn partition_items(
        &self,
        table_id: &str,
        index: Option<&str>,
        partition_hash: &[u8],
    ) -> Result<Vec<ItemRecord>> {
        items::partition_items(self, table_id, index, partition_hash).await
    }

    async fn scan_items(
        &self,
        table_id: &str,
        index: Option<&str>,
        after: Option<&[u8]>,
        before: Option<&[u8]>,
        limit: u32,
    ) -> Result<Vec<ItemRecord>> {
        items::scan_items(self, table_id, index, after, before, limit).await
    }

    async fn write_items(&self, writes: &[GuardedWrite]) -> Result<()> {
        items::write_items(self, writes).await
    }

    fn queue_items(
        &self,
        writes: Vec<GuardedWrite>,
    ) -> std::result::Result<crate::QueuedWrites, Vec<GuardedWrite>> {
        match &self.item_writer {
            Some(writer) => Ok(writer.queue(writes)),
            None => Err(writes),
        }
    }

    async fn delete_table_items(&self, table_id: &str, limit: u32) -> Result<u64> {
        items::delete_table_items(self, table_id, limit).await
    }

    async fn delete_index_entries(&self, table_id: &str, index: &str) -> Result<u64> {
        items::delete_index_entries(self, table_id, index).await
    }

    async fn item_stats(&self, table_id: &str) -> Result<ItemStats> {
        items::item_stats(self, table_id).await
    }

    async fn expired_items(&self, now_secs: i64, limit: u32) -> Result<Vec<ExpiredItem>> {
        items::expired_items(self, now_secs, limit).await
    }
}
