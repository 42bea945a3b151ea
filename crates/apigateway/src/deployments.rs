//! Deployments and stages: CreateDeployment, GetDeployment, GetDeployments, UpdateDeployment,
//! DeleteDeployment; CreateStage, GetStage, GetStages, UpdateStage, DeleteStage. A deployment
//! freezes the API's resources, methods and integrations as they are; a stage serves one
//! deployment, so changes reach callers only once deployed, as in API Gateway.

use m2sec_proto::RequestContext;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{bad, not_found, ApiGatewayError, Result};
use crate::patch;
use crate::records::*;
use crate::service::*;
use crate::shapes::*;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetStagesRequest {
    pub rest_api_id: String,
    pub deployment_id: Option<String>,
}

/// Stage names: letters, digits, `-` and `_`, up to 128.
fn check_stage_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 128
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad(
            "Stage name only allows a-zA-Z0-9_- and must be between 1 and 128 characters",
        ));
    }
    Ok(())
}

fn check_variables(vars: &Map<String>) -> Result<()> {
    for (k, v) in vars {
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad(format!(
                "Stage variable names may only contain a-zA-Z0-9_: {k}"
            )));
        }
        if v.len() > 512 {
            return Err(bad(format!(
                "Stage variable value for {k} is longer than 512 characters"
            )));
        }
    }
    Ok(())
}

fn new_stage(
    name: &str,
    deployment: &str,
    description: Option<String>,
    variables: Map<String>,
    tracing: bool,
    tags: Map<String>,
) -> Stage {
    let now = now_s();
    Stage {
        stage_name: name.into(),
        deployment_id: deployment.into(),
        description,
        variables,
        cache_cluster_enabled: false,
        cache_cluster_status: "NOT_AVAILABLE".into(),
        method_settings: Default::default(),
        tracing_enabled: tracing,
        tags,
        created_date: now,
        last_updated_date: now,
    }
}

impl ApiGateway {
    /// CreateDeployment, and with `stageName` the stage (created, or moved to it).
    pub(crate) async fn create_deployment(
        &self,
        ctx: &RequestContext,
        input: CreateDeploymentRequest,
    ) -> Result<Value> {
        if let Some(stage) = &input.stage_name {
            check_stage_name(stage)?;
        }
        check_variables(&input.variables)?;
        let d = self
            .modify_api(ctx, &input.rest_api_id, |doc| {
                if doc
                    .resources
                    .values()
                    .all(|r| r.resource_methods.is_empty())
                {
                    return Err(bad("The REST API doesn't contain any methods"));
                }
                for r in doc.resources.values() {
                    for m in r.resource_methods.values() {
                        if m.method_integration.is_none() {
                            return Err(bad(format!(
                                "No integration defined for method {} {}",
                                m.http_method, r.path
                            )));
                        }
                    }
                }
                let d = Deployment {
                    id: new_id(6),
                    description: input.description.clone(),
                    created_date: now_s(),
                };
                doc.snapshots.insert(d.id.clone(), doc.resources.clone());
                doc.deployments.insert(d.id.clone(), d.clone());
                if let Some(name) = &input.stage_name {
                    match doc.stages.get_mut(name) {
                        Some(s) => {
                            s.deployment_id = d.id.clone();
                            s.variables.extend(input.variables.clone());
                            if input.stage_description.is_some() {
                                s.description = input.stage_description.clone();
                            }
                            if let Some(t) = input.tracing_enabled {
                                s.tracing_enabled = t;
                            }
                            s.last_updated_date = now_s();
                        }
                        None => {
                            doc.stages.insert(
                                name.clone(),
                                new_stage(
                                    name,
                                    &d.id,
                                    input.stage_description.clone(),
                                    input.variables.clone(),
                                    input.tracing_enabled.unwrap_or(false),
                                    Default::default(),
                                ),
                            );
                        }
                    }
                }
                Ok(d)
            })
            .await?;
        Ok(to_value(&d))
    }

    /// GetDeployment.
    pub(crate) async fn get_deployment(
        &self,
        ctx: &RequestContext,
        input: DeploymentId,
    ) -> Result<Value> {
        let doc = self.api(ctx, &input.rest_api_id).await?;
        let d = doc
            .deployments
            .get(&input.deployment_id)
            .ok_or_else(|| not_found("Deployment identifier"))?;
        Ok(to_value(d))
    }

    /// GetDeployments.
    pub(crate) async fn get_deployments(
        &self,
        ctx: &RequestContext,
        input: Listing<RestApiId>,
    ) -> Result<Value> {
        let doc = self.api(ctx, &input.target.rest_api_id).await?;
        let items = doc.deployments.into_iter().collect();
        Ok(to_value(&page(items, &input.paging)?))
    }

    /// UpdateDeployment: its description.
    pub(crate) async fn update_deployment(
        &self,
        ctx: &RequestContext,
        input: Patch<DeploymentId>,
    ) -> Result<Value> {
        let t = &input.target;
        let d = self
            .modify_api(ctx, &t.rest_api_id, |doc| {
                let d = doc
                    .deployments
                    .get_mut(&t.deployment_id)
                    .ok_or_else(|| not_found("Deployment identifier"))?;
                patch::apply(&input.patch_operations, |c| match c.path.as_str() {
                    "/description" => {
                        d.description = c.value.map(str::to_string);
                        Ok(())
                    }
                    _ => Err(c.unsupported(&["/description"])),
                })?;
                Ok(d.clone())
            })
            .await?;
        Ok(to_value(&d))
    }

