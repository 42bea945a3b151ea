//! Ticket codes signed and checked with the fake's KMS keys (real P-256 keys): a round trip, every
//! kind of tampering, which keys are allowed, and KMS failures.

use std::sync::Arc;
use std::time::Instant;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use m2sec_proto::AwsError;
use serde_json::Value;

use super::*;
use crate::testing::{self, Fake};
use crate::{Function, Handler};

fn claims(fan: Option<&str>) -> TicketClaims {
    TicketClaims {
        ticket_id: "TAbC123xYz789".into(),
        match_id: "CAN2025-M01".into(),
        sector: "North".into(),
        gates: vec!["N1".into(), "N2".into()],
        valid_from: 1_766_329_200,
        valid_until: 1_766_365_200,
        fan_hash: fan.map(|f| fan_hash("TAbC123xYz789", f)),
        key_id: "ignored: the signing key's ARN goes here".into(),
    }
}

struct World {
    fake: Arc<Fake>,
    gates: Gates,
    function: Function,
    key: String,
}

fn world() -> World {
    let (fake, key) = Fake::gates();
    let gates = Gates::new(fake.clone());
    World {
        fake,
        gates,
        function: testing::function(Handler::VerifyTicket),
        key,
    }
}

impl World {
    async fn sign(&self, claims: &TicketClaims) -> (String, String) {
        let as_role = AsRole::new(self.gates.services.as_ref(), &self.function);
        sign(&self.gates, &as_role, &self.function, claims)
            .await
            .unwrap()
    }

    async fn check(&self, code: &str) -> Result<TicketClaims, CodeError> {
        self.check_as(&self.function, code).await
    }

    async fn check_as(&self, function: &Function, code: &str) -> Result<TicketClaims, CodeError> {
        let as_role = AsRole::new(self.gates.services.as_ref(), function);
        check(&self.gates, &as_role, function, code).await
    }
}

fn assert_invalid(result: Result<TicketClaims, CodeError>, what: &str) {
    assert!(
        matches!(result, Err(CodeError::Invalid)),
        "{what}: {result:?}"
    );
}

/// The code with its payload replaced by `payload` (the signature kept).
fn with_payload(code: &str, payload: &[u8]) -> String {
    let signature = code.rsplit('.').next().unwrap();
    format!("{PREFIX}{}.{signature}", URL_SAFE_NO_PAD.encode(payload))
}

fn payload_of(code: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(code.split('.').nth(1).unwrap())
        .unwrap()
}

#[test]
fn fan_hashes_are_the_first_half_of_sha256() {
    // python3: urlsafe_b64encode(sha256(b"TAbC123xYz789:FAN-0042").digest()[:16]).rstrip(b"=")
    assert_eq!(
        fan_hash("TAbC123xYz789", "FAN-0042"),
        "gPbToTbZxRS21OXq-VxccA"
    );
    assert_ne!(
        fan_hash("TAbC123xYz780", "FAN-0042"),
        fan_hash("TAbC123xYz789", "FAN-0042"),
        "per ticket"
    );
}

