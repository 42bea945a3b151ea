//! The root and intermediate CAs, and leaf issuance. As in ACM, each key family has its own
//! intermediate: RSA leaves are signed by an RSA-2048 intermediate (SHA256WITHRSA), EC leaves by an EC
//! P-384 one (SHA384WITHECDSA); both are signed by the one root.

use m2sec_crypto::{CryptoError, RootKey, SecretBytes};
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
const RSA_INTERMEDIATE_AAD: &[u8] = b"m2sec ca rsa intermediate private key v1";
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
    /// The RSA-2048 intermediate that signs RSA leaves. CAs created before it existed lack it until
    /// they are next opened, which adds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rsa_intermediate_certificate_pem: Option<String>,
    /// base64 of its PKCS#8, wrapped by the root key with [`RSA_INTERMEDIATE_AAD`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rsa_intermediate_key_wrapped: Option<String>,
}

/// An intermediate CA able to sign: its certificate, and its key in memory.
struct Issuer {
    pem: String,
    /// The intermediate as rcgen's issuer (its subject and key identifier, parsed from the stored PEM).
    certificate: rcgen::Certificate,
    /// rcgen's key pair: its own copy of the key, not zeroized on drop (see [`unwrap_key`]).
    key: KeyPair,
}

/// The CA: signs leaves with the intermediate of their key family. Holds the intermediates' private
/// keys in memory.
pub struct Ca {
    root_pem: String,
    /// Signs EC leaves.
    ec: Issuer,
    /// Signs RSA leaves.
    rsa: Issuer,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field(
                "intermediate_subject",
                &self.ec.certificate.params().distinguished_name,
            )
            .field(
                "rsa_intermediate_subject",
                &self.rsa.certificate.params().distinguished_name,
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
    /// The intermediate that signed it (RSA or EC, as the leaf's key) then the root, PEM.
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
    /// Opens the CA, creating the root and intermediates the first time. `subject_prefix` names them
    /// ("`{prefix}` Root CA", "`{prefix}` Intermediate CA", "`{prefix}` RSA Intermediate CA"); it only
    /// matters on creation.
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
            store.put_setting(SETTING, &to_json(&stored)?).await?;
        }
        Self::open(store, root).await
    }

    /// Opens the stored CA; fails if there is none, or it does not unwrap with this root key, or its keys
    /// do not match its certificates. A CA stored before RSA leaves had an intermediate of their own
    /// gets one now: an RSA-2048 intermediate signed by the root, its key sealed like the others, stored
    /// before this returns (nodes doing this at once each store one; the last stored is kept, and the
    /// others' certificates stay valid under the same root).
    pub async fn open(store: &dyn Store, root: &RootKey) -> Result<Ca, CaError> {
        let mut stored = read(store).await?;
        if stored.rsa_intermediate_certificate_pem.is_none()
            || stored.rsa_intermediate_key_wrapped.is_none()
        {
            let (pem, wrapped) = add_rsa_intermediate(root, &stored)?;
            stored.rsa_intermediate_certificate_pem = Some(pem);
            stored.rsa_intermediate_key_wrapped = Some(wrapped);
            store.put_setting(SETTING, &to_json(&stored)?).await?;
            stored = read(store).await?;
        }
        // The root key is not needed to issue, but unwrapping it proves the record is whole.
        let root_key = unwrap_key(
            root,
            &stored.root_key_wrapped,
            ROOT_AAD,
            "root",
            &rcgen::PKCS_ECDSA_P384_SHA384,
        )?;
        check_key_matches(&stored.root_certificate_pem, &root_key, "root")?;
        let ec = issuer(
            root,
            &stored.intermediate_certificate_pem,
            &stored.intermediate_key_wrapped,
            INTERMEDIATE_AAD,
            "intermediate",
            &rcgen::PKCS_ECDSA_P384_SHA384,
        )?;
        let rsa = issuer(
            root,
            stored
                .rsa_intermediate_certificate_pem
                .as_deref()
                .ok_or_else(|| corrupt("the RSA intermediate is missing"))?,
            stored
                .rsa_intermediate_key_wrapped
                .as_deref()
                .ok_or_else(|| corrupt("the RSA intermediate key is missing"))?,
            RSA_INTERMEDIATE_AAD,
            "RSA intermediate",
            &rcgen::PKCS_RSA_SHA256,
        )?;
        Ok(Ca {
            root_pem: stored.root_certificate_pem,
            ec,
            rsa,
        })
    }

    /// The root CA certificate, PEM (what clients must trust).
    pub fn root_certificate_pem(&self) -> &str {
        &self.root_pem
    }

    /// The EC intermediate CA certificate (it signs EC leaves), PEM.
    pub fn intermediate_certificate_pem(&self) -> &str {
        &self.ec.pem
    }

    /// The RSA intermediate CA certificate (it signs RSA leaves), PEM.
    pub fn rsa_intermediate_certificate_pem(&self) -> &str {
        &self.rsa.pem
    }

    /// The chain an EC leaf is served with: the EC intermediate then the root, PEM.
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.ec.pem, self.root_pem)
    }

    /// The chain a leaf of `algorithm` is served with: the intermediate of its family then the root.
    pub fn chain_pem_for(&self, algorithm: KeyAlgorithm) -> String {
        format!("{}{}", self.issuer_for(algorithm).pem, self.root_pem)
    }

    fn issuer_for(&self, algorithm: KeyAlgorithm) -> &Issuer {
        match algorithm {
            KeyAlgorithm::Rsa2048 => &self.rsa,
            KeyAlgorithm::EcPrime256v1 | KeyAlgorithm::EcSecp384r1 => &self.ec,
        }
    }

    /// Issues a leaf certificate with a new key pair, signed by the intermediate of its key family.
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
        let issuer = self.issuer_for(request.key_algorithm);
        let issuer_not_after = issuer.certificate.params().not_after;
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
            .signed_by(&key, &issuer.certificate, &issuer.key)
            .map_err(crypto("signing the certificate"))?;

        let (_, parsed) = x509_parser::parse_x509_certificate(cert.der())
            .map_err(|_| CaError::Crypto("the new certificate does not parse".into()))?;
        let signature_algorithm = signature_algorithm_name(&parsed.signature_algorithm.algorithm);
        Ok(Issued {
            certificate_pem: cert.pem(),
            chain_pem: self.chain_pem_for(request.key_algorithm),
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
    let (rsa_pem, rsa_wrapped) = rsa_intermediate(root, prefix, start, &root_cert, &root_key)?;

    Ok(StoredCa {
        version: 1,
        root_certificate_pem: root_cert.pem(),
        root_key_wrapped: seal_key(root, &root_key, ROOT_AAD),
        intermediate_certificate_pem: intermediate_cert.pem(),
        intermediate_key_wrapped: seal_key(root, &intermediate_key, INTERMEDIATE_AAD),
        rsa_intermediate_certificate_pem: Some(rsa_pem),
        rsa_intermediate_key_wrapped: Some(rsa_wrapped),
    })
}

/// A new RSA-2048 intermediate (`pathlen:0`, 5 years) signed by the root: its PEM, and its key's PKCS#8
/// wrapped by the root key (base64).
fn rsa_intermediate(
    root: &RootKey,
    prefix: &str,
    start: OffsetDateTime,
    root_cert: &rcgen::Certificate,
    root_key: &KeyPair,
) -> Result<(String, String), CaError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
        .map_err(crypto("generating the RSA intermediate CA key"))?;
    let mut params = ca_params(prefix, "RSA Intermediate CA", start, INTERMEDIATE_YEARS);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.use_authority_key_identifier_extension = true;
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params
        .signed_by(&key, root_cert, root_key)
        .map_err(crypto("signing the RSA intermediate CA"))?;
    Ok((cert.pem(), seal_key(root, &key, RSA_INTERMEDIATE_AAD)))
}

