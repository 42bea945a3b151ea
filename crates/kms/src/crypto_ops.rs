//! Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateRandom.
//!
//! The hot path: keys come from the keyring (memory), the blob format and AEAD from m2sec-crypto.
//! RSA keys with usage ENCRYPT_DECRYPT go through the same operations: their ciphertext is plain
//! RSAES-OAEP, as in AWS, so anyone holding the public key can make it (see `asymmetric.rs`).

use std::sync::Arc;

use m2sec_crypto::{blob, context, SecretBytes};
use m2sec_proto::json::{Blob, SensitiveBlob};
use m2sec_proto::RequestContext;
use zeroize::Zeroizing;

use crate::access::Access;
use crate::error::{KmsError, Result};
use crate::keyring::LoadedKey;
use crate::keys::{ENCRYPT_DECRYPT, SYMMETRIC_DEFAULT};
use crate::shapes::*;
use crate::{dry_run, require_enabled, scope, Aliases, Kms};

/// Symmetric keys only take SYMMETRIC_DEFAULT; the RSA/SM2 algorithms belong to asymmetric keys.
fn check_algorithm(algorithm: Option<&str>, key: &LoadedKey) -> Result<()> {
    match algorithm {
        None | Some(SYMMETRIC_DEFAULT) => Ok(()),
        Some(other) => Err(KmsError::InvalidKeyUsage(format!(
            "{} does not support encryption algorithm {other}; symmetric keys use SYMMETRIC_DEFAULT",
            key.arn
        ))),
    }
}

pub(crate) fn is_symmetric(key: &LoadedKey) -> bool {
    key.record.key_spec == SYMMETRIC_DEFAULT
}

/// Data keys and key pairs are protected by symmetric encryption keys only.
pub(crate) fn require_symmetric(key: &LoadedKey) -> Result<()> {
    if !is_symmetric(key) {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} is a {} key; this operation needs a symmetric encryption key (SYMMETRIC_DEFAULT).",
            key.arn, key.record.key_spec
        )));
    }
    Ok(())
}

pub(crate) fn check_usable_for_encryption(key: &LoadedKey) -> Result<()> {
    require_enabled(key)?;
    if key.record.key_usage != ENCRYPT_DECRYPT {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} key usage is {} which is not valid for this operation.",
            key.arn, key.record.key_usage
        )));
    }
    Ok(())
}

pub(crate) fn no_recipient(recipient: &Option<serde_json::Value>) -> Result<()> {
    if recipient.is_some() {
        return Err(KmsError::Unsupported(
            "Recipient (Nitro Enclaves attestation) is not supported by m2sec".into(),
        ));
    }
    Ok(())
}

