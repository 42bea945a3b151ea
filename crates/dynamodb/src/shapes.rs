//! Typed inputs of the DynamoDB operations (members as botocore's model names them), and the answers
//! of the item reads. In the inputs, items, keys and expression values stay JSON:
//! `item::item_from_json` reads them with DynamoDB's own validation messages. The answers hold
//! items, which serialize to DynamoDB's JSON themselves.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_key_attributes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ProvisionedThroughput {
    pub read_capacity_units: i64,
    pub write_capacity_units: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SseSpecification {
    pub enabled: Option<bool>,
    #[serde(rename = "SSEType")]
    pub sse_type: Option<String>,
    #[serde(rename = "KMSMasterKeyId")]
    pub kms_master_key_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    pub index_name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub projection: Projection,
    pub provisioned_throughput: Option<ProvisionedThroughput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LocalSecondaryIndex {
    pub index_name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub projection: Projection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateTableInput {
    pub table_name: String,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchemaElement>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    pub global_secondary_indexes: Option<Vec<GlobalSecondaryIndex>>,
    pub local_secondary_indexes: Option<Vec<LocalSecondaryIndex>>,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecification>,
    pub tags: Option<Vec<Tag>>,
    pub deletion_protection_enabled: Option<bool>,
    pub table_class: Option<String>,
    #[serde(flatten)]
    pub unsupported: UnsupportedTableSettings,
}

/// Table settings m2sec does not offer: a table call asking for one is refused rather than answered
/// as if it had been applied.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct UnsupportedTableSettings {
    pub stream_specification: Option<StreamSpecification>,
    pub resource_policy: Option<String>,
    pub replica_updates: Option<Json>,
    pub global_table_source_arn: Option<String>,
    pub global_table_settings_replication_mode: Option<String>,
    pub global_table_witness_updates: Option<Json>,
    pub multi_region_consistency: Option<String>,
    /// Accepted, and without effect: m2sec never throttles nor needs warming.
    pub on_demand_throughput: Option<Json>,
    pub warm_throughput: Option<Json>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecification {
    pub stream_enabled: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableNameInput {
    pub table_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTablesInput {
    pub exclusive_start_table_name: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexName {
    pub index_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IndexThroughput {
    pub index_name: String,
    pub provisioned_throughput: Option<ProvisionedThroughput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GsiUpdate {
    pub create: Option<GlobalSecondaryIndex>,
    pub delete: Option<IndexName>,
    pub update: Option<IndexThroughput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTableInput {
    pub table_name: String,
    pub attribute_definitions: Option<Vec<AttributeDefinition>>,
    pub billing_mode: Option<String>,
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    pub global_secondary_index_updates: Option<Vec<GsiUpdate>>,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecification>,
    pub deletion_protection_enabled: Option<bool>,
    pub table_class: Option<String>,
    #[serde(flatten)]
    pub unsupported: UnsupportedTableSettings,
}

/// The members item operations share; each reads the ones its operation has.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ItemInput {
    pub table_name: String,
    pub item: Option<Json>,
    pub key: Option<Json>,
    pub condition_expression: Option<String>,
    pub update_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
    pub expression_attribute_values: Option<Json>,
    pub return_values: Option<String>,
    pub return_values_on_condition_check_failure: Option<String>,
    pub return_consumed_capacity: Option<String>,
    pub attributes_to_get: Option<Json>,
    pub expected: Option<Json>,
    pub attribute_updates: Option<Json>,
    pub conditional_operator: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct QueryInput {
    pub table_name: String,
    pub index_name: Option<String>,
    pub key_condition_expression: Option<String>,
    pub filter_expression: Option<String>,
    pub projection_expression: Option<String>,
    pub expression_attribute_names: Option<BTreeMap<String, String>>,
    pub expression_attribute_values: Option<Json>,
    pub exclusive_start_key: Option<Json>,
    pub limit: Option<i64>,
    pub scan_index_forward: Option<bool>,
    pub select: Option<String>,
    pub consistent_read: Option<bool>,
    pub segment: Option<i64>,
    pub total_segments: Option<i64>,
    pub return_consumed_capacity: Option<String>,
    pub key_conditions: Option<Json>,
    pub query_filter: Option<Json>,
    pub scan_filter: Option<Json>,
    pub attributes_to_get: Option<Json>,
    pub conditional_operator: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetInput {
    pub request_items: BTreeMap<String, Json>,
    pub return_consumed_capacity: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchWriteInput {
    pub request_items: BTreeMap<String, Vec<Json>>,
    pub return_consumed_capacity: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteInput {
    pub transact_items: Vec<Json>,
    pub client_request_token: Option<String>,
    pub return_consumed_capacity: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetInput {
    pub transact_items: Vec<Json>,
    pub return_consumed_capacity: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    pub resource_arn: String,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    pub resource_arn: String,
    pub tag_keys: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsInput {
    pub resource_arn: String,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLiveSpecification {
    pub enabled: bool,
    pub attribute_name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTtlInput {
    pub table_name: String,
    pub time_to_live_specification: TimeToLiveSpecification,
}

// The answers below are serialized straight from their items: no JSON tree is built between.
// Their members are declared in name order, the order serde_json's trees wrote them in, so the
// bytes are those of the trees they replace.

/// GetItem's answer.
#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct GetItemOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<crate::item::Item>,
}

/// BatchGetItem's answer: the items found per table, and the keys left for another call.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<Json>>,
    pub responses: BTreeMap<String, Vec<crate::item::Item>>,
    pub unprocessed_keys: serde_json::Map<String, Json>,
}

/// TransactGetItems' answer: per Get, in order, `{"Item": …}` or `{}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Vec<Json>>,
    pub responses: Vec<GetItemOutput>,
}

/// A page of a Query or Scan.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PageOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<Json>,
    pub count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<crate::item::Item>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_evaluated_key: Option<crate::item::Item>,
    pub scanned_count: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{self, AttributeValue, Item};

    fn bytes<T: Serialize>(value: &T) -> Vec<u8> {
        serde_json::to_vec(value).unwrap()
    }

    #[test]
    fn answers_are_the_bytes_of_the_trees_they_replace() {
        let item: Item = [
            ("pk".to_string(), AttributeValue::s("a")),
            ("n".to_string(), AttributeValue::n("1.50").unwrap()),
        ]
        .into_iter()
        .collect();
        let tree_item = item::item_to_json(&item);
        let capacity = serde_json::json!({"TableName": "t", "CapacityUnits": 0.5});

        let page = PageOutput {
            consumed_capacity: Some(capacity.clone()),
            count: 1,
            items: Some(vec![item.clone()]),
            last_evaluated_key: Some(item.clone()),
            scanned_count: 2,
        };
        let tree = serde_json::json!({
            "Count": 1, "ScannedCount": 2, "Items": [tree_item.clone()],
            "LastEvaluatedKey": tree_item.clone(), "ConsumedCapacity": capacity.clone(),
        });
        assert_eq!(bytes(&page), bytes(&tree));
        let counted = PageOutput {
            consumed_capacity: None,
            count: 0,
            items: None,
            last_evaluated_key: None,
            scanned_count: 0,
        };
        assert_eq!(bytes(&counted), br#"{"Count":0,"ScannedCount":0}"#);

        let got = GetItemOutput {
            consumed_capacity: Some(capacity.clone()),
            item: Some(item.clone()),
        };
        let tree = serde_json::json!({"Item": tree_item.clone(), "ConsumedCapacity": capacity});
        assert_eq!(bytes(&got), bytes(&tree));
        assert_eq!(bytes(&GetItemOutput::default()), b"{}");

        let batch = BatchGetOutput {
            consumed_capacity: None,
            responses: BTreeMap::from([
                ("t".to_string(), vec![item.clone()]),
                ("e".to_string(), vec![]),
            ]),
            unprocessed_keys: serde_json::Map::new(),
        };
        let tree = serde_json::json!({
            "Responses": {"t": [tree_item.clone()], "e": []}, "UnprocessedKeys": {},
        });
        assert_eq!(bytes(&batch), bytes(&tree));

        let transact = TransactGetOutput {
            consumed_capacity: Some(vec![capacity.clone()]),
            responses: vec![
                GetItemOutput::default(),
                GetItemOutput {
                    consumed_capacity: None,
                    item: Some(item),
                },
            ],
        };
        let tree = serde_json::json!({"ConsumedCapacity": [capacity], "Responses": [{}, {"Item": tree_item}]});
        assert_eq!(bytes(&transact), bytes(&tree));
    }
}
