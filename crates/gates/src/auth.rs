//! `src/handlers/auth.login` (`POST /auth/login`): a user name and password for an eight-hour
//! token, as the Node service's `auth.js` answers it:
//!
//! - `{username, password}` in → `200 {"ok": true, "token": JWT}`, the token signed with the secret
//!   of the SSM parameter `JWT_SECRET` names (else `JWT_SECRET_PARAM`);
//! - an unknown user or a wrong password → `401 {"ok": false, "message": "Invalid credentials"}`,
//!   the same answer, after the same work;
//! - too many recent failures for the user name or the address → 429 without checking the password;
//! - a body that is not `{username, password}` → 400; a secret or table that cannot be read → 500.
//!
//! Every attempt with a readable body is written to `AUDIT_TABLE`; a bcrypt hash that matched is
//! replaced with an Argon2id one.

use std::time::{Duration, Instant};

use m2sec_proto::random_uuid;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::limits::{Subject, WINDOW};
use crate::passwords::{hash_password, verify_nobody, verify_password, PasswordCheck};
use crate::proxy::{BodyError, Event, Response};
use crate::role::{AsRole, Item};
use crate::{jwt, Function, Gates};

/// The roles a token may carry.
const ROLES: [&str; 3] = ["admin", "steward", "auditor"];
/// Longer user names are refused before they reach DynamoDB (whose keys stop at 2048 bytes).
const MAX_USERNAME_CHARS: usize = 128;
/// Longer passwords are refused rather than hashed.
const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: Zeroizing<String>,
}

/// How an attempt ended: what the client is told, and why, for the audit.
struct Outcome {
    answer: Answer,
    reason: &'static str,
}

enum Answer {
    Token(String),
    InvalidCredentials,
    TooManyFailures(Duration),
    InternalError,
}

impl Outcome {
    fn new(answer: Answer, reason: &'static str) -> Self {
        Outcome { answer, reason }
    }

    fn into_response(self) -> Response {
        let response = match self.answer {
            Answer::Token(token) => {
                #[derive(Serialize)]
                struct Success {
                    ok: bool,
                    token: String,
                }
                Response::json(200, &Success { ok: true, token })
            }
            Answer::InvalidCredentials => Response::refusal(401, "Invalid credentials"),
            Answer::TooManyFailures(wait) => {
                Response::refusal(429, "Too many failed logins; try again later").retry_after(wait)
            }
            Answer::InternalError => Response::refusal(500, "Internal error"),
        };
        response.with_header("Cache-Control", "no-store")
    }
}

pub(crate) async fn login(gates: &Gates, function: &Function, event: &Value) -> Response {
    let event = Event(event);
    let credentials = match read_credentials(&event) {
        Ok(credentials) => credentials,
        Err(message) => {
            return Response::refusal(400, message).with_header("Cache-Control", "no-store")
        }
    };
    let as_role = AsRole::new(gates.services.as_ref(), function);
    let source_ip = event.source_ip();
    let outcome = attempt(gates, &as_role, function, &credentials, source_ip).await;
    audit(
        &as_role,
        function,
        &credentials.username,
        source_ip,
        &outcome,
    )
    .await;
    outcome.into_response()
}

fn read_credentials(event: &Event) -> Result<Credentials, &'static str> {
    let body = event.body().map_err(|e| match e {
        BodyError::Missing => "A JSON body with username and password is required",
        BodyError::Undecodable => "The body is not valid base64 UTF-8 text",
    })?;
    let credentials: Credentials = serde_json::from_str(&body)
        .map_err(|_| "The body must be a JSON object with string members username and password")?;
    if credentials.username.is_empty() || credentials.password.is_empty() {
        return Err("username and password are required");
    }
    if credentials.username.chars().count() > MAX_USERNAME_CHARS {
        return Err("username is too long");
    }
    if credentials.password.len() > MAX_PASSWORD_BYTES {
        return Err("password is too long");
    }
    Ok(credentials)
}

/// The counts an attempt is checked against: its user name and, when known, its address.
fn subjects(function: &Function, username: &str, source_ip: Option<&str>) -> Vec<Subject> {
    let mut subjects = vec![Subject::User {
        function: function.name.clone(),
        username: username.to_string(),
    }];
    if let Some(ip) = source_ip {
        subjects.push(Subject::Address {
            function: function.name.clone(),
            ip: ip.to_string(),
        });
    }
    subjects
}

