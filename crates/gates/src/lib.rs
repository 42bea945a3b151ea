//! The functions of the secure-gates service, built in: m2sec runs no JavaScript, so each handler
//! path a Serverless file may name (`src/handlers/auth.login`) has a Rust handler here. The HTTPS
//! edge calls [`Gates::invoke`] with an API Gateway REST proxy event and answers with the proxy
//! result; a handler's calls to KMS, SSM and DynamoDB are made as the function's IAM role (see
//! `role.rs`), so the role's policies apply as they would to the Lambda.
//!
//! | file | what |
//! |------|------|
//! | `auth.rs` | `src/handlers/auth.login`: user name and password for a token |
//! | `jwt.rs` | HS256 tokens, as npm `jsonwebtoken` signs them |
//! | `passwords.rs` | Argon2id hashes; bcrypt hashes of the Node service, read and replaced; the pool they are checked in |
//! | `limits.rs` | counts of failed logins per user name and address |
//! | `secrets.rs` | SSM secrets of a function, cached for a minute |
//! | `role.rs` | the request context of the function's role, and the service calls made with it |
//! | `proxy.rs` | the Lambda proxy event and result |
//! | `session.rs` | the bearer token of a request, and the roles a route admits |
//! | `users.rs` | `src/handlers/users.create`: admins add users |
//! | `matches.rs` | `src/handlers/matches.create`: admins add matches |
//! | `code.rs` | ticket codes: signed by the tickets' KMS key, checked against it |
//! | `tickets.rs` | `src/handlers/tickets.*`: issue (one, or a CSV), QR images, revoke, block, unblock |
//! | `verify.rs` | `src/handlers/verifyTicket.handler` and `…annul`: a scan at a gate, and taking it back |
//! | `metrics.rs` | `src/handlers/metrics.handler`: counts and decision times per match and gate |

mod auth;
mod code;
mod jwt;
mod limits;
mod matches;
mod metrics;
mod passwords;
mod proxy;
mod role;
mod secrets;
mod session;
#[cfg(test)]
mod testing;
mod tickets;
mod users;
mod verify;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use m2sec_proto::services::Services;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::jwt::{sign_jwt, verify_jwt, Claims, JwtError, TOKEN_LIFETIME_SECS};
pub use crate::passwords::{hash_password, verify_password, PasswordCheck};
use crate::proxy::Response;

/// One deployed function, as the deployer stores it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    /// The Lambda function name (`can2025-secure-gates-prod-login`); its role sessions are named so.
    pub name: String,
    /// The handler path of the Serverless file (`src/handlers/auth.login`).
    pub handler: String,
    /// The execution role every call of the handler is made as.
    pub role_arn: String,
    pub account: String,
    pub region: String,
    /// Plain environment values (`USERS_TABLE`, `AUDIT_TABLE`, `JWT_SECRET_PARAM`).
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Environment values that are secrets: variable name → the SSM parameter holding it
    /// (`JWT_SECRET` → `/can2025/prod/jwt-secret`), read with decryption when needed and never
    /// stored.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

impl std::fmt::Debug for Function {
    /// Environment values are left out: a Serverless file may put anything there.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("name", &self.name)
            .field("handler", &self.handler)
            .field("role_arn", &self.role_arn)
            .field("account", &self.account)
            .field("region", &self.region)
            .field("environment", &self.environment.keys().collect::<Vec<_>>())
            .field("secrets", &self.secrets)
            .finish()
    }
}

/// Every built-in handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// `src/handlers/auth.login`: `POST /auth/login`.
    Login,
    /// `POST /users` (admin).
    CreateUser,
    /// `POST /matches` (admin).
    CreateMatch,
    /// `POST /tickets` (admin).
    IssueTicket,
    /// `POST /tickets/bulk` (admin, `text/csv`).
    IssueTickets,
    /// `GET /tickets/{ticket_id}/qr.svg` and `/qr.png` (admin).
    TicketQr,
    /// `POST /tickets/{ticket_id}/revoke`, `/block`, `/unblock` (admin).
    TicketStatus,
    /// `POST /tickets/verify` (steward or admin): the guide's `verifyTicket`.
    VerifyTicket,
    /// `POST /tickets/annul` (the steward who scanned).
    AnnulScan,
    /// `GET /security/metrics` (admin or auditor).
    Metrics,
}

impl Handler {
    pub const ALL: &'static [Handler] = &[
        Handler::Login,
        Handler::CreateUser,
        Handler::CreateMatch,
        Handler::IssueTicket,
        Handler::IssueTickets,
        Handler::TicketQr,
        Handler::TicketStatus,
        Handler::VerifyTicket,
        Handler::AnnulScan,
        Handler::Metrics,
    ];

    /// The handler path a Serverless file names it by.
    pub const fn path(self) -> &'static str {
        match self {
            Handler::Login => "src/handlers/auth.login",
            Handler::CreateUser => "src/handlers/users.create",
            Handler::CreateMatch => "src/handlers/matches.create",
            Handler::IssueTicket => "src/handlers/tickets.issue",
            Handler::IssueTickets => "src/handlers/tickets.bulk",
            Handler::TicketQr => "src/handlers/tickets.qr",
            Handler::TicketStatus => "src/handlers/tickets.status",
            Handler::VerifyTicket => "src/handlers/verifyTicket.handler",
            Handler::AnnulScan => "src/handlers/verifyTicket.annul",
            Handler::Metrics => "src/handlers/metrics.handler",
        }
    }

    pub fn from_path(path: &str) -> Option<Handler> {
        Handler::ALL.iter().copied().find(|h| h.path() == path)
    }
}

