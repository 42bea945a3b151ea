//! Plain records as stored. Times are Unix milliseconds (UTC).

/// The namespace every regional resource lives in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

impl Scope {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Scope {
            account: account.into(),
            region: region.into(),
        }
    }
}

/// A KMS key's metadata (never its material: see [`KeyVersionRecord`]).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRecord {
    pub scope: Scope,
    pub key_id: String,
    pub description: String,
    /// `ENCRYPT_DECRYPT`, …
    pub key_usage: String,
    /// `SYMMETRIC_DEFAULT`, …
    pub key_spec: String,
    /// `AWS_KMS`, …
    pub origin: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, …
    pub key_state: String,
    pub created_at: i64,
    /// Set while `PendingDeletion`.
    pub deletion_date: Option<i64>,
    pub pending_window_days: Option<i64>,
    pub rotation_enabled: bool,
    /// Kept when rotation is disabled, as AWS does.
    pub rotation_period_days: Option<i64>,
    pub next_rotation_at: Option<i64>,
    /// The newest version: the one new ciphertext is made with.
    pub current_version: u32,
    pub policy: String,
    /// Ordered as the caller gave them.
    pub tags: Vec<(String, String)>,
    /// Fields only some keys have (multi-Region configuration, imported material's expiry).
    pub attributes: KeyAttributes,
}

/// The less common parts of a key's metadata, stored together as one JSON column.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct KeyAttributes {
    /// Set for multi-Region keys: the primary's region and every replica's region (the same on each
    /// related key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region: Option<MultiRegionConfig>,
    /// Imported material: `KEY_MATERIAL_EXPIRES` or `KEY_MATERIAL_DOES_NOT_EXPIRE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
    /// When imported material expires (Unix ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<i64>,
    /// SHA-256 of the imported material: a later import must bring the same bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub material_fingerprint: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MultiRegionConfig {
    pub primary_region: String,
    pub replica_regions: Vec<String>,
}

/// One version of a key's material, wrapped by the root key with the key ARN and version as AAD.
#[derive(Clone, PartialEq)]
pub struct KeyVersionRecord {
    pub scope: Scope,
    pub key_id: String,
    pub version: u32,
    pub wrapped_material: Vec<u8>,
    pub created_at: i64,
    /// `None` for the original material, else `AUTOMATIC` or `ON_DEMAND`.
    pub rotation_type: Option<String>,
}

impl std::fmt::Debug for KeyVersionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVersionRecord")
            .field("scope", &self.scope)
            .field("key_id", &self.key_id)
            .field("version", &self.version)
            .field("wrapped_material", &"***")
            .field("created_at", &self.created_at)
            .field("rotation_type", &self.rotation_type)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AliasRecord {
    pub scope: Scope,
    /// Full name, `alias/…`.
    pub alias_name: String,
    pub target_key_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An access key; the secret is wrapped by the root key with the access key id as AAD.
#[derive(Clone, PartialEq)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub account: String,
    /// The IAM user owning the key; `None` for the account root.
    pub user_name: Option<String>,
    /// That user's unique id (`AIDA…`): the key is bound to this user, not to whoever has the name later.
    pub user_id: Option<String>,
    /// The principal the key signs as, e.g. `arn:aws:iam::000000000000:root`.
    pub principal_arn: String,
    pub wrapped_secret: Vec<u8>,
    /// `Active` or `Inactive`.
    pub status: String,
    pub created_at: i64,
}

impl std::fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("account", &self.account)
            .field("user_name", &self.user_name)
            .field("user_id", &self.user_id)
            .field("principal_arn", &self.principal_arn)
            .field("wrapped_secret", &"***")
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// An SSM parameter: its name, tags and current version.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterRecord {
    pub scope: Scope,
    pub name: String,
    pub tags: Vec<(String, String)>,
    pub current: ParameterVersionRecord,
}

/// One version of an SSM parameter. For `SecureString` the value is the base64 KMS ciphertext, never
/// the plaintext.
#[derive(Clone, PartialEq)]
pub struct ParameterVersionRecord {
    pub version: u32,
    /// `String`, `StringList` or `SecureString`.
    pub parameter_type: String,
    pub value: String,
    pub key_id: Option<String>,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    pub data_type: String,
    /// `Standard` or `Advanced`.
    pub tier: String,
    pub labels: Vec<String>,
    pub policies: Option<String>,
    pub modified_at: i64,
    pub modified_by: String,
}

impl std::fmt::Debug for ParameterVersionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParameterVersionRecord")
            .field("version", &self.version)
            .field("parameter_type", &self.parameter_type)
            .field("value", &"***")
            .field("key_id", &self.key_id)
            .field("tier", &self.tier)
            .field("labels", &self.labels)
            .finish_non_exhaustive()
    }
}

