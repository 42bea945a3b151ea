//! `POST /matches` against the in-memory services of `testing.rs`.

use std::sync::Arc;

use m2sec_proto::AwsError;
use serde_json::{json, Value};

use super::Match;
use crate::testing::{self, logs_of, token, Fake, MATCHES_TABLE};
use crate::{Gates, Handler};

fn world() -> (Arc<Fake>, Gates) {
    let (fake, _) = Fake::gates();
    let gates = Gates::new(fake.clone());
    (fake, gates)
}

fn final_match() -> Value {
    json!({
        "match_id": "CAN2025-FINAL",
        "stadium": "Stade Prince Moulay Abdellah",
        "kickoff": "2026-01-18T20:00:00+01:00",
        "gates": ["N1", "N2", "S1", "VIP"],
        "sectors": {"North": ["N1", "N2"], "South": ["S1"], "Tribune": ["VIP", "N1"]},
        "reentry": false,
    })
}

fn event(body: Option<&str>, token: Option<&str>) -> Value {
    testing::request("POST", "/matches", Value::Null, body, token)
}

async fn create(gates: &Gates, body: &Value) -> Value {
    let event = event(Some(&body.to_string()), Some(&token("admin1", "admin")));
    gates
        .invoke(&testing::function(Handler::CreateMatch), event)
        .await
}

#[tokio::test]
async fn an_admin_creates_a_match() {
    let (fake, gates) = world();
    let result = create(&gates, &final_match()).await;
    assert_eq!(result["statusCode"], 201, "{result}");
    assert_eq!(result["body"], r#"{"ok":true,"match_id":"CAN2025-FINAL"}"#);

    let stored = fake.item(MATCHES_TABLE, "CAN2025-FINAL").unwrap();
    assert_eq!(stored["matchId"], json!({"S": "CAN2025-FINAL"}));
    assert_eq!(
        stored["stadium"],
        json!({"S": "Stade Prince Moulay Abdellah"})
    );
    assert_eq!(stored["kickoff"], json!({"S": "2026-01-18T20:00:00+01:00"}));
    assert_eq!(
        stored["gates"],
        json!({"L": [{"S": "N1"}, {"S": "N2"}, {"S": "S1"}, {"S": "VIP"}]})
    );
    assert_eq!(
        stored["sectors"],
        json!({"M": {
            "North": {"L": [{"S": "N1"}, {"S": "N2"}]},
            "South": {"L": [{"S": "S1"}]},
            "Tribune": {"L": [{"S": "VIP"}, {"S": "N1"}]},
        }})
    );
    assert_eq!(stored["reentry"], json!({"BOOL": false}));
    assert!(stored["createdAt"]["N"]
        .as_str()
        .unwrap()
        .parse::<u128>()
        .is_ok());
    let mut names: Vec<_> = stored.keys().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "createdAt",
            "gates",
            "kickoff",
            "matchId",
            "reentry",
            "sectors",
            "stadium"
        ]
    );

    let read = Match::from_item(&stored).unwrap();
    assert_eq!(read.sectors["Tribune"], ["VIP", "N1"]);
    assert!(!read.reentry);

    let audit = testing::audit_items(&fake);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["kind"], json!({"S": "match"}));
    assert_eq!(audit[0]["matchId"], json!({"S": "CAN2025-FINAL"}));
    assert_eq!(audit[0]["by"], json!({"S": "admin1"}));
}

#[tokio::test]
async fn a_second_match_of_the_same_id_is_a_conflict() {
    let (fake, gates) = world();
    assert_eq!(create(&gates, &final_match()).await["statusCode"], 201);
    let mut other = final_match();
    other["stadium"] = json!("Grand Stade de Tanger");
    other["reentry"] = json!(true);
    let result = create(&gates, &other).await;
    assert_eq!(result["statusCode"], 409);
    assert_eq!(
        result["body"],
        r#"{"ok":false,"message":"Match CAN2025-FINAL already exists"}"#
    );
    let stored = fake.item(MATCHES_TABLE, "CAN2025-FINAL").unwrap();
    assert_eq!(
        stored["stadium"],
        json!({"S": "Stade Prince Moulay Abdellah"})
    );
    assert_eq!(testing::audit_items(&fake).len(), 1);
}

