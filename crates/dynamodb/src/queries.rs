//! Query and Scan. A Query reads its partition (the store finds it by the partition key's keyed
//! hash), opens the items, keeps those whose sort key matches, and orders them in memory; a Scan
//! walks the table in item-hash order, which is also how parallel scans split it.

use m2sec_crypto::TableKey;
use m2sec_proto::RequestContext;
use m2sec_store::ItemRecord;

use crate::error::{DynamoError, Result};
use crate::expression::{self, ConditionExpression, KeySchema, ProjectionExpression, Usage};
use crate::item::{self, Item};
use crate::items::{attributes, decode_item, leading_key, projection_of, refuse_legacy};
use crate::shapes::{PageOutput, QueryInput};
use crate::stored::{self, PrimaryKey};
use crate::tables::{key_of, IndexRecord, TableRecord};
use crate::DynamoDb;

/// DynamoDB stops a page once it has read this much.
const PAGE_BYTES: usize = 1024 * 1024;
/// Rows fetched from the store per round of a Scan.
const SCAN_BATCH: u32 = 256;

/// Where an item stands in a query's order: its sort key, then its table key.
type Position = (Vec<u8>, Vec<u8>);
/// A scan's bounds: exclusive start and end item hashes.
type Bounds = (Option<Vec<u8>>, Option<Vec<u8>>);

/// What Query and Scan share: where they read, what they keep, what they return.
struct Plan<'a> {
    table: &'a TableRecord,
    index: Option<(&'a IndexRecord, bool)>,
    filter: Option<ConditionExpression>,
    projection: Option<ProjectionExpression>,
    select: String,
    limit: Option<usize>,
}

impl Plan<'_> {
    fn index_name(&self) -> Option<&str> {
        self.index.map(|(i, _)| i.name.as_str())
    }

    /// The key attributes of an item as LastEvaluatedKey gives them: the table's and the index's.
    fn last_key(&self, item: &Item) -> Item {
        let mut names = vec![self.table.partition_key().to_string()];
        names.extend(self.table.sort_key().map(str::to_string));
        if let Some((i, _)) = self.index {
            names.extend(i.key_schema.iter().map(|k| k.attribute_name.clone()));
        }
        names
            .into_iter()
            .filter_map(|n| item.get(&n).map(|v| (n, v.clone())))
            .collect()
    }

    /// The attributes an index holds for an item (its projection), or the whole item. A local
    /// index reads what its projection lacks from the table, as DynamoDB does, for the attributes a
    /// ProjectionExpression asks for; a global index cannot.
    fn projected(&self, item: Item) -> Item {
        let Some((index, global)) = self.index else {
            return item;
        };
        let kind = index.projection.projection_type.as_deref().unwrap_or("ALL");
        let from_table = !global && self.select == "SPECIFIC_ATTRIBUTES";
        if kind == "ALL" || self.select == "ALL_ATTRIBUTES" || from_table {
            return item;
        }
        let mut keep: Vec<&str> = vec![self.table.partition_key()];
        keep.extend(self.table.sort_key());
        keep.extend(index.key_schema.iter().map(|k| k.attribute_name.as_str()));
        if kind == "INCLUDE" {
            keep.extend(
                index
                    .projection
                    .non_key_attributes
                    .iter()
                    .flatten()
                    .map(String::as_str),
            );
        }
        item.into_iter()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .collect()
    }

    /// Runs the page's items through the filter and the projection.
    fn answer(
        &self,
        evaluated: Vec<Item>,
        last: Option<Item>,
        consumed_mode: Option<&str>,
    ) -> PageOutput {
        let scanned = evaluated.len();
        let kept: Vec<Item> = evaluated
            .into_iter()
            .filter(|i| self.filter.as_ref().is_none_or(|f| f.evaluate(i)))
            .collect();
        let count = kept.len();
        let items = (self.select != "COUNT").then(|| {
            kept.into_iter()
                .map(|i| {
                    ProjectionExpression::apply_to(self.projection.as_ref(), self.projected(i))
                })
                .collect()
        });
        PageOutput {
            count,
            scanned_count: scanned,
            items,
            last_evaluated_key: last.map(|l| self.last_key(&l)),
            consumed_capacity: crate::items::consumed(&self.table.name, consumed_mode, 0.5),
        }
    }
}

