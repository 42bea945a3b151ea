//! BatchGetItem and BatchWriteItem: up to 100 keys / 25 writes over several tables. m2sec does not
//! throttle: every write is processed (`UnprocessedItems` is empty), and every key is read, but an
//! answer stops at 16 MB of items as DynamoDB's does, the keys past it in `UnprocessedKeys`.

use std::collections::{BTreeMap, BTreeSet};

use m2sec_proto::RequestContext;
use serde_json::{json, Value as Json};

use crate::error::{DynamoError, Result};
use crate::expression::{self, ProjectionExpression, Usage};
use crate::item;
use crate::items::{attributes, consumed_per_table, decode_item, projection_of};
use crate::shapes::{BatchGetInput, BatchGetOutput, BatchWriteInput};
use crate::stored;
use crate::turns::Change;
use crate::DynamoDb;

/// What one BatchGetItem answers at most (DynamoDB: 16 MB); the keys past it come back in
/// `UnprocessedKeys`.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

fn duplicates() -> DynamoError {
    DynamoError::validation("Provided list of item keys contains duplicates")
}

impl DynamoDb {
    pub(crate) async fn batch_get_item(
        &self,
        ctx: &RequestContext,
        input: BatchGetInput,
    ) -> Result<BatchGetOutput> {
        let total: usize = input
            .request_items
            .values()
            .map(|t| t.get("Keys").and_then(Json::as_array).map_or(0, Vec::len))
            .sum();
        if total > 100 {
            return Err(DynamoError::validation(
                "Too many items requested for the BatchGetItem call",
            ));
        }
        let mut responses = BTreeMap::new();
        let mut unprocessed_keys = serde_json::Map::new();
        let mut budget = MAX_ANSWER_BYTES;
        for (name, request) in &input.request_items {
            let table = self.table_for(ctx, name, "dynamodb:BatchGetItem").await?;
            self.authorize(ctx, "dynamodb:BatchGetItem", &table.arn(), &[])
                .await?;
            let names: Option<BTreeMap<String, String>> = request
                .get("ExpressionAttributeNames")
                .map(|n| serde_json::from_value(n.clone()))
                .transpose()
                .map_err(|e| DynamoError::Serialization(e.to_string()))?;
            let attrs = attributes(names.as_ref(), None)?;
            let projection = projection_of(
                request.get("ProjectionExpression").and_then(Json::as_str),
                request.get("AttributesToGet"),
                &attrs,
            )?;
            let used: Vec<&Usage> = projection.iter().map(|p| &p.usage).collect();
            expression::check_unused(&attrs, &used)?;
            let key = self.keys.get(ctx, &table).await?;
            let mut seen = BTreeSet::new();
            let mut hashes = Vec::new();
            let keys: Vec<&Json> = request
                .get("Keys")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .collect();
            for k in &keys {
                let pk = stored::key_from_param(&table, &decode_item(k)?)?;
                let hash = stored::item_hash(&key, &pk);
                if !seen.insert(hash.clone()) {
                    return Err(duplicates());
                }
                hashes.push(hash);
            }
            let reads: Vec<_> = hashes
                .iter()
                .map(|h| (&*key, table.id.as_str(), h.as_slice()))
                .collect();
            let mut items = Vec::new();
            let mut unprocessed = Vec::new();
            for (found, k) in self.read_items(&reads).await?.into_iter().zip(&keys) {
                let Some((_, item)) = found else { continue };
                let item = ProjectionExpression::apply_to(projection.as_ref(), item);
                // Past 16 MB of answer, the rest of the keys are left for the caller's next call.
                let size = item::item_size(&item);
                if !unprocessed.is_empty() || size > budget {
                    unprocessed.push((*k).clone());
                    continue;
                }
                budget -= size;
                items.push(item);
            }
            if !unprocessed.is_empty() {
                let mut left = request.clone();
                left["Keys"] = Json::Array(unprocessed);
                unprocessed_keys.insert(name.clone(), left);
            }
            responses.insert(name.clone(), items);
        }
        let units = input.request_items.iter().map(|(name, request)| {
            let keys = request
                .get("Keys")
                .and_then(Json::as_array)
                .map_or(0, Vec::len);
            let strong = request.get("ConsistentRead").and_then(Json::as_bool) == Some(true);
            (name.as_str(), keys as f64 * if strong { 1.0 } else { 0.5 })
        });
        Ok(BatchGetOutput {
            consumed_capacity: consumed_per_table(input.return_consumed_capacity.as_deref(), units),
            responses,
            unprocessed_keys,
        })
    }

    pub(crate) async fn batch_write_item(
        &self,
        ctx: &RequestContext,
        input: BatchWriteInput,
    ) -> Result<Json> {
        let total: usize = input.request_items.values().map(Vec::len).sum();
        if total > 25 && input.request_items.values().all(|r| r.len() <= 25) {
            return Err(DynamoError::validation(
                "Too many items requested for the BatchWriteItem call",
            ));
        }
        if total == 0 || total > 25 || input.request_items.values().any(Vec::is_empty) {
            return Err(DynamoError::validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
            ));
        }
        // Everything is checked before anything is written.
        let mut plans = Vec::new();
        for (name, requests) in &input.request_items {
            let table = self.table_for(ctx, name, "dynamodb:BatchWriteItem").await?;
            self.authorize(ctx, "dynamodb:BatchWriteItem", &table.arn(), &[])
                .await?;
            let key = self.keys.get(ctx, &table).await?;
            let mut seen = BTreeSet::new();
            for r in requests {
                let (put, delete) = (r.get("PutRequest"), r.get("DeleteRequest"));
                let (hash, record) = match (put, delete) {
                    (Some(p), None) => {
                        let it = decode_item(p.get("Item").unwrap_or(&Json::Null))?;
                        item::check_item_size(&it)?;
                        let record = stored::seal_item(&key, &table, &it)?;
                        (record.item_hash.clone(), Some(record))
                    }
                    (None, Some(d)) => {
                        let pk = stored::key_from_param(
                            &table,
                            &decode_item(d.get("Key").unwrap_or(&Json::Null))?,
                        )?;
                        (stored::item_hash(&key, &pk), None)
                    }
                    _ => return Err(DynamoError::validation(
                        "A WriteRequest must contain exactly one of PutRequest or DeleteRequest",
                    )),
                };
                if !seen.insert(hash.clone()) {
                    return Err(duplicates());
                }
                plans.push((table.id.clone(), hash, record));
            }
        }
        for (table_id, hash, record) in plans {
            self.write_one(&table_id, hash, record).await?;
        }
        let mut out = json!({"UnprocessedItems": {}});
        let units = input
            .request_items
            .iter()
            .map(|(name, requests)| (name.as_str(), requests.len() as f64));
        if let Some(c) = consumed_per_table(input.return_consumed_capacity.as_deref(), units) {
            out["ConsumedCapacity"] = json!(c);
        }
        Ok(out)
    }

    /// One unconditional write (a put of `record`, or a delete), made whatever the item is (see
    /// `turns.rs`).
    pub(crate) async fn write_one(
        &self,
        table_id: &str,
        hash: Vec<u8>,
        record: Option<m2sec_store::ItemRecord>,
    ) -> Result<()> {
        self.change_item(table_id, &hash, true, |_| {
            Ok(match &record {
                Some(r) => Change::Put(r.clone()),
                None => Change::Delete,
            })
        })
        .await
    }
}
