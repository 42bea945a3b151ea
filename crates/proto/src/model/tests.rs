use super::*;
use base64::Engine;
use serde_json::json;

fn kms() -> ServiceModel {
    ServiceModel::from_json(include_str!("../../models/kms.json"))
}

#[test]
fn every_pattern_compiles() {
    let raw: RawModel = serde_json::from_str(include_str!("../../models/kms.json")).unwrap();
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
