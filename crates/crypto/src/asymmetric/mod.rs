//! KMS asymmetric and HMAC keys: one [`PrivateKey`] per key version, parsed once and kept in memory.
//!
//! | spec | library | operations |
//! | --- | --- | --- |
//! | RSA_2048/3072/4096 | aws-lc-rs | RSASSA-PSS (MGF1 same hash, salt = hash length), RSASSA-PKCS1-v1_5, RSAES-OAEP |
//! | ECC_NIST_P256/P384/P521 | aws-lc-rs | ECDSA (DER signatures), ECDH |
//! | ECC_SECG_P256K1 | aws-lc-rs | ECDSA |
//! | ECC_NIST_EDWARDS25519 | aws-lc-rs; ed25519-dalek for Ed25519ph | Ed25519, Ed25519ph |
//! | ML_DSA_44/65/87 | aws-lc-rs; RustCrypto ml-dsa for external μ | ML-DSA |
//! | HMAC_224/256/384/512 | aws-lc-rs | HMAC |
//!
//! What m2sec seals at rest ([`PrivateKey::to_material`]) is PKCS#8 DER for asymmetric keys (the
//! seed form for ML-DSA) and the raw secret for HMAC.

mod ecc;
mod eddsa;
mod hmac;
mod mldsa;
pub(crate) mod rsa;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use aws_lc_rs::digest::Digest;
use aws_lc_rs::signature::{self as lc_signature, ParsedPublicKey, VerificationAlgorithm};

use crate::der::{self, oid};
use crate::keyspec::{KeySpec, MessageType, SigningAlgorithm};
use crate::{CryptoError, SecretBytes};

use self::ecc::EcKey;
use self::eddsa::EdKey;
use self::hmac::HmacKey;
use self::mldsa::MlDsaKey;
use self::rsa::RsaKey;

/// The private half (or HMAC secret) of one key version. Debug prints only the spec.
pub struct PrivateKey {
    spec: KeySpec,
    /// What `to_material` returns; also the source of the secondary objects built on first use.
    material: SecretBytes,
    kind: Kind,
    /// The public half, for Verify and GetPublicKey; `None` for HMAC.
    public: Option<PublicKeyVerifier>,
}

enum Kind {
    Rsa(RsaKey),
    Ec(EcKey),
    Ed(EdKey),
    MlDsa(MlDsaKey),
    /// Boxed: aws-lc-rs keeps the HMAC pads precomputed (over a kilobyte).
    Hmac(Box<HmacKey>),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.spec.name())
    }
}

