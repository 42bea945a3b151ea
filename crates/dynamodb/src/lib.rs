//! DynamoDB (`DynamoDB_20120810`, awsJson 1.0) with every table encrypted at rest: items are sealed
//! by a per-table data key that the table's KMS key (AWS owned, `alias/aws/dynamodb`, or the
//! customer's) wraps, and the store sees keys only as keyed hashes. See `encryption.rs` for what
//! that reveals and what it costs.
//!
//! | file | operations |
//! |------|------------|
//! | `tables.rs` | CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable, DescribeLimits, DescribeEndpoints (checks of a table's shape in `schema.rs`) |
//! | `items.rs` | PutItem, GetItem, DeleteItem, UpdateItem |
//! | `queries.rs` | Query, Scan |
//! | `batch.rs` | BatchGetItem, BatchWriteItem |
//! | `transactions.rs` | TransactWriteItems, TransactGetItems |
//! | `tags.rs` | TagResource, UntagResource, ListTagsOfResource, DescribeTimeToLive, UpdateTimeToLive |
//! | `encryption.rs` | table keys: wrapping, the in-memory cache, sealing items, key hashes |
//! | `stored.rs` | an item as the store holds it: key extraction, index entries |
//! | `turns.rs` | one item's writers in turn: read, decide, write guarded by the version read |
//!
//! The pure parts (no I/O) are `item` (the data model) and `expression` (the expression language).

pub mod expression;
pub mod item;

mod batch;
mod encryption;
pub mod error;
mod items;
pub mod operations;
mod queries;
mod schema;
mod shapes;
mod stored;
mod tables;
mod tags;
mod transactions;
mod turns;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use m2sec_kms::Kms;
use m2sec_proto::json::JsonService;
use m2sec_proto::model::ServiceModel;
use m2sec_proto::{AwsError, RequestContext};
use m2sec_store::Store;
use serde_json::Value as Json;

pub use crate::operations::DynamoDbOperation;

/// botocore's DynamoDB model, compiled once, with item contents marked sensitive (see below).
pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let mut model = ServiceModel::from_json(include_str!("../../proto/models/dynamodb.json"));
        // Items, keys, attribute names and the expressions that name them are the table's
        // contents: none of it enters the trail.
        for shape in [
            "AttributeValue",
            "AttributeMap",
            "PutItemInputAttributeMap",
            "Key",
            "MapAttributeValue",
            "ItemCollectionKeyAttributeMap",
            "ExpressionAttributeValueMap",
            "ExpressionAttributeNameMap",
            "AttributeUpdates",
            "ExpectedAttributeMap",
            "FilterConditionMap",
            "KeyConditions",
            "AttributeNameList",
            "ConditionExpression",
            "UpdateExpression",
            "ProjectionExpression",
            "KeyExpression",
        ] {
            model.mark_sensitive(shape);
        }
        model
    })
}

/// Settings of the DynamoDB service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a table's data key stays in memory once unwrapped (AWS: up to 5 minutes). A disabled
    /// KMS key stops a table's reads and writes within this time.
    pub key_cache: Duration,
    /// How long a table's description is kept in memory; a change made on another node reaches
    /// this one within it.
    pub table_cache: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            key_cache: Duration::from_secs(300),
            table_cache: Duration::from_secs(1),
        }
    }
}

pub struct DynamoDb {
    store: Arc<dyn Store>,
    authorizer: Arc<m2sec_iam::Authorizer>,
    keys: encryption::TableKeys,
    table_cache: tables::TableCache,
    item_turns: turns::ItemTurns,
    /// Serializes changes to table descriptions on this node.
    tables: tokio::sync::Mutex<()>,
}

use m2sec_proto::run_json as run;

#[async_trait]
impl JsonService for DynamoDb {
    fn model(&self) -> &ServiceModel {
        model()
    }

