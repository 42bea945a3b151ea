//! The root and intermediate CAs, and leaf issuance.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use m2sec_crypto::{RootKey, SecretBytes};
use m2sec_store::Store;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::names::{normalize_dns_name, signature_algorithm_name, KeyAlgorithm};
use crate::CaError;

/// The setting that holds the whole CA (certificates and wrapped keys) as one JSON document, so that
/// nodes racing to create it each store a complete, consistent CA.
const SETTING: &str = "ca.authority";
const ROOT_AAD: &[u8] = b"m2sec ca root private key v1";
const INTERMEDIATE_AAD: &[u8] = b"m2sec ca intermediate private key v1";
const ROOT_YEARS: i64 = 10;
const INTERMEDIATE_YEARS: i64 = 5;
/// ACM's validity for the certificates it issues.
pub const DEFAULT_VALIDITY_DAYS: u32 = 198;
/// A leaf may not outlive the intermediate by construction; this caps requests well below that.
const MAX_VALIDITY_DAYS: u32 = 825;

#[derive(Serialize, Deserialize)]
struct StoredCa {
    version: u32,
    root_certificate_pem: String,
    /// base64 of the root key's PKCS#8, wrapped by the root key with [`ROOT_AAD`].
    root_key_wrapped: String,
    intermediate_certificate_pem: String,
    /// base64 of the intermediate key's PKCS#8, wrapped by the root key with [`INTERMEDIATE_AAD`].
    intermediate_key_wrapped: String,
}

/// The CA: signs leaves with the intermediate. Holds the intermediate's private key in memory.
pub struct Ca {
    root_pem: String,
    intermediate_pem: String,
    /// The intermediate as rcgen's issuer (its subject and key identifier, parsed from the stored PEM).
    issuer: rcgen::Certificate,
    issuer_key: KeyPair,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field(
                "intermediate_subject",
                &self.issuer.params().distinguished_name,
            )
            .finish_non_exhaustive()
    }
}

/// What to issue: ACM RequestCertificate's inputs, validated by [`Ca::issue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    /// The certificate's subject CN (when 64 characters or fewer) and first SAN.
    pub domain_name: String,
    /// Further DNS names (wildcards such as `*.api.example.com` allowed); the domain name is added if
    /// missing and duplicates are dropped.
    pub subject_alternative_names: Vec<String>,
    pub key_algorithm: KeyAlgorithm,
    /// Days from `not_before` to `not_after`; [`DEFAULT_VALIDITY_DAYS`] unless asked otherwise.
    pub validity_days: u32,
    /// Start of validity in Unix milliseconds (rounded down to the second); now when `None`.
    pub not_before: Option<i64>,
}

impl IssueRequest {
    /// A request for `domain_name` with ACM's defaults: RSA-2048, 198 days, valid from now.
    pub fn new(domain_name: impl Into<String>) -> Self {
        IssueRequest {
            domain_name: domain_name.into(),
            subject_alternative_names: Vec::new(),
            key_algorithm: KeyAlgorithm::Rsa2048,
            validity_days: DEFAULT_VALIDITY_DAYS,
            not_before: None,
        }
    }
}

/// An issued leaf certificate with its private key.
pub struct Issued {
    /// The leaf, PEM.
    pub certificate_pem: String,
    /// The intermediate then the root, PEM.
    pub chain_pem: String,
    /// The leaf's private key, PKCS#8 DER.
    pub private_key_pkcs8_der: SecretBytes,
    /// Colon-separated lower-case hex, as ACM shows it (`0e:6f:…`).
    pub serial: String,
    /// Unix milliseconds.
    pub not_before: i64,
    /// Unix milliseconds.
    pub not_after: i64,
    /// ACM's name, e.g. `SHA384WITHECDSA`.
    pub signature_algorithm: String,
    /// ACM's name: `RSA-2048`, `EC-prime256v1` or `EC-secp384r1`.
    pub key_algorithm: String,
    /// The DNS names in the certificate, the domain name first.
    pub subject_alternative_names: Vec<String>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("serial", &self.serial)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("signature_algorithm", &self.signature_algorithm)
            .field("key_algorithm", &self.key_algorithm)
            .field("subject_alternative_names", &self.subject_alternative_names)
            .field("private_key_pkcs8_der", &self.private_key_pkcs8_der)
            .finish_non_exhaustive()
    }
}

fn crypto(what: &str) -> impl FnOnce(rcgen::Error) -> CaError + '_ {
    move |e| CaError::Crypto(format!("{what} failed: {e}"))
}

fn corrupt(what: &str) -> CaError {
    CaError::Authority(format!("the stored CA is unusable: {what}"))
}

