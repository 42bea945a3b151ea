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

/// [`request_parameters`] as JSON text, exactly as serde_json writes that value, written straight from
/// `input` (no value is built for it).
pub fn request_parameters_text(
    model: &ServiceModel,
    operation: &str,
    input: &Value,
) -> Option<String> {
    let shape = model.input_shape(operation)?;
    let mut out = Vec::with_capacity(256);
    // `{}` is how an empty object, and only it, is written.
    if !write_redacted(model, shape, input, &mut out) || out == b"{}" {
        return None;
    }
    Some(String::from_utf8(out).expect("serde_json and member names are UTF-8"))
}

fn is_blob(model: &ServiceModel, shape: ShapeId) -> bool {
    matches!(model.shape_kind(shape), ShapeKind::Blob)
}

/// The chars of [`lower_camel`]`(s)`.
fn lower_camel_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    let mut chars = s.chars();
    let first = chars.next().into_iter().flat_map(char::to_lowercase);
    first.chain(chars)
}

/// `a` and `b` compared as their [`lower_camel`] forms are (char order is UTF-8's byte order).
fn lower_camel_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    lower_camel_chars(a).cmp(lower_camel_chars(b))
}

/// [`lower_camel`]`(name)` as a JSON string.
fn write_lower_camel(out: &mut Vec<u8>, name: &str) {
    match name.as_bytes() {
        [first, rest @ ..]
            if first.is_ascii() && !crate::record::needs_escaping(name.as_bytes()) =>
        {
            out.push(b'"');
            out.push(first.to_ascii_lowercase());
            out.extend_from_slice(rest);
            out.push(b'"');
        }
        _ => write_str(out, &lower_camel(name)),
    }
}

/// A string as serde_json writes it.
fn write_str(out: &mut Vec<u8>, s: &str) {
    if !crate::record::needs_escaping(s.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("strings serialize");
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::String(s) => write_str(out, s),
        other => serde_json::to_writer(&mut *out, other).expect("values serialize"),
    }
}

