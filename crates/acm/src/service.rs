//! The ACM API (`CertificateManager.<Op>`, awsJson1.1): certificates requested with DNS validation and
//! issued by m2sec's CA once every name's validation CNAME is in one of m2sec's Route53 zones, imported
//! certificates, tags and the account configuration. A pending certificate is checked against m2sec's
//! own zones whenever it is described or fetched (so `aws acm wait certificate-validated` sees it issued
//! as soon as its record is in place); the background job ([`Acm::run_due_jobs`]) also asks the
//! configured upstream DNS servers, and renews issued certificates.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use m2sec_ca::{Ca, IssueRequest, KeyAlgorithm};
use m2sec_crypto::{RootKey, SecretBytes};
use m2sec_dns::upstream::Resolver;
use m2sec_iam::Authorizer;
use m2sec_proto::json::{JsonService, Timestamp};
use m2sec_proto::model::ServiceModel;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_route53::zone::Zone;
use m2sec_store::{Document, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::certificate::Certificate;
use crate::validation::Resolution;

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/acm.json")))
}

const KIND: &str = "acm.certificate";
const SETTINGS: &str = "acm.account";
/// AWS's default filter of ListCertificates when `Includes.keyTypes` is not given.
const DEFAULT_KEY_TYPES: &[&str] = &["RSA_1024", "RSA_2048"];

/// What m2sec stores for a certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    certificate: Certificate,
    #[serde(default)]
    tags: Vec<(String, Option<String>)>,
    #[serde(default)]
    export: bool,
    #[serde(default)]
    material: Option<Material>,
    #[serde(default)]
    imported_at: Option<i64>,
    #[serde(default)]
    revoked_at: Option<i64>,
    #[serde(default)]
    revocation_reason: Option<String>,
    #[serde(default)]
    in_use_by: Vec<String>,
    #[serde(default)]
    exported: bool,
    #[serde(default)]
    renewal: Option<Renewal>,
}

/// The last managed renewal's outcome (DescribeCertificate's RenewalSummary).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Renewal {
    /// `SUCCESS`; `PENDING_VALIDATION` while a record no longer resolves (or cannot be looked up);
    /// `FAILED` when the new certificate could not be issued.
    status: String,
    updated_at: i64,
    /// RenewalStatusReason (ACM's FailureReason) when FAILED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// Issuance and renewal settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Validity of issued certificates (ACM: 198 days).
    pub validity_days: u32,
    /// How long before expiry a certificate is renewed (ACM: 60 days).
    pub renew_before_days: u32,
    /// DNS servers asked for validation records of names m2sec holds no zone for (none: own zones
    /// only).
    pub upstream: Vec<SocketAddr>,
    /// How long each upstream server has to answer one query.
    pub upstream_timeout: std::time::Duration,
    /// This node, as the background job's log lines name it.
    pub node: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            validity_days: m2sec_ca::DEFAULT_VALIDITY_DAYS,
            renew_before_days: 60,
            upstream: Vec::new(),
            upstream_timeout: m2sec_dns::upstream::DEFAULT_TIMEOUT,
            node: "local".into(),
        }
    }
}

/// What one run of the background job did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct JobReport {
    pub issued: usize,
    pub renewed: usize,
    pub renewal_pending: usize,
    /// Certificates whose turn failed (each one logged with its ARN); retried next run.
    pub failed: usize,
}

/// The issued (or imported) certificate, its chain, and its private key wrapped by the root key.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Material {
    certificate_pem: String,
    chain_pem: String,
    wrapped_key: String,
    signature_algorithm: String,
    key_algorithm_detail: String,
    issuer: String,
    subject: String,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Material")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// An account and region.
type Place<'a> = (&'a str, &'a str);

fn place(ctx: &RequestContext) -> Place<'_> {
    (&ctx.account, &ctx.region)
}

pub struct Acm {
    store: Arc<dyn Store>,
    root: Arc<RootKey>,
    authorizer: Arc<Authorizer>,
    ca: tokio::sync::OnceCell<Ca>,
    writes: tokio::sync::Mutex<()>,
    settings: Settings,
    /// Wakes the background job (a pending certificate was read while upstream servers may hold its
    /// records).
    wake: Option<Arc<tokio::sync::Notify>>,
}

use m2sec_store::now_ms;

/// A new certificate's ARN in the caller's account and region.
fn new_certificate_arn(ctx: &RequestContext) -> String {
    m2sec_proto::arn::build(
        "acm",
        &ctx.region,
        &ctx.account,
        &format!("certificate/{}", m2sec_proto::random_uuid()),
    )
}

fn error(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(code, 400, message)
}

fn store_error(e: StoreError) -> AwsError {
    tracing::error!(error = %e, "ACM store failure");
    AwsError::internal("ServiceUnavailableException", 503)
}

fn ca_error(e: m2sec_ca::CaError) -> AwsError {
    match e {
        m2sec_ca::CaError::InvalidRequest(m) | m2sec_ca::CaError::InvalidInput(m) => {
            error("ValidationException", m)
        }
        other => {
            tracing::error!(error = %other, "ACM certificate authority failure");
            AwsError::internal("ServiceUnavailableException", 503)
        }
    }
}

