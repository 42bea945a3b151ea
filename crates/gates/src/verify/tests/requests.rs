//! Requests refused before a scan is decided: callers who may not verify, and bodies that cannot
//! be read (answered 400 and audited as `bad_request`, nothing else written).

use serde_json::json;

use super::{scan, steward, token, world};
use crate::testing::AUDIT_TABLE;
use crate::Handler;

#[tokio::test]
async fn only_stewards_and_admins_verify() {
    let w = world();
    let code = w.issue("T1", "M1", None);
    let body = scan(&code, "M1", "n-1").to_string();
    let auditor = token("audit1", "auditor");
    let reply = w.invoke(Handler::VerifyTicket, Some(&auditor), &body).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["ok"], false);
    let reply = w.invoke(Handler::VerifyTicket, None, &body).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.raw,
        r#"{"ok":false,"message":"Missing bearer token"}"#
    );
    assert!(w.fake.calls().iter().all(|c| c.service == "ssm"));
    let admin = token("admin1", "admin");
    let reply = w.invoke(Handler::VerifyTicket, Some(&admin), &body).await;
    assert_eq!(reply.body["result"], "ok");
}

#[tokio::test]
async fn a_body_that_cannot_be_read_is_400_and_audited_only() {
    let w = world();
    let code = w.issue("T1", "M1", None);
    let good = scan(&code, "M1", "n-1");
    let mut bodies = vec![
        "{not json".to_string(),
        "[]".to_string(),
        "null".to_string(),
    ];
    for (name, value) in [
        ("code", json!(null)),
        ("gate", json!(7)),
        ("direction", json!("sideways")),
        ("scanned_at", json!("yesterday")),
        ("scanned_at", json!(-5)),
        ("device", json!("dev#1")),
        ("nonce", json!("")),
        ("fan_id", json!("f".repeat(129))),
    ] {
        let mut body = good.clone();
        body[name] = value;
        bodies.push(body.to_string());
    }
    let steward = steward();
    for body in &bodies {
        let reply = w.invoke(Handler::VerifyTicket, Some(&steward), body).await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.body["ok"], false);
        assert!(reply.body["message"].as_str().unwrap().len() > 10);
    }
    let audit = w.fake.items(AUDIT_TABLE);
    assert_eq!(audit.len(), bodies.len());
    for record in &audit {
        assert_eq!(record["kind"], json!({"S": "verify"}));
        assert_eq!(record["result"], json!({"S": "bad_request"}));
        assert_eq!(record["by"], json!({"S": "steward7"}));
        assert!(record["latencyMicros"]["N"].is_string());
    }
    let writes: Vec<_> = w
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.operation != "GetParameter")
        .collect();
    assert!(writes
        .iter()
        .all(|c| c.operation == "PutItem" && c.input["TableName"] == AUDIT_TABLE));
}
