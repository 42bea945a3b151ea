//! Multi-Region keys: ReplicateKey, UpdatePrimaryRegion, and keeping related keys in step.
//!
//! Related keys share a key id (`mrk-…`) and their material, one record per Region. Each record
//! carries the whole configuration (the primary's Region and every replica's), rewritten on all of
//! them when it changes. Material is copied wrapped anew for the replica's ARN, so a ciphertext made
//! in one Region decrypts in another; a rotation of the primary adds the same version to each replica.

use m2sec_proto::RequestContext;
use m2sec_store::{KeyRecord, KeyVersionRecord, MultiRegionConfig, Scope};

use crate::access::Access;
use crate::error::{KmsError, Result};
use crate::keyring::{key_arn, material_aad, LoadedKey};
use crate::keys::metadata;
use crate::shapes::*;
use crate::{now_ms, state, Aliases, Kms};

fn require_primary<'k>(key: &'k LoadedKey, operation: &str) -> Result<&'k MultiRegionConfig> {
    match &key.record.attributes.multi_region {
        Some(m) if m.primary_region == key.record.scope.region => Ok(m),
        Some(m) => Err(KmsError::Unsupported(format!(
            "{operation} needs the primary key; {} is a replica of the key in {}.",
            key.arn, m.primary_region
        ))),
        None => Err(KmsError::Unsupported(format!(
            "{} is not a multi-Region key; {operation} needs one (CreateKey with MultiRegion true).",
            key.arn
        ))),
    }
}

/// The Regions a replica can go to: AWS's Regions (the commercial partition, China and GovCloud).
/// Requests are signed for any region name, but ReplicateKey names a Region AWS has, as in AWS.
const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

fn valid_region(region: &str) -> bool {
    REGIONS.contains(&region)
}

