//! Tags (TagResource, UntagResource, ListTagsOfResource) and time to live (DescribeTimeToLive,
//! UpdateTimeToLive, and the sweeper that removes expired items).

use m2sec_proto::RequestContext;
use m2sec_store::{Expect, GuardedWrite, ItemWrite, StoreError};
use serde_json::{json, Value as Json};

use crate::error::{DynamoError, Result};
use crate::shapes::{
    ListTagsInput, TableNameInput, TagResourceInput, UntagResourceInput, UpdateTtlInput,
};
use crate::tables::{table_name, TableRecord, TABLE_KIND};
use crate::DynamoDb;

const MAX_TAGS: usize = 50;

impl DynamoDb {
    /// The table a tagging ARN names (an ARN of this account and region, or ResourceNotFound).
    async fn tagged_table(&self, ctx: &RequestContext, arn: &str) -> Result<TableRecord> {
        let prefix = m2sec_proto::arn::build("dynamodb", &ctx.region, &ctx.account, "table/");
        let Some(name) = arn.strip_prefix(&prefix).filter(|n| !n.contains('/')) else {
            return Err(DynamoError::validation(format!(
                "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
            )));
        };
        self.table_to_change(ctx, name).await.map_err(|e| match e {
            DynamoError::ResourceNotFound(_) => DynamoError::ResourceNotFound(format!(
                "Requested resource not found: ResourcArn: {arn} not found"
            )),
            other => other,
        })
    }

    pub(crate) async fn tag_resource(
        &self,
        ctx: &RequestContext,
        input: TagResourceInput,
    ) -> Result<Json> {
        self.authorize(ctx, "dynamodb:TagResource", &input.resource_arn, &[])
            .await?;
        let _guard = self.tables.lock().await;
        let mut table = self.tagged_table(ctx, &input.resource_arn).await?;
        for tag in input.tags {
            table.tags.retain(|t| t.key != tag.key);
            table.tags.push(tag);
        }
        if table.tags.len() > MAX_TAGS {
            return Err(DynamoError::LimitExceeded(format!(
                "The number of tags on the resource exceeds the limit of {MAX_TAGS}"
            )));
        }
        self.save_table(&table, false).await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_resource(
        &self,
        ctx: &RequestContext,
        input: UntagResourceInput,
    ) -> Result<Json> {
        self.authorize(ctx, "dynamodb:UntagResource", &input.resource_arn, &[])
            .await?;
        let _guard = self.tables.lock().await;
        let mut table = self.tagged_table(ctx, &input.resource_arn).await?;
        table.tags.retain(|t| !input.tag_keys.contains(&t.key));
        self.save_table(&table, false).await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_tags_of_resource(
        &self,
        ctx: &RequestContext,
        input: ListTagsInput,
    ) -> Result<Json> {
        self.authorize(ctx, "dynamodb:ListTagsOfResource", &input.resource_arn, &[])
            .await?;
        let table = self.tagged_table(ctx, &input.resource_arn).await?;
        let _ = input.next_token;
        Ok(json!({ "Tags": table.tags }))
    }

    pub(crate) async fn describe_time_to_live(
        &self,
        ctx: &RequestContext,
        input: TableNameInput,
    ) -> Result<Json> {
        let table = self
            .table_for(ctx, &input.table_name, "dynamodb:DescribeTimeToLive")
            .await?;
        self.authorize(ctx, "dynamodb:DescribeTimeToLive", &table.arn(), &[])
            .await?;
        Ok(
            json!({ "TimeToLiveDescription": match &table.ttl_attribute {
                Some(a) => json!({"TimeToLiveStatus": "ENABLED", "AttributeName": a}),
                None => json!({"TimeToLiveStatus": "DISABLED"}),
            }}),
        )
    }

    pub(crate) async fn update_time_to_live(
        &self,
        ctx: &RequestContext,
        input: UpdateTtlInput,
    ) -> Result<Json> {
        let name = table_name(&input.table_name).to_string();
        let arn = crate::tables::table_arn(&ctx.region, &ctx.account, &name);
        self.authorize(ctx, "dynamodb:UpdateTimeToLive", &arn, &[])
            .await?;
        let _guard = self.tables.lock().await;
        let mut table = self.table_to_change(ctx, &input.table_name).await?;
        let spec = &input.time_to_live_specification;
        match (&table.ttl_attribute, spec.enabled) {
            (Some(_), true) => {
                return Err(DynamoError::validation("TimeToLive is already enabled"));
            }
            (None, false) => {
                return Err(DynamoError::validation("TimeToLive is already disabled"));
            }
            (Some(a), false) if *a != spec.attribute_name => {
                return Err(DynamoError::validation(format!(
                    "TimeToLive is active on a different AttributeName: current AttributeName is {a}"
                )));
            }
            _ => {}
        }
        table.ttl_attribute = spec.enabled.then(|| spec.attribute_name.clone());
        table.generation += 1;
        self.save_table(&table, false).await?;
        if spec.enabled {
            // Items written before carry no expiry yet: write them again so the sweeper sees them.
            self.rewrite_items(ctx, &table, |r| r.expires_at.is_some())
                .await?;
        }
        Ok(json!({ "TimeToLiveSpecification": {
            "Enabled": spec.enabled, "AttributeName": spec.attribute_name,
        }}))
    }
}

/// Removes items whose expiry time has passed; an item rewritten since it was found stays.
pub(crate) async fn expire_items(service: &DynamoDb, limit: u32) -> Result<u64> {
    let now = m2sec_store::now_ms() / 1000;
    let due = service.store.expired_items(now, limit).await?;
    let mut removed = 0;
    for item in due {
        let write = GuardedWrite {
            write: ItemWrite::Delete {
                table_id: item.table_id,
                item_hash: item.item_hash,
            },
            expect: Expect::Version(item.version),
        };
        match service.store.write_items(&[write]).await {
            Ok(()) => removed += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let _ = TABLE_KIND;
    Ok(removed)
}
