//! KeyConditionExpression against a key schema, ProjectionExpression, and the request-wide
//! placeholder checks.

mod common;

use common::{attrs, item, no_attrs};
use m2sec_dynamodb::expression::{
    check_unused, parse_condition, parse_key_condition, parse_projection, parse_update,
    validate_attribute_maps, ExpressionAttributes, KeySchema, SortKeyCondition,
};
use m2sec_dynamodb::item::{item_to_json, AttributeValue};
use serde_json::json;

const TABLE: KeySchema = KeySchema {
    partition_key: "pk",
    sort_key: Some("sk"),
};
const HASH_ONLY: KeySchema = KeySchema {
    partition_key: "pk",
    sort_key: None,
};

fn values() -> ExpressionAttributes {
    attrs(
        json!({"#pk": "pk", "#sk": "sk"}),
        json!({":p": {"S": "p"}, ":a": {"S": "a"}, ":b": {"S": "b"}, ":one": {"N": "1"}}),
    )
}

fn key_error(expression: &str, schema: &KeySchema) -> String {
    parse_key_condition(expression, &values(), schema)
        .expect_err(expression)
        .0
}

#[test]
fn key_conditions() {
    let a = AttributeValue::s("a");
    let b = AttributeValue::s("b");
    for (expression, sort) in [
        ("pk = :p", None),
        ("#pk = :p", None),
        ("pk = :p AND sk = :a", Some(SortKeyCondition::Eq(a.clone()))),
        ("pk = :p AND sk < :a", Some(SortKeyCondition::Lt(a.clone()))),
        (
            "pk = :p AND sk <= :a",
            Some(SortKeyCondition::Le(a.clone())),
        ),
        ("pk = :p AND sk > :a", Some(SortKeyCondition::Gt(a.clone()))),
        (
            "pk = :p AND sk >= :a",
            Some(SortKeyCondition::Ge(a.clone())),
        ),
        // A value on the left flips the comparison.
        (
            "pk = :p AND :a < #sk",
            Some(SortKeyCondition::Gt(a.clone())),
        ),
        (
            "sk BETWEEN :a AND :b AND :p = pk",
            Some(SortKeyCondition::Between(a.clone(), b.clone())),
        ),
        (
            "pk = :p AND begins_with(sk, :a)",
            Some(SortKeyCondition::BeginsWith(a.clone())),
        ),
        (
            "(pk = :p) AND (sk = :a)",
            Some(SortKeyCondition::Eq(a.clone())),
        ),
        (
            "(pk = :p AND sk = :a)",
            Some(SortKeyCondition::Eq(a.clone())),
        ),
    ] {
        let parsed = parse_key_condition(expression, &values(), &TABLE)
            .unwrap_or_else(|e| panic!("{expression}: {e}"));
        assert_eq!(parsed.key.partition_key, "pk");
        assert_eq!(parsed.key.partition_value, AttributeValue::s("p"));
        assert_eq!(
            parsed.key.sort.map(|(name, c)| {
                assert_eq!(name, "sk");
                c
            }),
            sort,
            "{expression}"
        );
    }
}

