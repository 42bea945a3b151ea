//! What of a request and a response may enter the trail. Driven by the service model: members of
//! `sensitive` shapes read `HIDDEN_DUE_TO_SECURITY_REASONS` (as CloudTrail writes them), blobs
//! (plaintexts, ciphertexts, key material) are left out, and credentials the model does not mark
//! (session and grant tokens) are hidden too. Member names take CloudTrail's lowerCamelCase; map keys
//! (an encryption context's) stay as sent.

use m2sec_proto::model::{ServiceModel, ShapeId, ShapeKind};
use serde_json::{Map, Value};

pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Members that carry a credential although their shapes are not marked sensitive.
const CREDENTIAL_MEMBERS: &[&str] = &["SessionToken", "GrantToken", "GrantTokens"];

/// `requestParameters` of `operation` with `input`; `None` when nothing is left.
pub fn request_parameters(model: &ServiceModel, operation: &str, input: &Value) -> Option<Value> {
    let shape = model.input_shape(operation)?;
    redact(model, shape, input).filter(|v| !matches!(v, Value::Object(o) if o.is_empty()))
}

/// `responseElements` of `operation` with `output`.
pub fn response_elements(model: &ServiceModel, operation: &str, output: &Value) -> Option<Value> {
    let (shape, _) = model.output_shape(operation)?;
    redact(model, shape, output).filter(|v| !matches!(v, Value::Object(o) if o.is_empty()))
}

fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn redact(model: &ServiceModel, shape: ShapeId, value: &Value) -> Option<Value> {
    let kind = model.shape_kind(shape);
    if matches!(kind, ShapeKind::Blob) {
        return None;
    }
    if model.is_sensitive(shape) {
        return Some(Value::String(HIDDEN.into()));
    }
    match (kind, value) {
        (ShapeKind::Structure { members, .. }, Value::Object(fields)) => {
            let mut out = Map::new();
            for (name, v) in fields {
                let Ok(i) = members.binary_search_by(|m| m.name.as_str().cmp(name)) else {
                    continue;
                };
                let redacted = if CREDENTIAL_MEMBERS.contains(&name.as_str()) {
                    Some(Value::String(HIDDEN.into()))
                } else {
                    redact(model, members[i].shape, v)
                };
                if let Some(r) = redacted {
                    out.insert(lower_camel(name), r);
                }
            }
            Some(Value::Object(out))
        }
        (ShapeKind::List(member), Value::Array(items)) => Some(Value::Array(
            items
                .iter()
                .filter_map(|item| redact(model, member.shape, item))
                .collect(),
        )),
        (ShapeKind::Map(_, value_ref), Value::Object(entries)) => Some(Value::Object(
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), redact(model, value_ref.shape, v)?)))
                .collect(),
        )),
        _ => Some(value.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kms() -> ServiceModel {
        ServiceModel::from_json(include_str!("../../proto/models/kms.json"))
    }

    fn ssm() -> ServiceModel {
        ServiceModel::from_json(include_str!("../../proto/models/ssm.json"))
    }

    #[test]
    fn plaintext_and_ciphertext_never_enter() {
        let p = request_parameters(
            &kms(),
            "Encrypt",
            &json!({"KeyId": "alias/gates", "Plaintext": "c2VjcmV0", "EncryptionContext": {"purpose": "jwt"},
                    "GrantTokens": ["tok"]}),
        )
        .unwrap();
        assert_eq!(
            p,
            json!({"keyId": "alias/gates", "encryptionContext": {"purpose": "jwt"}, "grantTokens": HIDDEN})
        );
        let p = request_parameters(&kms(), "Decrypt", &json!({"CiphertextBlob": "AAAA"}));
        assert_eq!(p, None);
        let r = response_elements(
            &kms(),
            "GenerateDataKey",
            &json!({"KeyId": "arn:k", "Plaintext": "AAAA", "CiphertextBlob": "BBBB"}),
        )
        .unwrap();
        assert_eq!(r, json!({"keyId": "arn:k"}));
    }

    #[test]
    fn parameter_values_are_hidden() {
        let p = request_parameters(
            &ssm(),
            "PutParameter",
            &json!({"Name": "/gates/jwt", "Value": "s3cret", "Type": "SecureString", "KeyId": "alias/x"}),
        )
        .unwrap();
        assert_eq!(p["value"], HIDDEN);
        assert_eq!(p["name"], "/gates/jwt");
        assert!(!p.to_string().contains("s3cret"));
    }
}
