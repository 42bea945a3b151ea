//! Custom domain names and their base path mappings: CreateDomainName, GetDomainName,
//! GetDomainNames, UpdateDomainName, DeleteDomainName; Create/Get/Update/Delete BasePathMapping,
//! GetBasePathMappings. A domain name takes an ACM certificate (ISSUED, in the API's Region for a
//! REGIONAL name, in us-east-1 for an EDGE one) and puts itself in the certificate's `InUseBy`.

use m2sec_proto::{AwsError, RequestContext};
use serde_json::Value;

use crate::error::{bad, not_found, ApiGatewayError, Result};
use crate::patch;
use crate::records::*;
use crate::rest_apis::endpoint_configuration;
use crate::service::*;
use crate::shapes::*;

/// The name API Gateway shows for the empty base path.
pub const NO_BASE_PATH: &str = "(none)";

/// Whether a certificate for `names` (wildcards allowed) covers `domain`.
pub(crate) fn covers(names: &[String], domain: &str) -> bool {
    names.iter().any(|n| {
        let n = n.to_ascii_lowercase();
        match n.strip_prefix("*.") {
            Some(rest) => domain
                .split_once('.')
                .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
            None => n == domain,
        }
    })
}

fn acm_error(e: AwsError, arn: &str) -> ApiGatewayError {
    if e.code == "ResourceNotFoundException" {
        bad(format!(
            "Invalid certificate ARN: {arn}. Certificate not found."
        ))
    } else {
        ApiGatewayError::Internal(format!("ACM: {}: {}", e.code, e.message))
    }
}

fn check_domain(name: &str) -> Result<String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = name.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && (l == "*" || l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    });
    if !labels_ok || !name.contains('.') || name.len() > 253 {
        return Err(bad(format!("Invalid domain name: {name}")));
    }
    Ok(name)
}

fn base_path_key(base_path: Option<&str>) -> Result<String> {
    let path = base_path.unwrap_or("").trim_matches('/');
    if path.is_empty() || path == NO_BASE_PATH {
        return Ok(NO_BASE_PATH.into());
    }
    if !path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._+/$".contains(c))
    {
        return Err(bad(format!(
            "Base path '{path}' contains invalid characters: it may contain a-zA-Z0-9-._+$ and /"
        )));
    }
    Ok(path.to_string())
}

impl ApiGateway {
    /// Checks a certificate for `domain` and (with `user`) attaches it.
    async fn use_certificate(
        &self,
        ctx: &RequestContext,
        arn: &str,
        domain: &str,
        edge: bool,
        user: Option<&str>,
    ) -> Result<()> {
        let parsed = m2sec_proto::arn::Arn::parse(arn)
            .filter(|a| a.service == "acm" && a.resource.starts_with("certificate/"))
            .ok_or_else(|| bad(format!("Invalid certificate ARN: {arn}")))?;
        let wanted_region = if edge {
            "us-east-1"
        } else {
            ctx.region.as_str()
        };
        if parsed.region != wanted_region {
            return Err(bad(if edge {
                format!("Invalid certificate ARN: {arn}. Certificate must be in 'us-east-1'.")
            } else {
                format!(
                    "Invalid certificate ARN: {arn}. Certificate must be in the same region as the API ('{}').",
                    ctx.region
                )
            }));
        }
        if parsed.account != ctx.account {
            return Err(bad(format!(
                "Invalid certificate ARN: {arn}. Certificate not found in account {}.",
                ctx.account
            )));
        }
        let cert = self
            .acm
            .certificate_use(&ctx.account, parsed.region, arn)
            .await
            .map_err(|e| acm_error(e, arn))?;
        if cert.status != "ISSUED" {
            return Err(bad(format!(
                "Certificate {arn} in account {} not yet issued",
                ctx.account
            )));
        }
        let mut names = cert.names.clone();
        names.push(cert.domain_name.clone());
        if !covers(&names, domain) {
            return Err(bad(format!(
                "The certificate {arn} does not cover the domain name {domain}"
            )));
        }
        if let Some(user) = user {
            self.acm
                .set_user(&ctx.account, parsed.region, arn, user, true)
                .await
                .map_err(|e| acm_error(e, arn))?;
        }
        Ok(())
    }

