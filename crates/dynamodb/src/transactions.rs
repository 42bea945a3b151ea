//! TransactWriteItems and TransactGetItems. A write transaction reads every item it names,
//! evaluates every condition, and then writes all of it in one store transaction guarded by the
//! versions it read: all or nothing, also against other nodes. A token repeated within ten minutes
//! answers as the first call did without writing again.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use m2sec_crypto::TableKey;
use m2sec_proto::RequestContext;
use m2sec_store::{Expect, GuardedWrite, ItemRecord, ItemWrite, StoreError};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::error::{DynamoError, Result};
use crate::expression::{self, ConditionExpression, ProjectionExpression, UpdateExpression, Usage};
use crate::item::{self, Item};
use crate::items::{
    attributes, check_condition, check_key_untouched, condition_of, consumed_per_table,
    decode_item, leading_key, projection_of,
};
use crate::shapes::{
    GetItemOutput, ItemInput, TransactGetInput, TransactGetOutput, TransactWriteInput,
};
use crate::stored::{self, PrimaryKey};
use crate::tables::TableRecord;
use crate::turns::RETRIES;
use crate::DynamoDb;

/// How long a ClientRequestToken is remembered (DynamoDB: 10 minutes).
const TOKEN_LIFE: Duration = Duration::from_secs(600);

/// Tokens of recent write transactions: token → (digest of the request, when).
#[derive(Default)]
pub(crate) struct Tokens(Mutex<HashMap<String, (String, Instant)>>);

impl Tokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn tokens() -> &'static Tokens {
    static TOKENS: std::sync::OnceLock<Tokens> = std::sync::OnceLock::new();
    TOKENS.get_or_init(Tokens::default)
}

/// One action of a write transaction, read and checked.
struct Action {
    table_id: String,
    hash: Vec<u8>,
    expect: Expect,
    write: Option<ItemWrite>,
    failed: Option<Json>,
}

/// One action checked and authorized, before its item is read.
struct Checked {
    kind: &'static str,
    return_on_failure: Option<String>,
    table: Arc<TableRecord>,
    condition: Option<ConditionExpression>,
    update: Option<UpdateExpression>,
    pk: PrimaryKey,
    new_item: Option<Item>,
    key: Arc<TableKey>,
    hash: Vec<u8>,
}

impl Checked {
    fn unconditional_put(&self) -> bool {
        self.kind == "Put" && self.condition.is_none()
    }

    /// The action on the item as read (`current`): its expectation, its write, and its failed
    /// condition if it has one.
    fn decide(self, current: Option<(ItemRecord, Item)>) -> Result<Action> {
        let old = current.as_ref().map(|(_, i)| i);
        let expect = match &current {
            _ if self.unconditional_put() => Expect::Anything,
            Some((r, _)) => Expect::Version(r.version),
            None => Expect::Absent,
        };
        let next_version = crate::turns::next_version();
        let mut failed = match check_condition(
            self.condition.as_ref(),
            old,
            self.return_on_failure.as_deref(),
        ) {
            Err(DynamoError::ConditionalCheckFailed { item }) => {
                let mut reason = json!({"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"});
                if let Some(item) = item {
                    reason["Item"] = item;
                }
                Some(reason)
            }
            _ => None,
        };
        let write = match self.kind {
            "Put" => {
                let new = self.new_item.as_ref().expect("put item");
                let mut r = stored::seal_item(&self.key, &self.table, new)?;
                r.version = next_version;
                Some(ItemWrite::Put(r))
            }
            "Update" => {
                let base = old.cloned().unwrap_or_else(|| self.pk.to_item(&self.table));
                let u = self.update.as_ref().expect("update expression");
                let sealed = u.apply(&base).map_err(DynamoError::from).and_then(|new| {
                    item::check_update_size(&new)?;
                    stored::seal_item(&self.key, &self.table, &new)
                });
                match sealed {
                    Ok(mut r) => {
                        r.version = next_version;
                        Some(ItemWrite::Put(r))
                    }
                    // What the item holds makes the update impossible (an operand of the wrong
                    // type, a path that is not there, an item grown too large): the transaction is
                    // cancelled with this action's reason, as DynamoDB does, unless its condition
                    // already failed.
                    Err(DynamoError::Validation(message)) => {
                        failed.get_or_insert_with(
                            || json!({"Code": "ValidationError", "Message": message}),
                        );
                        None
                    }
                    Err(e) => return Err(e),
                }
            }
            "Delete" => current.as_ref().map(|_| ItemWrite::Delete {
                table_id: self.table.id.clone(),
                item_hash: self.hash.clone(),
            }),
            _ => None,
        };
        Ok(Action {
            table_id: self.table.id.clone(),
            hash: self.hash,
            expect,
            write,
            failed,
        })
    }
}

