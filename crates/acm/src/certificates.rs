//! Certificates: RequestCertificate, DescribeCertificate, ListCertificates, GetCertificate,
//! DeleteCertificate, ImportCertificate, ExportCertificate, RenewCertificate, RevokeCertificate,
//! UpdateCertificateOptions.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use m2sec_ca::KeyAlgorithm;
use m2sec_crypto::SecretBytes;
use m2sec_proto::json::Timestamp;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::{now_ms, StoreError};
use serde_json::{json, Value};

use crate::certificate::Certificate;
use crate::error::AcmError;
use crate::records::*;
use crate::service::*;

impl Acm {
    pub(crate) async fn request_certificate(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        if let Some(method) = text(&input, "ValidationMethod") {
            if method != "DNS" {
                return Err(AwsError::from(AcmError::Validation(format!("ValidationMethod {method} is not supported by m2sec: it validates domains through DNS (ValidationMethod DNS)."))));
            }
        }
        if input.get("CertificateAuthorityArn").is_some() {
            return Err(AwsError::from(AcmError::Validation(
                "Private certificates (CertificateAuthorityArn) are not supported by m2sec.".into(),
            )));
        }
        let key_algorithm = text(&input, "KeyAlgorithm").unwrap_or("RSA_2048");
        if KeyAlgorithm::from_name(key_algorithm).is_none() {
            return Err(AwsError::from(AcmError::Validation(format!("KeyAlgorithm {key_algorithm} is not supported; use RSA_2048, EC_prime256v1 or EC_secp384r1."))));
        }
        let domain = text(&input, "DomainName").unwrap_or("").to_string();
        let sans = strings(input.get("SubjectAlternativeNames"));
        for name in std::iter::once(&domain).chain(sans.iter()) {
            if m2sec_route53::names::normalize(name).is_err() || !name.contains('.') {
                return Err(AwsError::from(AcmError::Validation(format!(
                    "The domain name '{name}' is not a valid fully qualified domain name."
                ))));
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

    pub(crate) fn detail(&self, stored: &Stored) -> Value {
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

    pub(crate) fn summary(&self, stored: &Stored) -> Value {
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

    pub(crate) async fn list_certificates(
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

    pub(crate) async fn import_certificate(
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
                    return Err(AwsError::from(AcmError::Validation(format!("Certificate {arn} was issued by ACM; only imported certificates can be re-imported."))));
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

    pub(crate) async fn export_certificate(
        &self,
        ctx: &RequestContext,
        input: Value,
    ) -> Result<Value, AwsError> {
        let arn = text(&input, "CertificateArn").unwrap_or("");
        let passphrase = SecretBytes::new(blob(&input, "Passphrase")?);
        let _guard = self.writes.lock().await;
        let mut stored = self.load_locked(ctx, arn).await?;
        if !stored.export || stored.certificate.kind != "AMAZON_ISSUED" {
            return Err(AwsError::from(AcmError::Validation(format!(
                "Certificate {arn} is not exportable: request it with Options Export=ENABLED."
            ))));
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

    pub(crate) async fn renew_certificate(
        &self,
        ctx: &RequestContext,
        arn: &str,
    ) -> Result<Value, AwsError> {
        let _guard = self.writes.lock().await;
        let mut stored = self.load_locked(ctx, arn).await?;
        if stored.certificate.kind != "AMAZON_ISSUED" || stored.certificate.status != "ISSUED" {
            return Err(AwsError::from(AcmError::Validation(format!("Certificate {arn} is not eligible for renewal: only certificates issued by ACM and in status ISSUED are."))));
        }
        self.issue(&mut stored).await?;
        self.save(place(ctx), &stored, false).await?;
        Ok(json!({}))
    }

    /// DescribeCertificate.
    pub(crate) async fn describe_certificate(
        &self,
        ctx: &RequestContext,
        arn: &str,
    ) -> Result<Value, AwsError> {
        let out = { json!({ "Certificate": self.detail(&self.load(ctx, arn).await?) }) };
        Ok(out)
    }

    /// GetCertificate.
    pub(crate) async fn get_certificate(
        &self,
        ctx: &RequestContext,
        arn: &str,
    ) -> Result<Value, AwsError> {
        let stored = self.load(ctx, arn).await?;
        Ok(
            match (&stored.material, stored.certificate.status.as_str()) {
                (Some(m), "ISSUED" | "REVOKED" | "EXPIRED" | "INACTIVE") => {
                    let mut out = json!({ "Certificate": m.certificate_pem });
                    if !m.chain_pem.is_empty() {
                        out["CertificateChain"] = json!(m.chain_pem);
                    }
                    out
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
        arn: &str,
    ) -> Result<Value, AwsError> {
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
        Ok(json!({}))
    }

    /// RevokeCertificate.
    pub(crate) async fn revoke_certificate(
        &self,
        ctx: &RequestContext,
        arn: &str,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let reason = text(input, "RevocationReason")
            .unwrap_or("UNSPECIFIED")
            .to_string();
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
        Ok(json!({ "CertificateArn": stored.certificate.arn }))
    }

    /// UpdateCertificateOptions.
    pub(crate) async fn update_certificate_options(
        &self,
        ctx: &RequestContext,
        arn: &str,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let options = input.get("Options").cloned().unwrap_or(Value::Null);
        self.modify(ctx, arn, |s| {
            if let Some(p) = text(&options, "CertificateTransparencyLoggingPreference") {
                s.certificate.transparency_logging = Some(p.to_string());
            }
            if let Some(e) = text(&options, "Export") {
                s.export = e == "ENABLED";
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }
}
