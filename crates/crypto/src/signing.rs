//! An Ed25519 key that signs m2sec's own statements (the trail's digests), kept sealed under the root
//! key. Unlike a KMS key version ([`crate::PrivateKey`]) it has no key spec, no algorithms to choose
//! and no public-key DER: it signs raw messages and its public key is the raw 32 bytes (RFC 8032).
//!
//! The sealed form is [`RootKey::seal`] of the key's PKCS#8 DER (v2, with the public key, as
//! aws-lc-rs generates it); [`Ed25519Signer::open`] also accepts PKCS#8 v1.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};

use crate::{CryptoError, RootKey, SecretBytes};

/// An Ed25519 signing key in memory. `Debug` prints the public key only.
pub struct Ed25519Signer {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("public_key", &hex::encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

impl Ed25519Signer {
    /// A new key pair: the private key sealed under `root` with `aad` (text for the store), and the
    /// raw public key. Nothing else of the private key leaves this function.
    pub fn generate(root: &RootKey, aad: &[u8]) -> Result<(String, Vec<u8>), CryptoError> {
        let pair =
            Ed25519KeyPair::generate().map_err(|_| CryptoError::Primitive("Ed25519 generation"))?;
        let pkcs8 = pair
            .to_pkcs8()
            .map_err(|_| CryptoError::Primitive("Ed25519 PKCS#8 encoding"))?;
        let pkcs8 = SecretBytes::from_slice(pkcs8.as_ref());
        Ok((root.seal(&pkcs8, aad), pair.public_key().as_ref().to_vec()))
    }

    /// Opens a key sealed by [`Ed25519Signer::generate`] (or any [`RootKey::seal`] of an Ed25519
    /// PKCS#8 with the same `aad`). Errors: [`CryptoError::InvalidInput`] if the text is not base64
    /// or the unsealed bytes are not an Ed25519 key, [`CryptoError::InvalidCiphertext`] if it does
    /// not unseal with this root key and `aad`.
    pub fn open(root: &RootKey, sealed: &str, aad: &[u8]) -> Result<Ed25519Signer, CryptoError> {
        let pkcs8 = root.open_sealed(sealed, aad)?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.expose()).map_err(|_| {
            CryptoError::InvalidInput("the sealed key is not an Ed25519 private key".into())
        })?;
        Ok(Ed25519Signer { pair })
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The 64-byte Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

/// Whether `signature` is the Ed25519 signature of `message` by the raw 32-byte `public_key`.
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: &[u8] = b"test signing key v1";

    #[test]
    fn a_generated_key_opens_signs_and_verifies() {
        let root = RootKey::ephemeral();
        let (sealed, public) = Ed25519Signer::generate(&root, AAD).unwrap();
        assert_eq!(public.len(), 32);
        let signer = Ed25519Signer::open(&root, &sealed, AAD).unwrap();
        assert_eq!(signer.public_key(), public.as_slice());
        let signature = signer.sign(b"digest body");
        assert_eq!(signature.len(), 64);
        assert!(verify(&public, b"digest body", &signature));
        assert!(!verify(&public, b"digest body!", &signature));
        let (_, other) = Ed25519Signer::generate(&root, AAD).unwrap();
        assert!(!verify(&other, b"digest body", &signature));
        assert!(!verify(&public, b"digest body", &signature[1..]));
        assert!(!verify(b"short", b"digest body", &signature));
        assert!(format!("{signer:?}").contains(&hex::encode(&public)));
    }

    #[test]
    fn the_sealed_key_opens_only_with_its_root_key_and_aad() {
        let root = RootKey::ephemeral();
        let (sealed, _) = Ed25519Signer::generate(&root, AAD).unwrap();
        assert!(matches!(
            Ed25519Signer::open(&root, &sealed, b"other aad"),
            Err(CryptoError::InvalidCiphertext)
        ));
        assert!(matches!(
            Ed25519Signer::open(&RootKey::ephemeral(), &sealed, AAD),
            Err(CryptoError::InvalidCiphertext)
        ));
        assert!(matches!(
            Ed25519Signer::open(&root, "%%%", AAD),
            Err(CryptoError::InvalidInput(_))
        ));
        let not_a_key = root.seal(&SecretBytes::from_slice(b"not pkcs8"), AAD);
        assert!(matches!(
            Ed25519Signer::open(&root, &not_a_key, AAD),
            Err(CryptoError::InvalidInput(_))
        ));
    }

    /// The trail stored its key as base64 of `wrap` over aws-lc-rs's `generate_pkcs8` output before
    /// this module existed; such a key must still open, with the same public key.
    #[test]
    fn a_key_sealed_the_earlier_way_still_opens() {
        use base64::Engine;
        let root = RootKey::ephemeral();
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let stored =
            base64::engine::general_purpose::STANDARD.encode(root.wrap(pkcs8.as_ref(), AAD));
        let signer = Ed25519Signer::open(&root, &stored, AAD).unwrap();
        assert_eq!(signer.public_key(), pair.public_key().as_ref());
        assert!(verify(pair.public_key().as_ref(), b"m", &signer.sign(b"m")));
    }
}
