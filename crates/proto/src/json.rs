//! The awsJson protocols: 1.1 (KMS `TrentService`, SSM `AmazonSSM`, ACM `CertificateManager`,
//! CloudTrail) and 1.0 (DynamoDB `DynamoDB_20120810`). Both are `POST /` with
//! `X-Amz-Target: <Prefix>.<Operation>` and a JSON body, in `application/x-amz-json-<version>` as the
//! model's `metadata.jsonVersion` says ([`content_type`]). Errors are
//! `{"__type": "<Exception>", "message": "..."}`; awsJson 1.0 services qualify the exception with the
//! namespace it is declared in (`com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`), as
//! DynamoDB does ([`error_body_for`]). botocore reads both: it keeps what follows the last `#`.
//!
//! [`dispatch`] is the one path every request takes after authentication: find the operation in the
//! service model, parse and validate the body against the model, then call the service.

use async_trait::async_trait;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::model::ServiceModel;
use crate::{AwsError, RequestContext};

/// awsJson 1.1's content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// awsJson 1.0's content type (DynamoDB).
pub const CONTENT_TYPE_1_0: &str = "application/x-amz-json-1.0";

/// The content type of the service's awsJson version: 1.0 when its model says `jsonVersion` 1.0,
/// else 1.1.
pub fn content_type(model: &ServiceModel) -> &'static str {
    match model.metadata.json_version.as_deref() {
        Some("1.0") => CONTENT_TYPE_1_0,
        _ => CONTENT_TYPE,
    }
}

/// A service speaking awsJson1.1. Implementations never see HTTP.
#[async_trait]
pub trait JsonService: Send + Sync + 'static {
    fn model(&self) -> &ServiceModel;
    /// Runs `operation` (already known to the model) on a validated body; returns the JSON response body.
    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Vec<u8>, AwsError>;

    /// Names a model validation failure of `operation` the service's own way, where its API has
    /// dedicated exceptions (CloudTrail's `InvalidMaxResultsException`). By default it stays a
    /// `ValidationException`.
    fn validation_error(&self, _operation: &str, error: AwsError) -> AwsError {
        error
    }
}

/// Runs one handler of a [`JsonService`]: `run_json!(self.encrypt(ctx, input))` deserializes `input`
/// into the handler's request type, awaits it, and serializes its response.
#[macro_export]
macro_rules! run_json {
    ($self:ident . $handler:ident ($ctx:ident, $input:ident)) => {
        Ok($crate::json::to_body(
            &$self
                .$handler($ctx, $crate::json::from_value($input)?)
                .await?,
        ))
    };
}

/// Splits `TrentService.Encrypt` into `("TrentService", "Encrypt")`.
pub fn split_target(target: &str) -> Option<(&str, &str)> {
    let (prefix, op) = target.rsplit_once('.')?;
    (!prefix.is_empty() && !op.is_empty()).then_some((prefix, op))
}

/// Parse, validate, call.
pub async fn dispatch(
    service: &dyn JsonService,
    ctx: &RequestContext,
    operation: &str,
    body: &[u8],
) -> Result<Vec<u8>, AwsError> {
    let input = prepare(service.model(), operation, body)
        .map_err(|e| own_validation_error(service, operation, e))?;
    service.call(ctx, operation, input).await
}

/// A model validation error as the service names it (see [`JsonService::validation_error`]).
pub fn own_validation_error(service: &dyn JsonService, operation: &str, e: AwsError) -> AwsError {
    if e.code == "ValidationException" {
        service.validation_error(operation, e)
    } else {
        e
    }
}

/// Parse and validate: the input of `operation` from `body`, checked against the model.
pub fn prepare(model: &ServiceModel, operation: &str, body: &[u8]) -> Result<Value, AwsError> {
    if !model.has_operation(operation) {
        let prefix = model.metadata.target_prefix.as_deref().unwrap_or("");
        return Err(AwsError::unknown_operation(&format!(
            "{prefix}.{operation}"
        )));
    }
    let input = parse_body(body)?;
    model.validate(operation, &input)?;
    Ok(input)
}

/// An empty body is an empty input, as AWS treats it.
pub fn parse_body(body: &[u8]) -> Result<Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(body).map_err(|e| {
        AwsError::serialization(format!(
            "The request body is not valid JSON ({} at line {} column {})",
            match e.classify() {
                serde_json::error::Category::Eof => "unexpected end of input",
                _ => "syntax error",
            },
            e.line(),
            e.column()
        ))
    })
}

