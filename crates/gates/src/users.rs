//! `src/handlers/users.create` (`POST /users`, admin): a user of the users table.
//!
//! - `{username, password, role}` → `201 {"ok": true, username, role}`; the password is stored as an
//!   Argon2id hash made in the hashing pool, never as given;
//! - a user of that name already → 409, decided by the write itself (`attribute_not_exists(userId)`);
//! - a role other than admin, steward, auditor, or an empty or oversized field → 400;
//! - no token → 401, a token of another role → 403.
//!
//! Each user created is written to the audit table: who created whom, with which role.

use serde::Serialize;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::passwords::hash_password;
use crate::proxy::{Event, Response};
use crate::role::{item, AsRole};
use crate::{now_millis, session, Function, Gates};

/// The roles a user may have (those a token may carry).
const ROLES: [&str; 3] = ["admin", "steward", "auditor"];
/// As `login` reads them: longer names and passwords could never log in.
const MAX_USERNAME_CHARS: usize = 128;
const MAX_PASSWORD_BYTES: usize = 1024;

struct NewUser {
    username: String,
    password: Zeroizing<String>,
    role: String,
}

#[derive(Serialize)]
struct Created<'a> {
    ok: bool,
    username: &'a str,
    role: &'a str,
}

pub(crate) async fn create(gates: &Gates, function: &Function, event: &Value) -> Response {
    let caller = match session::require(gates, function, event, &["admin"]).await {
        Ok(claims) => claims,
        Err(refusal) => return refusal,
    };
    let user = match read(&Event(event)) {
        Ok(user) => user,
        Err(message) => return Response::refusal(400, &message),
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    let Some(table) = as_role.table("USERS_TABLE") else {
        return Response::internal_error();
    };
    let password = user.password.clone();
    let Some(hash) = gates.hashing.run(move || hash_password(&password)).await else {
        tracing::error!(function = %function.name, "hashing a password failed");
        return Response::internal_error();
    };
    let record = item(json!({
        "userId": {"S": user.username},
        "role": {"S": user.role},
        "passwordHash": {"S": hash},
        "createdAt": {"N": now_millis().to_string()},
        "createdBy": {"S": caller.sub},
    }));
    let condition = ("attribute_not_exists(userId)", json!({}));
    match as_role.put_item(table, record, Some(condition)).await {
        Ok(()) => {}
        Err(e) if e.code == "ConditionalCheckFailedException" => {
            return Response::refusal(409, &format!("User {} already exists", user.username));
        }
        Err(e) => return as_role.failed("cannot write to the users table", &e),
    }
    let audit = item(json!({
        "action": {"S": "create"},
        "username": {"S": user.username},
        "role": {"S": user.role},
    }));
    let _ = as_role.audit("user", Some(&caller.sub), audit).await;
    Response::json(
        201,
        &Created {
            ok: true,
            username: &user.username,
            role: &user.role,
        },
    )
}

fn read(event: &Event) -> Result<NewUser, String> {
    let mut fields = event.json_object("{username, password, role}")?;
    let username = fields.string("username", MAX_USERNAME_CHARS)?;
    let role = fields.string("role", 128)?;
    if !ROLES.contains(&role.as_str()) {
        return Err(format!(
            "role must be one of {}, not {role:?}",
            ROLES.join(", ")
        ));
    }
    let password = Zeroizing::new(fields.take_secret("password", MAX_PASSWORD_BYTES)?);
    Ok(NewUser {
        username,
        password,
        role,
    })
}

#[cfg(test)]
mod tests;
