//! Record sets and changes: ChangeResourceRecordSets, ListResourceRecordSets, GetChange.

use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::StoreError;

use crate::error::Route53Error;
use crate::names::{normalize, sort_key};
use crate::service::*;
use crate::shapes::*;
use crate::zone::{self, Action, RecordSet};

impl Route53 {
    pub(crate) async fn change_resource_record_sets(
        &self,
        ctx: &RequestContext,
        input: ChangeResourceRecordSetsRequest,
    ) -> Result<ChangeInfoResponse, AwsError> {
        let batch = input.change_batch;
        let mut changes = Vec::new();
        for c in batch.changes {
            let action = Action::parse(&c.action).ok_or_else(|| {
                AwsError::from(Route53Error::InvalidInput(
                    "Action must be CREATE, DELETE or UPSERT".into(),
                ))
            })?;
            let set = RecordSet::from(c.resource_record_set);
            changes.push(zone::Change { action, set });
        }
        let _guard = self.writes.lock().await;
        let mut zone = self.zone(ctx, &input.hosted_zone_id).await?;
        zone.apply(&changes).map_err(|problems| {
            AwsError::from(Route53Error::InvalidChangeBatch(format!(
                "[{}]",
                problems.join(", ")
            )))
        })?;
        self.save(ctx, &zone, false).await?;
        let change = self.change_info(ctx, batch.comment.as_deref()).await?;
        self.wake();
        Ok(ChangeInfoResponse {
            change_info: change,
        })
    }

    pub(crate) async fn list_resource_record_sets(
        &self,
        ctx: &RequestContext,
        input: ListResourceRecordSetsRequest,
    ) -> Result<ListResourceRecordSetsResponse, AwsError> {
        let max = max_items(input.max_items.as_deref(), MAX_RECORD_ITEMS)?;
        let zone = self.zone(ctx, &input.hosted_zone_id).await?;
        let sets = zone.sorted();
        let kind = input.start_record_type.as_deref();
        let start = match input.start_record_name.as_deref() {
            Some(name) => {
                let name =
                    normalize(name).map_err(|e| AwsError::from(Route53Error::InvalidInput(e)))?;
                let key = sort_key(&name);
                sets.iter()
                    .position(|s| {
                        let k = sort_key(&s.name);
                        k > key || (k == key && kind.is_none_or_le(&s.kind))
                    })
                    .unwrap_or(sets.len())
            }
            None => {
                if kind.is_some() {
                    return Err(AwsError::from(Route53Error::InvalidInput(
                        "StartRecordType requires StartRecordName".into(),
                    )));
                }
                0
            }
        };
        let page: Vec<&RecordSet> = sets.iter().skip(start).take(max).copied().collect();
        let next = sets.get(start + page.len());
        Ok(ListResourceRecordSetsResponse {
            resource_record_sets: page.into_iter().map(ResourceRecordSet::from).collect(),
            is_truncated: next.is_some(),
            max_items: max.to_string(),
            next_record_name: next.map(|n| n.name.clone()),
            next_record_type: next.map(|n| n.kind.clone()),
        })
    }

    pub(crate) async fn get_change(
        &self,
        ctx: &RequestContext,
        input: IdRequest,
    ) -> Result<ChangeInfoResponse, AwsError> {
        let id = bare_change_id(&input.id);
        let doc = self
            .store
            .get_document(&ctx.account, "", CHANGE, id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                AwsError::from(Route53Error::NoSuchChange(format!(
                    "A change with the specified change ID does not exist: {id}"
                )))
            })?;
        let info: ChangeInfo = serde_json::from_str(&doc.body)
            .map_err(|e| store_error(StoreError::Corrupt(e.to_string())))?;
        Ok(ChangeInfoResponse { change_info: info })
    }
}
