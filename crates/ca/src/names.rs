//! ACM's names for algorithms, and the rules for the DNS names a certificate may carry.

use x509_parser::oid_registry::{
    Oid, OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_MD5WITHRSAENC, OID_PKCS1_RSAENCRYPTION, OID_PKCS1_RSASSAPSS, OID_PKCS1_SHA1WITHRSA,
    OID_PKCS1_SHA224WITHRSA, OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA,
    OID_PKCS1_SHA512WITHRSA, OID_SIG_ECDSA_WITH_SHA224, OID_SIG_ECDSA_WITH_SHA256,
    OID_SIG_ECDSA_WITH_SHA384, OID_SIG_ECDSA_WITH_SHA512,
};
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::CaError;

/// The key algorithms ACM issues certificates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// `RSA_2048` (ACM's default).
    Rsa2048,
    /// `EC_prime256v1` (P-256).
    EcPrime256v1,
    /// `EC_secp384r1` (P-384).
    EcSecp384r1,
}

impl KeyAlgorithm {
    pub const ALL: [KeyAlgorithm; 3] = [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::EcPrime256v1,
        KeyAlgorithm::EcSecp384r1,
    ];

    /// The name in ACM's requests (`KeyAlgorithm` of RequestCertificate): `RSA_2048`, `EC_prime256v1`,
    /// `EC_secp384r1`.
    pub fn request_name(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "RSA_2048",
            KeyAlgorithm::EcPrime256v1 => "EC_prime256v1",
            KeyAlgorithm::EcSecp384r1 => "EC_secp384r1",
        }
    }

    /// The name in ACM's certificate details (`KeyAlgorithm` of DescribeCertificate): `RSA-2048`,
    /// `EC-prime256v1`, `EC-secp384r1`.
    pub fn detail_name(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "RSA-2048",
            KeyAlgorithm::EcPrime256v1 => "EC-prime256v1",
            KeyAlgorithm::EcSecp384r1 => "EC-secp384r1",
        }
    }

    /// Parses either spelling (`RSA_2048` or `RSA-2048`).
    pub fn from_name(name: &str) -> Option<KeyAlgorithm> {
        Self::ALL
            .into_iter()
            .find(|k| k.request_name() == name || k.detail_name() == name)
    }

    pub(crate) fn rcgen_algorithm(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            KeyAlgorithm::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
            KeyAlgorithm::EcPrime256v1 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlgorithm::EcSecp384r1 => &rcgen::PKCS_ECDSA_P384_SHA384,
        }
    }
}

/// ACM's name for a certificate's signature algorithm (`SHA256WITHRSA`, `SHA384WITHECDSA`, …); the
/// dotted OID for anything else.
pub(crate) fn signature_algorithm_name(oid: &Oid<'_>) -> String {
    let known: [(&Oid<'_>, &str); 11] = [
        (&OID_PKCS1_SHA256WITHRSA, "SHA256WITHRSA"),
        (&OID_PKCS1_SHA384WITHRSA, "SHA384WITHRSA"),
        (&OID_PKCS1_SHA512WITHRSA, "SHA512WITHRSA"),
        (&OID_PKCS1_SHA224WITHRSA, "SHA224WITHRSA"),
        (&OID_PKCS1_SHA1WITHRSA, "SHA1WITHRSA"),
        (&OID_PKCS1_MD5WITHRSAENC, "MD5WITHRSA"),
        (&OID_PKCS1_RSASSAPSS, "RSASSAPSS"),
        (&OID_SIG_ECDSA_WITH_SHA256, "SHA256WITHECDSA"),
        (&OID_SIG_ECDSA_WITH_SHA384, "SHA384WITHECDSA"),
        (&OID_SIG_ECDSA_WITH_SHA512, "SHA512WITHECDSA"),
        (&OID_SIG_ECDSA_WITH_SHA224, "SHA224WITHECDSA"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == oid)
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| oid.to_id_string())
}

/// The public key's family, as far as ACM import cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PublicKeyKind {
    Rsa { bits: usize },
    EcP256,
    EcP384,
    EcP521,
}

impl PublicKeyKind {
    /// ACM's name: `RSA-2048`, `EC-prime256v1`, `EC-secp384r1`, `EC-secp521r1`.
    pub(crate) fn detail_name(self) -> String {
        match self {
            PublicKeyKind::Rsa { bits } => format!("RSA-{bits}"),
            PublicKeyKind::EcP256 => "EC-prime256v1".into(),
            PublicKeyKind::EcP384 => "EC-secp384r1".into(),
            PublicKeyKind::EcP521 => "EC-secp521r1".into(),
        }
    }
}

