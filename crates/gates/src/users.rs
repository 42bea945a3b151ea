//! `src/handlers/users.create` (`POST /users`, admin): a user of the users table.

use serde_json::Value;

use crate::proxy::Response;
use crate::{Function, Gates};

pub(crate) async fn create(_gates: &Gates, _function: &Function, _event: &Value) -> Response {
    Response::refusal(501, "Not implemented")
}
