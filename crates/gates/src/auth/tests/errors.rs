//! Login when a service fails or the function is misconfigured: the client gets a generic 500, the
//! log names the function and the AWS error code, and never a secret.

use m2sec_proto::AwsError;

use super::{audit_reasons, login, world, INTERNAL, PASSWORD};
use crate::testing::{self, logs_of, AUDIT_TABLE};

#[tokio::test]
async fn no_configured_secret_is_an_internal_error() {
    let (fake, gates) = world();
    let mut function = testing::login_function();
    function.secrets.clear();
    function.environment.remove("JWT_SECRET_PARAM");
    let (result, logs) =
        logs_of(gates.invoke(&function, testing::login_event("steward7", PASSWORD))).await;
    assert_eq!(result["statusCode"], 500);
    assert_eq!(result["body"], INTERNAL);
    assert!(logs.contains("JWT_SECRET_PARAM"), "{logs}");
    assert!(logs.contains("can2025-secure-gates-prod-login"), "{logs}");
    assert!(fake.calls_of("GetParameter").is_empty());
    assert!(fake.calls_of("GetItem").is_empty());
    assert_eq!(
        audit_reasons(&fake),
        [("steward7".into(), false, "secret unavailable".into())]
    );
}

#[tokio::test]
async fn a_denied_secret_is_an_internal_error_logged_with_its_code() {
    let (fake, gates) = world();
    fake.fail(
        "ssm",
        "GetParameter",
        AwsError::new(
            "AccessDeniedException",
            400,
            "User: arn:aws:sts::000000000000:assumed-role/r/s is not authorized to perform: ssm:GetParameter",
        ),
    );
    let (result, logs) = logs_of(login(&gates, "steward7", PASSWORD)).await;
    assert_eq!(result["statusCode"], 500);
    assert_eq!(result["body"], INTERNAL);
    assert!(logs.contains("AccessDeniedException"), "{logs}");
    assert!(logs.contains("can2025-secure-gates-prod-login"), "{logs}");
    assert!(
        !logs.contains("s3cret") && !logs.contains(PASSWORD),
        "{logs}"
    );
    // The password was not checked: no failure is counted for it.
    assert!(fake.calls_of("GetItem").is_empty());
}

#[tokio::test]
async fn an_unreadable_users_table_is_an_internal_error() {
    let (fake, gates) = world();
    fake.fail(
        "dynamodb",
        "GetItem",
        AwsError::new(
            "ResourceNotFoundException",
            400,
            "Requested resource not found",
        ),
    );
    let (result, logs) = logs_of(login(&gates, "steward7", PASSWORD)).await;
    assert_eq!(result["statusCode"], 500);
    assert_eq!(result["body"], INTERNAL);
    assert!(logs.contains("ResourceNotFoundException"), "{logs}");
}

#[tokio::test]
async fn a_failed_audit_does_not_change_the_answer() {
    let (fake, gates) = world();
    fake.fail_on_table(
        "dynamodb",
        "PutItem",
        AUDIT_TABLE,
        AwsError::new("ProvisionedThroughputExceededException", 400, "slow down"),
    );
    let (result, logs) = logs_of(login(&gates, "steward7", PASSWORD)).await;
    assert_eq!(result["statusCode"], 200);
    assert!(
        logs.contains("ProvisionedThroughputExceededException"),
        "{logs}"
    );
    assert_eq!(login(&gates, "steward7", "bad").await["statusCode"], 401);
}
