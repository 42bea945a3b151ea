//! One error enum for IAM and STS; each variant names the model's exception shape, whose wire code
//! and status come from the model (`NoSuchEntityException` is sent as `NoSuchEntity`, 404).

use m2sec_proto::AwsError;
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

impl From<IamError> for AwsError {
    fn from(e: IamError) -> AwsError {
        let (code, status) = e.code_and_status();
        match &e {
            IamError::Store(_) | IamError::Internal(_) => {
                tracing::error!(error = %e, "IAM/STS request failed inside the service");
                AwsError::new(
                    code,
                    status,
                    "The service encountered an internal error. Try again later.",
                )
            }
            _ => AwsError::new(code, status, e.to_string()),
        }
    }
}