fn check_select(
    select: Option<&str>,
    has_projection: bool,
    index: Option<(&IndexRecord, bool)>,
) -> Result<String> {
    let select = match (select, has_projection) {
        (Some(s), true) if s != "SPECIFIC_ATTRIBUTES" => {
            return Err(DynamoError::validation(
                "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES"
                    .replace("AttributesToGet", "ProjectionExpression")
                    .replace("ALL_ATTRIBUTES", s),
            ))
        }
        (Some(s), _) => s.to_string(),
        (None, true) => "SPECIFIC_ATTRIBUTES".into(),
        (None, false) if index.is_some() => "ALL_PROJECTED_ATTRIBUTES".into(),
        (None, false) => "ALL_ATTRIBUTES".into(),
    };
    match (select.as_str(), index) {
        ("ALL_PROJECTED_ATTRIBUTES", None) => Err(DynamoError::validation(
            "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only for index queries",
        )),
        ("ALL_ATTRIBUTES", Some((i, true)))
            if i.projection.projection_type.as_deref().unwrap_or("ALL") != "ALL" =>
        {
            Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                i.name
            )))
        }
        ("SPECIFIC_ATTRIBUTES", _) if !has_projection => Err(DynamoError::validation(
            "One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires ProjectionExpression or AttributesToGet",
        )),
        ("ALL_ATTRIBUTES" | "ALL_PROJECTED_ATTRIBUTES" | "SPECIFIC_ATTRIBUTES" | "COUNT", _) => Ok(select),
        (other, _) => Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
        ))),
    }
}

/// What a Query or Scan reads: the table, or the index (its own resource in policies).
fn read_resource(table: &TableRecord, index: Option<(&IndexRecord, bool)>) -> String {
    match index {
        Some((i, _)) => format!("{}/index/{}", table.arn(), i.name),
        None => table.arn(),
    }
}

fn check_limit(limit: Option<i64>) -> Result<Option<usize>> {
    match limit {
        Some(l) if l < 1 => Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
        Some(l) => Ok(Some(l as usize)),
        None => Ok(None),
    }
}

