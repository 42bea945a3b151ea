//! Request validation driven by botocore's service models (see `models/`), the same way AWS's own
//! front end checks a request before the operation runs: required members, types, lengths, ranges,
//! enums and patterns, with AWS's message form:
//!
//! `1 validation error detected: Value 'x' at 'aliasName' failed to satisfy constraint: Member must
//! satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$`
//!
//! Values of sensitive shapes and blobs are never echoed in messages.

use std::collections::HashMap;

use base64::Engine;
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use crate::AwsError;

#[derive(Deserialize)]
struct RawModel {
    metadata: Metadata,
    operations: HashMap<String, RawOperation>,
    shapes: HashMap<String, RawShape>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub endpoint_prefix: String,
    pub target_prefix: Option<String>,
    pub signing_name: Option<String>,
    pub service_id: String,
}

#[derive(Deserialize)]
struct RawOperation {
    input: Option<ShapeRef>,
}

#[derive(Deserialize)]
struct ShapeRef {
    shape: String,
}

#[derive(Deserialize)]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: HashMap<String, ShapeRef>,
    #[serde(default)]
    required: Vec<String>,
    member: Option<ShapeRef>,
    key: Option<ShapeRef>,
    value: Option<ShapeRef>,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<String>,
    #[serde(rename = "enum")]
    enum_values: Option<Vec<String>>,
    #[serde(default)]
    sensitive: bool,
}

enum Kind {
    Structure {
        members: Vec<(String, usize)>,
        required: Vec<String>,
    },
    List(usize),
    Map(usize, usize),
    String,
    Integer,
    Float,
    Boolean,
    Blob,
    Timestamp,
}

struct Shape {
    kind: Kind,
    min: Option<f64>,
    max: Option<f64>,
    pattern: Option<(String, Regex)>,
    enum_values: Option<Vec<String>>,
    sensitive: bool,
}

/// A service's operations and input shapes, compiled for validation.
pub struct ServiceModel {
    pub metadata: Metadata,
    shapes: Vec<Shape>,
    /// Operation name → input shape index (None for operations without input).
    operations: HashMap<String, Option<usize>>,
}

impl ServiceModel {
    /// Compiles a stripped botocore model. Panics on a malformed model: models ship inside the binary
    /// and are checked by tests.
    pub fn from_json(text: &str) -> ServiceModel {
        let raw: RawModel = serde_json::from_str(text).expect("service model parses");
        let mut names: Vec<&String> = raw.shapes.keys().collect();
        names.sort();
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let at = |r: &ShapeRef| {
            *index
                .get(r.shape.as_str())
                .unwrap_or_else(|| panic!("shape {}", r.shape))
        };
        let shapes = names
            .iter()
            .map(|name| {
                let s = &raw.shapes[*name];
                let kind = match s.kind.as_str() {
                    "structure" => {
                        let mut members: Vec<(String, usize)> =
                            s.members.iter().map(|(m, r)| (m.clone(), at(r))).collect();
                        members.sort();
                        Kind::Structure {
                            members,
                            required: s.required.clone(),
                        }
                    }
                    "list" => Kind::List(at(s.member.as_ref().expect("list member"))),
                    "map" => Kind::Map(
                        at(s.key.as_ref().expect("map key")),
                        at(s.value.as_ref().expect("map value")),
                    ),
                    "string" => Kind::String,
                    "integer" | "long" => Kind::Integer,
                    "double" | "float" => Kind::Float,
                    "boolean" => Kind::Boolean,
                    "blob" => Kind::Blob,
                    "timestamp" => Kind::Timestamp,
                    other => panic!("shape {name}: unknown type {other}"),
                };
                // botocore patterns are Java regexes matched against the whole value.
                let pattern = s.pattern.as_ref().and_then(|p| {
                    Regex::new(&format!("^(?:{p})$"))
                        .ok()
                        .map(|re| (p.clone(), re))
                });
                Shape {
                    kind,
                    min: s.min,
                    max: s.max,
                    pattern,
                    enum_values: s.enum_values.clone(),
                    sensitive: s.sensitive,
                }
            })
            .collect();
        let operations = raw
            .operations
            .iter()
            .map(|(name, op)| (name.clone(), op.input.as_ref().map(at)))
            .collect();
        ServiceModel {
            metadata: raw.metadata,
            shapes,
            operations,
        }
    }

