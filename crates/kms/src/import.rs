//! Imported key material (BYOK): GetParametersForImport, ImportKeyMaterial,
//! DeleteImportedKeyMaterial, and the end of ValidTo (run by the scheduler).
//!
//! A key created with Origin EXTERNAL starts in PendingImport without material. GetParametersForImport
//! makes an RSA wrapping key and hands out its public half with an import token: the wrapping key's
//! private half, the key it is for, the algorithm and an expiry, sealed under the root key. The token
//! is all the state there is, so a token works on any node and for 24 hours only.
//!
//! m2sec keeps the imported material's fingerprint (SHA-256 over the key id and the material), so a
//! re-import — after DeleteImportedKeyMaterial or expiry, or into a multi-Region replica — must bring
//! the same bytes, as in AWS.

use m2sec_crypto::{KeySpec, PrivateKey, SecretBytes, WrappingKey};
use m2sec_proto::json::{Blob, Timestamp};
use m2sec_proto::RequestContext;
use m2sec_store::{KeyRecord, KeyVersionRecord};
use zeroize::Zeroizing;

use crate::access::Access;
use crate::asymmetric::crypto_error;
use crate::error::{KmsError, Result};
use crate::keyring::{material_aad, LoadedKey};
use crate::keys::SYMMETRIC_DEFAULT;
use crate::shapes::*;
use crate::{now_ms, state, Aliases, Kms, DAY_MS};

/// How long an import token and its wrapping key stay valid.
const TOKEN_LIFETIME_MS: i64 = DAY_MS;
const TOKEN_AAD: &[u8] = b"m2sec:kms-import-token:v1";
const EXPIRES: &str = "KEY_MATERIAL_EXPIRES";
const DOES_NOT_EXPIRE: &str = "KEY_MATERIAL_DOES_NOT_EXPIRE";
/// ValidTo may be at most this far ahead (ImportKeyMaterial's documentation).
const MAX_VALID_TO_MS: i64 = 365 * DAY_MS;

fn require_external(key: &LoadedKey, operation: &str) -> Result<()> {
    if key.record.origin != "EXTERNAL" {
        return Err(KmsError::Unsupported(format!(
            "{operation} is supported only on keys with Origin EXTERNAL; {} has Origin {}.",
            key.arn, key.record.origin
        )));
    }
    // Material may be deleted from a key pending deletion, not imported into it.
    if key.record.key_state == state::PENDING_DELETION && operation != "DeleteImportedKeyMaterial" {
        return Err(crate::invalid_state(key, state::PENDING_DELETION));
    }
    Ok(())
}

/// What an import token carries, in the clear only inside this module.
struct Token {
    key_id: String,
    algorithm: String,
    expires_at: i64,
    wrapping_key: SecretBytes,
}

impl Token {
    /// `expires_at (8) | algorithm length (1) | algorithm | key id length (1) | key id | PKCS#8`.
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(
            self.wrapping_key.len() + self.key_id.len() + 64,
        ));
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        for field in [self.algorithm.as_bytes(), self.key_id.as_bytes()] {
            out.push(field.len() as u8);
            out.extend_from_slice(field);
        }
        out.extend_from_slice(self.wrapping_key.expose());
        out
    }

    fn decode(bytes: &[u8]) -> Option<Token> {
        let expires_at = i64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
        let mut rest = &bytes[8..];
        let mut field = || -> Option<String> {
            let len = *rest.first()? as usize;
            let text = std::str::from_utf8(rest.get(1..1 + len)?).ok()?.to_string();
            rest = &rest[1 + len..];
            Some(text)
        };
        let algorithm = field()?;
        let key_id = field()?;
        Some(Token {
            key_id,
            algorithm,
            expires_at,
            wrapping_key: SecretBytes::from_slice(rest),
        })
    }
}

