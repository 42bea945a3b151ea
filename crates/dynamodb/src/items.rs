//! Items: PutItem, GetItem, DeleteItem, UpdateItem. Every write reads the item first and writes it
//! back guarded by the version it read, so conditions hold against concurrent writers on any node
//! (a lost race re-reads and re-evaluates); see `turns.rs`.

use std::collections::BTreeMap;

use m2sec_proto::RequestContext;
use m2sec_store::ItemRecord;
use serde_json::{json, Value as Json};

use crate::error::{DynamoError, Result};
use crate::expression::{
    self, ConditionExpression, ExpressionAttributes, ProjectionExpression, UpdateExpression, Usage,
};
use crate::item::{self, AttributeValue, Item};
use crate::shapes::{GetItemOutput, ItemInput};
use crate::stored::{self, PrimaryKey};
use crate::tables::TableRecord;
use crate::turns::Change;
use crate::DynamoDb;

/// A request's placeholders, with DynamoDB's checks of the maps themselves.
pub(crate) fn attributes(
    names: Option<&BTreeMap<String, String>>,
    values: Option<&Json>,
) -> Result<ExpressionAttributes> {
    let values = match values {
        None => None,
        Some(Json::Object(map)) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                out.insert(
                    k.clone(),
                    AttributeValue::from_json(v).map_err(|e| match e {
                        item::DecodeError::Validation(v) => DynamoError::validation(format!(
                            "ExpressionAttributeValues contains invalid value: {} for key {k}",
                            v.0
                        )),
                        item::DecodeError::Serialization(m) => DynamoError::Serialization(m),
                    })?,
                );
            }
            Some(out)
        }
        Some(_) => {
            return Err(DynamoError::Serialization(
                "Unexpected value type in payload".into(),
            ))
        }
    };
    expression::validate_attribute_maps(names, values.as_ref())?;
    Ok(ExpressionAttributes {
        names: names.cloned().unwrap_or_default(),
        values: values.unwrap_or_default(),
    })
}

pub(crate) fn decode_item(value: &Json) -> Result<Item> {
    Ok(item::item_from_json(value)?)
}

/// Legacy parameters m2sec answers with a pointer to their expression form.
pub(crate) fn refuse_legacy(present: &[(&str, bool)], instead: &str) -> Result<()> {
    if let Some((name, _)) = present.iter().find(|(_, p)| *p) {
        return Err(DynamoError::validation(format!(
            "The legacy parameter {name} is not supported by m2sec; use {instead} instead"
        )));
    }
    Ok(())
}

/// `dynamodb:LeadingKeys`: the partition key's value as policies compare it.
pub(crate) fn leading_key(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        other => other.to_json().to_string(),
    }
}

pub(crate) fn consumed(table: &str, mode: Option<&str>, units: f64) -> Option<Json> {
    match mode {
        Some("TOTAL") | Some("INDEXES") => {
            Some(json!({"TableName": table, "CapacityUnits": units}))
        }
        _ => None,
    }
}

/// The ConsumedCapacity list of a call over several tables: `units` summed per table (in the order
/// the tables first appear), when `mode` asks for it.
pub(crate) fn consumed_per_table<'a>(
    mode: Option<&str>,
    units: impl IntoIterator<Item = (&'a str, f64)>,
) -> Option<Vec<Json>> {
    if !matches!(mode, Some("TOTAL") | Some("INDEXES")) {
        return None;
    }
    let mut tables: Vec<(&str, f64)> = Vec::new();
    for (name, n) in units {
        let name = crate::tables::table_name(name);
        match tables.iter_mut().find(|(t, _)| *t == name) {
            Some((_, total)) => *total += n,
            None => tables.push((name, n)),
        }
    }
    Some(
        tables
            .into_iter()
            .map(|(t, n)| json!({"TableName": t, "CapacityUnits": n}))
            .collect(),
    )
}

fn check_return_values(given: Option<&str>, allowed: &[&str]) -> Result<()> {
    match given {
        None => Ok(()),
        Some(v) if allowed.contains(&v) => Ok(()),
        Some(v) if ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"].contains(&v) => {
            Err(DynamoError::validation(if allowed.len() == 2 {
                "ReturnValues can only be ALL_OLD or NONE".to_string()
            } else {
                format!("ReturnValues {v} is not valid here")
            }))
        }
        Some(v) => Err(DynamoError::validation(format!(
            "1 validation error detected: Value '{v}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
        ))),
    }
}

