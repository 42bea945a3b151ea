//! Scans at gates against the in-memory services of `testing.rs`: tickets written into the fake
//! tables, their codes signed with the fake's KMS key and checked against its `GetPublicKey`.

mod annul;
mod failures;
mod requests;

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use m2sec_proto::Caller;
use serde_json::{json, Value};

use crate::testing::{self, Fake, AUDIT_TABLE, ROLE_ARN};
use crate::{now_secs, sign_jwt, Function, Gates, Handler};

pub(crate) const TICKETS_TABLE: &str = "can2025-secure-gates-tickets-prod";
pub(crate) const SCANS_TABLE: &str = "can2025-secure-gates-scans-prod";
pub(crate) const MATCHES_TABLE: &str = "can2025-secure-gates-matches-prod";
pub(crate) const TICKETS_KEY: &str = "alias/can2025-tickets";

/// The services, the handlers, and the ARN of the tickets' key.
pub(crate) struct World {
    pub fake: Arc<Fake>,
    pub gates: Gates,
    pub key_arn: String,
}

/// A handler's answer: its status, its body as JSON and as sent.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u64,
    pub body: Value,
    pub raw: String,
}

/// Match M1 (gates A, B, C; no re-entry) and M2 (gates A, B; re-entry), the tables and the key.
pub(crate) fn world() -> World {
    let fake = Fake::new();
    fake.create_table(TICKETS_TABLE, "ticketId");
    fake.create_table(SCANS_TABLE, "scanId");
    fake.create_table(MATCHES_TABLE, "matchId");
    let key_arn = fake.create_key("6f1c0d2e-0b5a-4c57-9a63-5f3c1e2d4b71", Some(TICKETS_KEY));
    for (id, gates, reentry) in [
        ("M1", vec!["A", "B", "C"], false),
        ("M2", vec!["A", "B"], true),
    ] {
        fake.put(
            MATCHES_TABLE,
            json!({
                "matchId": {"S": id}, "stadium": {"S": "Stade Mohammed V"},
                "kickoff": {"S": "2025-12-21T20:00:00+01:00"},
                "gates": {"L": gates.iter().map(|g| json!({"S": g})).collect::<Vec<_>>()},
                "sectors": {"M": {"North": {"L": gates.iter().map(|g| json!({"S": g})).collect::<Vec<_>>()}}},
                "reentry": {"BOOL": reentry}, "createdAt": {"N": "1766000000000"},
            }),
        );
    }
    World {
        gates: Gates::new(fake.clone()),
        fake,
        key_arn,
    }
}

/// The function of `handler`, with the environment the Serverless file gives every function.
pub(crate) fn function(handler: Handler) -> Function {
    let mut function = testing::login_function();
    let name = handler.path().rsplit('/').next().unwrap().replace('.', "-");
    function.name = format!("can2025-secure-gates-prod-{name}");
    function.handler = handler.path().into();
    for (variable, value) in [
        ("TICKETS_TABLE", TICKETS_TABLE),
        ("SCANS_TABLE", SCANS_TABLE),
        ("MATCHES_TABLE", MATCHES_TABLE),
        ("TICKETS_KEY", TICKETS_KEY),
    ] {
        function.environment.insert(variable.into(), value.into());
    }
    function
}

pub(crate) fn token(sub: &str, role: &str) -> String {
    sign_jwt(b"s3cret", sub, role, now_secs())
}

pub(crate) fn steward() -> String {
    token("steward7", "steward")
}

/// The body of a scan of `code` at gate A of `match_id` by device `dev-1`, entering now.
pub(crate) fn scan(code: &str, match_id: &str, nonce: &str) -> Value {
    json!({
        "code": code, "match_id": match_id, "gate": "A", "device": "dev-1",
        "direction": "entry", "scanned_at": now_secs(), "nonce": nonce,
    })
}

