//! AWS KMS key specs other than `SYMMETRIC_DEFAULT` (and `SM2`, which m2sec refuses), with the
//! usages and algorithms AWS allows for each, and the parsed forms of the algorithm names.

/// An AWS KMS key spec other than SYMMETRIC_DEFAULT and SM2 (which m2sec refuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySpec {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EccNistP256,
    EccNistP384,
    EccNistP521,
    EccSecgP256k1,
    EccNistEdwards25519,
    Hmac224,
    Hmac256,
    Hmac384,
    Hmac512,
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

const RSA_USAGES: &[&str] = &["ENCRYPT_DECRYPT", "SIGN_VERIFY"];
const NIST_EC_USAGES: &[&str] = &["SIGN_VERIFY", "KEY_AGREEMENT"];
const SIGN_ONLY: &[&str] = &["SIGN_VERIFY"];
const MAC_USAGES: &[&str] = &["GENERATE_VERIFY_MAC"];

const RSA_ENCRYPTION: &[&str] = &["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"];
const RSA_SIGNING: &[&str] = &[
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
];

impl KeySpec {
    /// Every spec, in the order of the KMS model's `KeySpec` enum.
    pub const ALL: [KeySpec; 15] = [
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
        KeySpec::EccSecgP256k1,
        KeySpec::Hmac224,
        KeySpec::Hmac256,
        KeySpec::Hmac384,
        KeySpec::Hmac512,
        KeySpec::MlDsa44,
        KeySpec::MlDsa65,
        KeySpec::MlDsa87,
        KeySpec::EccNistEdwards25519,
    ];

    /// "RSA_2048", "ECC_NIST_P256", "HMAC_256", "ML_DSA_65", "ECC_NIST_EDWARDS25519" ...
    pub fn parse(aws_name: &str) -> Option<KeySpec> {
        KeySpec::ALL.into_iter().find(|s| s.name() == aws_name)
    }

