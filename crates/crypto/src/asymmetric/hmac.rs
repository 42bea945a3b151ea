//! HMAC keys (HMAC_224/256/384/512: GenerateMac / VerifyMac).

use aws_lc_rs::hmac;

use crate::keyspec::KeySpec;
use crate::{CryptoError, SecretBytes};

pub(crate) struct HmacKey {
    key: hmac::Key,
}

fn algorithm(spec: KeySpec) -> Result<hmac::Algorithm, CryptoError> {
    Ok(match spec {
        KeySpec::Hmac224 => hmac::HMAC_SHA224,
        KeySpec::Hmac256 => hmac::HMAC_SHA256,
        KeySpec::Hmac384 => hmac::HMAC_SHA384,
        KeySpec::Hmac512 => hmac::HMAC_SHA512,
        _ => return Err(CryptoError::Primitive("HMAC algorithm")),
    })
}

impl HmacKey {
    /// A key of `material` without any length policy (RFC test vectors use shorter and longer keys
    /// than KMS allows).
    pub(crate) fn new_unchecked(spec: KeySpec, material: &[u8]) -> Result<HmacKey, CryptoError> {
        Ok(HmacKey {
            key: hmac::Key::new(algorithm(spec)?, material),
        })
    }

    /// Fresh material as KMS generates it: as long as the hash output (HMAC_224: 28 bytes ...).
    pub(crate) fn generate(spec: KeySpec) -> Result<(HmacKey, SecretBytes), CryptoError> {
        let len = spec
            .hmac_key_lengths()
            .map(|r| *r.start())
            .ok_or(CryptoError::Primitive("HMAC key length"))?;
        let material = crate::random_bytes(len);
        Ok((Self::new_unchecked(spec, material.expose())?, material))
    }

    /// Material of a length AWS allows for `spec`.
    pub(crate) fn import(spec: KeySpec, material: &[u8]) -> Result<HmacKey, CryptoError> {
        let lengths = spec
            .hmac_key_lengths()
            .ok_or(CryptoError::Primitive("HMAC key length"))?;
        if !lengths.contains(&material.len()) {
            return Err(CryptoError::InvalidInput(format!(
                "{spec} key material must be {} to {} bytes long; got {} bytes",
                lengths.start(),
                lengths.end(),
                material.len()
            )));
        }
        Self::new_unchecked(spec, material)
    }

    pub(crate) fn mac(&self, message: &[u8]) -> Vec<u8> {
        hmac::sign(&self.key, message).as_ref().to_vec()
    }

    /// Constant-time comparison (aws-lc-rs `hmac::verify`).
    pub(crate) fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.key, message, tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test cases 1 (20-byte key) and 6 (131-byte key, longer than a block): both outside
    /// the lengths KMS imports, hence `new_unchecked`.
    #[test]
    fn rfc4231_vectors() {
        let case1 = (vec![0x0bu8; 20], &b"Hi There"[..]);
        let case6 = (
            vec![0xaau8; 131],
            &b"Test Using Larger Than Block-Size Key - Hash Key First"[..],
        );
        let expected = [
            (
                KeySpec::Hmac224,
                "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22",
                "95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e",
            ),
            (
                KeySpec::Hmac256,
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                KeySpec::Hmac384,
                "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c\
                 faea9ea9076ede7f4af152e8b2fa9cb6",
                "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6\
                 0c2ef6ab4030fe8296248df163f44952",
            ),
            (
                KeySpec::Hmac512,
                "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde\
                 daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
                "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
                 6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
            ),
        ];
        for (spec, tag1, tag6) in expected {
            for ((key, msg), tag) in [(&case1, tag1), (&case6, tag6)] {
                let k = HmacKey::new_unchecked(spec, key).unwrap();
                let tag = hex::decode(tag).unwrap();
                assert_eq!(k.mac(msg), tag, "{spec}");
                assert!(k.verify(msg, &tag));
                assert!(!k.verify(b"other", &tag));
                assert!(!k.verify(msg, &tag[..tag.len() - 1]));
            }
        }
    }
}