#[tokio::test]
async fn a_signed_code_checks_and_says_what_was_signed() {
    let w = world();
    let (code, key_arn) = w.sign(&claims(Some("FAN-0042"))).await;
    assert_eq!(key_arn, w.key);
    assert!(code.starts_with("M2T1."), "{code}");
    assert_eq!(code.matches('.').count(), 2);
    assert!(code.len() < 400, "{} characters", code.len());

    let payload = String::from_utf8(payload_of(&code)).unwrap();
    let expected = format!(
        r#"{{"t":"TAbC123xYz789","m":"CAN2025-M01","s":"North","g":["N1","N2"],"f":1766329200,"u":1766365200,"h":"gPbToTbZxRS21OXq-VxccA","k":"{}"}}"#,
        w.key
    );
    assert_eq!(payload, expected);
    assert!(!payload.contains("FAN-0042"));

    let checked = w.check(&code).await.unwrap();
    assert_eq!(
        checked,
        TicketClaims {
            key_id: w.key.clone(),
            ..claims(Some("FAN-0042"))
        }
    );

    // What KMS was asked: the key by its ARN, the bytes of "M2T1.<payload>".
    let sign_call = &w.fake.calls_of("Sign")[0];
    let message = code.rsplit_once('.').unwrap().0;
    assert_eq!(sign_call.input["KeyId"], w.key.as_str());
    assert_eq!(sign_call.input["Message"], STANDARD.encode(message));
    assert_eq!(sign_call.input["MessageType"], "RAW");
    assert_eq!(sign_call.input["SigningAlgorithm"], "ECDSA_SHA_256");
    // Checked here against the key's public key, fetched once by the key's ARN.
    assert!(w.fake.calls_of("Verify").is_empty());
    let public_key_call = &w.fake.calls_of("GetPublicKey")[0];
    assert_eq!(public_key_call.input["KeyId"], w.key.as_str());
    assert_eq!(
        w.fake.calls_of("DescribeKey")[0].input["KeyId"],
        testing::TICKETS_KEY
    );
    // The key's ARN is resolved once, then cached.
    w.sign(&claims(None)).await;
    w.check(&code).await.unwrap();
    assert_eq!(w.fake.calls_of("DescribeKey").len(), 1);
    assert_eq!(w.fake.calls_of("GetPublicKey").len(), 1);
}

#[tokio::test]
async fn without_a_fan_the_payload_has_no_h() {
    let w = world();
    let (code, _) = w.sign(&claims(None)).await;
    let payload: Value = serde_json::from_slice(&payload_of(&code)).unwrap();
    assert!(payload.get("h").is_none(), "{payload}");
    assert_eq!(w.check(&code).await.unwrap().fan_hash, None);
}

#[tokio::test]
async fn every_changed_payload_byte_is_invalid() {
    let w = world();
    let (code, _) = w.sign(&claims(Some("FAN-0042"))).await;
    let payload = payload_of(&code);
    for at in 0..payload.len() {
        let mut changed = payload.clone();
        changed[at] ^= 0x01;
        assert_invalid(
            w.check(&with_payload(&code, &changed)).await,
            &format!("byte {at}"),
        );
    }
    // A payload that parses and differs in meaning only: the seat of another sector.
    let other = String::from_utf8(payload)
        .unwrap()
        .replace("\"North\"", "\"South\"");
    assert_invalid(
        w.check(&with_payload(&code, other.as_bytes())).await,
        "sector",
    );
    assert!(
        !w.fake.calls_of("GetPublicKey").is_empty(),
        "parsed payloads are checked against the key"
    );
    assert!(w.check(&code).await.is_ok(), "the original still checks");
}

#[tokio::test]
async fn every_changed_signature_byte_is_invalid() {
    let w = world();
    let (code, _) = w.sign(&claims(None)).await;
    let (message, signature) = code.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    for at in 0..signature.len() {
        let mut changed = signature.clone();
        changed[at] ^= 0x80;
        let tampered = format!("{message}.{}", URL_SAFE_NO_PAD.encode(&changed));
        assert_invalid(w.check(&tampered).await, &format!("signature byte {at}"));
    }
    // A valid signature of another code.
    let (other, _) = w.sign(&claims(Some("someone"))).await;
    let other_signature = other.rsplit('.').next().unwrap();
    assert_invalid(
        w.check(&format!("{message}.{other_signature}")).await,
        "another code's signature",
    );
}