fn text<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// The strings of a list member (empty when absent).
fn strings(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn key_aad(arn: &str) -> Vec<u8> {
    format!("m2sec acm private key {arn}").into_bytes()
}

/// The blob member `name` of `input` (base64 on the wire).
fn blob(input: &Value, name: &str) -> Result<Vec<u8>, AwsError> {
    let text = text(input, name).unwrap_or("");
    B64.decode(text.as_bytes())
        .map_err(|_| error("ValidationException", format!("{name} is not valid base64")))
}

fn tags_of(input: &Value) -> Vec<(String, Option<String>)> {
    input
        .get("Tags")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|t| {
                    Some((
                        text(t, "Key")?.to_string(),
                        text(t, "Value").map(str::to_string),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Acm {
    pub fn new(
        store: Arc<dyn Store>,
        root: Arc<RootKey>,
        authorizer: Arc<Authorizer>,
        settings: Settings,
    ) -> Self {
        Acm {
            store,
            root,
            authorizer,
            ca: tokio::sync::OnceCell::new(),
            writes: tokio::sync::Mutex::new(()),
            settings,
            wake: None,
        }
    }

    /// `wake` is what the background job waits on: reading a certificate still pending once m2sec's
    /// own zones are checked wakes it when upstream servers are configured, so it asks them at once.
    pub fn wake_jobs_with(mut self, wake: Arc<tokio::sync::Notify>) -> Self {
        self.wake = Some(wake);
        self
    }

    /// The background job: issues pending certificates whose records are in place (in m2sec's zones or,
    /// for other names, at the upstream DNS servers), times out those past the window, and renews issued
    /// certificates within `renew_before_days` of expiry whose records still resolve (keeping the ARN;
    /// a record that no longer resolves leaves the renewal PENDING_VALIDATION, a failed issuance
    /// FAILED, both visible in RenewalSummary and the log). One certificate's failure is logged with its
    /// ARN and does not stop the others.
    pub async fn run_due_jobs(&self) -> Result<JobReport, AwsError> {
        let mut report = JobReport::default();
        let resolver = Resolver::new(
            self.settings.upstream.clone(),
            self.settings.upstream_timeout,
        );
        let mut zones: HashMap<String, Arc<Vec<Zone>>> = HashMap::new();
        for doc in self
            .store
            .documents_of_kind(KIND)
            .await
            .map_err(store_error)?
        {
            let Ok(stored) = serde_json::from_str::<Stored>(&doc.body) else {
                tracing::warn!(certificate = %doc.name, account = %doc.account, region = %doc.region, "unreadable ACM certificate record skipped");
                report.failed += 1;
                continue;
            };
            let arn = stored.certificate.arn.clone();
            let account_zones = match zones.get(&doc.account) {
                Some(z) => z.clone(),
                None => {
                    let z = match m2sec_route53::store::list(self.store.as_ref(), &doc.account)
                        .await
                    {
                        Ok(z) => Arc::new(z),
                        Err(e) => {
                            tracing::warn!(certificate = %arn, error = %e, node = %self.settings.node, "ACM background job: reading the account's zones failed; will retry");
                            report.failed += 1;
                            continue;
                        }
                    };
                    zones.insert(doc.account.clone(), z.clone());
                    z
                }
            };
            if let Err(e) = self
                .job_for(&doc, stored, &account_zones, &resolver, &mut report)
                .await
            {
                report.failed += 1;
                tracing::warn!(certificate = %arn, error = %e, node = %self.settings.node, "ACM background job failed for this certificate; will retry");
            }
        }
        Ok(report)
    }

    /// One certificate's turn of the background job.
    async fn job_for(
        &self,
        doc: &Document,
        stored: Stored,
        zones: &[Zone],
        resolver: &Resolver,
        report: &mut JobReport,
    ) -> Result<(), AwsError> {
        let at: Place<'_> = (&doc.account, &doc.region);
        let renew_before = i64::from(self.settings.renew_before_days) * 86_400_000;
        let due = |c: &Certificate| {
            c.kind == "AMAZON_ISSUED"
                && c.status == "ISSUED"
                && c.not_after.is_some_and(|t| t - now_ms() <= renew_before)
        };
        let pending = stored.certificate.status == "PENDING_VALIDATION";
        if !pending && !due(&stored.certificate) {
            return Ok(());
        }
        // Look the records up before taking the write lock: an upstream server may take its timeout.
        let mut found: HashMap<String, Resolution> = HashMap::new();
        for d in &stored.certificate.domains {
            if (pending && d.status == "SUCCESS") || found.contains_key(&d.record_name) {
                continue;
            }
            let resolution = crate::validation::resolve(zones, resolver, &d.record()).await;
            if let Resolution::Unreachable(why) = &resolution {
                tracing::warn!(certificate = %stored.certificate.arn, domain = %d.domain_name, record = %d.record_name, error = %why, node = %self.settings.node, "ACM validation record could not be looked up");
            }
            found.insert(d.record_name.clone(), resolution);
        }
        let validated = |name: &str| matches!(found.get(name), Some(Resolution::Validated));

        let _guard = self.writes.lock().await;
        // The certificate may have changed, or gone, while the records were looked up.
        let Some(doc) = self
            .store
            .get_document(at.0, at.1, KIND, &doc.name)
            .await
            .map_err(store_error)?
        else {
            return Ok(());
        };
        let mut stored: Stored = serde_json::from_str(&doc.body)
            .map_err(|e| store_error(StoreError::Corrupt(e.to_string())))?;
        let arn = stored.certificate.arn.clone();
        if stored.certificate.status == "PENDING_VALIDATION" {
            let before = stored.certificate.clone();
            let ready = stored
                .certificate
                .check_validation_with(now_ms(), |r| validated(&r.name));
            if ready {
                self.issue(&mut stored).await?;
                report.issued += 1;
                tracing::info!(certificate = %arn, node = %self.settings.node, "issued ACM certificate");
            } else if stored.certificate.status == "VALIDATION_TIMED_OUT" {
                tracing::warn!(certificate = %arn, node = %self.settings.node, "ACM certificate request timed out: its validation records were not found within 72 hours");
            }
            if stored.certificate != before {
                self.save(at, &stored, false).await?;
            }
            return Ok(());
        }
        if !due(&stored.certificate) {
            return Ok(());
        }
        let unreachable = stored
            .certificate
            .domains
            .iter()
            .any(|d| matches!(found.get(&d.record_name), Some(Resolution::Unreachable(_))));
        let resolvable = stored
            .certificate
            .domains
            .iter()
            .all(|d| validated(&d.record_name));
        let was = stored.renewal.as_ref().map(|r| r.status.clone());
        if resolvable {
            match self.issue(&mut stored).await {
                Ok(()) => {
                    stored.renewal = Some(Renewal {
                        status: "SUCCESS".into(),
                        updated_at: now_ms(),
                        reason: None,
                    });
                    report.renewed += 1;
                    tracing::info!(certificate = %arn, serial = stored.certificate.serial.as_deref().unwrap_or(""), node = %self.settings.node, "renewed ACM certificate");
                }
                Err(e) => {
                    stored.renewal = Some(Renewal {
                        status: "FAILED".into(),
                        updated_at: now_ms(),
                        reason: Some("OTHER".into()),
                    });
                    report.failed += 1;
                    tracing::warn!(certificate = %arn, error = %e, node = %self.settings.node, "ACM renewal failed: the new certificate could not be issued; will retry");
                }
            }
        } else {
            if was.as_deref() != Some("PENDING_VALIDATION") {
                if unreachable {
                    tracing::warn!(certificate = %arn, node = %self.settings.node, "ACM renewal waits: a validation record could not be looked up (no upstream DNS server answered)");
                } else {
                    tracing::warn!(certificate = %arn, node = %self.settings.node, "ACM renewal waits: a validation record no longer resolves");
                }
            }
            stored.renewal = Some(Renewal {
                status: "PENDING_VALIDATION".into(),
                updated_at: now_ms(),
                reason: None,
            });
            report.renewal_pending += 1;
        }
        self.save(at, &stored, false).await
    }

    async fn ca(&self) -> Result<&Ca, AwsError> {
        self.ca
            .get_or_try_init(|| async {
                Ca::open_or_create(self.store.as_ref(), &self.root, "m2sec")
                    .await
                    .map_err(ca_error)
            })
            .await
    }

    fn id_of<'a>(&self, ctx: &RequestContext, arn: &'a str) -> Result<&'a str, AwsError> {
        let parsed = m2sec_proto::arn::Arn::parse(arn)
            .filter(|a| a.service == "acm" && a.resource.starts_with("certificate/"))
            .ok_or_else(|| {
                error(
                    "InvalidArnException",
                    format!("{arn} is not a valid certificate ARN"),
                )
            })?;
        if parsed.region != ctx.region || parsed.account != ctx.account {
            return Err(error(
                "ResourceNotFoundException",
                format!("Could not find certificate {arn}."),
            ));
        }
        Ok(arn.rsplit('/').next().unwrap_or(""))
    }

    /// A certificate for a reader that does not hold the write lock, checked against m2sec's zones if
    /// pending. When that would change it (a record now in place, the window over), the change is made
    /// under the write lock on a fresh read, so a reader and the background job never both issue it.
    async fn load(&self, ctx: &RequestContext, arn: &str) -> Result<Stored, AwsError> {
        let stored = self.read(ctx, arn).await?;
        if stored.certificate.status != "PENDING_VALIDATION" {
            return Ok(stored);
        }
        let zones = m2sec_route53::store::list(self.store.as_ref(), &ctx.account)
            .await
            .map_err(store_error)?;
        let mut probe = stored.certificate.clone();
        probe.check_validation(&zones, now_ms());
        if probe == stored.certificate {
            self.nudge(&stored);
            return Ok(stored);
        }
        let _guard = self.writes.lock().await;
        self.load_locked(ctx, arn).await
    }

    /// [`Acm::load`] for a caller that holds the write lock.
    async fn load_locked(&self, ctx: &RequestContext, arn: &str) -> Result<Stored, AwsError> {
        let stored = self.read(ctx, arn).await?;
        self.refresh(place(ctx), stored).await
    }

    /// Wakes the background job for a certificate still pending once m2sec's zones are checked, when
    /// upstream DNS servers may hold its records.
    fn nudge(&self, stored: &Stored) {
        if stored.certificate.status == "PENDING_VALIDATION" && !self.settings.upstream.is_empty() {
            if let Some(wake) = &self.wake {
                wake.notify_one();
            }
        }
    }

    /// A certificate as stored.
    async fn read(&self, ctx: &RequestContext, arn: &str) -> Result<Stored, AwsError> {
        let id = self.id_of(ctx, arn)?;
        let doc = self
            .store
            .get_document(&ctx.account, &ctx.region, KIND, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                error(
                    "ResourceNotFoundException",
                    format!("Could not find certificate {arn}."),
                )
            })?;
        serde_json::from_str(&doc.body).map_err(|e| store_error(StoreError::Corrupt(e.to_string())))
    }

    async fn save(&self, at: Place<'_>, stored: &Stored, create: bool) -> Result<(), AwsError> {
        let id = stored
            .certificate
            .arn
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        self.store
            .put_document(
                &Document {
                    account: at.0.to_string(),
                    region: at.1.to_string(),
                    kind: KIND.into(),
                    name: id,
                    body: serde_json::to_string(stored).expect("certificates serialize"),
                    updated_at: now_ms(),
                },
                create,
            )
            .await
            .map_err(store_error)
    }

    /// Checks a pending certificate's validation records in m2sec's own zones and issues it once every
    /// name validates (the caller holds the write lock). Still pending with upstream servers configured, it wakes the background job,
    /// which asks them (a read never waits on another server).
    async fn refresh(&self, at: Place<'_>, mut stored: Stored) -> Result<Stored, AwsError> {
        if stored.certificate.status != "PENDING_VALIDATION" {
            return Ok(stored);
        }
        let zones = m2sec_route53::store::list(self.store.as_ref(), at.0)
            .await
            .map_err(store_error)?;
        let before = stored.certificate.clone();
        let ready = stored.certificate.check_validation(&zones, now_ms());
        if ready {
            self.issue(&mut stored).await?;
        }
        if stored.certificate != before {
            self.save(at, &stored, false).await?;
        }
        self.nudge(&stored);
        Ok(stored)
    }

    async fn issue(&self, stored: &mut Stored) -> Result<(), AwsError> {
        let ca = self.ca().await?;
        let cert = &mut stored.certificate;
        let algorithm =
            KeyAlgorithm::from_name(&cert.key_algorithm).unwrap_or(KeyAlgorithm::Rsa2048);
        let mut request = IssueRequest::new(cert.domain_name.clone());
        request.subject_alternative_names = cert.subject_alternative_names.clone();
        request.key_algorithm = algorithm;
        request.validity_days = self.settings.validity_days;
        let issued = ca.issue(&request).map_err(ca_error)?;
        let wrapped = self
            .root
            .wrap(issued.private_key_pkcs8_der.expose(), &key_aad(&cert.arn));
        stored.material = Some(Material {
            certificate_pem: issued.certificate_pem,
            chain_pem: issued.chain_pem,
            wrapped_key: B64.encode(wrapped),
            signature_algorithm: issued.signature_algorithm,
            key_algorithm_detail: issued.key_algorithm,
            issuer: "m2sec".into(),
            subject: format!("CN={}", cert.domain_name),
        });
        cert.status = "ISSUED".into();
        cert.issued_at = Some(now_ms());
        cert.not_before = Some(issued.not_before);
        cert.not_after = Some(issued.not_after);
        cert.serial = Some(issued.serial);
        Ok(())
    }

    fn private_key(&self, stored: &Stored) -> Result<SecretBytes, AwsError> {
        let material = stored.material.as_ref().ok_or_else(|| {
            error(
                "RequestInProgressException",
                format!("Certificate {} is not issued yet.", stored.certificate.arn),
            )
        })?;
        let wrapped = B64
            .decode(&material.wrapped_key)
            .map_err(|e| store_error(StoreError::Corrupt(e.to_string())))?;
        self.root
            .unwrap(&wrapped, &key_aad(&stored.certificate.arn))
            .map_err(|_| AwsError::internal("ServiceUnavailableException", 503))
    }

    async fn request_certificate(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        if let Some(method) = text(&input, "ValidationMethod") {
            if method != "DNS" {
                return Err(error(
                    "ValidationException",
                    format!("ValidationMethod {method} is not supported by m2sec: it validates domains through DNS (ValidationMethod DNS)."),
                ));
            }
        }
        if input.get("CertificateAuthorityArn").is_some() {
            return Err(error(
                "ValidationException",
                "Private certificates (CertificateAuthorityArn) are not supported by m2sec.",
            ));
        }
        let key_algorithm = text(&input, "KeyAlgorithm").unwrap_or("RSA_2048");
        if KeyAlgorithm::from_name(key_algorithm).is_none() {
            return Err(error(
                "ValidationException",
                format!("KeyAlgorithm {key_algorithm} is not supported; use RSA_2048, EC_prime256v1 or EC_secp384r1."),
            ));
        }
        let domain = text(&input, "DomainName").unwrap_or("").to_string();
        let sans = strings(input.get("SubjectAlternativeNames"));
        for name in std::iter::once(&domain).chain(sans.iter()) {
            if m2sec_route53::names::normalize(name).is_err() || !name.contains('.') {
                return Err(error(
                    "ValidationException",
                    format!("The domain name '{name}' is not a valid fully qualified domain name."),
                ));
            }
        }
        let token = text(&input, "IdempotencyToken").map(str::to_string);
        let _guard = self.writes.lock().await;
        if let Some(token) = &token {
            for doc in self
                .store
                .list_documents(&ctx.account, &ctx.region, KIND)
                .await
                .map_err(store_error)?
            {
                if let Ok(s) = serde_json::from_str::<Stored>(&doc.body) {
                    if s.certificate.idempotency_token.as_deref() == Some(token.as_str())
                        && s.certificate.domain_name == domain.to_ascii_lowercase()
                        && now_ms() - s.certificate.created_at < 3_600_000
                    {
                        return Ok(json!({ "CertificateArn": s.certificate.arn }));
                    }
                }
            }
        }
        let arn = new_certificate_arn(ctx);
        let mut certificate =
            Certificate::requested(&ctx.account, &arn, &domain, &sans, key_algorithm, now_ms());
        certificate.idempotency_token = token;
        let options = input.get("Options");
        certificate.transparency_logging = options
            .and_then(|o| text(o, "CertificateTransparencyLoggingPreference"))
            .map(str::to_string);
        let stored = Stored {
            certificate,
            tags: tags_of(&input),
            export: options.and_then(|o| text(o, "Export")) == Some("ENABLED"),
            material: None,
            imported_at: None,
            revoked_at: None,
            revocation_reason: None,
            in_use_by: vec![],
            exported: false,
            renewal: None,
        };
        self.save(place(ctx), &stored, true).await?;
        ctx.touch("AWS::ACM::Certificate", &arn);
        Ok(json!({ "CertificateArn": arn }))
    }

    fn detail(&self, stored: &Stored) -> Value {
        let c = &stored.certificate;
        let imported = c.kind == "IMPORTED";
        let mut d = json!({
            "CertificateArn": c.arn,
            "DomainName": c.domain_name,
            "SubjectAlternativeNames": c.subject_alternative_names,
            "Status": c.status,
            "Type": c.kind,
            "CreatedAt": Timestamp(c.created_at),
            "InUseBy": stored.in_use_by,
            "KeyAlgorithm": stored.material.as_ref().map_or_else(
                || KeyAlgorithm::from_name(&c.key_algorithm).map_or("RSA-2048", |k| k.detail_name()).to_string(),
                |m| m.key_algorithm_detail.clone(),
            ),
            // As in ACM: managed renewal is for certificates that are in use.
            "RenewalEligibility": if !imported && c.status == "ISSUED" && !stored.in_use_by.is_empty() { "ELIGIBLE" } else { "INELIGIBLE" },
            "Options": {
                "CertificateTransparencyLoggingPreference": c.transparency_logging.as_deref().unwrap_or("ENABLED"),
                "Export": if stored.export { "ENABLED" } else { "DISABLED" },
            },
        });
        if !imported {
            d["DomainValidationOptions"] = Value::Array(
                c.domains
                    .iter()
                    .map(|v| {
                        json!({
                            "DomainName": v.domain_name,
                            "ValidationDomain": v.domain_name,
                            "ValidationStatus": v.status,
                            "ValidationMethod": "DNS",
                            "ResourceRecord": { "Name": v.record_name, "Type": "CNAME", "Value": v.record_value },
                        })
                    })
                    .collect(),
            );
        }
        if let Some(m) = &stored.material {
            d["Serial"] = json!(c.serial);
            d["Subject"] = json!(m.subject);
            d["Issuer"] = json!(m.issuer);
            d["SignatureAlgorithm"] = json!(m.signature_algorithm);
            d["KeyUsages"] =
                json!([{ "Name": "DIGITAL_SIGNATURE" }, { "Name": "KEY_ENCIPHERMENT" }]);
            d["ExtendedKeyUsages"] = json!([
                { "Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1" },
                { "Name": "TLS_WEB_CLIENT_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.2" },
            ]);
        }
        for (member, value) in [
            ("IssuedAt", c.issued_at.filter(|_| !imported)),
            ("ImportedAt", stored.imported_at),
            ("NotBefore", c.not_before),
            ("NotAfter", c.not_after),
            ("RevokedAt", stored.revoked_at),
        ] {
            if let Some(ms) = value {
                d[member] = json!(Timestamp(ms));
            }
        }
        if let Some(r) = &stored.renewal {
            d["RenewalSummary"] = json!({
                "RenewalStatus": r.status,
                "DomainValidationOptions": d["DomainValidationOptions"].clone(),
                "UpdatedAt": Timestamp(r.updated_at),
            });
            if let Some(reason) = &r.reason {
                d["RenewalSummary"]["RenewalStatusReason"] = json!(reason);
            }
        }
        if let Some(reason) = &stored.revocation_reason {
            d["RevocationReason"] = json!(reason);
        }
        if c.status == "VALIDATION_TIMED_OUT" || c.status == "FAILED" {
            d["FailureReason"] = json!("OTHER");
        }
        d
    }

    fn summary(&self, stored: &Stored) -> Value {
        let detail = self.detail(stored);
        let mut s = json!({
            "CertificateArn": detail["CertificateArn"],
            "DomainName": detail["DomainName"],
            "SubjectAlternativeNameSummaries": detail["SubjectAlternativeNames"],
            "HasAdditionalSubjectAlternativeNames": false,
            "Status": detail["Status"],
            "Type": detail["Type"],
            // Summaries spell key algorithms as the API's enum does (`RSA_2048`).
            "KeyAlgorithm": detail["KeyAlgorithm"].as_str().map(|k| k.replace('-', "_")),
            "InUse": !stored.in_use_by.is_empty(),
            "RenewalEligibility": detail["RenewalEligibility"],
            "CreatedAt": detail["CreatedAt"],
            "ExportOption": if stored.export { "ENABLED" } else { "DISABLED" },
            "Exported": stored.exported,
        });
        for member in [
            "IssuedAt",
            "ImportedAt",
            "NotBefore",
            "NotAfter",
            "RevokedAt",
        ] {
            if !detail[member].is_null() {
                s[member] = detail[member].clone();
            }
        }
        if stored.material.is_some() {
            s["KeyUsages"] = json!(["DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT"]);
            s["ExtendedKeyUsages"] = json!([
                "TLS_WEB_SERVER_AUTHENTICATION",
                "TLS_WEB_CLIENT_AUTHENTICATION"
            ]);
        }
        s
    }

    async fn list_certificates(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let statuses = strings(input.get("CertificateStatuses"));
        let key_types = match input.get("Includes").and_then(|i| i.get("keyTypes")) {
            Some(list) => strings(Some(list)),
            None => DEFAULT_KEY_TYPES.iter().map(|s| s.to_string()).collect(),
        };
        let max = input
            .get("MaxItems")
            .and_then(Value::as_u64)
            .unwrap_or(1000) as usize;
        let after = text(&input, "NextToken").map(str::to_string);
        let mut all = Vec::new();
        for doc in self
            .store
            .list_documents(&ctx.account, &ctx.region, KIND)
            .await
            .map_err(store_error)?
        {
            // Listing shows certificates as they are: it validates nothing (the background job and
            // DescribeCertificate do).
            let stored: Stored = serde_json::from_str(&doc.body)
                .map_err(|e| store_error(StoreError::Corrupt(e.to_string())))?;
            let key_type = stored.certificate.key_algorithm.replace('-', "_");
            if (statuses.is_empty() || statuses.contains(&stored.certificate.status))
                && key_types.contains(&key_type)
            {
                all.push((doc.name, stored));
            }
        }
        let start = match &after {
            Some(token) => all
                .iter()
                .position(|(id, _)| id.as_str() > token.as_str())
                .unwrap_or(all.len()),
            None => 0,
        };
        let page: Vec<&(String, Stored)> = all.iter().skip(start).take(max).collect();
        let mut out = json!({ "CertificateSummaryList": page.iter().map(|(_, s)| self.summary(s)).collect::<Vec<_>>() });
        if start + page.len() < all.len() {
            if let Some((id, _)) = page.last() {
                out["NextToken"] = json!(id);
            }
        }
        Ok(out)
    }

    async fn import_certificate(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let certificate = blob(&input, "Certificate")?;
        let key = SecretBytes::new(blob(&input, "PrivateKey")?);
        let chain = match input.get("CertificateChain") {
            Some(_) => Some(blob(&input, "CertificateChain")?),
            None => None,
        };
        let imported = m2sec_ca::inspect_import(&certificate, key.expose(), chain.as_deref())
            .map_err(ca_error)?;
        let _guard = self.writes.lock().await;
        let (arn, previous) = match text(&input, "CertificateArn") {
            Some(arn) => {
                let stored = self.load_locked(ctx, arn).await?;
                if stored.certificate.kind != "IMPORTED" {
                    return Err(error(
                        "ValidationException",
                        format!("Certificate {arn} was issued by ACM; only imported certificates can be re-imported."),
                    ));
                }
                (arn.to_string(), Some(stored))
            }
            None => (new_certificate_arn(ctx), None),
        };
        // The key as PKCS#8 DER is what ExportCertificate would need; imported certificates keep the PEM
        // they came with, wrapped.
        let wrapped = self.root.wrap(key.expose(), &key_aad(&arn));
        let mut cert = Certificate::requested(
            &ctx.account,
            &arn,
            &imported.domain_name,
            &imported.subject_alternative_names,
            "RSA_2048",
            now_ms(),
        );
        cert.kind = "IMPORTED".into();
        cert.status = "ISSUED".into();
        cert.domains.clear();
        cert.subject_alternative_names = imported.subject_alternative_names.clone();
        if cert.subject_alternative_names.is_empty() {
            cert.subject_alternative_names = vec![imported.domain_name.clone()];
        }
        cert.key_algorithm = imported.key_algorithm.replace('-', "_");
        cert.not_before = Some(imported.not_before);
        cert.not_after = Some(imported.not_after);
        cert.serial = Some(imported.serial.clone());
        cert.issued_at = Some(now_ms());
        if let Some(p) = &previous {
            cert.created_at = p.certificate.created_at;
        }
        let certificate_pem = String::from_utf8_lossy(&certificate).into_owned();
        let stored = Stored {
            certificate: cert,
            tags: previous
                .as_ref()
                .map(|p| p.tags.clone())
                .unwrap_or_default()
                .into_iter()
                .chain(tags_of(&input))
                .collect(),
            export: false,
            material: Some(Material {
                certificate_pem,
                chain_pem: chain
                    .map(|c| String::from_utf8_lossy(&c).into_owned())
                    .unwrap_or_default(),
                wrapped_key: B64.encode(wrapped),
                signature_algorithm: imported.signature_algorithm.clone(),
                key_algorithm_detail: imported.key_algorithm.clone(),
                issuer: imported.issuer.clone(),
                subject: imported.subject.clone(),
            }),
            imported_at: Some(now_ms()),
            revoked_at: None,
            revocation_reason: None,
            in_use_by: previous.map(|p| p.in_use_by).unwrap_or_default(),
            exported: false,
            renewal: None,
        };
        self.save(place(ctx), &stored, false).await?;
        ctx.touch("AWS::ACM::Certificate", &arn);
        Ok(json!({ "CertificateArn": arn }))
    }

    async fn export_certificate(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let arn = text(&input, "CertificateArn").unwrap_or("");
        let passphrase = SecretBytes::new(blob(&input, "Passphrase")?);
        let _guard = self.writes.lock().await;
        let mut stored = self.load_locked(ctx, arn).await?;
        if !stored.export || stored.certificate.kind != "AMAZON_ISSUED" {
            return Err(error(
                "ValidationException",
                format!(
                    "Certificate {arn} is not exportable: request it with Options Export=ENABLED."
                ),
            ));
        }
        let key = self.private_key(&stored)?;
        let private_key =
            m2sec_ca::export_encrypted_pkcs8(&key, passphrase.expose()).map_err(ca_error)?;
        stored.exported = true;
        self.save(place(ctx), &stored, false).await?;
        let material = stored
            .material
            .as_ref()
            .expect("issued certificates have material");
        Ok(json!({
            "Certificate": material.certificate_pem,
            "CertificateChain": material.chain_pem,
            "PrivateKey": private_key,
        }))
    }

    async fn modify<F>(
        &self,
        ctx: &RequestContext,
        arn: &str,
        change: F,
    ) -> Result<Stored, AwsError>
    where
        F: FnOnce(&mut Stored) -> Result<(), AwsError>,
    {
        let _guard = self.writes.lock().await;
        let mut stored = self.load_locked(ctx, arn).await?;
        change(&mut stored)?;
        self.save(place(ctx), &stored, false).await?;
        Ok(stored)
    }

    async fn renew_certificate(&self, ctx: &RequestContext, arn: &str) -> Result<Value, AwsError> {
        let _guard = self.writes.lock().await;
        let mut stored = self.load_locked(ctx, arn).await?;
        if stored.certificate.kind != "AMAZON_ISSUED" || stored.certificate.status != "ISSUED" {
            return Err(error(
                "ValidationException",
                format!("Certificate {arn} is not eligible for renewal: only certificates issued by ACM and in status ISSUED are."),
            ));
        }
        self.issue(&mut stored).await?;
        self.save(place(ctx), &stored, false).await?;
        Ok(json!({}))
    }

    async fn account_configuration(&self, ctx: &RequestContext) -> Result<i64, AwsError> {
        Ok(self
            .store
            .get_setting(&format!("{SETTINGS}.{}.{}", ctx.account, ctx.region))
            .await
            .map_err(store_error)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(45))
    }
}

#[async_trait]
impl JsonService for Acm {
    fn model(&self) -> &ServiceModel {
        model()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Vec<u8>, AwsError> {
        let arn = text(&input, "CertificateArn").map(str::to_string);
        let resource = arn.clone().unwrap_or_else(|| "*".into());
        let context = m2sec_iam::authorizer::context(ctx, &[]);
        let supported = !matches!(operation, "ResendValidationEmail" | "SearchCertificates");
        if !supported {
            return Err(AwsError::unsupported("ACM", operation));
        }
        self.authorizer
            .authorize(ctx, &format!("acm:{operation}"), &resource, &context)
            .await?;
        if let Some(a) = &arn {
            if operation != "ImportCertificate" {
                ctx.touch("AWS::ACM::Certificate", a);
            }
        }
        let arn = arn.unwrap_or_default();
        let out = match operation {
            "RequestCertificate" => self.request_certificate(ctx, input).await?,
            "DescribeCertificate" => {
                json!({ "Certificate": self.detail(&self.load(ctx, &arn).await?) })
            }
            "ListCertificates" => self.list_certificates(ctx, input).await?,
            "GetCertificate" => {
                let stored = self.load(ctx, &arn).await?;
                match (&stored.material, stored.certificate.status.as_str()) {
                    (Some(m), "ISSUED" | "REVOKED" | "EXPIRED" | "INACTIVE") => {
                        let mut out = json!({ "Certificate": m.certificate_pem });
                        if !m.chain_pem.is_empty() {
                            out["CertificateChain"] = json!(m.chain_pem);
                        }
                        out
                    }
                    _ => {
                        return Err(error(
                            "RequestInProgressException",
                            format!(
                            "Certificate {arn} is in status {}; it can be retrieved once ISSUED.",
                            stored.certificate.status
                        ),
                        ))
                    }
                }
            }
            "DeleteCertificate" => {
                let _guard = self.writes.lock().await;
                let stored = self.load_locked(ctx, &arn).await?;
                if !stored.in_use_by.is_empty() {
                    return Err(error(
                        "ResourceInUseException",
                        format!(
                            "Certificate {arn} is in use by {}.",
                            stored.in_use_by.join(", ")
                        ),
                    ));
                }
                let id = self.id_of(ctx, &arn)?;
                self.store
                    .delete_document(&ctx.account, &ctx.region, KIND, id)
                    .await
                    .map_err(store_error)?;
                json!({})
            }
            "ImportCertificate" => self.import_certificate(ctx, input).await?,
            "ExportCertificate" => self.export_certificate(ctx, input).await?,
            "RenewCertificate" => self.renew_certificate(ctx, &arn).await?,
            "RevokeCertificate" => {
                let reason = text(&input, "RevocationReason")
                    .unwrap_or("UNSPECIFIED")
                    .to_string();
                let stored = self
                    .modify(ctx, &arn, |s| {
                        if s.certificate.status != "ISSUED" || s.certificate.kind != "AMAZON_ISSUED" {
                            return Err(error("ValidationException", format!("Certificate {arn} cannot be revoked: only issued certificates of ACM can.")));
                        }
                        s.certificate.status = "REVOKED".into();
                        s.revoked_at = Some(now_ms());
                        s.revocation_reason = Some(reason);
                        Ok(())
                    })
                    .await?;
                json!({ "CertificateArn": stored.certificate.arn })
            }
            "UpdateCertificateOptions" => {
                let options = input.get("Options").cloned().unwrap_or(Value::Null);
                self.modify(ctx, &arn, |s| {
                    if let Some(p) = text(&options, "CertificateTransparencyLoggingPreference") {
                        s.certificate.transparency_logging = Some(p.to_string());
                    }
                    if let Some(e) = text(&options, "Export") {
                        s.export = e == "ENABLED";
                    }
                    Ok(())
                })
                .await?;
                json!({})
            }
            "AddTagsToCertificate" => {
                let tags = tags_of(&input);
                self.modify(ctx, &arn, |s| {
                    for (k, v) in tags {
                        s.tags.retain(|(key, _)| *key != k);
                        s.tags.push((k, v));
                    }
                    if s.tags.len() > 50 {
                        return Err(error(
                            "TooManyTagsException",
                            "A certificate can have at most 50 tags.",
                        ));
                    }
                    Ok(())
                })
                .await?;
                json!({})
            }
            "RemoveTagsFromCertificate" => {
                let tags = tags_of(&input);
                self.modify(ctx, &arn, |s| {
                    s.tags.retain(|(k, v)| {
                        !tags
                            .iter()
                            .any(|(tk, tv)| tk == k && (tv.is_none() || tv == v))
                    });
                    Ok(())
                })
                .await?;
                json!({})
            }
            "ListTagsForCertificate" => {
                let stored = self.load(ctx, &arn).await?;
                let tags: Vec<Value> = stored
                    .tags
                    .iter()
                    .map(|(k, v)| match v {
                        Some(v) => json!({ "Key": k, "Value": v }),
                        None => json!({ "Key": k }),
                    })
                    .collect();
                json!({ "Tags": tags })
            }
            "GetAccountConfiguration" => {
                json!({ "ExpiryEvents": { "DaysBeforeExpiry": self.account_configuration(ctx).await? } })
            }
            "PutAccountConfiguration" => {
                if let Some(days) = input
                    .get("ExpiryEvents")
                    .and_then(|e| e.get("DaysBeforeExpiry"))
                    .and_then(Value::as_i64)
                {
                    self.store
                        .put_setting(
                            &format!("{SETTINGS}.{}.{}", ctx.account, ctx.region),
                            &days.to_string(),
                        )
                        .await
                        .map_err(store_error)?;
                }
                json!({})
            }
            other => return Err(AwsError::unsupported("ACM", other)),
        };
        Ok(m2sec_proto::json::to_body(&out))
    }
}
