//! BYOK: the RSA wrapping key of GetParametersForImport, and unwrapping what ImportKeyMaterial
//! receives.
//!
//! Wrapping algorithms (the KMS `AlgorithmSpec`):
//!
//! - `RSAES_OAEP_SHA_1` / `RSAES_OAEP_SHA_256`: the material itself, RSA-OAEP encrypted (MGF1 with the
//!   same hash, empty label). Fits small material only (symmetric and HMAC keys).
//! - `RSA_AES_KEY_WRAP_SHA_1` / `RSA_AES_KEY_WRAP_SHA_256`: a fresh 256-bit AES key RSA-OAEP encrypted
//!   (the first modulus-length bytes), followed by the material wrapped under that AES key with AES
//!   Key Wrap with Padding (RFC 5649; `openssl enc -id-aes256-wrap-pad -iv A65959A6`). For
//!   asymmetric material.
//! - `RSAES_PKCS1_V1_5` is no longer accepted by KMS; `SM2PKE` is China-only. Both are refused.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::key_wrap::{AesKek, KeyWrapPadded, AES_256};
use aws_lc_rs::rsa::{
    KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use zeroize::Zeroizing;

use crate::asymmetric::rsa::{oaep_algorithm, oaep_decrypt};
use crate::{CryptoError, SecretBytes};

/// The RSA wrapping key of one import token. Debug prints only the size.
pub struct WrappingKey {
    key: OaepPrivateDecryptingKey,
    material: SecretBytes,
    public_der: Vec<u8>,
}

impl std::fmt::Debug for WrappingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WrappingKey(RSA_{})", self.key.key_size_bits())
    }
}

impl WrappingKey {
    /// `spec`: "RSA_2048" | "RSA_3072" | "RSA_4096" (the KMS `WrappingKeySpec`, SM2 excepted).
    pub fn generate(spec: &str) -> Result<WrappingKey, CryptoError> {
        let size = match spec {
            "RSA_2048" => KeySize::Rsa2048,
            "RSA_3072" => KeySize::Rsa3072,
            "RSA_4096" => KeySize::Rsa4096,
            other => {
                return Err(CryptoError::InvalidInput(format!(
                    "{other} is not a wrapping key spec m2sec supports; use RSA_2048, RSA_3072 or RSA_4096"
                )))
            }
        };
        let private = PrivateDecryptingKey::generate(size)
            .map_err(|_| CryptoError::Primitive("RSA wrapping key generation"))?;
        let material = private
            .as_der()
            .map(|d| SecretBytes::from_slice(d.as_ref()))
            .map_err(|_| CryptoError::Primitive("RSA wrapping key encoding"))?;
        Self::from_private(private, material)
    }

    /// From the PKCS#8 m2sec sealed at rest (what [`WrappingKey::to_material`] returned).
    pub fn from_material(material: &SecretBytes) -> Result<WrappingKey, CryptoError> {
        let private = PrivateDecryptingKey::from_pkcs8(material.expose())
            .map_err(|_| CryptoError::Primitive("sealed wrapping key material"))?;
        Self::from_private(private, material.clone())
    }

    fn from_private(
        private: PrivateDecryptingKey,
        material: SecretBytes,
    ) -> Result<WrappingKey, CryptoError> {
        let public_der = private
            .public_key()
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| CryptoError::Primitive("RSA wrapping key public encoding"))?;
        let key = OaepPrivateDecryptingKey::new(private)
            .map_err(|_| CryptoError::Primitive("RSA wrapping key"))?;
        Ok(WrappingKey {
            key,
            material,
            public_der,
        })
    }

    /// PKCS#8 DER, to seal at rest.
    pub fn to_material(&self) -> SecretBytes {
        self.material.clone()
    }

    /// DER SubjectPublicKeyInfo, as GetParametersForImport returns it.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.public_der.clone()
    }

    /// Unwraps ImportKeyMaterial's `EncryptedKeyMaterial`. Wrong bytes are
    /// `CryptoError::InvalidCiphertext`; an algorithm KMS does not accept is `InvalidInput`.
    pub fn unwrap(
        &self,
        algorithm: &str,
        encrypted_key_material: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        match algorithm {
            "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256" => {
                oaep_decrypt(&self.key, oaep_algorithm(algorithm)?, encrypted_key_material)
            }
            "RSA_AES_KEY_WRAP_SHA_1" | "RSA_AES_KEY_WRAP_SHA_256" => {
                let oaep = if algorithm.ends_with("SHA_1") {
                    "RSAES_OAEP_SHA_1"
                } else {
                    "RSAES_OAEP_SHA_256"
                };
                let modulus_len = self.key.key_size_bytes();
                if encrypted_key_material.len() <= modulus_len {
                    return Err(CryptoError::InvalidCiphertext);
                }
                let (rsa_part, wrapped) = encrypted_key_material.split_at(modulus_len);
                let aes_key = oaep_decrypt(&self.key, oaep_algorithm(oaep)?, rsa_part)?;
                if aes_key.len() != 32 {
                    return Err(CryptoError::InvalidCiphertext);
                }
                aes_kwp_unwrap(aes_key.expose(), wrapped)
            }
            "RSAES_PKCS1_V1_5" => Err(CryptoError::InvalidInput(
                "KMS no longer accepts RSAES_PKCS1_V1_5 for wrapping key material; use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256".into(),
            )),
            "SM2PKE" => Err(CryptoError::InvalidInput(
                "SM2PKE wrapping is only for SM2 wrapping keys, which m2sec does not support".into(),
            )),
            other => Err(CryptoError::InvalidInput(format!(
                "unknown wrapping algorithm {other}; use RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256"
            ))),
        }
    }
}

