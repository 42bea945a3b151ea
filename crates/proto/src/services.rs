//! In-process calls to m2sec's services: what the deployer and the secure-gates handlers use instead
//! of HTTP. A call goes through the same entry as an HTTP request once it is authenticated (the
//! operation checked against the service model, the caller authorized, the trail written), for the
//! caller `ctx` names, so policies, the trail and errors are exactly those an outside client gets.

use async_trait::async_trait;
use serde_json::Value;

use crate::{AwsError, RequestContext};

#[async_trait]
pub trait Services: Send + Sync + 'static {
    /// Calls `operation` (as the service model names it: `GetParameter`) of `service` (its signing
    /// name: `kms`, `ssm`, `dynamodb`, `iam`, `apigateway`, `route53`, `acm`) with `input` shaped like
    /// the operation's input; answers its output, shaped the same way, or the error a client gets.
    async fn call(
        &self,
        ctx: &RequestContext,
        service: &str,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError>;
}