/// Typed input from a validated body. The model check runs first, so failures here are rare: mostly
/// members an operation needs although the model marks them optional (Decrypt's `CiphertextBlob`).
/// They are reported in AWS's form, with the member path in lowerCamelCase.
pub fn from_value<T: DeserializeOwned>(input: Value) -> Result<T, AwsError> {
    // The common case deserializes directly; only a failure pays for tracking the member's path.
    if let Ok(value) = T::deserialize(&input) {
        return Ok(value);
    }
    serde_path_to_error::deserialize::<_, T>(&input).map_err(|e| {
        let path = aws_path(&e.path().to_string());
        let inner = e.into_inner().to_string();
        if let Some(name) = inner.strip_prefix("missing field `").and_then(|r| r.strip_suffix('`')) {
            let at = if path.is_empty() {
                lower_camel(name)
            } else {
                format!("{path}.{}", lower_camel(name))
            };
            return AwsError::validation(format!(
                "1 validation error detected: Value null at '{at}' failed to satisfy constraint: Member must not be null"
            ));
        }
        AwsError::validation(format!(
            "1 validation error detected: Value at '{path}' failed to satisfy constraint: {inner}"
        ))
    })
}

fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `Tags[0].TagKey` (serde's path) → `tags.1.member.tagKey` (AWS's); the root `.` → empty.
fn aws_path(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    path.split('.')
        .map(|segment| {
            let mut parts = segment.split('[');
            let mut out = lower_camel(parts.next().unwrap_or(""));
            for index in parts {
                let i = index
                    .trim_end_matches(']')
                    .parse::<usize>()
                    .map(|i| i + 1)
                    .unwrap_or(0);
                out = format!("{out}.{i}.member");
            }
            out
        })
        .collect::<Vec<_>>()
        .join(".")
}

pub fn to_body<T: Serialize>(output: &T) -> Vec<u8> {
    serde_json::to_vec(output).expect("output serializes")
}

pub fn error_body(err: &AwsError) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(rename = "__type")]
        kind: &'a str,
        message: &'a str,
    }
    to_body(&Body {
        kind: &err.code,
        message: &err.message,
    })
}

/// The error body in the form the service's clients expect. awsJson 1.1: as [`error_body`].
/// awsJson 1.0: `__type` names the exception with its namespace — the service's
/// (`com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`) for the exceptions its model
/// declares, the front end's for the common ones (`com.amazon.coral.validate#ValidationException`,
/// `com.amazon.coral.service#SerializationException`, `…#UnknownOperationException`,
/// `…#AccessDeniedException`), as DynamoDB answers.
pub fn error_body_for(model: &ServiceModel, err: &AwsError) -> Vec<u8> {
    if model.metadata.json_version.as_deref() != Some("1.0") {
        return error_body(err);
    }
    let declared = model.errors().any(|(_, info)| info.code == err.code);
    let namespace = if declared {
        let version: String = model
            .metadata
            .api_version
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        format!(
            "com.amazonaws.{}.v{version}",
            model.metadata.endpoint_prefix
        )
    } else if err.code == "ValidationException" {
        "com.amazon.coral.validate".to_string()
    } else {
        "com.amazon.coral.service".to_string()
    };
    let mut body = err.fields.clone();
    body.insert("__type".into(), format!("{namespace}#{}", err.code).into());
    body.insert("message".into(), err.message.clone().into());
    to_body(&body)
}

/// A blob member (base64 on the wire).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Blob(pub Vec<u8>);

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

/// A sensitive blob member (plaintext, data keys): zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SensitiveBlob(pub Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SensitiveBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SensitiveBlob(***)")
    }
}

fn decode_b64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = Zeroizing::new(String::deserialize(d)?);
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|_| serde::de::Error::custom("Member must be valid base64-encoded binary data"))
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decode_b64(d).map(Blob)
    }
}

impl<'de> Deserialize<'de> for SensitiveBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decode_b64(d).map(|v| SensitiveBlob(Zeroizing::new(v)))
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl Serialize for SensitiveBlob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&self.0[..]));
        s.serialize_str(&text)
    }
}