/// Which key a certificate's SubjectPublicKeyInfo holds; refuses what ACM cannot import.
pub(crate) fn public_key_kind(spki: &SubjectPublicKeyInfo<'_>) -> Result<PublicKeyKind, CaError> {
    let alg = &spki.algorithm.algorithm;
    if *alg == OID_PKCS1_RSAENCRYPTION {
        let bits = match spki.parsed() {
            Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => rsa.key_size(),
            _ => {
                return Err(CaError::InvalidInput(
                    "The certificate's RSA public key is malformed".into(),
                ))
            }
        };
        return match bits {
            1024 | 2048 | 3072 | 4096 => Ok(PublicKeyKind::Rsa { bits }),
            _ => Err(CaError::InvalidInput(format!(
                "The certificate's key algorithm (RSA-{bits}) is not supported; use RSA 1024, 2048, \
                 3072 or 4096, or EC P-256, P-384 or P-521"
            ))),
        };
    }
    if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        return match curve {
            Some(c) if c == OID_EC_P256 => Ok(PublicKeyKind::EcP256),
            Some(c) if c == OID_NIST_EC_P384 => Ok(PublicKeyKind::EcP384),
            Some(c) if c == OID_NIST_EC_P521 => Ok(PublicKeyKind::EcP521),
            _ => Err(CaError::InvalidInput(
                "The certificate's elliptic curve is not supported; use P-256, P-384 or P-521"
                    .into(),
            )),
        };
    }
    Err(CaError::InvalidInput(format!(
        "The certificate's key algorithm ({}) is not supported; use RSA or EC P-256, P-384 or P-521",
        alg.to_id_string()
    )))
}

/// Validates and normalizes (lower-case, no trailing dot) a DNS name for a certificate. A wildcard is
/// allowed only as the whole leftmost label (`*.example.com`), and not directly on a top-level domain.
pub(crate) fn normalize_dns_name(name: &str) -> Result<String, CaError> {
    let bad = |why: &str| {
        CaError::InvalidRequest(format!(
            "'{}' is not a valid domain name: {why}",
            printable(name)
        ))
    };
    let trimmed = name.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    if trimmed.len() > 253 {
        return Err(bad("it is longer than 253 characters"));
    }
    let lower = trimmed.to_ascii_lowercase();
    let labels: Vec<&str> = lower.split('.').collect();
    if labels.len() < 2 {
        return Err(bad("it needs at least two labels (like example.com)"));
    }
    for (i, label) in labels.iter().enumerate() {
        if *label == "*" {
            if i != 0 {
                return Err(bad("a wildcard (*) may only be the leftmost label"));
            }
            if labels.len() < 3 {
                return Err(bad(
                    "a wildcard needs a domain under it (like *.example.com)",
                ));
            }
            continue;
        }
        if label.is_empty() {
            return Err(bad("it has an empty label"));
        }
        if label.len() > 63 {
            return Err(bad("a label is longer than 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(
                "labels may hold only letters, digits and hyphens (use punycode for others)",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label may not start or end with a hyphen"));
        }
    }
    Ok(lower)
}

/// A name as it may appear in an error: printable ASCII only, at most 80 characters.
fn printable(name: &str) -> String {
    name.chars()
        .take(80)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_checked_and_lowercased() {
        assert_eq!(normalize_dns_name("Example.COM.").unwrap(), "example.com");
        assert_eq!(
            normalize_dns_name("*.api.fanops.com").unwrap(),
            "*.api.fanops.com"
        );
        for bad in [
            "",
            "com",
            "*.com",
            "a.*.example.com",
            "*foo.example.com",
            "exa mple.com",
            "-a.example.com",
            "a..example.com",
            "ex\u{e9}mple.com",
        ] {
            let err = normalize_dns_name(bad).unwrap_err();
            assert!(
                matches!(err, CaError::InvalidRequest(_)),
                "{bad:?} gave {err:?}"
            );
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(normalize_dns_name(&long).is_err());
    }

    #[test]
    fn key_algorithm_names_round_trip() {
        for k in KeyAlgorithm::ALL {
            assert_eq!(KeyAlgorithm::from_name(k.request_name()), Some(k));
            assert_eq!(KeyAlgorithm::from_name(k.detail_name()), Some(k));
        }
        assert_eq!(KeyAlgorithm::from_name("RSA_4096"), None);
        assert_eq!(KeyAlgorithm::Rsa2048.detail_name(), "RSA-2048");
    }
}