/// A request's ConditionExpression, parsed, if it has one.
pub(crate) fn condition_of(
    text: Option<&String>,
    attrs: &ExpressionAttributes,
) -> Result<Option<ConditionExpression>> {
    Ok(text
        .map(|c| expression::parse_condition(c, attrs))
        .transpose()?)
}

/// Whether the item as it is (`None`: absent) meets the condition; if not, the failure, with the
/// item when the caller asked for it (ReturnValuesOnConditionCheckFailure=ALL_OLD).
pub(crate) fn check_condition(
    condition: Option<&ConditionExpression>,
    old: Option<&Item>,
    return_old: Option<&str>,
) -> Result<()> {
    match condition {
        Some(c) if !c.evaluate(old.unwrap_or(&Item::new())) => {
            Err(DynamoError::ConditionalCheckFailed {
                item: match (old, return_old) {
                    (Some(item), Some("ALL_OLD")) => Some(item::item_to_json(item)),
                    _ => None,
                },
            })
        }
        _ => Ok(()),
    }
}

/// Refuses an update that writes a key attribute.
pub(crate) fn check_key_untouched(update: &UpdateExpression, table: &TableRecord) -> Result<()> {
    match update
        .written_attributes()
        .into_iter()
        .find(|w| *w == table.partition_key() || Some(*w) == table.sort_key())
    {
        Some(written) => Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Cannot update attribute {written}. This attribute is part of the key"
        ))),
        None => Ok(()),
    }
}

impl DynamoDb {
    /// The current record and item at a key.
    pub(crate) async fn read_item(
        &self,
        key: &m2sec_crypto::TableKey,
        table: &TableRecord,
        pk: &PrimaryKey,
    ) -> Result<(Vec<u8>, Option<(ItemRecord, Item)>)> {
        let hash = stored::item_hash(key, pk);
        let record = self.store.get_item(&table.id, &hash).await?;
        let current = match record {
            Some(r) => {
                let item = stored::open_item(key, &r)?;
                Some((r, item))
            }
            None => None,
        };
        Ok((hash, current))
    }

    /// The current records and items at several keys (table key, table id, item hash), in their
    /// order, read together: all of one moment.
    pub(crate) async fn read_items(
        &self,
        reads: &[(&m2sec_crypto::TableKey, &str, &[u8])],
    ) -> Result<Vec<Option<(ItemRecord, Item)>>> {
        let keys: Vec<(&str, &[u8])> = reads.iter().map(|(_, t, h)| (*t, *h)).collect();
        let records = self.store.get_items(&keys).await?;
        records
            .into_iter()
            .zip(reads)
            .map(|(record, (key, _, _))| {
                record
                    .map(|r| {
                        let item = stored::open_item(key, &r)?;
                        Ok((r, item))
                    })
                    .transpose()
            })
            .collect()
    }