/// Timestamps: awsJson sends epoch seconds as a JSON number. Stored as Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 1000 == 0 {
            s.serialize_i64(self.0 / 1000)
        } else {
            s.serialize_f64(self.0 as f64 / 1000.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Clients send epoch seconds, possibly with a fraction.
        let seconds = match Value::deserialize(d)? {
            Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
            _ => None,
        }
        .ok_or_else(|| {
            serde::de::Error::custom("Member must be a timestamp in seconds since the epoch")
        })?;
        Ok(Timestamp((seconds * 1000.0).round() as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split() {
        assert_eq!(
            split_target("TrentService.Encrypt"),
            Some(("TrentService", "Encrypt"))
        );
        assert_eq!(split_target("Encrypt"), None);
        assert_eq!(split_target("TrentService."), None);
    }

    #[test]
    fn malformed_json_is_a_serialization_error() {
        let e = parse_body(b"{\"KeyId\": ").unwrap_err();
        assert_eq!(e.code, "SerializationException");
        assert!(parse_body(b"").unwrap().is_object());
    }

    #[test]
    fn blobs_round_trip_and_hide() {
        #[derive(Debug, Deserialize)]
        struct In {
            #[serde(rename = "Plaintext")]
            plaintext: SensitiveBlob,
        }
        let v: In = from_value(serde_json::json!({"Plaintext": "aGVsbG8="})).unwrap();
        assert_eq!(&v.plaintext.0[..], b"hello");
        assert_eq!(format!("{:?}", v.plaintext), "SensitiveBlob(***)");
        let e = from_value::<In>(serde_json::json!({"Plaintext": "!!"})).unwrap_err();
        assert!(e.message.contains("'plaintext'"), "{}", e.message);
        let e = from_value::<In>(serde_json::json!({})).unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'plaintext' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn versions_choose_content_type_and_error_form() {
        let kms = ServiceModel::from_json(include_str!("../models/kms.json"));
        let dynamodb = ServiceModel::from_json(include_str!("../models/dynamodb.json"));
        assert_eq!(content_type(&kms), "application/x-amz-json-1.1");
        assert_eq!(content_type(&dynamodb), "application/x-amz-json-1.0");
        let missing = AwsError::new("NotFoundException", 400, "Key 'k' does not exist");
        assert_eq!(error_body_for(&kms, &missing), error_body(&missing));
        let body = |e: &AwsError| -> Value {
            serde_json::from_slice(&error_body_for(&dynamodb, e)).unwrap()
        };
        let e = AwsError::new(
            "ResourceNotFoundException",
            400,
            "Requested resource not found",
        );
        assert_eq!(
            body(&e),
            serde_json::json!({"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                               "message": "Requested resource not found"})
        );
        assert_eq!(
            body(&AwsError::validation("1 validation error detected"))["__type"],
            "com.amazon.coral.validate#ValidationException"
        );
        assert_eq!(
            body(&AwsError::serialization("bad"))["__type"],
            "com.amazon.coral.service#SerializationException"
        );
    }

    #[test]
    fn serde_paths_take_aws_form() {
        assert_eq!(aws_path("."), "");
        assert_eq!(aws_path("Tags[0].TagKey"), "tags.1.member.tagKey");
        assert_eq!(aws_path("EncryptionContext.k"), "encryptionContext.k");
    }

    #[test]
    fn timestamps_read_epoch_seconds() {
        #[derive(Debug, Deserialize)]
        struct In {
            #[serde(rename = "ValidTo")]
            valid_to: Timestamp,
        }
        let v: In = from_value(serde_json::json!({"ValidTo": 1_800_000_000.25})).unwrap();
        assert_eq!(v.valid_to, Timestamp(1_800_000_000_250));
        let e = from_value::<In>(serde_json::json!({"ValidTo": "tomorrow"})).unwrap_err();
        assert!(e.message.contains("timestamp in seconds"), "{}", e.message);
    }

    #[test]
    fn timestamps_are_epoch_seconds() {
        assert_eq!(
            serde_json::to_string(&Timestamp(1_700_000_000_000)).unwrap(),
            "1700000000"
        );
        assert_eq!(
            serde_json::to_string(&Timestamp(1_700_000_000_500)).unwrap(),
            "1700000000.5"
        );
    }
}
