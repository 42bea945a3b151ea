//! ML-DSA key pairs (FIPS 204: ML_DSA_44/65/87, signing algorithm `ML_DSA_SHAKE_256`).
//!
//! MessageType RAW is pure ML-DSA with an empty context, by aws-lc-rs. MessageType EXTERNAL_MU
//! (the caller computed μ = SHAKE256(SHAKE256(pk, 64) ‖ 0 ‖ 0 ‖ M, 64), FIPS 204 §6.2) is signed
//! and verified with RustCrypto's `ml-dsa`, whose key is derived from the same 32-byte seed that
//! the stored PKCS#8 carries: aws-lc-rs offers no external-μ signing without `unsafe`.
//! Both sign hedged (fresh randomness per signature).

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    self, KeyPair as _, PqdsaKeyPair, PqdsaSigningAlgorithm, PqdsaVerificationAlgorithm,
};
use ml_dsa::common::array::Array;
use ml_dsa::common::typenum::U64;
use ml_dsa::signature::rand_core::{TryCryptoRng, TryRng};
use ml_dsa::{EncodedSignature, EncodedVerifyingKey, MlDsa44, MlDsa65, MlDsa87, MlDsaParams};

use zeroize::Zeroizing;

use crate::keyspec::KeySpec;
use crate::{der, CryptoError, SecretBytes};

pub(crate) struct MlDsaKey {
    spec: KeySpec,
    pair: PqdsaKeyPair,
    /// The RustCrypto key for EXTERNAL_MU, expanded from the seed on first use.
    external: OnceLock<External>,
}

enum External {
    L44(Box<ml_dsa::ExpandedSigningKey<MlDsa44>>),
    L65(Box<ml_dsa::ExpandedSigningKey<MlDsa65>>),
    L87(Box<ml_dsa::ExpandedSigningKey<MlDsa87>>),
}

fn signing_algorithm(spec: KeySpec) -> Result<&'static PqdsaSigningAlgorithm, CryptoError> {
    Ok(match spec {
        KeySpec::MlDsa44 => &signature::ML_DSA_44_SIGNING,
        KeySpec::MlDsa65 => &signature::ML_DSA_65_SIGNING,
        KeySpec::MlDsa87 => &signature::ML_DSA_87_SIGNING,
        _ => return Err(CryptoError::Primitive("ML-DSA parameter set")),
    })
}

pub(crate) fn verification_algorithm(spec: KeySpec) -> Option<&'static PqdsaVerificationAlgorithm> {
    Some(match spec {
        KeySpec::MlDsa44 => &signature::ML_DSA_44,
        KeySpec::MlDsa65 => &signature::ML_DSA_65,
        KeySpec::MlDsa87 => &signature::ML_DSA_87,
        _ => return None,
    })
}

impl MlDsaKey {
    pub(crate) fn generate(spec: KeySpec) -> Result<(MlDsaKey, SecretBytes), CryptoError> {
        let pair = PqdsaKeyPair::generate(signing_algorithm(spec)?)
            .map_err(|_| CryptoError::Primitive("ML-DSA key generation"))?;
        let key = MlDsaKey {
            spec,
            pair,
            external: OnceLock::new(),
        };
        let material = key.to_pkcs8()?;
        Ok((key, material))
    }

    /// PKCS#8 whose privateKey carries the seed (the `seed` or `both` form of
    /// draft-ietf-lamps-dilithium-certificates; OpenSSL 3.5 writes `both` by default).
    pub(crate) fn from_pkcs8(spec: KeySpec, pkcs8: &[u8]) -> Result<MlDsaKey, CryptoError> {
        let pair = PqdsaKeyPair::from_pkcs8(signing_algorithm(spec)?, pkcs8).map_err(|_| {
            CryptoError::InvalidInput(format!(
                "the key material is not a valid {spec} private key (DER PKCS#8 PrivateKeyInfo)"
            ))
        })?;
        let has_seed = der::parse_pkcs8(pkcs8)
            .and_then(|p| der::ml_dsa_seed(p.private_key))
            .is_some();
        if !has_seed {
            return Err(CryptoError::InvalidInput(format!(
                "the {spec} key material must carry the 32-byte seed (PKCS#8 privateKey in the seed or both form); the expanded-only form is not accepted"
            )));
        }
        Ok(MlDsaKey {
            spec,
            pair,
            external: OnceLock::new(),
        })
    }

    /// The seed-form PKCS#8 aws-lc-rs writes.
    pub(crate) fn to_pkcs8(&self) -> Result<SecretBytes, CryptoError> {
        let doc = self
            .pair
            .to_pkcs8v1()
            .map_err(|_| CryptoError::Primitive("ML-DSA PKCS#8 encoding"))?;
        Ok(SecretBytes::from_slice(doc.as_ref()))
    }