impl PrivateKey {
    pub fn generate(spec: KeySpec) -> Result<PrivateKey, CryptoError> {
        let (kind, material) = match spec {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let (k, m) = RsaKey::generate(spec)?;
                (Kind::Rsa(k), m)
            }
            KeySpec::EccNistP256
            | KeySpec::EccNistP384
            | KeySpec::EccNistP521
            | KeySpec::EccSecgP256k1 => {
                let (k, m) = EcKey::generate(spec)?;
                (Kind::Ec(k), m)
            }
            KeySpec::EccNistEdwards25519 => {
                let (k, m) = EdKey::generate()?;
                (Kind::Ed(k), m)
            }
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
                let (k, m) = MlDsaKey::generate(spec)?;
                (Kind::MlDsa(k), m)
            }
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
                let (k, m) = HmacKey::generate(spec)?;
                (Kind::Hmac(Box::new(k)), m)
            }
        };
        Self::assemble(spec, kind, material)
    }

    /// From the bytes m2sec sealed at rest (what [`PrivateKey::to_material`] returned).
    pub fn from_material(spec: KeySpec, material: &SecretBytes) -> Result<PrivateKey, CryptoError> {
        let bytes = material.expose();
        let sealed =
            |_| CryptoError::Primitive("sealed key material does not parse for its key spec");
        let kind = match spec {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                Kind::Rsa(RsaKey::from_sealed(spec, bytes)?)
            }
            KeySpec::EccNistP256
            | KeySpec::EccNistP384
            | KeySpec::EccNistP521
            | KeySpec::EccSecgP256k1 => Kind::Ec(EcKey::from_pkcs8(spec, bytes).map_err(sealed)?),
            KeySpec::EccNistEdwards25519 => Kind::Ed(EdKey::from_pkcs8(bytes).map_err(sealed)?),
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
                Kind::MlDsa(MlDsaKey::from_pkcs8(spec, bytes).map_err(sealed)?)
            }
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
                Kind::Hmac(Box::new(HmacKey::import(spec, bytes).map_err(sealed)?))
            }
        };
        Self::assemble(spec, kind, material.clone())
    }

    /// Customer key material for ImportKeyMaterial.
    ///
    /// Asymmetric specs take an unencrypted DER PKCS#8 `PrivateKeyInfo` (as AWS requires; what
    /// `openssl genpkey` + `openssl pkcs8 -topk8 -nocrypt -outform DER` write), checked to match the
    /// spec (key type, curve, modulus size; ML-DSA keys must carry their seed). HMAC specs take the
    /// raw key, of a length AWS allows (HMAC_224: 28..=64, HMAC_256: 32..=64, HMAC_384: 48..=128,
    /// HMAC_512: 64..=128 bytes). Mistakes are `CryptoError::InvalidInput`.
    ///
    /// The material kept (and returned by `to_material`) is the canonical PKCS#8 re-encoding.
    pub fn import(spec: KeySpec, material: &SecretBytes) -> Result<PrivateKey, CryptoError> {
        let bytes = material.expose();
        if spec.is_hmac() {
            let key = HmacKey::import(spec, bytes)?;
            return Self::assemble(spec, Kind::Hmac(Box::new(key)), material.clone());
        }
        let pkcs8 = der::parse_pkcs8(bytes).ok_or_else(|| {
            CryptoError::InvalidInput(format!(
                "{spec} key material must be an unencrypted DER-encoded PKCS#8 PrivateKeyInfo \
                 (for example from `openssl pkcs8 -topk8 -nocrypt -outform DER`)"
            ))
        })?;
        let found = KeyType::of_pkcs8(&pkcs8);
        if !found.fits(spec) {
            return Err(CryptoError::InvalidInput(format!(
                "the key material is {}; it does not match key spec {spec}",
                found.describe()
            )));
        }
        let (kind, material) = match spec {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let k = RsaKey::import(spec, bytes)?;
                let m = k.to_pkcs8()?;
                (Kind::Rsa(k), m)
            }
            KeySpec::EccNistEdwards25519 => {
                let k = EdKey::from_pkcs8(bytes)?;
                let m = k.to_pkcs8()?;
                (Kind::Ed(k), m)
            }
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => {
                let k = MlDsaKey::from_pkcs8(spec, bytes)?;
                let m = k.to_pkcs8()?;
                (Kind::MlDsa(k), m)
            }
            _ => {
                let k = EcKey::from_pkcs8(spec, bytes)?;
                let m = k.to_pkcs8()?;
                (Kind::Ec(k), m)
            }
        };
        Self::assemble(spec, kind, material)
    }

    fn assemble(
        spec: KeySpec,
        kind: Kind,
        material: SecretBytes,
    ) -> Result<PrivateKey, CryptoError> {
        let public_der = match &kind {
            Kind::Rsa(k) => Some(k.public_key_der()?),
            Kind::Ec(k) => Some(k.public_key_der()?),
            Kind::Ed(k) => Some(k.public_key_der()?),
            Kind::MlDsa(k) => Some(k.public_key_der()?),
            Kind::Hmac(_) => None,
        };
        Ok(PrivateKey {
            spec,
            material,
            kind,
            public: public_der.map(|der| PublicKeyVerifier::trusted(spec, der)),
        })
    }

    /// The bytes to seal at rest: PKCS#8 DER for asymmetric keys, the raw secret for HMAC.
    pub fn to_material(&self) -> SecretBytes {
        self.material.clone()
    }

    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    /// DER SubjectPublicKeyInfo (what KMS GetPublicKey returns); `None` for HMAC.
    pub fn public_key_der(&self) -> Option<Vec<u8>> {
        self.public.as_ref().map(|p| p.der.clone())
    }

    /// Signs `message` (`message_type`: "RAW" | "DIGEST" | "EXTERNAL_MU").
    ///
    /// RAW hashes the message as the algorithm says; DIGEST takes the hash (its length must be the
    /// algorithm's); ED25519_SHA_512 takes RAW only and ED25519_PH_SHA_512 DIGEST only (the 64-byte
    /// SHA-512 digest, which Ed25519ph hashes once more, as KMS does); ML_DSA_SHAKE_256 takes RAW or
    /// EXTERNAL_MU (the 64-byte μ). Anything else is `CryptoError::InvalidInput`.
    pub fn sign(
        &self,
        algorithm: &str,
        message_type: &str,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let (alg, mt) = check_signing_input(self.spec, algorithm, message_type, message)?;
        match (&self.kind, alg, mt) {
            (Kind::Rsa(k), _, _) => k.sign(alg, mt, message),
            (Kind::Ec(k), _, _) => k.sign(alg, mt, message),
            (Kind::Ed(k), SigningAlgorithm::Ed25519Ph, _) => k.sign_prehashed(message),
            (Kind::Ed(k), _, _) => k.sign(message),
            (Kind::MlDsa(k), _, MessageType::ExternalMu) => k.sign_mu(&self.material, message),
            (Kind::MlDsa(k), _, _) => k.sign(message),
            (Kind::Hmac(_), _, _) => Err(CryptoError::Primitive("HMAC signing")),
        }
    }

    /// `Ok(false)` for a signature that does not verify (including malformed signature bytes).
    /// The message type need not be the one used to sign (a RAW-signed message verifies as DIGEST
    /// with its hash).
    pub fn verify(
        &self,
        algorithm: &str,
        message_type: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        match &self.public {
            Some(public) => public.verify(algorithm, message_type, message, signature),
            None => Err(no_signing(self.spec)),
        }
    }

    /// RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256 (MGF1 with the same hash, empty label), within AWS's
    /// plaintext limits (RSA_2048: 214 / 190 bytes; RSA_3072: 342 / 318; RSA_4096: 470 / 446).
    pub fn encrypt(&self, algorithm: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match (&self.kind, &self.public) {
            (Kind::Rsa(_), Some(public)) => {
                let key = aws_lc_rs::rsa::PublicEncryptingKey::from_der(&public.der)
                    .map_err(|_| CryptoError::Primitive("RSA public key"))?;
                rsa::encrypt(self.spec, &key, algorithm, plaintext)
            }
            _ => Err(no_encryption(self.spec)),
        }
    }

    /// `Err(CryptoError::InvalidCiphertext)` for anything that does not decrypt.
    pub fn decrypt(&self, algorithm: &str, ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
        match &self.kind {
            Kind::Rsa(k) => k.decrypt(&self.material, algorithm, ciphertext),
            _ => Err(no_encryption(self.spec)),
        }
    }

    /// HMAC over `message` with the spec's hash (`algorithm` must be the spec's MAC algorithm).
    pub fn mac(&self, algorithm: &str, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        Ok(self.hmac_key(algorithm)?.mac(message))
    }

    /// Constant-time compare; `Ok(false)` when it does not match.
    pub fn verify_mac(
        &self,
        algorithm: &str,
        message: &[u8],
        mac: &[u8],
    ) -> Result<bool, CryptoError> {
        Ok(self.hmac_key(algorithm)?.verify(message, mac))
    }

    fn hmac_key(&self, algorithm: &str) -> Result<&HmacKey, CryptoError> {
        let Kind::Hmac(key) = &self.kind else {
            return Err(CryptoError::InvalidInput(format!(
                "{} keys do not generate or verify MACs; that needs an HMAC key",
                self.spec
            )));
        };
        let expected = self.spec.mac_algorithms();
        if !expected.contains(&algorithm) {
            return Err(CryptoError::InvalidInput(format!(
                "{algorithm} is not the MAC algorithm of {} keys; use {}",
                self.spec,
                expected.join(", ")
            )));
        }
        Ok(key)
    }

    /// ECDH with the peer's DER SubjectPublicKeyInfo (on the same curve): the raw shared secret (the
    /// x coordinate), as KMS DeriveSharedSecret returns it.
    pub fn derive_shared_secret(
        &self,
        peer_public_key_der: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        match &self.kind {
            Kind::Ec(k) => k.derive_shared_secret(&self.material, peer_public_key_der),
            _ => Err(CryptoError::InvalidInput(format!(
                "{} keys do not support key agreement; ECDH needs an ECC_NIST_P256, ECC_NIST_P384 or ECC_NIST_P521 key",
                self.spec
            ))),
        }
    }
}

