//! Storage for m2sec: one trait ([`Store`]), one SQL implementation ([`SqlStore`]) that runs on the
//! embedded SQLite default and on PostgreSQL, and one conformance [`test_suite`] run on both.
//!
//! The store holds records, not rules: what a key state means, or whether an alias may be created, is
//! decided by the services. Secrets arrive here already wrapped by the root key.

mod clock;
pub mod lease;
mod records;
mod sql;
pub mod test_suite;

pub use clock::now_ms;
pub use records::*;
pub use sql::SqlStore;

use async_trait::async_trait;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique record already exists (alias name, key id, access key id).
    #[error("record already exists")]
    AlreadyExists,
    /// The database could not be reached or failed; the request may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored record could not be read back (corruption or a newer schema).
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    /// The expectation of write number `index` of [`Store::write_items`] did not hold; nothing was
    /// written.
    #[error("write {index} found the item changed")]
    Conflict { index: usize },
}

/// How the trail computes a record's hash: `link(prev_hash, seq, body)`.
pub type ChainLink = for<'a, 'b> fn(&'a str, i64, &'b str) -> String;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Writes already in the backend's queue ([`Store::queue_items`]): resolves once they are committed
/// and durable, or failed.
pub type QueuedWrites = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send>>;

/// Every write returns only after the backend has made it durable (on SQLite in WAL mode, its commit
/// and then a sync of the WAL; PostgreSQL's commit), so an acknowledged request survives `kill -9`
/// and a power cut.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is, for logs ("sqlite", "postgres").
    fn backend(&self) -> &'static str;

    // --- KMS keys -------------------------------------------------------------------------------
    /// Inserts a new key with its first version, atomically. Keys whose material is imported later
    /// start without one.
    async fn create_key(
        &self,
        key: &KeyRecord,
        first_version: Option<&KeyVersionRecord>,
    ) -> Result<()>;
    /// Inserts a key with all its versions and rewrites related keys, in one transaction (a
    /// multi-Region replica and the keys whose configuration now lists it).
    async fn create_related_key(
        &self,
        key: &KeyRecord,
        versions: &[KeyVersionRecord],
        related: &[KeyRecord],
    ) -> Result<()>;
    /// Overwrites a key's mutable fields.
    async fn update_key(&self, key: &KeyRecord) -> Result<()>;
    /// Overwrites several keys in one transaction.
    async fn update_keys(&self, keys: &[KeyRecord]) -> Result<()>;
    /// Adds a version (rotation) and updates the key in the same transaction.
    async fn add_key_version(&self, key: &KeyRecord, version: &KeyVersionRecord) -> Result<()>;
    /// Deletes every version of a key's material and updates the key in the same transaction
    /// (DeleteImportedKeyMaterial, expired imported material).
    async fn remove_key_material(&self, key: &KeyRecord) -> Result<()>;
    async fn get_key(&self, scope: &Scope, key_id: &str) -> Result<Option<KeyRecord>>;
    /// Keys of a scope ordered by key id, strictly after `after`, at most `limit`.
    async fn list_keys(
        &self,
        scope: &Scope,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>>;
    async fn key_versions(&self, scope: &Scope, key_id: &str) -> Result<Vec<KeyVersionRecord>>;
    /// Removes a key, its versions and every alias naming it (what AWS does when a deletion window ends).
    async fn delete_key(&self, scope: &Scope, key_id: &str) -> Result<()>;
    /// Keys in any scope whose deletion date or next rotation is at or before `now_ms`.
    async fn keys_due(&self, now_ms: i64) -> Result<Vec<KeyRecord>>;

    // --- KMS aliases ----------------------------------------------------------------------------
    /// Fails with [`StoreError::AlreadyExists`] if the name is taken in the scope.
    async fn create_alias(&self, alias: &AliasRecord) -> Result<()>;
    /// Retargets an existing alias; returns false if it does not exist.
    async fn update_alias(&self, alias: &AliasRecord) -> Result<bool>;
    /// Returns false if it did not exist.
    async fn delete_alias(&self, scope: &Scope, alias_name: &str) -> Result<bool>;
    async fn get_alias(&self, scope: &Scope, alias_name: &str) -> Result<Option<AliasRecord>>;
    /// All aliases of a scope ordered by name.
    async fn list_aliases(&self, scope: &Scope) -> Result<Vec<AliasRecord>>;

    // --- access keys ----------------------------------------------------------------------------
    /// Fails with [`StoreError::AlreadyExists`] if the id is taken.
    async fn create_access_key(&self, key: &AccessKeyRecord) -> Result<()>;
    async fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>>;
    /// The access keys of an IAM user (`user_name`), or of the account root (`None`).
    async fn list_access_keys(
        &self,
        account: &str,
        user_name: Option<&str>,
    ) -> Result<Vec<AccessKeyRecord>>;
    /// Returns false if the key does not exist.
    async fn set_access_key_status(&self, access_key_id: &str, status: &str) -> Result<bool>;
    /// Returns false if the key did not exist.
    async fn delete_access_key(&self, access_key_id: &str) -> Result<bool>;

    // --- documents ------------------------------------------------------------------------------
    /// `create`: insert, failing with [`StoreError::AlreadyExists`] if present; otherwise insert or replace.
    async fn put_document(&self, doc: &Document, create: bool) -> Result<()>;
    async fn get_document(
        &self,
        account: &str,
        region: &str,
        kind: &str,
        name: &str,
    ) -> Result<Option<Document>>;
    /// Documents of one kind, ordered by name.
    async fn list_documents(
        &self,
        account: &str,
        region: &str,
        kind: &str,
    ) -> Result<Vec<Document>>;
    /// Documents of one kind in every account and region (background jobs), by account, region, name.
    async fn documents_of_kind(&self, kind: &str) -> Result<Vec<Document>>;
    /// Returns false if it did not exist.
    async fn delete_document(
        &self,
        account: &str,
        region: &str,
        kind: &str,
        name: &str,
    ) -> Result<bool>;

    // --- SSM parameters -------------------------------------------------------------------------
    /// A parameter with its current version.
    async fn get_parameter(&self, scope: &Scope, name: &str) -> Result<Option<ParameterRecord>>;
    /// Parameters whose name starts with `prefix`, ordered by name, with their current versions.
    async fn list_parameters(&self, scope: &Scope, prefix: &str) -> Result<Vec<ParameterRecord>>;
    /// How many parameters a scope holds in each tier: (standard, advanced).
    async fn count_parameters(&self, scope: &Scope) -> Result<(u64, u64)>;
    /// Every version of a parameter, oldest first.
    async fn parameter_versions(
        &self,
        scope: &Scope,
        name: &str,
    ) -> Result<Vec<ParameterVersionRecord>>;
    /// Writes a new version and makes it current, atomically. `create` inserts the parameter (failing
    /// with [`StoreError::AlreadyExists`] if it exists); otherwise it must exist. `drop_version` removes
    /// an old version in the same transaction (the 100-version limit).
    async fn put_parameter(
        &self,
        parameter: &ParameterRecord,
        create: bool,
        drop_version: Option<u32>,
    ) -> Result<()>;
    /// Replaces the labels of some versions of one parameter, atomically (a label moving between versions).
    async fn set_parameter_labels(
        &self,
        scope: &Scope,
        name: &str,
        labels: &[(u32, Vec<String>)],
    ) -> Result<()>;
    async fn set_parameter_tags(
        &self,
        scope: &Scope,
        name: &str,
        tags: &[(String, String)],
    ) -> Result<()>;
    /// Removes a parameter and all its versions; false if it did not exist.
    async fn delete_parameter(&self, scope: &Scope, name: &str) -> Result<bool>;

    // --- settings -------------------------------------------------------------------------------
    async fn get_setting(&self, name: &str) -> Result<Option<String>>;
    /// Inserts or replaces.
    async fn put_setting(&self, name: &str, value: &str) -> Result<()>;

    // --- leases ---------------------------------------------------------------------------------
    /// Takes or renews the lease `name` for `holder` until `now_ms + ttl_ms`, if it is free, expired
    /// (`expires_at <= now_ms`) or already `holder`'s; returns whether `holder` now holds it. Atomic:
    /// of several nodes asking at once, at most one gets a lease that another holds or that is free.
    async fn try_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool>;
    /// Gives the lease up if `holder` holds it (at shutdown, so another node takes over at once);
    /// returns whether it did.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool>;

    // --- trail ----------------------------------------------------------------------------------
    /// Appends `events` at the end of the chain in one transaction, holding the chain's lock (so
    /// several nodes take turns). `link(prev_hash, seq, body)` gives each record's hash. With `sync`,
    /// the commit reaches the disk before this returns; without, it reaches the operating system
    /// (it survives the process, not a power cut). Returns the new head.
    async fn trail_append(
        &self,
        events: std::sync::Arc<Vec<NewTrailEvent>>,
        link: ChainLink,
        sync: bool,
    ) -> Result<TrailHead>;
    async fn trail_head(&self) -> Result<TrailHead>;
    /// A page of records, newest first (see [`TrailQuery`]).
    async fn trail_lookup(&self, query: &TrailQuery) -> Result<Vec<TrailRow>>;
    /// Records with `seq > after_seq`, oldest first (verification, export).
    async fn trail_scan(&self, after_seq: i64, limit: i64) -> Result<Vec<TrailRow>>;
    /// The oldest record's seq, if any.
    async fn trail_first_seq(&self) -> Result<Option<i64>>;
    /// The last seq of the records older than `time_ms`, if any.
    async fn trail_last_seq_before(&self, time_ms: i64) -> Result<Option<i64>>;
    /// The mean size in bytes of the newest `newest` records (body and hash), if there are any: what
    /// size-based retention estimates the trail's size with.
    async fn trail_mean_record_bytes(&self, newest: i64) -> Result<Option<f64>>;
    async fn trail_put_digest(&self, digest: &TrailDigestRecord) -> Result<()>;
    /// Every digest, oldest first.
    async fn trail_digests(&self) -> Result<Vec<TrailDigestRecord>>;
    /// The newest digest.
    async fn trail_last_digest(&self) -> Result<Option<TrailDigestRecord>>;
    /// Removes records with `seq <= through_seq` and digests with `last_seq < through_seq`.
    async fn trail_prune(&self, through_seq: i64) -> Result<u64>;
    /// Calls per region, day, service and operation of `account` in `[start_ms, end_ms)`.
    async fn trail_counts(
        &self,
        account: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<TrailCount>>;
    /// Every KMS key of every account and region (the usage report).
    async fn all_keys(&self) -> Result<Vec<KeyRecord>>;

    // --- DynamoDB items -------------------------------------------------------------------------
    async fn get_item(&self, table_id: &str, item_hash: &[u8]) -> Result<Option<ItemRecord>>;
    /// The items at `keys` (table id, item hash), in their order, read together: all of one
    /// moment, none of a transaction committed between two of them (TransactGetItems' snapshot).
    async fn get_items(&self, keys: &[(&str, &[u8])]) -> Result<Vec<Option<ItemRecord>>>;
    /// The items of one partition of the table (`index` None) or of an index, by item hash. An item
    /// whose partition hash is its item hash is alone in its partition and is read by that hash
    /// ([`Store::get_item`]): it is not listed here.
    async fn partition_items(
        &self,
        table_id: &str,
        index: Option<&str>,
        partition_hash: &[u8],
    ) -> Result<Vec<ItemRecord>>;
    /// Items of the table (or only those in `index`) with `after < item_hash < before`, by item
    /// hash, at most `limit`.
    async fn scan_items(
        &self,
        table_id: &str,
        index: Option<&str>,
        after: Option<&[u8]>,
        before: Option<&[u8]>,
        limit: u32,
    ) -> Result<Vec<ItemRecord>>;
    /// All the writes or none, in one transaction: fails with [`StoreError::Conflict`] naming the
    /// first write whose expectation does not hold. Atomic against other nodes' writes too.
    async fn write_items(&self, writes: &[GuardedWrite]) -> Result<()>;
    /// [`Store::write_items`] through the backend's ordered queue, where it has one: when this
    /// returns, the writes are queued behind every write queued before them and ahead of every
    /// later one. A writer that orders the writes of one item itself can then let the item's next
    /// writer go on before this commit (the next write expecting the version this one writes).
    /// `Err(writes)`, given back: each write is a transaction of its own, ordered only by its
    /// commit; use `write_items`.
    fn queue_items(
        &self,
        writes: Vec<GuardedWrite>,
    ) -> std::result::Result<QueuedWrites, Vec<GuardedWrite>> {
        Err(writes)
    }
    /// Removes up to `limit` items of a table (with their index entries); returns how many. A
    /// deleted table's items go in rounds.
    async fn delete_table_items(&self, table_id: &str, limit: u32) -> Result<u64>;
    /// Removes the entries of one index (an index deleted by UpdateTable); returns how many. The
    /// items themselves are not rewritten: their [`ItemRecord::indexes`] name the index until they
    /// are written again.
    async fn delete_index_entries(&self, table_id: &str, index: &str) -> Result<u64>;
    async fn item_stats(&self, table_id: &str) -> Result<ItemStats>;
    /// Items of any table whose `expires_at` is at or before `now_secs`, oldest first, at most `limit`.
    async fn expired_items(&self, now_secs: i64, limit: u32) -> Result<Vec<ExpiredItem>>;
}
