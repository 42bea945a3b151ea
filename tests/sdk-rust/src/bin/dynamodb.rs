//! One DynamoDB scenario with the AWS SDK for Rust against m2sec — the same one as tests/sdk-js/dynamodb.mjs,
//! with the SDK's own types (AttributeValue, builders, waiters, paginators) where JavaScript has a document
//! client. A KMS key made in the same run encrypts the table (SSESpecification). Items carry numbers
//! (integers, decimals, negatives, a 23-digit number), string and number sets and nested maps and lists.
//! Covers put/get/update with conditions and ReturnValues ALL_NEW, query with KeyConditionExpression paged by
//! Limit through the SDK's paginator, scan with FilterExpression, batch writes, a transaction cancelled by a
//! failing condition (TransactionCanceledException with CancellationReasons), delete and DeleteTable.
//! Prints one JSON summary line on success (tests/e2e/test_sdks.py checks it against boto3); on the first
//! mismatch prints what came back and exits 1.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, KeySchemaElement, KeyType, Put, PutRequest,
    ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, Select, SseSpecification, SseType,
    TransactWriteItem, Update, WriteRequest,
};
use m2sec_e2e_sdk_rust::{check, expect_service_error, failed, report, run_name, sdk_config, Check};
use serde_json::{json, Map, Value};

type Item = HashMap<String, AttributeValue>;

const BIG: &str = "12345678901234567890123";

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn item<const K: usize>(pairs: [(&str, AttributeValue); K]) -> Item {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A DynamoDB number as JSON: an integer when it is one, else a float (the scenario's numbers are exact in
/// both); a number neither holds stays a string.
fn number(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return json!(i);
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => json!(f),
        _ => json!(text),
    }
}

/// An attribute value as the JavaScript scenario prints a document: sets as `{"$set": sorted values}`.
fn plain(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(v) => json!(v),
        AttributeValue::N(v) => number(v),
        AttributeValue::Bool(v) => json!(v),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::M(m) => plain_item(m),
        AttributeValue::L(l) => Value::Array(l.iter().map(plain).collect()),
        AttributeValue::Ss(v) => {
            let mut v = v.clone();
            v.sort();
            json!({ "$set": v })
        }
        AttributeValue::Ns(v) => {
            let mut v: Vec<f64> = v.iter().map(|x| x.parse().unwrap_or(f64::NAN)).collect();
            v.sort_by(f64::total_cmp);
            json!({ "$set": v.iter().map(|x| number(&x.to_string())).collect::<Vec<_>>() })
        }
        other => json!({ "$unexpected": format!("{other:?}") }),
    }
}

fn plain_item(item: &Item) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), plain(v))).collect::<Map<_, _>>())
}

fn ddb_error_name<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or_default().to_owned()
}

