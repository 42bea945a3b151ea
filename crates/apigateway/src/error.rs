//! One error enum for API Gateway; each variant knows its AWS exception name and status.

use m2sec_proto::{AwsError, ServiceError, INTERNAL_MESSAGE};
use m2sec_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiGatewayError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    /// Storage trouble: logged in full, sent as a retryable 503 without detail.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, ApiGatewayError>;

impl ServiceError for ApiGatewayError {
    const SERVICE: &'static str = "API Gateway";
    fn aws_code(&self) -> &'static str {
        match self {
            ApiGatewayError::BadRequest(_) => "BadRequestException",
            ApiGatewayError::NotFound(_) => "NotFoundException",
            ApiGatewayError::Conflict(_) => "ConflictException",
            ApiGatewayError::LimitExceeded(_) => "LimitExceededException",
            ApiGatewayError::Store(_) | ApiGatewayError::Internal(_) => {
                "ServiceUnavailableException"
            }
        }
    }
    fn status(&self) -> u16 {
        match self {
            ApiGatewayError::BadRequest(_) => 400,
            ApiGatewayError::NotFound(_) => 404,
            ApiGatewayError::Conflict(_) => 409,
            ApiGatewayError::LimitExceeded(_) => 429,
            ApiGatewayError::Store(_) | ApiGatewayError::Internal(_) => 503,
        }
    }
    fn internal_message(&self) -> Option<&'static str> {
        matches!(
            self,
            ApiGatewayError::Store(_) | ApiGatewayError::Internal(_)
        )
        .then_some(INTERNAL_MESSAGE)
    }
}

impl From<ApiGatewayError> for AwsError {
    fn from(e: ApiGatewayError) -> AwsError {
        AwsError::from_service(e)
    }
}

pub(crate) fn not_found(what: &str) -> ApiGatewayError {
    ApiGatewayError::NotFound(format!("Invalid {what} specified"))
}

pub(crate) fn bad(message: impl Into<String>) -> ApiGatewayError {
    ApiGatewayError::BadRequest(message.into())
}