fn find_index<'a>(
    table: &'a TableRecord,
    name: Option<&str>,
    consistent: Option<bool>,
) -> Result<Option<(&'a IndexRecord, bool)>> {
    let index = match name {
        None => return Ok(None),
        Some(n) => table.index(n).ok_or_else(|| {
            DynamoError::validation(format!("The table does not have the specified index: {n}"))
        })?,
    };
    if index.1 && consistent == Some(true) {
        return Err(DynamoError::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
    }
    Ok(Some(index))
}

impl DynamoDb {
    fn open_all(&self, key: &TableKey, records: &[ItemRecord]) -> Result<Vec<Item>> {
        records.iter().map(|r| stored::open_item(key, r)).collect()
    }

    pub(crate) async fn query(
        &self,
        ctx: &RequestContext,
        input: QueryInput,
    ) -> Result<PageOutput> {
        let table = self
            .table_for(ctx, &input.table_name, "dynamodb:Query")
            .await?;
        let index = find_index(&table, input.index_name.as_deref(), input.consistent_read)?;
        refuse_legacy(
            &[
                ("KeyConditions", input.key_conditions.is_some()),
                ("QueryFilter", input.query_filter.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            "KeyConditionExpression and FilterExpression",
        )?;
        let attrs = attributes(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let key_schema = match index {
            Some((i, _)) => &i.key_schema,
            None => &table.key_schema,
        };
        let schema = KeySchema {
            partition_key: key_of(key_schema, "HASH").unwrap_or_default(),
            sort_key: key_of(key_schema, "RANGE"),
        };
        let Some(text) = &input.key_condition_expression else {
            return Err(DynamoError::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ));
        };
        let key_condition = expression::parse_key_condition(text, &attrs, &schema)?;
        let partition_value = &key_condition.key.partition_value;
        let expected = table.attribute_type(schema.partition_key).unwrap_or("S");
        let sort_type_ok = match (&key_condition.key.sort, schema.sort_key) {
            (Some((_, c)), Some(name)) => sort_condition_types(c)
                .iter()
                .all(|t| Some(*t) == table.attribute_type(name)),
            _ => true,
        };
        if partition_value.attribute_type().name() != expected || !sort_type_ok {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: Condition parameter type does not match schema type",
            ));
        }
        let filter = match &input.filter_expression {
            Some(f) => Some(expression::parse_filter(f, &attrs)?),
            None => None,
        };
        if let Some(f) = &filter {
            let keys = [Some(schema.partition_key), schema.sort_key];
            if let Some(k) = keys
                .into_iter()
                .flatten()
                .find(|k| f.usage.attributes.contains(*k))
            {
                return Err(DynamoError::validation(format!(
                    "Filter Expression can only contain non-primary key attributes: Primary key attribute: {k}"
                )));
            }
        }
        let projection = projection_of(
            input.projection_expression.as_deref(),
            input.attributes_to_get.as_ref(),
            &attrs,
        )?;
        let select = check_select(input.select.as_deref(), projection.is_some(), index)?;
        let limit = check_limit(input.limit)?;
        let mut extra = vec![
            ("dynamodb:LeadingKeys", vec![leading_key(partition_value)]),
            ("dynamodb:Select", vec![select.clone()]),
        ];
        if let Some(p) = &projection {
            extra.push((
                "dynamodb:Attributes",
                p.usage.attributes.iter().cloned().collect(),
            ));
        }
        let resource = read_resource(&table, index);
        self.authorize(ctx, "dynamodb:Query", &resource, &extra)
            .await?;
        let used: Vec<&Usage> = std::iter::once(&key_condition.usage)
            .chain(filter.iter().map(|f| &f.usage))
            .chain(projection.iter().map(|p| &p.usage))
            .collect();
        expression::check_unused(&attrs, &used)?;
        let plan = Plan {
            table: &table,
            index,
            filter,
            projection,
            select,
            limit,
        };

        let start = match &input.exclusive_start_key {
            Some(start) => {
                let start = decode_item(start)?;
                check_query_start(&table, &schema, &key_condition.key, &start)?;
                Some(start)
            }
            None => None,
        };
        let key = self.keys.get(ctx, &table).await?;
        let records = match index {
            Some((i, _)) => {
                let hash = stored::index_partition_hash(&key, &i.name, partition_value);
                self.store
                    .partition_items(&table.id, Some(&i.name), &hash)
                    .await?
            }
            // A partition of a table without a sort key is one item at most, read by its key.
            None if table.sort_key().is_none() => {
                let pk = PrimaryKey {
                    partition: partition_value.clone(),
                    sort: None,
                };
                let hash = stored::item_hash(&key, &pk);
                self.store
                    .get_item(&table.id, &hash)
                    .await?
                    .into_iter()
                    .collect()
            }
            None => {
                let hash = stored::partition_hash(&key, partition_value);
                self.store.partition_items(&table.id, None, &hash).await?
            }
        };
        let items = self.open_all(&key, &records)?;
        // Order: the sort key, then (several index items may share one) the table's key.
        let order = |i: &Item| -> Position {
            let sort = schema
                .sort_key
                .and_then(|s| i.get(s))
                .map(item::sort_key_bytes)
                .unwrap_or_default();
            let mut tie = i
                .get(table.partition_key())
                .map(item::sort_key_bytes)
                .unwrap_or_default();
            tie.push(0);
            tie.extend(
                table
                    .sort_key()
                    .and_then(|s| i.get(s))
                    .map(item::sort_key_bytes)
                    .unwrap_or_default(),
            );
            (sort, tie)
        };
        let mut matching: Vec<(Position, Item)> = items
            .into_iter()
            .filter(|i| i.get(schema.partition_key) == Some(partition_value))
            .filter(|i| match (&key_condition.key.sort, schema.sort_key) {
                (Some((_, c)), Some(name)) => i.get(name).is_some_and(|v| c.matches(v)),
                _ => true,
            })
            .map(|i| (order(&i), i))
            .collect();
        matching.sort_by(|a, b| a.0.cmp(&b.0));
        if input.scan_index_forward == Some(false) {
            matching.reverse();
        }
        if let Some(start) = &start {
            let position = order(start);
            let forward = input.scan_index_forward != Some(false);
            matching.retain(|(o, _)| {
                if forward {
                    *o > position
                } else {
                    *o < position
                }
            });
        }
        let (page, last) = take_page(matching.into_iter().map(|(_, i)| i), plan.limit);
        Ok(plan.answer(page, last, input.return_consumed_capacity.as_deref()))
    }

    pub(crate) async fn scan(&self, ctx: &RequestContext, input: QueryInput) -> Result<PageOutput> {
        let table = self
            .table_for(ctx, &input.table_name, "dynamodb:Scan")
            .await?;
        let index = find_index(&table, input.index_name.as_deref(), input.consistent_read)?;
        refuse_legacy(
            &[
                ("ScanFilter", input.scan_filter.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            "FilterExpression",
        )?;
        let attrs = attributes(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let filter = match &input.filter_expression {
            Some(f) => Some(expression::parse_filter(f, &attrs)?),
            None => None,
        };
        let projection = projection_of(
            input.projection_expression.as_deref(),
            input.attributes_to_get.as_ref(),
            &attrs,
        )?;
        let select = check_select(input.select.as_deref(), projection.is_some(), index)?;
        let limit = check_limit(input.limit)?;
        let (after, before) = segment_bounds(input.segment, input.total_segments)?;
        let mut extra = vec![("dynamodb:Select", vec![select.clone()])];
        if let Some(p) = &projection {
            extra.push((
                "dynamodb:Attributes",
                p.usage.attributes.iter().cloned().collect(),
            ));
        }
        let resource = read_resource(&table, index);
        self.authorize(ctx, "dynamodb:Scan", &resource, &extra)
            .await?;
        let used: Vec<&Usage> = filter
            .iter()
            .map(|f| &f.usage)
            .chain(projection.iter().map(|p| &p.usage))
            .collect();
        expression::check_unused(&attrs, &used)?;
        let plan = Plan {
            table: &table,
            index,
            filter,
            projection,
            select,
            limit,
        };
        let key = self.keys.get(ctx, &table).await?;
        let mut cursor = after.clone();
        if let Some(start) = &input.exclusive_start_key {
            let start = decode_item(start)?;
            let index_keys = index.iter().flat_map(|(i, _)| &i.key_schema);
            let index_keys = index_keys.map(|k| Some(k.attribute_name.as_str()));
            check_start_key(&table, index_keys, &start)?;
            let pk = stored::key_of_item(&table, &start).map_err(|_| {
                DynamoError::validation("The provided starting key is invalid: The provided key element does not match the schema")
            })?;
            let hash = stored::item_hash(&key, &pk);
            let outside = after.as_ref().is_some_and(|a| hash < *a)
                || before.as_ref().is_some_and(|b| hash >= *b);
            if outside {
                return Err(DynamoError::validation(
                    "The provided Exclusive start key does not map to the provided Segment and TotalSegments values",
                ));
            }
            if cursor.as_ref().is_none_or(|c| hash > *c) {
                cursor = Some(hash);
            }
        }
        let mut evaluated = Vec::new();
        let mut bytes = 0usize;
        let mut last = None;
        'pages: loop {
            let rows = self
                .store
                .scan_items(
                    &table.id,
                    plan.index_name(),
                    cursor.as_deref(),
                    before.as_deref(),
                    SCAN_BATCH,
                )
                .await?;
            let done = rows.len() < SCAN_BATCH as usize;
            for r in &rows {
                cursor = Some(r.item_hash.clone());
                let item = stored::open_item(&key, r)?;
                bytes += r.size as usize;
                evaluated.push(item);
                if plan.limit.is_some_and(|l| evaluated.len() >= l) || bytes >= PAGE_BYTES {
                    last = evaluated.last().cloned();
                    break 'pages;
                }
            }
            if done {
                break;
            }
        }
        // A page that stopped exactly at the end has nothing after it.
        if last.is_some() {
            let more = self
                .store
                .scan_items(
                    &table.id,
                    plan.index_name(),
                    cursor.as_deref(),
                    before.as_deref(),
                    1,
                )
                .await?;
            if more.is_empty() {
                last = None;
            }
        }
        Ok(plan.answer(evaluated, last, input.return_consumed_capacity.as_deref()))
    }
}

/// The types a sort-key condition compares with.
fn sort_condition_types(c: &expression::SortKeyCondition) -> Vec<&'static str> {
    use expression::SortKeyCondition as C;
    match c {
        C::Eq(v) | C::Lt(v) | C::Le(v) | C::Gt(v) | C::Ge(v) | C::BeginsWith(v) => {
            vec![v.attribute_type().name()]
        }
        C::Between(a, b) => vec![a.attribute_type().name(), b.attribute_type().name()],
    }
}

/// Items up to the limit or 1 MB read; the last one when more remain.
fn take_page(items: impl Iterator<Item = Item>, limit: Option<usize>) -> (Vec<Item>, Option<Item>) {
    let mut page = Vec::new();
    let mut bytes = 0;
    let mut items = items.peekable();
    while let Some(item) = items.next() {
        bytes += item::item_size(&item);
        page.push(item);
        let full = limit.is_some_and(|l| page.len() >= l) || bytes >= PAGE_BYTES;
        if full {
            let last = items
                .peek()
                .is_some()
                .then(|| page.last().cloned())
                .flatten();
            return (page, last);
        }
    }
    (page, None)
}

/// The item-hash range of a parallel scan's segment: (exclusive start, exclusive end), as 8-byte
/// prefixes of the hash space split evenly.
fn segment_bounds(segment: Option<i64>, total: Option<i64>) -> Result<Bounds> {
    match (segment, total) {
        (None, None) => Ok((None, None)),
        (Some(_), None) => Err(DynamoError::validation(
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
        )),
        (None, Some(_)) => Err(DynamoError::validation(
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
        )),
        (Some(s), Some(t)) => {
            if !(1..=1_000_000).contains(&t) {
                return Err(DynamoError::validation(format!(
                    "1 validation error detected: Value '{t}' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000"
                )));
            }
            if s < 0 || s >= t {
                return Err(DynamoError::validation(format!(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                )));
            }
            let bound = |i: i64| -> Vec<u8> {
                let v = ((i as u128) << 64) / (t as u128);
                (v as u64).to_be_bytes().to_vec()
            };
            let start = (s > 0).then(|| bound(s));
            let end = (s + 1 < t).then(|| bound(s + 1));
            Ok((start, end))
        }
    }
}

/// A Query's ExclusiveStartKey: exactly the key attributes of the table (and of the index queried),
/// of their types, inside the partition and the sort key range the key condition names, as DynamoDB
/// requires; a key from elsewhere would silently end or restart the paging.
fn check_query_start(
    table: &TableRecord,
    schema: &KeySchema,
    condition: &expression::KeyCondition,
    start: &Item,
) -> Result<()> {
    check_start_key(table, [Some(schema.partition_key), schema.sort_key], start)?;
    let outside = || {
        DynamoError::validation(
            "The provided starting key is outside query boundaries based on provided conditions",
        )
    };
    if start.get(schema.partition_key) != Some(&condition.partition_value) {
        return Err(outside());
    }
    if let (Some((_, c)), Some(name)) = (&condition.sort, schema.sort_key) {
        if !start.get(name).is_some_and(|v| c.matches(v)) {
            return Err(outside());
        }
    }
    Ok(())
}

/// An ExclusiveStartKey holds exactly the key attributes of the table and of the index read
/// (`index_keys`), each of its type.
fn check_start_key<'a>(
    table: &'a TableRecord,
    index_keys: impl IntoIterator<Item = Option<&'a str>>,
    start: &Item,
) -> Result<()> {
    let invalid = || {
        DynamoError::validation(
            "The provided starting key is invalid: The provided key element does not match the schema",
        )
    };
    let mut names: Vec<&str> = vec![table.partition_key()];
    names.extend(table.sort_key());
    for name in index_keys.into_iter().flatten() {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if start.len() != names.len() {
        return Err(invalid());
    }
    for name in &names {
        let value = start.get(*name).ok_or_else(invalid)?;
        if Some(value.attribute_type().name()) != table.attribute_type(name) {
            return Err(invalid());
        }
    }
    Ok(())
}
