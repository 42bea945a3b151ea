//! Checking a request against its operation's input shape: what [`ServiceModel::validate`] does.

use base64::Engine;
use serde_json::Value;

use super::{ServiceModel, Shape, ShapeKind};
use crate::AwsError;

impl ServiceModel {
    /// Checks `input` against the operation's input shape. An unknown operation is not an error here
    /// (the router answers that); `input` must be the parsed request body.
    pub fn validate(&self, operation: &str, input: &Value) -> Result<(), AwsError> {
        let Some(shape) = self.operations.get(operation).and_then(|op| op.input) else {
            return Ok(());
        };
        if !input.is_object() {
            return Err(AwsError::serialization(
                "The request body must be a JSON object".to_string(),
            ));
        }
        let mut errors = Vec::new();
        self.check(shape, input, &Path::Root, &mut errors);
        let messages: Vec<&str> = errors.iter().map(|f| f.message.as_str()).collect();
        let error = match errors.len() {
            0 => return Ok(()),
            1 => AwsError::validation(format!("1 validation error detected: {}", messages[0])),
            n => AwsError::validation(format!(
                "{n} validation errors detected: {}",
                messages.join("; ")
            )),
        };
        Err(error.with_members(errors.into_iter().map(|f| f.path).collect()))
    }

    fn check(&self, index: usize, value: &Value, path: &Path<'_>, errors: &mut Vec<Failure>) {
        let shape = &self.shapes[index];
        let shown = |v: &Value| -> String {
            if shape.sensitive || matches!(shape.kind, ShapeKind::Blob) {
                "Value".to_string()
            } else {
                match v {
                    Value::String(s) => format!("Value '{s}'"),
                    other => format!("Value '{other}'"),
                }
            }
        };
        let fail = |errors: &mut Vec<Failure>, v: &Value, constraint: String| {
            let path = path.render();
            errors.push(Failure {
                message: format!(
                    "{} at '{path}' failed to satisfy constraint: {constraint}",
                    shown(v)
                ),
                path,
            });
        };
        match (&shape.kind, value) {
            (_, Value::Null) => {}
            (ShapeKind::Structure { members, required }, Value::Object(map)) => {
                for name in required {
                    if map.get(name).is_none_or(Value::is_null) {
                        let at = join(&path.render(), name);
                        errors.push(Failure {
                            message: format!(
                                "Value null at '{at}' failed to satisfy constraint: Member must not be null"
                            ),
                            path: at,
                        });
                    }
                }
                // One member present (an AttributeValue, a transaction's action) is matched by
                // name, not every member looked up in the map.
                let one = if map.len() == 1 {
                    map.iter().next()
                } else {
                    None
                };
                for member in members {
                    let found = match one {
                        Some((name, v)) => (*name == member.name).then_some(v),
                        None => map.get(&member.name),
                    };
                    if let Some(v) = found {
                        self.check(member.shape.0, v, &Path::Member(path, &member.name), errors);
                    }
                }
            }
            (ShapeKind::List(member), Value::Array(items)) => {
                self.check_length(shape, items.len(), value, &fail, errors);
                for (i, item) in items.iter().enumerate() {
                    self.check(member.shape.0, item, &Path::Item(path, i), errors);
                }
            }
            (ShapeKind::Map(key, val), Value::Object(map)) => {
                self.check_length(shape, map.len(), value, &fail, errors);
                for (k, v) in map {
                    if !self.plain_string_holds(key.shape.0, k) {
                        let key_value = Value::String(k.clone());
                        self.check(key.shape.0, &key_value, &Path::Key(path), errors);
                    }
                    self.check(val.shape.0, v, &Path::Value(path), errors);
                }
            }
            (ShapeKind::String, Value::String(s)) => {
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
            (ShapeKind::Blob, Value::String(s)) => {
                match base64::engine::general_purpose::STANDARD.decode(s) {
                    Ok(bytes) => self.check_length(shape, bytes.len(), value, &fail, errors),
                    Err(_) => fail(
                        errors,
                        value,
                        "Member must be valid base64-encoded binary data".into(),
                    ),
                }
            }
            (ShapeKind::Integer, Value::Number(n)) => match n.as_i64() {
                Some(v) => self.check_bounds(shape, "value", v as f64, value, &fail, errors),
                None => fail(errors, value, "Member must be an integer".into()),
            },
            (ShapeKind::Float, Value::Number(_)) | (ShapeKind::Boolean, Value::Bool(_)) => {}
            (ShapeKind::Timestamp, Value::Number(_) | Value::String(_)) => {}
            (kind, _) => fail(
                errors,
                value,
                format!("Member must be of type {}", kind_name(kind)),
            ),
        }
    }

    /// Whether `s` certainly meets string shape `index` (a string shape with no enum or pattern,
    /// within its lengths), checked without making a `Value` of it; false sends it to [`Self::check`].
    fn plain_string_holds(&self, index: usize, s: &str) -> bool {
        let shape = &self.shapes[index];
        if !matches!(shape.kind, ShapeKind::String)
            || shape.enum_values.is_some()
            || shape.pattern.is_some()
        {
            return false;
        }
        let len = s.chars().count() as f64;
        shape.min.is_none_or(|min| len >= min) && shape.max.is_none_or(|max| len <= max)
    }

    fn check_length(
        &self,
        shape: &Shape,
        len: usize,
        value: &Value,
        fail: &dyn Fn(&mut Vec<Failure>, &Value, String),
        errors: &mut Vec<Failure>,
    ) {
        self.check_bounds(shape, "length", len as f64, value, fail, errors);
    }

    /// The shape's `min` and `max` on `measured`, the member's `what` (its length or value).
    fn check_bounds(
        &self,
        shape: &Shape,
        what: &str,
        measured: f64,
        value: &Value,
        fail: &dyn Fn(&mut Vec<Failure>, &Value, String),
        errors: &mut Vec<Failure>,
    ) {
        if let Some(min) = shape.min.filter(|min| measured < *min) {
            fail(
                errors,
                value,
                format!("Member must have {what} greater than or equal to {min}"),
            );
        }
        if let Some(max) = shape.max.filter(|max| measured > *max) {
            fail(
                errors,
                value,
                format!("Member must have {what} less than or equal to {max}"),
            );
        }
    }
}

/// Where a value is in the input, as a chain of steps from the root; rendered as AWS names it
/// (`lookupAttributes.1.member.attributeKey`) only for a failure, so a valid input costs no text.
enum Path<'a> {
    Root,
    Member(&'a Path<'a>, &'a str),
    /// The `i`th item of a list (rendered 1-based).
    Item(&'a Path<'a>, usize),
    Key(&'a Path<'a>),
    Value(&'a Path<'a>),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Member(parent, name) => join(&parent.render(), name),
            Path::Item(parent, i) => format!("{}.{}.member", parent.render(), i + 1),
            Path::Key(parent) => format!("{}.key", parent.render()),
            Path::Value(parent) => format!("{}.value", parent.render()),
        }
    }
}

/// One failed constraint: where (`maxResults`, `lookupAttributes.1.member.attributeKey`) and what.
struct Failure {
    path: String,
    message: String,
}

fn kind_name(kind: &ShapeKind) -> &'static str {
    match kind {
        ShapeKind::Structure { .. } => "structure",
        ShapeKind::List(_) => "list",
        ShapeKind::Map(..) => "map",
        ShapeKind::String => "string",
        ShapeKind::Integer => "integer",
        ShapeKind::Float => "number",
        ShapeKind::Boolean => "boolean",
        ShapeKind::Blob => "base64-encoded string",
        ShapeKind::Timestamp => "timestamp",
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