/// Verifies a signature with a public key given by a caller (DER SubjectPublicKeyInfo of a `spec`
/// key) or taken from a [`PrivateKey`]: the same rules and results as [`PrivateKey::verify`]. A
/// public key that is not of `spec` is `CryptoError::InvalidInput`.
pub fn verify_with_public_key(
    spec: KeySpec,
    public_key_der: &[u8],
    algorithm: &str,
    message_type: &str,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    PublicKeyVerifier::checked(spec, public_key_der)?.verify(
        algorithm,
        message_type,
        message,
        signature,
    )
}

/// RSAES-OAEP encryption to a caller's RSA public key (DER SubjectPublicKeyInfo of a `spec` key),
/// as [`PrivateKey::encrypt`].
pub fn encrypt_with_public_key(
    spec: KeySpec,
    public_key_der: &[u8],
    algorithm: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if !spec.is_rsa() {
        return Err(no_encryption(spec));
    }
    let key = rsa::public_encrypting_key(spec, public_key_der)?;
    rsa::encrypt(spec, &key, algorithm, plaintext)
}

/// A data key pair (GenerateDataKeyPair): (PKCS#8 DER private key, DER SubjectPublicKeyInfo).
/// Specs: RSA_2048/3072/4096, ECC_NIST_P256/P384/P521, ECC_SECG_P256K1, ECC_NIST_EDWARDS25519.
pub fn generate_data_key_pair(spec: KeySpec) -> Result<(SecretBytes, Vec<u8>), CryptoError> {
    if !spec.is_data_key_pair_spec() {
        return Err(CryptoError::InvalidInput(format!(
            "{spec} is not a data key pair spec; use RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, \
             ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1 or ECC_NIST_EDWARDS25519"
        )));
    }
    let key = PrivateKey::generate(spec)?;
    let public = key
        .public_key_der()
        .ok_or(CryptoError::Primitive("data key pair public key"))?;
    Ok((key.to_material(), public))
}

