//! Tables: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable, and the limits and
//! endpoints the SDKs ask for. A table's description is a stored document; its items are in the
//! item store under the table's internal id.

use m2sec_proto::RequestContext;
use m2sec_store::Document;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::encryption::Sse;
use crate::error::{DynamoError, Result};
use crate::schema::{capacity, check_table_update, refuse_unsupported, validate_schema};
use crate::shapes::*;
use crate::DynamoDb;

pub(crate) const TABLE_KIND: &str = "dynamodb.table";

/// A table as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TableRecord {
    pub id: String,
    pub name: String,
    pub account: String,
    pub region: String,
    /// Seconds since the epoch, with milliseconds.
    pub created_at: f64,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchemaElement>,
    pub billing_mode: String,
    /// Whether a BillingMode was ever given (DescribeTable shows BillingModeSummary then).
    #[serde(default)]
    pub billing_mode_given: bool,
    pub read_capacity: i64,
    pub write_capacity: i64,
    #[serde(default)]
    pub global_indexes: Vec<IndexRecord>,
    #[serde(default)]
    pub local_indexes: Vec<IndexRecord>,
    pub sse: Sse,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The TTL attribute, when time to live is enabled.
    #[serde(default)]
    pub ttl_attribute: Option<String>,
    #[serde(default)]
    pub deletion_protection: bool,
    #[serde(default = "standard")]
    pub table_class: String,
    /// Bumped by each UpdateTable (the key cache and index maintenance notice).
    #[serde(default)]
    pub generation: u64,
}

fn standard() -> String {
    "STANDARD".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IndexRecord {
    pub name: String,
    pub key_schema: Vec<KeySchemaElement>,
    pub projection: Projection,
    #[serde(default)]
    pub read_capacity: i64,
    #[serde(default)]
    pub write_capacity: i64,
}

impl TableRecord {
    pub fn arn(&self) -> String {
        table_arn(&self.region, &self.account, &self.name)
    }

    pub fn partition_key(&self) -> &str {
        key_of(&self.key_schema, "HASH").unwrap_or_default()
    }

    pub fn sort_key(&self) -> Option<&str> {
        key_of(&self.key_schema, "RANGE")
    }

    pub fn attribute_type(&self, name: &str) -> Option<&str> {
        self.attribute_definitions
            .iter()
            .find(|a| a.attribute_name == name)
            .map(|a| a.attribute_type.as_str())
    }

    pub fn index(&self, name: &str) -> Option<(&IndexRecord, bool)> {
        self.global_indexes
            .iter()
            .map(|i| (i, true))
            .chain(self.local_indexes.iter().map(|i| (i, false)))
            .find(|(i, _)| i.name == name)
    }

    pub fn indexes(&self) -> impl Iterator<Item = &IndexRecord> {
        self.global_indexes.iter().chain(self.local_indexes.iter())
    }
}

pub(crate) fn key_of<'a>(schema: &'a [KeySchemaElement], kind: &str) -> Option<&'a str> {
    schema
        .iter()
        .find(|k| k.key_type == kind)
        .map(|k| k.attribute_name.as_str())
}

pub(crate) fn table_arn(region: &str, account: &str, name: &str) -> String {
    m2sec_proto::arn::build("dynamodb", region, account, &format!("table/{name}"))
}

fn not_found(name: &str) -> DynamoError {
    DynamoError::ResourceNotFound(format!(
        "Requested resource not found: Table: {name} not found"
    ))
}

/// A table name from a request: a name or a table ARN (as DynamoDB accepts both).
pub(crate) fn table_name(reference: &str) -> &str {
    match reference.strip_prefix("arn:") {
        Some(_) => reference
            .split_once(":table/")
            .map(|(_, n)| n.split('/').next().unwrap_or(n))
            .unwrap_or(reference),
        None => reference,
    }
}

