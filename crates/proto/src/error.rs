use std::borrow::Cow;

/// An error as a client sees it: AWS's exception name, a message a person can act on, and the HTTP
/// status. Every service error converts into this; internal details never do (they are logged, and the
/// client gets a generic message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub code: Cow<'static, str>,
    pub message: String,
    pub status: u16,
    /// For a validation error of the model: the input members that failed (`maxResults`,
    /// `lookupAttributes.1.member.attributeKey`), so a service can name the failure its own way.
    pub members: Vec<String>,
    /// Members of the exception besides its message (DynamoDB's `Item`, `CancellationReasons`).
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl AwsError {
    pub fn new(
        code: impl Into<Cow<'static, str>>,
        status: u16,
        message: impl Into<String>,
    ) -> Self {
        AwsError {
            code: code.into(),
            message: message.into(),
            status,
            members: Vec::new(),
            fields: serde_json::Map::new(),
        }
    }

    /// The same error, naming the input members that failed.
    pub fn with_members(mut self, members: Vec<String>) -> Self {
        self.members = members;
        self
    }

    /// The same error, with members of its exception shape besides the message.
    pub fn with_fields(mut self, fields: serde_json::Map<String, serde_json::Value>) -> Self {
        self.fields = fields;
        self
    }

    /// `ValidationException` (400).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", 400, message)
    }

    /// `SerializationException` (400): the body is not the JSON the operation takes.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", 400, message)
    }

    /// `UnknownOperationException` (400): the target names no operation of the service.
    pub fn unknown_operation(target: &str) -> Self {
        Self::new(
            "UnknownOperationException",
            400,
            format!("The operation '{target}' is not an operation of this service"),
        )
    }

    /// `UnsupportedOperationException` (400): a real AWS operation m2sec does not implement.
    pub fn unsupported(service: &str, operation: &str) -> Self {
        Self::new(
            "UnsupportedOperationException",
            400,
            format!("{service} operation {operation} is not supported by m2sec"),
        )
    }

    /// A server-side failure; `detail` is not sent to the client.
    pub fn internal(code: &'static str, status: u16) -> Self {
        Self::new(code, status, INTERNAL_MESSAGE)
    }
}

/// The message a client gets for a failure inside a service; the detail goes to the log.
pub const INTERNAL_MESSAGE: &str = "The service encountered an internal error. Try again later.";

/// What each service's error enum implements (one variant per AWS exception it answers), so that one
/// conversion, [`AwsError::from_service`], turns any of them into what the client sees: a caller's
/// error keeps its message; a failure inside the service (the store, corrupt state) is logged in
/// full and answered with a generic message, so no internal detail reaches a client.
pub trait ServiceError: std::fmt::Display {
    /// The service in log lines (`KMS`).
    const SERVICE: &'static str;
    /// AWS's exception name.
    fn aws_code(&self) -> &'static str;
    /// The HTTP status.
    fn status(&self) -> u16;
    /// For a failure inside the service: the message sent instead of the detail. `None` for an
    /// error the request caused.
    fn internal_message(&self) -> Option<&'static str>;
}

impl AwsError {
    /// The client's view of a service's error (see [`ServiceError`]).
    pub fn from_service<E: ServiceError>(e: E) -> AwsError {
        match e.internal_message() {
            Some(message) => {
                tracing::error!(service = E::SERVICE, error = %e, "request failed inside the service");
                AwsError::new(e.aws_code(), e.status(), message)
            }
            None => AwsError::new(e.aws_code(), e.status(), e.to_string()),
        }
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}