    pub(crate) fn public_key_der(&self) -> Result<Vec<u8>, CryptoError> {
        self.pair
            .public_key()
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| CryptoError::Primitive("ML-DSA public key encoding"))
    }

    /// Pure ML-DSA (empty context) over the raw message.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut signature = vec![0u8; self.pair.algorithm().signature_len()];
        let len = self
            .pair
            .sign(message, &mut signature)
            .map_err(|_| CryptoError::Primitive("ML-DSA signing"))?;
        signature.truncate(len);
        Ok(signature)
    }

    fn external(&self, material: &SecretBytes) -> Result<&External, CryptoError> {
        if let Some(key) = self.external.get() {
            return Ok(key);
        }
        let seed = der::parse_pkcs8(material.expose())
            .and_then(|p| der::ml_dsa_seed(p.private_key))
            .ok_or(CryptoError::Primitive("ML-DSA seed"))?;
        let seed = Zeroizing::new(
            ml_dsa::Seed::try_from(seed).map_err(|_| CryptoError::Primitive("ML-DSA seed"))?,
        );
        let key = match self.spec {
            KeySpec::MlDsa44 => {
                External::L44(Box::new(ml_dsa::ExpandedSigningKey::from_seed(&seed)))
            }
            KeySpec::MlDsa65 => {
                External::L65(Box::new(ml_dsa::ExpandedSigningKey::from_seed(&seed)))
            }
            KeySpec::MlDsa87 => {
                External::L87(Box::new(ml_dsa::ExpandedSigningKey::from_seed(&seed)))
            }
            _ => return Err(CryptoError::Primitive("ML-DSA parameter set")),
        };
        Ok(self.external.get_or_init(|| key))
    }

    /// ML-DSA.Sign from the given 64-byte μ (hedged).
    pub(crate) fn sign_mu(
        &self,
        material: &SecretBytes,
        mu: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        match self.external(material)? {
            External::L44(k) => sign_mu_with(k, mu),
            External::L65(k) => sign_mu_with(k, mu),
            External::L87(k) => sign_mu_with(k, mu),
        }
    }
}

fn sign_mu_with<P: MlDsaParams>(
    key: &ml_dsa::ExpandedSigningKey<P>,
    mu: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mu: Array<u8, U64> =
        Array::try_from(mu).map_err(|_| CryptoError::Primitive("ML-DSA mu length"))?;
    let signature = key
        .sign_mu_randomized(&mu, &mut AwsLcRng)
        .map_err(|_| CryptoError::Primitive("ML-DSA signing from mu"))?;
    Ok(signature.encode().to_vec())
}

/// ML-DSA.Verify from μ against a raw (FIPS 204 pkEncode) public key.
pub(crate) fn verify_mu(spec: KeySpec, public_key: &[u8], mu: &[u8], signature: &[u8]) -> bool {
    match spec {
        KeySpec::MlDsa44 => verify_mu_with::<MlDsa44>(public_key, mu, signature),
        KeySpec::MlDsa65 => verify_mu_with::<MlDsa65>(public_key, mu, signature),
        KeySpec::MlDsa87 => verify_mu_with::<MlDsa87>(public_key, mu, signature),
        _ => false,
    }
}

fn verify_mu_with<P: MlDsaParams>(public_key: &[u8], mu: &[u8], signature: &[u8]) -> bool {
    let Ok(mu) = Array::<u8, U64>::try_from(mu) else {
        return false;
    };
    let Ok(public_key) = EncodedVerifyingKey::<P>::try_from(public_key) else {
        return false;
    };
    let Ok(signature) = EncodedSignature::<P>::try_from(signature) else {
        return false;
    };
    let Some(signature) = ml_dsa::Signature::<P>::decode(&signature) else {
        return false;
    };
    ml_dsa::VerifyingKey::<P>::decode(&public_key).verify_mu(&mu, &signature)
}

/// The system CSPRNG (aws-lc-rs) for ml-dsa's hedged signing.
struct AwsLcRng;

impl TryRng for AwsLcRng {
    type Error = aws_lc_rs::error::Unspecified;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        aws_lc_rs::rand::fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        aws_lc_rs::rand::fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        aws_lc_rs::rand::fill(dst)
    }
}

impl TryCryptoRng for AwsLcRng {}

/// μ of FIPS 204 §6.2 for `message` with an empty context, computed with ml-dsa from the raw public
/// key: what a client sends with MessageType EXTERNAL_MU.
#[cfg(test)]
pub(crate) fn external_mu(spec: KeySpec, public_key: &[u8], message: &[u8]) -> Vec<u8> {
    fn mu<P: MlDsaParams>(public_key: &[u8], message: &[u8]) -> Vec<u8> {
        use ml_dsa::signature::digest::Update;
        let enc = EncodedVerifyingKey::<P>::try_from(public_key).unwrap();
        ml_dsa::VerifyingKey::<P>::decode(&enc)
            .compute_mu(
                |h| {
                    h.update(message);
                    Ok(())
                },
                b"",
            )
            .unwrap()
            .to_vec()
    }
    match spec {
        KeySpec::MlDsa44 => mu::<MlDsa44>(public_key, message),
        KeySpec::MlDsa65 => mu::<MlDsa65>(public_key, message),
        KeySpec::MlDsa87 => mu::<MlDsa87>(public_key, message),
        _ => panic!("not an ML-DSA spec"),
    }
}