#[tokio::test]
async fn only_admins_create_matches() {
    let body = final_match().to_string();
    testing::assert_only_for(Handler::CreateMatch, &["admin"], |token| {
        event(Some(&body), token)
    })
    .await;
}

#[tokio::test]
async fn bad_matches_are_400_saying_what_to_change() {
    let (fake, gates) = world();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = final_match();
        change(&mut body);
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            with(&|b| b["sectors"]["East"] = json!(["E1"])),
            "sectors.East names gate \"E1\", which is not in gates (N1, N2, S1, VIP)",
        ),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("match_id");
            }),
            "match_id is required",
        ),
        (
            with(&|b| b["match_id"] = json!(42)),
            "match_id must be a string",
        ),
        (
            with(&|b| b["stadium"] = json!("")),
            "stadium must not be empty",
        ),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("kickoff");
            }),
            "kickoff is required",
        ),
        (
            with(&|b| b["gates"] = json!("N1")),
            "gates must be a list of gate names",
        ),
        (
            with(&|b| b["gates"] = json!([])),
            "gates must name at least one gate",
        ),
        (
            with(&|b| b["gates"] = json!(["N1", 2])),
            "gates must be a list of gate names (strings)",
        ),
        (
            with(&|b| b["gates"] = json!(["N1", "N1"])),
            "gates lists gate \"N1\" twice",
        ),
        (
            with(&|b| b["gates"] = json!((0..33).map(|i| format!("G{i}")).collect::<Vec<_>>())),
            "gates names more than 32 gates",
        ),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("gates");
            }),
            "gates is required",
        ),
        (
            with(&|b| b["sectors"] = json!(["North"])),
            "sectors must be an object",
        ),
        (
            with(&|b| b["sectors"] = json!({})),
            "sectors must name at least one sector",
        ),
        (
            with(&|b| b["sectors"]["North"] = json!([])),
            "sectors.North must name at least one gate",
        ),
        (
            with(&|b| b["sectors"]["North"] = json!("N1")),
            "sectors.North must be a list of gate names",
        ),
        (
            with(&|b| b["sectors"][""] = json!(["N1"])),
            "a sector name must not be empty",
        ),
        (
            with(&|b| b["reentry"] = json!("no")),
            "reentry must be true or false",
        ),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("reentry");
            }),
            "reentry is required",
        ),
    ];
    for (body, message) in cases {
        let result = create(&gates, &body).await;
        assert_eq!(result["statusCode"], 400, "{body}");
        let answer = testing::body(&result);
        assert_eq!(answer["ok"], false);
        assert!(
            answer["message"].as_str().unwrap().starts_with(message),
            "{body}: {answer}"
        );
    }
    for raw in ["", "nope", "[1, 2]", "null"] {
        let event = event(Some(raw), Some(&token("admin1", "admin")));
        let result = gates
            .invoke(&testing::function(Handler::CreateMatch), event)
            .await;
        assert_eq!(result["statusCode"], 400, "{raw}");
    }
    assert!(fake.calls_of("PutItem").is_empty());
}

#[tokio::test]
async fn a_failed_write_is_an_internal_error_logged_with_its_code() {
    let (fake, gates) = world();
    fake.fail_on_table(
        "dynamodb",
        "PutItem",
        MATCHES_TABLE,
        AwsError::new(
            "ResourceNotFoundException",
            400,
            "Requested resource not found",
        ),
    );
    let (result, logs) = logs_of(create(&gates, &final_match())).await;
    assert_eq!(result["statusCode"], 500);
    assert_eq!(result["body"], r#"{"ok":false,"message":"Internal error"}"#);
    assert!(logs.contains("ResourceNotFoundException"), "{logs}");
    assert!(testing::audit_items(&fake).is_empty());
}
