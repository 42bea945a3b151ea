//! One error enum for Route53; each variant knows its AWS error code, and its status is the one
//! botocore's model gives that error.

use m2sec_proto::{AwsError, ServiceError, INTERNAL_MESSAGE};
use m2sec_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Route53Error {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    InvalidDomainName(String),
    /// The problems of a change batch, as Route53 lists them.
    #[error("{0}")]
    InvalidChangeBatch(String),
    #[error("{0}")]
    NoSuchHostedZone(String),
    #[error("{0}")]
    NoSuchChange(String),
    #[error("{0}")]
    HostedZoneAlreadyExists(String),
    #[error("{0}")]
    HostedZoneNotEmpty(String),
    /// Storage trouble: logged in full, sent as a retryable 503 without detail.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl ServiceError for Route53Error {
    const SERVICE: &'static str = "Route53";
    fn aws_code(&self) -> &'static str {
        match self {
            Route53Error::InvalidInput(_) => "InvalidInput",
            Route53Error::InvalidDomainName(_) => "InvalidDomainName",
            Route53Error::InvalidChangeBatch(_) => "InvalidChangeBatch",
            Route53Error::NoSuchHostedZone(_) => "NoSuchHostedZone",
            Route53Error::NoSuchChange(_) => "NoSuchChange",
            Route53Error::HostedZoneAlreadyExists(_) => "HostedZoneAlreadyExists",
            Route53Error::HostedZoneNotEmpty(_) => "HostedZoneNotEmpty",
            Route53Error::Store(_) => "ServiceUnavailable",
        }
    }
    fn status(&self) -> u16 {
        match self {
            Route53Error::Store(_) => 503,
            other => crate::service::model()
                .error(other.aws_code())
                .map_or(400, |e| e.status),
        }
    }
    fn internal_message(&self) -> Option<&'static str> {
        matches!(self, Route53Error::Store(_)).then_some(INTERNAL_MESSAGE)
    }
}

impl From<Route53Error> for AwsError {
    fn from(e: Route53Error) -> AwsError {
        AwsError::from_service(e)
    }
}