    /// The AWS name.
    pub fn name(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 => "RSA_2048",
            KeySpec::Rsa3072 => "RSA_3072",
            KeySpec::Rsa4096 => "RSA_4096",
            KeySpec::EccNistP256 => "ECC_NIST_P256",
            KeySpec::EccNistP384 => "ECC_NIST_P384",
            KeySpec::EccNistP521 => "ECC_NIST_P521",
            KeySpec::EccSecgP256k1 => "ECC_SECG_P256K1",
            KeySpec::EccNistEdwards25519 => "ECC_NIST_EDWARDS25519",
            KeySpec::Hmac224 => "HMAC_224",
            KeySpec::Hmac256 => "HMAC_256",
            KeySpec::Hmac384 => "HMAC_384",
            KeySpec::Hmac512 => "HMAC_512",
            KeySpec::MlDsa44 => "ML_DSA_44",
            KeySpec::MlDsa65 => "ML_DSA_65",
            KeySpec::MlDsa87 => "ML_DSA_87",
        }
    }

    /// The KeyUsage values AWS allows for this spec (no default: the KMS layer handles that).
    pub fn usages(self) -> &'static [&'static str] {
        match self {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => RSA_USAGES,
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 => NIST_EC_USAGES,
            KeySpec::EccSecgP256k1
            | KeySpec::EccNistEdwards25519
            | KeySpec::MlDsa44
            | KeySpec::MlDsa65
            | KeySpec::MlDsa87 => SIGN_ONLY,
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => MAC_USAGES,
        }
    }

    /// RSA: `RSAES_OAEP_SHA_1`, `RSAES_OAEP_SHA_256`; every other spec: none.
    pub fn encryption_algorithms(self) -> &'static [&'static str] {
        if self.is_rsa() {
            RSA_ENCRYPTION
        } else {
            &[]
        }
    }

    /// The signing algorithms of this spec, in the KMS model's order.
    pub fn signing_algorithms(self) -> &'static [&'static str] {
        match self {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => RSA_SIGNING,
            KeySpec::EccNistP256 | KeySpec::EccSecgP256k1 => &["ECDSA_SHA_256"],
            KeySpec::EccNistP384 => &["ECDSA_SHA_384"],
            KeySpec::EccNistP521 => &["ECDSA_SHA_512"],
            KeySpec::EccNistEdwards25519 => &["ED25519_SHA_512", "ED25519_PH_SHA_512"],
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => &["ML_DSA_SHAKE_256"],
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => &[],
        }
    }

    /// `HMAC_224` -> `HMAC_SHA_224` ...; none for other specs.
    pub fn mac_algorithms(self) -> &'static [&'static str] {
        match self {
            KeySpec::Hmac224 => &["HMAC_SHA_224"],
            KeySpec::Hmac256 => &["HMAC_SHA_256"],
            KeySpec::Hmac384 => &["HMAC_SHA_384"],
            KeySpec::Hmac512 => &["HMAC_SHA_512"],
            _ => &[],
        }
    }

    /// ECC NIST P-256/P-384/P-521: `ECDH`; none for other specs.
    pub fn key_agreement_algorithms(self) -> &'static [&'static str] {
        match self {
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 => &["ECDH"],
            _ => &[],
        }
    }

    pub fn is_rsa(self) -> bool {
        matches!(self, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
    }

    pub fn is_hmac(self) -> bool {
        matches!(
            self,
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512
        )
    }

    pub fn is_ml_dsa(self) -> bool {
        matches!(self, KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87)
    }

    /// Whether GenerateDataKeyPair accepts this spec (RSA, the ECC curves, Ed25519; not HMAC or
    /// ML-DSA). `KeyPairSpec` values have the same names as these key specs.
    pub fn is_data_key_pair_spec(self) -> bool {
        !self.is_hmac() && !self.is_ml_dsa()
    }

    /// RSA modulus size in bits.
    pub(crate) fn rsa_bits(self) -> Option<usize> {
        match self {
            KeySpec::Rsa2048 => Some(2048),
            KeySpec::Rsa3072 => Some(3072),
            KeySpec::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    /// The HMAC key lengths (bytes) AWS accepts for imported material of this spec; generated keys
    /// have the lower bound (the hash length).
    pub fn hmac_key_lengths(self) -> Option<std::ops::RangeInclusive<usize>> {
        match self {
            KeySpec::Hmac224 => Some(28..=64),
            KeySpec::Hmac256 => Some(32..=64),
            KeySpec::Hmac384 => Some(48..=128),
            KeySpec::Hmac512 => Some(64..=128),
            _ => None,
        }
    }

    /// The largest RSAES-OAEP plaintext AWS accepts for this spec and algorithm.
    pub fn max_plaintext_len(self, encryption_algorithm: &str) -> Option<usize> {
        let bytes = self.rsa_bits()? / 8;
        let hash_len = match encryption_algorithm {
            "RSAES_OAEP_SHA_1" => 20,
            "RSAES_OAEP_SHA_256" => 32,
            _ => return None,
        };
        Some(bytes - 2 * hash_len - 2)
    }
}

impl std::fmt::Display for KeySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A hash of the SHA-2 family, as named by the algorithm suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(crate) fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        }
    }

    pub(crate) fn digest_algorithm(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            Hash::Sha256 => &aws_lc_rs::digest::SHA256,
            Hash::Sha384 => &aws_lc_rs::digest::SHA384,
            Hash::Sha512 => &aws_lc_rs::digest::SHA512,
        }
    }
}

/// A `SigningAlgorithmSpec` m2sec implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigningAlgorithm {
    RsaPss(Hash),
    RsaPkcs1(Hash),
    Ecdsa(Hash),
    Ed25519,
    Ed25519Ph,
    MlDsa,
}

