//! `POST /users` against the in-memory services of `testing.rs`.

use std::sync::Arc;

use m2sec_proto::AwsError;
use serde_json::{json, Value};

use crate::testing::{self, body, logs_of, token, Fake, AUDIT_TABLE, USERS_TABLE};
use crate::{verify_password, Gates, Handler, PasswordCheck};

const PASSWORD: &str = "gate-7-pass phrase";

fn world() -> (Arc<Fake>, Gates) {
    let (fake, _) = Fake::gates();
    let gates = Gates::new(fake.clone());
    (fake, gates)
}

fn create_event(body: Option<&str>, token: Option<&str>) -> Value {
    testing::request("POST", "/users", Value::Null, body, token)
}

async fn create(gates: &Gates, body: &Value) -> Value {
    let event = create_event(Some(&body.to_string()), Some(&token("admin1", "admin")));
    gates
        .invoke(&testing::function(Handler::CreateUser), event)
        .await
}

#[tokio::test]
async fn an_admin_creates_a_user_who_can_then_log_in() {
    let (fake, gates) = world();
    let result = create(
        &gates,
        &json!({"username": "gate7", "password": PASSWORD, "role": "steward"}),
    )
    .await;
    assert_eq!(result["statusCode"], 201, "{result}");
    assert_eq!(result["headers"]["Content-Type"], "application/json");
    assert_eq!(
        result["body"],
        r#"{"ok":true,"username":"gate7","role":"steward"}"#
    );

    let user = fake.user("gate7").unwrap();
    assert_eq!(user["role"], json!({"S": "steward"}));
    assert_eq!(user["createdBy"], json!({"S": "admin1"}));
    let created_at: u128 = user["createdAt"]["N"].as_str().unwrap().parse().unwrap();
    assert!(created_at.abs_diff(crate::now_millis()) < 60_000);
    let hash = user["passwordHash"]["S"].as_str().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert_eq!(verify_password(PASSWORD, hash), PasswordCheck::Valid);

    let put = &fake
        .calls_of("PutItem")
        .into_iter()
        .find(|c| c.input["TableName"] == USERS_TABLE)
        .unwrap();
    assert_eq!(
        put.input["ConditionExpression"],
        "attribute_not_exists(userId)"
    );
    assert!(put.input.get("ExpressionAttributeValues").is_none());

    let audit = testing::audit_items(&fake);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["kind"], json!({"S": "user"}));
    assert_eq!(audit[0]["by"], json!({"S": "admin1"}));
    assert_eq!(audit[0]["username"], json!({"S": "gate7"}));
    assert_eq!(audit[0]["role"], json!({"S": "steward"}));
    assert_eq!(audit[0]["auditId"]["S"].as_str().unwrap().len(), 36);
    for call in fake.calls() {
        let input = call.input.to_string();
        assert!(!input.contains(PASSWORD), "{input}");
    }

    let login = gates
        .invoke(
            &testing::login_function(),
            testing::login_event("gate7", PASSWORD),
        )
        .await;
    assert_eq!(login["statusCode"], 200, "{login}");
    assert_eq!(fake.items(AUDIT_TABLE).len(), 2);
}

#[tokio::test]
async fn an_existing_user_is_a_conflict_and_stays_as_it_was() {
    let (fake, gates) = world();
    fake.add_user("steward7", "steward", "$argon2id$existing");
    let result = create(
        &gates,
        &json!({"username": "steward7", "password": PASSWORD, "role": "admin"}),
    )
    .await;
    assert_eq!(result["statusCode"], 409, "{result}");
    assert_eq!(
        result["body"],
        r#"{"ok":false,"message":"User steward7 already exists"}"#
    );
    let user = fake.user("steward7").unwrap();
    assert_eq!(user["role"], json!({"S": "steward"}));
    assert_eq!(user["passwordHash"], json!({"S": "$argon2id$existing"}));
    assert!(testing::audit_items(&fake).is_empty());
}

