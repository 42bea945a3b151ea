//! Scans when a service fails or the function is misconfigured: a generic 500 for the client, the
//! AWS error code in the log, and nothing recorded as decided.

use m2sec_proto::AwsError;
use serde_json::json;

use super::{function, scan, steward, world, SCANS_TABLE, TICKETS_TABLE};
use crate::testing::{self, logs_of, AUDIT_TABLE};
use crate::Handler;

const INTERNAL: &str = r#"{"ok":false,"message":"Internal error"}"#;

#[tokio::test]
async fn a_failed_call_is_a_500_logged_with_its_aws_code() {
    let cases = [
        (
            "dynamodb",
            "TransactGetItems",
            SCANS_TABLE,
            "ProvisionedThroughputExceededException",
        ),
        ("kms", "GetPublicKey", "", "KMSInternalException"),
        ("kms", "DescribeKey", "", "AccessDeniedException"),
        (
            "dynamodb",
            "TransactGetItems",
            TICKETS_TABLE,
            "RequestLimitExceeded",
        ),
        (
            "dynamodb",
            "TransactWriteItems",
            TICKETS_TABLE,
            "TransactionConflictException",
        ),
        (
            "dynamodb",
            "TransactWriteItems",
            AUDIT_TABLE,
            "InternalServerError",
        ),
    ];
    for (service, operation, table, code) in cases {
        let w = world();
        let ticket = w.issue("T1", "M1", None);
        let before = w.ticket("T1");
        w.fake.fail_on_table(
            service,
            operation,
            table,
            AwsError::new(code, 500, "the detail"),
        );
        let (reply, logs) = logs_of(w.verify(&steward(), &scan(&ticket, "M1", "n-1"))).await;
        assert_eq!(reply.status, 500, "{operation}");
        assert_eq!(reply.raw, INTERNAL);
        assert!(logs.contains(code), "{logs}");
        assert!(
            logs.contains("can2025-secure-gates-prod-verifyTicket-handler"),
            "{logs}"
        );
        assert!(!logs.contains(&ticket), "no code in the log");
        assert!(
            w.fake.item(SCANS_TABLE, "dev-1#n-1").is_none(),
            "{operation}"
        );
        assert!(w.fake.items(AUDIT_TABLE).is_empty(), "{operation}");
        assert_eq!(w.ticket("T1"), before, "{operation}");
    }
}

#[tokio::test]
async fn a_function_without_its_tables_is_a_500() {
    let w = world();
    let mut function = function(Handler::VerifyTicket);
    function.environment.remove("SCANS_TABLE");
    let mut event = testing::login_event_from(&scan("x", "M1", "n-1").to_string(), "203.0.113.10");
    event["headers"]["Authorization"] = json!(format!("Bearer {}", steward()));
    let (result, logs) = logs_of(w.gates.invoke(&function, event)).await;
    assert_eq!(result["statusCode"], 500);
    assert_eq!(result["body"], INTERNAL);
    assert!(logs.contains("SCANS_TABLE"), "{logs}");
    assert!(w.fake.calls().iter().all(|c| c.service == "ssm"));
}
