//! The KMS service (`TrentService`): symmetric, asymmetric and HMAC keys, imported and multi-Region keys, aliases, cryptographic operations, rotation,
//! deletion windows, tags and key policies. Handlers are grouped by resource area:
//!
//! | file | operations |
//! |------|------------|
//! | `keys.rs` | CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion |
//! | `aliases.rs` | CreateAlias, UpdateAlias, DeleteAlias, ListAliases |
//! | `crypto_ops.rs` | Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateRandom |
//! | `rotation.rs` | EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations |
//! | `tags.rs` | TagResource, UntagResource, ListResourceTags |
//! | `policy.rs` | GetKeyPolicy, PutKeyPolicy, ListKeyPolicies |
//! | `asymmetric.rs` | Sign, Verify, GetPublicKey, DeriveSharedSecret, GenerateMac, VerifyMac, GenerateDataKeyPair(WithoutPlaintext); RSA for Encrypt/Decrypt |
//! | `import.rs` | GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial |
//! | `multi_region.rs` | ReplicateKey, UpdatePrimaryRegion |
//! | `usage.rs` | GetKeyLastUsage; the custom key store operations |
//! | `scheduler.rs` | automatic rotation, the end of deletion windows, imported material's ValidTo |

mod access;
mod aliases;
mod asymmetric;
mod crypto_ops;
pub mod error;
mod grants;
mod import;
mod keyring;
mod keys;
mod multi_region;
pub mod operations;
mod policy;
mod rotation;
pub mod scheduler;
pub mod services;
mod shapes;
mod tags;
mod usage;

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use m2sec_crypto::RootKey;
use m2sec_proto::json::JsonService;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::{KeyRecord, Scope, Store};
use serde_json::Value;

use crate::error::{KmsError, Result};
use crate::keyring::{Keyring, LoadedKey};
pub use crate::operations::KmsOperation;
pub use crate::shapes::EncryptionContext;

/// botocore's KMS model, compiled once.
pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/kms.json")))
}

pub struct Kms {
    store: Arc<dyn Store>,
    root: Arc<RootKey>,
    authorizer: Arc<m2sec_iam::Authorizer>,
    keyring: Keyring,
    /// Where service events (automatic rotation, deletion) and calls made for other services go.
    trail: m2sec_trail::Trail,
    /// Serializes read-modify-write of key and alias records on this node; reads never take it.
    writes: tokio::sync::Mutex<()>,
}

/// CloudTrail's resource type of KMS keys.
pub(crate) const KEY_RESOURCE: &str = "AWS::KMS::Key";

/// Whether an operation accepts an alias where it takes a key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Aliases {
    Accepted,
    Refused,
}

pub(crate) use m2sec_store::now_ms;

pub(crate) const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn scope(ctx: &RequestContext) -> Scope {
    Scope::new(ctx.account.clone(), ctx.region.clone())
}

use m2sec_proto::run_json as run;