    async fn release_certificate(&self, ctx: &RequestContext, arn: &str, user: &str) {
        let region = m2sec_proto::arn::Arn::parse(arn)
            .map(|a| a.region.to_string())
            .unwrap_or_else(|| ctx.region.clone());
        if let Err(e) = self
            .acm
            .set_user(&ctx.account, &region, arn, user, false)
            .await
        {
            // A certificate deleted meanwhile has nobody to release.
            if e.code != "ResourceNotFoundException" {
                tracing::warn!(certificate = %arn, code = %e.code, "could not release a certificate");
            }
        }
    }

    /// CreateDomainName.
    pub(crate) async fn create_domain_name(
        &self,
        ctx: &RequestContext,
        input: CreateDomainNameRequest,
    ) -> Result<Value> {
        let name = check_domain(&input.domain_name)?;
        if input.mutual_tls_authentication.is_some() {
            return Err(bad("Mutual TLS authentication is not supported by m2sec"));
        }
        if input.certificate_body.is_some() {
            return Err(bad(
                "Uploading a certificate body is not supported: import it into ACM and give its ARN",
            ));
        }
        let endpoint = endpoint_configuration(input.endpoint_configuration)?;
        let edge = endpoint.types[0] == "EDGE";
        if endpoint.types[0] == "PRIVATE" {
            return Err(bad(
                "Private custom domain names are not supported by m2sec",
            ));
        }
        let arn_of_domain =
            m2sec_proto::arn::apigateway(&ctx.region, &format!("/domainnames/{name}"));
        let cert = if edge {
            input.certificate_arn.clone()
        } else {
            input.regional_certificate_arn.clone()
        }
        .ok_or_else(|| {
            bad(if edge {
                "A certificate ARN (certificateArn) is required for an EDGE domain name"
            } else {
                "A regional certificate ARN (regionalCertificateArn) is required for a REGIONAL domain name"
            })
        })?;
        let _guard = self.writes.lock().await;
        if self
            .load::<DomainDocument>(&ctx.account, &ctx.region, DOMAIN_KIND, &name)
            .await?
            .is_some()
        {
            return Err(ApiGatewayError::Conflict(
                "The domain name you provided already exists.".into(),
            ));
        }
        self.use_certificate(ctx, &cert, &name, edge, Some(&arn_of_domain))
            .await?;
        let id = new_id(10);
        let domain = DomainName {
            domain_name: name.clone(),
            domain_name_id: id.clone(),
            domain_name_arn: arn_of_domain.clone(),
            certificate_arn: edge.then(|| cert.clone()),
            certificate_name: input.certificate_name.filter(|_| edge),
            certificate_upload_date: edge.then(now_s),
            distribution_domain_name: edge.then(|| format!("d{}.cloudfront.net", new_id(13))),
            distribution_hosted_zone_id: edge.then(|| CLOUDFRONT_HOSTED_ZONE_ID.to_string()),
            regional_certificate_arn: (!edge).then(|| cert.clone()),
            regional_certificate_name: input.regional_certificate_name.filter(|_| !edge),
            regional_domain_name: (!edge)
                .then(|| format!("d-{id}.execute-api.{}.amazonaws.com", ctx.region)),
            regional_hosted_zone_id: (!edge)
                .then(|| regional_hosted_zone_id(&ctx.region).to_string()),
            endpoint_configuration: endpoint,
            domain_name_status: "AVAILABLE".into(),
            security_policy: input.security_policy.unwrap_or_else(|| "TLS_1_2".into()),
            tags: input.tags,
        };
        let doc = DomainDocument {
            domain,
            mappings: Default::default(),
        };
        if let Err(e) = self.save(ctx, DOMAIN_KIND, &name, &doc, true).await {
            self.release_certificate(ctx, &cert, &arn_of_domain).await;
            return Err(e);
        }
        Ok(to_value(&doc.domain))
    }

    /// GetDomainName.
    pub(crate) async fn get_domain_name(
        &self,
        ctx: &RequestContext,
        input: DomainNameId,
    ) -> Result<Value> {
        Ok(to_value(
            &self.domain(ctx, &input.domain_name).await?.domain,
        ))
    }

    /// GetDomainNames.
    pub(crate) async fn get_domain_names(
        &self,
        ctx: &RequestContext,
        input: Listing<Nothing>,
    ) -> Result<Value> {
        let all: Vec<(String, DomainDocument)> =
            self.list(&ctx.account, &ctx.region, DOMAIN_KIND).await?;
        let items = all.into_iter().map(|(k, d)| (k, d.domain)).collect();
        Ok(to_value(&page(items, &input.paging)?))
    }