fn no_signing(spec: KeySpec) -> CryptoError {
    CryptoError::InvalidInput(format!(
        "{spec} keys do not sign or verify; that needs an RSA, ECC or ML-DSA key"
    ))
}

fn no_encryption(spec: KeySpec) -> CryptoError {
    CryptoError::InvalidInput(format!(
        "{spec} keys do not encrypt or decrypt; RSAES-OAEP needs an RSA key"
    ))
}

/// Checks the algorithm against the spec and the message against the message type, the way KMS
/// does for Sign and Verify.
fn check_signing_input(
    spec: KeySpec,
    algorithm: &str,
    message_type: &str,
    message: &[u8],
) -> Result<(SigningAlgorithm, MessageType), CryptoError> {
    let allowed = spec.signing_algorithms();
    if allowed.is_empty() {
        return Err(no_signing(spec));
    }
    let alg = SigningAlgorithm::parse(algorithm)
        .filter(|_| allowed.contains(&algorithm))
        .ok_or_else(|| {
            CryptoError::InvalidInput(format!(
                "{algorithm} is not a signing algorithm of {spec} keys; use {}",
                allowed.join(", ")
            ))
        })?;
    let mt = MessageType::parse(message_type).ok_or_else(|| {
        CryptoError::InvalidInput(format!(
            "unknown MessageType {message_type}; use RAW, DIGEST or EXTERNAL_MU"
        ))
    })?;
    let invalid = |msg: String| Err(CryptoError::InvalidInput(msg));
    match (alg, mt) {
        (SigningAlgorithm::Ed25519, MessageType::Raw)
        | (SigningAlgorithm::MlDsa, MessageType::Raw)
        | (SigningAlgorithm::RsaPss(_), MessageType::Raw)
        | (SigningAlgorithm::RsaPkcs1(_), MessageType::Raw)
        | (SigningAlgorithm::Ecdsa(_), MessageType::Raw) => {}
        (SigningAlgorithm::Ed25519, _) => {
            return invalid(format!(
                "ED25519_SHA_512 requires MessageType RAW (for a digest, use ED25519_PH_SHA_512 with MessageType DIGEST); got {message_type}"
            ))
        }
        (SigningAlgorithm::Ed25519Ph, MessageType::Digest) => {
            if message.len() != 64 {
                return invalid(format!(
                    "with MessageType DIGEST, ED25519_PH_SHA_512 takes the 64-byte SHA-512 digest of the message; got {} bytes",
                    message.len()
                ));
            }
        }
        (SigningAlgorithm::Ed25519Ph, _) => {
            return invalid(format!(
                "ED25519_PH_SHA_512 requires MessageType DIGEST (the 64-byte SHA-512 digest of the message); got {message_type}"
            ))
        }
        (SigningAlgorithm::MlDsa, MessageType::ExternalMu) => {
            if message.len() != 64 {
                return invalid(format!(
                    "with MessageType EXTERNAL_MU, the message must be the 64-byte representative mu of FIPS 204 section 6.2; got {} bytes",
                    message.len()
                ));
            }
        }
        (SigningAlgorithm::MlDsa, _) => {
            return invalid(format!(
                "ML_DSA_SHAKE_256 takes MessageType RAW or EXTERNAL_MU; got {message_type}"
            ))
        }
        (_, MessageType::ExternalMu) => {
            return invalid(format!(
                "MessageType EXTERNAL_MU is only for ML-DSA keys; {algorithm} takes RAW or DIGEST"
            ))
        }
        (
            SigningAlgorithm::RsaPss(hash)
            | SigningAlgorithm::RsaPkcs1(hash)
            | SigningAlgorithm::Ecdsa(hash),
            MessageType::Digest,
        ) => {
            if message.len() != hash.len() {
                return invalid(format!(
                    "with MessageType DIGEST, {algorithm} takes the {}-byte {} digest of the message; got {} bytes",
                    hash.len(),
                    hash.name(),
                    message.len()
                ));
            }
        }
    }
    Ok((alg, mt))
}