#[tokio::test]
async fn malformed_codes_are_invalid_without_asking_kms() {
    let w = world();
    let (code, _) = w.sign(&claims(None)).await;
    let (message, signature) = code.rsplit_once('.').unwrap();
    let payload = message.strip_prefix(PREFIX).unwrap();
    let cases = [
        String::new(),
        "M2T1.".into(),
        message.to_string(),
        format!("{message}."),
        code.replacen("M2T1.", "M2T2.", 1),
        code.replacen("M2T1.", "m2t1.", 1),
        code.replacen("M2T1.", "", 1),
        format!("X{code}"),
        format!("{code}."),
        format!("{code}=="),
        format!("{PREFIX}{payload}=.{signature}"),
        format!("{PREFIX}+{payload}.{signature}"),
        format!("{PREFIX}{payload} .{signature}"),
        format!(
            "{PREFIX}{}.{signature}",
            URL_SAFE_NO_PAD.encode(b"not json")
        ),
        format!(
            "{PREFIX}{}.{signature}",
            URL_SAFE_NO_PAD.encode(b"{\"t\":\"T1\"}")
        ),
        format!("{message}.{}", URL_SAFE_NO_PAD.encode([0u8; 300])),
        format!("{code}{}", "A".repeat(MAX_CODE_CHARS)),
    ];
    let verifies = w.fake.calls_of("GetPublicKey").len();
    for (i, case) in cases.iter().enumerate() {
        assert_invalid(w.check(case).await, &format!("case {i}: {case}"));
    }
    // An extra member is not ignored, even if it were signed.
    let mut extra: Value = serde_json::from_slice(&payload_of(&code)).unwrap();
    extra["x"] = Value::from(1);
    let extra = with_payload(&code, extra.to_string().as_bytes());
    assert_invalid(w.check(&extra).await, "extra member");
    assert_eq!(w.fake.calls_of("GetPublicKey").len(), verifies);
}

#[tokio::test]
async fn a_key_not_allowed_is_invalid_before_its_public_key_is_fetched() {
    let w = world();
    let stranger = w.fake.create_signing_key(Some("alias/stranger"));
    let mut signer = w.function.clone();
    signer
        .environment
        .insert("TICKETS_KEY".into(), "alias/stranger".into());
    let as_role = AsRole::new(w.gates.services.as_ref(), &signer);
    let (code, key) = sign(&w.gates, &as_role, &signer, &claims(None))
        .await
        .unwrap();
    assert_eq!(key, stranger);
    assert!(w.check_as(&signer, &code).await.is_ok());

    let verifies = w.fake.calls_of("GetPublicKey").len();
    assert_invalid(w.check(&code).await, "another key");
    assert_eq!(w.fake.calls_of("GetPublicKey").len(), verifies);

    // Naming the allowed key over another key's signature: its public key refuses the signature.
    let payload = String::from_utf8(payload_of(&code))
        .unwrap()
        .replace(&stranger, &w.key);
    let message = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(&payload));
    let output = as_role
        .call(
            "kms",
            "Sign",
            serde_json::json!({"KeyId": stranger, "Message": STANDARD.encode(&message),
                "MessageType": "RAW", "SigningAlgorithm": "ECDSA_SHA_256"}),
        )
        .await
        .unwrap();
    let signature = STANDARD
        .decode(output["Signature"].as_str().unwrap())
        .unwrap();
    let forged = format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature));
    assert_invalid(w.check(&forged).await, "forged k");
}

#[tokio::test]
async fn previous_keys_stay_valid_while_listed() {
    let w = world();
    let (old_code, old_key) = w.sign(&claims(None)).await;
    // The alias moves to a new key; a fresh process resolves it anew.
    let new_key = w.fake.create_signing_key(None);
    w.fake.set_alias(testing::TICKETS_KEY, &new_key);
    w.fake.set_alias("alias/can2025-tickets-2025", &old_key);
    let w = World {
        gates: Gates::new(w.fake.clone()),
        ..w
    };
    let (new_code, signer) = w.sign(&claims(None)).await;
    assert_eq!(signer, new_key);
    assert!(w.check(&new_code).await.is_ok());
    assert_invalid(w.check(&old_code).await, "old key not listed");

    for listed in [
        old_key.as_str(),
        "alias/can2025-tickets-2025",
        " alias/gone , alias/can2025-tickets-2025 ",
    ] {
        let mut function = w.function.clone();
        function
            .environment
            .insert("TICKETS_PREVIOUS_KEYS".into(), listed.into());
        let checked = w.check_as(&function, &old_code).await;
        assert_eq!(checked.unwrap().key_id, old_key, "{listed}");
        assert!(w.check_as(&function, &new_code).await.is_ok());
    }

    // A listed key that was deleted is skipped, not an error.
    w.fake.delete_key(&old_key);
    let gates = Gates::new(w.fake.clone());
    let mut function = w.function.clone();
    function
        .environment
        .insert("TICKETS_PREVIOUS_KEYS".into(), old_key.clone());
    let as_role = AsRole::new(gates.services.as_ref(), &function);
    let checked = check(&gates, &as_role, &function, &old_code).await;
    assert_invalid(checked, "deleted previous key");
}

