//! CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

use std::sync::Arc;

use m2sec_proto::json::Timestamp;
use m2sec_proto::RequestContext;
use m2sec_store::{AliasRecord, StoreError};

use crate::access::Access;
use crate::error::{KmsError, Result};
use crate::keyring::{alias_arn, LoadedKey};
use crate::shapes::*;
use crate::{now_ms, page, scope, state, Aliases, Kms};

/// AWS reserves `alias/aws/` for the keys its services create.
const RESERVED_PREFIX: &str = "alias/aws/";

fn check_alias_name(name: &str) -> Result<()> {
    if !name.starts_with("alias/") || name.len() <= "alias/".len() {
        return Err(KmsError::Validation(format!(
            "Alias must start with the prefix \"alias/\" followed by a name: '{name}'"
        )));
    }
    if name.starts_with(RESERVED_PREFIX) {
        return Err(KmsError::NotAuthorized(format!(
            "Alias names beginning with {RESERVED_PREFIX} are reserved for AWS managed keys: '{name}'"
        )));
    }
    Ok(())
}

/// Aliases point at keys, never at other aliases.
fn check_target(target: &str) -> Result<()> {
    if target.starts_with("alias/") || target.contains(":alias/") {
        return Err(KmsError::Validation(format!(
            "Aliases must refer to keys, not aliases: '{target}'"
        )));
    }
    Ok(())
}

fn check_target_state(key: &LoadedKey) -> Result<()> {
    if key.record.key_state == state::PENDING_DELETION {
        return Err(crate::invalid_state(key, state::PENDING_DELETION));
    }
    Ok(())
}

impl Kms {
    /// The checks CreateAlias and UpdateAlias share: a customer alias name, and a target that is a key
    /// (not an alias) not pending deletion.
    async fn checked_alias_target(
        &self,
        ctx: &RequestContext,
        req: &AliasRequest,
    ) -> Result<Arc<LoadedKey>> {
        check_alias_name(&req.alias_name)?;
        let target = req
            .target_key_id
            .as_deref()
            .ok_or_else(|| KmsError::Validation("TargetKeyId is required".into()))?;
        check_target(target)?;
        // AWS checks the alias (IAM) and the key (key policy and IAM).
        self.authorize_account(ctx, &alias_arn(&scope(ctx), &req.alias_name))
            .await?;
        let key = self
            .key_for(ctx, target, Aliases::Refused, Access::of(ctx))
            .await?;
        check_target_state(&key)?;
        Ok(key)
    }

    pub(crate) async fn create_alias(
        &self,
        ctx: &RequestContext,
        req: AliasRequest,
    ) -> Result<Empty> {
        let scope = scope(ctx);
        let key = self.checked_alias_target(ctx, &req).await?;
        let now = now_ms();
        let _guard = self.writes.lock().await;
        let record = AliasRecord {
            scope: scope.clone(),
            alias_name: req.alias_name.clone(),
            target_key_id: key.record.key_id.clone(),
            created_at: now,
            updated_at: now,
        };
        match self.store.create_alias(&record).await {
            Err(StoreError::AlreadyExists) => Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                alias_arn(&scope, &req.alias_name)
            ))),
            other => other.map_err(KmsError::from),
        }?;
        self.keyring
            .set_alias(&scope, &req.alias_name, Some(&key.record.key_id));
        Ok(Empty {})
    }

    pub(crate) async fn update_alias(
        &self,
        ctx: &RequestContext,
        req: AliasRequest,
    ) -> Result<Empty> {
        let scope = scope(ctx);
        let key = self.checked_alias_target(ctx, &req).await?;
        let _guard = self.writes.lock().await;
        let existing = self
            .store
            .get_alias(&scope, &req.alias_name)
            .await?
            .ok_or_else(|| {
                KmsError::NotFound(format!(
                    "Alias '{}' is not found.",
                    alias_arn(&scope, &req.alias_name)
                ))
            })?;
        let record = AliasRecord {
            target_key_id: key.record.key_id.clone(),
            updated_at: now_ms(),
            ..existing
        };
        self.store.update_alias(&record).await?;
        self.keyring
            .set_alias(&scope, &req.alias_name, Some(&key.record.key_id));
        Ok(Empty {})
    }

    pub(crate) async fn delete_alias(
        &self,
        ctx: &RequestContext,
        req: AliasRequest,
    ) -> Result<Empty> {
        let scope = scope(ctx);
        check_alias_name(&req.alias_name)?;
        self.authorize_account(ctx, &alias_arn(&scope, &req.alias_name))
            .await?;
        if let Some(target) = self
            .keyring
            .alias_target(self.store.as_ref(), &scope, &req.alias_name)
            .await?
        {
            if let Ok(key) = self.resolve(&scope, &target, Aliases::Refused).await {
                self.authorize_key(ctx, &key, &Access::of(ctx)).await?;
            }
        }
        let _guard = self.writes.lock().await;
        if !self.store.delete_alias(&scope, &req.alias_name).await? {
            return Err(KmsError::NotFound(format!(
                "Alias '{}' is not found.",
                alias_arn(&scope, &req.alias_name)
            )));
        }
        self.keyring.set_alias(&scope, &req.alias_name, None);
        Ok(Empty {})
    }

    pub(crate) async fn list_aliases(
        &self,
        ctx: &RequestContext,
        req: ListRequest,
    ) -> Result<ListAliasesResponse> {
        let scope = scope(ctx);
        let filter = match &req.key_id {
            Some(id) => {
                check_target(id)?;
                Some(
                    self.key_for(ctx, id, Aliases::Refused, Access::of(ctx))
                        .await?
                        .record
                        .key_id
                        .clone(),
                )
            }
            None => None,
        };
        let aliases: Vec<AliasRecord> = self
            .store
            .list_aliases(&scope)
            .await?
            .into_iter()
            .filter(|a| filter.as_ref().is_none_or(|k| &a.target_key_id == k))
            .collect();
        let (aliases, next_marker) = page(aliases, req.marker.as_deref(), req.limit, 100)?;
        Ok(ListAliasesResponse {
            aliases: aliases
                .into_iter()
                .map(|a| AliasListEntry {
                    alias_arn: alias_arn(&scope, &a.alias_name),
                    alias_name: a.alias_name,
                    target_key_id: a.target_key_id,
                    creation_date: Timestamp(a.created_at),
                    last_updated_date: Timestamp(a.updated_at),
                })
                .collect(),
            truncated: next_marker.is_some(),
            next_marker,
        })
    }
}
