//! Elliptic-curve key pairs on the NIST curves and secp256k1: ECDSA with DER (ASN.1) signatures,
//! and ECDH (KMS DeriveSharedSecret) on the NIST curves.

use std::sync::OnceLock;

use aws_lc_rs::agreement;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, KeyPair as _,
};

use crate::der::{self, oid};
use crate::keyspec::{KeySpec, MessageType, SigningAlgorithm};
use crate::{CryptoError, SecretBytes};

pub(crate) struct EcKey {
    spec: KeySpec,
    pair: EcdsaKeyPair,
    /// Built on first DeriveSharedSecret.
    agreement: OnceLock<agreement::PrivateKey>,
}

fn signing_algorithm(spec: KeySpec) -> Result<&'static EcdsaSigningAlgorithm, CryptoError> {
    Ok(match spec {
        KeySpec::EccNistP256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        KeySpec::EccNistP384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        KeySpec::EccNistP521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        KeySpec::EccSecgP256k1 => &signature::ECDSA_P256K1_SHA256_ASN1_SIGNING,
        _ => return Err(CryptoError::Primitive("ECDSA curve")),
    })
}

/// The aws-lc-rs ECDSA verification algorithm of a spec (one per curve in KMS).
pub(crate) fn verification_algorithm(spec: KeySpec) -> Option<&'static EcdsaVerificationAlgorithm> {
    Some(match spec {
        KeySpec::EccNistP256 => &signature::ECDSA_P256_SHA256_ASN1,
        KeySpec::EccNistP384 => &signature::ECDSA_P384_SHA384_ASN1,
        KeySpec::EccNistP521 => &signature::ECDSA_P521_SHA512_ASN1,
        KeySpec::EccSecgP256k1 => &signature::ECDSA_P256K1_SHA256_ASN1,
        _ => return None,
    })
}

fn agreement_algorithm(spec: KeySpec) -> Option<&'static agreement::Algorithm> {
    Some(match spec {
        KeySpec::EccNistP256 => &agreement::ECDH_P256,
        KeySpec::EccNistP384 => &agreement::ECDH_P384,
        KeySpec::EccNistP521 => &agreement::ECDH_P521,
        _ => return None,
    })
}

/// The named-curve OID of a spec.
pub(crate) fn curve_oid(spec: KeySpec) -> Option<&'static [u8]> {
    Some(match spec {
        KeySpec::EccNistP256 => oid::P256,
        KeySpec::EccNistP384 => oid::P384,
        KeySpec::EccNistP521 => oid::P521,
        KeySpec::EccSecgP256k1 => oid::SECP256K1,
        _ => return None,
    })
}

/// The spec whose curve has this OID.
pub(crate) fn spec_of_curve(curve: &[u8]) -> Option<KeySpec> {
    [
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
        KeySpec::EccSecgP256k1,
    ]
    .into_iter()
    .find(|s| curve_oid(*s) == Some(curve))
}

impl EcKey {
    pub(crate) fn generate(spec: KeySpec) -> Result<(EcKey, SecretBytes), CryptoError> {
        let pair = EcdsaKeyPair::generate(signing_algorithm(spec)?)
            .map_err(|_| CryptoError::Primitive("EC key generation"))?;
        let material = pkcs8(&pair)?;
        Ok((
            EcKey {
                spec,
                pair,
                agreement: OnceLock::new(),
            },
            material,
        ))
    }

    /// Parses PKCS#8 (whatever aws-lc accepts: with or without the public key, as written by
    /// aws-lc-rs or by `openssl pkcs8 -topk8`). The curve must be the spec's.
    pub(crate) fn from_pkcs8(spec: KeySpec, der: &[u8]) -> Result<EcKey, CryptoError> {
        let pair = EcdsaKeyPair::from_pkcs8(signing_algorithm(spec)?, der).map_err(|_| {
            CryptoError::InvalidInput(format!(
                "the key material is not a valid {spec} private key (DER PKCS#8 PrivateKeyInfo)"
            ))
        })?;
        Ok(EcKey {
            spec,
            pair,
            agreement: OnceLock::new(),
        })
    }

    /// The canonical PKCS#8 of this key (what m2sec seals at rest).
    pub(crate) fn to_pkcs8(&self) -> Result<SecretBytes, CryptoError> {
        pkcs8(&self.pair)
    }

    pub(crate) fn public_key_der(&self) -> Result<Vec<u8>, CryptoError> {
        self.pair
            .public_key()
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| CryptoError::Primitive("EC public key encoding"))
    }

    pub(crate) fn sign(
        &self,
        algorithm: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let signature = match message_type {
            MessageType::Raw => self.pair.sign(&SystemRandom::new(), message),
            MessageType::Digest => {
                let digest = super::import_digest(algorithm, message)?;
                self.pair.sign_digest(&digest)
            }
            MessageType::ExternalMu => return Err(CryptoError::Primitive("ECDSA EXTERNAL_MU")),
        }
        .map_err(|_| CryptoError::Primitive("ECDSA signing"))?;
        Ok(signature.as_ref().to_vec())
    }

    fn agreement_key(&self, material: &SecretBytes) -> Result<&agreement::PrivateKey, CryptoError> {
        if let Some(key) = self.agreement.get() {
            return Ok(key);
        }
        let alg = agreement_algorithm(self.spec).ok_or_else(|| {
            CryptoError::InvalidInput(format!(
                "{} keys do not support key agreement; ECDH needs an ECC_NIST_P256, ECC_NIST_P384 or ECC_NIST_P521 key",
                self.spec
            ))
        })?;
        let key = agreement::PrivateKey::from_private_key_der(alg, material.expose())
            .map_err(|_| CryptoError::Primitive("ECDH private key"))?;
        Ok(self.agreement.get_or_init(|| key))
    }

    /// ECDH with the peer's DER SubjectPublicKeyInfo: the raw shared secret (the x coordinate).
    pub(crate) fn derive_shared_secret(
        &self,
        material: &SecretBytes,
        peer_public_key_der: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let key = self.agreement_key(material)?;
        let spec = self.spec;
        let spki = der::parse_spki(peer_public_key_der).ok_or_else(|| {
            CryptoError::InvalidInput(
                "the peer public key must be a DER-encoded X.509 SubjectPublicKeyInfo".into(),
            )
        })?;
        if spki.algorithm.oid != oid::EC_PUBLIC_KEY {
            return Err(CryptoError::InvalidInput(format!(
                "the peer public key is not an elliptic-curve key; {spec} key agreement needs a peer key on the same curve"
            )));
        }
        let peer_curve = spki.algorithm.curve.and_then(spec_of_curve);
        if peer_curve != Some(spec) {
            return Err(CryptoError::InvalidInput(format!(
                "the peer public key is on {}; {spec} key agreement needs a peer key on the same curve",
                peer_curve.map_or("another curve", KeySpec::name)
            )));
        }
        let peer = agreement::UnparsedPublicKey::new(key.algorithm(), peer_public_key_der);
        agreement::agree(
            key,
            peer,
            CryptoError::InvalidInput(
                "the peer public key is not a valid point on the curve".into(),
            ),
            |secret| Ok(SecretBytes::from_slice(secret)),
        )
    }
}

fn pkcs8(pair: &EcdsaKeyPair) -> Result<SecretBytes, CryptoError> {
    // The Document zeroizes itself on drop.
    let doc = pair
        .to_pkcs8v1()
        .map_err(|_| CryptoError::Primitive("EC PKCS#8 encoding"))?;
    Ok(SecretBytes::from_slice(doc.as_ref()))
}
