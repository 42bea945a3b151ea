//! DynamoDB JSON: `{"S":"x"}`, `{"N":"1.5"}`, `{"B":"<base64>"}`, `{"BOOL":true}`, `{"NULL":true}`,
//! `{"M":{…}}`, `{"L":[…]}`, `{"SS":[…]}`, `{"NS":[…]}`, `{"BS":[…]}`.
//!
//! Decoding reports what DynamoDB reports: a JSON value of the wrong shape is the service's
//! `SerializationException` (its Java deserializer's words), a well-formed but invalid value is a
//! `ValidationException`.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use serde::de::Error as _;
use serde_json::{Map, Value};

use super::number::Number;
use super::{AttributeValue, Item, ValidationError};

/// Deepest nesting of maps and lists DynamoDB stores.
pub const MAX_NESTING: usize = 32;

const EMPTY: &str =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
const SEVERAL: &str = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";
const INVALID: &str = "One or more parameter values were invalid: ";
const TOO_DEEP: &str = "Nesting Levels have exceeded supported limits";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Answered as `ValidationException`.
    #[error("{0}")]
    Validation(#[from] ValidationError),
    /// Answered as `SerializationException`.
    #[error("{0}")]
    Serialization(String),
}

fn serialization(message: impl Into<String>) -> DecodeError {
    DecodeError::Serialization(message.into())
}

fn validation(message: impl Into<String>) -> DecodeError {
    DecodeError::Validation(ValidationError::new(message))
}

/// What the Java deserializer says when a JSON value has the wrong shape for `target`
/// (`String`, `Boolean`).
fn wrong_scalar(value: &Value, target: &str) -> DecodeError {
    match value {
        Value::Bool(b) => serialization(format!(
            "{} cannot be converted to {target}",
            if *b { "TRUE_VALUE" } else { "FALSE_VALUE" }
        )),
        Value::Number(n) => serialization(format!(
            "{} cannot be converted to {target}",
            if n.is_f64() {
                "DECIMAL_VALUE"
            } else {
                "NUMBER_VALUE"
            }
        )),
        Value::String(_) => serialization(format!("STRING_VALUE cannot be converted to {target}")),
        Value::Array(_) => serialization(format!(
            "Unrecognized collection type class java.lang.{target}"
        )),
        _ => serialization("Start of structure or map found where not expected"),
    }
}

fn string(value: &Value) -> Result<&str, DecodeError> {
    value.as_str().ok_or_else(|| wrong_scalar(value, "String"))
}

fn boolean(value: &Value) -> Result<bool, DecodeError> {
    match value {
        Value::Bool(b) => Ok(*b),
        // The service's deserializer takes these spellings of a boolean.
        Value::String(s) => match s.to_ascii_uppercase().as_str() {
            "TRUE" | "1" | "YES" => Ok(true),
            "FALSE" | "0" | "NO" => Ok(false),
            _ => Err(serialization("Unexpected token received from parser")),
        },
        other => Err(wrong_scalar(other, "Boolean")),
    }
}

fn binary(value: &Value) -> Result<Vec<u8>, DecodeError> {
    let text = match value {
        Value::String(s) => s,
        Value::Array(_) => {
            return Err(serialization(
                "Unrecognized collection type class java.nio.ByteBuffer",
            ))
        }
        Value::Object(_) => {
            return Err(serialization(
                "Start of structure or map found where not expected",
            ))
        }
        _ => {
            return Err(serialization(
                "only base-64-encoded strings are convertible to bytes",
            ))
        }
    };
    if text.len() % 4 != 0 {
        return Err(serialization(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            text.len()
        )));
    }
    // The misspelling is the service's.
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| serialization("Invalid last non-pad Base64 character dectected"))
}

fn list(value: &Value) -> Result<&Vec<Value>, DecodeError> {
    match value {
        Value::Array(a) => Ok(a),
        Value::Object(_) => Err(serialization(
            "Start of structure or map found where not expected",
        )),
        _ => Err(serialization("Unexpected field type")),
    }
}

fn number(text: &str) -> Result<Number, DecodeError> {
    Ok(Number::parse(text)?)
}