impl Ca {
    /// Opens the CA, creating the root and intermediate the first time. `subject_prefix` names them
    /// ("`{prefix}` Root CA", "`{prefix}` Intermediate CA"); it only matters on creation.
    ///
    /// Several nodes starting at once may each create a CA; each then re-reads the setting and uses
    /// whichever was stored last (the store has no compare-and-set, so a node that read before the
    /// last write keeps its CA until restarted; both CAs' certificates stay valid).
    pub async fn open_or_create(
        store: &dyn Store,
        root: &RootKey,
        subject_prefix: &str,
    ) -> Result<Ca, CaError> {
        if store.get_setting(SETTING).await?.is_none() {
            let stored = create(root, subject_prefix)?;
            let json = serde_json::to_string(&stored)
                .map_err(|e| CaError::Authority(format!("serializing the new CA: {e}")))?;
            store.put_setting(SETTING, &json).await?;
        }
        Self::open(store, root).await
    }

    /// Opens the stored CA; fails if there is none, or it does not unwrap with this root key, or its keys
    /// do not match its certificates.
    pub async fn open(store: &dyn Store, root: &RootKey) -> Result<Ca, CaError> {
        let json = store
            .get_setting(SETTING)
            .await?
            .ok_or_else(|| CaError::Authority("no CA has been created yet".into()))?;
        let stored: StoredCa =
            serde_json::from_str(&json).map_err(|_| corrupt("the setting is not valid JSON"))?;
        if stored.version != 1 {
            return Err(corrupt("it was written by a newer version of m2sec"));
        }
        // The root key is not needed to issue, but unwrapping it proves the record is whole.
        let root_key = unwrap_key(root, &stored.root_key_wrapped, ROOT_AAD, "root")?;
        check_key_matches(&stored.root_certificate_pem, &root_key, "root")?;
        let issuer_key = unwrap_key(
            root,
            &stored.intermediate_key_wrapped,
            INTERMEDIATE_AAD,
            "intermediate",
        )?;
        check_key_matches(
            &stored.intermediate_certificate_pem,
            &issuer_key,
            "intermediate",
        )?;
        let params = CertificateParams::from_ca_cert_pem(&stored.intermediate_certificate_pem)
            .map_err(|_| corrupt("the intermediate certificate does not parse"))?;
        // rcgen wants the issuer as a Certificate; only its subject and key identifier are used.
        let issuer = params
            .self_signed(&issuer_key)
            .map_err(crypto("loading the intermediate"))?;
        Ok(Ca {
            root_pem: stored.root_certificate_pem,
            intermediate_pem: stored.intermediate_certificate_pem,
            issuer,
            issuer_key,
        })
    }

    /// The root CA certificate, PEM (what clients must trust).
    pub fn root_certificate_pem(&self) -> &str {
        &self.root_pem
    }

    /// The intermediate CA certificate, PEM.
    pub fn intermediate_certificate_pem(&self) -> &str {
        &self.intermediate_pem
    }

    /// The chain a leaf is served with: the intermediate then the root, PEM.
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.intermediate_pem, self.root_pem)
    }

    /// Issues a leaf certificate signed by the intermediate, with a new key pair.
    pub fn issue(&self, request: &IssueRequest) -> Result<Issued, CaError> {
        let domain = normalize_dns_name(&request.domain_name)?;
        let mut names = vec![domain.clone()];
        for san in &request.subject_alternative_names {
            let san = normalize_dns_name(san)?;
            if !names.contains(&san) {
                names.push(san);
            }
        }
        if request.validity_days == 0 || request.validity_days > MAX_VALIDITY_DAYS {
            return Err(CaError::InvalidRequest(format!(
                "the validity must be between 1 and {MAX_VALIDITY_DAYS} days"
            )));
        }
        let not_before_ms = request.not_before.unwrap_or_else(crate::now_ms);
        let not_before = OffsetDateTime::from_unix_timestamp(not_before_ms.div_euclid(1000))
            .map_err(|_| CaError::InvalidRequest("the start of validity is out of range".into()))?;
        let not_after = not_before + Duration::days(i64::from(request.validity_days));
        let issuer_not_after = self.issuer.params().not_after;
        if not_after > issuer_not_after {
            return Err(CaError::InvalidRequest(
                "the certificate would outlive the intermediate CA".into(),
            ));
        }

        let key = KeyPair::generate_for(request.key_algorithm.rcgen_algorithm())
            .map_err(crypto("generating the certificate's key"))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        // X.509 bounds a CN to 64 characters; longer names are in the SAN only (as public CAs do).
        if domain.len() <= 64 {
            dn.push(DnType::CommonName, domain.as_str());
        }
        params.distinguished_name = dn;
        params.subject_alt_names = names
            .iter()
            .map(|n| {
                rcgen::Ia5String::try_from(n.as_str())
                    .map(SanType::DnsName)
                    .map_err(|_| CaError::InvalidRequest(format!("'{n}' is not a valid DNS name")))
            })
            .collect::<Result<_, _>>()?;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if request.key_algorithm == KeyAlgorithm::Rsa2048 {
            params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
        }
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let serial = random_serial();
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        params.not_before = not_before;
        params.not_after = not_after;
        let cert = params
            .signed_by(&key, &self.issuer, &self.issuer_key)
            .map_err(crypto("signing the certificate"))?;

        let (_, parsed) = x509_parser::parse_x509_certificate(cert.der())
            .map_err(|_| CaError::Crypto("the new certificate does not parse".into()))?;
        let signature_algorithm = signature_algorithm_name(&parsed.signature_algorithm.algorithm);
        Ok(Issued {
            certificate_pem: cert.pem(),
            chain_pem: self.chain_pem(),
            private_key_pkcs8_der: SecretBytes::new(key.serialize_der()),
            serial: colon_hex(&serial),
            not_before: not_before.unix_timestamp() * 1000,
            not_after: not_after.unix_timestamp() * 1000,
            signature_algorithm,
            key_algorithm: request.key_algorithm.detail_name().to_string(),
            subject_alternative_names: names,
        })
    }
}

