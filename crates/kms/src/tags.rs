//! TagResource, UntagResource, ListResourceTags.

use m2sec_proto::RequestContext;

use crate::access::Access;
use crate::error::{KmsError, Result};
use crate::keys::require_not_pending;
use crate::shapes::*;
use crate::{page, Aliases, Kms};

const MAX_TAGS: usize = 50;

/// Merges `new` into `existing` (same key: value replaced), enforcing AWS's tag rules.
pub(crate) fn checked_tags(
    mut existing: Vec<(String, String)>,
    new: Vec<Tag>,
) -> Result<Vec<(String, String)>> {
    for tag in new {
        if tag.tag_key.starts_with("aws:") {
            return Err(KmsError::Tag(format!(
                "Tag keys beginning with 'aws:' are reserved: '{}'",
                tag.tag_key
            )));
        }
        match existing.iter_mut().find(|(k, _)| *k == tag.tag_key) {
            Some(slot) => slot.1 = tag.tag_value,
            None => existing.push((tag.tag_key, tag.tag_value)),
        }
    }
    if existing.len() > MAX_TAGS {
        return Err(KmsError::LimitExceeded(format!(
            "A KMS key can have at most {MAX_TAGS} tags; this request would give it {}",
            existing.len()
        )));
    }
    Ok(existing)
}

impl Kms {
    pub(crate) async fn tag_resource(
        &self,
        ctx: &RequestContext,
        req: TagResourceRequest,
    ) -> Result<Empty> {
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        self.modify(&key, |k| {
            require_not_pending(k, &key)?;
            k.tags = checked_tags(std::mem::take(&mut k.tags), req.tags)?;
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }

    pub(crate) async fn untag_resource(
        &self,
        ctx: &RequestContext,
        req: UntagResourceRequest,
    ) -> Result<Empty> {
        let key = self
            .key_for(ctx, &req.key_id, Aliases::Refused, Access::of(ctx))
            .await?;
        self.modify(&key, |k| {
            require_not_pending(k, &key)?;
            k.tags.retain(|(name, _)| !req.tag_keys.contains(name));
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }

    pub(crate) async fn list_resource_tags(
        &self,
        ctx: &RequestContext,
        req: ListRequest,
    ) -> Result<ListResourceTagsResponse> {
        let id = crate::required_key_id(&req.key_id)?;
        let key = self
            .key_for(ctx, id, Aliases::Refused, Access::of(ctx))
            .await?;
        let tags: Vec<Tag> = key
            .record
            .tags
            .iter()
            .map(|(k, v)| Tag {
                tag_key: k.clone(),
                tag_value: v.clone(),
            })
            .collect();
        let (tags, next_marker) = page(tags, req.marker.as_deref(), req.limit, 50)?;
        Ok(ListResourceTagsResponse {
            tags,
            truncated: next_marker.is_some(),
            next_marker,
        })
    }
}
