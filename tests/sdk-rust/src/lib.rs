//! What the SDK scenarios share (src/main.rs: KMS, SSM, STS and CloudTrail; src/bin/dynamodb.rs:
//! DynamoDB): the SDK configuration they run with, and how they report a mismatch.

use std::fmt::Debug;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
// The SDK crates share these types (from the smithy runtime); any one crate's re-exports name them.
pub use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::RequestId;
use serde_json::{json, Value};

/// A mismatch between what the scenario expects and what the server answered, in words.
pub type Check<T> = Result<T, String>;

#[macro_export]
macro_rules! check {
    ($cond:expr, $what:expr, $actual:expr) => {
        if !$cond {
            return Err(format!("{}: got {:?}", $what, $actual));
        }
    };
}

/// An unexpected failure of a call, with the SDK's whole error chain.
pub fn failed<E: std::error::Error>(what: &'static str) -> impl FnOnce(E) -> String {
    move |e| format!("{what} failed: {}", DisplayErrorContext(&e))
}

/// The call must have failed with the modelled error `code` (recognised by `is_expected`, the SDK's own
/// `is_…` method for that variant) and HTTP `status`; returns what the summary records.
pub fn expect_error<T: Debug, E>(
    result: Result<T, SdkError<E>>,
    code: &str,
    status: u16,
    is_expected: impl Fn(&E) -> bool,
) -> Check<Value>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    expect_service_error(result, code, status, is_expected)?;
    Ok(json!({ "name": code, "httpStatusCode": status }))
}

/// As [`expect_error`], returning the service's error itself (for what it carries beyond its code).
pub fn expect_service_error<T: Debug, E>(
    result: Result<T, SdkError<E>>,
    code: &str,
    status: u16,
    is_expected: impl Fn(&E) -> bool,
) -> Check<E>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let error = match result {
        Ok(out) => return Err(format!("expected {code}, the call succeeded: {out:?}")),
        Err(error) => error,
    };
    let http_status = error.raw_response().map(|r| r.status().as_u16());
    let request_id = error.request_id().map(str::to_owned);
    let service_error = match error {
        SdkError::ServiceError(e) => e.into_err(),
        other => return Err(format!("expected {code}, got {}", DisplayErrorContext(&other))),
    };
    check!(is_expected(&service_error), format!("error variant (expected {code})"), service_error);
    check!(service_error.code() == Some(code), format!("error code (expected {code})"), service_error.code());
    check!(http_status == Some(status), format!("{code} HTTP status (expected {status})"), http_status);
    check!(request_id.as_deref().is_some_and(|id| !id.is_empty()), format!("{code} request id"), request_id);
    Ok(service_error)
}

/// The SDK configuration of a scenario: the endpoint from AWS_ENDPOINT_URL, credentials and Region from the
/// usual AWS_* variables, one attempt per call (a retried failure would hide what the server answered).
pub async fn sdk_config() -> Check<SdkConfig> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").map_err(|_| "AWS_ENDPOINT_URL must be set".to_owned())?;
    // m2sec is reached over plain http://, so the client is hyper without TLS: no TLS stack to compile.
    let http_client = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .http_client(http_client)
        .retry_config(RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    config.region().ok_or("AWS_REGION (or AWS_DEFAULT_REGION) must be set")?;
    Ok(config)
}

/// A short name unique to this run, for the resources it makes.
pub fn run_name() -> Check<String> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?;
    Ok(format!("{:08x}", nanos.subsec_nanos()))
}

/// Runs `scenario`: prints its summary as one JSON line, or the mismatch and exits 1.
pub fn report(summary: Check<Value>) {
    match summary {
        Ok(summary) => println!("{summary}"),
        Err(mismatch) => {
            eprintln!("mismatch: {mismatch}");
            std::process::exit(1);
        }
    }
}
