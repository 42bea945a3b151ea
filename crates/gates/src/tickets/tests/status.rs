//! `POST /tickets/{ticket_id}/revoke`, `/block`, `/unblock`.

use m2sec_proto::AwsError;
use serde_json::{json, Value};

use super::{world, World};
use crate::testing::{self, body, logs_of, token, TICKETS_TABLE};
use crate::Handler;

fn event(ticket_id: &str, action: &str, body: Option<&str>, token: Option<&str>) -> Value {
    testing::request(
        "POST",
        &format!("/tickets/{ticket_id}/{action}"),
        json!({"ticket_id": ticket_id}),
        body,
        token,
    )
}

impl World {
    async fn change(&self, ticket_id: &str, action: &str, body: Option<&str>) -> Value {
        let event = event(ticket_id, action, body, Some(&token("admin1", "admin")));
        self.gates
            .invoke(&testing::function(Handler::TicketStatus), event)
            .await
    }

    fn status(&self, ticket_id: &str) -> Value {
        self.ticket(ticket_id)["status"]["S"].clone()
    }
}

#[tokio::test]
async fn block_unblock_and_revoke() {
    let w = world();
    let (ticket_id, _) = w.issued(None).await;

    let blocked = w
        .change(
            &ticket_id,
            "block",
            Some(r#"{"reason": "reported stolen"}"#),
        )
        .await;
    assert_eq!(blocked["statusCode"], 200, "{blocked}");
    assert_eq!(
        blocked["body"],
        format!(r#"{{"ok":true,"ticket_id":"{ticket_id}","status":"blocked"}}"#)
    );
    assert_eq!(w.status(&ticket_id), "blocked");
    assert_eq!(
        w.ticket(&ticket_id)["blockReason"],
        json!({"S": "reported stolen"})
    );

    let unblocked = w.change(&ticket_id, "unblock", None).await;
    assert_eq!(unblocked["statusCode"], 200, "{unblocked}");
    assert_eq!(body(&unblocked)["status"], "active");
    assert_eq!(w.status(&ticket_id), "active");
    assert!(!w.ticket(&ticket_id).contains_key("blockReason"));

    let revoked = w
        .change(&ticket_id, "revoke", Some(r#"{"reason": "refunded"}"#))
        .await;
    assert_eq!(revoked["statusCode"], 200, "{revoked}");
    assert_eq!(body(&revoked)["status"], "revoked");
    assert_eq!(w.status(&ticket_id), "revoked");
    // The rest of the ticket is kept.
    assert_eq!(w.ticket(&ticket_id)["seat"], json!({"S": "N-12-7"}));

    let audit: Vec<_> = testing::audit_items(&w.fake)
        .into_iter()
        .filter(|a| a["kind"]["S"] == "ticket-status")
        .map(|a| {
            (
                a["action"]["S"].as_str().unwrap().to_string(),
                a["status"]["S"].as_str().unwrap().to_string(),
                a.get("reason")
                    .map(|r| r["S"].as_str().unwrap().to_string()),
                a["ticketId"]["S"] == ticket_id.as_str() && a["by"]["S"] == "admin1",
            )
        })
        .collect();
    assert_eq!(
        audit,
        [
            (
                "block".into(),
                "blocked".into(),
                Some("reported stolen".into()),
                true
            ),
            ("unblock".into(), "active".into(), None, true),
            (
                "revoke".into(),
                "revoked".into(),
                Some("refunded".into()),
                true
            ),
        ]
    );
}

#[tokio::test]
async fn revoking_is_final() {
    let w = world();
    let (ticket_id, _) = w.issued(None).await;
    assert_eq!(
        w.change(&ticket_id, "revoke", None).await["statusCode"],
        200
    );
    for (action, body) in [("unblock", None), ("block", Some(r#"{"reason": "x"}"#))] {
        let result = w.change(&ticket_id, action, body).await;
        assert_eq!(result["statusCode"], 409, "{action}");
        assert_eq!(
            testing::body(&result)["message"],
            format!(
                "Ticket {ticket_id} is revoked, which is final: it cannot be blocked or unblocked"
            )
        );
        assert_eq!(w.status(&ticket_id), "revoked");
    }
    // Revoking again changes nothing and says so.
    let again = w.change(&ticket_id, "revoke", None).await;
    assert_eq!(again["statusCode"], 200);
    assert_eq!(testing::body(&again)["status"], "revoked");
}

#[tokio::test]
async fn no_such_ticket_is_404_and_writes_nothing() {
    let w = world();
    for (action, body) in [
        ("revoke", None),
        ("block", Some(r#"{"reason": "x"}"#)),
        ("unblock", None),
    ] {
        let result = w.change("TNOSUCHTICKET", action, body).await;
        assert_eq!(result["statusCode"], 404, "{action}");
        assert_eq!(
            result["body"],
            r#"{"ok":false,"message":"Ticket TNOSUCHTICKET does not exist"}"#
        );
    }
    assert!(w.fake.items(TICKETS_TABLE).is_empty());
    assert!(testing::audit_items(&w.fake).is_empty());
}

#[tokio::test]
async fn bad_requests_are_400() {
    let w = world();
    let (ticket_id, _) = w.issued(None).await;
    for (action, raw, message) in [
        ("block", None, "A body is required"),
        ("block", Some("{}"), "reason is required"),
        (
            "block",
            Some(r#"{"reason": ""}"#),
            "reason must not be empty",
        ),
        ("block", Some(r#"{"reason": 7}"#), "reason must be a string"),
        ("block", Some("reason=stolen"), "The body is not valid JSON"),
        ("revoke", Some("[]"), "The body must be a JSON object"),
        (
            "unblock",
            Some(r#"{"reason": false}"#),
            "reason must be a string",
        ),
    ] {
        let result = w.change(&ticket_id, action, raw).await;
        assert_eq!(result["statusCode"], 400, "{action} {raw:?}");
        let text = body(&result)["message"].as_str().unwrap().to_string();
        assert!(text.starts_with(message), "{action} {raw:?}: {text}");
    }
    assert_eq!(w.status(&ticket_id), "active");
    assert!(w.fake.calls_of("UpdateItem").is_empty());

    let admin = token("admin1", "admin");
    let function = testing::function(Handler::TicketStatus);
    let mut no_parameter = event(&ticket_id, "revoke", None, Some(&admin));
    no_parameter["pathParameters"] = Value::Null;
    assert_eq!(
        w.gates.invoke(&function, no_parameter).await["statusCode"],
        400
    );
    let other = event(&ticket_id, "delete", None, Some(&admin));
    assert_eq!(w.gates.invoke(&function, other).await["statusCode"], 404);
}

#[tokio::test]
async fn only_admins_change_tickets() {
    testing::assert_only_for(Handler::TicketStatus, &["admin"], |token| {
        event("T123", "revoke", None, token)
    })
    .await;
}

#[tokio::test]
async fn a_failed_update_is_500() {
    let w = world();
    let (ticket_id, _) = w.issued(None).await;
    w.fake.fail(
        "dynamodb",
        "UpdateItem",
        AwsError::new(
            "AccessDeniedException",
            400,
            "not allowed: dynamodb:UpdateItem",
        ),
    );
    let (result, logs) = logs_of(w.change(&ticket_id, "revoke", None)).await;
    assert_eq!(result["statusCode"], 500);
    assert_eq!(body(&result)["message"], "Internal error");
    assert!(logs.contains("AccessDeniedException"), "{logs}");
    assert_eq!(w.status(&ticket_id), "active");
}