async fn scenario() -> Check<Value> {
    let config = sdk_config().await?;
    let kms = aws_sdk_kms::Client::new(&config);
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let table = format!("sdk-rust-{}", run_name()?);
    let table = table.as_str();

    let key = kms.create_key().description(format!("DynamoDB table key {table}")).send().await;
    let key = key.map_err(failed("CreateKey"))?.key_metadata.ok_or("CreateKey returned no KeyMetadata")?;
    let key_arn = key.arn().unwrap_or_default().to_owned();

    let definition =
        |name: &str, kind| AttributeDefinition::builder().attribute_name(name).attribute_type(kind).build();
    let schema = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let created = ddb
        .create_table()
        .table_name(table)
        .attribute_definitions(definition("pk", ScalarAttributeType::S).map_err(|e| e.to_string())?)
        .attribute_definitions(definition("sk", ScalarAttributeType::N).map_err(|e| e.to_string())?)
        .key_schema(schema("pk", KeyType::Hash).map_err(|e| e.to_string())?)
        .key_schema(schema("sk", KeyType::Range).map_err(|e| e.to_string())?)
        .billing_mode(BillingMode::PayPerRequest)
        .sse_specification(
            SseSpecification::builder().enabled(true).sse_type(SseType::Kms).kms_master_key_id(key.key_id()).build(),
        )
        .send()
        .await
        .map_err(failed("CreateTable"))?
        .table_description
        .ok_or("CreateTable returned no TableDescription")?;
    let table_arn = created.table_arn().unwrap_or_default().to_owned();
    check!(created.table_name() == Some(table), "CreateTable TableName", created.table_name());
    check!(table_arn.ends_with(&format!(":table/{table}")), "CreateTable TableArn", table_arn);
    let sse = created.sse_description();
    check!(
        sse.and_then(|s| s.sse_type()) == Some(&SseType::Kms)
            && sse.and_then(|s| s.kms_master_key_arn()) == Some(key_arn.as_str()),
        "CreateTable SSEDescription",
        sse
    );

    ddb.wait_until_table_exists()
        .table_name(table)
        .wait(Duration::from_secs(60))
        .await
        .map_err(failed("waiting for the table to exist"))?;
    let described = ddb.describe_table().table_name(table).send().await.map_err(failed("DescribeTable"))?;
    let described = described.table.ok_or("DescribeTable returned no Table")?;
    check!(described.table_status().map(|s| s.as_str()) == Some("ACTIVE"), "DescribeTable TableStatus", described);
    let sse = described.sse_description().ok_or("DescribeTable returned no SSEDescription")?;
    let sse_summary = json!({
        "Status": sse.status().map(|s| s.as_str()),
        "SSEType": sse.sse_type().map(|s| s.as_str()),
        "KMSMasterKeyArn": sse.kms_master_key_arn(),
    });

    // put: numbers, sets, nested maps and lists, booleans and null.
    let user = item([
        ("pk", s("user#1")),
        ("sk", n(0)),
        ("name", s("Ada")),
        ("n", n(41)),
        ("price", n("3.25")),
        ("delta", n(-7)),
        ("zero", n(0)),
        ("tags", AttributeValue::Ss(vec!["admin".into(), "dev".into()])),
        ("scores", AttributeValue::Ns(vec!["1".into(), "2.5".into(), "30".into()])),
        (
            "profile",
            AttributeValue::M(item([
                ("address", AttributeValue::M(item([("city", s("Paris")), ("zip", s("75001"))]))),
                ("langs", AttributeValue::L(vec![s("en"), s("fr"), AttributeValue::M(item([("level", n(2))]))])),
                ("active", AttributeValue::Bool(true)),
                ("none", AttributeValue::Null(true)),
            ])),
        ),
    ]);
    ddb.put_item()
        .table_name(table)
        .set_item(Some(user.clone()))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await
        .map_err(failed("PutItem"))?;
    ddb.put_item()
        .table_name(table)
        .set_item(Some(item([("pk", s("big")), ("sk", n(0)), ("v", n(BIG))])))
        .send()
        .await
        .map_err(failed("PutItem of a 23-digit number"))?;
    let mut eve = user.clone();
    eve.insert("name".into(), s("Eve"));
    let put_again = ddb
        .put_item()
        .table_name(table)
        .set_item(Some(eve))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await;
    let put_again = expect_service_error(put_again, "ConditionalCheckFailedException", 400, |e| {
        e.is_conditional_check_failed_exception()
    })?;

    // get: the item comes back as it went in, every type as DynamoDB writes it.
    let user_key = item([("pk", s("user#1")), ("sk", n(0))]);
    let got = ddb
        .get_item()
        .table_name(table)
        .set_key(Some(user_key.clone()))
        .consistent_read(true)
        .send()
        .await
        .map_err(failed("GetItem"))?
        .item
        .ok_or("GetItem returned no Item")?;
    check!(plain_item(&got) == plain_item(&user), "GetItem Item", plain_item(&got));
    check!(got.get("price") == Some(&n("3.25")) && got.get("delta") == Some(&n(-7)), "number strings", got);
    let projected = ddb
        .get_item()
        .table_name(table)
        .set_key(Some(user_key.clone()))
        .projection_expression("#n, profile.address.city, profile.langs[2]")
        .expression_attribute_names("#n", "name")
        .send()
        .await
        .map_err(failed("GetItem with a ProjectionExpression"))?
        .item
        .unwrap_or_default();
    let expected_projection =
        json!({ "name": "Ada", "profile": { "address": { "city": "Paris" }, "langs": [{ "level": 2 }] } });
    check!(plain_item(&projected) == expected_projection, "GetItem ProjectionExpression", plain_item(&projected));
    let big = ddb
        .get_item()
        .table_name(table)
        .set_key(Some(item([("pk", s("big")), ("sk", n(0))])))
        .send()
        .await
        .map_err(failed("GetItem of the 23-digit number"))?
        .item
        .unwrap_or_default();
    let big = match big.get("v") {
        Some(AttributeValue::N(v)) => v.clone(),
        other => return Err(format!("a 23-digit number, exact: got {other:?}")),
    };
    check!(big == BIG, "a 23-digit number, exact", big);

    // update: arithmetic, a nested path, ADD to a set, REMOVE, under a condition; ALL_NEW returns the item.
    let updated = ddb
        .update_item()
        .table_name(table)
        .set_key(Some(user_key.clone()))
        .update_expression(
            "SET n = n + :one, profile.address.city = :city, #seen = list_append(if_not_exists(#seen, :empty), :now) \
             ADD tags :more REMOVE price",
        )
        .condition_expression("n = :expected AND contains(tags, :admin)")
        .expression_attribute_names("#seen", "seen")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":city", s("Lyon"))
        .expression_attribute_values(":empty", AttributeValue::L(vec![]))
        .expression_attribute_values(":now", AttributeValue::L(vec![s("rust")]))
        .expression_attribute_values(":more", AttributeValue::Ss(vec!["ops".into()]))
        .expression_attribute_values(":expected", n(41))
        .expression_attribute_values(":admin", s("admin"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .map_err(failed("UpdateItem"))?
        .attributes
        .ok_or("UpdateItem ALL_NEW returned no Attributes")?;
    let update_failed = ddb
        .update_item()
        .table_name(table)
        .set_key(Some(user_key.clone()))
        .update_expression("SET n = :zero")
        .condition_expression("n = :expected")
        .expression_attribute_values(":zero", n(0))
        .expression_attribute_values(":expected", n(41))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    let update_failed = expect_service_error(update_failed, "ConditionalCheckFailedException", 400, |e| {
        e.is_conditional_check_failed_exception()
    })?;
    let old_n = match &update_failed {
        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(e) => {
            e.item().and_then(|i| i.get("n")).cloned()
        }
        _ => None,
    };
    check!(old_n == Some(n(42)), "ConditionalCheckFailedException Item (ALL_OLD)", old_n);

    // batch writes: seven items under one partition key, then one of them deleted in a second batch.
    let mut puts = Vec::new();
    for sk in 1..=7 {
        let order = item([
            ("pk", s("orders")),
            ("sk", n(sk)),
            ("total", n(sk as f64 * 10.5)),
            ("kind", s(if sk % 2 == 1 { "odd" } else { "even" })),
            ("lines", AttributeValue::M(item([("count", n(sk))]))),
        ]);
        let put = PutRequest::builder().set_item(Some(order)).build().map_err(|e| e.to_string())?;
        puts.push(WriteRequest::builder().put_request(put).build());
    }
    let batch = ddb.batch_write_item().request_items(table, puts).send().await.map_err(failed("BatchWriteItem"))?;
    let unprocessed = batch.unprocessed_items().map_or(0, |u| u.len());
    check!(unprocessed == 0, "BatchWriteItem UnprocessedItems", batch.unprocessed_items());
    let delete = DeleteRequest::builder()
        .set_key(Some(item([("pk", s("orders")), ("sk", n(7))])))
        .build()
        .map_err(|e| e.to_string())?;
    ddb.batch_write_item()
        .request_items(table, vec![WriteRequest::builder().delete_request(delete).build()])
        .send()
        .await
        .map_err(failed("BatchWriteItem of a delete"))?;

    // query: sk BETWEEN 2 AND 6, two at a time, through the SDK's paginator.
    let mut pages = ddb
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
        .expression_attribute_values(":pk", s("orders"))
        .expression_attribute_values(":lo", n(2))
        .expression_attribute_values(":hi", n(6))
        .limit(2)
        .into_paginator()
        .send();
    let (mut page_count, mut queried) = (0, Vec::new());
    while let Some(page) = pages.next().await {
        let page = page.map_err(failed("Query"))?;
        page_count += 1;
        check!(page.items().len() <= 2 && page.count() as usize == page.items().len(), "Query page size", page);
        queried.extend(page.items().iter().cloned());
        check!(page_count <= 10, "Query paging ends", page_count);
    }
    let sort_keys: Vec<Value> = queried.iter().map(|i| i.get("sk").map_or(Value::Null, plain)).collect();
    check!(sort_keys == [2, 3, 4, 5, 6].map(|k| json!(k)), "Query items in sort key order", sort_keys);
    let backwards = ddb
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s("orders"))
        .scan_index_forward(false)
        .limit(1)
        .send()
        .await
        .map_err(failed("Query backwards"))?;
    let first = backwards.items().first().and_then(|i| i.get("sk"));
    check!(first == Some(&n(6)), "Query ScanIndexForward false", backwards.items());

    // scan with a filter: the odd orders with a total over 20.
    let scanned = ddb
        .scan()
        .table_name(table)
        .filter_expression("kind = :odd AND #total > :min")
        .expression_attribute_names("#total", "total")
        .expression_attribute_values(":odd", s("odd"))
        .expression_attribute_values(":min", n(20))
        .consistent_read(true)
        .send()
        .await
        .map_err(failed("Scan"))?;
    let mut odd: Vec<Value> = scanned.items().iter().map(|i| i.get("sk").map_or(Value::Null, plain)).collect();
    odd.sort_by_key(|v| v.as_i64());
    check!(odd == [json!(3), json!(5)], "Scan FilterExpression Items", scanned.items());
    check!(
        scanned.scanned_count() == 8 && scanned.count() == 2,
        "Scan counts",
        (scanned.scanned_count(), scanned.count())
    );

    // a transaction: a Put and an Update whose condition fails; nothing is written.
    let tx_put = Put::builder()
        .table_name(table)
        .set_item(Some(item([("pk", s("tx")), ("sk", n(1)), ("v", s("written?"))])))
        .build()
        .map_err(|e| e.to_string())?;
    let tx_update = Update::builder()
        .table_name(table)
        .set_key(Some(user_key.clone()))
        .update_expression("SET n = n + :one")
        .condition_expression("n > :max")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":max", n(100))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map_err(|e| e.to_string())?;
    let cancelled = ddb
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(tx_put).build())
        .transact_items(TransactWriteItem::builder().update(tx_update).build())
        .send()
        .await;
    let cancelled = expect_service_error(cancelled, "TransactionCanceledException", 400, |e| {
        e.is_transaction_canceled_exception()
    })?;
    let reasons = match &cancelled {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => {
            e.cancellation_reasons().to_vec()
        }
        _ => Vec::new(),
    };
    let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or_default()).collect();
    check!(codes == ["None", "ConditionalCheckFailed"], "TransactionCanceledException CancellationReasons", reasons);
    let old_n = reasons[1].item().and_then(|i| i.get("n"));
    check!(old_n == Some(&n(42)), "CancellationReasons Item (ALL_OLD)", reasons[1]);
    let tx_key = item([("pk", s("tx")), ("sk", n(1))]);
    let tx_item = ddb.get_item().table_name(table).set_key(Some(tx_key.clone())).send().await;
    check!(tx_item.map_err(failed("GetItem"))?.item.is_none(), "the cancelled Put wrote nothing", ());
    let tx_put = Put::builder()
        .table_name(table)
        .set_item(Some(item([("pk", s("tx")), ("sk", n(1)), ("v", s("written"))])))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(|e| e.to_string())?;
    let tx_update = Update::builder()
        .table_name(table)
        .set_key(Some(user_key.clone()))
        .update_expression("ADD n :one")
        .expression_attribute_values(":one", n(1))
        .build()
        .map_err(|e| e.to_string())?;
    ddb.transact_write_items()
        .transact_items(TransactWriteItem::builder().put(tx_put).build())
        .transact_items(TransactWriteItem::builder().update(tx_update).build())
        .client_request_token(format!("{table}-commit"))
        .send()
        .await
        .map_err(failed("TransactWriteItems"))?;
    let committed = ddb.get_item().table_name(table).set_key(Some(user_key.clone())).send().await;
    let committed = committed.map_err(failed("GetItem"))?.item.unwrap_or_default();
    check!(committed.get("n") == Some(&n(43)), "the committed transaction's Update", committed.get("n"));

    // delete with ALL_OLD, then the table.
    let old = ddb
        .delete_item()
        .table_name(table)
        .set_key(Some(user_key.clone()))
        .condition_expression("attribute_exists(pk)")
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .map_err(failed("DeleteItem"))?
        .attributes
        .unwrap_or_default();
    check!(old.get("name") == Some(&s("Ada")) && old.get("n") == Some(&n(43)), "DeleteItem ALL_OLD Attributes", old);
    let delete_missing = ddb
        .delete_item()
        .table_name(table)
        .set_key(Some(user_key.clone()))
        .condition_expression("attribute_exists(pk)")
        .send()
        .await;
    let delete_missing = expect_service_error(delete_missing, "ConditionalCheckFailedException", 400, |e| {
        e.is_conditional_check_failed_exception()
    })?;
    let remaining = ddb.scan().table_name(table).select(Select::Count).send().await.map_err(failed("Scan COUNT"))?;
    check!(remaining.items().is_empty(), "Scan COUNT returns no items", remaining.items());

    let deleted = ddb.delete_table().table_name(table).send().await.map_err(failed("DeleteTable"))?;
    let deleted = deleted.table_description.ok_or("DeleteTable returned no TableDescription")?;
    ddb.wait_until_table_not_exists()
        .table_name(table)
        .wait(Duration::from_secs(60))
        .await
        .map_err(failed("waiting for the table to be gone"))?;

    Ok(json!({
        "sdk": "aws-sdk-rust",
        "client": "aws_sdk_dynamodb::Client",
        "table": table,
        "tableArn": table_arn,
        "keyId": key.key_id(),
        "keyArn": key_arn,
        "sse": sse_summary,
        "item": plain_item(&got),
        "updated": plain_item(&updated),
        "big": big,
        "query": { "pages": page_count, "sortKeys": sort_keys },
        "scan": { "count": scanned.count(), "scannedCount": scanned.scanned_count() },
        "batchWrite": { "unprocessed": unprocessed },
        "errors": {
            "putAgain": ddb_error_name(&put_again),
            "updateFailed": ddb_error_name(&update_failed),
            "deleteMissing": ddb_error_name(&delete_missing),
            "transaction": { "name": ddb_error_name(&cancelled), "reasons": codes },
        },
        "remaining": remaining.count(),
        "deletedStatus": deleted.table_status().map(|s| s.as_str()),
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    report(scenario().await);
}