impl Kms {
    pub(crate) async fn replicate_key(
        &self,
        ctx: &RequestContext,
        req: ReplicateKeyRequest,
    ) -> Result<ReplicateKeyResponse> {
        let primary = self
            .key_for(
                ctx,
                &req.key_id,
                Aliases::Refused,
                Access::of(ctx).with("kms:ReplicaRegion", &req.replica_region),
            )
            .await?;
        let config = require_primary(&primary, "ReplicateKey")?.clone();
        match primary.record.key_state.as_str() {
            state::ENABLED | state::PENDING_IMPORT => {}
            state::DISABLED => return Err(KmsError::Disabled(primary.arn.clone())),
            other => return Err(crate::invalid_state(&primary, other)),
        }
        let region = req.replica_region;
        if !valid_region(&region) {
            return Err(KmsError::Unsupported(format!(
                "ReplicaRegion {region} is not an AWS Region that KMS replicates keys to"
            )));
        }
        if region == config.primary_region {
            return Err(KmsError::Validation(format!(
                "ReplicaRegion {region} is the primary key's Region; choose another Region."
            )));
        }
        let replica_scope = Scope::new(ctx.account.clone(), region.clone());
        let key_id = primary.record.key_id.clone();
        let replica_arn = key_arn(&replica_scope, &key_id);
        if config.replica_regions.contains(&region)
            || self.store.get_key(&replica_scope, &key_id).await?.is_some()
        {
            return Err(KmsError::AlreadyExists(format!(
                "{replica_arn} already exists"
            )));
        }
        let tags = crate::tags::checked_tags(Vec::new(), req.tags)?;
        let policy = match req.policy {
            Some(p) => {
                let p = crate::policy::checked_policy(p)?;
                if !req.bypass_policy_lockout_safety_check {
                    crate::policy::check_lockout(ctx, &ctx.account, &p, &replica_arn)?;
                }
                p
            }
            None => crate::policy::default_policy(&ctx.account),
        };
        let mut new_config = config.clone();
        new_config.replica_regions.push(region.clone());

        let _guard = self.writes.lock().await;
        let versions = self
            .store
            .key_versions(&primary.record.scope, &key_id)
            .await?;
        let has_material = primary.record.current_version > 0;
        let record = KeyRecord {
            scope: replica_scope.clone(),
            key_id: key_id.clone(),
            description: req.description.unwrap_or_default(),
            key_usage: primary.record.key_usage.clone(),
            key_spec: primary.record.key_spec.clone(),
            origin: primary.record.origin.clone(),
            key_manager: "CUSTOMER".into(),
            // Imported material is imported into each related key separately.
            key_state: if primary.record.origin == "EXTERNAL" {
                state::PENDING_IMPORT.into()
            } else {
                state::ENABLED.into()
            },
            created_at: now_ms(),
            deletion_date: None,
            pending_window_days: None,
            rotation_enabled: false,
            rotation_period_days: None,
            next_rotation_at: None,
            current_version: if primary.record.origin == "EXTERNAL" || !has_material {
                0
            } else {
                primary.record.current_version
            },
            policy: policy.clone(),
            tags: tags.clone(),
            attributes: m2sec_store::KeyAttributes {
                multi_region: Some(new_config.clone()),
                material_fingerprint: primary.record.attributes.material_fingerprint.clone(),
                ..Default::default()
            },
        };
        let copies = if record.current_version > 0 {
            versions
                .iter()
                .map(|v| self.rewrap_for(&primary.arn, v, &replica_scope))
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        // The replica, its material and the configuration of every related key: one transaction.
        let related = self
            .related_records(&ctx.account, &new_config, &key_id)
            .await?;
        self.store
            .create_related_key(&record, &copies, &related)
            .await?;
        self.forget_all(&ctx.account, &new_config, &key_id);
        drop(_guard);
        let replica = self
            .keyring
            .key(self.store.as_ref(), &self.root, &replica_scope, &key_id)
            .await?
            .ok_or_else(|| KmsError::Internal("a replica just created is missing".into()))?;
        tracing::info!(key = %primary.arn, replica = %replica_arn, "replicated KMS key");
        Ok(ReplicateKeyResponse {
            replica_key_metadata: metadata(&replica),
            replica_policy: policy,
            replica_tags: tags
                .into_iter()
                .map(|(tag_key, tag_value)| Tag { tag_key, tag_value })
                .collect(),
        })
    }

    pub(crate) async fn update_primary_region(
        &self,
        ctx: &RequestContext,
        req: UpdatePrimaryRegionRequest,
    ) -> Result<Empty> {
        let key = self
            .key_for(
                ctx,
                &req.key_id,
                Aliases::Refused,
                Access::of(ctx).with("kms:PrimaryRegion", &req.primary_region),
            )
            .await?;
        let config = require_primary(&key, "UpdatePrimaryRegion")?.clone();
        if req.primary_region == config.primary_region {
            return Err(KmsError::Validation(format!(
                "{} is already the primary key's Region.",
                req.primary_region
            )));
        }
        if !config.replica_regions.contains(&req.primary_region) {
            return Err(KmsError::NotFound(format!(
                "{} has no replica in {}.",
                key.arn, req.primary_region
            )));
        }
        let new_config = MultiRegionConfig {
            primary_region: req.primary_region.clone(),
            replica_regions: config
                .replica_regions
                .iter()
                .filter(|r| **r != req.primary_region)
                .cloned()
                .chain(std::iter::once(config.primary_region.clone()))
                .collect(),
        };
        let _guard = self.writes.lock().await;
        self.set_multi_region_config(&ctx.account, &new_config, &key.record.key_id)
            .await?;
        Ok(Empty {})
    }

    /// The records of every related key that exists (primary and replicas), with `config` in them.
    async fn related_records(
        &self,
        account: &str,
        config: &MultiRegionConfig,
        key_id: &str,
    ) -> Result<Vec<KeyRecord>> {
        let mut records = Vec::new();
        for region in std::iter::once(&config.primary_region).chain(&config.replica_regions) {
            let scope = Scope::new(account.to_string(), region.clone());
            if let Some(mut record) = self.store.get_key(&scope, key_id).await? {
                record.attributes.multi_region = Some(config.clone());
                records.push(record);
            }
        }
        Ok(records)
    }

    fn forget_all(&self, account: &str, config: &MultiRegionConfig, key_id: &str) {
        for region in std::iter::once(&config.primary_region).chain(&config.replica_regions) {
            self.keyring
                .forget_key(&Scope::new(account.to_string(), region.clone()), key_id);
        }
    }

    /// Writes `config` into every related key that exists (primary and replicas), in one transaction.
    async fn set_multi_region_config(
        &self,
        account: &str,
        config: &MultiRegionConfig,
        key_id: &str,
    ) -> Result<()> {
        let records = self.related_records(account, config, key_id).await?;
        self.store.update_keys(&records).await?;
        self.forget_all(account, config, key_id);
        Ok(())
    }

    /// After a related key in `scope` was deleted: the others forget its Region, and a primary that
    /// waited for its replicas starts its own deletion window.
    pub(crate) async fn forget_related(
        &self,
        scope: &Scope,
        key_id: &str,
        config: &MultiRegionConfig,
    ) -> Result<()> {
        let mut config = config.clone();
        config.replica_regions.retain(|r| *r != scope.region);
        if config.primary_region == scope.region {
            return Ok(());
        }
        let mut records = self
            .related_records(&scope.account, &config, key_id)
            .await?;
        for record in &mut records {
            let waiting = record.scope.region == config.primary_region
                && record.key_state == state::PENDING_REPLICA_DELETION;
            if waiting && config.replica_regions.is_empty() {
                record.key_state = state::PENDING_DELETION.into();
                let days = record.pending_window_days.unwrap_or(30);
                record.deletion_date = Some(now_ms() + days * crate::DAY_MS);
            }
        }
        self.store.update_keys(&records).await?;
        self.forget_all(&scope.account, &config, key_id);
        Ok(())
    }

    /// The primary's record of a multi-Region replica (for the properties related keys share).
    pub(crate) async fn primary_record(&self, key: &LoadedKey) -> Result<Option<KeyRecord>> {
        match &key.record.attributes.multi_region {
            Some(m) if m.primary_region != key.record.scope.region => {
                let scope = Scope::new(key.record.scope.account.clone(), m.primary_region.clone());
                Ok(self.store.get_key(&scope, &key.record.key_id).await?)
            }
            _ => Ok(None),
        }
    }

    /// A version of the primary's material wrapped for the related key in `scope`.
    fn rewrap_for(
        &self,
        primary_arn: &str,
        version: &KeyVersionRecord,
        scope: &Scope,
    ) -> Result<KeyVersionRecord> {
        let material = self
            .root
            .unwrap(
                &version.wrapped_material,
                &material_aad(primary_arn, version.version),
            )
            .map_err(|_| {
                KmsError::Internal(format!(
                    "key material of {primary_arn} version {} does not unwrap",
                    version.version
                ))
            })?;
        let arn = key_arn(scope, &version.key_id);
        Ok(KeyVersionRecord {
            scope: scope.clone(),
            key_id: version.key_id.clone(),
            version: version.version,
            wrapped_material: self
                .root
                .wrap(material.expose(), &material_aad(&arn, version.version)),
            created_at: version.created_at,
            rotation_type: version.rotation_type.clone(),
        })
    }

    /// After the primary of a multi-Region key rotated: the same version goes to every replica.
    pub(crate) async fn share_rotation(
        &self,
        primary: &LoadedKey,
        version: &KeyVersionRecord,
    ) -> Result<()> {
        let Some(config) = &primary.record.attributes.multi_region else {
            return Ok(());
        };
        for region in &config.replica_regions {
            let scope = Scope::new(primary.record.scope.account.clone(), region.clone());
            let Some(mut record) = self.store.get_key(&scope, &primary.record.key_id).await? else {
                continue;
            };
            if record.current_version == 0 {
                continue;
            }
            let copy = self.rewrap_for(&primary.arn, version, &scope)?;
            record.current_version = version.version;
            self.store.add_key_version(&record, &copy).await?;
            self.keyring.forget_key(&scope, &record.key_id);
        }
        Ok(())
    }
}
