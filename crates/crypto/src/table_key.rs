//! A DynamoDB table's key: what seals the table's items and hashes their keys for the store.
//!
//! The table's data key (32 random bytes from KMS GenerateDataKey, or sealed by the root key for
//! tables under the AWS owned key) is never used directly: HKDF-SHA256 derives one AES-256-GCM key
//! for item bodies and one HMAC-SHA256 key for key hashes, so neither use can be turned against the
//! other.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::{hkdf, hmac};

use crate::{CryptoError, SecretBytes};

const SALT: &[u8] = b"m2sec dynamodb table key v1";
const SEAL_INFO: &[u8] = b"item bodies";
const HASH_INFO: &[u8] = b"key hashes";
/// Format byte of a sealed item: version 1 = nonce (12) | ciphertext | tag (16).
const SEALED_V1: u8 = 1;

pub struct TableKey {
    seal: LessSafeKey,
    hash: hmac::Key,
}

impl std::fmt::Debug for TableKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TableKey(***)")
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl TableKey {
    /// Length of a table's data key.
    pub const DATA_KEY_LEN: usize = 32;

    pub fn from_data_key(data_key: &SecretBytes) -> Result<Self, CryptoError> {
        if data_key.len() != Self::DATA_KEY_LEN {
            return Err(CryptoError::Primitive("table data key length"));
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(data_key.expose());
        let derive = |info: &[u8]| -> Result<SecretBytes, CryptoError> {
            let mut out = vec![0u8; 32];
            let infos = [info];
            prk.expand(&infos, Len(32))
                .and_then(|okm| okm.fill(&mut out))
                .map_err(|_| CryptoError::Primitive("HKDF"))?;
            Ok(SecretBytes::new(out))
        };
        let seal_key = derive(SEAL_INFO)?;
        let hash_key = derive(HASH_INFO)?;
        let unbound = UnboundKey::new(&AES_256_GCM, seal_key.expose())
            .map_err(|_| CryptoError::Primitive("AES-256-GCM key"))?;
        Ok(TableKey {
            seal: LessSafeKey::new(unbound),
            hash: hmac::Key::new(hmac::HMAC_SHA256, hash_key.expose()),
        })
    }

    /// A fresh data key for a new table.
    pub fn generate_data_key() -> SecretBytes {
        crate::random_bytes(Self::DATA_KEY_LEN)
    }

    /// Seals `plaintext`, bound to `aad` (the item's table and key hash: a body moved to another row
    /// does not open).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce = crate::random_nonce();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .seal
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[1 + NONCE_LEN..],
            )
            .expect("AES-GCM seal cannot fail for inputs under 64 GiB");
        out.extend_from_slice(tag.as_ref());
        out
    }

    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != SEALED_V1 {
            return Err(CryptoError::InvalidCiphertext);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[1..1 + NONCE_LEN]);
        let mut buf = sealed[1 + NONCE_LEN..].to_vec();
        let len = self
            .seal
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| CryptoError::InvalidCiphertext)?
            .len();
        buf.truncate(len);
        Ok(SecretBytes::new(buf))
    }

    /// HMAC-SHA256 of `parts`, each length-prefixed (no two lists of parts hash alike).
    pub fn keyed_hash(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.hash);
        for p in parts {
            ctx.update(&(p.len() as u64).to_be_bytes());
            ctx.update(p);
        }
        ctx.sign().as_ref().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let k = TableKey::from_data_key(&TableKey::generate_data_key()).unwrap();
        let sealed = k.seal(b"t1|h1", b"{\"a\":{\"S\":\"x\"}}");
        assert_eq!(
            k.open(b"t1|h1", &sealed).unwrap().expose(),
            b"{\"a\":{\"S\":\"x\"}}"
        );
        assert!(k.open(b"t1|h2", &sealed).is_err());
        let mut bad = sealed.clone();
        bad[20] ^= 1;
        assert!(k.open(b"t1|h1", &bad).is_err());
        assert!(k.open(b"t1|h1", &sealed[..10]).is_err());
    }

    #[test]
    fn hashes_are_keyed_and_unambiguous() {
        let data = TableKey::generate_data_key();
        let a = TableKey::from_data_key(&data).unwrap();
        let b = TableKey::from_data_key(&data).unwrap();
        let other = TableKey::from_data_key(&TableKey::generate_data_key()).unwrap();
        assert_eq!(a.keyed_hash(&[b"x", b"y"]), b.keyed_hash(&[b"x", b"y"]));
        assert_ne!(a.keyed_hash(&[b"x", b"y"]), other.keyed_hash(&[b"x", b"y"]));
        assert_ne!(a.keyed_hash(&[b"xy", b""]), a.keyed_hash(&[b"x", b"y"]));
    }

    #[test]
    fn wrong_length_data_key_is_refused() {
        assert!(TableKey::from_data_key(&SecretBytes::new(vec![1; 16])).is_err());
    }
}
