//! AddTagsToResource, ListTagsForResource, RemoveTagsFromResource for parameters.

use m2sec_proto::RequestContext;
use m2sec_store::{ParameterRecord, Scope};

use crate::error::{Result, SsmError};
use crate::names;
use crate::parameters::{check_tags, MAX_TAGS};
use crate::shapes::*;
use crate::{scope, Ssm};

impl Ssm {
    async fn tagged_parameter(&self, scope: &Scope, req: &TagsRequest) -> Result<ParameterRecord> {
        if req.resource_type != "Parameter" {
            return Err(SsmError::InvalidResourceType(format!(
                "m2sec supports tags on ResourceType Parameter only, not {}.",
                req.resource_type
            )));
        }
        let invalid = || {
            SsmError::InvalidResourceId(format!(
                "The resource ID {} isn't valid: no such parameter. Verify that you entered the correct ID and try again.",
                req.resource_id
            ))
        };
        let (candidates, _) =
            names::parse_reference(scope, &req.resource_id).map_err(|_| invalid())?;
        self.find(scope, &candidates).await?.ok_or_else(invalid)
    }

    pub(crate) async fn add_tags_to_resource(
        &self,
        ctx: &RequestContext,
        req: TagsRequest,
    ) -> Result<Empty> {
        let scope = scope(ctx);
        check_tags(&req.tags)?;
        let _guard = self.writes.lock().await;
        let parameter = self.tagged_parameter(&scope, &req).await?;
        let mut tags = parameter.tags;
        for tag in req.tags {
            match tags.iter_mut().find(|(k, _)| *k == tag.key) {
                Some(slot) => slot.1 = tag.value,
                None => tags.push((tag.key, tag.value)),
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(SsmError::TooManyTags(format!(
                "A parameter can have at most {MAX_TAGS} tags; this request would give it {}",
                tags.len()
            )));
        }
        self.store
            .set_parameter_tags(&scope, &parameter.name, &tags)
            .await?;
        Ok(Empty {})
    }

    pub(crate) async fn remove_tags_from_resource(
        &self,
        ctx: &RequestContext,
        req: TagsRequest,
    ) -> Result<Empty> {
        let scope = scope(ctx);
        let _guard = self.writes.lock().await;
        let parameter = self.tagged_parameter(&scope, &req).await?;
        let tags: Vec<(String, String)> = parameter
            .tags
            .into_iter()
            .filter(|(k, _)| !req.tag_keys.contains(k))
            .collect();
        self.store
            .set_parameter_tags(&scope, &parameter.name, &tags)
            .await?;
        Ok(Empty {})
    }

    pub(crate) async fn list_tags_for_resource(
        &self,
        ctx: &RequestContext,
        req: TagsRequest,
    ) -> Result<ListTagsForResourceResponse> {
        let scope = scope(ctx);
        let parameter = self.tagged_parameter(&scope, &req).await?;
        Ok(ListTagsForResourceResponse {
            tag_list: parameter
                .tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect(),
        })
    }
}