/// AES-256 Key Wrap with Padding (RFC 5649) unwrap.
fn aes_kwp_unwrap(key: &[u8], wrapped: &[u8]) -> Result<SecretBytes, CryptoError> {
    // RFC 5649 output is a multiple of 8 bytes, at least 16.
    if wrapped.len() < 16 || !wrapped.len().is_multiple_of(8) {
        return Err(CryptoError::InvalidCiphertext);
    }
    let kek = AesKek::new(&AES_256, key).map_err(|_| CryptoError::Primitive("AES key wrap key"))?;
    let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
    let len = kek
        .unwrap_with_padding(wrapped, &mut out)
        .map_err(|_| CryptoError::InvalidCiphertext)?
        .len();
    Ok(SecretBytes::from_slice(&out[..len]))
}

/// The client side of ImportKeyMaterial (what the AWS docs do with openssl), for tests and tools:
/// wraps `material` for the wrapping key `wrapping_public_key_der` (DER SubjectPublicKeyInfo from
/// GetParametersForImport) with one of the four algorithms [`WrappingKey::unwrap`] accepts.
pub fn wrap_for_import(
    wrapping_public_key_der: &[u8],
    algorithm: &str,
    material: &SecretBytes,
) -> Result<Vec<u8>, CryptoError> {
    let public = PublicEncryptingKey::from_der(wrapping_public_key_der)
        .ok()
        .and_then(|k| OaepPublicEncryptingKey::new(k).ok())
        .ok_or_else(|| {
            CryptoError::InvalidInput(
                "the wrapping key is not a DER SubjectPublicKeyInfo of an RSA key".into(),
            )
        })?;
    let oaep_encrypt = |oaep: &str, plaintext: &[u8]| -> Result<Vec<u8>, CryptoError> {
        let oaep = oaep_algorithm(oaep)?;
        if plaintext.len() > public.max_plaintext_size(oaep) {
            return Err(CryptoError::InvalidInput(format!(
                "{algorithm} with this wrapping key wraps at most {} bytes; use RSA_AES_KEY_WRAP_SHA_256 for larger material",
                public.max_plaintext_size(oaep)
            )));
        }
        let mut out = vec![0u8; public.ciphertext_size()];
        let len = public
            .encrypt(oaep, plaintext, &mut out, None)
            .map_err(|_| CryptoError::Primitive("RSA-OAEP encryption"))?
            .len();
        out.truncate(len);
        Ok(out)
    };
    match algorithm {
        "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256" => oaep_encrypt(algorithm, material.expose()),
        "RSA_AES_KEY_WRAP_SHA_1" | "RSA_AES_KEY_WRAP_SHA_256" => {
            let oaep = if algorithm.ends_with("SHA_1") {
                "RSAES_OAEP_SHA_1"
            } else {
                "RSAES_OAEP_SHA_256"
            };
            let aes_key = crate::random_bytes(32);
            let mut out = oaep_encrypt(oaep, aes_key.expose())?;
            out.extend_from_slice(&aes_kwp_wrap(&aes_key, material.expose())?);
            Ok(out)
        }
        other => Err(CryptoError::InvalidInput(format!(
            "unknown wrapping algorithm {other}; use RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256"
        ))),
    }
}