    /// Every operation name in the model.
    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.operations.keys().map(String::as_str)
    }

    pub fn has_operation(&self, name: &str) -> bool {
        self.operations.contains_key(name)
    }

    /// Checks `input` against the operation's input shape. An unknown operation is not an error here
    /// (the router answers that); `input` must be the parsed request body.
    pub fn validate(&self, operation: &str, input: &Value) -> Result<(), AwsError> {
        let Some(Some(shape)) = self.operations.get(operation) else {
            return Ok(());
        };
        if !input.is_object() {
            return Err(AwsError::serialization(
                "The request body must be a JSON object".to_string(),
            ));
        }
        let mut errors = Vec::new();
        self.check(*shape, input, "", &mut errors);
        match errors.len() {
            0 => Ok(()),
            1 => Err(AwsError::validation(format!(
                "1 validation error detected: {}",
                errors[0]
            ))),
            n => Err(AwsError::validation(format!(
                "{n} validation errors detected: {}",
                errors.join("; ")
            ))),
        }
    }

    fn check(&self, index: usize, value: &Value, path: &str, errors: &mut Vec<String>) {
        let shape = &self.shapes[index];
        let shown = |v: &Value| -> String {
            if shape.sensitive || matches!(shape.kind, Kind::Blob) {
                "Value".to_string()
            } else {
                match v {
                    Value::String(s) => format!("Value '{s}'"),
                    other => format!("Value '{other}'"),
                }
            }
        };
        let fail = |errors: &mut Vec<String>, v: &Value, constraint: String| {
            errors.push(format!(
                "{} at '{path}' failed to satisfy constraint: {constraint}",
                shown(v)
            ));
        };
        match (&shape.kind, value) {
            (_, Value::Null) => {}
            (Kind::Structure { members, required }, Value::Object(map)) => {
                for name in required {
                    if map.get(name).is_none_or(Value::is_null) {
                        errors.push(format!(
                            "Value null at '{}' failed to satisfy constraint: Member must not be null",
                            join(path, name)
                        ));
                    }
                }
                for (name, member) in members {
                    if let Some(v) = map.get(name) {
                        self.check(*member, v, &join(path, name), errors);
                    }
                }
            }
            (Kind::List(member), Value::Array(items)) => {
                self.check_length(shape, items.len(), value, &fail, errors);
                for (i, item) in items.iter().enumerate() {
                    self.check(*member, item, &format!("{path}.{}.member", i + 1), errors);
                }
            }
            (Kind::Map(key, val), Value::Object(map)) => {
                self.check_length(shape, map.len(), value, &fail, errors);
                for (k, v) in map {
                    self.check(
                        *key,
                        &Value::String(k.clone()),
                        &format!("{path}.key"),
                        errors,
                    );
                    self.check(*val, v, &format!("{path}.value"), errors);
                }
            }
            (Kind::String, Value::String(s)) => {
                self.check_length(shape, s.chars().count(), value, &fail, errors);
                if let Some(allowed) = &shape.enum_values {
                    if !allowed.iter().any(|a| a == s) {
                        fail(
                            errors,
                            value,
                            format!(
                                "Member must satisfy enum value set: [{}]",
                                allowed.join(", ")
                            ),
                        );
                    }
                }
                if let Some((text, re)) = &shape.pattern {
                    if !re.is_match(s) {
                        fail(
                            errors,
                            value,
                            format!("Member must satisfy regular expression pattern: {text}"),
                        );
                    }
                }
            }
            (Kind::Blob, Value::String(s)) => {
                match base64::engine::general_purpose::STANDARD.decode(s) {
                    Ok(bytes) => self.check_length(shape, bytes.len(), value, &fail, errors),
                    Err(_) => fail(
                        errors,
                        value,
                        "Member must be valid base64-encoded binary data".into(),
                    ),
                }
            }
            (Kind::Integer, Value::Number(n)) => match n.as_i64() {
                Some(v) => {
                    if let Some(min) = shape.min {
                        if (v as f64) < min {
                            fail(
                                errors,
                                value,
                                format!("Member must have value greater than or equal to {min}"),
                            );
                        }
                    }
                    if let Some(max) = shape.max {
                        if (v as f64) > max {
                            fail(
                                errors,
                                value,
                                format!("Member must have value less than or equal to {max}"),
                            );
                        }
                    }
                }
                None => fail(errors, value, "Member must be an integer".into()),
            },
            (Kind::Float, Value::Number(_)) | (Kind::Boolean, Value::Bool(_)) => {}
            (Kind::Timestamp, Value::Number(_) | Value::String(_)) => {}
            (kind, _) => fail(
                errors,
                value,
                format!("Member must be of type {}", kind_name(kind)),
            ),
        }
    }

    fn check_length(
        &self,
        shape: &Shape,
        len: usize,
        value: &Value,
        fail: &dyn Fn(&mut Vec<String>, &Value, String),
        errors: &mut Vec<String>,
    ) {
        if let Some(min) = shape.min {
            if (len as f64) < min {
                fail(
                    errors,
                    value,
                    format!("Member must have length greater than or equal to {min}"),
                );
            }
        }
        if let Some(max) = shape.max {
            if (len as f64) > max {
                fail(
                    errors,
                    value,
                    format!("Member must have length less than or equal to {max}"),
                );
            }
        }
    }
}

fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Structure { .. } => "structure",
        Kind::List(_) => "list",
        Kind::Map(..) => "map",
        Kind::String => "string",
        Kind::Integer => "integer",
        Kind::Float => "number",
        Kind::Boolean => "boolean",
        Kind::Blob => "base64-encoded string",
        Kind::Timestamp => "timestamp",
    }
}

/// AWS names members in lowerCamelCase in validation messages: `KeyId` → `keyId`.
fn join(path: &str, member: &str) -> String {
    let mut chars = member.chars();
    let camel: String = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    if path.is_empty() {
        camel
    } else {
        format!("{path}.{camel}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kms() -> ServiceModel {
        ServiceModel::from_json(include_str!("../models/kms.json"))
    }

    #[test]
    fn every_pattern_compiles() {
        let raw: RawModel = serde_json::from_str(include_str!("../models/kms.json")).unwrap();
        for (name, shape) in raw.shapes {
            if let Some(p) = shape.pattern {
                assert!(Regex::new(&format!("^(?:{p})$")).is_ok(), "{name}: {p}");
            }
        }
    }

    #[test]
    fn messages_have_aws_form() {
        let m = kms();
        assert!(m
            .validate("Encrypt", &json!({"KeyId": "k", "Plaintext": "aGk="}))
            .is_ok());
        let e = m
            .validate("Encrypt", &json!({"Plaintext": "aGk="}))
            .unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
        );
        let e = m
            .validate(
                "CreateAlias",
                &json!({"AliasName": "alias/bad name", "TargetKeyId": "k"}),
            )
            .unwrap_err();
        assert!(
            e.message.contains("Value 'alias/bad name' at 'aliasName'"),
            "{}",
            e.message
        );
        assert!(e.message.contains("^[a-zA-Z0-9:/_-]+$"));
        let e = m
            .validate("Encrypt", &json!({"KeyId": 5, "Plaintext": "!!"}))
            .unwrap_err();
        assert!(
            e.message.starts_with("2 validation errors detected"),
            "{}",
            e.message
        );
        assert!(e
            .message
            .contains("at 'keyId' failed to satisfy constraint: Member must be of type string"));
        assert!(
            e.message.contains("Value at 'plaintext'"),
            "blob values are not echoed: {}",
            e.message
        );
        let e = m
            .validate("GenerateRandom", &json!({"NumberOfBytes": 5000}))
            .unwrap_err();
        assert!(
            e.message
                .contains("Member must have value less than or equal to 1024"),
            "{}",
            e.message
        );
        let e = m
            .validate(
                "CreateKey",
                &json!({"Tags": [{"TagKey": "a"}], "KeyUsage": "NOPE"}),
            )
            .unwrap_err();
        assert!(
            e.message.contains("'tags.1.member.tagValue'"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("Member must satisfy enum value set"),
            "{}",
            e.message
        );
    }

    #[test]
    fn plaintext_limit_counts_decoded_bytes() {
        let m = kms();
        let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![0u8; n]);
        assert!(m
            .validate("Encrypt", &json!({"KeyId": "k", "Plaintext": b64(4096)}))
            .is_ok());
        let e = m
            .validate("Encrypt", &json!({"KeyId": "k", "Plaintext": b64(4097)}))
            .unwrap_err();
        assert!(
            e.message.contains("length less than or equal to 4096"),
            "{}",
            e.message
        );
    }
}
