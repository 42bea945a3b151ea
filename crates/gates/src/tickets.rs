//! `src/handlers/tickets.*`: issue tickets (one, or a CSV), their QR images, revoke, block, unblock.

use serde_json::Value;

use crate::proxy::Response;
use crate::{Function, Gates};

pub(crate) async fn issue(_gates: &Gates, _function: &Function, _event: &Value) -> Response {
    Response::refusal(501, "Not implemented")
}

pub(crate) async fn bulk(_gates: &Gates, _function: &Function, _event: &Value) -> Response {
    Response::refusal(501, "Not implemented")
}

pub(crate) async fn qr(_gates: &Gates, _function: &Function, _event: &Value) -> Response {
    Response::refusal(501, "Not implemented")
}

pub(crate) async fn status(_gates: &Gates, _function: &Function, _event: &Value) -> Response {
    Response::refusal(501, "Not implemented")
}