    /// UpdateDomainName: the certificate (swapped at the edge on the next handshake) and the
    /// security policy.
    pub(crate) async fn update_domain_name(
        &self,
        ctx: &RequestContext,
        input: Patch<DomainNameId>,
    ) -> Result<Value> {
        let _guard = self.writes.lock().await;
        let mut doc = self.domain(ctx, &input.target.domain_name).await?;
        let edge = doc
            .domain
            .endpoint_configuration
            .types
            .first()
            .map(String::as_str)
            == Some("EDGE");
        let old_cert = if edge {
            doc.domain.certificate_arn.clone()
        } else {
            doc.domain.regional_certificate_arn.clone()
        };
        let mut new_cert = None;
        patch::apply(&input.patch_operations, |c| {
            match c.path.as_str() {
                "/regionalCertificateArn" if !edge => new_cert = Some(c.value()?.to_string()),
                "/certificateArn" if edge => new_cert = Some(c.value()?.to_string()),
                "/regionalCertificateName" => {
                    doc.domain.regional_certificate_name = c.value.map(str::to_string)
                }
                "/certificateName" => doc.domain.certificate_name = c.value.map(str::to_string),
                "/securityPolicy" => {
                    let p = c.value()?;
                    let known = SECURITY_POLICIES;
                    if !known.contains(&p) {
                        return Err(bad(format!(
                            "Invalid security policy {p}: must be one of {}",
                            known.join(", ")
                        )));
                    }
                    doc.domain.security_policy = p.to_string();
                }
                _ => {
                    return Err(c.unsupported(&[
                        if edge {
                            "/certificateArn"
                        } else {
                            "/regionalCertificateArn"
                        },
                        "/securityPolicy",
                        "/certificateName",
                        "/regionalCertificateName",
                    ]))
                }
            }
            Ok(())
        })?;
        let user = doc.domain.domain_name_arn.clone();
        if let Some(cert) = new_cert
            .as_deref()
            .filter(|c| Some(*c) != old_cert.as_deref())
        {
            self.use_certificate(ctx, cert, &doc.domain.domain_name, edge, Some(&user))
                .await?;
            if edge {
                doc.domain.certificate_arn = Some(cert.to_string());
                doc.domain.certificate_upload_date = Some(now_s());
            } else {
                doc.domain.regional_certificate_arn = Some(cert.to_string());
            }
        }
        let key = doc.domain.domain_name.clone();
        self.save(ctx, DOMAIN_KIND, &key, &doc, false).await?;
        if let (Some(old), Some(new)) = (&old_cert, &new_cert) {
            if old != new {
                self.release_certificate(ctx, old, &user).await;
            }
        }
        Ok(to_value(&doc.domain))
    }

    /// DeleteDomainName, with its mappings; its certificate is released.
    pub(crate) async fn delete_domain_name(
        &self,
        ctx: &RequestContext,
        input: DomainNameId,
    ) -> Result<Value> {
        let _guard = self.writes.lock().await;
        let doc = self.domain(ctx, &input.domain_name).await?;
        self.remove(ctx, DOMAIN_KIND, &doc.domain.domain_name)
            .await?;
        for cert in [
            &doc.domain.certificate_arn,
            &doc.domain.regional_certificate_arn,
        ]
        .into_iter()
        .flatten()
        {
            self.release_certificate(ctx, cert, &doc.domain.domain_name_arn)
                .await;
        }
        Ok(to_value(&Empty {}))
    }

    /// Checks that `api` exists and, if given, has `stage`.
    async fn check_target(
        &self,
        ctx: &RequestContext,
        api: &str,
        stage: Option<&str>,
    ) -> Result<()> {
        let doc = self
            .load::<ApiDocument>(&ctx.account, &ctx.region, API_KIND, api)
            .await?
            .ok_or_else(|| bad("Invalid REST API identifier specified"))?;
        if let Some(stage) = stage {
            if !doc.stages.contains_key(stage) {
                return Err(bad("Invalid stage identifier specified"));
            }
        }
        Ok(())
    }

    /// CreateBasePathMapping.
    pub(crate) async fn create_base_path_mapping(
        &self,
        ctx: &RequestContext,
        input: CreateBasePathMappingRequest,
    ) -> Result<Value> {
        let key = base_path_key(input.base_path.as_deref())?;
        let stage = input.stage.filter(|s| !s.is_empty());
        self.check_target(ctx, &input.rest_api_id, stage.as_deref())
            .await?;
        let mapping = BasePathMapping {
            base_path: key.clone(),
            rest_api_id: input.rest_api_id,
            stage,
        };
        self.modify_domain(ctx, &input.domain_name, |doc| {
            if doc.mappings.contains_key(&key) {
                return Err(ApiGatewayError::Conflict(
                    "Base path already exists for this domain name".into(),
                ));
            }
            doc.mappings.insert(key.clone(), mapping.clone());
            Ok(())
        })
        .await?;
        Ok(to_value(&mapping))
    }

