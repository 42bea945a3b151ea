//! Checks for ACM's ImportCertificate: the certificate parses and is current, the private key matches
//! it, and the chain parses.

use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair as _, RsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING,
    ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::{OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION};
use x509_parser::x509::X509Name;

use crate::names::{public_key_kind, signature_algorithm_name, PublicKeyKind};
use crate::CaError;

/// What ImportCertificate records about an imported certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The subject CN, or the first DNS SAN when there is no CN.
    pub domain_name: String,
    /// The DNS names of the SAN extension (the CN alone when there is none).
    pub subject_alternative_names: Vec<String>,
    /// Colon-separated lower-case hex.
    pub serial: String,
    /// Unix milliseconds.
    pub not_before: i64,
    /// Unix milliseconds.
    pub not_after: i64,
    /// ACM's name: `RSA-2048`, `EC-prime256v1`, …
    pub key_algorithm: String,
    /// ACM's name: `SHA256WITHRSA`, …
    pub signature_algorithm: String,
    /// `C=US,O=Example,CN=Example CA`, in the certificate's order.
    pub issuer: String,
    pub subject: String,
    /// The certificate's DER.
    pub certificate_der: Vec<u8>,
    /// How many certificates the chain holds (0 without one).
    pub chain_length: usize,
}

fn invalid(message: impl Into<String>) -> CaError {
    CaError::InvalidInput(message.into())
}

/// Checks an ImportCertificate request's certificate, private key (unencrypted PEM: PKCS#8
/// `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY`) and optional chain (PEM
/// certificates), and describes the certificate.
pub fn inspect_import(
    certificate_pem: &[u8],
    private_key_pem: &[u8],
    chain_pem: Option<&[u8]>,
) -> Result<Imported, CaError> {
    let blocks = pem::parse_many(certificate_pem)
        .map_err(|_| invalid("The certificate is not in a valid PEM format"))?;
    let certs: Vec<_> = blocks.iter().filter(|b| b.tag() == "CERTIFICATE").collect();
    if certs.is_empty() {
        return Err(invalid(
            "The certificate is not in a valid PEM format (no BEGIN CERTIFICATE block)",
        ));
    }
    if certs.len() > 1 {
        return Err(invalid(
            "The certificate field holds more than one certificate; put the others in the chain",
        ));
    }
    let der = certs[0].contents();
    let cert = parse_cert(der, "The certificate")?;

    let now_s = crate::now_ms() / 1000;
    let validity = cert.validity();
    let not_before = validity.not_before.timestamp();
    let not_after = validity.not_after.timestamp();
    if not_after < now_s {
        return Err(invalid(format!(
            "The certificate has expired (it was valid until {})",
            validity.not_after
        )));
    }
    if not_before > now_s {
        return Err(invalid(format!(
            "The certificate is not valid yet (it is valid from {})",
            validity.not_before
        )));
    }
    let kind = public_key_kind(cert.public_key())?;
    check_private_key(&cert, kind, private_key_pem)?;

    let chain_length = match chain_pem {
        None => 0,
        Some(chain) => check_chain(&cert, chain)?,
    };

    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            if let GeneralName::DNSName(dns) = name {
                if !sans.iter().any(|s: &String| s == dns) {
                    sans.push((*dns).to_string());
                }
            }
        }
    } else if cert.subject_alternative_name().is_err() {
        return Err(invalid(
            "The certificate's subject alternative name extension is malformed",
        ));
    }
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    let domain_name = match (cn, sans.first()) {
        (Some(cn), _) => cn,
        (None, Some(first)) => first.clone(),
        (None, None) => return Err(invalid(
            "The certificate names no domain (no subject CN and no DNS subject alternative name)",
        )),
    };
    if sans.is_empty() {
        sans.push(domain_name.clone());
    }

    Ok(Imported {
        domain_name,
        subject_alternative_names: sans,
        serial: cert.raw_serial_as_string().to_ascii_lowercase(),
        not_before: not_before * 1000,
        not_after: not_after * 1000,
        key_algorithm: kind.detail_name(),
        signature_algorithm: signature_algorithm_name(&cert.signature_algorithm.algorithm),
        issuer: name_string(cert.issuer()),
        subject: name_string(cert.subject()),
        certificate_der: der.to_vec(),
        chain_length,
    })
}

fn parse_cert<'a>(der: &'a [u8], what: &str) -> Result<X509Certificate<'a>, CaError> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], cert)) => Ok(cert),
        _ => Err(invalid(format!(
            "{what} is malformed (not a valid X.509 certificate)"
        ))),
    }
}

/// `C=US,O=Example,CN=Example CA`.
fn name_string(name: &X509Name<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    let mut parts = Vec::new();
    for rdn in name.iter() {
        for attr in rdn.iter() {
            let key = x509_parser::objects::oid2abbrev(attr.attr_type(), registry)
                .map(str::to_string)
                .unwrap_or_else(|_| attr.attr_type().to_id_string());
            let value = attr.as_str().unwrap_or("#non-text");
            parts.push(format!("{key}={value}"));
        }
    }
    parts.join(",")
}

