//! What other m2sec services (SSM today) use KMS for, in-process: encrypting and decrypting on a
//! caller's behalf with an encryption context, and the AWS managed keys (`alias/aws/<service>`) that
//! AWS creates on first use.

use std::sync::Arc;

use m2sec_crypto::SecretBytes;
use m2sec_store::{AliasRecord, KeyRecord, Scope};

use crate::access::Access;
use crate::error::{KmsError, Result};
use crate::keyring::LoadedKey;
use crate::shapes::EncryptionContext;
use crate::{now_ms, state, Aliases, Kms};
use m2sec_proto::RequestContext;

/// A ciphertext made for a service, with the ARN of the key that made it.
pub struct ServiceCiphertext {
    pub blob: Vec<u8>,
    pub key_arn: String,
}

/// A call another service makes on the caller's behalf: `kms:ViaService` is `<service>.<region>.amazonaws.com`.
fn via<'a>(
    service: &str,
    action: &str,
    region: &str,
    context: &'a EncryptionContext,
) -> Access<'a> {
    let mut access = Access::action(action).with_context(context);
    access.via_service = Some(format!("{service}.{region}.amazonaws.com"));
    access
}

impl Kms {
    /// KMS Encrypt on behalf of `service`. `key_id` is any form KMS accepts; `None` or
    /// `alias/aws/<service>` use (and, the first time, create) the service's AWS managed key.
    pub async fn encrypt_for_service(
        &self,
        ctx: &RequestContext,
        service: &str,
        key_id: Option<&str>,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<ServiceCiphertext> {
        self.seal_for_service(ctx, service, "Encrypt", key_id, plaintext, context)
            .await
    }

    /// KMS GenerateDataKey (AES_256) on behalf of `service`: the plaintext data key and its
    /// ciphertext under `key_id` (as [`Kms::encrypt_for_service`] resolves it).
    pub async fn generate_data_key_for_service(
        &self,
        ctx: &RequestContext,
        service: &str,
        key_id: Option<&str>,
        context: &EncryptionContext,
    ) -> Result<(SecretBytes, ServiceCiphertext)> {
        let data_key = m2sec_crypto::random_bytes(32);
        let sealed = self
            .seal_for_service(
                ctx,
                service,
                "GenerateDataKey",
                key_id,
                data_key.expose(),
                context,
            )
            .await?;
        Ok((data_key, sealed))
    }

    /// The ARN and state of the key `key_id` names (`alias/aws/<service>` is created on first use).
    pub async fn key_for_service(
        &self,
        ctx: &RequestContext,
        service: &str,
        key_id: Option<&str>,
    ) -> Result<(String, String)> {
        let scope = &crate::scope(ctx);
        let managed_alias = format!("alias/aws/{service}");
        let key = match key_id {
            None => self.aws_managed_key(scope, service).await?,
            Some(id) if id == managed_alias => self.aws_managed_key(scope, service).await?,
            Some(id) => self.resolve(scope, id, Aliases::Accepted).await?,
        };
        Ok((key.arn.clone(), key.record.key_state.clone()))
    }

    /// KMS Decrypt by `service` under the grant it holds on the key since the caller set the key
    /// up for it (DynamoDB's table key): the key's state is checked, not the caller's policies, as
    /// AWS authorizes such calls by the service's grant. Recorded like the caller's own use.
    pub async fn decrypt_under_service_grant(
        &self,
        ctx: &RequestContext,
        service: &str,
        blob: &[u8],
        context: &EncryptionContext,
    ) -> Result<(SecretBytes, String)> {
        let scope = &crate::scope(ctx);
        let result = async {
            let parsed = m2sec_crypto::blob::parse(blob)
                .map_err(|_| KmsError::InvalidCiphertext("The ciphertext is invalid.".into()))?;
            let invalid = || KmsError::InvalidCiphertext("The ciphertext is invalid.".into());
            let key = self
                .keyring
                .key(
                    self.store.as_ref(),
                    &self.root,
                    scope,
                    &parsed.header.key_id,
                )
                .await?
                .ok_or_else(invalid)?;
            crate::crypto_ops::check_usable_for_encryption(&key)?;
            let material = key
                .version(parsed.header.key_version)
                .and_then(|m| m.symmetric())
                .ok_or_else(invalid)?;
            let plaintext = material
                .decrypt(&parsed, &m2sec_crypto::context::canonical(context))
                .map_err(|_| invalid())?;
            Ok((plaintext, key.arn.clone()))
        }
        .await;
        let arn = match &result {
            Ok((_, arn)) => Some(arn.clone()),
            Err(_) => m2sec_crypto::blob::parse(blob)
                .ok()
                .map(|p| crate::keyring::key_arn(scope, &p.header.key_id)),
        };
        self.record_for_service(ctx, service, "Decrypt", None, arn, context, &result)
            .await;
        result
    }

    async fn seal_for_service(
        &self,
        ctx: &RequestContext,
        service: &str,
        operation: &str,
        key_id: Option<&str>,
        plaintext: &[u8],
        context: &EncryptionContext,
    ) -> Result<ServiceCiphertext> {
        let scope = &crate::scope(ctx);
        let managed_alias = format!("alias/aws/{service}");
        let mut arn = None;
        let result = async {
            let key = match key_id {
                None => self.aws_managed_key(scope, service).await?,
                Some(id) if id == managed_alias => self.aws_managed_key(scope, service).await?,
                Some(id) => self.resolve(scope, id, Aliases::Accepted).await?,
            };
            arn = Some(key.arn.clone());
            self.authorize_key(
                ctx,
                &key,
                &via(service, &format!("kms:{operation}"), &ctx.region, context),
            )
            .await?;
            crate::crypto_ops::check_usable_for_encryption(&key)?;
            Ok(ServiceCiphertext {
                blob: self.seal(&key, plaintext, context)?,
                key_arn: key.arn.clone(),
            })
        }
        .await;
        let key_param = key_id.unwrap_or(&managed_alias);
        self.record_for_service(
            ctx,
            service,
            operation,
            Some(key_param),
            arn,
            context,
            &result,
        )
        .await;
        result
    }

    /// The KMS event of a call another service made for the caller (`invokedBy` that service), as
    /// AWS records SSM's use of KMS.
    async fn record_for_service<T>(
        &self,
        ctx: &RequestContext,
        service: &str,
        operation: &str,
        key_id: Option<&str>,
        key_arn: Option<String>,
        context: &EncryptionContext,
        result: &Result<T>,
    ) {
        if !self.trail.is_enabled() {
            return;
        }
        let mut params = serde_json::json!({
            "encryptionContext": context,
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
        });
        if let Some(k) = key_id {
            params["keyId"] = serde_json::Value::String(k.to_string());
        }
        let error = result.as_ref().err().map(|e| {
            let message = match e {
                KmsError::Store(_) | KmsError::Internal(_) => "internal error".to_string(),
                other => other.to_string(),
            };
            m2sec_proto::AwsError::new(e.aws_code(), 400, message)
        });
        let invoked_by = format!("{service}.amazonaws.com");
        // The calling service's own record decides whether its call is answered (a failing trail
        // refuses it there); this record rides along.
        let _ = self
            .trail
            .call(&m2sec_trail::Call {
                ctx,
                event_source: "kms.amazonaws.com",
                event_name: operation,
                region: &ctx.region,
                request_parameters: Some(params),
                response_elements: None,
                error: error.as_ref(),
                invoked_by: Some(&invoked_by),
                resources: key_arn
                    .into_iter()
                    .map(|a| (crate::KEY_RESOURCE, a))
                    .collect(),
            })
            .await;
    }

    /// KMS Decrypt on behalf of a service: the blob names its key.
    pub async fn decrypt_for_service(
        &self,
        ctx: &RequestContext,
        service: &str,
        blob: &[u8],
        context: &EncryptionContext,
    ) -> Result<(SecretBytes, String)> {
        let mut access = via(service, "kms:Decrypt", &ctx.region, context);
        access.encryption_context = None;
        let result = self
            .open(ctx, access, blob, context, None, None, None)
            .await
            .map(|(key, plaintext, _)| (plaintext, key.arn.clone()));
        // The key the blob names, also when the call is refused.
        let arn = match &result {
            Ok((_, arn)) => Some(arn.clone()),
            Err(_) => m2sec_crypto::blob::parse(blob)
                .ok()
                .map(|p| crate::keyring::key_arn(&crate::scope(ctx), &p.header.key_id)),
        };
        self.record_for_service(ctx, service, "Decrypt", None, arn, context, &result)
            .await;
        result
    }

    /// The AWS managed key of `service` in `scope`, created with its alias on first use.
    pub async fn aws_managed_key(&self, scope: &Scope, service: &str) -> Result<Arc<LoadedKey>> {
        let alias = format!("alias/aws/{service}");
        if let Some(id) = self
            .keyring
            .alias_target(self.store.as_ref(), scope, &alias)
            .await?
        {
            return self.resolve(scope, &id, Aliases::Refused).await;
        }
        let _guard = self.writes.lock().await;
        // Another request may have created it while this one waited.
        if let Some(alias) = self.store.get_alias(scope, &alias).await? {
            drop(_guard);
            return self
                .resolve(scope, &alias.target_key_id, Aliases::Refused)
                .await;
        }
        let now = now_ms();
        let record = KeyRecord {
            scope: scope.clone(),
            key_id: uuid::Uuid::new_v4().to_string(),
            description: format!(
                "Default key that protects my {} data when no other key is defined",
                service.to_uppercase()
            ),
            key_usage: crate::keys::ENCRYPT_DECRYPT.into(),
            key_spec: crate::keys::SYMMETRIC_DEFAULT.into(),
            origin: "AWS_KMS".into(),
            key_manager: "AWS".into(),
            key_state: state::ENABLED.into(),
            created_at: now,
            deletion_date: None,
            pending_window_days: None,
            // AWS managed keys rotate every year, always.
            rotation_enabled: true,
            rotation_period_days: Some(crate::rotation::DEFAULT_PERIOD_DAYS),
            next_rotation_at: Some(now + crate::rotation::DEFAULT_PERIOD_DAYS * crate::DAY_MS),
            current_version: 1,
            policy: crate::policy::aws_managed_policy(&scope.account, service, &scope.region),
            tags: Vec::new(),
            attributes: Default::default(),
        };
        let key = self
            .insert_new_key(
                record,
                Some(m2sec_crypto::SymmetricKey::generate_material()),
            )
            .await?;
        self.store
            .create_alias(&AliasRecord {
                scope: scope.clone(),
                alias_name: alias.clone(),
                target_key_id: key.record.key_id.clone(),
                created_at: now,
                updated_at: now,
            })
            .await
            .map_err(KmsError::from)?;
        self.keyring
            .set_alias(scope, &alias, Some(&key.record.key_id));
        Ok(key)
    }
}