/// The handlers and what they keep between invocations: the secrets read from SSM, the counts of
/// failed logins, and the pool password hashes are checked in.
pub struct Gates {
    services: Arc<dyn Services>,
    secrets: secrets::SecretCache,
    failures: limits::FailedLogins,
    hashing: passwords::HashingPool,
    ticket_keys: code::KeyCache,
    matches: verify::MatchCache,
}

impl std::fmt::Debug for Gates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gates").finish_non_exhaustive()
    }
}

impl Gates {
    /// The handler paths that have a built-in handler.
    pub const HANDLERS: &'static [&'static str] = &[
        Handler::Login.path(),
        Handler::CreateUser.path(),
        Handler::CreateMatch.path(),
        Handler::IssueTicket.path(),
        Handler::IssueTickets.path(),
        Handler::TicketQr.path(),
        Handler::TicketStatus.path(),
        Handler::VerifyTicket.path(),
        Handler::AnnulScan.path(),
        Handler::Metrics.path(),
    ];

    pub fn new(services: Arc<dyn Services>) -> Self {
        Gates {
            services,
            secrets: Default::default(),
            failures: Default::default(),
            hashing: Default::default(),
            ticket_keys: Default::default(),
            matches: Default::default(),
        }
    }

    /// Whether `handler` (a Serverless handler path) has a built-in handler.
    pub fn knows(handler: &str) -> bool {
        Handler::from_path(handler).is_some()
    }

    /// Runs `function` on an API Gateway REST proxy `event`; answers the proxy result
    /// (`{statusCode, headers, body, isBase64Encoded}`).
    #[tracing::instrument(skip_all, fields(function = %function.name))]
    pub async fn invoke(&self, function: &Function, event: Value) -> Value {
        let response = match Handler::from_path(&function.handler) {
            Some(Handler::Login) => auth::login(self, function, &event).await,
            Some(Handler::CreateUser) => users::create(self, function, &event).await,
            Some(Handler::CreateMatch) => matches::create(self, function, &event).await,
            Some(Handler::IssueTicket) => tickets::issue(self, function, &event).await,
            Some(Handler::IssueTickets) => tickets::bulk(self, function, &event).await,
            Some(Handler::TicketQr) => tickets::qr(self, function, &event).await,
            Some(Handler::TicketStatus) => tickets::status(self, function, &event).await,
            Some(Handler::VerifyTicket) => verify::verify(self, function, &event).await,
            Some(Handler::AnnulScan) => verify::annul(self, function, &event).await,
            Some(Handler::Metrics) => metrics::metrics(self, function, &event).await,
            None => {
                tracing::error!(handler = %function.handler, "no built-in handler has this path");
                Response::internal_server_error()
            }
        };
        response.into_value()
    }
}

/// Seconds since the epoch.
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Milliseconds since the epoch.
pub(crate) fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handler_is_listed_and_found_by_its_path() {
        assert_eq!(
            Gates::HANDLERS,
            Handler::ALL.iter().map(|h| h.path()).collect::<Vec<_>>()
        );
        for handler in Handler::ALL {
            assert_eq!(Handler::from_path(handler.path()), Some(*handler));
            assert!(Gates::knows(handler.path()));
        }
        assert!(Gates::knows("src/handlers/auth.login"));
        assert!(!Gates::knows("src/handlers/auth.logout"));
        assert!(!Gates::knows("src/handlers/auth"));
    }

    #[test]
    fn functions_round_trip_and_debug_hides_environment_values() {
        let function = testing::login_function();
        let stored = serde_json::to_string(&function).unwrap();
        assert_eq!(serde_json::from_str::<Function>(&stored).unwrap(), function);
        let debug = format!("{function:?}");
        assert!(debug.contains("USERS_TABLE"));
        assert!(
            !debug.contains("can2025-secure-gates-users-prod"),
            "{debug}"
        );
        assert!(
            debug.contains("/can2025/prod/jwt-secret"),
            "parameter names are shown"
        );
    }

    #[tokio::test]
    async fn an_unknown_handler_is_an_internal_server_error() {
        let fake = testing::Fake::new();
        let gates = Gates::new(fake.clone());
        let mut function = testing::login_function();
        function.handler = "src/handlers/tickets.verify".into();
        let result = gates
            .invoke(&function, testing::login_event("a", "b"))
            .await;
        assert_eq!(result["statusCode"], 500);
        assert_eq!(result["body"], r#"{"message":"Internal server error"}"#);
        assert_eq!(result["headers"]["Content-Type"], "application/json");
        assert!(fake.calls().is_empty());
    }
}