/// What a PKCS#8 says the key is.
enum KeyType {
    Rsa,
    Ec(Option<KeySpec>),
    Ed25519,
    MlDsa(KeySpec),
    Other,
}

impl KeyType {
    fn of_pkcs8(pkcs8: &der::Pkcs8<'_>) -> KeyType {
        let alg = &pkcs8.algorithm;
        match alg.oid {
            oid::RSA_ENCRYPTION => KeyType::Rsa,
            oid::EC_PUBLIC_KEY => {
                let curve = alg
                    .curve
                    .or_else(|| der::ec_private_key_curve(pkcs8.private_key));
                KeyType::Ec(curve.and_then(ecc::spec_of_curve))
            }
            oid::ED25519 => KeyType::Ed25519,
            oid::ML_DSA_44 => KeyType::MlDsa(KeySpec::MlDsa44),
            oid::ML_DSA_65 => KeyType::MlDsa(KeySpec::MlDsa65),
            oid::ML_DSA_87 => KeyType::MlDsa(KeySpec::MlDsa87),
            _ => KeyType::Other,
        }
    }

    fn fits(&self, spec: KeySpec) -> bool {
        match self {
            KeyType::Rsa => spec.is_rsa(),
            KeyType::Ec(curve) => *curve == Some(spec),
            KeyType::Ed25519 => spec == KeySpec::EccNistEdwards25519,
            KeyType::MlDsa(s) => *s == spec,
            KeyType::Other => false,
        }
    }

    fn describe(&self) -> String {
        match self {
            KeyType::Rsa => "an RSA key".into(),
            KeyType::Ec(Some(curve)) => format!("an elliptic-curve key on {curve}"),
            KeyType::Ec(None) => "an elliptic-curve key on a curve KMS does not support (or with explicit curve parameters)".into(),
            KeyType::Ed25519 => "an Ed25519 key".into(),
            KeyType::MlDsa(s) => format!("an {s} key"),
            KeyType::Other => "a key of an algorithm KMS does not support".into(),
        }
    }
}

/// A public key ready to verify signatures: the DER SubjectPublicKeyInfo, plus the aws-lc-rs parsed
/// key per signing algorithm of the spec, built on first use.
struct PublicKeyVerifier {
    spec: KeySpec,
    der: Vec<u8>,
    /// Indexed like `spec.signing_algorithms()`.
    parsed: Vec<OnceLock<ParsedPublicKey>>,
}

impl PublicKeyVerifier {
    /// For a key m2sec produced itself.
    fn trusted(spec: KeySpec, der: Vec<u8>) -> Self {
        let parsed = spec
            .signing_algorithms()
            .iter()
            .map(|_| OnceLock::new())
            .collect();
        PublicKeyVerifier { spec, der, parsed }
    }

