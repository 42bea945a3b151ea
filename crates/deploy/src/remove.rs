//! `m2sec deploy --remove`: what the deployments of a service and stage made, deleted.

use m2sec_proto::RequestContext;
use serde_json::json;

use crate::converge::{names, plan_of, Deployer, Options, Report};
use crate::domain::alias_change;
use crate::{DeployError, Host};

/// Removes what the deployments of the file's service and stage made.
pub async fn remove(
    host: &dyn Host,
    ctx: &RequestContext,
    text: &str,
    options: &Options,
) -> Result<Report, DeployError> {
    let plan = plan_of(host, ctx, text, options).await?;
    let mut d = Deployer {
        host,
        ctx,
        report: Report {
            service: plan.service.clone(),
            stage: plan.stage.clone(),
            ..Report::default()
        },
    };
    let Some(record) = host.load_record(&plan.service, &plan.stage).await? else {
        return Err(DeployError::Template(format!(
            "{} has no deployment of stage {} to remove",
            plan.service, plan.stage
        )));
    };
    if let Some(dns) = record.get("dns").filter(|v| v.is_object()) {
        let change = alias_change(
            "DELETE",
            dns["name"].as_str().unwrap_or_default(),
            &dns["target"],
        );
        let removed = d
            .find(
                "route53",
                "ChangeResourceRecordSets",
                json!({"HostedZoneId": dns["zone"], "ChangeBatch": {"Changes": [change]}}),
                "InvalidChangeBatch",
            )
            .await?;
        if removed.is_some() {
            d.line(format!(
                "DNS: {} removed",
                dns["name"].as_str().unwrap_or_default()
            ));
        }
    }
    if let Some(mapping) = record.get("base_path").filter(|v| v.is_object()) {
        let domain = mapping["domain"].as_str().unwrap_or_default();
        if d.find(
            "apigateway",
            "DeleteBasePathMapping",
            json!({"domainName": domain, "basePath": mapping["base_path"]}),
            "NotFoundException",
        )
        .await?
        .is_some()
        {
            d.line(format!("base path mapping of {domain}: removed"));
        }
    }
    if let Some(domain) = record["domain_created"].as_str() {
        if d.find(
            "apigateway",
            "DeleteDomainName",
            json!({"domainName": domain}),
            "NotFoundException",
        )
        .await?
        .is_some()
        {
            d.line(format!("domain name {domain}: removed"));
        }
    }
    if let Some(api) = record["rest_api_id"].as_str() {
        if d.find(
            "apigateway",
            "DeleteRestApi",
            json!({"restApiId": api}),
            "NotFoundException",
        )
        .await?
        .is_some()
        {
            d.line(format!("REST API {api}: removed"));
        }
    }
    host.put_functions(ctx, &plan, &[]).await?;
    d.line("functions: removed".into());
    if let Some(role) = record["role"].as_str() {
        d.find(
            "iam",
            "DeleteRolePolicy",
            json!({"RoleName": role, "PolicyName": plan.role.policy_name}),
            "NoSuchEntity",
        )
        .await?;
        if d.find(
            "iam",
            "DeleteRole",
            json!({"RoleName": role}),
            "NoSuchEntity",
        )
        .await?
        .is_some()
        {
            d.line(format!("role {role}: removed"));
        }
    }
    for table in names(&record, "tables") {
        if d.find(
            "dynamodb",
            "DeleteTable",
            json!({"TableName": table}),
            "ResourceNotFoundException",
        )
        .await?
        .is_some()
        {
            d.line(format!("table {table}: removed"));
        }
    }
    host.save_record(&plan.service, &plan.stage, None).await?;
    Ok(d.report)
}
