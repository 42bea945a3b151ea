//! Certificate tags: AddTagsToCertificate, RemoveTagsFromCertificate, ListTagsForCertificate.

use m2sec_proto::{AwsError, RequestContext};
use serde_json::{json, Value};

use crate::error::AcmError;
use crate::service::*;

impl Acm {
    /// AddTagsToCertificate.
    pub(crate) async fn add_tags(
        &self,
        ctx: &RequestContext,
        arn: &str,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let tags = tags_of(input);
        self.modify(ctx, arn, |s| {
            for (k, v) in tags {
                s.tags.retain(|(key, _)| *key != k);
                s.tags.push((k, v));
            }
            if s.tags.len() > 50 {
                return Err(AwsError::from(AcmError::TooManyTags(
                    "A certificate can have at most 50 tags.".into(),
                )));
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    /// RemoveTagsFromCertificate.
    pub(crate) async fn remove_tags(
        &self,
        ctx: &RequestContext,
        arn: &str,
        input: &Value,
    ) -> Result<Value, AwsError> {
        let tags = tags_of(input);
        self.modify(ctx, arn, |s| {
            s.tags.retain(|(k, v)| {
                !tags
                    .iter()
                    .any(|(tk, tv)| tk == k && (tv.is_none() || tv == v))
            });
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    /// ListTagsForCertificate.
    pub(crate) async fn list_tags(
        &self,
        ctx: &RequestContext,
        arn: &str,
    ) -> Result<Value, AwsError> {
        let stored = self.load(ctx, arn).await?;
        let tags: Vec<Value> = stored
            .tags
            .iter()
            .map(|(k, v)| match v {
                Some(v) => json!({ "Key": k, "Value": v }),
                None => json!({ "Key": k }),
            })
            .collect();
        Ok(json!({ "Tags": tags }))
    }
}
