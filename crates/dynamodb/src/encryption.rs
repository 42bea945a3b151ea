//! Table keys. Every table has a 32-byte data key, made when the table is created and wrapped by
//! the table's key: the AWS owned key (m2sec's root key, for tables without an SSESpecification),
//! the AWS managed key `alias/aws/dynamodb`, or the customer's KMS key (KMS GenerateDataKey, with
//! the encryption context `aws:dynamodb:tableName` / `aws:dynamodb:subscriberId` as AWS uses).
//! Unwrapped data keys stay in memory for [`crate::Settings::key_cache`]; afterwards the next
//! request unwraps again (a KMS Decrypt recorded in the trail, `invokedBy` dynamodb.amazonaws.com),
//! so a disabled key stops the table within that time. Changing the table's key re-wraps the same
//! data key; items are not rewritten.
//!
//! **What the store sees.** Each item is sealed whole (AES-256-GCM under a key derived from the
//! data key, bound to the table and the item's key hash). Keys are stored as HMAC-SHA256 hashes under
//! another derived key: the store learns which items share a partition key (needed to find a
//! partition) and that two writes hit the same item, never key values, their order, attribute
//! names or values. The cost: a Query reads its whole partition and sorts it in memory, and a
//! Scan's order is the hash order (as DynamoDB's own, which is by partition-key hash). A table
//! with time to live also stores each item's expiry time in clear, so the sweeper can find it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use m2sec_crypto::{RootKey, SecretBytes, TableKey};
use m2sec_kms::{EncryptionContext, Kms};
use m2sec_proto::RequestContext;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::error::{DynamoError, Result};
use crate::shapes::SseSpecification;
use crate::tables::TableRecord;

const SERVICE: &str = "dynamodb";
const MANAGED_ALIAS: &str = "alias/aws/dynamodb";

/// How a table's data key is wrapped.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub(crate) enum Sse {
    /// The AWS owned key: sealed by m2sec's root key.
    Owned { sealed_key: String },
    /// A KMS key: the AWS managed one or the customer's; the data key is KMS ciphertext (base64).
    Kms {
        key_arn: String,
        managed: bool,
        wrapped_key: String,
    },
}

impl Sse {
    /// `SSEDescription`; none for the AWS owned key, as DynamoDB answers.
    pub fn description(&self, status: &str) -> Option<Json> {
        match self {
            Sse::Owned { .. } => None,
            Sse::Kms { key_arn, .. } => {
                let mut d =
                    json!({"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key_arn});
                if status == "INACCESSIBLE_ENCRYPTION_CREDENTIALS" {
                    d["InaccessibleEncryptionDateTime"] =
                        json!(m2sec_store::now_ms() as f64 / 1000.0);
                }
                Some(d)
            }
        }
    }
}

fn context(table_name: &str, account: &str) -> EncryptionContext {
    let mut c = EncryptionContext::new();
    c.insert("aws:dynamodb:tableName".into(), table_name.into());
    c.insert("aws:dynamodb:subscriberId".into(), account.into());
    c
}

fn owned_aad(account: &str, region: &str, table_id: &str) -> Vec<u8> {
    format!("dynamodb table key|{account}|{region}|{table_id}").into_bytes()
}

/// The KMS key an SSESpecification asks for: `None` for the AWS owned key, `Some(None)` for the AWS
/// managed key, `Some(Some(id))` for a customer key.
fn requested_key(spec: Option<&SseSpecification>) -> Result<Option<Option<String>>> {
    let Some(spec) = spec else { return Ok(None) };
    if let Some(t) = spec.sse_type.as_deref() {
        if t != "KMS" {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{t}' at 'sSESpecification.sSEType' failed to satisfy constraint: Member must satisfy enum value set: [KMS]"
            )));
        }
    }
    if !spec.enabled.unwrap_or(spec.sse_type.is_some()) {
        if spec.kms_master_key_id.is_some() {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: KMSMasterKeyId can only be specified when SSE is enabled",
            ));
        }
        return Ok(None);
    }
    Ok(Some(
        spec.kms_master_key_id
            .clone()
            .filter(|k| k != MANAGED_ALIAS),
    ))
}

/// Unwrapped table keys by table id: the key, when it was unwrapped, the table's generation then.
type Cache = HashMap<String, (Arc<TableKey>, Instant, u64)>;

pub(crate) struct TableKeys {
    root: Arc<RootKey>,
    kms: Arc<Kms>,
    ttl: Duration,
    cache: Mutex<Cache>,
}

