//! Typed inputs and outputs of the implemented ACM operations, named as on the wire. Inputs were
//! already checked against botocore's model (required members, lengths, enums), so these only type them.

use m2sec_proto::json::{Blob, SensitiveBlob, Timestamp};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

#[derive(Debug, Deserialize, Serialize, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Tag {
    pub(crate) fn pair(self) -> (String, Option<String>) {
        (self.key, self.value)
    }
}

#[derive(Debug, Deserialize, Serialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_transparency_logging_preference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<String>,
}

/// The input of every operation on one certificate that takes nothing else (Describe, Get, Delete,
/// Renew, ListTagsFor).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateArnInput {
    pub certificate_arn: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RequestCertificateRequest {
    pub domain_name: String,
    pub validation_method: Option<String>,
    #[serde(default)]
    pub subject_alternative_names: Vec<String>,
    pub idempotency_token: Option<String>,
    pub options: Option<CertificateOptions>,
    pub certificate_authority_arn: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    pub key_algorithm: Option<String>,
}

/// ListCertificates' `Includes` (its members are lowerCamelCase in the API).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Filters {
    pub key_types: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListCertificatesRequest {
    #[serde(default)]
    pub certificate_statuses: Vec<String>,
    pub includes: Option<Filters>,
    pub next_token: Option<String>,
    pub max_items: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportCertificateRequest {
    pub certificate_arn: Option<String>,
    pub certificate: Blob,
    pub private_key: SensitiveBlob,
    pub certificate_chain: Option<Blob>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExportCertificateRequest {
    pub certificate_arn: String,
    pub passphrase: SensitiveBlob,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeCertificateRequest {
    pub certificate_arn: String,
    pub revocation_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateCertificateOptionsRequest {
    pub certificate_arn: String,
    #[serde(default)]
    pub options: CertificateOptions,
}

/// AddTagsToCertificate and RemoveTagsFromCertificate.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagsRequest {
    pub certificate_arn: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ExpiryEvents {
    pub days_before_expiry: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutAccountConfigurationRequest {
    #[serde(default)]
    pub expiry_events: ExpiryEvents,
}

// ---- outputs ----

#[derive(Debug, Serialize)]
pub struct Empty {}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateArnOutput {
    pub certificate_arn: String,
}

#[derive(Debug, Serialize, Clone)]
pub struct ResourceRecord {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Type")]
    pub kind: &'static str,
    #[serde(rename = "Value")]
    pub value: String,
}

#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct DomainValidation {
    pub domain_name: String,
    pub validation_domain: String,
    pub validation_status: String,
    pub validation_method: &'static str,
    pub resource_record: ResourceRecord,
}

#[derive(Debug, Serialize)]
pub struct KeyUsage {
    #[serde(rename = "Name")]
    pub name: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ExtendedKeyUsage {
    #[serde(rename = "Name")]
    pub name: &'static str,
    #[serde(rename = "OID")]
    pub oid: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RenewalSummary {
    pub renewal_status: String,
    pub domain_validation_options: Vec<DomainValidation>,
    pub updated_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renewal_status_reason: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateDetail {
    pub certificate_arn: String,
    pub domain_name: String,
    pub subject_alternative_names: Vec<String>,
    pub status: String,
    #[serde(rename = "Type")]
    pub kind: String,
    pub created_at: Timestamp,
    pub in_use_by: Vec<String>,
    pub key_algorithm: String,
    pub renewal_eligibility: &'static str,
    pub options: CertificateOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_validation_options: Option<Vec<DomainValidation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usages: Option<Vec<KeyUsage>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_key_usages: Option<Vec<ExtendedKeyUsage>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renewal_summary: Option<RenewalSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateSummary {
    pub certificate_arn: String,
    pub domain_name: String,
    pub subject_alternative_name_summaries: Vec<String>,
    pub has_additional_subject_alternative_names: bool,
    pub status: String,
    #[serde(rename = "Type")]
    pub kind: String,
    pub key_algorithm: String,
    pub in_use: bool,
    pub renewal_eligibility: &'static str,
    pub created_at: Timestamp,
    pub export_option: &'static str,
    pub exported: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_usages: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_key_usages: Option<Vec<&'static str>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeCertificateResponse {
    pub certificate: CertificateDetail,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListCertificatesResponse {
    pub certificate_summary_list: Vec<CertificateSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetCertificateResponse {
    pub certificate: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_chain: Option<String>,
}

/// ExportCertificate's answer: the private key encrypted under the caller's passphrase, never printed.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExportCertificateResponse {
    pub certificate: String,
    pub certificate_chain: String,
    pub private_key: Zeroizing<String>,
}

impl std::fmt::Debug for ExportCertificateResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportCertificateResponse")
            .field("certificate", &self.certificate)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForCertificateResponse {
    pub tags: Vec<Tag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetAccountConfigurationResponse {
    pub expiry_events: ExpiryEvents,
}
