use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};

use crate::blob::{self, ParsedBlob, AAD_LABEL};
use crate::{CryptoError, SecretBytes};

/// One version of a KMS symmetric key (SYMMETRIC_DEFAULT: AES-256-GCM), ready to use.
///
/// Built once when the key version is unwrapped and kept in memory; aws-lc-rs clears the key schedule
/// when it is dropped.
pub struct SymmetricKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SymmetricKey(***)")
    }
}

/// Length of SYMMETRIC_DEFAULT key material.
pub const MATERIAL_LEN: usize = 32;

impl SymmetricKey {
    pub fn new(material: &SecretBytes) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, material.expose())
            .map_err(|_| CryptoError::Primitive("AES-256-GCM key"))?;
        Ok(SymmetricKey {
            key: LessSafeKey::new(unbound),
        })
    }

    /// Fresh random material for a new key version.
    pub fn generate_material() -> SecretBytes {
        crate::random_bytes(MATERIAL_LEN)
    }

    /// Encrypts `plaintext` into a blob naming `key_id`/`key_version`; `context` is the canonical
    /// encoding of the encryption context ([`crate::context::canonical`]).
    pub fn encrypt(
        &self,
        key_id: &str,
        key_version: u32,
        plaintext: &[u8],
        context: &[u8],
    ) -> Vec<u8> {
        let nonce = crate::random_nonce();
        let mut out = blob::encode_header(key_id, key_version, &nonce);
        let header_len = out.len();
        let aad = aad(&out, context);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad[..]),
                &mut out[header_len..],
            )
            .expect("AES-GCM seal cannot fail for inputs under 64 GiB");
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// Opens a parsed blob. Any mismatch (altered bytes, wrong key, other context) is `InvalidCiphertext`.
    pub fn decrypt(
        &self,
        parsed: &ParsedBlob<'_>,
        context: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let aad = aad(parsed.header_bytes, context);
        let mut buf = parsed.sealed.to_vec();
        let plain_len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(parsed.nonce),
                Aad::from(&aad[..]),
                &mut buf,
            )
            .map_err(|_| CryptoError::InvalidCiphertext)?
            .len();
        buf.truncate(plain_len);
        Ok(SecretBytes::new(buf))
    }
}

fn aad(header: &[u8], context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + header.len() + context.len());
    aad.extend_from_slice(AAD_LABEL);
    aad.extend_from_slice(header);
    aad.extend_from_slice(context);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::parse;
    use crate::context::{canonical, EncryptionContext};

    fn ctx(k: &str, v: &str) -> Vec<u8> {
        let mut c = EncryptionContext::new();
        c.insert(k.into(), v.into());
        canonical(&c)
    }

    #[test]
    fn round_trip_and_tamper_detection() {
        let key = SymmetricKey::new(&SymmetricKey::generate_material()).unwrap();
        let blob = key.encrypt("abc-123", 2, b"can2025-secret", &ctx("app", "gates"));
        let parsed = parse(&blob).unwrap();
        assert_eq!(parsed.header.key_version, 2);
        assert_eq!(
            key.decrypt(&parsed, &ctx("app", "gates")).unwrap().expose(),
            b"can2025-secret"
        );
        // Other context.
        assert!(key.decrypt(&parsed, &ctx("app", "other")).is_err());
        // Every single-byte alteration is caught, structurally or by the tag.
        for i in 0..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 0x01;
            let ok = parse(&t)
                .ok()
                .and_then(|p| key.decrypt(&p, &ctx("app", "gates")).ok());
            assert!(ok.is_none(), "alteration at byte {i} went unnoticed");
        }
        // Other key.
        let other = SymmetricKey::new(&SymmetricKey::generate_material()).unwrap();
        assert!(other.decrypt(&parsed, &ctx("app", "gates")).is_err());
    }
}