impl TableKeys {
    pub fn new(root: Arc<RootKey>, kms: Arc<Kms>, ttl: Duration) -> Self {
        TableKeys {
            root,
            kms,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn forget(&self, table_id: &str) {
        self.cache().remove(table_id);
    }

    /// The table's key, from memory or unwrapped now.
    pub async fn get(&self, ctx: &RequestContext, table: &TableRecord) -> Result<Arc<TableKey>> {
        if let Some((key, at, generation)) = self.cache().get(&table.id) {
            if at.elapsed() < self.ttl && *generation == table.generation {
                return Ok(key.clone());
            }
        }
        let data_key = self.unwrap(ctx, table).await?;
        let key = Arc::new(
            TableKey::from_data_key(&data_key)
                .map_err(|e| DynamoError::Internal(format!("table key: {e}")))?,
        );
        self.cache().insert(
            table.id.clone(),
            (key.clone(), Instant::now(), table.generation),
        );
        Ok(key)
    }

    async fn unwrap(&self, ctx: &RequestContext, table: &TableRecord) -> Result<SecretBytes> {
        match &table.sse {
            Sse::Owned { sealed_key } => self
                .root
                .open_sealed(
                    sealed_key,
                    &owned_aad(&table.account, &table.region, &table.id),
                )
                .map_err(|e| DynamoError::Internal(format!("table key of {}: {e}", table.name))),
            Sse::Kms { wrapped_key, .. } => {
                let blob = base64::engine::general_purpose::STANDARD
                    .decode(wrapped_key)
                    .map_err(|e| DynamoError::Internal(format!("wrapped table key: {e}")))?;
                let (data_key, _) = self
                    .kms
                    .decrypt_under_service_grant(
                        ctx,
                        SERVICE,
                        &blob,
                        &context(&table.name, &table.account),
                    )
                    .await
                    .map_err(DynamoError::from_kms)?;
                Ok(data_key)
            }
        }
    }

    /// A new table's data key, wrapped as its SSESpecification asks.
    pub async fn new_table_key(
        &self,
        ctx: &RequestContext,
        table_name: &str,
        table_id: &str,
        spec: Option<&SseSpecification>,
    ) -> Result<Sse> {
        match requested_key(spec)? {
            None => {
                let data_key = TableKey::generate_data_key();
                Ok(Sse::Owned {
                    sealed_key: self
                        .root
                        .seal(&data_key, &owned_aad(&ctx.account, &ctx.region, table_id)),
                })
            }
            Some(key_id) => {
                let (_, wrapped) = self
                    .kms
                    .generate_data_key_for_service(
                        ctx,
                        SERVICE,
                        key_id.as_deref(),
                        &context(table_name, &ctx.account),
                    )
                    .await
                    .map_err(key_error)?;
                Ok(Sse::Kms {
                    key_arn: wrapped.key_arn,
                    managed: key_id.is_none(),
                    wrapped_key: base64::engine::general_purpose::STANDARD.encode(wrapped.blob),
                })
            }
        }
    }

    /// The same data key, wrapped by the key an UpdateTable's SSESpecification asks for.
    pub async fn change_table_key(
        &self,
        ctx: &RequestContext,
        table: &TableRecord,
        spec: &SseSpecification,
    ) -> Result<Sse> {
        let data_key = self.unwrap(ctx, table).await?;
        match requested_key(Some(spec))? {
            None => Ok(Sse::Owned {
                sealed_key: self.root.seal(
                    &data_key,
                    &owned_aad(&table.account, &table.region, &table.id),
                ),
            }),
            Some(key_id) => {
                let wrapped = self
                    .kms
                    .encrypt_for_service(
                        ctx,
                        SERVICE,
                        key_id.as_deref(),
                        data_key.expose(),
                        &context(&table.name, &table.account),
                    )
                    .await
                    .map_err(key_error)?;
                Ok(Sse::Kms {
                    key_arn: wrapped.key_arn,
                    managed: key_id.is_none(),
                    wrapped_key: base64::engine::general_purpose::STANDARD.encode(wrapped.blob),
                })
            }
        }
    }

    /// Whether the table's KMS key can be used now (always for the AWS owned key).
    pub async fn key_usable(&self, ctx: &RequestContext, sse: &Sse) -> bool {
        match sse {
            Sse::Owned { .. } => true,
            Sse::Kms { key_arn, .. } => matches!(
                self.kms.key_for_service(ctx, SERVICE, Some(key_arn)).await,
                Ok((_, state)) if state == "Enabled"
            ),
        }
    }
}

/// A KMS failure while setting a table's key up: the key named is the caller's mistake.
fn key_error(e: m2sec_kms::error::KmsError) -> DynamoError {
    use m2sec_kms::error::KmsError as K;
    match e {
        K::NotFound(m) | K::InvalidArn(m) => {
            DynamoError::validation(format!("Invalid KMSMasterKeyId: {m}"))
        }
        K::Disabled(m) | K::InvalidState(m) => DynamoError::validation(format!(
            "KMSMasterKeyId is not in a valid state for this operation: {m}"
        )),
        other => DynamoError::from_kms(other),
    }
}
