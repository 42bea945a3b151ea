//! Taking back an entry: by the steward who scanned it (or an admin), within 15 minutes, while the
//! ticket has not been scanned since; once.

use serde_json::{json, Value};

use super::{scan, steward, token, world, Reply, World, SCANS_TABLE};
use crate::testing::AUDIT_TABLE;
use crate::verify::now_millis;
use crate::Handler;

async fn annul(w: &World, token: &str, device: &str, nonce: &str) -> Reply {
    let body = json!({"device": device, "nonce": nonce}).to_string();
    w.invoke(Handler::AnnulScan, Some(token), &body).await
}

/// The annul audit items' results, in order of writing (annulling puts them one at a time).
fn annul_results(w: &World) -> Vec<String> {
    w.fake
        .calls_of("PutItem")
        .into_iter()
        .filter(|c| c.input["TableName"] == AUDIT_TABLE && c.input["Item"]["kind"]["S"] == "annul")
        .map(|c| c.input["Item"]["result"]["S"].as_str().unwrap().to_string())
        .collect()
}

/// Ticket T1 of M1, let in by steward7 at gate A with nonce `n-1`.
async fn entered() -> World {
    let w = world();
    let code = w.issue("T1", "M1", None);
    assert_eq!(
        w.verify(&steward(), &scan(&code, "M1", "n-1")).await.body["result"],
        "ok"
    );
    w
}

#[tokio::test]
async fn the_steward_takes_an_entry_back_once() {
    let w = entered().await;
    let reply = annul(&w, &steward(), "dev-1", "n-1").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.raw, r#"{"ok":true}"#);
    let ticket = w.ticket("T1");
    assert_eq!(ticket["state"], json!({"S": "ABSENT"}));
    assert_eq!(ticket["entries"], json!({"N": "0"}));
    assert!(
        ticket.get("firstScan").is_none(),
        "its only entry is gone: {ticket}"
    );
    let stored = w.fake.item(SCANS_TABLE, "dev-1#n-1").unwrap();
    assert_eq!(stored["annulled"], json!({"BOOL": true}));
    assert_eq!(stored["annulledBy"], json!({"S": "steward7"}));
    let audit = w.fake.calls_of("PutItem").pop().unwrap().input["Item"].clone();
    for (name, value) in [
        ("kind", "annul"),
        ("by", "steward7"),
        ("ticketId", "T1"),
        ("matchId", "M1"),
        ("gate", "A"),
        ("device", "dev-1"),
        ("nonce", "n-1"),
        ("result", "ok"),
    ] {
        assert_eq!(audit[name], json!({"S": value}), "{name}");
    }

    let again = annul(&w, &steward(), "dev-1", "n-1").await;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.raw,
        r#"{"ok":false,"message":"The scan is already annulled"}"#
    );
    assert_eq!(w.ticket("T1")["entries"], json!({"N": "0"}));

    // The match allows no re-entry, but the annulled entry does not count.
    let code = w.issue_code_again("T1");
    let reply = w.verify(&steward(), &scan(&code, "M1", "n-2")).await;
    assert_eq!(reply.body["result"], "ok");
    assert_eq!(annul_results(&w), ["ok", "already_annulled"]);
}

#[tokio::test]
async fn fifteen_minutes_later_it_is_too_late() {
    let w = entered().await;
    for (minutes, status) in [(16, 409), (14, 200)] {
        let mut stored = Value::Object(w.fake.item(SCANS_TABLE, "dev-1#n-1").unwrap());
        stored["at"] = json!({"N": (now_millis() - minutes * 60_000).to_string()});
        w.fake.put(SCANS_TABLE, stored);
        let reply = annul(&w, &steward(), "dev-1", "n-1").await;
        assert_eq!(reply.status, status, "{minutes} minutes: {reply:?}");
        if status == 409 {
            assert_eq!(
                reply.body["message"],
                "An entry can only be annulled within 15 minutes"
            );
            assert_eq!(w.ticket("T1")["state"], json!({"S": "PRESENT"}));
            assert_eq!(w.ticket_writes(), 1, "only the entry");
        }
    }
    assert_eq!(annul_results(&w), ["too_late", "ok"]);
}

#[tokio::test]
async fn another_steward_may_not_an_admin_may() {
    let w = entered().await;
    let reply = annul(&w, &token("steward8", "steward"), "dev-1", "n-1").await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.raw,
        r#"{"ok":false,"message":"Only the steward who scanned may annul it"}"#
    );
    assert_eq!(w.ticket("T1")["state"], json!({"S": "PRESENT"}));
    let reply = annul(&w, &token("admin1", "admin"), "dev-1", "n-1").await;
    assert_eq!(reply.status, 200);
    assert_eq!(annul_results(&w), ["forbidden", "ok"]);
    for role in ["auditor"] {
        let reply = annul(&w, &token("audit1", role), "dev-1", "n-1").await;
        assert_eq!(reply.status, 403);
    }
    let no_token = w
        .invoke(
            Handler::AnnulScan,
            None,
            r#"{"device":"dev-1","nonce":"n-1"}"#,
        )
        .await;
    assert_eq!(no_token.status, 401);
}

#[tokio::test]
async fn only_the_latest_accepted_entry_can_be_annulled() {
    let w = entered().await;
    let code = w.issue_code_again("T1");
    // A refused scan, and an exit, are not entries.
    let refused = w.verify(&steward(), &scan(&code, "M1", "n-2")).await;
    assert_eq!(refused.body["result"], "already_redeemed");
    let reply = annul(&w, &steward(), "dev-1", "n-2").await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        reply.body["message"],
        "Only an accepted entry can be annulled"
    );
    let mut exit = scan(&code, "M1", "n-3");
    exit["direction"] = json!("exit");
    assert_eq!(w.verify(&steward(), &exit).await.body["result"], "ok");
    assert_eq!(annul(&w, &steward(), "dev-1", "n-3").await.status, 409);
    // The entry was followed by the exit: taking it back would undo more than the entry.
    let reply = annul(&w, &steward(), "dev-1", "n-1").await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.body["message"], "The ticket has been scanned since");
    assert_eq!(w.ticket("T1")["entries"], json!({"N": "1"}));
    assert_eq!(
        annul_results(&w),
        ["not_an_entry", "not_an_entry", "scanned_since"]
    );

    let missing = annul(&w, &steward(), "dev-1", "n-404").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.raw, r#"{"ok":false,"message":"No such scan"}"#);
    for body in [
        "{}",
        r#"{"device":"dev#1","nonce":"n"}"#,
        r#"{"device":"d","nonce":7}"#,
        "nope",
    ] {
        let reply = w.invoke(Handler::AnnulScan, Some(&steward()), body).await;
        assert_eq!(reply.status, 400, "{body}");
    }
}