    /// DynamoDB's front end refuses JSON of the wrong type for a member as a SerializationException,
    /// and counts BatchGetItem's keys over all tables.
    fn validation_error(&self, operation: &str, error: AwsError) -> AwsError {
        if error.message.contains("Member must be of type") {
            let expected = if error.message.contains("of type string") {
                "String"
            } else if error.message.contains("of type boolean") {
                "Boolean"
            } else if error.message.contains("of type list") {
                "List"
            } else {
                "Structure"
            };
            return AwsError::serialization(format!(
                "Unexpected value type in payload: expected {expected}"
            ));
        }
        if operation == "BatchGetItem" && error.message.contains("length less than or equal to 100")
        {
            return AwsError::validation("Too many items requested for the BatchGetItem call");
        }
        error
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Json,
    ) -> Result<Vec<u8>, AwsError> {
        use DynamoDbOperation as Op;
        let op = Op::from_name(operation).ok_or_else(|| AwsError::unknown_operation(operation))?;
        match op {
            Op::CreateTable => run!(self.create_table(ctx, input)),
            Op::DescribeTable => run!(self.describe_table(ctx, input)),
            Op::ListTables => run!(self.list_tables(ctx, input)),
            Op::UpdateTable => run!(self.update_table(ctx, input)),
            Op::DeleteTable => run!(self.delete_table(ctx, input)),
            Op::DescribeLimits => run!(self.describe_limits(ctx, input)),
            Op::DescribeEndpoints => run!(self.describe_endpoints(ctx, input)),
            Op::PutItem => run!(self.put_item(ctx, input)),
            Op::GetItem => run!(self.get_item(ctx, input)),
            Op::DeleteItem => run!(self.delete_item(ctx, input)),
            Op::UpdateItem => run!(self.update_item(ctx, input)),
            Op::Query => run!(self.query(ctx, input)),
            Op::Scan => run!(self.scan(ctx, input)),
            Op::BatchGetItem => run!(self.batch_get_item(ctx, input)),
            Op::BatchWriteItem => run!(self.batch_write_item(ctx, input)),
            Op::TransactWriteItems => run!(self.transact_write_items(ctx, input)),
            Op::TransactGetItems => run!(self.transact_get_items(ctx, input)),
            Op::TagResource => run!(self.tag_resource(ctx, input)),
            Op::UntagResource => run!(self.untag_resource(ctx, input)),
            Op::ListTagsOfResource => run!(self.list_tags_of_resource(ctx, input)),
            Op::DescribeTimeToLive => run!(self.describe_time_to_live(ctx, input)),
            Op::UpdateTimeToLive => run!(self.update_time_to_live(ctx, input)),
            other => {
                debug_assert!(!other.implemented());
                Err(AwsError::unsupported("DynamoDB", other.name()))
            }
        }
    }
}

impl DynamoDb {
    pub fn new(
        store: Arc<dyn Store>,
        kms: Arc<Kms>,
        root: Arc<m2sec_crypto::RootKey>,
        authorizer: Arc<m2sec_iam::Authorizer>,
        settings: Settings,
    ) -> Self {
        DynamoDb {
            keys: encryption::TableKeys::new(root, kms, settings.key_cache),
            table_cache: tables::TableCache::new(settings.table_cache),
            item_turns: turns::ItemTurns::new(),
            store,
            authorizer,
            tables: tokio::sync::Mutex::new(()),
        }
    }

    /// `dynamodb:<Operation>` on a table's (or index's) ARN, with DynamoDB's condition keys.
    pub(crate) async fn authorize(
        &self,
        ctx: &RequestContext,
        action: &str,
        resource: &str,
        extra: &[(&str, Vec<String>)],
    ) -> error::Result<()> {
        let context = m2sec_iam::authorizer::context(ctx, extra);
        if resource != "*" {
            ctx.touch("AWS::DynamoDB::Table", resource);
        }
        self.authorizer
            .authorize(ctx, action, resource, &context)
            .await
            .map_err(|e| error::DynamoError::AccessDenied(e.message))
    }

    /// Removes items whose time to live has passed (a background job; DynamoDB does it within days,
    /// m2sec within a tick). Returns how many went.
    pub async fn expire_items(&self, limit: u32) -> error::Result<u64> {
        tags::expire_items(self, limit).await
    }
}