impl DynamoDb {
    pub(crate) async fn transact_write_items(
        &self,
        ctx: &RequestContext,
        input: TransactWriteInput,
    ) -> Result<Json> {
        if input.transact_items.is_empty() || input.transact_items.len() > 100 {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{}' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
                input.transact_items.len()
            )));
        }
        // What a repeated token must repeat: only a request with a token needs it.
        let digest = input.client_request_token.as_ref().map(|_| {
            format!(
                "{}|{}",
                ctx.account,
                serde_json::to_string(&input.transact_items).unwrap_or_default()
            )
        });
        if let (Some(token), Some(digest)) = (&input.client_request_token, &digest) {
            let mut tokens = tokens().lock();
            tokens.retain(|_, (_, at)| at.elapsed() < TOKEN_LIFE);
            if let Some((seen, _)) = tokens.get(token) {
                if seen == digest {
                    return Ok(transaction_answer(&input));
                }
                return Err(DynamoError::IdempotentParameterMismatch(
                    "Request parameters do not match the original request for this ClientRequestToken".into(),
                ));
            }
        }
        for attempt in 0..RETRIES {
            if attempt > 0 {
                crate::turns::back_off(attempt).await;
            }
            let actions = self.read_actions(ctx, &input.transact_items).await?;
            if actions.iter().any(|a| a.failed.is_some()) {
                let reasons: Vec<Json> = actions
                    .iter()
                    .map(|a| a.failed.clone().unwrap_or_else(|| json!({"Code": "None"})))
                    .collect();
                let summary = reasons
                    .iter()
                    .map(|r| r["Code"].as_str().unwrap_or("None").to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(DynamoError::TransactionCanceled { summary, reasons });
            }
            let writes: Vec<GuardedWrite> = actions
                .into_iter()
                .map(|a| GuardedWrite {
                    write: a.write.unwrap_or(ItemWrite::Check {
                        table_id: a.table_id,
                        item_hash: a.hash,
                    }),
                    expect: a.expect,
                })
                .collect();
            match self.store.write_items(&writes).await {
                Ok(()) => {
                    if let (Some(token), Some(digest)) = (&input.client_request_token, digest) {
                        tokens()
                            .lock()
                            .insert(token.clone(), (digest, Instant::now()));
                    }
                    return Ok(transaction_answer(&input));
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let reasons: Vec<Json> = input
            .transact_items
            .iter()
            .map(|_| json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}))
            .collect();
        Err(DynamoError::TransactionCanceled {
            summary: vec!["TransactionConflict"; reasons.len()].join(", "),
            reasons,
        })
    }

    /// Checks every action, reads every item a condition or an update needs (all at once, one
    /// snapshot), then evaluates the conditions and seals the new items.
    async fn read_actions(&self, ctx: &RequestContext, items: &[Json]) -> Result<Vec<Action>> {
        let mut checked = Vec::with_capacity(items.len());
        let mut seen = BTreeSet::new();
        for entry in items {
            let action = self.check_action(ctx, entry).await?;
            if !seen.insert((action.table.id.clone(), action.hash.clone())) {
                return Err(DynamoError::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            checked.push(action);
        }
        // An unconditional Put is written whatever the item is: it is not read.
        let reads: Vec<_> = checked
            .iter()
            .filter(|a| !a.unconditional_put())
            .map(|a| (&*a.key, a.table.id.as_str(), a.hash.as_slice()))
            .collect();
        let mut found = self.read_items(&reads).await?.into_iter();
        let mut actions = Vec::with_capacity(checked.len());
        for a in checked {
            let current = if a.unconditional_put() {
                None
            } else {
                found.next().flatten()
            };
            actions.push(a.decide(current)?);
        }
        Ok(actions)
    }

    /// One action parsed, validated and authorized; its item not yet read.
    async fn check_action(&self, ctx: &RequestContext, entry: &Json) -> Result<Checked> {
        let mut kinds = actions_in(entry, &WRITE_ACTIONS);
        let (kind, body) = kinds
            .next()
            .filter(|_| kinds.next().is_none())
            .ok_or_else(|| {
                DynamoError::validation(
                    "TransactItems can only contain one of Check, Put, Update or Delete",
                )
            })?;
        let input =
            ItemInput::deserialize(body).map_err(|e| DynamoError::Serialization(e.to_string()))?;
        let action = match kind {
            "ConditionCheck" => "dynamodb:ConditionCheckItem",
            "Put" => "dynamodb:PutItem",
            "Delete" => "dynamodb:DeleteItem",
            _ => "dynamodb:UpdateItem",
        };
        let table = self.table_for(ctx, &input.table_name, action).await?;
        let attrs = attributes(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let condition = condition_of(input.condition_expression.as_ref(), &attrs)?;
        let update = match (&input.update_expression, kind) {
            (Some(u), "Update") => {
                let update = expression::parse_update(u, &attrs)?;
                check_key_untouched(&update, &table)?;
                Some(update)
            }
            (None, "Update") => {
                return Err(DynamoError::validation(
                    "1 validation error detected: Value null at 'transactItems.1.member.update.updateExpression' failed to satisfy constraint: Member must not be null",
                ))
            }
            _ => None,
        };
        if kind == "ConditionCheck" && condition.is_none() {
            return Err(DynamoError::validation(
                "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
            ));
        }
        let used: Vec<&Usage> = condition
            .iter()
            .map(|c| &c.usage)
            .chain(update.iter().map(|u| &u.usage))
            .collect();
        expression::check_unused(&attrs, &used)?;
        let (pk, new_item) = if kind == "Put" {
            let it = decode_item(input.item.as_ref().unwrap_or(&Json::Null))?;
            item::check_item_size(&it)?;
            (stored::key_of_item(&table, &it)?, Some(it))
        } else {
            let k = decode_item(input.key.as_ref().unwrap_or(&Json::Null))?;
            (stored::key_from_param(&table, &k)?, None)
        };
        self.authorize(
            ctx,
            action,
            &table.arn(),
            &[("dynamodb:LeadingKeys", vec![leading_key(&pk.partition)])],
        )
        .await?;
        let key = self.keys.get(ctx, &table).await?;
        let hash = stored::item_hash(&key, &pk);
        Ok(Checked {
            kind,
            return_on_failure: input.return_values_on_condition_check_failure,
            table,
            condition,
            update,
            pk,
            new_item,
            key,
            hash,
        })
    }
    pub(crate) async fn transact_get_items(
        &self,
        ctx: &RequestContext,
        input: TransactGetInput,
    ) -> Result<TransactGetOutput> {
        if input.transact_items.is_empty() || input.transact_items.len() > 100 {
            return Err(DynamoError::validation(format!(
                "1 validation error detected: Value '{}' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
                input.transact_items.len()
            )));
        }
        // Everything is checked first; then every item is read at once, in one snapshot, so that
        // no write transaction is seen half done.
        let mut gets = Vec::with_capacity(input.transact_items.len());
        let mut seen = BTreeSet::new();
        for entry in &input.transact_items {
            let get = entry
                .get("Get")
                .ok_or_else(|| DynamoError::validation("TransactItems can only contain Get"))?;
            let input = ItemInput::deserialize(get)
                .map_err(|e| DynamoError::Serialization(e.to_string()))?;
            let table = self
                .table_for(ctx, &input.table_name, "dynamodb:GetItem")
                .await?;
            let attrs = attributes(input.expression_attribute_names.as_ref(), None)?;
            let projection = projection_of(input.projection_expression.as_deref(), None, &attrs)?;
            let used: Vec<&Usage> = projection.iter().map(|p| &p.usage).collect();
            expression::check_unused(&attrs, &used)?;
            let pk = stored::key_from_param(
                &table,
                &decode_item(input.key.as_ref().unwrap_or(&Json::Null))?,
            )?;
            self.authorize(
                ctx,
                "dynamodb:GetItem",
                &table.arn(),
                &[("dynamodb:LeadingKeys", vec![leading_key(&pk.partition)])],
            )
            .await?;
            let key = self.keys.get(ctx, &table).await?;
            let hash = stored::item_hash(&key, &pk);
            if !seen.insert((table.id.clone(), hash.clone())) {
                return Err(DynamoError::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            gets.push((key, table.id.clone(), hash, projection));
        }
        let reads: Vec<_> = gets
            .iter()
            .map(|(key, table_id, hash, _)| (&**key, table_id.as_str(), hash.as_slice()))
            .collect();
        let found = self.read_items(&reads).await?;
        let responses = found
            .into_iter()
            .zip(&gets)
            .map(|(current, (_, _, _, projection))| GetItemOutput {
                item: current
                    .map(|(_, item)| ProjectionExpression::apply_to(projection.as_ref(), item)),
                consumed_capacity: None,
            })
            .collect();
        Ok(TransactGetOutput {
            consumed_capacity: consumed_per_table(
                input.return_consumed_capacity.as_deref(),
                transaction_units(&input.transact_items),
            ),
            responses,
        })
    }
}

/// A committed (or repeated) TransactWriteItems' answer: its ConsumedCapacity, when asked for.
fn transaction_answer(input: &TransactWriteInput) -> Json {
    let mut out = json!({});
    let mode = input.return_consumed_capacity.as_deref();
    if let Some(c) = consumed_per_table(mode, transaction_units(&input.transact_items)) {
        out["ConsumedCapacity"] = json!(c);
    }
    out
}

/// The capacity a transaction's actions take: two units each (DynamoDB's price of a transactional
/// read or write of up to 1 KB or 4 KB), by the table each names.
fn transaction_units(items: &[Json]) -> impl Iterator<Item = (&str, f64)> {
    items.iter().filter_map(|entry| {
        let (_, action) = actions_in(entry, &WRITE_ACTIONS)
            .chain(actions_in(entry, &["Get"]))
            .next()?;
        Some((action.get("TableName")?.as_str()?, 2.0))
    })
}

/// The actions a TransactWriteItems element may hold.
const WRITE_ACTIONS: [&str; 4] = ["ConditionCheck", "Put", "Delete", "Update"];

/// The actions of `kinds` an element of TransactItems holds (a member sent as null holds none).
fn actions_in<'a>(
    entry: &'a Json,
    kinds: &'static [&'static str],
) -> impl Iterator<Item = (&'static str, &'a Json)> {
    kinds
        .iter()
        .filter_map(move |k| entry.get(*k).filter(|b| !b.is_null()).map(|b| (*k, b)))
}
