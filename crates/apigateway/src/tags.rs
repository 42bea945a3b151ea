//! Tags of REST APIs, stages and domain names: TagResource, UntagResource, GetTags. Resources are
//! named by ARN (`arn:aws:apigateway:<region>::/restapis/<id>[/stages/<name>]`,
//! `…::/domainnames/<name>`).

use m2sec_proto::RequestContext;
use serde_json::Value;

use crate::error::{bad, not_found, Result};
use crate::records::*;
use crate::service::*;
use crate::shapes::*;

/// What a tagged ARN names.
enum Tagged {
    Api(String),
    Stage(String, String),
    Domain(String),
}

fn parse(ctx: &RequestContext, arn: &str) -> Result<Tagged> {
    let prefix = m2sec_proto::arn::apigateway(&ctx.region, "/");
    let path = arn
        .strip_prefix(&prefix)
        .ok_or_else(|| bad(format!("Invalid ARN specified in the request: {arn}")))?;
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["restapis", id] => Ok(Tagged::Api(id.to_string())),
        ["restapis", id, "stages", stage] => Ok(Tagged::Stage(id.to_string(), stage.to_string())),
        ["domainnames", name] => Ok(Tagged::Domain(name.to_string())),
        _ => Err(bad(format!(
            "Invalid ARN specified in the request: {arn} (m2sec tags REST APIs, stages and domain names)"
        ))),
    }
}

const MAX_TAGS: usize = 50;

impl ApiGateway {
    /// Reads or changes the tags of `arn`; `change` gets the current tags.
    async fn with_tags(
        &self,
        ctx: &RequestContext,
        arn: &str,
        change: impl FnOnce(&mut Map<String>) -> Result<()>,
    ) -> Result<Map<String>> {
        match parse(ctx, arn)? {
            Tagged::Api(id) => {
                self.modify_api(ctx, &id, |doc| {
                    change(&mut doc.api.tags)?;
                    Ok(doc.api.tags.clone())
                })
                .await
            }
            Tagged::Stage(id, stage) => {
                self.modify_api(ctx, &id, |doc| {
                    let s = doc
                        .stages
                        .get_mut(&stage)
                        .ok_or_else(|| not_found("stage identifier"))?;
                    change(&mut s.tags)?;
                    Ok(s.tags.clone())
                })
                .await
            }
            Tagged::Domain(name) => {
                self.modify_domain(ctx, &name, |doc| {
                    change(&mut doc.domain.tags)?;
                    Ok(doc.domain.tags.clone())
                })
                .await
            }
        }
    }

    /// TagResource.
    pub(crate) async fn tag_resource(
        &self,
        ctx: &RequestContext,
        input: TagResourceRequest,
    ) -> Result<Value> {
        self.with_tags(ctx, &input.resource_arn, |tags| {
            tags.extend(input.tags);
            if tags.len() > MAX_TAGS {
                return Err(bad(format!("A resource can have at most {MAX_TAGS} tags")));
            }
            Ok(())
        })
        .await?;
        Ok(to_value(&Empty {}))
    }

    /// UntagResource.
    pub(crate) async fn untag_resource(
        &self,
        ctx: &RequestContext,
        input: UntagResourceRequest,
    ) -> Result<Value> {
        self.with_tags(ctx, &input.resource_arn, |tags| {
            for k in &input.tag_keys {
                tags.remove(k);
            }
            Ok(())
        })
        .await?;
        Ok(to_value(&Empty {}))
    }

    /// GetTags.
    pub(crate) async fn get_tags(&self, ctx: &RequestContext, input: ResourceArn) -> Result<Value> {
        let tags = match parse(ctx, &input.resource_arn)? {
            Tagged::Api(id) => self.api(ctx, &id).await?.api.tags,
            Tagged::Stage(id, stage) => {
                self.api(ctx, &id)
                    .await?
                    .stages
                    .remove(&stage)
                    .ok_or_else(|| not_found("stage identifier"))?
                    .tags
            }
            Tagged::Domain(name) => self.domain(ctx, &name).await?.domain.tags,
        };
        Ok(to_value(&Tags { tags }))
    }
}
