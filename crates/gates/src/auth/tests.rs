//! The login handler against the in-memory services of `testing.rs`.

mod errors;

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, SaltString};
use base64::Engine;
use m2sec_proto::{AwsError, Caller};
use serde_json::{json, Value};

use crate::limits::MAX_FAILURES;
use crate::testing::{self, Fake, AUDIT_TABLE, JWT_PARAMETER, ROLE_ARN, USERS_TABLE};
use crate::{verify_jwt, Gates, TOKEN_LIFETIME_SECS};

const PASSWORD: &str = "gate-pass-42";

/// An Argon2id hash at a tiny cost, so the tests do not spend seconds per login in debug builds;
/// the cost is read from the hash when it is verified.
fn cheap_hash(password: &str) -> String {
    let argon2 = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(64, 1, 1, None).unwrap(),
    );
    let salt = SaltString::encode_b64(b"fixed test salt!").unwrap();
    argon2
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

fn world() -> (Arc<Fake>, Gates) {
    let fake = Fake::new();
    fake.add_user("steward7", "steward", &cheap_hash(PASSWORD));
    fake.add_user("admin1", "admin", &cheap_hash("admin-pass"));
    let gates = Gates::new(fake.clone());
    (fake, gates)
}

async fn login(gates: &Gates, username: &str, password: &str) -> Value {
    let event = testing::login_event(username, password);
    gates.invoke(&testing::login_function(), event).await
}

fn body(result: &Value) -> Value {
    serde_json::from_str(result["body"].as_str().unwrap()).unwrap()
}