impl Kms {
    pub(crate) fn seal(
        &self,
        key: &LoadedKey,
        plaintext: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<Vec<u8>> {
        require_symmetric(key)?;
        let (version, material) = key
            .current()
            .and_then(|(v, m)| m.symmetric().map(|k| (v, k)))
            .ok_or_else(|| crate::invalid_state(key, crate::state::PENDING_IMPORT))?;
        Ok(material.encrypt(
            &key.record.key_id,
            version,
            plaintext,
            &context::canonical(ctx),
        ))
    }

    /// Encrypts with any ENCRYPT_DECRYPT key: a blob for symmetric keys, RSAES-OAEP for RSA keys.
    pub(crate) fn encrypt_with(
        &self,
        key: &LoadedKey,
        plaintext: &[u8],
        ctx: &EncryptionContext,
        algorithm: Option<&str>,
    ) -> Result<(Vec<u8>, &'static str)> {
        if is_symmetric(key) {
            check_algorithm(algorithm, key)?;
            return Ok((self.seal(key, plaintext, ctx)?, SYMMETRIC_DEFAULT));
        }
        crate::asymmetric::rsa_encrypt(key, plaintext, ctx, algorithm)
    }

    /// Opens a blob: finds the key it names (which must match `expected` if the caller named one),
    /// checks the key can decrypt, and authenticates.
    pub(crate) async fn open(
        &self,
        request: &RequestContext,
        access: Access<'_>,
        ciphertext: &[u8],
        ctx: &EncryptionContext,
        expected: Option<&str>,
        algorithm: Option<&str>,
        dry: Option<bool>,
    ) -> Result<(Arc<LoadedKey>, SecretBytes, &'static str)> {
        let scope = &scope(request);
        let invalid = || {
            KmsError::InvalidCiphertext(
                "The ciphertext is invalid, was altered, or was not made with this encryption context by a key in this account and region."
                    .into(),
            )
        };
        let expected = match expected {
            Some(id) => Some(self.resolve(scope, id, Aliases::Accepted).await?),
            None => None,
        };
        let access = access.with_context(ctx).with(
            "kms:EncryptionAlgorithm",
            algorithm.unwrap_or(SYMMETRIC_DEFAULT),
        );
        // RSA ciphertext names no key: the caller must name it.
        if let Some(key) = expected.as_ref().filter(|k| !is_symmetric(k)) {
            let key = key.clone();
            self.authorize_key(request, &key, &access).await?;
            check_usable_for_encryption(&key)?;
            let (plaintext, algorithm) =
                crate::asymmetric::rsa_decrypt(&key, ciphertext, ctx, algorithm)?;
            dry_run(dry)?;
            return Ok((key, plaintext, algorithm));
        }
        let parsed = blob::parse(ciphertext).map_err(|_| invalid())?;
        let key = match expected {
            Some(key) => {
                if key.record.key_id != parsed.header.key_id {
                    return Err(KmsError::IncorrectKey);
                }
                key
            }
            // The blob names a key that is not here (other region, deleted, or altered bytes).
            None => self
                .keyring
                .key(
                    self.store.as_ref(),
                    &self.root,
                    scope,
                    &parsed.header.key_id,
                )
                .await?
                .ok_or_else(invalid)?,
        };
        self.authorize_key(request, &key, &access).await?;
        check_usable_for_encryption(&key)?;
        check_algorithm(algorithm, &key)?;
        let material = key
            .version(parsed.header.key_version)
            .and_then(|m| m.symmetric())
            .ok_or_else(invalid)?;
        let plaintext = material
            .decrypt(&parsed, &context::canonical(ctx))
            .map_err(|_| invalid())?;
        dry_run(dry)?;
        Ok((key, plaintext, SYMMETRIC_DEFAULT))
    }

    pub(crate) async fn encrypt(
        &self,
        ctx: &RequestContext,
        req: EncryptRequest,
    ) -> Result<EncryptResponse> {
        let key = self
            .key_for(
                ctx,
                &req.key_id,
                Aliases::Accepted,
                Access::of(ctx).with_context(&req.encryption_context).with(
                    "kms:EncryptionAlgorithm",
                    req.encryption_algorithm
                        .as_deref()
                        .unwrap_or(SYMMETRIC_DEFAULT),
                ),
            )
            .await?;
        check_usable_for_encryption(&key)?;
        let (ciphertext, algorithm) = self.encrypt_with(
            &key,
            &req.plaintext.0,
            &req.encryption_context,
            req.encryption_algorithm.as_deref(),
        )?;
        dry_run(req.dry_run)?;
        Ok(EncryptResponse {
            ciphertext_blob: Blob(ciphertext),
            key_id: key.arn.clone(),
            encryption_algorithm: algorithm,
        })
    }

    pub(crate) async fn decrypt(
        &self,
        ctx: &RequestContext,
        req: DecryptRequest,
    ) -> Result<DecryptResponse> {
        no_recipient(&req.recipient)?;
        let (key, plaintext, algorithm) = self
            .open(
                ctx,
                Access::of(ctx),
                &req.ciphertext_blob.0,
                &req.encryption_context,
                req.key_id.as_deref(),
                req.encryption_algorithm.as_deref(),
                req.dry_run,
            )
            .await?;
        Ok(DecryptResponse {
            key_id: key.arn.clone(),
            plaintext: SensitiveBlob(Zeroizing::new(plaintext.expose().to_vec())),
            encryption_algorithm: algorithm,
        })
    }

    pub(crate) async fn re_encrypt(
        &self,
        ctx: &RequestContext,
        req: ReEncryptRequest,
    ) -> Result<ReEncryptResponse> {
        let (source, plaintext, source_algorithm) = self
            .open(
                ctx,
                Access::action("kms:ReEncryptFrom"),
                &req.ciphertext_blob.0,
                &req.source_encryption_context,
                req.source_key_id.as_deref(),
                req.source_encryption_algorithm.as_deref(),
                None,
            )
            .await?;
        let dest = self
            .key_for(
                ctx,
                &req.destination_key_id,
                Aliases::Accepted,
                Access::action("kms:ReEncryptTo").with_context(&req.destination_encryption_context),
            )
            .await?;
        check_usable_for_encryption(&dest)?;
        let (ciphertext, dest_algorithm) = self.encrypt_with(
            &dest,
            plaintext.expose(),
            &req.destination_encryption_context,
            req.destination_encryption_algorithm.as_deref(),
        )?;
        dry_run(req.dry_run)?;
        Ok(ReEncryptResponse {
            ciphertext_blob: Blob(ciphertext),
            source_key_id: source.arn.clone(),
            key_id: dest.arn.clone(),
            source_encryption_algorithm: source_algorithm,
            destination_encryption_algorithm: dest_algorithm,
        })
    }

    async fn data_key(
        &self,
        ctx: &RequestContext,
        req: GenerateDataKeyRequest,
        with_plaintext: bool,
    ) -> Result<GenerateDataKeyResponse> {
        no_recipient(&req.recipient)?;
        let len = match (req.key_spec.as_deref(), req.number_of_bytes) {
            (Some(_), Some(_)) => {
                return Err(KmsError::Validation(
                    "Specify either KeySpec or NumberOfBytes, not both.".into(),
                ))
            }
            (None, None) => {
                return Err(KmsError::Validation(
                    "Please specify either number of bytes or key spec.".into(),
                ))
            }
            (Some("AES_256"), None) => 32,
            (Some("AES_128"), None) => 16,
            (Some(other), None) => {
                return Err(KmsError::Validation(format!(
                    "Unknown data key spec {other}"
                )))
            }
            (None, Some(n)) => n,
        };
        let key = self
            .key_for(
                ctx,
                &req.key_id,
                Aliases::Accepted,
                Access::of(ctx).with_context(&req.encryption_context),
            )
            .await?;
        check_usable_for_encryption(&key)?;
        require_symmetric(&key)?;
        dry_run(req.dry_run)?;
        let data_key = m2sec_crypto::random_bytes(len);
        Ok(GenerateDataKeyResponse {
            ciphertext_blob: Blob(self.seal(&key, data_key.expose(), &req.encryption_context)?),
            plaintext: with_plaintext
                .then(|| SensitiveBlob(Zeroizing::new(data_key.expose().to_vec()))),
            key_id: key.arn.clone(),
        })
    }

    pub(crate) async fn generate_data_key(
        &self,
        ctx: &RequestContext,
        req: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse> {
        self.data_key(ctx, req, true).await
    }

    pub(crate) async fn generate_data_key_without_plaintext(
        &self,
        ctx: &RequestContext,
        req: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse> {
        self.data_key(ctx, req, false).await
    }

    pub(crate) async fn generate_random(
        &self,
        _ctx: &RequestContext,
        req: GenerateRandomRequest,
    ) -> Result<GenerateRandomResponse> {
        no_recipient(&req.recipient)?;
        if let Some(id) = &req.custom_key_store_id {
            return Err(crate::custom_key_store_not_found(id));
        }
        let n = req.number_of_bytes.ok_or_else(|| {
            KmsError::Validation(
                "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null"
                    .into(),
            )
        })?;
        let bytes = m2sec_crypto::random_bytes(n);
        Ok(GenerateRandomResponse {
            plaintext: SensitiveBlob(Zeroizing::new(bytes.expose().to_vec())),
        })
    }
}