impl World {
    /// Writes ticket `id` of `match_id` (sector North, gates A and B, valid an hour either side of
    /// now, bound to `fan_id` if given); its code.
    pub(crate) fn issue(&self, id: &str, match_id: &str, fan_id: Option<&str>) -> String {
        let (from, until) = (now_secs() - 3600, now_secs() + 3600);
        let fan_hash = fan_id.map(|f| crate::code::fan_hash(id, f));
        let mut item = json!({
            "ticketId": {"S": id}, "matchId": {"S": match_id}, "sector": {"S": "North"},
            "seat": {"S": "N-12-7"}, "gates": {"L": [{"S": "A"}, {"S": "B"}]},
            "validFrom": {"N": from.to_string()}, "validUntil": {"N": until.to_string()},
            "status": {"S": "active"}, "state": {"S": "ABSENT"}, "entries": {"N": "0"},
            "keyId": {"S": self.key_arn}, "issuedAt": {"N": "1766000000000"},
        });
        let mut payload = json!({"t": id, "m": match_id, "s": "North", "g": ["A", "B"],
            "f": from, "u": until, "k": self.key_arn});
        if let Some(hash) = fan_hash {
            item["fanHash"] = json!({"S": hash});
            payload["h"] = json!(hash);
        }
        self.fake.put(TICKETS_TABLE, item);
        self.code(&payload, &self.key_arn)
    }

    /// A code for ticket `id` as it is stored.
    pub(crate) fn issue_code_again(&self, id: &str) -> String {
        let t = self.ticket(id);
        let n = |name: &str| t[name]["N"].as_str().unwrap().parse::<i64>().unwrap();
        let payload = json!({"t": id, "m": t["matchId"]["S"], "s": t["sector"]["S"], "g": ["A", "B"],
            "f": n("validFrom"), "u": n("validUntil"), "k": self.key_arn});
        self.code(&payload, &self.key_arn)
    }