/// The audit records written, in order: (username, ok, reason).
fn audit_reasons(fake: &Fake) -> Vec<(String, bool, String)> {
    fake.calls_of("PutItem")
        .into_iter()
        .filter(|c| c.input["TableName"] == AUDIT_TABLE)
        .map(|c| {
            let item = &c.input["Item"];
            (
                item["username"]["S"].as_str().unwrap().to_string(),
                item["ok"]["BOOL"].as_bool().unwrap(),
                item["reason"]["S"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const INVALID: &str = r#"{"ok":false,"message":"Invalid credentials"}"#;
const TOO_MANY: &str = r#"{"ok":false,"message":"Too many failed logins; try again later"}"#;
const INTERNAL: &str = r#"{"ok":false,"message":"Internal error"}"#;

#[tokio::test]
async fn a_good_password_gets_a_token_for_eight_hours() {
    let (fake, gates) = world();
    let result = login(&gates, "steward7", PASSWORD).await;
    assert_eq!(result["statusCode"], 200, "{result}");
    assert_eq!(result["headers"]["Content-Type"], "application/json");
    assert_eq!(result["headers"]["Cache-Control"], "no-store");
    assert_eq!(result["isBase64Encoded"], false);
    let body = body(&result);
    assert_eq!(body["ok"], true);
    let token = body["token"].as_str().unwrap();
    let now = crate::auth::now_secs();
    let claims = verify_jwt(b"s3cret", token, now).unwrap();
    assert_eq!(claims.sub, "steward7");
    assert_eq!(claims.role, "steward");
    assert_eq!(claims.exp, claims.iat + 28_800);
    assert_eq!(TOKEN_LIFETIME_SECS, 28_800);
    assert!((now - claims.iat).abs() <= 5);
    assert!(verify_jwt(b"other", token, now).is_err());

    let audit = fake.items(AUDIT_TABLE);
    assert_eq!(audit.len(), 1);
    let record = &audit[0];
    assert_eq!(record["kind"], json!({"S": "login"}));
    assert_eq!(record["username"], json!({"S": "steward7"}));
    assert_eq!(record["ok"], json!({"BOOL": true}));
    assert_eq!(record["reason"], json!({"S": "ok"}));
    assert_eq!(record["sourceIp"], json!({"S": "203.0.113.10"}));
    assert_eq!(record["auditId"]["S"].as_str().unwrap().len(), 36);
    assert!(record["at"]["N"].as_str().unwrap().parse::<u128>().unwrap() > 1_700_000_000_000);
}

#[tokio::test]
async fn every_call_is_made_as_the_functions_role() {
    let (fake, gates) = world();
    login(&gates, "steward7", PASSWORD).await;
    login(&gates, "steward7", "guess-123").await;
    let calls = fake.calls();
    let operations: Vec<_> = calls
        .iter()
        .map(|c| (c.service.as_str(), c.operation.as_str()))
        .collect();
    assert_eq!(
        operations,
        [
            ("ssm", "GetParameter"),
            ("dynamodb", "GetItem"),
            ("dynamodb", "PutItem"),
            // The secret is cached: the second login does not read it again.
            ("dynamodb", "GetItem"),
            ("dynamodb", "PutItem"),
        ]
    );
    for call in &calls {
        assert_eq!(
            call.caller,
            Caller::Role {
                role_arn: ROLE_ARN.into(),
                role_name: "can2025-secure-gates-prod-eu-west-1-lambdaRole".into(),
                session_name: "can2025-secure-gates-prod-login".into(),
            }
        );
        assert_eq!(
            call.principal_arn,
            "arn:aws:sts::000000000000:assumed-role/can2025-secure-gates-prod-eu-west-1-lambdaRole/can2025-secure-gates-prod-login"
        );
        assert_eq!(call.operation_in_context, call.operation);
        let input = call.input.to_string();
        assert!(
            !input.contains(PASSWORD) && !input.contains("guess-123"),
            "{input}"
        );
    }
    assert_eq!(
        calls[0].input,
        json!({"Name": JWT_PARAMETER, "WithDecryption": true})
    );
    assert_eq!(calls[1].input["TableName"], USERS_TABLE);
    assert_eq!(calls[1].input["Key"], json!({"userId": {"S": "steward7"}}));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let (fake, gates) = world();
    let wrong = login(&gates, "steward7", "gate-pass-43").await;
    let unknown = login(&gates, "nobody", PASSWORD).await;
    for result in [&wrong, &unknown] {
        assert_eq!(result["statusCode"], 401);
        assert_eq!(result["body"], INVALID);
        assert_eq!(result["headers"]["Content-Type"], "application/json");
    }
    assert_eq!(wrong["headers"], unknown["headers"]);
    assert_eq!(
        audit_reasons(&fake),
        [
            ("steward7".into(), false, "wrong password".into()),
            ("nobody".into(), false, "unknown user".into()),
        ]
    );
}

#[tokio::test]
async fn a_bcrypt_hash_logs_in_and_is_replaced_with_argon2id() {
    let (fake, gates) = world();
    let bcrypt_hash = bcrypt::hash(PASSWORD, 4).unwrap();
    fake.add_user("legacy", "auditor", &bcrypt_hash);
    let result = login(&gates, "legacy", PASSWORD).await;
    assert_eq!(result["statusCode"], 200, "{result}");
    let claims = verify_jwt(
        b"s3cret",
        body(&result)["token"].as_str().unwrap(),
        crate::auth::now_secs(),
    )
    .unwrap();
    assert_eq!(claims.role, "auditor");

    let user = fake.user("legacy").unwrap();
    let new_hash = user["passwordHash"]["S"].as_str().unwrap();
    assert!(new_hash.starts_with("$argon2id$"), "{new_hash}");
    // The rest of the item is kept.
    assert_eq!(user["role"], json!({"S": "auditor"}));
    assert_eq!(user["displayName"], json!({"S": "User legacy"}));
    let upgrade = fake
        .calls_of("PutItem")
        .into_iter()
        .find(|c| c.input["TableName"] == USERS_TABLE)
        .unwrap();
    assert_eq!(upgrade.input["ConditionExpression"], "passwordHash = :old");
    assert_eq!(
        upgrade.input["ExpressionAttributeValues"][":old"]["S"],
        bcrypt_hash
    );

    // The new hash logs in too, and is not replaced again.
    let again = login(&gates, "legacy", PASSWORD).await;
    assert_eq!(again["statusCode"], 200);
    assert_eq!(fake.user("legacy").unwrap()["passwordHash"]["S"], new_hash);
    assert_eq!(login(&gates, "legacy", "nope").await["statusCode"], 401);
}

#[tokio::test]
async fn a_bcryptjs_hash_of_the_node_service_logs_in() {
    let (fake, gates) = world();
    let vectors: Value =
        serde_json::from_str(include_str!("../../tests/vectors/npm-bcryptjs.json")).unwrap();
    let vector = &vectors["hashes"][0];
    fake.add_user("node-user", "steward", vector["hash"].as_str().unwrap());
    let result = login(&gates, "node-user", vector["password"].as_str().unwrap()).await;
    assert_eq!(result["statusCode"], 200, "{result}");
    assert!(fake.user("node-user").unwrap()["passwordHash"]["S"]
        .as_str()
        .unwrap()
        .starts_with("$argon2id$"));
}

#[tokio::test]
async fn a_failed_upgrade_still_logs_in() {
    let (fake, gates) = world();
    let bcrypt_hash = bcrypt::hash(PASSWORD, 4).unwrap();
    fake.add_user("legacy", "admin", &bcrypt_hash);
    fake.fail_on_table(
        "dynamodb",
        "PutItem",
        USERS_TABLE,
        AwsError::new("AccessDeniedException", 400, "not allowed"),
    );
    let result = login(&gates, "legacy", PASSWORD).await;
    assert_eq!(result["statusCode"], 200);
    assert_eq!(
        fake.user("legacy").unwrap()["passwordHash"]["S"],
        bcrypt_hash
    );
}

#[tokio::test]
async fn the_fifth_failure_and_those_after_are_refused_without_a_check() {
    let (fake, gates) = world();
    for attempt in 1..MAX_FAILURES {
        let result = login(&gates, "steward7", &format!("guess{attempt}")).await;
        assert_eq!(result["statusCode"], 401, "attempt {attempt}");
    }
    let fifth = login(&gates, "steward7", "guess5").await;
    assert_eq!(fifth["statusCode"], 429);
    assert_eq!(fifth["body"], TOO_MANY);
    assert_eq!(fifth["headers"]["Retry-After"], "900");

    // Closed: even the right password is refused, and the users table is not read.
    let reads = fake.calls_of("GetItem").len();
    let sixth = login(&gates, "steward7", PASSWORD).await;
    assert_eq!(sixth["statusCode"], 429);
    assert_eq!(sixth["body"], TOO_MANY);
    assert_eq!(fake.calls_of("GetItem").len(), reads);

    // Another user from another address is not affected.
    let other = gates
        .invoke(
            &testing::login_function(),
            testing::login_event_from(
                &json!({"username": "admin1", "password": "admin-pass"}).to_string(),
                "198.51.100.20",
            ),
        )
        .await;
    assert_eq!(other["statusCode"], 200);

    let reasons = audit_reasons(&fake);
    assert_eq!(reasons.len(), 7);
    assert_eq!(
        reasons[4],
        ("steward7".into(), false, "wrong password".into())
    );
    assert_eq!(
        reasons[5],
        ("steward7".into(), false, "too many failures".into())
    );
}

#[tokio::test]
async fn failures_are_counted_per_address_across_user_names() {
    let (_fake, gates) = world();
    for i in 1..=MAX_FAILURES {
        let result = login(&gates, &format!("spray{i}"), PASSWORD).await;
        let expected = if i < MAX_FAILURES { 401 } else { 429 };
        assert_eq!(result["statusCode"], expected, "user {i}");
    }
    // The address (203.0.113.10) is closed, even for a good password.
    assert_eq!(
        login(&gates, "admin1", "admin-pass").await["statusCode"],
        429
    );
}

#[tokio::test]
async fn a_success_forgets_the_user_names_failures() {
    let (_fake, gates) = world();
    let from = |ip: &str, password: &str| {
        testing::login_event_from(
            &json!({"username": "steward7", "password": password}).to_string(),
            ip,
        )
    };
    let function = testing::login_function();
    for i in 1..MAX_FAILURES {
        let ip = format!("192.0.2.{i}");
        assert_eq!(
            gates.invoke(&function, from(&ip, "bad")).await["statusCode"],
            401
        );
    }
    assert_eq!(
        gates.invoke(&function, from("192.0.2.50", PASSWORD)).await["statusCode"],
        200
    );
    // Four more failures from fresh addresses are again below the limit.
    for i in 1..MAX_FAILURES {
        let ip = format!("192.0.2.{}", 100 + i);
        assert_eq!(
            gates.invoke(&function, from(&ip, "bad")).await["statusCode"],
            401
        );
    }
}

#[tokio::test]
async fn malformed_requests_are_400_and_call_nothing() {
    let (fake, gates) = world();
    let function = testing::login_function();
    let with_body = |body: Value| {
        let mut event = testing::login_event("x", "y");
        event["body"] = body;
        event
    };
    let long_name = "u".repeat(129);
    let cases = [
        with_body(json!("not json")),
        with_body(json!("[]")),
        with_body(json!("{\"username\": 7, \"password\": \"p\"}")),
        with_body(json!("{\"username\": \"steward7\"}")),
        with_body(json!("{\"username\": \"\", \"password\": \"p\"}")),
        with_body(json!("{\"username\": \"steward7\", \"password\": \"\"}")),
        with_body(json!(format!(
            "{{\"username\": \"{long_name}\", \"password\": \"p\"}}"
        ))),
        with_body(Value::Null),
        {
            let mut event = with_body(json!("%%%"));
            event["isBase64Encoded"] = json!(true);
            event
        },
    ];
    for event in cases {
        let result = gates.invoke(&function, event.clone()).await;
        assert_eq!(result["statusCode"], 400, "{event}");
        let body = body(&result);
        assert_eq!(body["ok"], false);
        assert!(!body["message"].as_str().unwrap().is_empty());
        assert_eq!(result["headers"]["Content-Type"], "application/json");
    }
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn a_base64_body_is_read() {
    let (_fake, gates) = world();
    let mut event = testing::login_event("steward7", PASSWORD);
    let body = event["body"].as_str().unwrap().to_string();
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    event["isBase64Encoded"] = json!(true);
    let result = gates.invoke(&testing::login_function(), event).await;
    assert_eq!(result["statusCode"], 200, "{result}");
}

#[tokio::test]
async fn the_secret_of_jwt_secret_comes_before_jwt_secret_param() {
    let (fake, gates) = world();
    fake.set_parameter("/can2025/prod/jwt-secret-v2", "rotated");
    let mut function = testing::login_function();
    function
        .secrets
        .insert("JWT_SECRET".into(), "/can2025/prod/jwt-secret-v2".into());
    let result = gates
        .invoke(&function, testing::login_event("steward7", PASSWORD))
        .await;
    let token = body(&result)["token"].as_str().unwrap().to_string();
    assert!(verify_jwt(b"rotated", &token, crate::auth::now_secs()).is_ok());

    // Without JWT_SECRET, JWT_SECRET_PARAM names it.
    function.secrets.clear();
    let result = gates
        .invoke(&function, testing::login_event("steward7", PASSWORD))
        .await;
    let token = body(&result)["token"].as_str().unwrap().to_string();
    assert!(verify_jwt(b"s3cret", &token, crate::auth::now_secs()).is_ok());
}

#[tokio::test]
async fn without_an_audit_table_nothing_is_written() {
    let (fake, gates) = world();
    let mut function = testing::login_function();
    function.environment.remove("AUDIT_TABLE");
    let result = gates
        .invoke(&function, testing::login_event("steward7", PASSWORD))
        .await;
    assert_eq!(result["statusCode"], 200);
    assert!(fake.calls_of("PutItem").is_empty());
}

#[tokio::test]
async fn a_user_without_a_known_role_gets_no_token() {
    let (fake, gates) = world();
    fake.add_user("odd", "superuser", &cheap_hash(PASSWORD));
    let result = login(&gates, "odd", PASSWORD).await;
    assert_eq!(result["statusCode"], 401);
    assert_eq!(result["body"], INVALID);
    assert_eq!(
        audit_reasons(&fake),
        [("odd".into(), false, "no valid role".into())]
    );
}