    /// GetBasePathMapping.
    pub(crate) async fn get_base_path_mapping(
        &self,
        ctx: &RequestContext,
        input: BasePathId,
    ) -> Result<Value> {
        let key = base_path_key(Some(&input.base_path))?;
        let doc = self.domain(ctx, &input.domain_name).await?;
        let m = doc
            .mappings
            .get(&key)
            .ok_or_else(|| not_found("base path mapping identifier"))?;
        Ok(to_value(m))
    }

    /// GetBasePathMappings.
    pub(crate) async fn get_base_path_mappings(
        &self,
        ctx: &RequestContext,
        input: Listing<DomainNameId>,
    ) -> Result<Value> {
        let doc = self.domain(ctx, &input.target.domain_name).await?;
        let items = doc.mappings.into_iter().collect();
        Ok(to_value(&page(items, &input.paging)?))
    }

    /// UpdateBasePathMapping: `/basePath`, `/restapiId`, `/stage`.
    pub(crate) async fn update_base_path_mapping(
        &self,
        ctx: &RequestContext,
        input: Patch<BasePathId>,
    ) -> Result<Value> {
        let key = base_path_key(Some(&input.target.base_path))?;
        let doc = self.domain(ctx, &input.target.domain_name).await?;
        let mut mapping = doc
            .mappings
            .get(&key)
            .cloned()
            .ok_or_else(|| not_found("base path mapping identifier"))?;
        patch::apply(&input.patch_operations, |c| {
            match c.path.as_str() {
                "/basePath" => mapping.base_path = base_path_key(c.value)?,
                "/restapiId" | "/restApiId" => mapping.rest_api_id = c.value()?.to_string(),
                "/stage" => mapping.stage = c.value.filter(|s| !s.is_empty()).map(str::to_string),
                _ => return Err(c.unsupported(&["/basePath", "/restapiId", "/stage"])),
            }
            Ok(())
        })?;
        self.check_target(ctx, &mapping.rest_api_id, mapping.stage.as_deref())
            .await?;
        let out = mapping.clone();
        self.modify_domain(ctx, &input.target.domain_name, |doc| {
            if doc.mappings.remove(&key).is_none() {
                return Err(not_found("base path mapping identifier"));
            }
            if doc.mappings.contains_key(&mapping.base_path) {
                return Err(ApiGatewayError::Conflict(
                    "Base path already exists for this domain name".into(),
                ));
            }
            doc.mappings.insert(mapping.base_path.clone(), mapping);
            Ok(())
        })
        .await?;
        Ok(to_value(&out))
    }

    /// DeleteBasePathMapping.
    pub(crate) async fn delete_base_path_mapping(
        &self,
        ctx: &RequestContext,
        input: BasePathId,
    ) -> Result<Value> {
        let key = base_path_key(Some(&input.base_path))?;
        self.modify_domain(ctx, &input.domain_name, |doc| {
            doc.mappings
                .remove(&key)
                .ok_or_else(|| not_found("base path mapping identifier"))?;
            Ok(())
        })
        .await?;
        Ok(to_value(&Empty {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        let names = vec!["*.fanops.com".to_string(), "fanops.com".to_string()];
        assert!(covers(&names, "api.fanops.com"));
        assert!(covers(&names, "fanops.com"));
        assert!(!covers(&names, "a.b.fanops.com"));
        assert!(!covers(&names, "fanops.org"));
    }

    #[test]
    fn security_policies_are_the_models() {
        let model: serde_json::Value =
            serde_json::from_str(include_str!("../../proto/models/apigateway.json")).unwrap();
        let listed: Vec<&str> = model["shapes"]["SecurityPolicy"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(listed, SECURITY_POLICIES);
    }

    #[test]
    fn base_paths_are_normalized() {
        assert_eq!(base_path_key(None).unwrap(), NO_BASE_PATH);
        assert_eq!(base_path_key(Some("")).unwrap(), NO_BASE_PATH);
        assert_eq!(base_path_key(Some("(none)")).unwrap(), NO_BASE_PATH);
        assert_eq!(base_path_key(Some("/v1/")).unwrap(), "v1");
        assert!(base_path_key(Some("a b")).is_err());
    }
}
