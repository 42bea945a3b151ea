//! CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey,
//! ScheduleKeyDeletion, CancelKeyDeletion.

use m2sec_crypto::{KeySpec, PrivateKey, SecretBytes, SymmetricKey};
use m2sec_proto::json::Timestamp;
use m2sec_proto::RequestContext;
use m2sec_store::{KeyAttributes, KeyRecord, KeyVersionRecord, MultiRegionConfig, Scope};

use crate::access::Access;
use crate::error::{KmsError, Result};
use crate::keyring::{key_arn, material_aad, LoadedKey};
use crate::shapes::*;
use crate::KEY_RESOURCE;
use crate::{now_ms, require_customer_managed, scope, state, Aliases, Kms, DAY_MS};

pub(crate) const SYMMETRIC_DEFAULT: &str = "SYMMETRIC_DEFAULT";
pub(crate) const ENCRYPT_DECRYPT: &str = "ENCRYPT_DECRYPT";

/// Refuses a KeySpec m2sec does not have and a KeyUsage the spec does not allow, as CreateKey does.
pub(crate) fn check_spec_and_usage(key_spec: &str, key_usage: &str) -> Result<()> {
    let usages: &[&str] = if key_spec == SYMMETRIC_DEFAULT {
        &[ENCRYPT_DECRYPT]
    } else if key_spec == "SM2" {
        return Err(KmsError::Unsupported(
            "KeySpec SM2 is offered only in AWS China Regions; m2sec does not support it".into(),
        ));
    } else {
        KeySpec::parse(key_spec)
            .ok_or_else(|| KmsError::Validation(format!("KeySpec {key_spec} is not valid")))?
            .usages()
    };
    if !usages.contains(&key_usage) {
        return Err(KmsError::Validation(format!(
            "KeyUsage {key_usage} is not compatible with KeySpec {key_spec}. Use one of: {}",
            usages.join(", ")
        )));
    }
    Ok(())
}

/// Fresh material for a new key of `key_spec`, in the form sealed at rest.
pub(crate) fn generate_material(key_spec: &str) -> Result<SecretBytes> {
    if key_spec == SYMMETRIC_DEFAULT {
        return Ok(SymmetricKey::generate_material());
    }
    let spec = KeySpec::parse(key_spec)
        .ok_or_else(|| KmsError::Validation(format!("KeySpec {key_spec} is not valid")))?;
    let key = PrivateKey::generate(spec).map_err(|e| KmsError::Internal(e.to_string()))?;
    Ok(key.to_material())
}