#[test]
fn key_condition_errors() {
    for (expression, schema, message) in [
        ("", &TABLE, "Invalid KeyConditionExpression: The expression can not be empty;"),
        ("pk = :p OR sk = :a", &TABLE, "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT pk = :p", &TABLE, "Invalid operator used in KeyConditionExpression: NOT"),
        ("pk IN (:p)", &TABLE, "Invalid operator used in KeyConditionExpression: IN"),
        ("pk <> :p", &TABLE, "Invalid operator used in KeyConditionExpression: <>"),
        ("attribute_exists(pk)", &TABLE, "Invalid operator used in KeyConditionExpression: attribute_exists"),
        ("contains(pk, :p)", &TABLE, "Invalid operator used in KeyConditionExpression: contains"),
        ("size(pk) = :one", &TABLE, "KeyConditionExpressions cannot contain nested operations"),
        ("pk.x = :p", &TABLE, "KeyConditionExpressions cannot have conditions on nested attributes"),
        ("pk = sk", &TABLE, "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
        (":p = :a", &TABLE, "Invalid condition in KeyConditionExpression: No key attribute specified"),
        ("pk = :p AND pk = :a", &TABLE, "KeyConditionExpressions must only contain one condition per key"),
        ("pk = :p AND sk = :a AND qty = :b", &TABLE, "Conditions can be of length 1 or 2 only"),
        ("sk = :a", &TABLE, "Query condition missed key schema element: pk"),
        ("pk = :p AND qty = :a", &TABLE, "Query condition missed key schema element: sk"),
        ("pk > :p", &TABLE, "Query key condition not supported"),
        ("pk = :p AND sk = :a", &HASH_ONLY, "Query key condition not supported"),
        ("begins_with(pk, :one)", &TABLE, "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        ("pk = :p AND sk BETWEEN :b AND :a", &TABLE, "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"),
    ] {
        assert_eq!(key_error(expression, schema), message, "{expression}");
    }
}

#[test]
fn sort_key_matching() {
    let n = |s: &str| AttributeValue::n(s).unwrap();
    assert!(SortKeyCondition::Between(n("1"), n("10")).matches(&n("5.5")));
    assert!(!SortKeyCondition::Between(n("1"), n("10")).matches(&n("10.01")));
    assert!(
        SortKeyCondition::BeginsWith(AttributeValue::s("ord")).matches(&AttributeValue::s("order"))
    );
    assert!(!SortKeyCondition::Lt(n("1")).matches(&AttributeValue::s("0")));
    assert!(SortKeyCondition::Ge(n("-1")).matches(&n("-1.0")));
}

#[test]
fn projection() {
    let source = item(json!({
        "a": {"S": "x"},
        "doc": {"M": {"x": {"N": "1"}, "y": {"L": [{"S": "l0"}, {"M": {"q": {"S": "deep"}, "r": {"S": "no"}}}, {"S": "l2"}, {"S": "l3"}]}}},
        "qty": {"N": "2"}
    }));
    let project = |expression: &str, a: &ExpressionAttributes| {
        item_to_json(
            &parse_projection(expression, a)
                .unwrap_or_else(|e| panic!("{expression}: {e}"))
                .apply(&source),
        )
    };
    assert_eq!(
        project("a, qty", &no_attrs()),
        json!({"a": {"S": "x"}, "qty": {"N": "2"}})
    );
    assert_eq!(
        project("doc.x, nothing", &no_attrs()),
        json!({"doc": {"M": {"x": {"N": "1"}}}})
    );
    // Projected list elements close up in index order.
    assert_eq!(
        project("doc.y[3], doc.y[1].q, doc.y[9]", &no_attrs()),
        json!({"doc": {"M": {"y": {"L": [{"M": {"q": {"S": "deep"}}}, {"S": "l3"}]}}}})
    );
    assert_eq!(
        project("#d.x", &attrs(json!({"#d": "doc"}), json!({}))),
        json!({"doc": {"M": {"x": {"N": "1"}}}})
    );
    assert_eq!(project("a.b, doc.nothing", &no_attrs()), json!({}));

    for (expression, message) in [
        ("", "The expression can not be empty;"),
        ("a, a.b", "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"),
        ("a.b, a[0]", "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]"),
        ("!!", "Syntax error; token: \"!\", near: \"!!\""),
        ("a,", "Syntax error; token: \"<EOF>\", near: \",\""),
        ("a b", "Syntax error; token: \"b\", near: \"a b\""),
        ("name", "Attribute name is a reserved keyword; reserved keyword: name"),
        ("#a", "An expression attribute name used in the document path is not defined; attribute name: #a"),
    ] {
        assert_eq!(
            parse_projection(expression, &no_attrs()).unwrap_err().0,
            format!("Invalid ProjectionExpression: {message}"),
            "{expression}"
        );
    }
}

#[test]
fn unused_placeholders_across_a_request() {
    let a = attrs(
        json!({"#a": "a", "#unused": "u"}),
        json!({":v": {"S": "x"}, ":w": {"S": "y"}, ":unused": {"S": "z"}}),
    );
    let condition = parse_condition("#a = :v", &a).unwrap();
    let update = parse_update("SET b = :w", &a).unwrap();
    assert_eq!(
        check_unused(&a, &[&condition.usage, &update.usage])
            .unwrap_err()
            .0,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"
    );
    let mut fewer = a.clone();
    fewer.names.remove("#unused");
    assert_eq!(
        check_unused(&fewer, &[&condition.usage, &update.usage])
            .unwrap_err()
            .0,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    );
    fewer.values.remove(":unused");
    assert!(check_unused(&fewer, &[&condition.usage, &update.usage]).is_ok());
    assert!(check_unused(&fewer, &[&condition.usage]).is_err());
    // Placeholders used only in an expression that failed elsewhere still count as used by it.
    let projection = parse_projection("#a", &fewer).unwrap();
    assert_eq!(projection.usage.names.len(), 1);
}

#[test]
fn placeholder_maps() {
    let names = |v: serde_json::Value| serde_json::from_value(v).unwrap();
    assert_eq!(
        validate_attribute_maps(Some(&names(json!({}))), None)
            .unwrap_err()
            .0,
        "ExpressionAttributeNames must not be empty"
    );
    assert_eq!(
        validate_attribute_maps(Some(&names(json!({"a": "b"}))), None)
            .unwrap_err()
            .0,
        "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\""
    );
    let values = item(json!({"b": {"S": "x"}}));
    assert_eq!(
        validate_attribute_maps(None, Some(&values)).unwrap_err().0,
        "ExpressionAttributeValues contains invalid key: Syntax error; key: \"b\""
    );
    assert_eq!(
        validate_attribute_maps(None, Some(&Default::default()))
            .unwrap_err()
            .0,
        "ExpressionAttributeValues must not be empty"
    );
    assert!(validate_attribute_maps(
        Some(&names(json!({"#a_1": "b"}))),
        Some(&item(json!({":v1": {"S": "x"}})))
    )
    .is_ok());
}
