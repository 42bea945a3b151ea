//! The service side of the awsQuery protocol (IAM, STS): like [`crate::json::JsonService`], services
//! take a validated JSON input and return a JSON output; the protocol layer turns forms into that
//! input and the output into XML.

use async_trait::async_trait;
use serde_json::Value;

use crate::model::ServiceModel;
use crate::{AwsError, RequestContext};

#[async_trait]
pub trait QueryService: Send + Sync + 'static {
    fn model(&self) -> &ServiceModel;
    /// Runs `operation` (known to the model) on a validated input; returns the output shaped like the
    /// operation's output shape.
    async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError>;
}
