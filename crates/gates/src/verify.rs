//! `src/handlers/verifyTicket.*`: a scan at a gate (`POST /tickets/verify`), and taking one back (`POST /tickets/annul`).

use serde_json::Value;

use crate::proxy::Response;
use crate::{Function, Gates};

pub(crate) async fn verify(_gates: &Gates, _function: &Function, _event: &Value) -> Response {
    Response::refusal(501, "Not implemented")
}

pub(crate) async fn annul(_gates: &Gates, _function: &Function, _event: &Value) -> Response {
    Response::refusal(501, "Not implemented")
}