/// The fingerprint a re-import must match; also the KeyMaterialId of symmetric keys.
pub(crate) fn fingerprint(key_id: &str, material: &[u8]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(b"m2sec:kms-imported-material:v1|");
    ctx.update(key_id.as_bytes());
    ctx.update(b"|");
    ctx.update(material);
    hex::encode(ctx.finish().as_ref())
}

/// Checks customer material against the key's spec and returns it in the form sealed at rest.
fn checked_material(record: &KeyRecord, material: SecretBytes) -> Result<SecretBytes> {
    if record.key_spec == SYMMETRIC_DEFAULT {
        if material.len() != 32 {
            return Err(KmsError::IncorrectKeyMaterial(format!(
                "Symmetric key material must be 256 bits (32 bytes); the unwrapped material has {} bytes.",
                material.len()
            )));
        }
        return Ok(material);
    }
    let spec = KeySpec::parse(&record.key_spec)
        .ok_or_else(|| KmsError::Internal(format!("unknown key spec {}", record.key_spec)))?;
    let key = PrivateKey::import(spec, &material).map_err(|e| {
        KmsError::IncorrectKeyMaterial(format!(
            "The key material is not a valid {} key: {e}",
            record.key_spec
        ))
    })?;
    Ok(key.to_material())
}

impl Kms {
    pub(crate) async fn get_parameters_for_import(
        &self,
        ctx: &RequestContext,
        req: GetParametersForImportRequest,
    ) -> Result<GetParametersForImportResponse> {
        let access = Access::of(ctx)
            .with("kms:WrappingAlgorithm", &req.wrapping_algorithm)
            .with("kms:WrappingKeySpec", &req.wrapping_key_spec);
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, access)
            .await?;
        require_external(&key, "GetParametersForImport")?;
        match req.wrapping_algorithm.as_str() {
            "RSAES_OAEP_SHA_1"
            | "RSAES_OAEP_SHA_256"
            | "RSA_AES_KEY_WRAP_SHA_1"
            | "RSA_AES_KEY_WRAP_SHA_256" => {}
            "RSAES_PKCS1_V1_5" => {
                return Err(KmsError::Validation(
                    "WrappingAlgorithm RSAES_PKCS1_V1_5 is no longer supported; use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256".into(),
                ))
            }
            other => {
                return Err(KmsError::Unsupported(format!(
                    "WrappingAlgorithm {other} is offered only in AWS China Regions; m2sec does not support it"
                )))
            }
        }
        let spec = req.wrapping_key_spec.clone();
        if !matches!(spec.as_str(), "RSA_2048" | "RSA_3072" | "RSA_4096") {
            return Err(KmsError::Unsupported(format!(
                "WrappingKeySpec {spec} is offered only in AWS China Regions; m2sec does not support it"
            )));
        }
        let wrapping = tokio::task::spawn_blocking(move || WrappingKey::generate(&spec))
            .await
            .map_err(|e| KmsError::Internal(format!("wrapping key generation: {e}")))?
            .map_err(crypto_error)?;
        let expires_at = now_ms() + TOKEN_LIFETIME_MS;
        let token = Token {
            key_id: key.record.key_id.clone(),
            algorithm: req.wrapping_algorithm,
            expires_at,
            wrapping_key: wrapping.to_material(),
        };
        Ok(GetParametersForImportResponse {
            key_id: key.arn.clone(),
            import_token: Blob(self.root.wrap(&token.encode(), TOKEN_AAD)),
            public_key: Blob(wrapping.public_key_der()),
            parameters_valid_to: Timestamp(expires_at),
        })
    }

    pub(crate) async fn import_key_material(
        &self,
        ctx: &RequestContext,
        req: ImportKeyMaterialRequest,
    ) -> Result<ImportKeyMaterialResponse> {
        let model = req.expiration_model.as_deref().unwrap_or(EXPIRES);
        let mut access = Access::of(ctx).with("kms:ExpirationModel", model);
        if let Some(t) = req.valid_to {
            access = access.with("kms:ValidTo", (t.0 / 1000).to_string());
        }
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, access)
            .await?;
        require_external(&key, "ImportKeyMaterial")?;
        let now = now_ms();
        let valid_to = match (model, req.valid_to) {
            (EXPIRES, None) => return Err(KmsError::Validation(
                "ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES (the default)."
                    .into(),
            )),
            (EXPIRES, Some(t)) if t.0 <= now => {
                return Err(KmsError::Validation(
                    "ValidTo must be a future date and time.".into(),
                ))
            }
            (EXPIRES, Some(t)) if t.0 > now + MAX_VALID_TO_MS => {
                return Err(KmsError::Validation(
                    "ValidTo can be at most 365 days from now.".into(),
                ))
            }
            (EXPIRES, Some(t)) => Some(t.0),
            (DOES_NOT_EXPIRE, Some(_)) => {
                return Err(KmsError::Validation(
                    "ValidTo is not valid when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE."
                        .into(),
                ))
            }
            _ => None,
        };
        let invalid_token = || {
            KmsError::InvalidImportToken(format!(
                "The import token is invalid or was not made for {}.",
                key.arn
            ))
        };
        let token = self
            .root
            .unwrap(&req.import_token.0, TOKEN_AAD)
            .ok()
            .and_then(|bytes| Token::decode(bytes.expose()))
            .ok_or_else(invalid_token)?;
        if token.key_id != key.record.key_id {
            return Err(invalid_token());
        }
        if token.expires_at <= now {
            return Err(KmsError::ExpiredImportToken(
                "The import token expired; call GetParametersForImport for a new one.".into(),
            ));
        }
        let wrapping = WrappingKey::from_material(&token.wrapping_key).map_err(crypto_error)?;
        let material = wrapping
            .unwrap(&token.algorithm, &req.encrypted_key_material.0)
            .map_err(|e| match e {
                m2sec_crypto::CryptoError::InvalidCiphertext => KmsError::InvalidCiphertext(format!(
                    "The encrypted key material does not decrypt with this import token's wrapping key and {}.",
                    token.algorithm
                )),
                other => crypto_error(other),
            })?;
        let fp = fingerprint(&key.record.key_id, material.expose());
        let material = checked_material(&key.record, material)?;
        let symmetric = key.record.key_spec == SYMMETRIC_DEFAULT;
        if let Some(id) = &req.key_material_id {
            if !symmetric || *id != fp {
                return Err(KmsError::IncorrectKeyMaterial(format!(
                    "KeyMaterialId {id} does not identify this key material for {}.",
                    key.arn
                )));
            }
        }

        let _guard = self.writes.lock().await;
        let mut record = self
            .store
            .get_key(&key.record.scope, &key.record.key_id)
            .await?
            .ok_or_else(|| KmsError::NotFound(format!("Key '{}' does not exist", key.arn)))?;
        let import_type = req.import_type.as_deref();
        match &record.attributes.material_fingerprint {
            Some(previous) if *previous != fp => {
                return Err(KmsError::IncorrectKeyMaterial(format!(
                    "The key material is not the key material previously imported into {}. \
                     Import the same material (rotation of imported material is not supported by m2sec).",
                    key.arn
                )))
            }
            Some(_) if import_type == Some("NEW_KEY_MATERIAL") => {
                return Err(KmsError::IncorrectKeyMaterial(format!(
                    "ImportType NEW_KEY_MATERIAL needs material never imported into {}; this material was.",
                    key.arn
                )))
            }
            None if import_type == Some("EXISTING_KEY_MATERIAL") => {
                return Err(KmsError::IncorrectKeyMaterial(format!(
                    "ImportType EXISTING_KEY_MATERIAL needs material already imported into {}; none was.",
                    key.arn
                )))
            }
            _ => {}
        }
        record.attributes.material_fingerprint = Some(fp.clone());
        record.attributes.expiration_model = Some(model.to_string());
        record.attributes.valid_to = valid_to;
        // Keys with imported material never rotate, so the scheduler's rotation date column carries
        // the expiry: one indexed query finds both.
        record.next_rotation_at = valid_to;
        if record.key_state == state::PENDING_IMPORT {
            record.key_state = state::ENABLED.into();
        }
        if record.current_version == 0 {
            record.current_version = 1;
            let version = KeyVersionRecord {
                scope: record.scope.clone(),
                key_id: record.key_id.clone(),
                version: 1,
                wrapped_material: self
                    .root
                    .wrap(material.expose(), &material_aad(&key.arn, 1)),
                created_at: now,
                rotation_type: None,
            };
            self.store.add_key_version(&record, &version).await?;
        } else {
            // The same material is already there: only its expiry changes.
            self.store.update_key(&record).await?;
        }
        self.keyring.forget_key(&record.scope, &record.key_id);
        tracing::info!(key = %key.arn, "imported KMS key material");
        Ok(ImportKeyMaterialResponse {
            key_id: key.arn.clone(),
            key_material_id: symmetric.then_some(fp),
        })
    }

    pub(crate) async fn delete_imported_key_material(
        &self,
        ctx: &RequestContext,
        req: DeleteImportedKeyMaterialRequest,
    ) -> Result<DeleteImportedKeyMaterialResponse> {
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        require_external(&key, "DeleteImportedKeyMaterial")?;
        let fp = key.record.attributes.material_fingerprint.clone();
        if let Some(id) = &req.key_material_id {
            if fp.as_ref() != Some(id) {
                return Err(KmsError::NotFound(format!(
                    "KeyMaterialId {id} is not associated with {}.",
                    key.arn
                )));
            }
        }
        self.remove_imported_material(&key.record.scope, &key.record.key_id)
            .await?;
        Ok(DeleteImportedKeyMaterialResponse {
            key_id: key.arn.clone(),
            key_material_id: (key.record.key_spec == SYMMETRIC_DEFAULT)
                .then_some(fp)
                .flatten(),
        })
    }

    /// Deletes a key's imported material: the key goes back to PendingImport (unless it is pending
    /// deletion) and keeps the fingerprint a re-import must match.
    pub(crate) async fn remove_imported_material(
        &self,
        scope: &m2sec_store::Scope,
        key_id: &str,
    ) -> Result<bool> {
        let _guard = self.writes.lock().await;
        let Some(mut record) = self.store.get_key(scope, key_id).await? else {
            return Ok(false);
        };
        if record.key_state != state::PENDING_DELETION {
            record.key_state = state::PENDING_IMPORT.into();
        }
        record.current_version = 0;
        record.attributes.valid_to = None;
        record.attributes.expiration_model = None;
        record.next_rotation_at = None;
        self.store.remove_key_material(&record).await?;
        self.keyring.forget_key(scope, key_id);
        tracing::info!(key = %crate::keyring::key_arn(scope, key_id), "deleted imported KMS key material");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let token = Token {
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            algorithm: "RSA_AES_KEY_WRAP_SHA_256".into(),
            expires_at: 1_800_000_000_000,
            wrapping_key: SecretBytes::from_slice(b"pkcs8 bytes"),
        };
        let back = Token::decode(&token.encode()).expect("decodes");
        assert_eq!(back.key_id, token.key_id);
        assert_eq!(back.algorithm, token.algorithm);
        assert_eq!(back.expires_at, token.expires_at);
        assert_eq!(back.wrapping_key.expose(), b"pkcs8 bytes");
        assert!(Token::decode(b"short").is_none());
        assert!(Token::decode(&[0u8; 8]).is_none());
    }

    #[test]
    fn fingerprints_bind_the_key_id() {
        let a = fingerprint("k1", b"material");
        assert_eq!(a, fingerprint("k1", b"material"));
        assert_ne!(a, fingerprint("k2", b"material"));
        assert_ne!(a, fingerprint("k1", b"materiaL"));
        assert_eq!(a.len(), 64);
    }
}