#[tokio::test]
async fn kms_failures_other_than_a_bad_signature_are_unavailable() {
    let w = world();
    let (code, _) = w.sign(&claims(None)).await;
    for error in [
        AwsError::new("KMSInternalException", 500, "try later"),
        AwsError::new(
            "AccessDeniedException",
            400,
            "not allowed: kms:GetPublicKey",
        ),
        AwsError::new("DisabledException", 400, "key disabled"),
    ] {
        let w = world();
        let (code, _) = w.sign(&claims(None)).await;
        w.fake.fail("kms", "GetPublicKey", error.clone());
        match w.check(&code).await {
            Err(CodeError::Unavailable(e)) => assert_eq!(e.code, error.code),
            other => panic!("{}: {other:?}", error.code),
        }
    }

    // DescribeKey failing: neither signing nor checking can go on.
    let fresh = world();
    fresh.fake.fail(
        "kms",
        "DescribeKey",
        AwsError::new("AccessDeniedException", 400, "not allowed: kms:DescribeKey"),
    );
    assert!(matches!(
        fresh.check(&code).await,
        Err(CodeError::Unavailable(e)) if e.code == "AccessDeniedException"
    ));
    let as_role = AsRole::new(fresh.gates.services.as_ref(), &fresh.function);
    let signed = sign(&fresh.gates, &as_role, &fresh.function, &claims(None)).await;
    assert_eq!(signed.unwrap_err().code, "AccessDeniedException");
}

#[tokio::test]
async fn a_missing_tickets_key_is_unavailable_not_invalid() {
    let w = world();
    let (code, _) = w.sign(&claims(None)).await;
    let mut function = w.function.clone();
    function
        .environment
        .insert("TICKETS_KEY".into(), "alias/no-such-key".into());
    assert!(matches!(
        w.check_as(&function, &code).await,
        Err(CodeError::Unavailable(e)) if e.code == "NotFoundException"
    ));
    let as_role = AsRole::new(w.gates.services.as_ref(), &function);
    let signed = sign(&w.gates, &as_role, &function, &claims(None)).await;
    assert_eq!(signed.unwrap_err().code, "NotFoundException");
}

#[tokio::test]
async fn without_tickets_key_the_default_alias_is_used() {
    let w = world();
    let mut function = w.function.clone();
    function.environment.remove("TICKETS_KEY");
    let as_role = AsRole::new(w.gates.services.as_ref(), &function);
    let (_, key) = sign(&w.gates, &as_role, &function, &claims(None))
        .await
        .unwrap();
    assert_eq!(key, w.key);
    assert_eq!(DEFAULT_TICKETS_KEY, testing::TICKETS_KEY);
}

#[test]
fn resolved_keys_expire_after_a_minute_and_are_per_role() {
    let cache = KeyCache::default();
    let t0 = Instant::now();
    cache.keep("role-a", "alias/k", Some("arn:k".into()), t0);
    cache.keep("role-a", "alias/gone", None, t0);
    assert_eq!(
        cache.cached("role-a", "alias/k", t0 + KEY_CACHE_AGE / 2),
        Some(Some("arn:k".into()))
    );
    assert_eq!(cache.cached("role-a", "alias/gone", t0), Some(None));
    assert_eq!(cache.cached("role-a", "alias/k", t0 + KEY_CACHE_AGE), None);
    assert_eq!(cache.cached("role-b", "alias/k", t0), None);
    cache.keep("role-a", "alias/other", None, t0 + KEY_CACHE_AGE);
    assert_eq!(format!("{cache:?}"), "KeyCache { entries: 1 }");
}
