//! RSA key pairs: RSASSA-PSS / PKCS#1 v1.5 signatures and RSAES-OAEP encryption.

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeyPair, KeySize, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::{self, KeyPair as _, RsaEncoding, RsaParameters};
use zeroize::Zeroizing;

use crate::keyspec::{Hash, KeySpec, MessageType, SigningAlgorithm};
use crate::{CryptoError, SecretBytes};

pub(crate) struct RsaKey {
    pair: KeyPair,
    /// Built on first Decrypt (most RSA keys only sign, and parsing costs an RSA key check).
    decrypting: OnceLock<OaepPrivateDecryptingKey>,
}

impl RsaKey {
    pub(crate) fn generate(spec: KeySpec) -> Result<(RsaKey, SecretBytes), CryptoError> {
        let size = match spec {
            KeySpec::Rsa2048 => KeySize::Rsa2048,
            KeySpec::Rsa3072 => KeySize::Rsa3072,
            KeySpec::Rsa4096 => KeySize::Rsa4096,
            _ => return Err(CryptoError::Primitive("RSA key size")),
        };
        let pair =
            KeyPair::generate(size).map_err(|_| CryptoError::Primitive("RSA key generation"))?;
        let key = RsaKey {
            pair,
            decrypting: OnceLock::new(),
        };
        let material = key.to_pkcs8()?;
        Ok((key, material))
    }

    /// Customer material (PKCS#8, already known to say rsaEncryption): parses it and checks the
    /// modulus size against `spec`.
    pub(crate) fn import(spec: KeySpec, der: &[u8]) -> Result<RsaKey, CryptoError> {
        let want = spec
            .rsa_bits()
            .ok_or(CryptoError::Primitive("RSA key size"))?;
        let invalid = || {
            CryptoError::InvalidInput(format!(
                "the key material is not a valid RSA private key (DER PKCS#8 PrivateKeyInfo) for {spec}"
            ))
        };
        let pair = KeyPair::from_pkcs8(der).map_err(|_| invalid())?;
        // The exact size in bits (public_modulus_len() is bytes, which a 2047-bit key also fills).
        let decrypting = PrivateDecryptingKey::from_pkcs8(der).map_err(|_| invalid())?;
        let bits = decrypting.key_size_bits();
        if bits != want {
            return Err(CryptoError::InvalidInput(format!(
                "the key material is a {bits}-bit RSA key; {spec} needs a {want}-bit modulus"
            )));
        }
        let oaep = OaepPrivateDecryptingKey::new(decrypting).map_err(|_| invalid())?;
        Ok(RsaKey {
            pair,
            decrypting: OnceLock::from(oaep),
        })
    }

    /// Like [`RsaKey::import`] for material m2sec sealed itself: the decrypting half is left
    /// for first use.
    pub(crate) fn from_sealed(spec: KeySpec, der: &[u8]) -> Result<RsaKey, CryptoError> {
        let pair = KeyPair::from_pkcs8(der)
            .map_err(|_| CryptoError::Primitive("sealed RSA key material"))?;
        let bits = spec.rsa_bits().unwrap_or_default();
        if pair.public_modulus_len() * 8 != bits {
            return Err(CryptoError::Primitive("sealed RSA key material (size)"));
        }
        Ok(RsaKey {
            pair,
            decrypting: OnceLock::new(),
        })
    }

    /// The canonical PKCS#8 of this key (what m2sec seals at rest).
    pub(crate) fn to_pkcs8(&self) -> Result<SecretBytes, CryptoError> {
        let der = self
            .pair
            .as_der()
            .map_err(|_| CryptoError::Primitive("RSA PKCS#8 encoding"))?;
        Ok(SecretBytes::from_slice(der.as_ref()))
    }

    pub(crate) fn public_key_der(&self) -> Result<Vec<u8>, CryptoError> {
        self.pair
            .public_key()
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| CryptoError::Primitive("RSA public key encoding"))
    }

    pub(crate) fn sign(
        &self,
        algorithm: SigningAlgorithm,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let encoding = signing_encoding(algorithm)?;
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        let result = match message_type {
            MessageType::Raw => {
                self.pair
                    .sign(encoding, &SystemRandom::new(), message, &mut signature)
            }
            MessageType::Digest => {
                let digest = super::import_digest(algorithm, message)?;
                self.pair.sign_digest(encoding, &digest, &mut signature)
            }
            MessageType::ExternalMu => return Err(CryptoError::Primitive("RSA EXTERNAL_MU")),
        };
        result.map_err(|_| CryptoError::Primitive("RSA signing"))?;
        Ok(signature)
    }

    fn decrypting_key(
        &self,
        material: &SecretBytes,
    ) -> Result<&OaepPrivateDecryptingKey, CryptoError> {
        if let Some(key) = self.decrypting.get() {
            return Ok(key);
        }
        let key = PrivateDecryptingKey::from_pkcs8(material.expose())
            .ok()
            .and_then(|k| OaepPrivateDecryptingKey::new(k).ok())
            .ok_or(CryptoError::Primitive("RSA decryption key"))?;
        Ok(self.decrypting.get_or_init(|| key))
    }

    pub(crate) fn decrypt(
        &self,
        material: &SecretBytes,
        algorithm: &str,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let oaep = oaep_algorithm(algorithm)?;
        let key = self.decrypting_key(material)?;
        oaep_decrypt(key, oaep, ciphertext)
    }
}