/// Whether `reference` is the ARN of a table in another region or account than the caller's:
/// no table of the caller's, whatever its name.
fn names_elsewhere(reference: &str, ctx: &RequestContext) -> bool {
    let mut parts = reference.split(':');
    if parts.next() != Some("arn") {
        return false;
    }
    let (_partition, _service) = (parts.next(), parts.next());
    let (region, account) = (parts.next(), parts.next());
    region != Some(ctx.region.as_str()) || account != Some(ctx.account.as_str())
}

/// DynamoDB's constraint a table name breaks, if any (length first, as DynamoDB checks).
fn name_problem(name: &str) -> Option<&'static str> {
    if name.len() < 3 {
        Some("Member must have length greater than or equal to 3")
    } else if name.len() > 255 {
        Some("Member must have length less than or equal to 255")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        Some("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    } else {
        None
    }
}

impl DynamoDb {
    /// The description of a table (from memory for up to [`crate::Settings::table_cache`]), or
    /// ResourceNotFoundException.
    pub(crate) async fn table(
        &self,
        ctx: &RequestContext,
        reference: &str,
    ) -> Result<std::sync::Arc<TableRecord>> {
        let name = table_name(reference);
        if names_elsewhere(reference, ctx) {
            return Err(not_found(name));
        }
        let key = (ctx.account.clone(), ctx.region.clone(), name.to_string());
        if let Some(t) = self.table_cache.get(&key) {
            return Ok(t);
        }
        let doc = self
            .store
            .get_document(&ctx.account, &ctx.region, TABLE_KIND, name)
            .await?
            .ok_or_else(|| not_found(name))?;
        let table: TableRecord = serde_json::from_str(&doc.body)
            .map_err(|e| DynamoError::Internal(format!("stored table {name}: {e}")))?;
        let table = std::sync::Arc::new(table);
        self.table_cache.put(key, table.clone());
        Ok(table)
    }

    /// The table, read from the store (for a change to it).
    pub(crate) async fn table_to_change(
        &self,
        ctx: &RequestContext,
        reference: &str,
    ) -> Result<TableRecord> {
        let name = table_name(reference);
        self.table_cache
            .forget(&(ctx.account.clone(), ctx.region.clone(), name.to_string()));
        Ok((*self.table(ctx, reference).await?).clone())
    }

    /// The table an item-level request names. A missing table answers as DynamoDB does: the
    /// caller's right to `action` on it is checked first (no right: AccessDenied), then
    /// `Requested resource not found`.
    pub(crate) async fn table_for(
        &self,
        ctx: &RequestContext,
        reference: &str,
        action: &str,
    ) -> Result<std::sync::Arc<TableRecord>> {
        match self.table(ctx, reference).await {
            Err(DynamoError::ResourceNotFound(_)) => {
                let name = table_name(reference);
                self.authorize(
                    ctx,
                    action,
                    &table_arn(&ctx.region, &ctx.account, name),
                    &[],
                )
                .await?;
                Err(DynamoError::ResourceNotFound(
                    "Requested resource not found".into(),
                ))
            }
            other => other,
        }
    }

    pub(crate) async fn save_table(&self, table: &TableRecord, create: bool) -> Result<()> {
        self.table_cache.forget(&(
            table.account.clone(),
            table.region.clone(),
            table.name.clone(),
        ));
        let doc = Document {
            account: table.account.clone(),
            region: table.region.clone(),
            kind: TABLE_KIND.into(),
            name: table.name.clone(),
            body: serde_json::to_string(table).expect("tables serialize"),
            updated_at: m2sec_store::now_ms(),
        };
        self.store
            .put_document(&doc, create)
            .await
            .map_err(|e| match e {
                m2sec_store::StoreError::AlreadyExists => {
                    DynamoError::ResourceInUse(format!("Table already exists: {}", table.name))
                }
                other => other.into(),
            })
    }

