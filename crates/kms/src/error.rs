//! One error enum for KMS; each variant knows its AWS exception name and status.

use m2sec_proto::{AwsError, ServiceError, INTERNAL_MESSAGE};
use m2sec_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0} is disabled.")]
    Disabled(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    InvalidCiphertext(String),
    #[error(
        "The key ID in the request does not identify a KMS key that can perform this operation."
    )]
    IncorrectKey,
    #[error("{0}")]
    InvalidKeyUsage(String),
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    InvalidAliasName(String),
    #[error("{0}")]
    InvalidMarker(String),
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    InvalidGrantToken(String),
    #[error("{0}")]
    InvalidGrantId(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    Tag(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    InvalidMac(String),
    #[error("{0}")]
    IncorrectKeyMaterial(String),
    #[error("{0}")]
    ExpiredImportToken(String),
    #[error("{0}")]
    InvalidImportToken(String),
    /// A less common exception, named as AWS names it.
    #[error("{1}")]
    Named(&'static str, String),
    #[error("The request would have succeeded, but the DryRun option is set.")]
    DryRun,
    /// Storage trouble: logged in full, sent as a retryable 503 without detail.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// Key material that will not unwrap (wrong root key or corrupted store): logged, 500.
    #[error("internal: {0}")]
    Internal(String),
}

impl KmsError {
    pub fn aws_code(&self) -> &'static str {
        match self {
            KmsError::NotFound(_) => "NotFoundException",
            KmsError::AlreadyExists(_) => "AlreadyExistsException",
            KmsError::Disabled(_) => "DisabledException",
            KmsError::InvalidState(_) => "KMSInvalidStateException",
            KmsError::InvalidCiphertext(_) => "InvalidCiphertextException",
            KmsError::IncorrectKey => "IncorrectKeyException",
            KmsError::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            KmsError::InvalidArn(_) => "InvalidArnException",
            KmsError::InvalidAliasName(_) => "InvalidAliasNameException",
            KmsError::InvalidMarker(_) => "InvalidMarkerException",
            KmsError::NotAuthorized(_) => "NotAuthorizedException",
            KmsError::AccessDenied(_) => "AccessDeniedException",
            KmsError::InvalidGrantToken(_) => "InvalidGrantTokenException",
            KmsError::InvalidGrantId(_) => "InvalidGrantIdException",
            KmsError::Validation(_) => "ValidationException",
            KmsError::LimitExceeded(_) => "LimitExceededException",
            KmsError::Tag(_) => "TagException",
            KmsError::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
            KmsError::Unsupported(_) => "UnsupportedOperationException",
            KmsError::InvalidSignature(_) => "KMSInvalidSignatureException",
            KmsError::InvalidMac(_) => "KMSInvalidMacException",
            KmsError::IncorrectKeyMaterial(_) => "IncorrectKeyMaterialException",
            KmsError::ExpiredImportToken(_) => "ExpiredImportTokenException",
            KmsError::InvalidImportToken(_) => "InvalidImportTokenException",
            KmsError::Named(code, _) => code,
            KmsError::DryRun => "DryRunOperationException",
            KmsError::Store(_) => "DependencyTimeoutException",
            KmsError::Internal(_) => "KMSInternalException",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            KmsError::DryRun => 412,
            KmsError::Store(_) => 503,
            KmsError::Internal(_) => 500,
            _ => 400,
        }
    }
}

impl ServiceError for KmsError {
    const SERVICE: &'static str = "KMS";
    fn aws_code(&self) -> &'static str {
        self.aws_code()
    }
    fn status(&self) -> u16 {
        self.status()
    }
    fn internal_message(&self) -> Option<&'static str> {
        match self {
            KmsError::Store(_) => Some(
                "The system timed out while trying to fulfill the request. You can retry the request.",
            ),
            KmsError::Internal(_) => Some(INTERNAL_MESSAGE),
            _ => None,
        }
    }
}

impl From<KmsError> for AwsError {
    fn from(e: KmsError) -> AwsError {
        AwsError::from_service(e)
    }
}

pub type Result<T, E = KmsError> = std::result::Result<T, E>;
