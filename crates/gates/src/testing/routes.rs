//! The functions and events of the routes behind a bearer token: every table of the service, the
//! tickets' signing key, tokens of each role, and API Gateway proxy events carrying them.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use super::{Fake, AUDIT_TABLE, JWT_PARAMETER, ROLE_ARN, USERS_TABLE};
use crate::{Function, Gates, Handler};

pub const MATCHES_TABLE: &str = "can2025-secure-gates-matches-prod";
pub const TICKETS_TABLE: &str = "can2025-secure-gates-tickets-prod";
pub const SCANS_TABLE: &str = "can2025-secure-gates-scans-prod";
pub const TICKETS_KEY: &str = "alias/can2025-tickets";

impl Fake {
    /// The service's world: login's, the matches, tickets and scans tables, and the tickets'
    /// signing key under [`TICKETS_KEY`]. Answers the fake and the key's ARN.
    pub fn gates() -> (Arc<Fake>, String) {
        let fake = Fake::new();
        fake.create_table(MATCHES_TABLE, "matchId");
        fake.create_table(TICKETS_TABLE, "ticketId");
        fake.create_table(SCANS_TABLE, "scanId");
        let key = fake.create_signing_key(Some(TICKETS_KEY));
        (fake, key)
    }
}

/// The function of `handler` as the deployer makes it: every table, the tickets' key, the secret.
pub fn function(handler: Handler) -> Function {
    Function {
        name: format!("can2025-secure-gates-prod-{handler:?}"),
        handler: handler.path().into(),
        role_arn: ROLE_ARN.into(),
        account: "000000000000".into(),
        region: "eu-west-1".into(),
        environment: [
            ("USERS_TABLE", USERS_TABLE),
            ("AUDIT_TABLE", AUDIT_TABLE),
            ("MATCHES_TABLE", MATCHES_TABLE),
            ("TICKETS_TABLE", TICKETS_TABLE),
            ("SCANS_TABLE", SCANS_TABLE),
            ("TICKETS_KEY", TICKETS_KEY),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        secrets: [("JWT_SECRET".to_string(), JWT_PARAMETER.to_string())].into(),
    }
}

/// A token of `sub` with `role`, signed with the fake's JWT secret.
pub fn token(sub: &str, role: &str) -> String {
    crate::sign_jwt(b"s3cret", sub, role, crate::now_secs())
}

/// A proxy event of `method` on `path` (`/tickets/T1/qr.svg`) with `path_parameters`, `body`, and
/// `Authorization: Bearer token` when a token is given.
pub fn request(
    method: &str,
    path: &str,
    path_parameters: Value,
    body: Option<&str>,
    token: Option<&str>,
) -> Value {
    let mut headers = json!({"Content-Type": "application/json"});
    if let Some(token) = token {
        headers["Authorization"] = json!(format!("Bearer {token}"));
    }
    json!({
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "pathParameters": path_parameters,
        "requestContext": {
            "path": format!("/prod{path}"),
            "httpMethod": method,
            "stage": "prod",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "curl/8.5.0"},
        },
        "body": body,
        "isBase64Encoded": false,
    })
}

/// The JSON body of a proxy result.
pub fn body(result: &Value) -> Value {
    serde_json::from_str(result["body"].as_str().unwrap()).unwrap()
}

/// The audit items written, in order.
pub fn audit_items(fake: &Fake) -> Vec<Map<String, Value>> {
    fake.calls_of("PutItem")
        .into_iter()
        .filter(|c| c.input["TableName"] == AUDIT_TABLE)
        .map(|c| c.input["Item"].as_object().unwrap().clone())
        .collect()
}

/// Asserts that `handler` answers 401 without a token or with a bad one, and 403 to a token of
/// each role not in `admitted`, before calling DynamoDB or KMS. `event` makes the request with a
/// token.
pub async fn assert_only_for(
    handler: Handler,
    admitted: &[&str],
    event: impl Fn(Option<&str>) -> Value,
) {
    let (fake, _) = Fake::gates();
    let gates = Gates::new(fake.clone());
    let function = function(handler);
    let forged = crate::sign_jwt(b"not the secret", "admin1", "admin", crate::now_secs());
    let expired = crate::sign_jwt(b"s3cret", "admin1", "admin", crate::now_secs() - 9 * 3600);
    for (token, message) in [
        (None, "Missing bearer token"),
        (Some("garbage"), "Invalid token"),
        (Some(forged.as_str()), "Invalid token"),
        (Some(expired.as_str()), "Token expired"),
    ] {
        let result = gates.invoke(&function, event(token)).await;
        assert_eq!(result["statusCode"], 401, "{handler:?} {token:?}");
        assert_eq!(body(&result)["message"], message);
    }
    for role in ["admin", "steward", "auditor"] {
        if admitted.contains(&role) {
            continue;
        }
        let result = gates
            .invoke(&function, event(Some(&token("someone", role))))
            .await;
        assert_eq!(result["statusCode"], 403, "{handler:?} {role}");
        assert_eq!(body(&result)["ok"], false);
    }
    let services: Vec<_> = fake.calls().into_iter().map(|c| c.service).collect();
    assert!(services.iter().all(|s| s == "ssm"), "{services:?}");
}

/// Log lines written while `f` runs on this thread.
pub async fn logs_of<F: std::future::Future>(f: F) -> (F::Output, String) {
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(data)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let output = {
        let _guard = tracing::subscriber::set_default(subscriber);
        f.await
    };
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    (output, logs)
}
