//! `POST /tickets` and the status routes against the in-memory services of `testing.rs`; the QR
//! routes in `tests/qr.rs`, the CSV route in `bulk/tests.rs`.

mod qr;
mod status;

use std::sync::Arc;

use m2sec_proto::AwsError;
use serde_json::{json, Map, Value};

use crate::code::{self, TicketClaims};
use crate::matches::Match;
use crate::role::AsRole;
use crate::testing::{self, body, logs_of, token, Fake, MATCHES_TABLE, TICKETS_TABLE};
use crate::{Gates, Handler};

/// 2026-01-18T20:00:00+01:00.
const KICKOFF: i64 = 1_768_762_800;

pub(super) struct World {
    pub fake: Arc<Fake>,
    pub gates: Gates,
    pub key: String,
}

/// The service with two matches: the final (North: N1, N2; South: S1) and a semi-final whose
/// kickoff is no RFC 3339 time.
pub(super) fn world() -> World {
    let (fake, key) = Fake::gates();
    for (match_id, kickoff) in [
        ("CAN2025-FINAL", "2026-01-18T20:00:00+01:00"),
        ("CAN2025-SF1", "14 January, 18:00"),
    ] {
        let the_match = Match {
            match_id: match_id.into(),
            stadium: "Stade Prince Moulay Abdellah".into(),
            kickoff: kickoff.into(),
            gates: vec!["N1".into(), "N2".into(), "S1".into()],
            sectors: [
                (
                    "North".to_string(),
                    vec!["N1".to_string(), "N2".to_string()],
                ),
                ("South".to_string(), vec!["S1".to_string()]),
            ]
            .into(),
            reentry: false,
        };
        fake.put(MATCHES_TABLE, Value::Object(the_match.to_item()));
    }
    let gates = Gates::new(fake.clone());
    World { fake, gates, key }
}

impl World {
    /// `POST /tickets` with `body` by an admin.
    pub async fn issue(&self, body: &Value) -> Value {
        let event = issue_event(Some(&body.to_string()), Some(&token("admin1", "admin")));
        self.gates
            .invoke(&testing::function(Handler::IssueTicket), event)
            .await
    }

    /// Issues a ticket of the final's North sector; answers its id and code.
    pub async fn issued(&self, fan_id: Option<&str>) -> (String, String) {
        let mut request = json!({"match_id": "CAN2025-FINAL", "sector": "North", "seat": "N-12-7"});
        if let Some(fan_id) = fan_id {
            request["fan_id"] = json!(fan_id);
        }
        let result = self.issue(&request).await;
        assert_eq!(result["statusCode"], 201, "{result}");
        let answer = body(&result);
        (
            answer["ticket_id"].as_str().unwrap().into(),
            answer["code"].as_str().unwrap().into(),
        )
    }

    /// What the verify function makes of `code`.
    pub async fn check(&self, code: &str) -> Result<TicketClaims, code::CodeError> {
        let function = testing::function(Handler::VerifyTicket);
        let as_role = AsRole::new(self.gates.services.as_ref(), &function);
        code::check(&self.gates, &as_role, &function, code).await
    }

    pub fn ticket(&self, ticket_id: &str) -> Map<String, Value> {
        self.fake.item(TICKETS_TABLE, ticket_id).unwrap()
    }
}

pub(super) fn issue_event(body: Option<&str>, token: Option<&str>) -> Value {
    testing::request("POST", "/tickets", Value::Null, body, token)
}

/// Asserts that no call input outside KMS (DynamoDB items, audit items included) holds any of
/// `secrets`, or anything that starts as a JWT (`{"alg":`) or a code's payload (`{"t":`) does.
pub(super) fn assert_nowhere(fake: &Fake, secrets: &[&str]) {
    for call in fake.calls() {
        if call.service == "kms" {
            continue; // A code is what KMS signs and verifies.
        }
        let input = call.input.to_string();
        for secret in secrets.iter().chain(&["eyJhbGci", "eyJ0Ijoi"]) {
            assert!(!input.contains(secret), "{secret} in {input}");
        }
    }
}

fn is_ticket_id(id: &str) -> bool {
    id.len() == 13 && id.starts_with('T') && id[1..].chars().all(|c| c.is_ascii_alphanumeric())
}