/// `[a, b]` as the duplicate messages print a collection.
fn collection(items: &[Value]) -> String {
    let shown: Vec<String> = items
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

impl AttributeValue {
    /// Decodes one attribute value from DynamoDB JSON, validating it as the service does.
    pub fn from_json(value: &Value) -> Result<Self, DecodeError> {
        let object = match value {
            Value::Object(o) => o,
            Value::Array(_) => {
                return Err(serialization(
                    "Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue",
                ))
            }
            _ => return Err(serialization("Unexpected value type in payload")),
        };
        // JSON null stands for an absent member; unknown members are ignored, as the service does.
        let mut decoded = None;
        let mut members = 0;
        for (name, member) in object {
            if member.is_null() {
                continue;
            }
            let Some(v) = decode_member(name, member)? else {
                continue;
            };
            members += 1;
            decoded.get_or_insert(v);
        }
        match (members, decoded) {
            (0, _) | (_, None) => Err(validation(EMPTY)),
            (1, Some(v)) => Ok(v),
            _ => Err(validation(SEVERAL)),
        }
    }

    /// Encodes as DynamoDB JSON; numbers in their canonical plain form, binaries in base64.
    pub fn to_json(&self) -> Value {
        let b64 = |b: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(b));
        let (tag, inner) = match self {
            AttributeValue::S(s) => ("S", Value::String(s.clone())),
            AttributeValue::N(n) => ("N", Value::String(n.to_string())),
            AttributeValue::B(b) => ("B", b64(b)),
            AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
            AttributeValue::Null => ("NULL", Value::Bool(true)),
            AttributeValue::M(m) => ("M", item_to_json(m)),
            AttributeValue::L(l) => ("L", Value::Array(l.iter().map(Self::to_json).collect())),
            AttributeValue::Ss(s) => ("SS", s.iter().map(|x| Value::String(x.clone())).collect()),
            AttributeValue::Ns(s) => (
                "NS",
                s.iter().map(|x| Value::String(x.to_string())).collect(),
            ),
            AttributeValue::Bs(s) => ("BS", s.iter().map(|x| b64(x)).collect()),
        };
        let mut object = Map::new();
        object.insert(tag.to_string(), inner);
        Value::Object(object)
    }
}

/// One `"TYPE": value` member; `None` for a member name that is not a type.
fn decode_member(name: &str, member: &Value) -> Result<Option<AttributeValue>, DecodeError> {
    let value = match name {
        "S" => AttributeValue::S(string(member)?.to_string()),
        "N" => AttributeValue::N(number(string(member)?)?),
        "B" => AttributeValue::B(binary(member)?),
        "BOOL" => AttributeValue::Bool(boolean(member)?),
        "NULL" => {
            if !boolean(member)? {
                return Err(validation(format!(
                    "{INVALID}Null attribute value types must have the value of true"
                )));
            }
            AttributeValue::Null
        }
        "M" => AttributeValue::M(map(member)?),
        "L" => AttributeValue::L(
            list(member)?
                .iter()
                .map(AttributeValue::from_json)
                .collect::<Result<_, _>>()?,
        ),
        "SS" => {
            let items = list(member)?;
            if items.is_empty() {
                return Err(validation(format!(
                    "{INVALID}An string set  may not be empty"
                )));
            }
            let mut set = BTreeSet::new();
            for item in items {
                set.insert(string(item)?.to_string());
            }
            if set.len() != items.len() {
                return Err(validation(format!(
                    "{INVALID}Input collection {} contains duplicates.",
                    collection(items)
                )));
            }
            AttributeValue::Ss(set)
        }
        "NS" => {
            let items = list(member)?;
            if items.is_empty() {
                return Err(validation(format!(
                    "{INVALID}An number set  may not be empty"
                )));
            }
            let mut set = BTreeSet::new();
            for item in items {
                set.insert(number(string(item)?)?);
            }
            // Duplicates are numeric: "1" and "1.0" are the same member.
            if set.len() != items.len() {
                return Err(validation("Input collection contains duplicates"));
            }
            AttributeValue::Ns(set)
        }
        "BS" => {
            let items = list(member)?;
            if items.is_empty() {
                return Err(validation(format!(
                    "{INVALID}Binary sets should not be empty"
                )));
            }
            let mut set = BTreeSet::new();
            for item in items {
                set.insert(binary(item)?);
            }
            if set.len() != items.len() {
                return Err(validation(format!(
                    "{INVALID}Input collection {}of type BS contains duplicates.",
                    collection(items)
                )));
            }
            AttributeValue::Bs(set)
        }
        _ => return Ok(None),
    };
    Ok(Some(value))
}

fn map(value: &Value) -> Result<BTreeMap<String, AttributeValue>, DecodeError> {
    let object = match value {
        Value::Object(o) => o,
        Value::Array(_) => {
            return Err(serialization(
                "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>",
            ))
        }
        _ => return Err(serialization("Unexpected field type")),
    };
    object
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| Ok((k.clone(), AttributeValue::from_json(v)?)))
        .collect()
}

/// Decodes an item (`{"name": {"S": "x"}, …}`), refusing values nested deeper than DynamoDB stores.
pub fn item_from_json(value: &Value) -> Result<Item, DecodeError> {
    let item = map(value)?;
    if item.values().any(|v| v.depth() > MAX_NESTING) {
        return Err(validation(TOO_DEEP));
    }
    Ok(item)
}

pub fn item_to_json(item: &BTreeMap<String, AttributeValue>) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

/// Deserializing through serde gives the same messages as [`AttributeValue::from_json`], though the
/// JSON parser may append a position; a service wanting the bare message decodes a `Value` first.
impl<'de> serde::Deserialize<'de> for AttributeValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        AttributeValue::from_json(&value).map_err(D::Error::custom)
    }
}