    /// The code of `payload`, signed with `key`.
    pub(crate) fn code(&self, payload: &Value, key: &str) -> String {
        let signed = format!("M2T1.{}", URL_SAFE_NO_PAD.encode(payload.to_string()));
        let signature = self.fake.sign(key, signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    pub(crate) fn ticket(&self, id: &str) -> Value {
        Value::Object(self.fake.item(TICKETS_TABLE, id).unwrap())
    }

    /// Sets attribute `name` of ticket `id` to `value`.
    pub(crate) fn set(&self, id: &str, name: &str, value: Value) {
        let mut ticket = self.ticket(id);
        ticket[name] = value;
        self.fake.put(TICKETS_TABLE, ticket);
    }

    pub(crate) async fn invoke(&self, handler: Handler, token: Option<&str>, body: &str) -> Reply {
        let mut event = testing::login_event_from(body, "203.0.113.10");
        if let Some(token) = token {
            event["headers"]["Authorization"] = json!(format!("Bearer {token}"));
        }
        let result = self.gates.invoke(&function(handler), event).await;
        let raw = result["body"].as_str().unwrap().to_string();
        Reply {
            status: result["statusCode"].as_u64().unwrap(),
            body: serde_json::from_str(&raw).unwrap(),
            raw,
        }
    }

    pub(crate) async fn verify(&self, token: &str, body: &Value) -> Reply {
        self.invoke(Handler::VerifyTicket, Some(token), &body.to_string())
            .await
    }

    /// The updates of the tickets table: UpdateItem calls, and the updates of transactions.
    pub(crate) fn ticket_writes(&self) -> usize {
        self.writes()
            .iter()
            .filter(|(kind, table)| kind == "Update" && table == TICKETS_TABLE)
            .count()
    }

    /// Every write asked for, in order, as (`Put` or `Update`, table): those of PutItem and
    /// UpdateItem calls, and those of transactions, whether they were carried out or not.
    pub(crate) fn writes(&self) -> Vec<(String, String)> {
        let table = |input: &Value| input["TableName"].as_str().unwrap().to_string();
        let mut writes = Vec::new();
        for call in self.fake.calls() {
            match call.operation.as_str() {
                "PutItem" => writes.push(("Put".into(), table(&call.input))),
                "UpdateItem" => writes.push(("Update".into(), table(&call.input))),
                "TransactWriteItems" => {
                    for item in call.input["TransactItems"].as_array().unwrap() {
                        let (kind, op) = item.as_object().unwrap().iter().next().unwrap();
                        writes.push((kind.clone(), table(op)));
                    }
                }
                _ => {}
            }
        }
        writes
    }
}

#[tokio::test]
async fn an_entry_is_let_in_recorded_and_audited() {
    let w = world();
    let code = w.issue("T1", "M1", Some("fan-1"));
    let mut body = scan(&code, "M1", "n-1");
    body["fan_id"] = json!("fan-1");
    let reply = w.verify(&steward(), &body).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.raw, r#"{"ok":true,"result":"ok","ticket_id":"T1"}"#);

    let ticket = w.ticket("T1");
    assert_eq!(ticket["state"], json!({"S": "PRESENT"}));
    assert_eq!(ticket["entries"], json!({"N": "1"}));
    let last = &ticket["lastScan"]["M"];
    for (name, value) in [
        ("gate", "A"),
        ("device", "dev-1"),
        ("nonce", "n-1"),
        ("by", "steward7"),
        ("direction", "entry"),
    ] {
        assert_eq!(last[name], json!({"S": value}), "{name}");
    }
    assert_eq!(ticket["firstScan"]["M"]["gate"], json!({"S": "A"}));
    assert_eq!(ticket["firstScan"]["M"]["at"], last["at"]);

    let stored = w.fake.item(SCANS_TABLE, "dev-1#n-1").unwrap();
    assert_eq!(stored["answer"]["S"], reply.raw);
    assert_eq!(stored["by"], json!({"S": "steward7"}));
    assert_eq!(stored["ticketId"], json!({"S": "T1"}));
    assert_eq!(stored["result"], json!({"S": "ok"}));
    assert_eq!(stored["matchId"], json!({"S": "M1"}));
    let at: i64 = stored["at"]["N"].as_str().unwrap().parse().unwrap();
    assert_eq!(stored["at"], last["at"]);
    assert_eq!(
        stored["expiresAt"]["N"],
        (at / 1000 + 2 * 86_400).to_string()
    );

    let audit = w.fake.items(AUDIT_TABLE);
    assert_eq!(audit.len(), 1);
    let record = &audit[0];
    for (name, value) in [
        ("kind", "verify"),
        ("by", "steward7"),
        ("ticketId", "T1"),
        ("matchId", "M1"),
        ("gate", "A"),
        ("device", "dev-1"),
        ("direction", "entry"),
        ("result", "ok"),
        ("nonce", "n-1"),
    ] {
        assert_eq!(record[name], json!({"S": value}), "{name}");
    }
    assert_eq!(record["at"], last["at"]);
    assert!(record["latencyMicros"]["N"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .is_ok());

    // Everything as the function's role; the code was checked against the key's public key; no
    // fan id or code in clear.
    let calls = w.fake.calls();
    assert!(calls.iter().any(|c| c.service == "kms"
        && c.operation == "GetPublicKey"
        && c.input["KeyId"] == w.key_arn));
    for call in &calls {
        assert!(
            matches!(&call.caller, Caller::Role { role_arn, session_name, .. }
            if role_arn == ROLE_ARN && session_name == "can2025-secure-gates-prod-verifyTicket-handler")
        );
        if call.service == "dynamodb" {
            let input = call.input.to_string();
            assert!(
                !input.contains("fan-1") && !input.contains(&code),
                "{input}"
            );
        }
    }
    // Two calls on the tables: the scans item and the ticket read together, then the ticket, the
    // scans item and the audit item written together, before the answer.
    let table_calls: Vec<_> = calls
        .iter()
        .filter(|c| c.service == "dynamodb")
        .map(|c| c.operation.as_str())
        .collect();
    assert_eq!(
        table_calls,
        ["TransactGetItems", "GetItem", "TransactWriteItems"],
        "the GetItem is the match's, cached afterwards"
    );
    let writes = w.writes();
    let expected = [
        ("Update", TICKETS_TABLE),
        ("Put", SCANS_TABLE),
        ("Put", AUDIT_TABLE),
    ]
    .map(|(k, t)| (k.to_string(), t.to_string()));
    assert_eq!(writes, expected);
}

#[tokio::test]
async fn the_reasons_come_in_order() {
    let w = world();
    let steward = steward();
    let mut nonce = 0;
    let mut check = |body: Value| {
        nonce += 1;
        let mut body = body;
        body["nonce"] = json!(format!("n-{nonce}"));
        let w = &w;
        let steward = steward.clone();
        async move { w.verify(&steward, &body).await }
    };
    // Not a code, or a code not signed by the tickets' key.
    for bad in ["hello", "M2T1.e30", "M2T1.!!.??", "M2T9.e30.AAAA"] {
        let reply = check(scan(bad, "M1", "")).await;
        assert_eq!(reply.raw, r#"{"ok":false,"result":"invalid"}"#, "{bad}");
    }
    let good = w.issue("T1", "M1", Some("fan-1"));
    let other_key = w
        .fake
        .create_key("0d9e8f7a-1111-4222-8333-944455556666", None);
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(good.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    let mut forged = payload.clone();
    forged["k"] = json!(other_key);
    let mut tampered = payload.clone();
    tampered["g"] = json!(["A", "B", "C"]);
    let tampered = format!(
        "M2T1.{}.{}",
        URL_SAFE_NO_PAD.encode(tampered.to_string()),
        good.rsplit('.').next().unwrap()
    );
    let mut unknown = payload.clone();
    unknown["t"] = json!("T404");
    for bad in [
        w.code(&forged, &other_key),
        w.code(&payload, &other_key),
        tampered,
        w.code(&unknown, &w.key_arn),
    ] {
        let reply = check(scan(&bad, "M1", "")).await;
        assert_eq!(reply.raw, r#"{"ok":false,"result":"invalid"}"#);
    }
    assert!(
        !w.fake.calls_of("GetPublicKey").is_empty(),
        "the signatures were checked against the key"
    );

    // A ticket wrong in every way, put right one reason at a time.
    w.set("T1", "status", json!({"S": "revoked"}));
    w.set("T1", "state", json!({"S": "PRESENT"}));
    w.set("T1", "entries", json!({"N": "1"}));
    w.set(
        "T1",
        "firstScan",
        json!({"M": {"at": {"N": "1766340000000"}, "gate": {"S": "B"}, "device": {"S": "dev-9"}}}),
    );
    let mut body = scan(&good, "M9", "");
    body["scanned_at"] = json!(now_secs() + 7200);
    body["gate"] = json!("C");
    body["fan_id"] = json!("fan-2");
    let expect = |result: &str| format!(r#"{{"ok":false,"result":"{result}","ticket_id":"T1"}}"#);
    assert_eq!(check(body.clone()).await.raw, expect("revoked"));
    w.set("T1", "status", json!({"S": "blocked"}));
    assert_eq!(check(body.clone()).await.raw, expect("blocked"));
    w.set("T1", "status", json!({"S": "active"}));
    assert_eq!(check(body.clone()).await.raw, expect("invalid_time"));
    body["scanned_at"] = json!(now_secs());
    assert_eq!(check(body.clone()).await.raw, expect("wrong_match"));
    body["match_id"] = json!("M1");
    assert_eq!(check(body.clone()).await.raw, expect("wrong_gate"));
    body["gate"] = json!("B");
    assert_eq!(check(body.clone()).await.raw, expect("fan_id_mismatch"));
    assert_eq!(
        w.ticket_writes(),
        0,
        "refusals before the write do not write"
    );
    body["fan_id"] = json!("fan-1");
    let reply = check(body.clone()).await;
    assert_eq!(
        reply.raw,
        r#"{"ok":false,"result":"already_redeemed","ticket_id":"T1","first_scan":{"at":1766340000000,"gate":"B"}}"#
    );
    // Without a fan id, a ticket bound to a fan is accepted.
    body.as_object_mut().unwrap().remove("fan_id");
    w.set("T1", "state", json!({"S": "ABSENT"}));
    w.set("T1", "entries", json!({"N": "0"}));
    assert_eq!(check(body).await.body["result"], "ok");
    assert_eq!(
        w.fake.items(AUDIT_TABLE).len(),
        16,
        "one audit item per decision"
    );
}

#[tokio::test]
async fn scanned_at_is_seconds_milliseconds_or_rfc3339() {
    let w = world();
    let steward = steward();
    let now = now_secs();
    let cases = [
        (json!(now), "ok"),
        (json!(now * 1000 + 999), "ok"),
        (
            json!(chrono::DateTime::from_timestamp(now, 0)
                .unwrap()
                .to_rfc3339()),
            "ok",
        ),
        (json!("2025-12-21T20:00:00+01:00"), "invalid_time"),
        (json!((now + 3601) * 1000), "invalid_time"),
    ];
    for (i, (scanned_at, result)) in cases.into_iter().enumerate() {
        let code = w.issue(&format!("T{i}"), "M1", None);
        let mut body = scan(&code, "M1", &format!("n-{i}"));
        body["scanned_at"] = scanned_at.clone();
        assert_eq!(
            w.verify(&steward, &body).await.body["result"],
            result,
            "{scanned_at}"
        );
    }
}

#[tokio::test]
async fn after_an_exit_the_match_decides_whether_the_ticket_enters_again() {
    let w = world();
    let steward = steward();
    for (ticket, match_id, again) in [("T1", "M1", "already_redeemed"), ("T2", "M2", "ok")] {
        let code = w.issue(ticket, match_id, None);
        let entry = scan(&code, match_id, &format!("{ticket}-1"));
        assert_eq!(w.verify(&steward, &entry).await.body["result"], "ok");
        let mut exit = scan(&code, match_id, &format!("{ticket}-2"));
        exit["direction"] = json!("exit");
        exit["gate"] = json!("B");
        let reply = w.verify(&steward, &exit).await;
        assert_eq!(
            reply.raw,
            format!(r#"{{"ok":true,"result":"ok","ticket_id":"{ticket}"}}"#)
        );
        assert_eq!(w.ticket(ticket)["state"], json!({"S": "ABSENT"}));
        let mut again_body = scan(&code, match_id, &format!("{ticket}-3"));
        again_body["gate"] = json!("B");
        let reply = w.verify(&steward, &again_body).await;
        assert_eq!(reply.body["result"], again, "{ticket}");
        let ticket_item = w.ticket(ticket);
        // The first scan stays the first.
        assert_eq!(ticket_item["firstScan"]["M"]["gate"], json!({"S": "A"}));
        if again == "ok" {
            assert_eq!(ticket_item["entries"], json!({"N": "2"}));
            assert_eq!(ticket_item["state"], json!({"S": "PRESENT"}));
        } else {
            assert_eq!(reply.body["first_scan"]["gate"], "A");
            assert_eq!(
                reply.body["first_scan"]["at"].to_string(),
                ticket_item["firstScan"]["M"]["at"]["N"].as_str().unwrap()
            );
            assert_eq!(ticket_item["entries"], json!({"N": "1"}));
        }
    }
    // The matches were read once each, then cached.
    let match_reads = w
        .fake
        .calls_of("GetItem")
        .into_iter()
        .filter(|c| c.input["TableName"] == MATCHES_TABLE)
        .count();
    assert_eq!(match_reads, 2);
}

#[tokio::test]
async fn an_exit_of_a_ticket_not_inside_is_refused() {
    let w = world();
    let code = w.issue("T1", "M1", None);
    let mut exit = scan(&code, "M1", "n-1");
    exit["direction"] = json!("exit");
    let reply = w.verify(&steward(), &exit).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.raw,
        r#"{"ok":false,"result":"not_inside","ticket_id":"T1"}"#
    );
    assert_eq!(w.ticket("T1")["state"], json!({"S": "ABSENT"}));
    assert_eq!(
        w.fake.item(SCANS_TABLE, "dev-1#n-1").unwrap()["result"],
        json!({"S": "not_inside"})
    );
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_byte_for_byte_and_writes_nothing() {
    let w = world();
    let code = w.issue("T1", "M1", None);
    let body = scan(&code, "M1", "n-1");
    let first = w.verify(&steward(), &body).await;
    let calls = w.fake.calls().len();
    // Even from another steward, with another body: the device and nonce name the decision.
    let mut changed = body.clone();
    changed["gate"] = json!("B");
    for (token, body) in [(steward(), &body), (token("admin1", "admin"), &changed)] {
        let again = w.verify(&token, body).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.raw, first.raw);
    }
    let retries: Vec<_> = w.fake.calls()[calls..]
        .iter()
        .map(|c| c.operation.clone())
        .collect();
    assert_eq!(
        retries,
        ["TransactGetItems", "TransactGetItems"],
        "only read"
    );
    assert_eq!(w.ticket_writes(), 1);
    assert_eq!(w.fake.items(AUDIT_TABLE).len(), 1);
}

#[tokio::test]
async fn of_two_gates_scanning_one_ticket_at_once_exactly_one_lets_it_in() {
    let w = world();
    let code = w.issue("T1", "M1", None);
    let one = scan(&code, "M1", "n-1");
    let mut other = scan(&code, "M1", "n-1");
    other["device"] = json!("dev-2");
    other["gate"] = json!("B");
    let (steward, token2) = (steward(), token("steward8", "steward"));
    let (a, b) = tokio::join!(w.verify(&steward, &one), w.verify(&token2, &other));
    // Both read the ticket before either wrote it: the condition decided, not the read.
    let operations: Vec<_> = w
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.operation.starts_with("Transact"))
        .map(|c| c.operation)
        .collect();
    assert_eq!(operations[..2], ["TransactGetItems", "TransactGetItems"]);
    assert_eq!(w.ticket_writes(), 2, "both tried");
    let mut results = [&a, &b].map(|r| r.body["result"].as_str().unwrap().to_string());
    results.sort();
    assert_eq!(results, ["already_redeemed", "ok"]);
    let (winner, loser) = if a.body["ok"] == true {
        (&one, &b)
    } else {
        (&other, &a)
    };
    assert_eq!(loser.body["first_scan"]["gate"], winner["gate"]);
    assert_eq!(w.ticket("T1")["entries"], json!({"N": "1"}));
}

#[tokio::test]
async fn a_failed_write_changes_nothing_and_the_retry_decides_afresh() {
    let w = world();
    let code = w.issue("T1", "M1", None);
    let body = scan(&code, "M1", "n-1");
    let before = w.ticket("T1");
    let error = m2sec_proto::AwsError::new("InternalServerError", 500, "disk full");
    w.fake
        .fail_on_table("dynamodb", "TransactWriteItems", SCANS_TABLE, error);
    let failed = w.verify(&steward(), &body).await;
    assert_eq!(failed.status, 500);
    assert_eq!(failed.raw, r#"{"ok":false,"message":"Internal error"}"#);
    assert_eq!(w.ticket("T1"), before, "the ticket unchanged");
    assert!(w.fake.items(AUDIT_TABLE).is_empty());
    w.fake.heal();
    let retry = w.verify(&steward(), &body).await;
    assert_eq!(retry.raw, r#"{"ok":true,"result":"ok","ticket_id":"T1"}"#);
    assert_eq!(w.ticket("T1")["entries"], json!({"N": "1"}));
}

#[tokio::test]
async fn a_ticket_already_changed_by_this_very_scan_is_ok() {
    // A ticket written by this scan with no answer stored (as a write of the ticket alone could
    // leave it): the retry is the entry it made, not a second one.
    let w = world();
    let code = w.issue("T1", "M1", None);
    w.set("T1", "state", json!({"S": "PRESENT"}));
    w.set("T1", "entries", json!({"N": "1"}));
    w.set(
        "T1",
        "lastScan",
        json!({"M": {"at": {"N": "1766340000000"}, "gate": {"S": "A"}, "device": {"S": "dev-1"},
            "nonce": {"S": "n-1"}, "by": {"S": "steward7"}, "direction": {"S": "entry"}}}),
    );
    let retry = w.verify(&steward(), &scan(&code, "M1", "n-1")).await;
    assert_eq!(retry.raw, r#"{"ok":true,"result":"ok","ticket_id":"T1"}"#);
    assert_eq!(w.ticket("T1")["entries"], json!({"N": "1"}));
    let stored = w.fake.item(SCANS_TABLE, "dev-1#n-1").unwrap();
    assert_eq!(stored["answer"]["S"], retry.raw);
}

#[test]
fn the_handlers_futures_can_move_between_threads() {
    fn send<T: Send>(_: &T) {}
    let w = world();
    for handler in [Handler::VerifyTicket, Handler::AnnulScan, Handler::Metrics] {
        send(&w.gates.invoke(&function(handler), json!({})));
    }
}
