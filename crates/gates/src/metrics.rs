//! `src/handlers/metrics.handler` (`GET /security/metrics`): counts and decision times per match and gate.

use serde_json::Value;

use crate::proxy::Response;
use crate::{Function, Gates};

pub(crate) async fn metrics(_gates: &Gates, _function: &Function, _event: &Value) -> Response {
    Response::refusal(501, "Not implemented")
}
