//! Sign, Verify, GetPublicKey, DeriveSharedSecret, GenerateMac, VerifyMac, GenerateDataKeyPair,
//! GenerateDataKeyPairWithoutPlaintext, and RSA encryption for Encrypt/Decrypt/ReEncrypt.
//!
//! The primitives are m2sec-crypto's [`PrivateKey`]; this file adds what KMS checks around them: the
//! key's usage, the algorithms its spec allows, its state, and the exception AWS names for each case.

use m2sec_crypto::{CryptoError, KeySpec, PrivateKey, SecretBytes};
use m2sec_proto::json::{Blob, SensitiveBlob};
use m2sec_proto::RequestContext;
use zeroize::Zeroizing;

use crate::access::Access;
use crate::crypto_ops::{check_usable_for_encryption, no_recipient, require_symmetric};
use crate::error::{KmsError, Result};
use crate::keyring::LoadedKey;
use crate::shapes::*;
use crate::{dry_run, require_enabled, Aliases, Kms};

pub(crate) const SIGN_VERIFY: &str = "SIGN_VERIFY";
pub(crate) const GENERATE_VERIFY_MAC: &str = "GENERATE_VERIFY_MAC";
pub(crate) const KEY_AGREEMENT: &str = "KEY_AGREEMENT";

/// Caller mistakes become ValidationException with the primitive's message; anything else is ours.
pub(crate) fn crypto_error(e: CryptoError) -> KmsError {
    match e {
        CryptoError::InvalidInput(message) => KmsError::Validation(message),
        CryptoError::InvalidCiphertext => KmsError::InvalidCiphertext(
            "The ciphertext is invalid, was altered, or was not made with this key and algorithm."
                .into(),
        ),
        other => KmsError::Internal(other.to_string()),
    }
}

fn require_usage(key: &LoadedKey, usage: &str, operation: &str) -> Result<()> {
    if key.record.key_usage != usage {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} key usage is {} which is not valid for {operation}.",
            key.arn, key.record.key_usage
        )));
    }
    Ok(())
}

/// The algorithm as the spec spells it (a `'static` name for the response), or the exception AWS
/// answers for an algorithm the key does not support.
fn algorithm_of(
    key: &LoadedKey,
    allowed: &'static [&'static str],
    requested: &str,
) -> Result<&'static str> {
    allowed
        .iter()
        .find(|a| **a == requested)
        .copied()
        .ok_or_else(|| {
            KmsError::InvalidKeyUsage(format!(
                "Algorithm {requested} is incompatible with key spec {} of {}. Supported: {}.",
                key.record.key_spec,
                key.arn,
                allowed.join(", ")
            ))
        })
}

fn spec_of(key: &LoadedKey) -> Option<KeySpec> {
    KeySpec::parse(&key.record.key_spec)
}

/// RSAES-OAEP encryption with an RSA key of usage ENCRYPT_DECRYPT (the usage was checked).
pub(crate) fn rsa_encrypt(
    key: &LoadedKey,
    plaintext: &[u8],
    ctx: &EncryptionContext,
    algorithm: Option<&str>,
) -> Result<(Vec<u8>, &'static str)> {
    let (private, algorithm) = rsa_parts(key, ctx, algorithm)?;
    let ciphertext = private
        .encrypt(algorithm, plaintext)
        .map_err(crypto_error)?;
    Ok((ciphertext, algorithm))
}

pub(crate) fn rsa_decrypt(
    key: &LoadedKey,
    ciphertext: &[u8],
    ctx: &EncryptionContext,
    algorithm: Option<&str>,
) -> Result<(SecretBytes, &'static str)> {
    let (private, algorithm) = rsa_parts(key, ctx, algorithm)?;
    let plaintext = private
        .decrypt(algorithm, ciphertext)
        .map_err(crypto_error)?;
    Ok((plaintext, algorithm))
}

fn rsa_parts<'k>(
    key: &'k LoadedKey,
    ctx: &EncryptionContext,
    algorithm: Option<&str>,
) -> Result<(&'k PrivateKey, &'static str)> {
    if !ctx.is_empty() {
        return Err(KmsError::Validation(format!(
            "EncryptionContext is supported only with symmetric encryption keys; {} is {}.",
            key.arn, key.record.key_spec
        )));
    }
    let private = key.private_key()?;
    let allowed = private.spec().encryption_algorithms();
    let requested = algorithm.unwrap_or(crate::keys::SYMMETRIC_DEFAULT);
    Ok((private, algorithm_of(key, allowed, requested)?))
}

