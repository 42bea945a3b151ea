//! Certificate tags: AddTagsToCertificate, RemoveTagsFromCertificate, ListTagsForCertificate.

use m2sec_proto::{AwsError, RequestContext};

use crate::error::AcmError;
use crate::service::*;
use crate::shapes::*;

impl Acm {
    /// AddTagsToCertificate.
    pub(crate) async fn add_tags(
        &self,
        ctx: &RequestContext,
        input: TagsRequest,
    ) -> Result<Empty, AwsError> {
        self.modify(ctx, &input.certificate_arn, |s| {
            for tag in input.tags {
                s.tags.retain(|(key, _)| *key != tag.key);
                s.tags.push(tag.pair());
            }
            if s.tags.len() > 50 {
                return Err(AwsError::from(AcmError::TooManyTags(
                    "A certificate can have at most 50 tags.".into(),
                )));
            }
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }

    /// RemoveTagsFromCertificate: a tag given without a value removes the key whatever its value.
    pub(crate) async fn remove_tags(
        &self,
        ctx: &RequestContext,
        input: TagsRequest,
    ) -> Result<Empty, AwsError> {
        let tags = input.tags;
        self.modify(ctx, &input.certificate_arn, |s| {
            s.tags.retain(|(k, v)| {
                !tags
                    .iter()
                    .any(|t| t.key == *k && (t.value.is_none() || t.value == *v))
            });
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }

    /// ListTagsForCertificate.
    pub(crate) async fn list_tags(
        &self,
        ctx: &RequestContext,
        input: CertificateArnInput,
    ) -> Result<ListTagsForCertificateResponse, AwsError> {
        let stored = self.load(ctx, &input.certificate_arn).await?;
        Ok(ListTagsForCertificateResponse {
            tags: stored
                .tags
                .into_iter()
                .map(|(key, value)| Tag { key, value })
                .collect(),
        })
    }
}
