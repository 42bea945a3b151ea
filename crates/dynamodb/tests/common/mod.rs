//! Helpers shared by the expression tests: items and placeholders written as DynamoDB JSON.

#![allow(dead_code)]

use m2sec_dynamodb::expression::ExpressionAttributes;
use m2sec_dynamodb::item::{item_from_json, Item};
use serde_json::Value;

pub fn item(v: Value) -> Item {
    item_from_json(&v).expect("test item")
}

/// Placeholders from `{"#n": "name"}` and `{":v": {"S": "x"}}`.
pub fn attrs(names: Value, values: Value) -> ExpressionAttributes {
    ExpressionAttributes {
        names: serde_json::from_value(names).expect("names"),
        values: item(values),
    }
}

pub fn no_attrs() -> ExpressionAttributes {
    ExpressionAttributes::default()
}