#[tokio::test]
async fn an_admin_issues_a_ticket_with_the_sectors_gates_and_default_times() {
    let w = world();
    let result = w
        .issue(
            &json!({"match_id": "CAN2025-FINAL", "sector": "North", "seat": "N-12-7",
            "fan_id": "MA-ID-AB123456"}),
        )
        .await;
    assert_eq!(result["statusCode"], 201, "{result}");
    assert_eq!(result["headers"]["Cache-Control"], "no-store");
    let answer = body(&result);
    assert_eq!(answer["ok"], true);
    let ticket_id = answer["ticket_id"].as_str().unwrap();
    let code = answer["code"].as_str().unwrap();
    assert!(is_ticket_id(ticket_id), "{ticket_id}");
    assert!(
        result["body"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"ok":true,"ticket_id":"#),
        "{result}"
    );

    let claims = w.check(code).await.unwrap();
    let fan_hash = code::fan_hash(ticket_id, "MA-ID-AB123456");
    assert_eq!(
        claims,
        TicketClaims {
            ticket_id: ticket_id.into(),
            match_id: "CAN2025-FINAL".into(),
            sector: "North".into(),
            gates: vec!["N1".into(), "N2".into()],
            valid_from: KICKOFF - 4 * 3600,
            valid_until: KICKOFF + 6 * 3600,
            fan_hash: Some(fan_hash.clone()),
            key_id: w.key.clone(),
        }
    );

    let mut stored = w.ticket(ticket_id);
    let issued_at: u128 = stored.remove("issuedAt").unwrap()["N"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(issued_at.abs_diff(crate::now_millis()) < 60_000);
    assert_eq!(
        Value::Object(stored),
        json!({
            "ticketId": {"S": ticket_id},
            "matchId": {"S": "CAN2025-FINAL"},
            "sector": {"S": "North"},
            "seat": {"S": "N-12-7"},
            "gates": {"L": [{"S": "N1"}, {"S": "N2"}]},
            "validFrom": {"N": (KICKOFF - 4 * 3600).to_string()},
            "validUntil": {"N": (KICKOFF + 6 * 3600).to_string()},
            "fanHash": {"S": fan_hash},
            "status": {"S": "active"},
            "state": {"S": "ABSENT"},
            "entries": {"N": "0"},
            "keyId": {"S": w.key},
        })
    );

    let audit = testing::audit_items(&w.fake);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["kind"], json!({"S": "ticket"}));
    assert_eq!(audit[0]["action"], json!({"S": "issue"}));
    assert_eq!(audit[0]["ticketId"], json!({"S": ticket_id}));
    assert_eq!(audit[0]["by"], json!({"S": "admin1"}));
    assert_nowhere(&w.fake, &["MA-ID-AB123456", code]);
}

#[tokio::test]
async fn times_are_epoch_seconds_or_rfc3339_and_a_fan_is_optional() {
    let w = world();
    for (from, until, expected) in [
        (
            json!(1_768_700_000),
            json!(1_768_800_000),
            (1_768_700_000, 1_768_800_000),
        ),
        (
            json!("2026-01-18T15:00:00Z"),
            json!("2026-01-19T02:00:00+01:00"),
            (1_768_748_400, KICKOFF + 6 * 3600),
        ),
        (
            json!("1768700000"),
            Value::Null,
            (1_768_700_000, KICKOFF + 6 * 3600),
        ),
    ] {
        let result = w
            .issue(
                &json!({"match_id": "CAN2025-FINAL", "sector": "South", "seat": "S-1-1",
                "valid_from": from, "valid_until": until}),
            )
            .await;
        assert_eq!(result["statusCode"], 201, "{result}");
        let claims = w
            .check(body(&result)["code"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!((claims.valid_from, claims.valid_until), expected);
        assert_eq!(claims.gates, ["S1"]);
        assert_eq!(claims.fan_hash, None);
        assert!(!w.ticket(&claims.ticket_id).contains_key("fanHash"));
    }
    // A kickoff that is no RFC 3339 time needs both times given.
    let both = json!({"match_id": "CAN2025-SF1", "sector": "North", "seat": "1",
        "valid_from": 1_768_400_000, "valid_until": 1_768_430_000});
    assert_eq!(w.issue(&both).await["statusCode"], 201);
}

#[tokio::test]
async fn ticket_ids_differ() {
    let w = world();
    let (a, _) = w.issued(None).await;
    let (b, _) = w.issued(None).await;
    assert_ne!(a, b);
    let ids: std::collections::HashSet<String> =
        (0..2_000).map(|_| super::new_ticket_id()).collect();
    assert_eq!(ids.len(), 2_000);
    assert!(ids.iter().all(|id| is_ticket_id(id)));
}

#[tokio::test]
async fn an_unknown_match_is_404_and_an_unknown_sector_400() {
    let w = world();
    let result = w
        .issue(&json!({"match_id": "CAN2025-NOPE", "sector": "North", "seat": "1"}))
        .await;
    assert_eq!(result["statusCode"], 404);
    assert_eq!(
        result["body"],
        r#"{"ok":false,"message":"Match CAN2025-NOPE does not exist"}"#
    );
    let result = w
        .issue(&json!({"match_id": "CAN2025-FINAL", "sector": "East", "seat": "1"}))
        .await;
    assert_eq!(result["statusCode"], 400);
    assert_eq!(
        body(&result)["message"],
        "Sector East is not a sector of match CAN2025-FINAL (its sectors: North, South)"
    );
    assert!(w.fake.calls_of("Sign").is_empty());
    assert!(w.fake.items(TICKETS_TABLE).is_empty());
}

#[tokio::test]
async fn bad_requests_are_400_saying_what_to_change() {
    let w = world();
    let base = json!({"match_id": "CAN2025-FINAL", "sector": "North", "seat": "N-1-1"});
    let with = |member: &str, value: Value| {
        let mut body = base.clone();
        body[member] = value;
        body
    };
    let cases = [
        (with("match_id", Value::Null), "match_id is required"),
        (with("sector", json!(["North"])), "sector must be a string"),
        (with("seat", json!("")), "seat must not be empty"),
        (with("fan_id", json!(12345)), "fan_id must be a string"),
        (with("fan_id", json!("x".repeat(257))), "fan_id is longer than 256 characters"),
        (with("valid_from", json!(true)), "valid_from must be epoch seconds or an RFC 3339 time"),
        (with("valid_from", json!(1.5)), "valid_from must be whole epoch seconds"),
        (with("valid_from", json!(-1)), "valid_from must not be before 1970"),
        (with("valid_until", json!(1_768_800_000_000_i64)), "valid_until is too large for epoch seconds (milliseconds? give seconds)"),
        (with("valid_until", json!("tomorrow")), "valid_until must be epoch seconds or an RFC 3339 time"),
        (with("valid_until", json!(1_768_700_000)), "valid_from (1768748400) must be before valid_until (1768700000)"),
        (
            json!({"match_id": "CAN2025-SF1", "sector": "North", "seat": "1"}),
            "The kickoff of match CAN2025-SF1 (\"14 January, 18:00\") is not an RFC 3339 time: give valid_from and valid_until",
        ),
    ];
    for (request, message) in cases {
        let result = w.issue(&request).await;
        assert_eq!(result["statusCode"], 400, "{request}");
        let text = body(&result)["message"].as_str().unwrap().to_string();
        assert!(text.starts_with(message), "{request}: {text}");
    }
    for raw in [
        None,
        Some("{"),
        Some("\"a string\""),
        Some(&"x".repeat(70_000)[..]),
    ] {
        let event = issue_event(raw, Some(&token("admin1", "admin")));
        let result = w
            .gates
            .invoke(&testing::function(Handler::IssueTicket), event)
            .await;
        assert_eq!(result["statusCode"], 400, "{raw:?}");
        assert_eq!(body(&result)["ok"], false);
    }
    assert!(w.fake.calls_of("Sign").is_empty());
    assert!(w.fake.calls_of("PutItem").is_empty());
}

#[tokio::test]
async fn only_admins_issue_tickets() {
    let request = r#"{"match_id": "CAN2025-FINAL", "sector": "North", "seat": "1"}"#;
    testing::assert_only_for(Handler::IssueTicket, &["admin"], |token| {
        issue_event(Some(request), token)
    })
    .await;
}

#[tokio::test]
async fn a_kms_failure_is_500_and_leaves_no_ticket() {
    let w = world();
    w.fake.fail(
        "kms",
        "Sign",
        AwsError::new("KMSInvalidStateException", 400, "key pending deletion"),
    );
    let (result, logs) = logs_of(w.issued_result()).await;
    assert_eq!(result["statusCode"], 500);
    assert_eq!(result["body"], r#"{"ok":false,"message":"Internal error"}"#);
    assert!(logs.contains("KMSInvalidStateException"), "{logs}");
    assert!(logs.contains("IssueTicket"), "{logs}");
    assert!(w.fake.items(TICKETS_TABLE).is_empty());
    assert!(testing::audit_items(&w.fake).is_empty());
}

#[tokio::test]
async fn a_dynamodb_failure_is_500() {
    for (operation, table) in [("GetItem", MATCHES_TABLE), ("PutItem", TICKETS_TABLE)] {
        let w = world();
        w.fake.fail_on_table(
            "dynamodb",
            operation,
            table,
            AwsError::new("ProvisionedThroughputExceededException", 400, "slow down"),
        );
        let (result, logs) = logs_of(w.issued_result()).await;
        assert_eq!(result["statusCode"], 500, "{operation}");
        assert!(
            logs.contains("ProvisionedThroughputExceededException"),
            "{logs}"
        );
        assert!(w.fake.items(TICKETS_TABLE).is_empty());
    }
    // A match item that is not a match.
    let w = world();
    w.fake.put(
        MATCHES_TABLE,
        json!({"matchId": {"S": "CAN2025-FINAL"}, "sectors": {"S": "?"}}),
    );
    assert_eq!(w.issued_result().await["statusCode"], 500);
}

impl World {
    async fn issued_result(&self) -> Value {
        self.issue(&json!({"match_id": "CAN2025-FINAL", "sector": "North", "seat": "1"}))
            .await
    }
}
