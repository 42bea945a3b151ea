//! Ed25519 key pairs (ECC_NIST_EDWARDS25519): pure Ed25519 (`ED25519_SHA_512`) with aws-lc-rs, and
//! Ed25519ph (`ED25519_PH_SHA_512`, RFC 8032 §5.1 with an empty context) with ed25519-dalek, which
//! is used for that one algorithm only; the stored form stays the aws-lc-rs PKCS#8.
//!
//! KMS semantics for Ed25519ph: the caller sends MessageType DIGEST with a 64-byte value, and KMS
//! *still* applies the SHA-512 prehash to it (the model docs: "the input is hashed twice"). So the
//! signature is Ed25519ph over the message "those 64 bytes": PH(M) = SHA-512(M). A verifier
//! outside KMS runs Ed25519ph verification with that same 64-byte value as the message.

use std::sync::OnceLock;

use aws_lc_rs::encoding::{AsBigEndian, AsDer};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use ed25519_dalek::{Digest as _, Sha512};

use crate::{CryptoError, SecretBytes};

pub(crate) struct EdKey {
    pair: Ed25519KeyPair,
    /// The same key for ed25519-dalek, built on first Ed25519ph signature.
    prehash: OnceLock<ed25519_dalek::SigningKey>,
}

impl EdKey {
    pub(crate) fn generate() -> Result<(EdKey, SecretBytes), CryptoError> {
        let pair = Ed25519KeyPair::generate()
            .map_err(|_| CryptoError::Primitive("Ed25519 key generation"))?;
        let key = EdKey {
            pair,
            prehash: OnceLock::new(),
        };
        let material = key.to_pkcs8()?;
        Ok((key, material))
    }

    /// PKCS#8 v1 (as `openssl genpkey -algorithm ed25519` writes) or v2 (with the public key).
    pub(crate) fn from_pkcs8(der: &[u8]) -> Result<EdKey, CryptoError> {
        let pair = Ed25519KeyPair::from_pkcs8(der).map_err(|_| {
            CryptoError::InvalidInput(
                "the key material is not a valid Ed25519 private key (DER PKCS#8 PrivateKeyInfo)"
                    .into(),
            )
        })?;
        Ok(EdKey {
            pair,
            prehash: OnceLock::new(),
        })
    }

    pub(crate) fn to_pkcs8(&self) -> Result<SecretBytes, CryptoError> {
        let doc = self
            .pair
            .to_pkcs8v1()
            .map_err(|_| CryptoError::Primitive("Ed25519 PKCS#8 encoding"))?;
        Ok(SecretBytes::from_slice(doc.as_ref()))
    }

    pub(crate) fn public_key_der(&self) -> Result<Vec<u8>, CryptoError> {
        self.pair
            .public_key()
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| CryptoError::Primitive("Ed25519 public key encoding"))
    }

    /// Pure Ed25519 over the raw message.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.pair
            .try_sign(message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| CryptoError::Primitive("Ed25519 signing"))
    }

    fn prehash_key(&self) -> Result<&ed25519_dalek::SigningKey, CryptoError> {
        if let Some(key) = self.prehash.get() {
            return Ok(key);
        }
        let seed = self
            .pair
            .seed()
            .and_then(|s| s.as_be_bytes())
            .map_err(|_| CryptoError::Primitive("Ed25519 seed"))?;
        let seed: &[u8; 32] = seed
            .as_ref()
            .try_into()
            .map_err(|_| CryptoError::Primitive("Ed25519 seed"))?;
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        Ok(self.prehash.get_or_init(|| key))
    }

    /// Ed25519ph (empty context) of `message`, as KMS ED25519_PH_SHA_512 does with the DIGEST it is
    /// given: SHA-512 prehash of those bytes, then HashEdDSA.
    pub(crate) fn sign_prehashed(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self.prehash_key()?;
        key.sign_prehashed(Sha512::new().chain_update(message), None)
            .map(|s| s.to_bytes().to_vec())
            .map_err(|_| CryptoError::Primitive("Ed25519ph signing"))
    }
}

/// Ed25519ph verification (empty context) of `message` against a raw 32-byte public key.
pub(crate) fn verify_prehashed(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(public_key) = <&[u8; 32]>::try_from(public_key) else {
        return false;
    };
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
        return false;
    };
    key.verify_prehashed_strict(Sha512::new().chain_update(message), None, &signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// RFC 8032 §7.3, "TEST abc" (Ed25519ph).
    #[test]
    fn ed25519ph_matches_rfc8032_vector() {
        let seed = unhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
        let public = unhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf");
        let expected = unhex(
            "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41\
             31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
        );
        let pair = Ed25519KeyPair::from_seed_and_public_key(&seed, &public).unwrap();
        let key = EdKey {
            pair,
            prehash: OnceLock::new(),
        };
        let sig = key.sign_prehashed(b"abc").unwrap();
        assert_eq!(sig, expected);
        assert!(verify_prehashed(&public, b"abc", &sig));
        assert!(!verify_prehashed(&public, b"abd", &sig));
        // Pure Ed25519 of the same message is a different signature.
        assert_ne!(key.sign(b"abc").unwrap(), expected);
    }
}
