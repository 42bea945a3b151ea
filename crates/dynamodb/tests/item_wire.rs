//! DynamoDB JSON decoding: what is accepted, how it prints back, and the service's messages for
//! what is not.

use m2sec_dynamodb::item::{item_from_json, item_to_json, AttributeValue, DecodeError};
use serde_json::json;

fn decode(v: serde_json::Value) -> Result<AttributeValue, DecodeError> {
    AttributeValue::from_json(&v)
}

fn validation(v: serde_json::Value) -> String {
    match decode(v) {
        Err(DecodeError::Validation(e)) => e.0,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn serialization(v: serde_json::Value) -> String {
    match decode(v) {
        Err(DecodeError::Serialization(m)) => m,
        other => panic!("expected a serialization error, got {other:?}"),
    }
}

#[test]
fn round_trips_every_type() {
    let item = json!({
        "s": {"S": "x"},
        "n": {"N": "1.5"},
        "b": {"B": "AAEC"},
        "t": {"BOOL": true},
        "z": {"NULL": true},
        "m": {"M": {"inner": {"L": [{"S": "a"}, {"N": "2"}]}}},
        "ss": {"SS": ["b", "a"]},
        "ns": {"NS": ["10", "2"]},
        "bs": {"BS": ["AQ==", "AA=="]}
    });
    let decoded = item_from_json(&item).unwrap();
    assert_eq!(decoded["b"], AttributeValue::B(vec![0, 1, 2]));
    let back = item_to_json(&decoded);
    assert_eq!(back["ss"], json!({"SS": ["a", "b"]}));
    assert_eq!(back["ns"], json!({"NS": ["2", "10"]}));
    assert_eq!(back["bs"], json!({"BS": ["AA==", "AQ=="]}));
    assert_eq!(item_from_json(&back).unwrap(), decoded);
    // Through serde as well.
    let via_serde: AttributeValue = serde_json::from_value(json!({"N": "1.50"})).unwrap();
    assert_eq!(
        serde_json::to_value(&via_serde).unwrap(),
        json!({"N": "1.5"})
    );
}

#[test]
fn numbers_come_back_canonical() {
    assert_eq!(
        decode(json!({"N": "-0"})).unwrap().to_json(),
        json!({"N": "0"})
    );
    assert_eq!(
        decode(json!({"N": "1E+3"})).unwrap().to_json(),
        json!({"N": "1000"})
    );
}

#[test]
fn empty_and_ambiguous_values() {
    let empty =
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
    assert_eq!(validation(json!({})), empty);
    assert_eq!(validation(json!({"S": null})), empty);
    assert_eq!(validation(json!({"X": "y"})), empty);
    assert_eq!(
        validation(json!({"S": "a", "N": "1"})),
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
    );
}

#[test]
fn invalid_values() {
    assert_eq!(
        validation(json!({"NULL": false})),
        "One or more parameter values were invalid: Null attribute value types must have the value of true"
    );
    assert_eq!(
        validation(json!({"SS": []})),
        "One or more parameter values were invalid: An string set  may not be empty"
    );
    assert_eq!(
        validation(json!({"NS": []})),
        "One or more parameter values were invalid: An number set  may not be empty"
    );
    assert_eq!(
        validation(json!({"BS": []})),
        "One or more parameter values were invalid: Binary sets should not be empty"
    );
    assert_eq!(
        validation(json!({"SS": ["a", "a"]})),
        "One or more parameter values were invalid: Input collection [a, a] contains duplicates."
    );
    assert_eq!(
        validation(json!({"NS": ["1", "1.0"]})),
        "Input collection contains duplicates"
    );
    assert_eq!(
        validation(json!({"BS": ["AA==", "AA=="]})),
        "One or more parameter values were invalid: Input collection [AA==, AA==]of type BS contains duplicates."
    );
    assert_eq!(
        validation(json!({"N": "abc"})),
        "A value provided cannot be converted into a number"
    );
    assert_eq!(
        validation(json!({"NS": ["1", "x"]})),
        "A value provided cannot be converted into a number"
    );
    assert_eq!(
        validation(json!({"N": "1e126"})),
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    );
    assert_eq!(
        validation(json!({"L": [{"M": {"a": {}}}]})),
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    );
}

#[test]
fn wrongly_shaped_json() {
    assert_eq!(
        serialization(json!({"S": 5})),
        "NUMBER_VALUE cannot be converted to String"
    );
    assert_eq!(
        serialization(json!({"S": 1.5})),
        "DECIMAL_VALUE cannot be converted to String"
    );
    assert_eq!(
        serialization(json!({"N": true})),
        "TRUE_VALUE cannot be converted to String"
    );
    assert_eq!(
        serialization(json!({"S": {}})),
        "Start of structure or map found where not expected"
    );
    assert_eq!(
        serialization(json!({"B": "abc"})),
        "Base64 encoded length is expected a multiple of 4 bytes but found: 3"
    );
    assert_eq!(
        serialization(json!({"B": "ab!="})),
        "Invalid last non-pad Base64 character dectected"
    );
    assert_eq!(
        serialization(json!({"B": 1})),
        "only base-64-encoded strings are convertible to bytes"
    );
    assert_eq!(
        serialization(json!({"BOOL": "maybe"})),
        "Unexpected token received from parser"
    );
    assert_eq!(serialization(json!({"L": "x"})), "Unexpected field type");
    assert_eq!(
        serialization(json!("x")),
        "Unexpected value type in payload"
    );
    assert_eq!(
        decode(json!({"BOOL": "yes"})).unwrap(),
        AttributeValue::Bool(true)
    );
}

#[test]
fn nesting_limit() {
    let mut v = json!({"S": "leaf"});
    for _ in 0..32 {
        v = json!({"L": [v]});
    }
    assert!(item_from_json(&json!({"a": v.clone()})).is_ok());
    let deeper = json!({"M": {"x": v}});
    match item_from_json(&json!({"a": deeper})) {
        Err(DecodeError::Validation(e)) => {
            assert_eq!(e.0, "Nesting Levels have exceeded supported limits")
        }
        other => panic!("{other:?}"),
    }
}