async fn attempt(
    gates: &Gates,
    as_role: &AsRole<'_>,
    function: &Function,
    credentials: &Credentials,
    source_ip: Option<&str>,
) -> Outcome {
    let subjects = subjects(function, &credentials.username, source_ip);
    if let Some(wait) = gates.failures.closed(&subjects, Instant::now()) {
        return Outcome::new(Answer::TooManyFailures(wait), "too many failures");
    }
    let Some(secret) = jwt_secret(gates, as_role, function).await else {
        return Outcome::new(Answer::InternalError, "secret unavailable");
    };
    let Some(table) = function.environment.get("USERS_TABLE") else {
        tracing::error!(function = %function.name, "USERS_TABLE is not set");
        return Outcome::new(Answer::InternalError, "users table not configured");
    };
    let key = json!({"userId": {"S": credentials.username}});
    let user = match as_role.get_item(table, key).await {
        Ok(user) => user,
        Err(e) => {
            tracing::error!(function = %function.name, table = %table, code = %e.code,
                message = %e.message, "cannot read the users table");
            return Outcome::new(Answer::InternalError, "users table unavailable");
        }
    };

    let stored_hash = user.as_ref().and_then(|u| string(u, "passwordHash"));
    let check = check_password(gates, credentials.password.clone(), stored_hash.clone()).await;
    let (user, stored_hash, upgrade) = match (user, stored_hash, check) {
        (Some(user), Some(hash), Some(check)) if check.is_valid() => {
            (user, hash, check == PasswordCheck::ValidNeedsUpgrade)
        }
        (user, _, check) => {
            let reason = match check {
                Some(PasswordCheck::Unreadable) => {
                    tracing::warn!(function = %function.name, "a user's passwordHash is no known hash");
                    "unreadable password hash"
                }
                Some(_) => "wrong password",
                None if user.is_some() => "no password hash",
                None => "unknown user",
            };
            return failure(gates, &subjects, reason);
        }
    };

    let Some(role) = string(&user, "role").filter(|r| ROLES.contains(&r.as_str())) else {
        tracing::warn!(function = %function.name, "a user has no role a token may carry");
        return Outcome::new(Answer::InvalidCredentials, "no valid role");
    };
    gates.failures.forget(&subjects[0]);
    if upgrade {
        upgrade_hash(
            gates,
            as_role,
            function,
            table,
            user,
            &stored_hash,
            &credentials.password,
        )
        .await;
    }
    let token = jwt::sign_jwt(secret.as_bytes(), &credentials.username, &role, now_secs());
    Outcome::new(Answer::Token(token), "ok")
}

/// A wrong password (or no user): counted, and answered 429 if that closes the user name or the
/// address, else 401.
fn failure(gates: &Gates, subjects: &[Subject], reason: &'static str) -> Outcome {
    if gates.failures.record_failure(subjects, Instant::now()) {
        Outcome::new(Answer::TooManyFailures(WINDOW), reason)
    } else {
        Outcome::new(Answer::InvalidCredentials, reason)
    }
}

/// The JWT secret, from the parameter `JWT_SECRET` names or else `JWT_SECRET_PARAM`; `None` (and
/// an error logged) if neither is set or it cannot be read.
pub(crate) async fn jwt_secret(
    gates: &Gates,
    as_role: &AsRole<'_>,
    function: &Function,
) -> Option<Zeroizing<String>> {
    let Some(name) = function
        .secrets
        .get("JWT_SECRET")
        .or_else(|| function.environment.get("JWT_SECRET_PARAM"))
    else {
        tracing::error!(function = %function.name,
            "neither JWT_SECRET nor JWT_SECRET_PARAM names the JWT secret's parameter");
        return None;
    };
    match gates.secrets.get(as_role, name).await {
        Ok(secret) => Some(secret),
        Err(e) => {
            tracing::error!(function = %function.name, parameter = %name, code = %e.code,
                message = %e.message, "cannot read the JWT secret");
            None
        }
    }
}

/// Checks the password against the stored hash; without a hash, spends the same time and answers
/// `None`.
async fn check_password(
    gates: &Gates,
    password: Zeroizing<String>,
    stored_hash: Option<String>,
) -> Option<PasswordCheck> {
    let checked = gates
        .hashing
        .run(move || match stored_hash {
            Some(hash) => Some(verify_password(&password, &hash)),
            None => {
                verify_nobody(&password);
                None
            }
        })
        .await;
    // A panic while hashing refuses the login.
    checked.unwrap_or(Some(PasswordCheck::Unreadable))
}

/// Replaces the user's bcrypt hash with an Argon2id one, unless the item changed meanwhile. Best
/// effort: the login succeeds either way.
async fn upgrade_hash(
    gates: &Gates,
    as_role: &AsRole<'_>,
    function: &Function,
    table: &str,
    mut user: Item,
    old_hash: &str,
    password: &Zeroizing<String>,
) {
    let password = password.clone();
    let Some(new_hash) = gates.hashing.run(move || hash_password(&password)).await else {
        tracing::error!(function = %function.name, "hashing a password failed");
        return;
    };
    user.insert("passwordHash".into(), json!({"S": new_hash}));
    let condition = ("passwordHash = :old", json!({":old": {"S": old_hash}}));
    if let Err(e) = as_role.put_item(table, user, Some(condition)).await {
        tracing::error!(function = %function.name, table = %table, code = %e.code,
            message = %e.message, "cannot replace a bcrypt password hash");
    }
}

/// Writes the attempt to `AUDIT_TABLE`, if the function has one. Never the password; a failure is
/// logged and does not change the answer.
async fn audit(
    as_role: &AsRole<'_>,
    function: &Function,
    username: &str,
    source_ip: Option<&str>,
    outcome: &Outcome,
) {
    let Some(table) = function.environment.get("AUDIT_TABLE") else {
        return;
    };
    let item = json!({
        "auditId": {"S": random_uuid()},
        "kind": {"S": "login"},
        "username": {"S": username},
        "ok": {"BOOL": matches!(outcome.answer, Answer::Token(_))},
        "reason": {"S": outcome.reason},
        "sourceIp": {"S": source_ip.unwrap_or("unknown")},
        "at": {"N": now_millis().to_string()},
    });
    let Value::Object(item) = item else {
        unreachable!("an object literal")
    };
    if let Err(e) = as_role.put_item(table, item, None).await {
        tracing::error!(function = %function.name, table = %table, code = %e.code,
            message = %e.message, "cannot write the login audit record");
    }
}

/// A string attribute of an item.
fn string(item: &Item, name: &str) -> Option<String> {
    item.get(name)?.get("S")?.as_str().map(String::from)
}

use crate::{now_millis, now_secs};

#[cfg(test)]
mod tests;