/// 16 random bytes, positive and with a non-zero first byte (so exactly 16 bytes in DER; 126 bits of
/// randomness, above the CA/Browser Forum's 64).
fn random_serial() -> [u8; 16] {
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::fill(&mut serial).expect("system random");
    serial[0] = (serial[0] & 0x7f) | 0x01;
    serial
}

pub(crate) fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn create(root: &RootKey, prefix: &str) -> Result<StoredCa, CaError> {
    let prefix = prefix.trim();
    let prefix = if prefix.is_empty() { "m2sec" } else { prefix };
    let now = OffsetDateTime::from_unix_timestamp(crate::now_ms() / 1000)
        .map_err(|_| CaError::Crypto("the clock is out of range".into()))?;
    // Back-date a little so a node whose clock lags still accepts the CA at once.
    let start = now - Duration::hours(1);

    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
        .map_err(crypto("generating the root CA key"))?;
    let mut params = ca_params(prefix, "Root CA", start, ROOT_YEARS);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_cert = params
        .self_signed(&root_key)
        .map_err(crypto("signing the root CA"))?;

    let intermediate_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)
        .map_err(crypto("generating the intermediate CA key"))?;
    let mut params = ca_params(prefix, "Intermediate CA", start, INTERMEDIATE_YEARS);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.use_authority_key_identifier_extension = true;
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let intermediate_cert = params
        .signed_by(&intermediate_key, &root_cert, &root_key)
        .map_err(crypto("signing the intermediate CA"))?;

    Ok(StoredCa {
        version: 1,
        root_certificate_pem: root_cert.pem(),
        root_key_wrapped: B64.encode(root.wrap(&root_key.serialize_der(), ROOT_AAD)),
        intermediate_certificate_pem: intermediate_cert.pem(),
        intermediate_key_wrapped: B64
            .encode(root.wrap(&intermediate_key.serialize_der(), INTERMEDIATE_AAD)),
    })
}

fn ca_params(prefix: &str, role: &str, start: OffsetDateTime, years: i64) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, prefix);
    dn.push(DnType::CommonName, format!("{prefix} {role}"));
    params.distinguished_name = dn;
    params.not_before = start;
    params.not_after = start + Duration::days(365 * years + years / 4);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.serial_number = Some(SerialNumber::from_slice(&random_serial()));
    params
}

fn unwrap_key(root: &RootKey, wrapped: &str, aad: &[u8], which: &str) -> Result<KeyPair, CaError> {
    let wrapped = B64
        .decode(wrapped)
        .map_err(|_| corrupt(&format!("the wrapped {which} key is not base64")))?;
    let pkcs8 = root.unwrap(&wrapped, aad).map_err(|_| {
        CaError::Authority(format!(
            "the {which} CA key does not unwrap with this root key (another data dir's CA?)"
        ))
    })?;
    let key = KeyPair::try_from(pkcs8.expose())
        .map_err(|_| corrupt(&format!("the {which} key does not parse")))?;
    if key.algorithm() != &rcgen::PKCS_ECDSA_P384_SHA384 {
        return Err(corrupt(&format!("the {which} key is not an EC P-384 key")));
    }
    Ok(key)
}

fn check_key_matches(cert_pem: &str, key: &KeyPair, which: &str) -> Result<(), CaError> {
    let block = pem::parse(cert_pem)
        .map_err(|_| corrupt(&format!("the {which} certificate is not PEM")))?;
    let (_, cert) = x509_parser::parse_x509_certificate(block.contents())
        .map_err(|_| corrupt(&format!("the {which} certificate does not parse")))?;
    if cert.public_key().raw != key.public_key_der().as_slice() {
        return Err(corrupt(&format!(
            "the {which} key does not match its certificate"
        )));
    }
    Ok(())
}