#[tokio::test]
async fn only_admins_create_users() {
    testing::assert_only_for(Handler::CreateUser, &["admin"], |token| {
        create_event(
            Some(r#"{"username": "x", "password": "y", "role": "steward"}"#),
            token,
        )
    })
    .await;
}

#[tokio::test]
async fn bad_bodies_are_400_saying_what_to_change() {
    let (fake, gates) = world();
    let long = "u".repeat(129);
    let cases: [(Option<String>, &str); 12] = [
        (None, "A body is required"),
        (Some("{".into()), "The body is not valid JSON"),
        (Some("[]".into()), "The body must be a JSON object"),
        (
            Some(r#"{"password": "p", "role": "admin"}"#.into()),
            "username is required",
        ),
        (
            Some(r#"{"username": 7, "password": "p", "role": "admin"}"#.into()),
            "username must be a string",
        ),
        (
            Some(r#"{"username": "", "password": "p", "role": "admin"}"#.into()),
            "username must not be empty",
        ),
        (
            Some(format!(
                r#"{{"username": "{long}", "password": "p", "role": "admin"}}"#
            )),
            "username is longer than 128 characters",
        ),
        (
            Some(r#"{"username": "a\nb", "password": "p", "role": "admin"}"#.into()),
            "username must not contain control characters",
        ),
        (
            Some(r#"{"username": "a", "role": "admin"}"#.into()),
            "password is required",
        ),
        (
            Some(format!(
                r#"{{"username": "a", "password": "{}", "role": "admin"}}"#,
                "p".repeat(1025)
            )),
            "password is longer than 1024 bytes",
        ),
        (
            Some(r#"{"username": "a", "password": "p", "role": "root"}"#.into()),
            "role must be one of admin, steward, auditor, not \"root\"",
        ),
        (
            Some(r#"{"username": "a", "password": "p"}"#.into()),
            "role is required",
        ),
    ];
    for (body, message) in cases {
        let event = create_event(body.as_deref(), Some(&token("admin1", "admin")));
        let result = gates
            .invoke(&testing::function(Handler::CreateUser), event)
            .await;
        assert_eq!(result["statusCode"], 400, "{body:?}");
        let answer = testing::body(&result);
        assert_eq!(answer["ok"], false);
        let text = answer["message"].as_str().unwrap();
        assert!(text.starts_with(message), "{body:?}: {text}");
    }
    assert!(fake.calls_of("PutItem").is_empty());
}

#[tokio::test]
async fn a_failed_write_is_an_internal_error_logged_with_its_code() {
    let (fake, gates) = world();
    fake.fail_on_table(
        "dynamodb",
        "PutItem",
        USERS_TABLE,
        AwsError::new(
            "AccessDeniedException",
            400,
            "not allowed: dynamodb:PutItem",
        ),
    );
    let (result, logs) = logs_of(create(
        &gates,
        &json!({"username": "gate8", "password": PASSWORD, "role": "auditor"}),
    ))
    .await;
    assert_eq!(result["statusCode"], 500);
    assert_eq!(result["body"], r#"{"ok":false,"message":"Internal error"}"#);
    assert!(logs.contains("AccessDeniedException"), "{logs}");
    assert!(logs.contains("CreateUser"), "{logs}");
    assert!(!logs.contains(PASSWORD), "{logs}");
    assert!(testing::audit_items(&fake).is_empty());

    // Without a users table configured: 500 too, and nothing is written.
    let mut function = testing::function(Handler::CreateUser);
    function.environment.remove("USERS_TABLE");
    let event = create_event(
        Some(r#"{"username": "a", "password": "p", "role": "admin"}"#),
        Some(&token("admin1", "admin")),
    );
    let (result, logs) = logs_of(gates.invoke(&function, event)).await;
    assert_eq!(result["statusCode"], 500);
    assert!(logs.contains("USERS_TABLE is not set"), "{logs}");
    assert_eq!(body(&result)["message"], "Internal error");
}
