//! Certificates: RequestCertificate, DescribeCertificate, ListCertificates, GetCertificate,
//! DeleteCertificate, ImportCertificate, ExportCertificate, RenewCertificate, RevokeCertificate,
//! UpdateCertificateOptions.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use m2sec_ca::KeyAlgorithm;
use m2sec_proto::json::Timestamp;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::{now_ms, StoreError};
use zeroize::Zeroizing;

use crate::certificate::Certificate;
use crate::error::AcmError;
use crate::records::*;
use crate::service::*;
use crate::shapes::*;

/// ExportOption / Options.Export as the API spells it.
fn export_option(stored: &Stored) -> &'static str {
    if stored.export {
        "ENABLED"
    } else {
        "DISABLED"
    }
}

impl Acm {
    pub(crate) async fn request_certificate(
        &self,
        ctx: &RequestContext,
        input: RequestCertificateRequest,
    ) -> Result<CertificateArnOutput, AwsError> {
        if let Some(method) = &input.validation_method {
            if method != "DNS" {
                return Err(AwsError::from(AcmError::Validation(format!("ValidationMethod {method} is not supported by m2sec: it validates domains through DNS (ValidationMethod DNS)."))));
            }
        }
        if input.certificate_authority_arn.is_some() {
            return Err(AwsError::from(AcmError::Validation(
                "Private certificates (CertificateAuthorityArn) are not supported by m2sec.".into(),
            )));
        }
        let key_algorithm = input.key_algorithm.as_deref().unwrap_or("RSA_2048");
        if KeyAlgorithm::from_name(key_algorithm).is_none() {
            return Err(AwsError::from(AcmError::Validation(format!("KeyAlgorithm {key_algorithm} is not supported; use RSA_2048, EC_prime256v1 or EC_secp384r1."))));
        }
        let domain = input.domain_name.clone();
        let sans = &input.subject_alternative_names;
        for name in std::iter::once(&domain).chain(sans.iter()) {
            if m2sec_route53::names::normalize(name).is_err() || !name.contains('.') {
                return Err(AwsError::from(AcmError::Validation(format!(
                    "The domain name '{name}' is not a valid fully qualified domain name."
                ))));
            }
        }
        let token = input.idempotency_token.clone();
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
                        return Ok(CertificateArnOutput {
                            certificate_arn: s.certificate.arn,
                        });
                    }
                }
            }
        }
        let arn = new_certificate_arn(ctx);
        let mut certificate =
            Certificate::requested(&ctx.account, &arn, &domain, sans, key_algorithm, now_ms());
        certificate.idempotency_token = token;
        let options = input.options.unwrap_or_default();
        certificate.transparency_logging = options.certificate_transparency_logging_preference;
        let stored = Stored {
            certificate,
            tags: input.tags.into_iter().map(Tag::pair).collect(),
            export: options.export.as_deref() == Some("ENABLED"),
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
        Ok(CertificateArnOutput {
            certificate_arn: arn,
        })
    }

    pub(crate) fn detail(&self, stored: &Stored) -> CertificateDetail {
        let c = &stored.certificate;
        let imported = c.kind == "IMPORTED";
        let validations: Option<Vec<DomainValidation>> = (!imported).then(|| {
            c.domains
                .iter()
                .map(|v| DomainValidation {
                    domain_name: v.domain_name.clone(),
                    validation_domain: v.domain_name.clone(),
                    validation_status: v.status.clone(),
                    validation_method: "DNS",
                    resource_record: ResourceRecord {
                        name: v.record_name.clone(),
                        kind: "CNAME",
                        value: v.record_value.clone(),
                    },
                })
                .collect()
        });
        let material = stored.material.as_ref();
        CertificateDetail {
            certificate_arn: c.arn.clone(),
            domain_name: c.domain_name.clone(),
            subject_alternative_names: c.subject_alternative_names.clone(),
            status: c.status.clone(),
            kind: c.kind.clone(),
            created_at: Timestamp(c.created_at),
            in_use_by: stored.in_use_by.clone(),
            key_algorithm: material.map_or_else(
                || {
                    KeyAlgorithm::from_name(&c.key_algorithm)
                        .map_or("RSA-2048", |k| k.detail_name())
                        .to_string()
                },
                |m| m.key_algorithm_detail.clone(),
            ),
            // As in ACM: managed renewal is for certificates that are in use.
            renewal_eligibility: if !imported
                && c.status == "ISSUED"
                && !stored.in_use_by.is_empty()
            {
                "ELIGIBLE"
            } else {
                "INELIGIBLE"
            },
            options: CertificateOptions {
                certificate_transparency_logging_preference: Some(
                    c.transparency_logging
                        .clone()
                        .unwrap_or_else(|| "ENABLED".into()),
                ),
                export: Some(export_option(stored).into()),
            },
            renewal_summary: stored.renewal.as_ref().map(|r| RenewalSummary {
                renewal_status: r.status.clone(),
                domain_validation_options: validations.clone().unwrap_or_default(),
                updated_at: Timestamp(r.updated_at),
                renewal_status_reason: r.reason.clone(),
            }),
            domain_validation_options: validations,
            serial: material.and(c.serial.clone()),
            subject: material.map(|m| m.subject.clone()),
            issuer: material.map(|m| m.issuer.clone()),
            signature_algorithm: material.map(|m| m.signature_algorithm.clone()),
            key_usages: material.map(|_| {
                vec![
                    KeyUsage {
                        name: "DIGITAL_SIGNATURE",
                    },
                    KeyUsage {
                        name: "KEY_ENCIPHERMENT",
                    },
                ]
            }),
            extended_key_usages: material.map(|_| {
                vec![
                    ExtendedKeyUsage {
                        name: "TLS_WEB_SERVER_AUTHENTICATION",
                        oid: "1.3.6.1.5.5.7.3.1",
                    },
                    ExtendedKeyUsage {
                        name: "TLS_WEB_CLIENT_AUTHENTICATION",
                        oid: "1.3.6.1.5.5.7.3.2",
                    },
                ]
            }),
            issued_at: c.issued_at.filter(|_| !imported).map(Timestamp),
            imported_at: stored.imported_at.map(Timestamp),
            not_before: c.not_before.map(Timestamp),
            not_after: c.not_after.map(Timestamp),
            revoked_at: stored.revoked_at.map(Timestamp),
            revocation_reason: stored.revocation_reason.clone(),
            failure_reason: matches!(c.status.as_str(), "VALIDATION_TIMED_OUT" | "FAILED")
                .then_some("OTHER"),
        }
    }

    pub(crate) fn summary(&self, stored: &Stored) -> CertificateSummary {
        let d = self.detail(stored);
        let issued = stored.material.is_some();
        CertificateSummary {
            certificate_arn: d.certificate_arn,
            domain_name: d.domain_name,
            subject_alternative_name_summaries: d.subject_alternative_names,
            has_additional_subject_alternative_names: false,
            status: d.status,
            kind: d.kind,
            // Summaries spell key algorithms as the API's enum does (`RSA_2048`).
            key_algorithm: d.key_algorithm.replace('-', "_"),
            in_use: !stored.in_use_by.is_empty(),
            renewal_eligibility: d.renewal_eligibility,
            created_at: d.created_at,
            export_option: export_option(stored),
            exported: stored.exported,
            issued_at: d.issued_at,
            imported_at: d.imported_at,
            not_before: d.not_before,
            not_after: d.not_after,
            revoked_at: d.revoked_at,
            key_usages: issued.then(|| vec!["DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT"]),
            extended_key_usages: issued.then(|| {
                vec![
                    "TLS_WEB_SERVER_AUTHENTICATION",
                    "TLS_WEB_CLIENT_AUTHENTICATION",
                ]
            }),
        }
    }

    pub(crate) async fn list_certificates(
        &self,
        ctx: &RequestContext,
        input: ListCertificatesRequest,
    ) -> Result<ListCertificatesResponse, AwsError> {
        let statuses = input.certificate_statuses;
        let key_types = match input.includes.and_then(|i| i.key_types) {
            Some(list) => list,
            None => DEFAULT_KEY_TYPES.iter().map(|s| s.to_string()).collect(),
        };
        let max = input.max_items.unwrap_or(1000);
        let after = input.next_token;
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
        let next_token = if start + page.len() < all.len() {
            page.last().map(|(id, _)| id.clone())
        } else {
            None
        };
        Ok(ListCertificatesResponse {
            certificate_summary_list: page.iter().map(|(_, s)| self.summary(s)).collect(),
            next_token,
        })
    }

    pub(crate) async fn import_certificate(
        &self,
        ctx: &RequestContext,
        input: ImportCertificateRequest,
    ) -> Result<CertificateArnOutput, AwsError> {
        let certificate = input.certificate.0;
        let key = input.private_key;
        let chain = input.certificate_chain.map(|c| c.0);
        let imported =
            m2sec_ca::inspect_import(&certificate, &key.0, chain.as_deref()).map_err(ca_error)?;
        let _guard = self.writes.lock().await;
        let (arn, previous) = match input.certificate_arn.as_deref() {
            Some(arn) => {
                let stored = self.load_locked(ctx, arn).await?;
                if stored.certificate.kind != "IMPORTED" {
                    return Err(AwsError::from(AcmError::Validation(format!("Certificate {arn} was issued by ACM; only imported certificates can be re-imported."))));
                }
                (arn.to_string(), Some(stored))
            }
            None => (new_certificate_arn(ctx), None),
        };
        // The key as PKCS#8 DER is what ExportCertificate would need; imported certificates keep the PEM
        // they came with, wrapped.
        let wrapped = self.root.wrap(&key.0, &key_aad(&arn));
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
                .chain(input.tags.into_iter().map(Tag::pair))
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
        Ok(CertificateArnOutput {
            certificate_arn: arn,
        })
    }

    pub(crate) async fn export_certificate(
        &self,
        ctx: &RequestContext,
        input: ExportCertificateRequest,
    ) -> Result<ExportCertificateResponse, AwsError> {
        let arn = input.certificate_arn.as_str();
        let passphrase = input.passphrase;
        let _guard = self.writes.lock().await;
        let mut stored = self.load_locked(ctx, arn).await?;
        if !stored.export || stored.certificate.kind != "AMAZON_ISSUED" {
            return Err(AwsError::from(AcmError::Validation(format!(
                "Certificate {arn} is not exportable: request it with Options Export=ENABLED."
            ))));
        }
        let key = self.private_key(&stored)?;
        let private_key =
            m2sec_ca::export_encrypted_pkcs8(&key, &passphrase.0).map_err(ca_error)?;
        stored.exported = true;
        self.save(place(ctx), &stored, false).await?;
        let material = stored
            .material
            .as_ref()
            .expect("issued certificates have material");
        Ok(ExportCertificateResponse {
            certificate: material.certificate_pem.clone(),
            certificate_chain: material.chain_pem.clone(),
            private_key: Zeroizing::new(private_key),
        })
    }

    pub(crate) async fn renew_certificate(
        &self,
        ctx: &RequestContext,
        input: CertificateArnInput,
    ) -> Result<Empty, AwsError> {
        let arn = input.certificate_arn.as_str();
        let _guard = self.writes.lock().await;
        let mut stored = self.load_locked(ctx, arn).await?;
        if stored.certificate.kind != "AMAZON_ISSUED" || stored.certificate.status != "ISSUED" {
            return Err(AwsError::from(AcmError::Validation(format!("Certificate {arn} is not eligible for renewal: only certificates issued by ACM and in status ISSUED are."))));
        }
        self.issue(&mut stored).await?;
        self.save(place(ctx), &stored, false).await?;
        Ok(Empty {})
    }

    /// DescribeCertificate.
    pub(crate) async fn describe_certificate(
        &self,
        ctx: &RequestContext,
        input: CertificateArnInput,
    ) -> Result<DescribeCertificateResponse, AwsError> {
        let stored = self.load(ctx, &input.certificate_arn).await?;
        Ok(DescribeCertificateResponse {
            certificate: self.detail(&stored),
        })
    }

    /// GetCertificate.
    pub(crate) async fn get_certificate(
        &self,
        ctx: &RequestContext,
        input: CertificateArnInput,
    ) -> Result<GetCertificateResponse, AwsError> {
        let arn = input.certificate_arn.as_str();
        let stored = self.load(ctx, arn).await?;
        Ok(
            match (&stored.material, stored.certificate.status.as_str()) {
                (Some(m), "ISSUED" | "REVOKED" | "EXPIRED" | "INACTIVE") => {
                    GetCertificateResponse {
                        certificate: m.certificate_pem.clone(),
                        certificate_chain: (!m.chain_pem.is_empty()).then(|| m.chain_pem.clone()),
                    }
                }
                _ => {
                    return Err(AwsError::from(AcmError::RequestInProgress(format!(
                        "Certificate {arn} is in status {}; it can be retrieved once ISSUED.",
                        stored.certificate.status
                    ))))
                }
            },
        )
    }

    /// DeleteCertificate.
    pub(crate) async fn delete_certificate(
        &self,
        ctx: &RequestContext,
        input: CertificateArnInput,
    ) -> Result<Empty, AwsError> {
        let arn = input.certificate_arn.as_str();
        let _guard = self.writes.lock().await;
        let stored = self.load_locked(ctx, arn).await?;
        if !stored.in_use_by.is_empty() {
            return Err(AwsError::from(AcmError::ResourceInUse(format!(
                "Certificate {arn} is in use by {}.",
                stored.in_use_by.join(", ")
            ))));
        }
        let id = self.id_of(ctx, arn)?;
        self.store
            .delete_document(&ctx.account, &ctx.region, KIND, id)
            .await
            .map_err(store_error)?;
        Ok(Empty {})
    }

    /// RevokeCertificate.
    pub(crate) async fn revoke_certificate(
        &self,
        ctx: &RequestContext,
        input: RevokeCertificateRequest,
    ) -> Result<CertificateArnOutput, AwsError> {
        let arn = input.certificate_arn.as_str();
        let reason = input
            .revocation_reason
            .unwrap_or_else(|| "UNSPECIFIED".into());
        let stored = self
            .modify(ctx, arn, |s| {
                if s.certificate.status != "ISSUED" || s.certificate.kind != "AMAZON_ISSUED" {
                    return Err(AwsError::from(AcmError::Validation(format!(
                        "Certificate {arn} cannot be revoked: only issued certificates of ACM can."
                    ))));
                }
                s.certificate.status = "REVOKED".into();
                s.revoked_at = Some(now_ms());
                s.revocation_reason = Some(reason);
                Ok(())
            })
            .await?;
        Ok(CertificateArnOutput {
            certificate_arn: stored.certificate.arn,
        })
    }

    /// UpdateCertificateOptions.
    pub(crate) async fn update_certificate_options(
        &self,
        ctx: &RequestContext,
        input: UpdateCertificateOptionsRequest,
    ) -> Result<Empty, AwsError> {
        let options = input.options;
        self.modify(ctx, &input.certificate_arn, |s| {
            if let Some(p) = options.certificate_transparency_logging_preference {
                s.certificate.transparency_logging = Some(p);
            }
            if let Some(e) = options.export {
                s.export = e == "ENABLED";
            }
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