impl Kms {
    pub(crate) async fn create_key(
        &self,
        ctx: &RequestContext,
        req: CreateKeyRequest,
    ) -> Result<KeyMetadataResponse> {
        let key_spec = req
            .key_spec
            .or(req.customer_master_key_spec)
            .unwrap_or_else(|| SYMMETRIC_DEFAULT.to_string());
        let key_usage = req.key_usage.unwrap_or_else(|| ENCRYPT_DECRYPT.to_string());
        check_spec_and_usage(&key_spec, &key_usage)?;
        let origin = req.origin.unwrap_or_else(|| "AWS_KMS".to_string());
        match origin.as_str() {
            "AWS_KMS" | "EXTERNAL" => {}
            _ => {
                return Err(KmsError::Unsupported(format!(
                    "Origin {origin} needs a custom key store, which m2sec does not have; use AWS_KMS or EXTERNAL"
                )))
            }
        }
        if let Some(id) = &req.custom_key_store_id {
            return Err(crate::custom_key_store_not_found(id));
        }
        if req.xks_key_id.is_some() {
            return Err(KmsError::Validation(
                "XksKeyId is valid only with a custom key store of type EXTERNAL_KEY_STORE".into(),
            ));
        }
        let multi_region = req.multi_region == Some(true);
        let tags = crate::tags::checked_tags(Vec::new(), req.tags)?;
        let scope = scope(ctx);
        let key_id = if multi_region {
            format!("mrk-{}", uuid::Uuid::new_v4().simple())
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        let policy = match req.policy {
            Some(p) => {
                let p = crate::policy::checked_policy(p)?;
                if !req.bypass_policy_lockout_safety_check {
                    crate::policy::check_lockout(
                        ctx,
                        &scope.account,
                        &p,
                        &key_arn(&scope, &key_id),
                    )?;
                }
                p
            }
            None => crate::policy::default_policy(&scope.account),
        };
        let record = KeyRecord {
            key_id,
            description: req.description.unwrap_or_default(),
            key_usage,
            key_spec,
            origin: origin.clone(),
            key_manager: "CUSTOMER".into(),
            key_state: if origin == "EXTERNAL" {
                state::PENDING_IMPORT.into()
            } else {
                state::ENABLED.into()
            },
            current_version: if origin == "EXTERNAL" { 0 } else { 1 },
            created_at: now_ms(),
            deletion_date: None,
            pending_window_days: None,
            rotation_enabled: false,
            rotation_period_days: None,
            next_rotation_at: None,
            policy,
            tags,
            attributes: KeyAttributes {
                multi_region: multi_region.then(|| MultiRegionConfig {
                    primary_region: scope.region.clone(),
                    replica_regions: Vec::new(),
                }),
                ..Default::default()
            },
            scope,
        };
        let material = if record.origin == "AWS_KMS" {
            // RSA key generation takes up to seconds: off the request threads.
            let spec = record.key_spec.clone();
            Some(
                tokio::task::spawn_blocking(move || generate_material(&spec))
                    .await
                    .map_err(|e| KmsError::Internal(format!("key generation: {e}")))??,
            )
        } else {
            None
        };
        let key = self.insert_new_key(record, material).await?;
        ctx.touch(KEY_RESOURCE, &key.arn);
        Ok(KeyMetadataResponse {
            key_metadata: metadata(&key),
        })
    }

    /// Stores a new key with its first material (none for keys whose material is imported later)
    /// durably and caches it.
    pub(crate) async fn insert_new_key(
        &self,
        record: KeyRecord,
        material: Option<SecretBytes>,
    ) -> Result<std::sync::Arc<LoadedKey>> {
        let arn = key_arn(&record.scope, &record.key_id);
        let version = material.map(|material| KeyVersionRecord {
            scope: record.scope.clone(),
            key_id: record.key_id.clone(),
            version: 1,
            wrapped_material: self.root.wrap(material.expose(), &material_aad(&arn, 1)),
            created_at: record.created_at,
            rotation_type: None,
        });
        self.store.create_key(&record, version.as_ref()).await?;
        let key = self
            .keyring
            .key(
                self.store.as_ref(),
                &self.root,
                &record.scope,
                &record.key_id,
            )
            .await?
            .ok_or_else(|| KmsError::Internal("a key just created is missing".into()))?;
        tracing::info!(key = %arn, "created KMS key");
        Ok(key)
    }

    pub(crate) async fn describe_key(
        &self,
        ctx: &RequestContext,
        req: KeyIdRequest,
    ) -> Result<KeyMetadataResponse> {
        let scope = scope(ctx);
        let key = match self
            .key_for(ctx, &req.key_id, Aliases::Accepted, Access::of(ctx))
            .await
        {
            // As AWS documents: DescribeKey on a predefined AWS alias that has no key yet creates the
            // AWS managed key behind it.
            Err(KmsError::NotFound(_)) if predefined_service(&scope, &req.key_id).is_some() => {
                let service = predefined_service(&scope, &req.key_id).expect("checked");
                let key = self.aws_managed_key(&scope, service).await?;
                self.authorize_key(ctx, &key, &Access::of(ctx)).await?;
                key
            }
            other => other?,
        };
        Ok(KeyMetadataResponse {
            key_metadata: metadata(&key),
        })
    }

    pub(crate) async fn list_keys(
        &self,
        ctx: &RequestContext,
        req: ListRequest,
    ) -> Result<ListKeysResponse> {
        let scope = scope(ctx);
        let limit = req.limit.unwrap_or(100);
        // The marker is the last key id returned; anything else is not one of ours.
        if let Some(m) = &req.marker {
            if !crate::is_key_id(m) {
                return Err(KmsError::InvalidMarker(format!("Invalid marker: {m}")));
            }
        }
        let mut records = self
            .store
            .list_keys(&scope, req.marker.as_deref(), limit + 1)
            .await?;
        let truncated = records.len() > limit as usize;
        records.truncate(limit as usize);
        let next_marker = truncated
            .then(|| records.last().map(|k| k.key_id.clone()))
            .flatten();
        Ok(ListKeysResponse {
            keys: records
                .iter()
                .map(|k| KeyListEntry {
                    key_arn: key_arn(&scope, &k.key_id),
                    key_id: k.key_id.clone(),
                })
                .collect(),
            next_marker,
            truncated,
        })
    }

    pub(crate) async fn update_key_description(
        &self,
        ctx: &RequestContext,
        req: UpdateKeyDescriptionRequest,
    ) -> Result<Empty> {
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        self.modify(&key, |k| {
            require_not_pending(k, &key)?;
            k.description = req.description;
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }

    pub(crate) async fn enable_key(
        &self,
        ctx: &RequestContext,
        req: KeyIdRequest,
    ) -> Result<Empty> {
        self.set_key_state(ctx, &req.key_id, state::ENABLED).await
    }

    pub(crate) async fn disable_key(
        &self,
        ctx: &RequestContext,
        req: KeyIdRequest,
    ) -> Result<Empty> {
        self.set_key_state(ctx, &req.key_id, state::DISABLED).await
    }

    /// EnableKey and DisableKey: customer keys only, never while pending deletion.
    async fn set_key_state(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        new_state: &str,
    ) -> Result<Empty> {
        let key = self
            .key_for(ctx, key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        require_customer_managed(&key, &ctx.operation)?;
        self.modify(&key, |k| {
            require_not_pending(k, &key)?;
            if k.key_state == state::PENDING_IMPORT {
                return Err(crate::invalid_state(&key, state::PENDING_IMPORT));
            }
            k.key_state = new_state.into();
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }

    pub(crate) async fn schedule_key_deletion(
        &self,
        ctx: &RequestContext,
        req: ScheduleKeyDeletionRequest,
    ) -> Result<ScheduleKeyDeletionResponse> {
        let days = req.pending_window_in_days.unwrap_or(30);
        if !(7..=30).contains(&days) {
            return Err(KmsError::Validation(format!(
                "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: \
                 Member must have value between 7 and 30"
            )));
        }
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        require_customer_managed(&key, "ScheduleKeyDeletion")?;
        // A multi-Region primary with replicas waits for them: its window starts when the last
        // replica is deleted.
        let waits_for_replicas = key
            .record
            .attributes
            .multi_region
            .as_ref()
            .is_some_and(|m| {
                m.primary_region == key.record.scope.region && !m.replica_regions.is_empty()
            });
        let (new_state, deletion_date) = if waits_for_replicas {
            (state::PENDING_REPLICA_DELETION, None)
        } else {
            (state::PENDING_DELETION, Some(now_ms() + days * DAY_MS))
        };
        let key = self
            .modify(&key, |k| {
                require_not_pending(k, &key)?;
                k.key_state = new_state.into();
                k.deletion_date = deletion_date;
                k.pending_window_days = Some(days);
                Ok(())
            })
            .await?;
        Ok(ScheduleKeyDeletionResponse {
            key_id: key.arn.clone(),
            deletion_date: deletion_date.map(Timestamp),
            key_state: new_state.into(),
            pending_window_in_days: days,
        })
    }

    pub(crate) async fn cancel_key_deletion(
        &self,
        ctx: &RequestContext,
        req: KeyIdRequest,
    ) -> Result<KeyIdResponse> {
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        let key = self
            .modify(&key, |k| {
                if k.key_state != state::PENDING_DELETION
                    && k.key_state != state::PENDING_REPLICA_DELETION
                {
                    return Err(KmsError::InvalidState(format!(
                        "{} is not pending deletion (it is {}).",
                        key.arn, k.key_state
                    )));
                }
                // As in AWS, a key whose deletion is cancelled comes back disabled (or waiting for
                // its material if it has none).
                k.key_state = if k.current_version == 0 {
                    state::PENDING_IMPORT.into()
                } else {
                    state::DISABLED.into()
                };
                k.deletion_date = None;
                k.pending_window_days = None;
                Ok(())
            })
            .await?;
        Ok(KeyIdResponse {
            key_id: key.arn.clone(),
        })
    }

    /// Called by the scheduler when a deletion window has ended.
    pub(crate) async fn delete_expired_key(&self, scope: &Scope, key_id: &str) -> Result<bool> {
        let _guard = self.writes.lock().await;
        let Some(record) = self.store.get_key(scope, key_id).await? else {
            return Ok(false);
        };
        match record.deletion_date {
            Some(date) if record.key_state == state::PENDING_DELETION && date <= now_ms() => {
                self.store.delete_key(scope, key_id).await?;
                self.keyring.forget_key(scope, key_id);
                if let Some(config) = &record.attributes.multi_region {
                    self.forget_related(scope, key_id, config).await?;
                }
                let arn = key_arn(scope, key_id);
                self.trail
                    .service_event(&m2sec_trail::ServiceEvent {
                        account: &scope.account,
                        region: &scope.region,
                        event_source: "kms.amazonaws.com",
                        event_name: "DeleteKey",
                        resources: vec![(KEY_RESOURCE, arn.clone())],
                        details: Some(serde_json::json!({"keyId": arn})),
                    })
                    .await;
                tracing::info!(key = %arn, "deleted KMS key at the end of its deletion window");
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// AWS managed aliases KMS knows before they exist (`alias/aws/<service>` of services that create one).
const PREDEFINED_SERVICES: &[&str] = &[
    "acm",
    "dynamodb",
    "ebs",
    "elasticfilesystem",
    "es",
    "glue",
    "kinesis",
    "lambda",
    "rds",
    "redshift",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "xray",
];

/// The service of a predefined AWS alias named by `key_id` (alias name or alias ARN in this scope).
fn predefined_service<'a>(scope: &Scope, key_id: &'a str) -> Option<&'a str> {
    let alias = match m2sec_proto::arn::Arn::parse(key_id) {
        Some(arn)
            if arn.service == "kms"
                && arn.region == scope.region
                && arn.account == scope.account =>
        {
            arn.resource
        }
        Some(_) => return None,
        None => key_id,
    };
    alias
        .strip_prefix("alias/aws/")
        .filter(|service| PREDEFINED_SERVICES.contains(service))
}

/// The record under the write lock may have changed since resolution; re-check its state.
pub(crate) fn require_not_pending(record: &KeyRecord, key: &LoadedKey) -> Result<()> {
    if record.key_state == state::PENDING_DELETION
        || record.key_state == state::PENDING_REPLICA_DELETION
    {
        return Err(crate::invalid_state(key, &record.key_state));
    }
    Ok(())
}

/// The KeyMaterialId of a symmetric key's current material (AWS shows none for other keys).
pub(crate) fn current_material_id(r: &KeyRecord) -> Option<String> {
    if r.key_spec != SYMMETRIC_DEFAULT {
        return None;
    }
    if r.origin == "EXTERNAL" {
        return r.attributes.material_fingerprint.clone();
    }
    Some(crate::keyring::material_id(&r.key_id, r.current_version))
}

pub(crate) fn metadata(key: &LoadedKey) -> KeyMetadata {
    let r = &key.record;
    let spec = KeySpec::parse(&r.key_spec);
    // Each list is shown for the usage that needs it, as DescribeKey does.
    let algorithms = |usage: &str, list: fn(KeySpec) -> &'static [&'static str]| {
        (r.key_usage == usage).then(|| spec.map(list)).flatten()
    };
    let encryption_algorithms = if r.key_spec == SYMMETRIC_DEFAULT {
        Some(&[SYMMETRIC_DEFAULT][..])
    } else {
        algorithms(ENCRYPT_DECRYPT, KeySpec::encryption_algorithms)
    };
    KeyMetadata {
        aws_account_id: r.scope.account.clone(),
        key_id: r.key_id.clone(),
        arn: key.arn.clone(),
        creation_date: Timestamp(r.created_at),
        enabled: r.key_state == state::ENABLED,
        description: r.description.clone(),
        key_usage: r.key_usage.clone(),
        key_state: r.key_state.clone(),
        deletion_date: r.deletion_date.map(Timestamp),
        origin: r.origin.clone(),
        key_manager: r.key_manager.clone(),
        customer_master_key_spec: r.key_spec.clone(),
        key_spec: r.key_spec.clone(),
        current_key_material_id: current_material_id(r),
        encryption_algorithms,
        signing_algorithms: algorithms("SIGN_VERIFY", KeySpec::signing_algorithms),
        mac_algorithms: algorithms("GENERATE_VERIFY_MAC", KeySpec::mac_algorithms),
        key_agreement_algorithms: algorithms("KEY_AGREEMENT", KeySpec::key_agreement_algorithms),
        multi_region: r.attributes.multi_region.is_some(),
        multi_region_configuration: r.attributes.multi_region.as_ref().map(|m| {
            let arn_in =
                |region: &str| key_arn(&Scope::new(r.scope.account.clone(), region), &r.key_id);
            MultiRegionConfiguration {
                multi_region_key_type: if m.primary_region == r.scope.region {
                    "PRIMARY"
                } else {
                    "REPLICA"
                },
                primary_key: MultiRegionKey {
                    arn: arn_in(&m.primary_region),
                    region: m.primary_region.clone(),
                },
                replica_keys: m
                    .replica_regions
                    .iter()
                    .map(|region| MultiRegionKey {
                        arn: arn_in(region),
                        region: region.clone(),
                    })
                    .collect(),
            }
        }),
        // Shown for keys with imported material once it is there.
        expiration_model: (r.origin == "EXTERNAL" && r.current_version > 0)
            .then(|| r.attributes.expiration_model.clone())
            .flatten(),
        valid_to: (r.origin == "EXTERNAL" && r.current_version > 0)
            .then_some(r.attributes.valid_to.map(Timestamp))
            .flatten(),
        pending_deletion_window_in_days: r.pending_window_days,
    }
}
