//! Metrics from the audit items that scans and annulments wrote, read a page at a time.

use m2sec_proto::AwsError;
use serde_json::{json, Value};

use super::percentile_ms;
use crate::testing::AUDIT_TABLE;
use crate::verify::tests::{scan, steward, token, world, World};
use crate::Handler;

async fn metrics(w: &World, token: Option<&str>) -> crate::verify::tests::Reply {
    w.invoke(Handler::Metrics, token, "").await
}

fn auditor() -> String {
    token("audit1", "auditor")
}

#[test]
fn percentiles_are_nearest_rank() {
    let hundred: Vec<i64> = (1..=100).map(|ms| ms * 1000).collect();
    assert_eq!(percentile_ms(&hundred, 50), 50.0);
    assert_eq!(percentile_ms(&hundred, 99), 99.0);
    assert_eq!(percentile_ms(&[1500], 50), 1.5);
    assert_eq!(percentile_ms(&[1500], 99), 1.5);
    assert_eq!(percentile_ms(&[1000, 2000, 3000], 50), 2.0);
    assert_eq!(percentile_ms(&[1000, 2000, 3000], 99), 3.0);
    assert_eq!(percentile_ms(&[], 99), 0.0);
}

#[tokio::test]
async fn scans_are_counted_per_match_and_gate() {
    let w = world();
    w.fake.set_scan_page(2);
    let s = steward();
    let (t1, t2, t3, t4) = (
        w.issue("T1", "M1", None),
        w.issue("T2", "M1", None),
        w.issue("T3", "M1", None),
        w.issue("T4", "M2", None),
    );
    let mut bodies = vec![
        scan(&t1, "M1", "n-1"),
        scan(&t2, "M1", "n-2"),
        scan(&t2, "M1", "n-3"),
        scan(&t1, "M1", "n-4"),
        scan(&t3, "M1", "n-5"),
        scan(&t4, "M2", "n-6"),
    ];
    bodies[2]["direction"] = json!("exit");
    bodies[2]["gate"] = json!("B");
    bodies[5]["gate"] = json!("C");
    let mut results = Vec::new();
    for body in &bodies {
        results.push(w.verify(&s, body).await.body["result"].clone());
    }
    assert_eq!(
        results,
        ["ok", "ok", "ok", "already_redeemed", "ok", "wrong_gate"]
    );
    let annul = json!({"device": "dev-1", "nonce": "n-5"}).to_string();
    assert_eq!(
        w.invoke(Handler::AnnulScan, Some(&s), &annul).await.status,
        200
    );
    // Neither a body that could not be read nor a login is a scan at a gate.
    assert_eq!(
        w.invoke(Handler::VerifyTicket, Some(&s), "{").await.status,
        400
    );
    w.fake.put(
        AUDIT_TABLE,
        json!({"auditId": {"S": "login-1"}, "kind": {"S": "login"},
        "matchId": {"S": "M1"}, "gate": {"S": "A"}, "result": {"S": "ok"}}),
    );

    let reply = metrics(&w, Some(&auditor())).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let mut body = reply.body;
    for gate in body["matches"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .flat_map(|m| m["gates"].as_object_mut().unwrap().values_mut())
    {
        let (p50, p99) = (
            gate["p50_ms"].as_f64().unwrap(),
            gate["p99_ms"].as_f64().unwrap(),
        );
        assert!(0.0 < p50 && p50 <= p99, "{gate}");
        gate.as_object_mut()
            .unwrap()
            .retain(|k, _| !k.ends_with("_ms"));
    }
    assert_eq!(
        body,
        json!({"ok": true, "matches": {
            "M1": {"inside": 1, "gates": {
                "A": {"scans": 4, "ok": 3, "reasons": {"already_redeemed": 1}},
                "B": {"scans": 1, "ok": 1, "reasons": {}},
            }},
            "M2": {"inside": 0, "gates": {
                "C": {"scans": 1, "ok": 0, "reasons": {"wrong_gate": 1}},
            }},
        }})
    );
    // Nine audit items, two a page: every page was asked for, each after the one before.
    let pages = w.fake.calls_of("Scan");
    assert_eq!(pages.len(), 5);
    assert!(pages[0].input.get("ExclusiveStartKey").is_none());
    for page in &pages {
        assert_eq!(page.input["TableName"], AUDIT_TABLE);
        assert_eq!(
            page.input["FilterExpression"],
            "#kind = :verify OR #kind = :annul"
        );
    }
    for pair in pages.windows(2) {
        assert!(pair[1].input["ExclusiveStartKey"]["auditId"]["S"].is_string());
        assert_ne!(
            pair[0].input["ExclusiveStartKey"],
            pair[1].input["ExclusiveStartKey"]
        );
    }
}

#[tokio::test]
async fn decision_times_are_percentiles_in_milliseconds() {
    let w = world();
    w.fake.set_scan_page(7);
    for i in 1..=200 {
        let result = if i % 10 == 0 { "wrong_gate" } else { "ok" };
        w.fake.put(
            AUDIT_TABLE,
            json!({
                "auditId": {"S": format!("a-{i:03}")}, "kind": {"S": "verify"}, "at": {"N": "1"},
                "matchId": {"S": "M9"}, "gate": {"S": "G"}, "direction": {"S": "entry"},
                "result": {"S": result}, "latencyMicros": {"N": (i * 500).to_string()},
            }),
        );
    }
    let reply = metrics(&w, Some(&token("admin1", "admin"))).await;
    assert_eq!(reply.status, 200);
    let m9 = &reply.body["matches"]["M9"];
    assert_eq!(m9["inside"], 180);
    let gate = &m9["gates"]["G"];
    assert_eq!(gate["scans"], 200);
    assert_eq!(gate["ok"], 180);
    assert_eq!(gate["reasons"], json!({"wrong_gate": 20}));
    // 100th and 198th of 200 latencies of 0.5 ms steps.
    assert_eq!(gate["p50_ms"], json!(50.0));
    assert_eq!(gate["p99_ms"], json!(99.0));
    assert_eq!(w.fake.calls_of("Scan").len(), 29);
}

#[tokio::test]
async fn stewards_get_no_metrics() {
    let w = world();
    let reply = metrics(&w, Some(&steward())).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.raw,
        r#"{"ok":false,"message":"This route is for admin or auditor"}"#
    );
    assert_eq!(metrics(&w, None).await.status, 401);
    assert!(w.fake.calls_of("Scan").is_empty());
    let reply = metrics(&w, Some(&auditor())).await;
    assert_eq!(reply.raw, r#"{"ok":true,"matches":{}}"#);
}

#[tokio::test]
async fn a_failed_scan_is_a_500() {
    let w = world();
    w.fake.fail(
        "dynamodb",
        "Scan",
        AwsError::new("AccessDeniedException", 400, "no"),
    );
    let reply = metrics(&w, Some(&auditor())).await;
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.body,
        json!({"ok": false, "message": "Internal error"})
    );
    let _: Value = reply.body;
}