impl SigningAlgorithm {
    pub(crate) fn parse(name: &str) -> Option<SigningAlgorithm> {
        use Hash::*;
        use SigningAlgorithm::*;
        Some(match name {
            "RSASSA_PSS_SHA_256" => RsaPss(Sha256),
            "RSASSA_PSS_SHA_384" => RsaPss(Sha384),
            "RSASSA_PSS_SHA_512" => RsaPss(Sha512),
            "RSASSA_PKCS1_V1_5_SHA_256" => RsaPkcs1(Sha256),
            "RSASSA_PKCS1_V1_5_SHA_384" => RsaPkcs1(Sha384),
            "RSASSA_PKCS1_V1_5_SHA_512" => RsaPkcs1(Sha512),
            "ECDSA_SHA_256" => Ecdsa(Sha256),
            "ECDSA_SHA_384" => Ecdsa(Sha384),
            "ECDSA_SHA_512" => Ecdsa(Sha512),
            "ED25519_SHA_512" => Ed25519,
            "ED25519_PH_SHA_512" => Ed25519Ph,
            "ML_DSA_SHAKE_256" => MlDsa,
            _ => return None,
        })
    }
}

/// The KMS `MessageType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageType {
    Raw,
    Digest,
    ExternalMu,
}

impl MessageType {
    pub(crate) fn parse(name: &str) -> Option<MessageType> {
        match name {
            "RAW" => Some(MessageType::Raw),
            "DIGEST" => Some(MessageType::Digest),
            "EXTERNAL_MU" => Some(MessageType::ExternalMu),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_specs_are_refused() {
        for spec in KeySpec::ALL {
            assert_eq!(KeySpec::parse(spec.name()), Some(spec));
            assert!(!spec.usages().is_empty());
        }
        for refused in ["SYMMETRIC_DEFAULT", "SM2", "rsa_2048", "", "ECC_NIST_P224"] {
            assert_eq!(KeySpec::parse(refused), None, "{refused}");
        }
    }

    #[test]
    fn tables_follow_aws() {
        assert_eq!(
            KeySpec::Rsa3072.usages(),
            ["ENCRYPT_DECRYPT", "SIGN_VERIFY"]
        );
        assert_eq!(
            KeySpec::EccNistP384.usages(),
            ["SIGN_VERIFY", "KEY_AGREEMENT"]
        );
        assert_eq!(KeySpec::EccSecgP256k1.usages(), ["SIGN_VERIFY"]);
        assert_eq!(KeySpec::Hmac384.usages(), ["GENERATE_VERIFY_MAC"]);
        assert_eq!(
            KeySpec::EccSecgP256k1.signing_algorithms(),
            ["ECDSA_SHA_256"]
        );
        assert_eq!(KeySpec::EccNistP521.signing_algorithms(), ["ECDSA_SHA_512"]);
        assert_eq!(KeySpec::Hmac224.mac_algorithms(), ["HMAC_SHA_224"]);
        assert!(KeySpec::EccSecgP256k1.key_agreement_algorithms().is_empty());
        assert_eq!(KeySpec::EccNistP521.key_agreement_algorithms(), ["ECDH"]);
        assert!(KeySpec::MlDsa65.encryption_algorithms().is_empty());
        for spec in KeySpec::ALL {
            for alg in spec.signing_algorithms() {
                assert!(SigningAlgorithm::parse(alg).is_some(), "{alg}");
            }
        }
        // AWS's documented RSAES-OAEP plaintext limits.
        let limits = [
            (KeySpec::Rsa2048, 214, 190),
            (KeySpec::Rsa3072, 342, 318),
            (KeySpec::Rsa4096, 470, 446),
        ];
        for (spec, sha1, sha256) in limits {
            assert_eq!(spec.max_plaintext_len("RSAES_OAEP_SHA_1"), Some(sha1));
            assert_eq!(spec.max_plaintext_len("RSAES_OAEP_SHA_256"), Some(sha256));
        }
    }
}
