//! The Lambda proxy integration of a REST API (payload version 1.0): reading the event API Gateway
//! hands a function, and building the result it turns into the HTTP response.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// An API Gateway REST proxy event.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a>(pub &'a Value);

/// Why the body of an event cannot be read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// No body (`body` is null or absent).
    Missing,
    /// `isBase64Encoded` but not base64, or not UTF-8 once decoded.
    Undecodable,
}

impl Event<'_> {
    /// The request body as text, decoded from base64 when `isBase64Encoded` says so.
    pub fn body(&self) -> Result<String, BodyError> {
        let Some(body) = self.0.get("body").and_then(Value::as_str) else {
            return Err(BodyError::Missing);
        };
        if !self.0["isBase64Encoded"].as_bool().unwrap_or(false) {
            return Ok(body.to_string());
        }
        let bytes = STANDARD.decode(body).map_err(|_| BodyError::Undecodable)?;
        String::from_utf8(bytes).map_err(|_| BodyError::Undecodable)
    }

    /// The client's address, `requestContext.identity.sourceIp`.
    pub fn source_ip(&self) -> Option<&str> {
        self.0["requestContext"]["identity"]["sourceIp"]
            .as_str()
            .filter(|ip| !ip.is_empty())
    }
}

/// A proxy result: `{statusCode, headers, body, isBase64Encoded}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Response {
    /// `body` as JSON, with `Content-Type: application/json`.
    pub fn json(status: u16, body: &impl Serialize) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", "application/json".to_string())],
            body: serde_json::to_string(body).expect("response bodies serialize"),
        }
    }

    /// `{"ok": false, "message": message}`, secure-gates' error body (members in the order
    /// `JSON.stringify` writes them in the Node service).
    pub fn refusal(status: u16, message: &str) -> Self {
        #[derive(Serialize)]
        struct Refusal<'a> {
            ok: bool,
            message: &'a str,
        }
        Self::json(status, &Refusal { ok: false, message })
    }

    /// API Gateway's own answer when a function fails: 502 in AWS; m2sec's handlers fail inside
    /// m2sec, so 500 as the edge answers its own errors.
    pub fn internal_server_error() -> Self {
        Self::json(500, &json!({"message": "Internal server error"}))
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// `Retry-After` in whole seconds, rounded up.
    pub fn retry_after(self, wait: Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        self.with_header("Retry-After", secs.max(1).to_string())
    }

    /// The proxy result as the edge reads it.
    pub fn into_value(self) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .into_iter()
            .map(|(name, value)| (name.to_string(), Value::String(value)))
            .collect();
        json!({
            "statusCode": self.status,
            "headers": headers,
            "body": self.body,
            "isBase64Encoded": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_base64_bodies() {
        let plain = json!({"body": "{\"a\":1}", "isBase64Encoded": false});
        assert_eq!(Event(&plain).body().unwrap(), "{\"a\":1}");
        let encoded = json!({"body": STANDARD.encode("{\"a\":1}"), "isBase64Encoded": true});
        assert_eq!(Event(&encoded).body().unwrap(), "{\"a\":1}");
        let bad = json!({"body": "%%%", "isBase64Encoded": true});
        assert_eq!(Event(&bad).body(), Err(BodyError::Undecodable));
        let latin1 = json!({"body": STANDARD.encode([0xff, 0xfe]), "isBase64Encoded": true});
        assert_eq!(Event(&latin1).body(), Err(BodyError::Undecodable));
        assert_eq!(
            Event(&json!({"body": null})).body(),
            Err(BodyError::Missing)
        );
        assert_eq!(Event(&json!({})).body(), Err(BodyError::Missing));
    }

    #[test]
    fn reads_the_source_address() {
        let event = json!({"requestContext": {"identity": {"sourceIp": "203.0.113.7"}}});
        assert_eq!(Event(&event).source_ip(), Some("203.0.113.7"));
        assert_eq!(Event(&json!({"requestContext": {}})).source_ip(), None);
    }

    #[test]
    fn results_have_the_proxy_shape() {
        let result = Response::refusal(429, "slow down")
            .retry_after(Duration::from_millis(1_500))
            .into_value();
        assert_eq!(
            result,
            json!({
                "statusCode": 429,
                "headers": {"Content-Type": "application/json", "Retry-After": "2"},
                "body": "{\"ok\":false,\"message\":\"slow down\"}",
                "isBase64Encoded": false,
            })
        );
    }
}