/// RSAES-OAEP decryption with an empty label; anything that does not decrypt is `InvalidCiphertext`.
pub(crate) fn oaep_decrypt(
    key: &OaepPrivateDecryptingKey,
    algorithm: &'static OaepAlgorithm,
    ciphertext: &[u8],
) -> Result<SecretBytes, CryptoError> {
    if ciphertext.len() != key.key_size_bytes() {
        return Err(CryptoError::InvalidCiphertext);
    }
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let len = key
        .decrypt(algorithm, ciphertext, &mut out, None)
        .map_err(|_| CryptoError::InvalidCiphertext)?
        .len();
    Ok(SecretBytes::from_slice(&out[..len]))
}

/// RSAES-OAEP encryption to a DER public key (SubjectPublicKeyInfo), enforcing AWS's plaintext
/// limits for `spec`.
pub(crate) fn encrypt(
    spec: KeySpec,
    public_key: &PublicEncryptingKey,
    algorithm: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let oaep = oaep_algorithm(algorithm)?;
    let max = spec
        .max_plaintext_len(algorithm)
        .ok_or(CryptoError::Primitive("RSA plaintext limit"))?;
    if plaintext.len() > max {
        return Err(CryptoError::InvalidInput(format!(
            "{algorithm} with a {spec} key encrypts at most {max} bytes of plaintext; got {} bytes",
            plaintext.len()
        )));
    }
    let key = OaepPublicEncryptingKey::new(public_key.clone())
        .map_err(|_| CryptoError::Primitive("RSA encryption key"))?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(oaep, plaintext, &mut out, None)
        .map_err(|_| CryptoError::Primitive("RSA-OAEP encryption"))?
        .len();
    out.truncate(len);
    Ok(out)
}

/// The public half for encryption, from DER SubjectPublicKeyInfo, checked against `spec`.
pub(crate) fn public_encrypting_key(
    spec: KeySpec,
    der: &[u8],
) -> Result<PublicEncryptingKey, CryptoError> {
    let bad = || {
        CryptoError::InvalidInput(format!(
            "the public key is not a DER SubjectPublicKeyInfo of an {spec} key"
        ))
    };
    let spki = crate::der::parse_spki(der).ok_or_else(bad)?;
    if spki.algorithm.oid != crate::der::oid::RSA_ENCRYPTION {
        return Err(bad());
    }
    let key = PublicEncryptingKey::from_der(der).map_err(|_| bad())?;
    if Some(key.key_size_bits()) != spec.rsa_bits() {
        return Err(bad());
    }
    Ok(key)
}

pub(crate) fn oaep_algorithm(name: &str) -> Result<&'static OaepAlgorithm, CryptoError> {
    match name {
        "RSAES_OAEP_SHA_1" => Ok(&OAEP_SHA1_MGF1SHA1),
        "RSAES_OAEP_SHA_256" => Ok(&OAEP_SHA256_MGF1SHA256),
        other => Err(CryptoError::InvalidInput(format!(
            "{other} is not an encryption algorithm of RSA keys; use RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256"
        ))),
    }
}

fn signing_encoding(algorithm: SigningAlgorithm) -> Result<&'static dyn RsaEncoding, CryptoError> {
    Ok(match algorithm {
        SigningAlgorithm::RsaPss(Hash::Sha256) => &signature::RSA_PSS_SHA256,
        SigningAlgorithm::RsaPss(Hash::Sha384) => &signature::RSA_PSS_SHA384,
        SigningAlgorithm::RsaPss(Hash::Sha512) => &signature::RSA_PSS_SHA512,
        SigningAlgorithm::RsaPkcs1(Hash::Sha256) => &signature::RSA_PKCS1_SHA256,
        SigningAlgorithm::RsaPkcs1(Hash::Sha384) => &signature::RSA_PKCS1_SHA384,
        SigningAlgorithm::RsaPkcs1(Hash::Sha512) => &signature::RSA_PKCS1_SHA512,
        _ => return Err(CryptoError::Primitive("RSA signing algorithm")),
    })
}

/// The aws-lc-rs verification parameters (PSS: MGF1 with the same hash, salt = hash length).
pub(crate) fn verification_parameters(
    algorithm: SigningAlgorithm,
) -> Option<&'static RsaParameters> {
    Some(match algorithm {
        SigningAlgorithm::RsaPss(Hash::Sha256) => &signature::RSA_PSS_2048_8192_SHA256,
        SigningAlgorithm::RsaPss(Hash::Sha384) => &signature::RSA_PSS_2048_8192_SHA384,
        SigningAlgorithm::RsaPss(Hash::Sha512) => &signature::RSA_PSS_2048_8192_SHA512,
        SigningAlgorithm::RsaPkcs1(Hash::Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        SigningAlgorithm::RsaPkcs1(Hash::Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        SigningAlgorithm::RsaPkcs1(Hash::Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        _ => return None,
    })
}