    pub(crate) async fn create_table(
        &self,
        ctx: &RequestContext,
        input: CreateTableInput,
    ) -> Result<Json> {
        let arn = table_arn(&ctx.region, &ctx.account, &input.table_name);
        self.authorize(ctx, "dynamodb:CreateTable", &arn, &[])
            .await?;
        if let Some(problem) = name_problem(&input.table_name) {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{}' at 'tableName' failed to satisfy constraint: {problem}",
                input.table_name
            )));
        }
        validate_schema(&input)?;
        refuse_unsupported(&input.unsupported)?;
        let billing_mode = input
            .billing_mode
            .clone()
            .unwrap_or_else(|| "PROVISIONED".into());
        let (read_capacity, write_capacity) =
            capacity(&billing_mode, input.provisioned_throughput.as_ref(), "")?;
        let mut global_indexes = Vec::new();
        for g in input.global_secondary_indexes.iter().flatten() {
            let (r, w) = capacity(
                &billing_mode,
                g.provisioned_throughput.as_ref(),
                &g.index_name,
            )?;
            global_indexes.push(IndexRecord {
                name: g.index_name.clone(),
                key_schema: g.key_schema.clone(),
                projection: g.projection.clone(),
                read_capacity: r,
                write_capacity: w,
            });
        }
        let local_indexes = input
            .local_secondary_indexes
            .iter()
            .flatten()
            .map(|l| IndexRecord {
                name: l.index_name.clone(),
                key_schema: l.key_schema.clone(),
                projection: l.projection.clone(),
                read_capacity: 0,
                write_capacity: 0,
            })
            .collect();
        let _guard = self.tables.lock().await;
        if self
            .store
            .get_document(&ctx.account, &ctx.region, TABLE_KIND, &input.table_name)
            .await?
            .is_some()
        {
            return Err(DynamoError::ResourceInUse(format!(
                "Table already exists: {}",
                input.table_name
            )));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let sse = self
            .keys
            .new_table_key(
                ctx,
                &input.table_name,
                &id,
                input.sse_specification.as_ref(),
            )
            .await?;
        let table = TableRecord {
            id,
            name: input.table_name.clone(),
            account: ctx.account.clone(),
            region: ctx.region.clone(),
            created_at: m2sec_store::now_ms() as f64 / 1000.0,
            attribute_definitions: input.attribute_definitions.clone(),
            key_schema: input.key_schema.clone(),
            billing_mode_given: input.billing_mode.is_some(),
            billing_mode,
            read_capacity,
            write_capacity,
            global_indexes,
            local_indexes,
            sse,
            tags: input.tags.clone().unwrap_or_default(),
            ttl_attribute: None,
            deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
            table_class: input.table_class.clone().unwrap_or_else(standard),
            generation: 0,
        };
        self.save_table(&table, true).await?;
        // DynamoDB answers CREATING; m2sec's tables are usable at once, so DescribeTable says ACTIVE.
        Ok(json!({ "TableDescription": self.description(ctx, &table, "CREATING").await? }))
    }

    pub(crate) async fn describe_table(
        &self,
        ctx: &RequestContext,
        input: TableNameInput,
    ) -> Result<Json> {
        let name = table_name(&input.table_name);
        let arn = table_arn(&ctx.region, &ctx.account, name);
        self.authorize(ctx, "dynamodb:DescribeTable", &arn, &[])
            .await?;
        let table = self.table(ctx, &input.table_name).await?;
        let status = self.status(ctx, &table).await;
        Ok(json!({ "Table": self.description(ctx, &table, status).await? }))
    }

    /// ACTIVE, or INACCESSIBLE_ENCRYPTION_CREDENTIALS while the table's customer key cannot be used.
    async fn status(&self, ctx: &RequestContext, table: &TableRecord) -> &'static str {
        if self.keys.key_usable(ctx, &table.sse).await {
            "ACTIVE"
        } else {
            "INACCESSIBLE_ENCRYPTION_CREDENTIALS"
        }
    }

    pub(crate) async fn description(
        &self,
        _ctx: &RequestContext,
        table: &TableRecord,
        status: &str,
    ) -> Result<Json> {
        let stats = self.store.item_stats(&table.id).await.unwrap_or_default();
        let arn = table.arn();
        let throughput = |r: i64, w: i64| json!({"NumberOfDecreasesToday": 0, "ReadCapacityUnits": r, "WriteCapacityUnits": w});
        let mut d = json!({
            "TableName": table.name,
            "TableArn": arn,
            "TableId": table.id,
            "TableStatus": status,
            "CreationDateTime": table.created_at,
            "AttributeDefinitions": table.attribute_definitions,
            "KeySchema": table.key_schema,
            "ItemCount": stats.count,
            "TableSizeBytes": stats.bytes,
            "ProvisionedThroughput": throughput(table.read_capacity, table.write_capacity),
            "DeletionProtectionEnabled": table.deletion_protection,
            "TableClassSummary": {"TableClass": table.table_class},
        });
        if table.billing_mode == "PAY_PER_REQUEST" {
            d["BillingModeSummary"] = json!({
                "BillingMode": "PAY_PER_REQUEST",
                "LastUpdateToPayPerRequestDateTime": table.created_at,
            });
        } else if table.billing_mode_given {
            d["BillingModeSummary"] = json!({"BillingMode": table.billing_mode});
        }
        let index = |i: &IndexRecord, global: bool| {
            let mut v = json!({
                "IndexName": i.name,
                "IndexArn": format!("{arn}/index/{}", i.name),
                "KeySchema": i.key_schema,
                "Projection": i.projection,
                "IndexSizeBytes": 0,
                "ItemCount": 0,
            });
            if global {
                v["IndexStatus"] = json!("ACTIVE");
                v["ProvisionedThroughput"] = throughput(i.read_capacity, i.write_capacity);
            }
            v
        };
        if !table.global_indexes.is_empty() {
            d["GlobalSecondaryIndexes"] = table
                .global_indexes
                .iter()
                .map(|i| index(i, true))
                .collect();
        }
        if !table.local_indexes.is_empty() {
            d["LocalSecondaryIndexes"] = table
                .local_indexes
                .iter()
                .map(|i| index(i, false))
                .collect();
        }
        if let Some(sse) = table.sse.description(status) {
            d["SSEDescription"] = sse;
        }
        Ok(d)
    }

    pub(crate) async fn list_tables(
        &self,
        ctx: &RequestContext,
        input: ListTablesInput,
    ) -> Result<Json> {
        let resource = table_arn(&ctx.region, &ctx.account, "*");
        self.authorize(ctx, "dynamodb:ListTables", &resource, &[])
            .await?;
        let limit = input.limit.unwrap_or(100);
        if !(1..=100).contains(&limit) {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"
            )));
        }
        let docs = self
            .store
            .list_documents(&ctx.account, &ctx.region, TABLE_KIND)
            .await?;
        let names: Vec<&str> = docs
            .iter()
            .map(|d| d.name.as_str())
            .filter(|n| match &input.exclusive_start_table_name {
                Some(start) => *n > start.as_str(),
                None => true,
            })
            .collect();
        let page: Vec<&str> = names.iter().take(limit as usize).copied().collect();
        let mut out = json!({ "TableNames": page });
        if names.len() > page.len() {
            out["LastEvaluatedTableName"] = json!(page.last());
        }
        Ok(out)
    }

    pub(crate) async fn delete_table(
        &self,
        ctx: &RequestContext,
        input: TableNameInput,
    ) -> Result<Json> {
        let name = table_name(&input.table_name).to_string();
        let arn = table_arn(&ctx.region, &ctx.account, &name);
        self.authorize(ctx, "dynamodb:DeleteTable", &arn, &[])
            .await?;
        let _guard = self.tables.lock().await;
        let table = self.table_to_change(ctx, &input.table_name).await?;
        if table.deletion_protection {
            return Err(DynamoError::validation(format!(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first. Table: {name}"
            )));
        }
        let description = self.description(ctx, &table, "DELETING").await?;
        self.store
            .delete_document(&ctx.account, &ctx.region, TABLE_KIND, &name)
            .await?;
        self.table_cache
            .forget(&(ctx.account.clone(), ctx.region.clone(), name.clone()));
        // The items go now; a new table of the same name has another id and never sees them.
        while self.store.delete_table_items(&table.id, 1000).await? > 0 {}
        self.keys.forget(&table.id);
        Ok(json!({ "TableDescription": description }))
    }

    pub(crate) async fn update_table(
        &self,
        ctx: &RequestContext,
        input: UpdateTableInput,
    ) -> Result<Json> {
        let name = table_name(&input.table_name).to_string();
        let arn = table_arn(&ctx.region, &ctx.account, &name);
        self.authorize(ctx, "dynamodb:UpdateTable", &arn, &[])
            .await?;
        refuse_unsupported(&input.unsupported)?;
        check_table_update(&input)?;
        let _guard = self.tables.lock().await;
        let mut table = self.table_to_change(ctx, &input.table_name).await?;
        for a in input.attribute_definitions.iter().flatten() {
            match table.attribute_type(&a.attribute_name) {
                Some(t) if t != a.attribute_type => {
                    return Err(DynamoError::validation(format!(
                        "Cannot change the type of attribute {} from {t} to {}",
                        a.attribute_name, a.attribute_type
                    )))
                }
                Some(_) => {}
                None => table.attribute_definitions.push(a.clone()),
            }
        }
        if let Some(mode) = &input.billing_mode {
            if mode == "PROVISIONED"
                && table.billing_mode != "PROVISIONED"
                && input.provisioned_throughput.is_none()
            {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED",
                ));
            }
            table.billing_mode = mode.clone();
            table.billing_mode_given = true;
            if mode == "PAY_PER_REQUEST" {
                table.read_capacity = 0;
                table.write_capacity = 0;
            }
        }
        if let Some(t) = &input.provisioned_throughput {
            if table.billing_mode == "PAY_PER_REQUEST" {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                ));
            }
            let (read, write) = (t.read_capacity_units, t.write_capacity_units);
            if (read, write) == (table.read_capacity, table.write_capacity) {
                return Err(DynamoError::validation(format!(
                    "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {}. Requested ReadCapacityUnits: {read}. Current WriteCapacityUnits provisioned for the table: {}. Requested WriteCapacityUnits: {write}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                    table.read_capacity, table.write_capacity
                )));
            }
            table.read_capacity = read;
            table.write_capacity = write;
        }
        if let Some(p) = input.deletion_protection_enabled {
            table.deletion_protection = p;
        }
        if let Some(c) = &input.table_class {
            table.table_class = c.clone();
        }
        let mut new_indexes = Vec::new();
        // A deleted index's entries go once the change is saved: a request refused on a later
        // element leaves the index whole.
        let mut deleted_indexes = Vec::new();
        for update in input.global_secondary_index_updates.iter().flatten() {
            if let Some(create) = &update.create {
                if table.index(&create.index_name).is_some() {
                    return Err(DynamoError::validation(format!(
                        "One or more parameter values were invalid: Index already exists: {}",
                        create.index_name
                    )));
                }
                for k in &create.key_schema {
                    if table.attribute_type(&k.attribute_name).is_none() {
                        return Err(DynamoError::validation(format!(
                            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                            k.attribute_name,
                            table.attribute_definitions.iter().map(|a| a.attribute_name.as_str()).collect::<Vec<_>>().join(", ")
                        )));
                    }
                }
                let (r, w) = capacity(
                    &table.billing_mode,
                    create.provisioned_throughput.as_ref(),
                    &create.index_name,
                )?;
                table.global_indexes.push(IndexRecord {
                    name: create.index_name.clone(),
                    key_schema: create.key_schema.clone(),
                    projection: create.projection.clone(),
                    read_capacity: r,
                    write_capacity: w,
                });
                new_indexes.push(create.index_name.clone());
            }
            if let Some(delete) = &update.delete {
                let before = table.global_indexes.len();
                table.global_indexes.retain(|i| i.name != delete.index_name);
                if table.global_indexes.len() == before {
                    return Err(DynamoError::ResourceNotFound(format!(
                        "Requested resource not found: Index: {} not found",
                        delete.index_name
                    )));
                }
                deleted_indexes.push(delete.index_name.clone());
            }
            if let Some(u) = &update.update {
                let Some(i) = table
                    .global_indexes
                    .iter_mut()
                    .find(|i| i.name == u.index_name)
                else {
                    return Err(DynamoError::ResourceNotFound(format!(
                        "Requested resource not found: Index: {} not found",
                        u.index_name
                    )));
                };
                if let Some(t) = &u.provisioned_throughput {
                    i.read_capacity = t.read_capacity_units;
                    i.write_capacity = t.write_capacity_units;
                }
            }
        }
        if let Some(spec) = &input.sse_specification {
            table.sse = self.keys.change_table_key(ctx, &table, spec).await?;
        }
        table.generation += 1;
        if !new_indexes.is_empty() {
            // Items written before carry no entries in the new indexes yet.
            self.rewrite_items(ctx, &table, |_| true).await?;
        }
        self.save_table(&table, false).await?;
        for index in &deleted_indexes {
            self.store.delete_index_entries(&table.id, index).await?;
        }
        self.keys.forget(&table.id);
        Ok(json!({ "TableDescription": self.description(ctx, &table, "UPDATING").await? }))
    }

    /// Seals every item of the table again under its current description (new index entries, an
    /// expiry time) and writes those `rewrite` keeps. An item changed meanwhile is left alone: its
    /// own write already used the current description.
    pub(crate) async fn rewrite_items(
        &self,
        ctx: &RequestContext,
        table: &TableRecord,
        rewrite: fn(&m2sec_store::ItemRecord) -> bool,
    ) -> Result<()> {
        let key = self.keys.get(ctx, table).await?;
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = self
                .store
                .scan_items(&table.id, None, after.as_deref(), None, 500)
                .await?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = Some(last.item_hash.clone());
            for record in page {
                let item = crate::stored::open_item(&key, &record)?;
                let lenient = crate::stored::IndexKeys::Lenient;
                let mut updated = crate::stored::seal_item_with(&key, table, &item, lenient)?;
                if !rewrite(&updated) {
                    continue;
                }
                updated.version = crate::turns::next_version();
                let write = m2sec_store::GuardedWrite {
                    write: m2sec_store::ItemWrite::Put(updated),
                    expect: m2sec_store::Expect::Version(record.version),
                };
                match self.store.write_items(&[write]).await {
                    Ok(()) | Err(m2sec_store::StoreError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    pub(crate) async fn describe_limits(&self, ctx: &RequestContext, _input: Json) -> Result<Json> {
        self.authorize(ctx, "dynamodb:DescribeLimits", "*", &[])
            .await?;
        Ok(json!({
            "AccountMaxReadCapacityUnits": 80000,
            "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000,
            "TableMaxWriteCapacityUnits": 40000,
        }))
    }

    pub(crate) async fn describe_endpoints(
        &self,
        ctx: &RequestContext,
        _input: Json,
    ) -> Result<Json> {
        // The endpoint the client already talks to: m2sec has no other.
        Ok(json!({ "Endpoints": [{
            "Address": format!("dynamodb.{}.amazonaws.com", ctx.region),
            "CachePeriodInMinutes": 1440,
        }]}))
    }
}

/// (account, region, table name).
type TableKey = (String, String, String);
type CachedTables =
    std::collections::HashMap<TableKey, (std::sync::Arc<TableRecord>, std::time::Instant)>;

/// Table descriptions in memory: item requests read their table's on every call.
pub(crate) struct TableCache {
    ttl: std::time::Duration,
    entries: std::sync::Mutex<CachedTables>,
}

impl TableCache {
    pub fn new(ttl: std::time::Duration) -> Self {
        TableCache {
            ttl,
            entries: Default::default(),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, CachedTables> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &TableKey) -> Option<std::sync::Arc<TableRecord>> {
        let entries = self.entries();
        let (t, at) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| t.clone())
    }

    fn put(&self, key: TableKey, table: std::sync::Arc<TableRecord>) {
        let mut entries = self.entries();
        if entries.len() > 10_000 {
            entries.clear();
        }
        entries.insert(key, (table, std::time::Instant::now()));
    }

    pub fn forget(&self, key: &TableKey) {
        self.entries().remove(key);
    }
}