    /// For a key a caller gave: must be a DER SubjectPublicKeyInfo of a `spec` key.
    fn checked(spec: KeySpec, der: &[u8]) -> Result<Self, CryptoError> {
        if spec.is_hmac() {
            return Err(CryptoError::InvalidInput(format!(
                "{spec} keys have no public key"
            )));
        }
        let invalid = || {
            CryptoError::InvalidInput(format!(
                "the public key is not a DER-encoded SubjectPublicKeyInfo of an {spec} key"
            ))
        };
        let spki = der::parse_spki(der).ok_or_else(invalid)?;
        let oid_ok = match spec {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                // Also checks the modulus size.
                rsa::public_encrypting_key(spec, der).map_err(|_| invalid())?;
                spki.algorithm.oid == oid::RSA_ENCRYPTION
            }
            KeySpec::EccNistEdwards25519 => spki.algorithm.oid == oid::ED25519,
            KeySpec::MlDsa44 => spki.algorithm.oid == oid::ML_DSA_44,
            KeySpec::MlDsa65 => spki.algorithm.oid == oid::ML_DSA_65,
            KeySpec::MlDsa87 => spki.algorithm.oid == oid::ML_DSA_87,
            _ => {
                spki.algorithm.oid == oid::EC_PUBLIC_KEY
                    && spki.algorithm.curve.is_some()
                    && spki.algorithm.curve == ecc::curve_oid(spec)
            }
        };
        if !oid_ok {
            return Err(invalid());
        }
        let verifier = Self::trusted(spec, der.to_vec());
        // Parse now (first algorithm) so a bad key is an input error, not a failed verification.
        verifier.parsed_for(0).map_err(|_| invalid())?;
        Ok(verifier)
    }

    /// The subjectPublicKey bits (raw Ed25519 / ML-DSA public key).
    fn raw_key(&self) -> &[u8] {
        der::parse_spki(&self.der)
            .map(|s| s.key)
            .unwrap_or_default()
    }

    fn parsed_for(&self, index: usize) -> Result<&ParsedPublicKey, CryptoError> {
        let slot = self
            .parsed
            .get(index)
            .ok_or(CryptoError::Primitive("verification algorithm"))?;
        if let Some(parsed) = slot.get() {
            return Ok(parsed);
        }
        let name = self.spec.signing_algorithms()[index];
        let alg = SigningAlgorithm::parse(name)
            .ok_or(CryptoError::Primitive("verification algorithm"))?;
        let verification = verification_algorithm(self.spec, alg)
            .ok_or(CryptoError::Primitive("verification algorithm"))?;
        let parsed = ParsedPublicKey::new(verification, &self.der)
            .map_err(|_| CryptoError::Primitive("public key"))?;
        Ok(slot.get_or_init(|| parsed))
    }

    fn verify(
        &self,
        algorithm: &str,
        message_type: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        let (alg, mt) = check_signing_input(self.spec, algorithm, message_type, message)?;
        let index = self
            .spec
            .signing_algorithms()
            .iter()
            .position(|a| *a == algorithm)
            .ok_or(CryptoError::Primitive("verification algorithm"))?;
        Ok(match (alg, mt) {
            (SigningAlgorithm::Ed25519Ph, _) => {
                eddsa::verify_prehashed(self.raw_key(), message, signature)
            }
            (SigningAlgorithm::MlDsa, MessageType::ExternalMu) => {
                mldsa::verify_mu(self.spec, self.raw_key(), message, signature)
            }
            (_, MessageType::Digest) => {
                let digest = import_digest(alg, message)?;
                self.parsed_for(index)?
                    .verify_digest_sig(&digest, signature)
                    .is_ok()
            }
            _ => self
                .parsed_for(index)?
                .verify_sig(message, signature)
                .is_ok(),
        })
    }
}

/// The caller's digest (MessageType DIGEST, length already checked) as an aws-lc-rs `Digest`.
fn import_digest(algorithm: SigningAlgorithm, message: &[u8]) -> Result<Digest, CryptoError> {
    let hash = match algorithm {
        SigningAlgorithm::RsaPss(h)
        | SigningAlgorithm::RsaPkcs1(h)
        | SigningAlgorithm::Ecdsa(h) => h,
        _ => return Err(CryptoError::Primitive("digest import")),
    };
    Digest::import_less_safe(message, hash.digest_algorithm())
        .map_err(|_| CryptoError::Primitive("digest import"))
}

fn verification_algorithm(
    spec: KeySpec,
    alg: SigningAlgorithm,
) -> Option<&'static dyn VerificationAlgorithm> {
    match alg {
        SigningAlgorithm::RsaPss(_) | SigningAlgorithm::RsaPkcs1(_) => {
            rsa::verification_parameters(alg).map(|p| p as &'static dyn VerificationAlgorithm)
        }
        SigningAlgorithm::Ecdsa(_) => {
            ecc::verification_algorithm(spec).map(|p| p as &'static dyn VerificationAlgorithm)
        }
        // Ed25519ph verifies with ed25519-dalek; the parsed key (pure Ed25519) still validates the key.
        SigningAlgorithm::Ed25519 | SigningAlgorithm::Ed25519Ph => Some(&lc_signature::ED25519),
        SigningAlgorithm::MlDsa => {
            mldsa::verification_algorithm(spec).map(|p| p as &'static dyn VerificationAlgorithm)
        }
    }
}