    pub(crate) async fn put_item(&self, ctx: &RequestContext, input: ItemInput) -> Result<Json> {
        let table = self
            .table_for(ctx, &input.table_name, "dynamodb:PutItem")
            .await?;
        let item = decode_item(input.item.as_ref().unwrap_or(&Json::Null))?;
        let pk = stored::key_of_item(&table, &item)?;
        let mut extra = vec![("dynamodb:LeadingKeys", vec![leading_key(&pk.partition)])];
        extra.push(("dynamodb:Attributes", item.keys().cloned().collect()));
        if let Some(r) = &input.return_values {
            extra.push(("dynamodb:ReturnValues", vec![r.clone()]));
        }
        self.authorize(ctx, "dynamodb:PutItem", &table.arn(), &extra)
            .await?;
        refuse_legacy(
            &[
                ("Expected", input.expected.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            "ConditionExpression",
        )?;
        check_return_values(input.return_values.as_deref(), &["NONE", "ALL_OLD"])?;
        item::check_item_size(&item)?;
        let attrs = attributes(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let condition = condition_of(input.condition_expression.as_ref(), &attrs)?;
        let used: Vec<&Usage> = condition.iter().map(|c| &c.usage).collect();
        expression::check_unused(&attrs, &used)?;
        let key = self.keys.get(ctx, &table).await?;
        let record = stored::seal_item(&key, &table, &item)?;
        let hash = record.item_hash.clone();
        let blind = condition.is_none() && input.return_values.as_deref() != Some("ALL_OLD");
        let mut old = None;
        self.change_item(&table.id, &hash, blind, |current| {
            old = current.map(|r| stored::open_item(&key, r)).transpose()?;
            check_condition(
                condition.as_ref(),
                old.as_ref(),
                input.return_values_on_condition_check_failure.as_deref(),
            )?;
            Ok(Change::Put(record.clone()))
        })
        .await?;
        let mut out = json!({});
        if input.return_values.as_deref() == Some("ALL_OLD") {
            if let Some(old) = &old {
                out["Attributes"] = item::item_to_json(old);
            }
        }
        if let Some(c) = consumed(&table.name, input.return_consumed_capacity.as_deref(), 1.0) {
            out["ConsumedCapacity"] = c;
        }
        Ok(out)
    }

    pub(crate) async fn get_item(
        &self,
        ctx: &RequestContext,
        input: ItemInput,
    ) -> Result<GetItemOutput> {
        let table = self
            .table_for(ctx, &input.table_name, "dynamodb:GetItem")
            .await?;
        let key_item = decode_item(input.key.as_ref().unwrap_or(&Json::Null))?;
        let pk = stored::key_from_param(&table, &key_item)?;
        let attrs = attributes(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let projection = projection(&input, &attrs)?;
        let mut extra = vec![("dynamodb:LeadingKeys", vec![leading_key(&pk.partition)])];
        if let Some(p) = &projection {
            extra.push((
                "dynamodb:Attributes",
                p.usage.attributes.iter().cloned().collect(),
            ));
            extra.push(("dynamodb:Select", vec!["SPECIFIC_ATTRIBUTES".into()]));
        }
        self.authorize(ctx, "dynamodb:GetItem", &table.arn(), &extra)
            .await?;
        let used: Vec<&Usage> = projection.iter().map(|p| &p.usage).collect();
        expression::check_unused(&attrs, &used)?;
        let key = self.keys.get(ctx, &table).await?;
        let (_, current) = self.read_item(&key, &table, &pk).await?;
        Ok(GetItemOutput {
            item: current
                .map(|(_, item)| ProjectionExpression::apply_to(projection.as_ref(), item)),
            consumed_capacity: consumed(
                &table.name,
                input.return_consumed_capacity.as_deref(),
                0.5,
            ),
        })
    }

    pub(crate) async fn delete_item(&self, ctx: &RequestContext, input: ItemInput) -> Result<Json> {
        let table = self
            .table_for(ctx, &input.table_name, "dynamodb:DeleteItem")
            .await?;
        let key_item = decode_item(input.key.as_ref().unwrap_or(&Json::Null))?;
        let pk = stored::key_from_param(&table, &key_item)?;
        let mut extra = vec![("dynamodb:LeadingKeys", vec![leading_key(&pk.partition)])];
        if let Some(r) = &input.return_values {
            extra.push(("dynamodb:ReturnValues", vec![r.clone()]));
        }
        self.authorize(ctx, "dynamodb:DeleteItem", &table.arn(), &extra)
            .await?;
        refuse_legacy(
            &[
                ("Expected", input.expected.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            "ConditionExpression",
        )?;
        check_return_values(input.return_values.as_deref(), &["NONE", "ALL_OLD"])?;
        let attrs = attributes(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let condition = condition_of(input.condition_expression.as_ref(), &attrs)?;
        let used: Vec<&Usage> = condition.iter().map(|c| &c.usage).collect();
        expression::check_unused(&attrs, &used)?;
        let key = self.keys.get(ctx, &table).await?;
        let hash = stored::item_hash(&key, &pk);
        let blind = condition.is_none() && input.return_values.as_deref() != Some("ALL_OLD");
        let mut old = None;
        self.change_item(&table.id, &hash, blind, |current| {
            old = current.map(|r| stored::open_item(&key, r)).transpose()?;
            check_condition(
                condition.as_ref(),
                old.as_ref(),
                input.return_values_on_condition_check_failure.as_deref(),
            )?;
            Ok(Change::Delete)
        })
        .await?;
        let mut out = json!({});
        if input.return_values.as_deref() == Some("ALL_OLD") {
            if let Some(old) = &old {
                out["Attributes"] = item::item_to_json(old);
            }
        }
        if let Some(c) = consumed(&table.name, input.return_consumed_capacity.as_deref(), 1.0) {
            out["ConsumedCapacity"] = c;
        }
        Ok(out)
    }

    pub(crate) async fn update_item(&self, ctx: &RequestContext, input: ItemInput) -> Result<Json> {
        let table = self
            .table_for(ctx, &input.table_name, "dynamodb:UpdateItem")
            .await?;
        let key_item = decode_item(input.key.as_ref().unwrap_or(&Json::Null))?;
        let pk = stored::key_from_param(&table, &key_item)?;
        let attrs = attributes(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let update = match &input.update_expression {
            Some(u) => Some(expression::parse_update(u, &attrs)?),
            None => None,
        };
        let mut extra = vec![("dynamodb:LeadingKeys", vec![leading_key(&pk.partition)])];
        if let Some(u) = &update {
            extra.push((
                "dynamodb:Attributes",
                u.usage.attributes.iter().cloned().collect(),
            ));
        }
        if let Some(r) = &input.return_values {
            extra.push(("dynamodb:ReturnValues", vec![r.clone()]));
        }
        self.authorize(ctx, "dynamodb:UpdateItem", &table.arn(), &extra)
            .await?;
        refuse_legacy(
            &[
                ("Expected", input.expected.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
                ("AttributeUpdates", input.attribute_updates.is_some()),
            ],
            "ConditionExpression and UpdateExpression",
        )?;
        check_return_values(
            input.return_values.as_deref(),
            &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
        )?;
        let condition = condition_of(input.condition_expression.as_ref(), &attrs)?;
        let used: Vec<&Usage> = condition
            .iter()
            .map(|c| &c.usage)
            .chain(update.iter().map(|u| &u.usage))
            .collect();
        expression::check_unused(&attrs, &used)?;
        if let Some(u) = &update {
            check_key_untouched(u, &table)?;
        }
        let key = self.keys.get(ctx, &table).await?;
        let hash = stored::item_hash(&key, &pk);
        let (mut old, mut new) = (None, None);
        self.change_item(&table.id, &hash, false, |current| {
            old = current.map(|r| stored::open_item(&key, r)).transpose()?;
            check_condition(
                condition.as_ref(),
                old.as_ref(),
                input.return_values_on_condition_check_failure.as_deref(),
            )?;
            let base = old.clone().unwrap_or_else(|| pk.to_item(&table));
            let updated = match &update {
                Some(u) => u.apply(&base)?,
                None => base,
            };
            item::check_update_size(&updated)?;
            let record = stored::seal_item(&key, &table, &updated)?;
            new = Some(updated);
            Ok(Change::Put(record))
        })
        .await?;
        let new = new.expect("decided on");
        let mut out = json!({});
        let pick = |item: &Item| -> Item {
            update
                .as_ref()
                .map(|u| u.updated_parts(item))
                .unwrap_or_default()
        };
        let attributes = match input.return_values.as_deref() {
            Some("ALL_OLD") => old,
            Some("UPDATED_OLD") => old.as_ref().map(pick),
            Some("ALL_NEW") => Some(new),
            Some("UPDATED_NEW") => Some(pick(&new)),
            _ => None,
        };
        if let Some(a) = attributes.filter(|a| !a.is_empty()) {
            out["Attributes"] = item::item_to_json(&a);
        }
        if let Some(c) = consumed(&table.name, input.return_consumed_capacity.as_deref(), 1.0) {
            out["ConsumedCapacity"] = c;
        }
        Ok(out)
    }
}

/// ProjectionExpression, or the legacy AttributesToGet (top-level names).
pub(crate) fn projection(
    input: &ItemInput,
    attrs: &ExpressionAttributes,
) -> Result<Option<expression::ProjectionExpression>> {
    projection_of(
        input.projection_expression.as_deref(),
        input.attributes_to_get.as_ref(),
        attrs,
    )
}

pub(crate) fn projection_of(
    expression_text: Option<&str>,
    attributes_to_get: Option<&Json>,
    attrs: &ExpressionAttributes,
) -> Result<Option<expression::ProjectionExpression>> {
    match (expression_text, attributes_to_get) {
        (Some(_), Some(_)) => Err(DynamoError::validation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
        )),
        (Some(p), None) => Ok(Some(expression::parse_projection(p, attrs)?)),
        (None, Some(Json::Array(names))) => {
            let mut names_map = BTreeMap::new();
            let mut parts = Vec::new();
            for (i, n) in names.iter().filter_map(Json::as_str).enumerate() {
                names_map.insert(format!("#a{i}"), n.to_string());
                parts.push(format!("#a{i}"));
            }
            let attrs = ExpressionAttributes {
                names: names_map,
                values: BTreeMap::new(),
            };
            let mut p = expression::parse_projection(&parts.join(", "), &attrs)?;
            p.usage.names.clear();
            Ok(Some(p))
        }
        _ => Ok(None),
    }
}
