//! serverless-domain-manager's part: the custom domain name with its certificate, the base path
//! mapping to the stage, and the Route53 alias record.

use serde_json::{json, Value as Json};

use crate::converge::Deployer;
use crate::plan::{self, Plan};
use crate::DeployError;

impl Deployer<'_> {
    async fn certificate(&self, plan: &Plan, domain: &plan::Domain) -> Result<String, DeployError> {
        if let Some(arn) = &domain.certificate_arn {
            return Ok(arn.clone());
        }
        let wanted = domain.certificate_name.as_deref().unwrap_or(&domain.name);
        let list = self
            .call(
                "acm",
                "ListCertificates",
                json!({"CertificateStatuses": ["ISSUED"], "MaxItems": 1000}),
            )
            .await?;
        list["CertificateSummaryList"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["DomainName"] == wanted)
            .and_then(|c| c["CertificateArn"].as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                DeployError::Template(format!(
                    "custom.customDomain: no ISSUED certificate for {wanted} in {}; request and validate one first (aws acm request-certificate --domain-name {wanted} --validation-method DNS)",
                    plan.region
                ))
            })
    }

    pub(crate) async fn converge_domain(
        &mut self,
        plan: &Plan,
        domain: &plan::Domain,
        api_id: &str,
        record: &mut Json,
    ) -> Result<(), DeployError> {
        let certificate = self.certificate(plan, domain).await?;
        let name = &domain.name;
        let mut described = self
            .find(
                "apigateway",
                "GetDomainName",
                json!({"domainName": name}),
                "NotFoundException",
            )
            .await?;
        match &described {
            None => {
                described = Some(
                    self.call(
                        "apigateway",
                        "CreateDomainName",
                        json!({"domainName": name, "regionalCertificateArn": certificate,
                               "endpointConfiguration": {"types": ["REGIONAL"]}, "securityPolicy": domain.security_policy}),
                    )
                    .await?,
                );
                record["domain_created"] = json!(name);
                self.line(format!("domain name {name}: created"));
            }
            Some(d) if d["regionalCertificateArn"].as_str() != Some(&certificate) => {
                described = Some(
                    self.call(
                        "apigateway",
                        "UpdateDomainName",
                        json!({"domainName": name, "patchOperations": [{"op": "replace", "path": "/regionalCertificateArn", "value": certificate}]}),
                    )
                    .await?,
                );
                self.line(format!("domain name {name}: certificate replaced"));
            }
            Some(_) => {}
        }
        let mappings = self
            .call(
                "apigateway",
                "GetBasePathMappings",
                json!({"domainName": name, "limit": 500}),
            )
            .await?;
        let current = mappings["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["basePath"] == domain.base_path.as_str())
            .cloned();
        let base = &domain.base_path;
        match current {
            None => {
                let base_path = if base == "(none)" { "" } else { base.as_str() };
                self.call(
                    "apigateway",
                    "CreateBasePathMapping",
                    json!({"domainName": name, "basePath": base_path, "restApiId": api_id, "stage": domain.stage}),
                )
                .await?;
                self.line(format!(
                    "base path {base} of {name}: mapped to {api_id}/{}",
                    domain.stage
                ));
            }
            Some(m) if m["restApiId"] != api_id || m["stage"] != domain.stage.as_str() => {
                self.call(
                    "apigateway",
                    "UpdateBasePathMapping",
                    json!({"domainName": name, "basePath": base, "patchOperations": [
                        {"op": "replace", "path": "/restapiId", "value": api_id},
                        {"op": "replace", "path": "/stage", "value": domain.stage}]}),
                )
                .await?;
                self.line(format!(
                    "base path {base} of {name}: moved to {api_id}/{}",
                    domain.stage
                ));
            }
            Some(_) => {}
        }
        record["base_path"] = json!({"domain": name, "base_path": base});
        self.report.endpoints.push(format!("https://{name}/"));
        if !domain.create_route53_record {
            return Ok(());
        }
        let described = described.unwrap_or_default();
        let zones = self.call("route53", "ListHostedZones", json!({})).await?;
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let zone = zones["HostedZones"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|z| {
                let zone = z["Name"].as_str().unwrap_or_default();
                fqdn == zone || fqdn.ends_with(&format!(".{zone}"))
            })
            .max_by_key(|z| z["Name"].as_str().unwrap_or_default().len());
        let Some(zone) = zone else {
            self.line(format!(
                "DNS: no Route53 hosted zone holds {name}; no record made"
            ));
            return Ok(());
        };
        let zone_id = zone["Id"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("/hostedzone/")
            .to_string();
        let change = alias_change("UPSERT", &fqdn, &described);
        self.call(
            "route53",
            "ChangeResourceRecordSets",
            json!({"HostedZoneId": zone_id, "ChangeBatch": {"Changes": [change]}}),
        )
        .await?;
        record["dns"] = json!({"zone": zone_id, "name": fqdn, "target": described});
        self.line(format!(
            "DNS: {fqdn} A alias → {}",
            described["regionalDomainName"].as_str().unwrap_or_default()
        ));
        Ok(())
    }
}

/// The Route53 change that makes (`UPSERT`) or removes (`DELETE`) the alias of `fqdn` to the domain
/// name's regional endpoint.
pub(crate) fn alias_change(action: &str, fqdn: &str, domain: &Json) -> Json {
    json!({"Action": action, "ResourceRecordSet": {"Name": fqdn, "Type": "A", "AliasTarget": {
        "HostedZoneId": domain["regionalHostedZoneId"], "DNSName": domain["regionalDomainName"],
        "EvaluateTargetHealth": false}}})
}
