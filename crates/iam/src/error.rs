//! One error enum for IAM and STS; each variant names the model's exception shape, whose wire code
//! and status come from the model (`NoSuchEntityException` is sent as `NoSuchEntity`, 404).

use m2sec_proto::{AwsError, ServiceError, INTERNAL_MESSAGE};
use m2sec_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = IamError> = std::result::Result<T, E>;

impl IamError {
    /// (wire code, HTTP status) as IAM and STS send them.
    pub fn code_and_status(&self) -> (&'static str, u16) {
        match self {
            IamError::NoSuchEntity(_) => ("NoSuchEntity", 404),
            IamError::EntityAlreadyExists(_) => ("EntityAlreadyExists", 409),
            IamError::DeleteConflict(_) => ("DeleteConflict", 409),
            IamError::MalformedPolicyDocument(_) => ("MalformedPolicyDocument", 400),
            IamError::LimitExceeded(_) => ("LimitExceeded", 409),
            IamError::InvalidInput(_) => ("InvalidInput", 400),
            IamError::AccessDenied(_) => ("AccessDenied", 403),
            IamError::Unsupported(_) => ("UnsupportedOperation", 400),
            IamError::Store(_) => ("ServiceUnavailable", 503),
            IamError::Internal(_) => ("ServiceFailure", 500),
        }
    }
}

impl ServiceError for IamError {
    const SERVICE: &'static str = "IAM/STS";
    fn aws_code(&self) -> &'static str {
        self.code_and_status().0
    }
    fn status(&self) -> u16 {
        self.code_and_status().1
    }
    fn internal_message(&self) -> Option<&'static str> {
        matches!(self, IamError::Store(_) | IamError::Internal(_)).then_some(INTERNAL_MESSAGE)
    }
}

impl From<IamError> for AwsError {
    fn from(e: IamError) -> AwsError {
        AwsError::from_service(e)
    }
}
