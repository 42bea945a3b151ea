//! One error enum for ACM; each variant knows its AWS exception name and status.

use m2sec_proto::{AwsError, ServiceError, INTERNAL_MESSAGE};
use m2sec_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AcmError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    RequestInProgress(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    TooManyTags(String),
    /// Storage trouble: logged in full, sent as a retryable 503 without detail.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The CA or a key that will not unwrap: logged in full, sent as a 503 without detail.
    #[error("internal: {0}")]
    Internal(String),
}

impl ServiceError for AcmError {
    const SERVICE: &'static str = "ACM";
    fn aws_code(&self) -> &'static str {
        match self {
            AcmError::Validation(_) => "ValidationException",
            AcmError::NotFound(_) => "ResourceNotFoundException",
            AcmError::InvalidArn(_) => "InvalidArnException",
            AcmError::RequestInProgress(_) => "RequestInProgressException",
            AcmError::ResourceInUse(_) => "ResourceInUseException",
            AcmError::TooManyTags(_) => "TooManyTagsException",
            AcmError::Store(_) | AcmError::Internal(_) => "ServiceUnavailableException",
        }
    }
    fn status(&self) -> u16 {
        match self {
            AcmError::Store(_) | AcmError::Internal(_) => 503,
            _ => 400,
        }
    }
    fn internal_message(&self) -> Option<&'static str> {
        matches!(self, AcmError::Store(_) | AcmError::Internal(_)).then_some(INTERNAL_MESSAGE)
    }
}

impl From<AcmError> for AwsError {
    fn from(e: AcmError) -> AwsError {
        AwsError::from_service(e)
    }
}