/// A JSON document stored whole: IAM users, roles and managed policies (region `""`), KMS grants.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub account: String,
    /// `""` for global entities (IAM).
    pub region: String,
    pub kind: String,
    pub name: String,
    pub body: String,
    pub updated_at: i64,
}

/// One trail event as stored: the CloudTrail record (`body`, exact JSON text), the few columns
/// lookups and reports select on (all derived from `body`), and its link in the hash chain.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailRow {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    pub event: NewTrailEvent,
    /// Hex SHA-256 over the previous record's hash, `seq` and `body`.
    pub hash: String,
}

/// A trail event before it has a place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTrailEvent {
    pub account: String,
    pub region: String,
    /// Unix milliseconds.
    pub event_time: i64,
    pub event_source: String,
    pub event_name: String,
    pub read_only: bool,
    /// An action of the service itself (`AwsServiceEvent`), not a request.
    pub service_event: bool,
    pub body: String,
}

/// The end of the chain: the last record's seq and hash (0 and the genesis hash when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailHead {
    pub seq: i64,
    pub hash: String,
}

/// A signed statement that the chain's record `last_seq` has hash `last_hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailDigestRecord {
    pub last_seq: i64,
    pub created_at: i64,
    /// The signed text (JSON).
    pub body: String,
    /// Base64 signature over `body`.
    pub signature: String,
}

/// A page of records of one account and region, newest first: those in `[start_ms, end_ms]`, with
/// `event_name` when given, and `seq < before_seq` when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailQuery {
    pub scope: Scope,
    pub start_ms: i64,
    pub end_ms: i64,
    pub event_name: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Requests per day, service and operation (for the usage report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailCount {
    pub region: String,
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    pub event_source: String,
    pub event_name: String,
    /// Requests (the service's own actions are not counted).
    pub count: i64,
}

/// A DynamoDB item as stored. The store sees the item only sealed (`body`) and its keys only as
/// keyed hashes: equality of whole keys and of partition keys, never their values or order.
#[derive(Clone, PartialEq, Eq)]
pub struct ItemRecord {
    /// The table's internal id (a table deleted and created again under its name gets a new one).
    pub table_id: String,
    /// Keyed hash of the item's whole primary key: unique in the table; also the scan order.
    pub item_hash: Vec<u8>,
    /// Keyed hash of the partition key's value: the items of one partition share it. The item's key
    /// fixes it, so a write of an item that exists keeps the one stored. For a table without a sort
    /// key it equals `item_hash` (items written since migration 9; older ones keep their own): the
    /// item is alone in its partition and in no partition listing
    /// ([`crate::Store::partition_items`]), which spares the write an index entry.
    pub partition_hash: Vec<u8>,
    /// The item, sealed by the table's key.
    pub body: Vec<u8>,
    /// Set by each write (the writer chooses it, larger than the one it replaces); conditional
    /// writes name the version they read.
    pub version: i64,
    /// Time to live: epoch seconds after which the item may be removed.
    pub expires_at: Option<i64>,
    /// The index partitions the item is in: (index name, keyed hash of its partition key there).
    pub indexes: Vec<(String, Vec<u8>)>,
    /// The item's size as DynamoDB counts it (TableSizeBytes).
    pub size: i64,
}

impl std::fmt::Debug for ItemRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemRecord")
            .field("table_id", &self.table_id)
            .field("item_hash", &hex_prefix(&self.item_hash))
            .field("version", &self.version)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

fn hex_prefix(b: &[u8]) -> String {
    b.iter().take(6).map(|x| format!("{x:02x}")).collect()
}

/// One write of [`crate::Store::write_items`].
#[derive(Debug, Clone)]
pub enum ItemWrite {
    /// Insert or replace the item (and its index entries).
    Put(ItemRecord),
    Delete {
        table_id: String,
        item_hash: Vec<u8>,
    },
    /// No write, only the expectation (TransactWriteItems' ConditionCheck).
    Check {
        table_id: String,
        item_hash: Vec<u8>,
    },
}

/// What the item must be for a write to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Whatever it is.
    Anything,
    /// It must not exist.
    Absent,
    /// It must exist at this version.
    Version(i64),
}

#[derive(Debug, Clone)]
pub struct GuardedWrite {
    pub write: ItemWrite,
    pub expect: Expect,
}

/// The number of items of a table and their total size in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemStats {
    pub count: u64,
    pub bytes: u64,
}

/// An item whose time to live has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredItem {
    pub table_id: String,
    pub item_hash: Vec<u8>,
    pub version: i64,
}
