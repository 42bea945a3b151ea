//! One error enum for DynamoDB; each variant knows its AWS exception name and status.

use m2sec_kms::error::KmsError;
use m2sec_proto::{AwsError, ServiceError, INTERNAL_MESSAGE};
use m2sec_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    LimitExceeded(String),
    /// `item`: the item as it was, for ReturnValuesOnConditionCheckFailure=ALL_OLD.
    #[error("The conditional request failed")]
    ConditionalCheckFailed { item: Option<serde_json::Value> },
    /// One reason per action of the transaction (`{"Code": "None"}` for those that were fine).
    #[error(
        "Transaction cancelled, please refer cancellation reasons for specific reasons [{summary}]"
    )]
    TransactionCanceled {
        summary: String,
        reasons: Vec<serde_json::Value>,
    },
    #[error("{0}")]
    IdempotentParameterMismatch(String),
    #[error("{0}")]
    TransactionConflict(String),
    /// The table's KMS key cannot be used (disabled, pending deletion, gone).
    #[error("{0}")]
    KmsAccessDenied(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("storage: {0}")]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = DynamoError> = std::result::Result<T, E>;

impl From<StoreError> for DynamoError {
    fn from(e: StoreError) -> Self {
        DynamoError::Store(e)
    }
}

impl From<crate::item::ValidationError> for DynamoError {
    fn from(e: crate::item::ValidationError) -> Self {
        DynamoError::Validation(e.0)
    }
}

impl From<crate::item::DecodeError> for DynamoError {
    fn from(e: crate::item::DecodeError) -> Self {
        match e {
            crate::item::DecodeError::Validation(v) => DynamoError::Validation(v.0),
            crate::item::DecodeError::Serialization(m) => DynamoError::Serialization(m),
        }
    }
}

impl DynamoError {
    pub fn validation(message: impl Into<String>) -> Self {
        DynamoError::Validation(message.into())
    }

    /// What a KMS failure on the table's key means to a DynamoDB caller.
    pub fn from_kms(e: KmsError) -> Self {
        match e {
            KmsError::Store(s) => DynamoError::Store(s),
            KmsError::Internal(m) => DynamoError::Internal(m),
            KmsError::AccessDenied(m) => DynamoError::AccessDenied(m),
            other => DynamoError::KmsAccessDenied(format!("KMS key access denied error: {other}")),
        }
    }
}

impl ServiceError for DynamoError {
    const SERVICE: &'static str = "DynamoDB";

    fn aws_code(&self) -> &'static str {
        match self {
            DynamoError::Validation(_) => "ValidationException",
            DynamoError::Serialization(_) => "SerializationException",
            DynamoError::ResourceNotFound(_) => "ResourceNotFoundException",
            DynamoError::ResourceInUse(_) => "ResourceInUseException",
            DynamoError::LimitExceeded(_) => "LimitExceededException",
            DynamoError::ConditionalCheckFailed { .. } => "ConditionalCheckFailedException",
            DynamoError::TransactionCanceled { .. } => "TransactionCanceledException",
            DynamoError::IdempotentParameterMismatch(_) => "IdempotentParameterMismatchException",
            DynamoError::TransactionConflict(_) => "TransactionConflictException",
            DynamoError::KmsAccessDenied(_) => "KMSAccessDeniedException",
            DynamoError::AccessDenied(_) => "AccessDeniedException",
            DynamoError::Unsupported(_) => "UnsupportedOperationException",
            DynamoError::Store(_) | DynamoError::Internal(_) => "InternalServerError",
        }
    }

    fn status(&self) -> u16 {
        match self {
            DynamoError::Store(StoreError::Unavailable(_)) => 503,
            DynamoError::Store(_) | DynamoError::Internal(_) => 500,
            _ => 400,
        }
    }

    fn internal_message(&self) -> Option<&'static str> {
        match self {
            DynamoError::Store(_) | DynamoError::Internal(_) => Some(INTERNAL_MESSAGE),
            _ => None,
        }
    }
}

impl From<DynamoError> for AwsError {
    fn from(e: DynamoError) -> Self {
        let fields = match &e {
            DynamoError::ConditionalCheckFailed { item: Some(item) } => {
                let mut m = serde_json::Map::new();
                m.insert("Item".into(), item.clone());
                Some(m)
            }
            DynamoError::TransactionCanceled { reasons, .. } => {
                let mut m = serde_json::Map::new();
                m.insert("CancellationReasons".into(), reasons.clone().into());
                Some(m)
            }
            _ => None,
        };
        let error = AwsError::from_service(e);
        match fields {
            Some(f) => error.with_fields(f),
            None => error,
        }
    }
}
