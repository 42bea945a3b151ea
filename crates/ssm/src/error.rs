//! One error enum for SSM Parameter Store; each variant knows its AWS exception name and status.

use m2sec_kms::error::KmsError;
use m2sec_proto::{AwsError, ServiceError, INTERNAL_MESSAGE};
use m2sec_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SsmError {
    #[error("{0}")]
    ParameterNotFound(String),
    #[error("The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")]
    ParameterAlreadyExists,
    #[error("{0}")]
    ParameterVersionNotFound(String),
    #[error("{0}")]
    ParameterMaxVersionLimitExceeded(String),
    #[error("{0}")]
    ParameterLimitExceeded(String),
    #[error("{0}")]
    ParameterVersionLabelLimitExceeded(String),
    #[error("Parameter name hierarchy exceeded maximum depth of 15.")]
    HierarchyLevelLimitExceeded,
    #[error("{0}")]
    HierarchyTypeMismatch(String),
    #[error("{0}")]
    InvalidAllowedPattern(String),
    #[error("{0}")]
    ParameterPatternMismatch(String),
    #[error("{0}")]
    InvalidKeyId(String),
    #[error("{0}")]
    InvalidFilterKey(String),
    #[error("{0}")]
    InvalidFilterOption(String),
    #[error("{0}")]
    InvalidFilterValue(String),
    #[error("The specified token is not valid.")]
    InvalidNextToken,
    #[error("{0}")]
    InvalidResourceId(String),
    #[error("{0}")]
    InvalidResourceType(String),
    #[error("{0}")]
    TooManyTags(String),
    #[error("{0}")]
    UnsupportedParameterType(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl SsmError {
    pub fn aws_code(&self) -> &'static str {
        match self {
            SsmError::ParameterNotFound(_) => "ParameterNotFound",
            SsmError::ParameterAlreadyExists => "ParameterAlreadyExists",
            SsmError::ParameterVersionNotFound(_) => "ParameterVersionNotFound",
            SsmError::ParameterMaxVersionLimitExceeded(_) => "ParameterMaxVersionLimitExceeded",
            SsmError::ParameterLimitExceeded(_) => "ParameterLimitExceeded",
            SsmError::ParameterVersionLabelLimitExceeded(_) => "ParameterVersionLabelLimitExceeded",
            SsmError::HierarchyLevelLimitExceeded => "HierarchyLevelLimitExceededException",
            SsmError::HierarchyTypeMismatch(_) => "HierarchyTypeMismatchException",
            SsmError::InvalidAllowedPattern(_) => "InvalidAllowedPatternException",
            SsmError::ParameterPatternMismatch(_) => "ParameterPatternMismatchException",
            SsmError::InvalidKeyId(_) => "InvalidKeyId",
            SsmError::InvalidFilterKey(_) => "InvalidFilterKey",
            SsmError::InvalidFilterOption(_) => "InvalidFilterOption",
            SsmError::InvalidFilterValue(_) => "InvalidFilterValue",
            SsmError::InvalidNextToken => "InvalidNextToken",
            SsmError::InvalidResourceId(_) => "InvalidResourceId",
            SsmError::InvalidResourceType(_) => "InvalidResourceType",
            SsmError::TooManyTags(_) => "TooManyTagsError",
            SsmError::UnsupportedParameterType(_) => "UnsupportedParameterType",
            SsmError::Validation(_) => "ValidationException",
            SsmError::Unsupported(_) => "UnsupportedOperationException",
            SsmError::AccessDenied(_) => "AccessDeniedException",
            SsmError::Store(_) => "ServiceUnavailable",
            SsmError::Internal(_) => "InternalServerError",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            SsmError::Store(_) => 503,
            SsmError::Internal(_) => 500,
            _ => 400,
        }
    }

    /// A KMS failure while encrypting or decrypting a SecureString, told the way SSM tells it: the
    /// parameter's key is not usable (`InvalidKeyId`), naming what KMS said.
    pub fn from_kms(e: KmsError) -> SsmError {
        match e {
            KmsError::Store(s) => SsmError::Store(s),
            KmsError::Internal(s) => SsmError::Internal(s),
            KmsError::AccessDenied(s) => SsmError::AccessDenied(s),
            other => {
                let code = other.aws_code();
                SsmError::InvalidKeyId(format!("{other} (Service: AWSKMS; Error Code: {code})"))
            }
        }
    }
}

impl ServiceError for SsmError {
    const SERVICE: &'static str = "SSM";
    fn aws_code(&self) -> &'static str {
        self.aws_code()
    }
    fn status(&self) -> u16 {
        self.status()
    }
    fn internal_message(&self) -> Option<&'static str> {
        matches!(self, SsmError::Store(_) | SsmError::Internal(_)).then_some(INTERNAL_MESSAGE)
    }
}

impl From<SsmError> for AwsError {
    fn from(e: SsmError) -> AwsError {
        AwsError::from_service(e)
    }
}

pub type Result<T, E = SsmError> = std::result::Result<T, E>;