/// The RSA intermediate for a CA stored without one, signed by its root and named like its other CAs.
fn add_rsa_intermediate(root: &RootKey, stored: &StoredCa) -> Result<(String, String), CaError> {
    let root_key = unwrap_key(
        root,
        &stored.root_key_wrapped,
        ROOT_AAD,
        "root",
        &rcgen::PKCS_ECDSA_P384_SHA384,
    )?;
    check_key_matches(&stored.root_certificate_pem, &root_key, "root")?;
    let params = CertificateParams::from_ca_cert_pem(&stored.root_certificate_pem)
        .map_err(|_| corrupt("the root certificate does not parse"))?;
    let prefix = params
        .distinguished_name
        .get(&DnType::OrganizationName)
        .and_then(|v| match v {
            rcgen::DnValue::PrintableString(s) => Some(s.as_str().to_string()),
            rcgen::DnValue::Utf8String(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "m2sec".to_string());
    let root_cert = params
        .self_signed(&root_key)
        .map_err(crypto("loading the root CA"))?;
    let now = OffsetDateTime::from_unix_timestamp(crate::now_ms() / 1000)
        .map_err(|_| CaError::Crypto("the clock is out of range".into()))?;
    let (pem, wrapped) = rsa_intermediate(
        root,
        &prefix,
        now - Duration::hours(1),
        &root_cert,
        &root_key,
    )?;
    Ok((pem, wrapped))
}

async fn read(store: &dyn Store) -> Result<StoredCa, CaError> {
    let json = store
        .get_setting(SETTING)
        .await?
        .ok_or_else(|| CaError::Authority("no CA has been created yet".into()))?;
    let stored: StoredCa =
        serde_json::from_str(&json).map_err(|_| corrupt("the setting is not valid JSON"))?;
    if stored.version != 1 {
        return Err(corrupt("it was written by a newer version of m2sec"));
    }
    Ok(stored)
}

fn to_json(stored: &StoredCa) -> Result<String, CaError> {
    serde_json::to_string(stored)
        .map_err(|e| CaError::Authority(format!("serializing the CA: {e}")))
}

/// An intermediate ready to sign, from its stored certificate and wrapped key.
fn issuer(
    root: &RootKey,
    pem: &str,
    wrapped: &str,
    aad: &[u8],
    which: &str,
    algorithm: &'static rcgen::SignatureAlgorithm,
) -> Result<Issuer, CaError> {
    let key = unwrap_key(root, wrapped, aad, which, algorithm)?;
    check_key_matches(pem, &key, which)?;
    let params = CertificateParams::from_ca_cert_pem(pem)
        .map_err(|_| corrupt(&format!("the {which} certificate does not parse")))?;
    // rcgen wants the issuer as a Certificate; only its subject and key identifier are used.
    let certificate = params
        .self_signed(&key)
        .map_err(crypto(&format!("loading the {which}")))?;
    Ok(Issuer {
        pem: pem.to_string(),
        certificate,
        key,
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

/// A CA key's PKCS#8 sealed under the root key (base64 of its wrap with `aad`, the stored form). The
/// serialized key is a [`SecretBytes`] from the moment it exists, so it is zeroized once sealed.
fn seal_key(root: &RootKey, key: &KeyPair, aad: &[u8]) -> String {
    let pkcs8 = SecretBytes::new(key.serialize_der());
    root.seal(&pkcs8, aad)
}

/// Unseals a stored CA key into a [`SecretBytes`] and parses it. The returned rcgen `KeyPair` keeps its
/// own copy of the key (aws-lc-rs's, plus rcgen's serialized form) for as long as the CA is open, and
/// rcgen does not zeroize it on drop. That is acceptable: a signing CA must hold its keys in memory,
/// and what we control — the unsealed bytes — is zeroized as soon as the key is parsed.
fn unwrap_key(
    root: &RootKey,
    wrapped: &str,
    aad: &[u8],
    which: &str,
    algorithm: &'static rcgen::SignatureAlgorithm,
) -> Result<KeyPair, CaError> {
    let pkcs8 = root.open_sealed(wrapped, aad).map_err(|e| match e {
        CryptoError::InvalidCiphertext => CaError::Authority(format!(
            "the {which} CA key does not unwrap with this root key (another data dir's CA?)"
        )),
        _ => corrupt(&format!("the wrapped {which} key is not base64")),
    })?;
    let key = KeyPair::try_from(pkcs8.expose())
        .map_err(|_| corrupt(&format!("the {which} key does not parse")))?;
    if key.algorithm() != algorithm {
        let expected = if algorithm == &rcgen::PKCS_RSA_SHA256 {
            "an RSA"
        } else {
            "an EC P-384"
        };
        return Err(corrupt(&format!("the {which} key is not {expected} key")));
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