/// AES-256 Key Wrap with Padding (RFC 5649) wrap.
fn aes_kwp_wrap(key: &SecretBytes, material: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let kek = AesKek::new(&AES_256, key.expose())
        .map_err(|_| CryptoError::Primitive("AES key wrap key"))?;
    let mut out = vec![0u8; material.len() + 16];
    let len = kek
        .wrap_with_padding(material, &mut out)
        .map_err(|_| CryptoError::Primitive("AES key wrap"))?
        .len();
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeySpec, PrivateKey};

    const ALGORITHMS: [&str; 4] = [
        "RSAES_OAEP_SHA_1",
        "RSAES_OAEP_SHA_256",
        "RSA_AES_KEY_WRAP_SHA_1",
        "RSA_AES_KEY_WRAP_SHA_256",
    ];

    #[test]
    fn every_algorithm_round_trips_and_alterations_are_invalid_ciphertext() {
        let wrapping = WrappingKey::generate("RSA_2048").unwrap();
        assert_eq!(format!("{wrapping:?}"), "WrappingKey(RSA_2048)");
        let reopened = WrappingKey::from_material(&wrapping.to_material()).unwrap();
        assert_eq!(reopened.public_key_der(), wrapping.public_key_der());
        let public = wrapping.public_key_der();

        let hmac = SecretBytes::new(vec![0x42; 64]);
        let ec = PrivateKey::generate(KeySpec::EccNistP384)
            .unwrap()
            .to_material();
        for algorithm in ALGORITHMS {
            let materials: &[&SecretBytes] = if algorithm.starts_with("RSAES") {
                &[&hmac]
            } else {
                &[&hmac, &ec]
            };
            for material in materials {
                let wrapped = wrap_for_import(&public, algorithm, material).unwrap();
                assert_eq!(
                    &reopened.unwrap(algorithm, &wrapped).unwrap(),
                    *material,
                    "{algorithm}"
                );
                let mut positions = vec![0, 100, 255, wrapped.len() - 1];
                if wrapped.len() > 256 {
                    positions.push(256); // first byte of the AES-KWP part
                }
                for i in positions {
                    let mut bad = wrapped.clone();
                    bad[i] ^= 0x01;
                    assert!(
                        matches!(
                            wrapping.unwrap(algorithm, &bad),
                            Err(CryptoError::InvalidCiphertext)
                        ),
                        "{algorithm} byte {i}"
                    );
                }
                assert!(matches!(
                    wrapping.unwrap(algorithm, &wrapped[..wrapped.len() - 8]),
                    Err(CryptoError::InvalidCiphertext)
                ));
            }
        }
        // The wrong hash or scheme does not unwrap.
        let wrapped = wrap_for_import(&public, "RSA_AES_KEY_WRAP_SHA_256", &ec).unwrap();
        for other in ["RSA_AES_KEY_WRAP_SHA_1", "RSAES_OAEP_SHA_256"] {
            assert!(matches!(
                wrapping.unwrap(other, &wrapped),
                Err(CryptoError::InvalidCiphertext)
            ));
        }
        // Large (RSA, ML-DSA) material is too long for plain OAEP.
        assert!(matches!(
            wrap_for_import(
                &public,
                "RSAES_OAEP_SHA_256",
                &SecretBytes::new(vec![0; 191])
            ),
            Err(CryptoError::InvalidInput(_))
        ));
        for refused in ["RSAES_PKCS1_V1_5", "SM2PKE", "AES_KEY_WRAP"] {
            match wrapping.unwrap(refused, &wrapped) {
                Err(CryptoError::InvalidInput(msg)) => assert!(msg.contains(refused), "{msg}"),
                other => panic!("{refused}: {other:?}"),
            }
        }
        assert!(matches!(
            wrapping.unwrap("RSAES_OAEP_SHA_256", b""),
            Err(CryptoError::InvalidCiphertext)
        ));
    }

    #[test]
    fn wrapping_key_specs() {
        let w = WrappingKey::generate("RSA_3072").unwrap();
        let public = w.public_key_der();
        let spki = crate::der::parse_spki(&public).unwrap();
        assert_eq!(spki.algorithm.oid, crate::der::oid::RSA_ENCRYPTION);
        let material = SecretBytes::new(vec![1; 32]);
        let wrapped = wrap_for_import(&w.public_key_der(), "RSAES_OAEP_SHA_1", &material).unwrap();
        assert_eq!(wrapped.len(), 384);
        assert_eq!(w.unwrap("RSAES_OAEP_SHA_1", &wrapped).unwrap(), material);
        for refused in ["SM2", "RSA_1024", "rsa_2048", ""] {
            assert!(matches!(
                WrappingKey::generate(refused),
                Err(CryptoError::InvalidInput(_))
            ));
        }
        assert!(WrappingKey::from_material(&SecretBytes::from_slice(b"junk")).is_err());
    }
}