impl Kms {
    /// The checks every asymmetric and HMAC operation makes, in AWS's order: the key exists and the
    /// caller may use it, it is enabled, its usage fits, and its spec offers the algorithm.
    async fn usable_key(
        &self,
        ctx: &RequestContext,
        key_id: &str,
        usage: &str,
        algorithms: fn(KeySpec) -> &'static [&'static str],
        requested: &str,
        access: Access<'_>,
    ) -> Result<(std::sync::Arc<LoadedKey>, &'static str)> {
        let key = self.key_for(ctx, key_id, Aliases::Accepted, access).await?;
        require_enabled(&key)?;
        require_usage(&key, usage, &ctx.operation)?;
        let allowed = algorithms(key.private_key()?.spec());
        let algorithm = algorithm_of(&key, allowed, requested)?;
        Ok((key, algorithm))
    }

    pub(crate) async fn sign(
        &self,
        ctx: &RequestContext,
        req: SignRequest,
    ) -> Result<SignResponse> {
        let (key, algorithm) = self
            .usable_key(
                ctx,
                &req.key_id,
                SIGN_VERIFY,
                KeySpec::signing_algorithms,
                &req.signing_algorithm,
                Access::of(ctx)
                    .with("kms:SigningAlgorithm", &req.signing_algorithm)
                    .with(
                        "kms:MessageType",
                        req.message_type.as_deref().unwrap_or("RAW"),
                    ),
            )
            .await?;
        let private = key.private_key()?;
        let message_type = req.message_type.as_deref().unwrap_or("RAW");
        dry_run(req.dry_run)?;
        let signature = private
            .sign(algorithm, message_type, &req.message.0)
            .map_err(crypto_error)?;
        Ok(SignResponse {
            key_id: key.arn.clone(),
            signature: Blob(signature),
            signing_algorithm: algorithm,
        })
    }

    pub(crate) async fn verify(
        &self,
        ctx: &RequestContext,
        req: VerifyRequest,
    ) -> Result<VerifyResponse> {
        let (key, algorithm) = self
            .usable_key(
                ctx,
                &req.key_id,
                SIGN_VERIFY,
                KeySpec::signing_algorithms,
                &req.signing_algorithm,
                Access::of(ctx)
                    .with("kms:SigningAlgorithm", &req.signing_algorithm)
                    .with(
                        "kms:MessageType",
                        req.message_type.as_deref().unwrap_or("RAW"),
                    ),
            )
            .await?;
        let private = key.private_key()?;
        let message_type = req.message_type.as_deref().unwrap_or("RAW");
        dry_run(req.dry_run)?;
        let valid = private
            .verify(algorithm, message_type, &req.message.0, &req.signature.0)
            .map_err(crypto_error)?;
        if !valid {
            return Err(KmsError::InvalidSignature(format!(
                "The signature does not verify with {} and {algorithm} for this message.",
                key.arn
            )));
        }
        Ok(VerifyResponse {
            key_id: key.arn.clone(),
            signature_valid: true,
            signing_algorithm: algorithm,
        })
    }

    pub(crate) async fn get_public_key(
        &self,
        ctx: &RequestContext,
        req: KeyIdRequest,
    ) -> Result<GetPublicKeyResponse> {
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Accepted, Access::of(ctx))
            .await?;
        let public = spec_of(&key)
            .filter(|s| s.mac_algorithms().is_empty())
            .ok_or_else(|| {
                KmsError::Unsupported(format!(
                    "{} is a {} key, which has no public key. GetPublicKey needs an asymmetric key.",
                    key.arn, key.record.key_spec
                ))
            })?;
        require_enabled(&key)?;
        let der = key
            .private_key()?
            .public_key_der()
            .ok_or_else(|| KmsError::Internal(format!("{} has no public key", key.arn)))?;
        let list = |usage: &str, algorithms: &'static [&'static str]| {
            (key.record.key_usage == usage).then_some(algorithms)
        };
        Ok(GetPublicKeyResponse {
            key_id: key.arn.clone(),
            public_key: Blob(der),
            customer_master_key_spec: key.record.key_spec.clone(),
            key_spec: key.record.key_spec.clone(),
            key_usage: key.record.key_usage.clone(),
            encryption_algorithms: list(
                crate::keys::ENCRYPT_DECRYPT,
                public.encryption_algorithms(),
            ),
            signing_algorithms: list(SIGN_VERIFY, public.signing_algorithms()),
            key_agreement_algorithms: list(KEY_AGREEMENT, public.key_agreement_algorithms()),
        })
    }

    pub(crate) async fn derive_shared_secret(
        &self,
        ctx: &RequestContext,
        req: DeriveSharedSecretRequest,
    ) -> Result<DeriveSharedSecretResponse> {
        no_recipient(&req.recipient)?;
        let (key, algorithm) = self
            .usable_key(
                ctx,
                &req.key_id,
                KEY_AGREEMENT,
                KeySpec::key_agreement_algorithms,
                &req.key_agreement_algorithm,
                Access::of(ctx).with("kms:KeyAgreementAlgorithm", &req.key_agreement_algorithm),
            )
            .await?;
        let private = key.private_key()?;
        dry_run(req.dry_run)?;
        let secret = private
            .derive_shared_secret(&req.public_key.0)
            .map_err(crypto_error)?;
        Ok(DeriveSharedSecretResponse {
            key_id: key.arn.clone(),
            shared_secret: SensitiveBlob(Zeroizing::new(secret.expose().to_vec())),
            key_agreement_algorithm: algorithm,
            key_origin: key.record.origin.clone(),
        })
    }

    pub(crate) async fn generate_mac(
        &self,
        ctx: &RequestContext,
        req: GenerateMacRequest,
    ) -> Result<GenerateMacResponse> {
        let (key, algorithm) = self
            .usable_key(
                ctx,
                &req.key_id,
                GENERATE_VERIFY_MAC,
                KeySpec::mac_algorithms,
                &req.mac_algorithm,
                Access::of(ctx).with("kms:MacAlgorithm", &req.mac_algorithm),
            )
            .await?;
        let private = key.private_key()?;
        dry_run(req.dry_run)?;
        let mac = private
            .mac(algorithm, &req.message.0)
            .map_err(crypto_error)?;
        Ok(GenerateMacResponse {
            key_id: key.arn.clone(),
            mac: Blob(mac),
            mac_algorithm: algorithm,
        })
    }

    pub(crate) async fn verify_mac(
        &self,
        ctx: &RequestContext,
        req: VerifyMacRequest,
    ) -> Result<VerifyMacResponse> {
        let (key, algorithm) = self
            .usable_key(
                ctx,
                &req.key_id,
                GENERATE_VERIFY_MAC,
                KeySpec::mac_algorithms,
                &req.mac_algorithm,
                Access::of(ctx).with("kms:MacAlgorithm", &req.mac_algorithm),
            )
            .await?;
        let private = key.private_key()?;
        dry_run(req.dry_run)?;
        let valid = private
            .verify_mac(algorithm, &req.message.0, &req.mac.0)
            .map_err(crypto_error)?;
        if !valid {
            return Err(KmsError::InvalidMac(format!(
                "The MAC does not verify with {} and {algorithm} for this message.",
                key.arn
            )));
        }
        Ok(VerifyMacResponse {
            key_id: key.arn.clone(),
            mac_valid: true,
            mac_algorithm: algorithm,
        })
    }

    pub(crate) async fn generate_data_key_pair(
        &self,
        ctx: &RequestContext,
        req: GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairResponse> {
        self.data_key_pair(ctx, req, true).await
    }

    pub(crate) async fn generate_data_key_pair_without_plaintext(
        &self,
        ctx: &RequestContext,
        req: GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairResponse> {
        self.data_key_pair(ctx, req, false).await
    }

    /// GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: a fresh key pair whose private
    /// key (PKCS#8 DER) comes back encrypted under a symmetric key, and in plaintext if asked.
    async fn data_key_pair(
        &self,
        ctx: &RequestContext,
        req: GenerateDataKeyPairRequest,
        with_plaintext: bool,
    ) -> Result<GenerateDataKeyPairResponse> {
        no_recipient(&req.recipient)?;
        let spec = match KeySpec::parse(&req.key_pair_spec) {
            Some(spec) if spec.mac_algorithms().is_empty() && !is_ml_dsa(spec) => spec,
            _ if req.key_pair_spec == "SM2" => return Err(KmsError::Unsupported(
                "KeyPairSpec SM2 is offered only in AWS China Regions; m2sec does not support it"
                    .into(),
            )),
            _ => {
                return Err(KmsError::Validation(format!(
                    "KeyPairSpec {} is not a data key pair spec",
                    req.key_pair_spec
                )))
            }
        };
        let key = self
            .key_for(
                ctx,
                &req.key_id,
                Aliases::Accepted,
                Access::of(ctx)
                    .with_context(&req.encryption_context)
                    .with("kms:DataKeyPairSpec", &req.key_pair_spec),
            )
            .await?;
        check_usable_for_encryption(&key)?;
        require_symmetric(&key)?;
        dry_run(req.dry_run)?;
        let pair = tokio::task::spawn_blocking(move || PrivateKey::generate(spec))
            .await
            .map_err(|e| KmsError::Internal(format!("key pair generation: {e}")))?
            .map_err(crypto_error)?;
        let private = pair.to_material();
        let public = pair
            .public_key_der()
            .ok_or_else(|| KmsError::Internal("a key pair without a public key".into()))?;
        Ok(GenerateDataKeyPairResponse {
            private_key_ciphertext_blob: Blob(self.seal(
                &key,
                private.expose(),
                &req.encryption_context,
            )?),
            private_key_plaintext: with_plaintext
                .then(|| SensitiveBlob(Zeroizing::new(private.expose().to_vec()))),
            public_key: Blob(public),
            key_id: key.arn.clone(),
            key_pair_spec: req.key_pair_spec,
        })
    }
}

fn is_ml_dsa(spec: KeySpec) -> bool {
    matches!(spec, KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87)
}
