//! The ACM service (`CertificateManager.<Op>`, awsJson1.1): certificates requested with DNS validation and
//! issued by m2sec's CA once every name's validation CNAME is in one of m2sec's Route53 zones, imported
//! certificates, tags and the account configuration. A pending certificate is checked against m2sec's
//! own zones whenever it is described or fetched (so `aws acm wait certificate-validated` sees it issued
//! as soon as its record is in place); the background job ([`Acm::run_due_jobs`]) also asks the
//! configured upstream DNS servers, and renews issued certificates.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use m2sec_ca::{Ca, IssueRequest, KeyAlgorithm};
use m2sec_crypto::{RootKey, SecretBytes};
use m2sec_iam::Authorizer;
use m2sec_proto::json::JsonService;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::{Document, Store, StoreError};
use serde_json::Value;

use crate::error::AcmError;
use crate::operations::AcmOperation;
use crate::records::*;

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::from_json(include_str!("../../proto/models/acm.json")))
}

/// AWS's default filter of ListCertificates when `Includes.keyTypes` is not given.
pub(crate) const DEFAULT_KEY_TYPES: &[&str] = &["RSA_1024", "RSA_2048"];

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

pub struct Acm {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) root: Arc<RootKey>,
    pub(crate) authorizer: Arc<Authorizer>,
    pub(crate) ca: tokio::sync::OnceCell<Ca>,
    pub(crate) writes: tokio::sync::Mutex<()>,
    pub(crate) settings: Settings,
    /// Wakes the background job (a pending certificate was read while upstream servers may hold its
    /// records).
    pub(crate) wake: Option<Arc<tokio::sync::Notify>>,
}

use m2sec_store::now_ms;

/// A new certificate's ARN in the caller's account and region.
pub(crate) fn new_certificate_arn(ctx: &RequestContext) -> String {
    m2sec_proto::arn::build(
        "acm",
        &ctx.region,
        &ctx.account,
        &format!("certificate/{}", m2sec_proto::random_uuid()),
    )
}

pub(crate) fn store_error(e: StoreError) -> AwsError {
    AwsError::from(AcmError::Store(e))
}

pub(crate) fn ca_error(e: m2sec_ca::CaError) -> AwsError {
    match e {
        m2sec_ca::CaError::InvalidRequest(m) | m2sec_ca::CaError::InvalidInput(m) => {
            AwsError::from(AcmError::Validation(m))
        }
        other => AwsError::from(AcmError::Internal(format!(
            "certificate authority: {other}"
        ))),
    }
}

