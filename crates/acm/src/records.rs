//! What m2sec stores for ACM: one document per certificate (kind `acm.certificate`) with its record,
//! tags, options, renewal outcome and wrapped private key, and the account's settings.

use m2sec_proto::RequestContext;
use serde::{Deserialize, Serialize};

use crate::certificate::Certificate;

pub(crate) const KIND: &str = "acm.certificate";
pub(crate) const SETTINGS: &str = "acm.account";

/// What m2sec stores for a certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Stored {
    pub(crate) certificate: Certificate,
    #[serde(default)]
    pub(crate) tags: Vec<(String, Option<String>)>,
    #[serde(default)]
    pub(crate) export: bool,
    #[serde(default)]
    pub(crate) material: Option<Material>,
    #[serde(default)]
    pub(crate) imported_at: Option<i64>,
    #[serde(default)]
    pub(crate) revoked_at: Option<i64>,
    #[serde(default)]
    pub(crate) revocation_reason: Option<String>,
    #[serde(default)]
    pub(crate) in_use_by: Vec<String>,
    #[serde(default)]
    pub(crate) exported: bool,
    #[serde(default)]
    pub(crate) renewal: Option<Renewal>,
}

/// The last managed renewal's outcome (DescribeCertificate's RenewalSummary).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Renewal {
    /// `SUCCESS`; `PENDING_VALIDATION` while a record no longer resolves (or cannot be looked up);
    /// `FAILED` when the new certificate could not be issued.
    pub(crate) status: String,
    pub(crate) updated_at: i64,
    /// RenewalStatusReason (ACM's FailureReason) when FAILED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
}

/// The issued (or imported) certificate, its chain, and its private key wrapped by the root key.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Material {
    pub(crate) certificate_pem: String,
    pub(crate) chain_pem: String,
    pub(crate) wrapped_key: String,
    pub(crate) signature_algorithm: String,
    pub(crate) key_algorithm_detail: String,
    pub(crate) issuer: String,
    pub(crate) subject: String,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Material")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// An account and region.
pub(crate) type Place<'a> = (&'a str, &'a str);

pub(crate) fn place(ctx: &RequestContext) -> Place<'_> {
    (&ctx.account, &ctx.region)
}