/// What [`redact`] returns, written as JSON into `out`; `false` (nothing written) where it returns
/// `None`.
fn write_redacted(model: &ServiceModel, shape: ShapeId, value: &Value, out: &mut Vec<u8>) -> bool {
    let kind = model.shape_kind(shape);
    if matches!(kind, ShapeKind::Blob) {
        return false;
    }
    if model.is_sensitive(shape) {
        write_str(out, HIDDEN);
        return true;
    }
    match (kind, value) {
        (ShapeKind::Structure { members, .. }, Value::Object(fields)) => {
            let member = |name: &str| {
                members
                    .binary_search_by(|m| m.name.as_str().cmp(name))
                    .ok()
                    .map(|i| members[i].shape)
            };
            // `redact` orders the members by their lowerCamel names (and a later one replaces an
            // earlier one of the same name); the input is ordered by the names as sent. Where the
            // two orders differ, take `redact`'s value.
            let mut previous: Option<&str> = None;
            let in_order = fields.keys().filter(|n| member(n).is_some()).all(|n| {
                let ok = previous.is_none_or(|p| lower_camel_cmp(p, n).is_lt());
                previous = Some(n);
                ok
            });
            if !in_order {
                let redacted = redact(model, shape, value).expect("structures redact to objects");
                serde_json::to_writer(&mut *out, &redacted).expect("values serialize");
                return true;
            }
            out.push(b'{');
            let mut first = true;
            for (name, v) in fields {
                let Some(member_shape) = member(name) else {
                    continue;
                };
                let credential = CREDENTIAL_MEMBERS.contains(&name.as_str());
                if !credential && is_blob(model, member_shape) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                write_lower_camel(out, name);
                out.push(b':');
                if credential {
                    write_str(out, HIDDEN);
                } else {
                    write_redacted(model, member_shape, v, out);
                }
            }
            out.push(b'}');
            true
        }
        (ShapeKind::List(member), Value::Array(items)) => {
            out.push(b'[');
            let mut first = true;
            for item in items {
                if is_blob(model, member.shape) {
                    break;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                write_redacted(model, member.shape, item, out);
            }
            out.push(b']');
            true
        }
        (ShapeKind::Map(_, value_ref), Value::Object(entries)) => {
            out.push(b'{');
            if !is_blob(model, value_ref.shape) {
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, k);
                    out.push(b':');
                    write_redacted(model, value_ref.shape, v, out);
                }
            }
            out.push(b'}');
            true
        }
        _ => {
            write_value(out, value);
            true
        }
    }
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

    /// An input with every member of `shape` (to a depth), odd strings, and a field the model lacks.
    fn sample(model: &ServiceModel, shape: ShapeId, depth: usize) -> Value {
        match model.shape_kind(shape) {
            ShapeKind::Structure { members, .. } => {
                let mut o = Map::new();
                if depth < 4 {
                    for m in members {
                        o.insert(m.name.clone(), sample(model, m.shape, depth + 1));
                    }
                }
                o.insert("NotInTheModel".into(), json!("x"));
                o.insert("lowercase".into(), json!(1));
                Value::Object(o)
            }
            ShapeKind::List(m) => Value::Array(if depth < 4 {
                vec![
                    sample(model, m.shape, depth + 1),
                    sample(model, m.shape, depth + 1),
                ]
            } else {
                vec![]
            }),
            ShapeKind::Map(_, v) => {
                let mut o = Map::new();
                if depth < 4 {
                    o.insert("k\"1\n".into(), sample(model, v.shape, depth + 1));
                    o.insert("Zed é".into(), sample(model, v.shape, depth + 1));
                }
                Value::Object(o)
            }
            ShapeKind::String => json!("va\"l\\ue\u{1} ✓ /"),
            ShapeKind::Integer => json!(-42),
            ShapeKind::Float => json!(1.25),
            ShapeKind::Boolean => json!(true),
            ShapeKind::Blob => json!("AAAA"),
            ShapeKind::Timestamp => json!(1_700_000_000),
        }
    }

    #[test]
    fn text_is_the_redacted_value_as_serde_writes_it() {
        let models = [
            kms(),
            ssm(),
            ServiceModel::from_json(include_str!("../../proto/models/iam.json")),
            ServiceModel::from_json(include_str!("../../proto/models/sts.json")),
            ServiceModel::from_json(include_str!("../../proto/models/route53.json")),
            ServiceModel::from_json(include_str!("../../proto/models/acm.json")),
        ];
        let mut checked = 0;
        for model in &models {
            for op in model.operation_names() {
                let Some(shape) = model.input_shape(op) else {
                    continue;
                };
                let full = sample(model, shape, 0);
                let inputs = [
                    full.clone(),
                    json!({}),
                    json!({"NotInTheModel": 1}),
                    json!("not an object"),
                    json!({"GrantTokens": ["t"], "SessionToken": "s"}),
                    // Members the model names, with values of the wrong type.
                    match &full {
                        Value::Object(o) => Value::Object(
                            o.keys()
                                .map(|k| (k.clone(), json!([{"a": null}])))
                                .collect(),
                        ),
                        other => other.clone(),
                    },
                ];
                for input in &inputs {
                    let expected = request_parameters(model, op, input)
                        .map(|v| serde_json::to_string(&v).unwrap());
                    assert_eq!(
                        request_parameters_text(model, op, input),
                        expected,
                        "{op} {input}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 500, "{checked}");
    }

    #[test]
    fn members_out_of_lower_camel_order_are_ordered_as_redact_orders_them() {
        assert!(lower_camel_cmp("Zed", "abc").is_gt() && "Zed" < "abc");
        assert!(lower_camel_cmp("KeyId", "keyId").is_eq());
        assert!(lower_camel_cmp("", "a").is_lt() && lower_camel_cmp("É", "éa").is_lt());
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