pub(crate) fn key_aad(arn: &str) -> Vec<u8> {
    format!("m2sec acm private key {arn}").into_bytes()
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

    pub(crate) async fn ca(&self) -> Result<&Ca, AwsError> {
        self.ca
            .get_or_try_init(|| async {
                Ca::open_or_create(self.store.as_ref(), &self.root, "m2sec")
                    .await
                    .map_err(ca_error)
            })
            .await
    }

    pub(crate) fn id_of<'a>(
        &self,
        ctx: &RequestContext,
        arn: &'a str,
    ) -> Result<&'a str, AwsError> {
        let parsed = m2sec_proto::arn::Arn::parse(arn)
            .filter(|a| a.service == "acm" && a.resource.starts_with("certificate/"))
            .ok_or_else(|| {
                AwsError::from(AcmError::InvalidArn(format!(
                    "{arn} is not a valid certificate ARN"
                )))
            })?;
        if parsed.region != ctx.region || parsed.account != ctx.account {
            return Err(AwsError::from(AcmError::NotFound(format!(
                "Could not find certificate {arn}."
            ))));
        }
        Ok(arn.rsplit('/').next().unwrap_or(""))
    }

    /// A certificate for a reader that does not hold the write lock, checked against m2sec's zones if
    /// pending. When that would change it (a record now in place, the window over), the change is made
    /// under the write lock on a fresh read, so a reader and the background job never both issue it.
    pub(crate) async fn load(&self, ctx: &RequestContext, arn: &str) -> Result<Stored, AwsError> {
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
    pub(crate) async fn load_locked(
        &self,
        ctx: &RequestContext,
        arn: &str,
    ) -> Result<Stored, AwsError> {
        let stored = self.read(ctx, arn).await?;
        self.refresh(place(ctx), stored).await
    }

    /// Wakes the background job for a certificate still pending once m2sec's zones are checked, when
    /// upstream DNS servers may hold its records.
    pub(crate) fn nudge(&self, stored: &Stored) {
        if stored.certificate.status == "PENDING_VALIDATION" && !self.settings.upstream.is_empty() {
            if let Some(wake) = &self.wake {
                wake.notify_one();
            }
        }
    }

    /// A certificate as stored.
    pub(crate) async fn read(&self, ctx: &RequestContext, arn: &str) -> Result<Stored, AwsError> {
        let id = self.id_of(ctx, arn)?;
        let doc = self
            .store
            .get_document(&ctx.account, &ctx.region, KIND, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                AwsError::from(AcmError::NotFound(format!(
                    "Could not find certificate {arn}."
                )))
            })?;
        serde_json::from_str(&doc.body).map_err(|e| store_error(StoreError::Corrupt(e.to_string())))
    }

    pub(crate) async fn save(
        &self,
        at: Place<'_>,
        stored: &Stored,
        create: bool,
    ) -> Result<(), AwsError> {
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
    pub(crate) async fn refresh(
        &self,
        at: Place<'_>,
        mut stored: Stored,
    ) -> Result<Stored, AwsError> {
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

    pub(crate) async fn issue(&self, stored: &mut Stored) -> Result<(), AwsError> {
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

    pub(crate) fn private_key(&self, stored: &Stored) -> Result<SecretBytes, AwsError> {
        let material = stored.material.as_ref().ok_or_else(|| {
            AwsError::from(AcmError::RequestInProgress(format!(
                "Certificate {} is not issued yet.",
                stored.certificate.arn
            )))
        })?;
        let wrapped = B64
            .decode(&material.wrapped_key)
            .map_err(|e| store_error(StoreError::Corrupt(e.to_string())))?;
        self.root
            .unwrap(&wrapped, &key_aad(&stored.certificate.arn))
            .map_err(|_| {
                AwsError::from(AcmError::Internal(
                    "a certificate's private key does not unwrap under the root key".into(),
                ))
            })
    }

    pub(crate) async fn modify<F>(
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
        let arn = input
            .get("CertificateArn")
            .and_then(Value::as_str)
            .map(str::to_string);
        let resource = arn.clone().unwrap_or_else(|| "*".into());
        let context = m2sec_iam::authorizer::context(ctx, &[]);
        let op = AcmOperation::from_name(operation)
            .filter(|o| o.implemented())
            .ok_or_else(|| AwsError::unsupported("ACM", operation))?;
        self.authorizer
            .authorize(ctx, &op.action(), &resource, &context)
            .await?;
        if let Some(a) = &arn {
            if op != AcmOperation::ImportCertificate {
                ctx.touch("AWS::ACM::Certificate", a);
            }
        }
        use m2sec_proto::run_json as run;
        use AcmOperation as Op;
        match op {
            Op::RequestCertificate => run!(self.request_certificate(ctx, input)),
            Op::DescribeCertificate => run!(self.describe_certificate(ctx, input)),
            Op::ListCertificates => run!(self.list_certificates(ctx, input)),
            Op::GetCertificate => run!(self.get_certificate(ctx, input)),
            Op::DeleteCertificate => run!(self.delete_certificate(ctx, input)),
            Op::ImportCertificate => run!(self.import_certificate(ctx, input)),
            Op::ExportCertificate => run!(self.export_certificate(ctx, input)),
            Op::RenewCertificate => run!(self.renew_certificate(ctx, input)),
            Op::RevokeCertificate => run!(self.revoke_certificate(ctx, input)),
            Op::UpdateCertificateOptions => run!(self.update_certificate_options(ctx, input)),
            Op::AddTagsToCertificate => run!(self.add_tags(ctx, input)),
            Op::RemoveTagsFromCertificate => run!(self.remove_tags(ctx, input)),
            Op::ListTagsForCertificate => run!(self.list_tags(ctx, input)),
            Op::GetAccountConfiguration => run!(self.get_account_configuration(ctx, input)),
            Op::PutAccountConfiguration => run!(self.put_account_configuration(ctx, input)),
            Op::ResendValidationEmail | Op::SearchCertificates => {
                Err(AwsError::unsupported("ACM", operation))
            }
        }
    }
}