const KEY_MISMATCH: &str = "The certificate's public key does not match the private key";

/// Loads the private key with aws-lc-rs and compares its public half with the certificate's.
fn check_private_key(
    cert: &X509Certificate<'_>,
    kind: PublicKeyKind,
    private_key_pem: &[u8],
) -> Result<(), CaError> {
    let blocks = pem::parse_many(private_key_pem)
        .map_err(|_| invalid("The private key is not in a valid PEM format"))?;
    let mut keys = blocks.iter().filter(|b| b.tag() != "EC PARAMETERS");
    let block = keys
        .next()
        .ok_or_else(|| invalid("The private key is not in a valid PEM format"))?;
    if keys.next().is_some() {
        return Err(invalid(
            "The private key field holds more than one PEM block",
        ));
    }
    let cert_public = cert.public_key().subject_public_key.data.as_ref();
    let unsupported = || {
        invalid("The private key is not supported (use an unencrypted RSA 2048-4096 or EC P-256/P-384/P-521 key in PEM: PKCS#8, PKCS#1 or SEC1)")
    };
    let public: Vec<u8> = match block.tag() {
        "ENCRYPTED PRIVATE KEY" => {
            return Err(invalid(
                "The private key is encrypted; import needs it unencrypted",
            ))
        }
        "PRIVATE KEY" => {
            let info = pkcs8::PrivateKeyInfo::try_from(block.contents())
                .map_err(|_| invalid("The private key is malformed (not PKCS#8)"))?;
            let is_rsa = info.algorithm.oid.as_bytes() == OID_PKCS1_RSAENCRYPTION.as_bytes();
            let is_ec = info.algorithm.oid.as_bytes() == OID_KEY_TYPE_EC_PUBLIC_KEY.as_bytes();
            match kind {
                PublicKeyKind::Rsa { .. } if is_rsa => RsaKeyPair::from_pkcs8(block.contents())
                    .map_err(|_| unsupported())?
                    .public_key()
                    .as_ref()
                    .to_vec(),
                PublicKeyKind::Rsa { .. } if is_ec => return Err(invalid(KEY_MISMATCH)),
                _ if is_ec => EcdsaKeyPair::from_pkcs8(ec_alg(kind), block.contents())
                    .map_err(|_| invalid(KEY_MISMATCH))?
                    .public_key()
                    .as_ref()
                    .to_vec(),
                _ if is_rsa => return Err(invalid(KEY_MISMATCH)),
                _ => return Err(unsupported()),
            }
        }
        "RSA PRIVATE KEY" => match kind {
            PublicKeyKind::Rsa { .. } => RsaKeyPair::from_der(block.contents())
                .map_err(|_| unsupported())?
                .public_key()
                .as_ref()
                .to_vec(),
            _ => return Err(invalid(KEY_MISMATCH)),
        },
        "EC PRIVATE KEY" => match kind {
            PublicKeyKind::Rsa { .. } => return Err(invalid(KEY_MISMATCH)),
            _ => EcdsaKeyPair::from_private_key_der(ec_alg(kind), block.contents())
                .map_err(|_| invalid(KEY_MISMATCH))?
                .public_key()
                .as_ref()
                .to_vec(),
        },
        _ => return Err(unsupported()),
    };
    if public != cert_public {
        return Err(invalid(KEY_MISMATCH));
    }
    Ok(())
}

fn ec_alg(kind: PublicKeyKind) -> &'static EcdsaSigningAlgorithm {
    match kind {
        PublicKeyKind::EcP384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
        PublicKeyKind::EcP521 => &ECDSA_P521_SHA512_ASN1_SIGNING,
        _ => &ECDSA_P256_SHA256_ASN1_SIGNING,
    }
}

/// The chain must be PEM certificates that parse; the first must be the certificate's issuer, and
/// each the issuer of the one before (by name).
fn check_chain(cert: &X509Certificate<'_>, chain_pem: &[u8]) -> Result<usize, CaError> {
    let blocks = pem::parse_many(chain_pem)
        .map_err(|_| invalid("The certificate chain is not in a valid PEM format"))?;
    if blocks.is_empty() || blocks.iter().any(|b| b.tag() != "CERTIFICATE") {
        return Err(invalid(
            "The certificate chain is not in a valid PEM format (it must hold only BEGIN CERTIFICATE blocks)",
        ));
    }
    let mut previous_issuer = cert.issuer().as_raw().to_vec();
    for (i, block) in blocks.iter().enumerate() {
        let link = parse_cert(
            block.contents(),
            &format!("Certificate {} of the chain", i + 1),
        )?;
        if link.subject().as_raw() != previous_issuer.as_slice() {
            return Err(invalid(format!(
                "The certificate chain is out of order: certificate {} ({}) is not the issuer of the certificate before it",
                i + 1,
                name_string(link.subject())
            )));
        }
        previous_issuer = link.issuer().as_raw().to_vec();
    }
    Ok(blocks.len())
}