    /// DeleteDeployment: not while a stage serves it.
    pub(crate) async fn delete_deployment(
        &self,
        ctx: &RequestContext,
        input: DeploymentId,
    ) -> Result<Value> {
        self.modify_api(ctx, &input.rest_api_id, |doc| {
            if !doc.deployments.contains_key(&input.deployment_id) {
                return Err(not_found("Deployment identifier"));
            }
            if doc
                .stages
                .values()
                .any(|s| s.deployment_id == input.deployment_id)
            {
                return Err(bad(
                    "Active stages pointing to this deployment must be moved or deleted",
                ));
            }
            doc.deployments.remove(&input.deployment_id);
            doc.snapshots.remove(&input.deployment_id);
            Ok(())
        })
        .await?;
        Ok(to_value(&Empty {}))
    }

    /// CreateStage.
    pub(crate) async fn create_stage(
        &self,
        ctx: &RequestContext,
        input: CreateStageRequest,
    ) -> Result<Value> {
        check_stage_name(&input.stage_name)?;
        check_variables(&input.variables)?;
        let s = self
            .modify_api(ctx, &input.rest_api_id, |doc| {
                if !doc.deployments.contains_key(&input.deployment_id) {
                    return Err(not_found("Deployment identifier"));
                }
                if doc.stages.contains_key(&input.stage_name) {
                    return Err(ApiGatewayError::Conflict("Stage already exists".into()));
                }
                let s = new_stage(
                    &input.stage_name,
                    &input.deployment_id,
                    input.description.clone(),
                    input.variables.clone(),
                    input.tracing_enabled,
                    input.tags.clone(),
                );
                doc.stages.insert(s.stage_name.clone(), s.clone());
                Ok(s)
            })
            .await?;
        Ok(to_value(&s))
    }

    /// GetStage.
    pub(crate) async fn get_stage(&self, ctx: &RequestContext, input: StageId) -> Result<Value> {
        let doc = self.api(ctx, &input.rest_api_id).await?;
        let s = doc
            .stages
            .get(&input.stage_name)
            .ok_or_else(|| not_found("stage identifier"))?;
        Ok(to_value(s))
    }

    /// GetStages (all of them, or those of one deployment).
    pub(crate) async fn get_stages(
        &self,
        ctx: &RequestContext,
        input: GetStagesRequest,
    ) -> Result<Value> {
        let doc = self.api(ctx, &input.rest_api_id).await?;
        let items: Vec<&Stage> = doc
            .stages
            .values()
            .filter(|s| {
                input
                    .deployment_id
                    .as_deref()
                    .is_none_or(|d| d == s.deployment_id)
            })
            .collect();
        Ok(json!({ "item": items }))
    }

    /// UpdateStage: the deployment it serves, description, variables, tracing.
    pub(crate) async fn update_stage(
        &self,
        ctx: &RequestContext,
        input: Patch<StageId>,
    ) -> Result<Value> {
        let t = &input.target;
        let s = self
            .modify_api(ctx, &t.rest_api_id, |doc| {
                let deployments: Vec<String> = doc.deployments.keys().cloned().collect();
                let s = doc
                    .stages
                    .get_mut(&t.stage_name)
                    .ok_or_else(|| not_found("stage identifier"))?;
                patch::apply(&input.patch_operations, |c| {
                    match c.path.as_str() {
                        "/deploymentId" => {
                            let d = c.value()?;
                            if !deployments.iter().any(|x| x == d) {
                                return Err(not_found("Deployment identifier"));
                            }
                            s.deployment_id = d.to_string();
                        }
                        "/description" => s.description = c.value.map(str::to_string),
                        "/tracingEnabled" => s.tracing_enabled = c.flag()?,
                        "/cacheClusterEnabled" => s.cache_cluster_enabled = c.flag()?,
                        p if p.starts_with("/variables/") => {
                            patch::map_member(&mut s.variables, "/variables/", c)?;
                            check_variables(&s.variables)?;
                        }
                        _ => {
                            return Err(c.unsupported(&[
                                "/deploymentId",
                                "/description",
                                "/tracingEnabled",
                                "/cacheClusterEnabled",
                                "/variables/<name>",
                            ]))
                        }
                    }
                    Ok(())
                })?;
                s.last_updated_date = now_s();
                Ok(s.clone())
            })
            .await?;
        Ok(to_value(&s))
    }

    /// DeleteStage.
    pub(crate) async fn delete_stage(&self, ctx: &RequestContext, input: StageId) -> Result<Value> {
        self.modify_api(ctx, &input.rest_api_id, |doc| {
            doc.stages
                .remove(&input.stage_name)
                .ok_or_else(|| not_found("stage identifier"))?;
            Ok(())
        })
        .await?;
        Ok(to_value(&Empty {}))
    }
}