#[async_trait]
impl JsonService for Kms {
    fn model(&self) -> &ServiceModel {
        model()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Vec<u8>, AwsError> {
        use KmsOperation as Op;
        let op = Op::from_name(operation).ok_or_else(|| AwsError::unknown_operation(operation))?;
        // Operations that name no key are authorized by the caller's IAM policies alone.
        if matches!(
            op,
            Op::CreateKey | Op::ListKeys | Op::GenerateRandom | Op::ListRetirableGrants
        ) || (op == Op::ListAliases && input.get("KeyId").is_none())
        {
            self.authorize_account(ctx, "*").await?;
        }
        match op {
            Op::CreateKey => run!(self.create_key(ctx, input)),
            Op::DescribeKey => run!(self.describe_key(ctx, input)),
            Op::ListKeys => run!(self.list_keys(ctx, input)),
            Op::UpdateKeyDescription => run!(self.update_key_description(ctx, input)),
            Op::EnableKey => run!(self.enable_key(ctx, input)),
            Op::DisableKey => run!(self.disable_key(ctx, input)),
            Op::ScheduleKeyDeletion => run!(self.schedule_key_deletion(ctx, input)),
            Op::CancelKeyDeletion => run!(self.cancel_key_deletion(ctx, input)),
            Op::CreateAlias => run!(self.create_alias(ctx, input)),
            Op::UpdateAlias => run!(self.update_alias(ctx, input)),
            Op::DeleteAlias => run!(self.delete_alias(ctx, input)),
            Op::ListAliases => run!(self.list_aliases(ctx, input)),
            Op::Encrypt => run!(self.encrypt(ctx, input)),
            Op::Decrypt => run!(self.decrypt(ctx, input)),
            Op::ReEncrypt => run!(self.re_encrypt(ctx, input)),
            Op::GenerateDataKey => run!(self.generate_data_key(ctx, input)),
            Op::GenerateDataKeyWithoutPlaintext => {
                run!(self.generate_data_key_without_plaintext(ctx, input))
            }
            Op::GenerateRandom => run!(self.generate_random(ctx, input)),
            Op::EnableKeyRotation => run!(self.enable_key_rotation(ctx, input)),
            Op::DisableKeyRotation => run!(self.disable_key_rotation(ctx, input)),
            Op::GetKeyRotationStatus => run!(self.get_key_rotation_status(ctx, input)),
            Op::RotateKeyOnDemand => run!(self.rotate_key_on_demand(ctx, input)),
            Op::ListKeyRotations => run!(self.list_key_rotations(ctx, input)),
            Op::TagResource => run!(self.tag_resource(ctx, input)),
            Op::UntagResource => run!(self.untag_resource(ctx, input)),
            Op::ListResourceTags => run!(self.list_resource_tags(ctx, input)),
            Op::GetKeyPolicy => run!(self.get_key_policy(ctx, input)),
            Op::PutKeyPolicy => run!(self.put_key_policy(ctx, input)),
            Op::ListKeyPolicies => run!(self.list_key_policies(ctx, input)),
            Op::CreateGrant => run!(self.create_grant(ctx, input)),
            Op::ListGrants => run!(self.list_grants(ctx, input)),
            Op::ListRetirableGrants => run!(self.list_retirable_grants(ctx, input)),
            Op::RetireGrant => run!(self.retire_grant(ctx, input)),
            Op::RevokeGrant => run!(self.revoke_grant(ctx, input)),
            Op::Sign => run!(self.sign(ctx, input)),
            Op::Verify => run!(self.verify(ctx, input)),
            Op::GetPublicKey => run!(self.get_public_key(ctx, input)),
            Op::DeriveSharedSecret => run!(self.derive_shared_secret(ctx, input)),
            Op::GenerateMac => run!(self.generate_mac(ctx, input)),
            Op::VerifyMac => run!(self.verify_mac(ctx, input)),
            Op::GenerateDataKeyPair => run!(self.generate_data_key_pair(ctx, input)),
            Op::GenerateDataKeyPairWithoutPlaintext => {
                run!(self.generate_data_key_pair_without_plaintext(ctx, input))
            }
            Op::GetParametersForImport => run!(self.get_parameters_for_import(ctx, input)),
            Op::ImportKeyMaterial => run!(self.import_key_material(ctx, input)),
            Op::DeleteImportedKeyMaterial => run!(self.delete_imported_key_material(ctx, input)),
            Op::ReplicateKey => run!(self.replicate_key(ctx, input)),
            Op::UpdatePrimaryRegion => run!(self.update_primary_region(ctx, input)),
            Op::GetKeyLastUsage => run!(self.get_key_last_usage(ctx, input)),
            Op::CreateCustomKeyStore
            | Op::DescribeCustomKeyStores
            | Op::ConnectCustomKeyStore
            | Op::DisconnectCustomKeyStore
            | Op::UpdateCustomKeyStore
            | Op::DeleteCustomKeyStore => {
                self.authorize_account(ctx, "*").await?;
                Ok(self.custom_key_store(op.name(), &input)?)
            }
        }
    }
}

impl Kms {
    /// `cache_ttl`: how long this node trusts its in-memory copy of a key or alias before re-reading it
    /// (bounds how late it sees another node's changes).
    pub fn new(
        store: Arc<dyn Store>,
        root: Arc<RootKey>,
        authorizer: Arc<m2sec_iam::Authorizer>,
        cache_ttl: std::time::Duration,
        trail: m2sec_trail::Trail,
    ) -> Self {
        Kms {
            store,
            root,
            authorizer,
            keyring: Keyring::new(cache_ttl),
            trail,
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// Finds the key a request names, in any form AWS accepts: key id, key ARN, alias name, alias ARN.
    async fn resolve(
        &self,
        scope: &Scope,
        key_id: &str,
        aliases: Aliases,
    ) -> Result<Arc<LoadedKey>> {
        let not_found = || {
            KmsError::NotFound(format!(
                "Key '{}' does not exist",
                keyring::key_arn(scope, key_id)
            ))
        };
        let (id, alias) = if let Some(rest) = key_id.strip_prefix("arn:") {
            let arn = m2sec_proto::arn::Arn::parse(key_id)
                .filter(|a| a.service == "kms")
                .ok_or_else(|| KmsError::InvalidArn(format!("Invalid arn {key_id}")))?;
            let _ = rest;
            if arn.region != scope.region || arn.account != scope.account {
                return Err(KmsError::NotFound(format!("Key '{key_id}' does not exist")));
            }
            if let Some(id) = arn.resource.strip_prefix("key/") {
                (Some(id.to_string()), None)
            } else if arn.resource.starts_with("alias/") {
                (None, Some(arn.resource.to_string()))
            } else {
                return Err(KmsError::InvalidArn(format!("Invalid arn {key_id}")));
            }
        } else if key_id.starts_with("alias/") {
            (None, Some(key_id.to_string()))
        } else if is_key_id(key_id) {
            (Some(key_id.to_string()), None)
        } else {
            // What AWS answers for a KeyId that is neither a key id, an ARN nor an alias name.
            return Err(KmsError::NotFound(format!("Invalid keyId {key_id}")));
        };
        let id = match (id, alias) {
            (Some(id), _) => id,
            (None, Some(alias)) => {
                if aliases == Aliases::Refused {
                    return Err(KmsError::NotFound(format!(
                        "Invalid keyId '{key_id}': this operation takes a key ID or key ARN, not an alias"
                    )));
                }
                self.keyring
                    .alias_target(self.store.as_ref(), scope, &alias)
                    .await?
                    .ok_or_else(|| {
                        KmsError::NotFound(format!(
                            "Alias '{}' is not found.",
                            keyring::alias_arn(scope, &alias)
                        ))
                    })?
            }
            (None, None) => unreachable!("one of id or alias is set"),
        };
        self.keyring
            .key(self.store.as_ref(), &self.root, scope, &id)
            .await?
            .ok_or_else(|| {
                if id == key_id {
                    not_found()
                } else {
                    KmsError::NotFound(format!(
                        "Key '{}' does not exist",
                        keyring::key_arn(scope, &id)
                    ))
                }
            })
    }

    /// Applies `change` to the current record of a key under the write lock, stores it and refreshes
    /// the cache. `change` may refuse with an error, in which case nothing is written.
    async fn modify(
        &self,
        key: &LoadedKey,
        change: impl FnOnce(&mut KeyRecord) -> Result<()>,
    ) -> Result<Arc<LoadedKey>> {
        let _guard = self.writes.lock().await;
        let current = self
            .keyring
            .key(
                self.store.as_ref(),
                &self.root,
                &key.record.scope,
                &key.record.key_id,
            )
            .await?
            .ok_or_else(|| KmsError::NotFound(format!("Key '{}' does not exist", key.arn)))?;
        let mut record = current.record.clone();
        change(&mut record)?;
        self.store.update_key(&record).await?;
        Ok(self.keyring.put(current.with_record(record)))
    }
}

/// A key id as KMS makes them: a UUID (single-Region) or `mrk-` + 32 hex digits (multi-Region).
fn is_key_id(text: &str) -> bool {
    uuid::Uuid::try_parse(text).is_ok()
        || text
            .strip_prefix("mrk-")
            .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Key states, as AWS names them.
pub(crate) mod state {
    pub const ENABLED: &str = "Enabled";
    pub const DISABLED: &str = "Disabled";
    pub const PENDING_DELETION: &str = "PendingDeletion";
    pub const PENDING_IMPORT: &str = "PendingImport";
    /// A multi-Region primary scheduled for deletion while replicas remain.
    pub const PENDING_REPLICA_DELETION: &str = "PendingReplicaDeletion";
}

/// Refuses anything but an Enabled key, with the exception AWS uses for each state.
pub(crate) fn require_enabled(key: &LoadedKey) -> Result<()> {
    match key.record.key_state.as_str() {
        // Imported material past its ValidTo is unusable even before the scheduler deletes it.
        state::ENABLED
            if key
                .record
                .attributes
                .valid_to
                .is_some_and(|t| t <= now_ms()) =>
        {
            Err(KmsError::InvalidState(format!(
                "{} is pending import: its key material expired.",
                key.arn
            )))
        }
        state::ENABLED => Ok(()),
        state::DISABLED => Err(KmsError::Disabled(key.arn.clone())),
        other => Err(invalid_state(key, other)),
    }
}

pub(crate) fn invalid_state(key: &LoadedKey, state: &str) -> KmsError {
    if state == state::PENDING_DELETION {
        KmsError::InvalidState(format!("{} is pending deletion.", key.arn))
    } else if state == state::PENDING_IMPORT {
        KmsError::InvalidState(format!("{} is pending import.", key.arn))
    } else {
        KmsError::InvalidState(format!("{} is {state}.", key.arn))
    }
}

/// What AWS answers for a custom key store that does not exist: m2sec has none.
pub(crate) fn custom_key_store_not_found(id: &str) -> KmsError {
    KmsError::Named(
        "CustomKeyStoreNotFoundException",
        format!(
            "Custom key store {id} does not exist. m2sec keeps every key in its own store and has no custom key stores."
        ),
    )
}

/// Refuses keys managed by AWS (created by services such as SSM) for customer-only operations.
pub(crate) fn require_customer_managed(key: &LoadedKey, operation: &str) -> Result<()> {
    if key.record.key_manager != "CUSTOMER" {
        return Err(KmsError::Unsupported(format!(
            "{operation} is not supported on AWS managed key {}",
            key.arn
        )));
    }
    Ok(())
}

/// The KeyId of list-style requests, where the model leaves it optional but the operation needs it.
pub(crate) fn required_key_id(key_id: &Option<String>) -> Result<&str> {
    key_id
        .as_deref()
        .ok_or_else(|| KmsError::Validation("KeyId is required".into()))
}

pub(crate) fn dry_run(flag: Option<bool>) -> Result<()> {
    if flag == Some(true) {
        Err(KmsError::DryRun)
    } else {
        Ok(())
    }
}

/// Pages through an already ordered list: markers are the position as a decimal string.
pub(crate) fn page<T>(
    items: Vec<T>,
    marker: Option<&str>,
    limit: Option<u32>,
    default_limit: usize,
) -> Result<(Vec<T>, Option<String>)> {
    let start = match marker {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= items.len())
            .ok_or_else(|| KmsError::InvalidMarker(format!("Invalid marker: {m}")))?,
    };
    let limit = limit.map(|l| l as usize).unwrap_or(default_limit);
    let end = (start + limit).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((
        items.into_iter().skip(start).take(end - start).collect(),
        next,
    ))
}
