//! ACM seen from the services that use its certificates (API Gateway's domain names): attaching a
//! user puts its ARN in the certificate's `InUseBy` (so DeleteCertificate answers
//! ResourceInUseException, as in ACM), and the edge reads the certificate and key it serves.

use m2sec_crypto::SecretBytes;
use m2sec_proto::AwsError;
use m2sec_store::StoreError;

use crate::error::AcmError;
use crate::records::*;
use crate::service::*;

/// What a user of a certificate needs to know of it.
#[derive(Debug, Clone)]
pub struct CertificateUse {
    pub arn: String,
    /// ACM's status (`ISSUED`, `PENDING_VALIDATION`, …).
    pub status: String,
    pub domain_name: String,
    /// The names it is valid for (its subject alternative names).
    pub names: Vec<String>,
}

/// A certificate as a TLS server presents it.
pub struct ServingMaterial {
    /// The certificate, then its chain (PEM).
    pub chain_pem: String,
    /// The private key: PKCS#8 DER for certificates ACM issued; for imported ones, the PEM they were
    /// imported with (PKCS#8, PKCS#1 or SEC1).
    pub key: SecretBytes,
    /// A digest of the certificate and chain: changes whenever they do (renewal, re-import).
    pub serial: String,
}

impl std::fmt::Debug for ServingMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServingMaterial")
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

impl CertificateUse {
    fn of(stored: &Stored) -> Self {
        CertificateUse {
            arn: stored.certificate.arn.clone(),
            status: stored.certificate.status.clone(),
            domain_name: stored.certificate.domain_name.clone(),
            names: stored.certificate.subject_alternative_names.clone(),
        }
    }
}

impl ServingMaterial {
    /// The certificate followed by its chain, with the digest that names this pair.
    fn new(certificate_pem: &str, chain_pem: &str, key: SecretBytes) -> Self {
        let mut pem = certificate_pem.trim_end().to_string();
        pem.push('\n');
        if !chain_pem.trim().is_empty() {
            pem.push_str(chain_pem.trim_end());
            pem.push('\n');
        }
        let serial = hex::encode(
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, pem.as_bytes()).as_ref(),
        );
        ServingMaterial {
            chain_pem: pem,
            key,
            serial,
        }
    }
}

fn not_found(arn: &str) -> AwsError {
    AwsError::from(AcmError::NotFound(format!(
        "Could not find certificate {arn}."
    )))
}

impl Acm {
    async fn stored(&self, account: &str, region: &str, arn: &str) -> Result<Stored, AwsError> {
        let id = arn.rsplit('/').next().unwrap_or("");
        let doc = self
            .store
            .get_document(account, region, KIND, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| not_found(arn))?;
        let stored: Stored = serde_json::from_str(&doc.body)
            .map_err(|e| store_error(StoreError::Corrupt(e.to_string())))?;
        if stored.certificate.arn != arn {
            return Err(not_found(arn));
        }
        Ok(stored)
    }

    /// Adds (`attach`) or removes `user` (an ARN) from the certificate's users; returns the
    /// certificate as its user sees it.
    pub async fn set_user(
        &self,
        account: &str,
        region: &str,
        arn: &str,
        user: &str,
        attach: bool,
    ) -> Result<CertificateUse, AwsError> {
        let _guard = self.writes.lock().await;
        let mut stored = self.stored(account, region, arn).await?;
        let before = stored.in_use_by.clone();
        stored.in_use_by.retain(|u| u != user);
        if attach {
            stored.in_use_by.push(user.to_string());
            stored.in_use_by.sort();
        }
        if stored.in_use_by != before {
            self.save((account, region), &stored, false).await?;
        }
        Ok(CertificateUse::of(&stored))
    }

    /// The certificate as it would be used, without changing it.
    pub async fn certificate_use(
        &self,
        account: &str,
        region: &str,
        arn: &str,
    ) -> Result<CertificateUse, AwsError> {
        let stored = self.stored(account, region, arn).await?;
        Ok(CertificateUse::of(&stored))
    }

    /// The certificate, chain and key to serve, while the certificate is ISSUED (None otherwise:
    /// pending, revoked, expired, deleted).
    pub async fn serving_material(
        &self,
        account: &str,
        region: &str,
        arn: &str,
    ) -> Result<Option<ServingMaterial>, AwsError> {
        let stored = match self.stored(account, region, arn).await {
            Ok(s) => s,
            Err(e) if e.code == "ResourceNotFoundException" => return Ok(None),
            Err(e) => return Err(e),
        };
        if stored.certificate.status != "ISSUED" {
            return Ok(None);
        }
        let Some(material) = &stored.material else {
            return Ok(None);
        };
        let key = self.private_key(&stored)?;
        Ok(Some(ServingMaterial::new(
            &material.certificate_pem,
            &material.chain_pem,
            key,
        )))
    }

    /// A certificate from m2sec's CA for `name` (a wildcard such as
    /// `*.execute-api.eu-west-1.amazonaws.com` allowed), for the endpoints m2sec itself serves; it is
    /// not an ACM certificate of any account. EC P-256, valid for ACM's usual validity.
    pub async fn endpoint_material(&self, name: &str) -> Result<ServingMaterial, AwsError> {
        let ca = self.ca().await?;
        let mut request = m2sec_ca::IssueRequest::new(name.to_string());
        request.key_algorithm = m2sec_ca::KeyAlgorithm::EcPrime256v1;
        request.validity_days = self.settings.validity_days;
        let issued = ca.issue(&request).map_err(ca_error)?;
        Ok(ServingMaterial::new(
            &issued.certificate_pem,
            &issued.chain_pem,
            issued.private_key_pkcs8_der,
        ))
    }

    /// m2sec's root CA certificate (PEM): what clients trust to reach the edge over HTTPS.
    pub async fn root_certificate_pem(&self) -> Result<String, AwsError> {
        Ok(self.ca().await?.root_certificate_pem().to_string())
    }
}
