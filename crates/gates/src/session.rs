//! The bearer token of a request: `Authorization: Bearer <JWT>` as `login` signs it, checked with
//! the same SSM secret, and the roles a route admits. No token or a bad one → 401; a valid token
//! of a role the route does not admit → 403.

use serde_json::Value;

use crate::proxy::Response;
use crate::role::AsRole;
use crate::{jwt, Claims, Function, Gates};

/// The caller's claims if the request carries a valid token of one of `roles`; else the refusal.
pub(crate) async fn require(
    gates: &Gates,
    function: &Function,
    event: &Value,
    roles: &[&str],
) -> Result<Claims, Response> {
    let header = event["headers"]
        .as_object()
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .and_then(|(_, v)| v.as_str())
        })
        .unwrap_or_default();
    let Some(token) = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Err(Response::refusal(401, "Missing bearer token"));
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    let Some(secret) = crate::auth::jwt_secret(gates, &as_role, function).await else {
        return Err(Response::refusal(500, "Internal error"));
    };
    let claims = match jwt::verify_jwt(secret.as_bytes(), token, crate::now_secs()) {
        Ok(c) => c,
        Err(jwt::JwtError::Expired) => return Err(Response::refusal(401, "Token expired")),
        Err(_) => return Err(Response::refusal(401, "Invalid token")),
    };
    if !roles.contains(&claims.role.as_str()) {
        return Err(Response::refusal(
            403,
            &format!("This route is for {}", roles.join(" or ")),
        ));
    }
    Ok(claims)
}
