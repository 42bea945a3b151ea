//! The Lambda proxy integration of a REST API (payload version 1.0): reading the event API Gateway
//! hands a function, and building the result it turns into the HTTP response.
//!
//! Every body is untrusted: [`Event::json_object`] and [`Fields`] read one with a size limit and
//! answer, for anything that is not what a route takes, a message saying what to change.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Longest JSON body a route reads; API Gateway itself would pass up to 10 MB.
pub const MAX_JSON_BODY_BYTES: usize = 64 * 1024;

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

    /// The body as text of at most `max_bytes`, or a message for the client.
    pub fn text_body(&self, max_bytes: usize, what: &str) -> Result<String, String> {
        // Checked before decoding too, so that a huge body is not copied first.
        let raw_len = self
            .0
            .get("body")
            .and_then(Value::as_str)
            .map_or(0, str::len);
        let body = match self.body() {
            Ok(body) => body,
            Err(BodyError::Missing) => return Err(format!("A body is required: {what}")),
            Err(BodyError::Undecodable) => {
                return Err("The body is not valid base64 UTF-8 text".to_string())
            }
        };
        if raw_len > max_bytes.saturating_mul(2) || body.len() > max_bytes {
            return Err(format!("The body is larger than {} KiB", max_bytes / 1024));
        }
        Ok(body)
    }

    /// The body as a JSON object (of at most [`MAX_JSON_BODY_BYTES`]), or a message for the client;
    /// `what` says what the route takes (`{username, password, role}`).
    pub fn json_object(&self, what: &str) -> Result<Fields, String> {
        let body = self.text_body(MAX_JSON_BODY_BYTES, &format!("a JSON object {what}"))?;
        match serde_json::from_str::<Value>(&body) {
            Ok(Value::Object(members)) => Ok(Fields(members)),
            Ok(_) => Err(format!("The body must be a JSON object {what}")),
            Err(e) => Err(format!(
                "The body is not valid JSON (line {}, column {}); send a JSON object {what}",
                e.line(),
                e.column()
            )),
        }
    }

    /// A path parameter (`pathParameters.ticket_id`), if present and not empty.
    pub fn path_parameter(&self, name: &str) -> Option<&str> {
        self.0["pathParameters"][name]
            .as_str()
            .filter(|v| !v.is_empty())
    }

    /// The request path (`/tickets/T1/qr.svg`), empty if absent.
    pub fn path(&self) -> &str {
        self.0["path"].as_str().unwrap_or_default()
    }

    /// The client's address, `requestContext.identity.sourceIp`.
    pub fn source_ip(&self) -> Option<&str> {
        self.0["requestContext"]["identity"]["sourceIp"]
            .as_str()
            .filter(|ip| !ip.is_empty())
    }
}

/// The members of a JSON object body, read one by one with messages a person can act on.
#[derive(Debug, Clone)]
pub struct Fields(pub Map<String, Value>);

impl Fields {
    /// A member that is present and not `null`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A required string member: not empty, at most `max_chars` characters, no control characters.
    pub fn string(&self, name: &str, max_chars: usize) -> Result<String, String> {
        match self.optional_string(name, max_chars)? {
            Some(value) => Ok(value),
            None => Err(format!("{name} is required")),
        }
    }

    /// An optional string member (absent or `null` is `None`), checked as [`Fields::string`].
    pub fn optional_string(&self, name: &str, max_chars: usize) -> Result<Option<String>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(value)) => text(name, value, max_chars).map(Some),
            Some(_) => Err(format!("{name} must be a string")),
        }
    }

    /// A required boolean member.
    pub fn bool(&self, name: &str) -> Result<bool, String> {
        match self.get(name) {
            Some(Value::Bool(value)) => Ok(*value),
            Some(_) => Err(format!("{name} must be true or false")),
            None => Err(format!("{name} is required (true or false)")),
        }
    }

    /// Takes a required string member out, without the checks of [`Fields::string`] other than
    /// its length in bytes (a password may hold any character).
    pub fn take_secret(&mut self, name: &str, max_bytes: usize) -> Result<String, String> {
        match self.0.remove(name) {
            Some(Value::String(value)) if value.is_empty() => Err(format!("{name} is required")),
            Some(Value::String(value)) if value.len() > max_bytes => {
                Err(format!("{name} is longer than {max_bytes} bytes"))
            }
            Some(Value::String(value)) => Ok(value),
            None | Some(Value::Null) => Err(format!("{name} is required")),
            Some(_) => Err(format!("{name} must be a string")),
        }
    }
}

/// `value` of the field `name` if it is not empty, at most `max_chars` characters and free of
/// control characters (names and ids end up in keys, logs and CSV exports).
pub fn text(name: &str, value: &str, max_chars: usize) -> Result<String, String> {
    if value.is_empty() {
        return Err(format!("{name} must not be empty"));
    }
    if value.chars().count() > max_chars {
        return Err(format!("{name} is longer than {max_chars} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{name} must not contain control characters"));
    }
    Ok(value.to_string())
}

/// A proxy result: `{statusCode, headers, body, isBase64Encoded}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// `body` is base64 of binary content (an image), which API Gateway decodes for the client.
    pub is_base64_encoded: bool,
}

impl Response {
    /// `body` as JSON, with `Content-Type: application/json`.
    pub fn json(status: u16, body: &impl Serialize) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", "application/json".to_string())],
            body: serde_json::to_string(body).expect("response bodies serialize"),
            is_base64_encoded: false,
        }
    }

    /// `body` as text of `content_type` (`image/svg+xml`).
    pub fn text(status: u16, content_type: &str, body: String) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body,
            is_base64_encoded: false,
        }
    }

    /// Binary `bytes` of `content_type` (`image/png`), sent base64-encoded with
    /// `isBase64Encoded: true` as a proxy integration must.
    pub fn binary(status: u16, content_type: &str, bytes: &[u8]) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: STANDARD.encode(bytes),
            is_base64_encoded: true,
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

    /// `{"ok": false, "message": "Internal error"}` (500): a service call failed; the detail is logged.
    pub fn internal_error() -> Self {
        Self::refusal(500, "Internal error")
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
            "isBase64Encoded": self.is_base64_encoded,
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
    fn json_objects_are_read_with_actionable_messages() {
        let event = |body: &str| json!({"body": body});
        let what = "{username, password}";
        let fields = Event(&event(r#"{"a": "x", "b": 7, "c": null, "d": true}"#))
            .json_object(what)
            .unwrap();
        assert_eq!(fields.string("a", 5).unwrap(), "x");
        assert_eq!(fields.string("b", 5).unwrap_err(), "b must be a string");
        assert_eq!(fields.string("c", 5).unwrap_err(), "c is required");
        assert_eq!(fields.optional_string("c", 5).unwrap(), None);
        assert_eq!(
            fields.string("a", 0).unwrap_err(),
            "a is longer than 0 characters"
        );
        assert!(fields.bool("d").unwrap());
        assert_eq!(fields.bool("a").unwrap_err(), "a must be true or false");
        assert_eq!(
            text("x", "a\u{7}b", 9).unwrap_err(),
            "x must not contain control characters"
        );
        assert_eq!(text("x", "", 9).unwrap_err(), "x must not be empty");

        let message = |body: &str| Event(&event(body)).json_object(what).unwrap_err();
        assert!(
            message("{").contains("not valid JSON (line 1, column 1)"),
            "{}",
            message("{")
        );
        assert_eq!(
            message("[1]"),
            "The body must be a JSON object {username, password}"
        );
        assert!(message(&" ".repeat(MAX_JSON_BODY_BYTES + 1)).contains("larger than 64 KiB"));
        assert!(Event(&json!({}))
            .json_object(what)
            .unwrap_err()
            .starts_with("A body is required"));

        let mut secret = Event(&event(r#"{"p": "\u0007 any"}"#))
            .json_object(what)
            .unwrap();
        assert_eq!(secret.take_secret("p", 10).unwrap(), "\u{7} any");
        assert_eq!(secret.take_secret("p", 10).unwrap_err(), "p is required");
    }

    #[test]
    fn binary_results_are_base64_encoded() {
        let result = Response::binary(200, "image/png", &[0x89, b'P', b'N', b'G']).into_value();
        assert_eq!(result["isBase64Encoded"], true);
        assert_eq!(result["body"], "iVBORw==");
        assert_eq!(result["headers"]["Content-Type"], "image/png");
        let svg = Response::text(200, "image/svg+xml", "<svg/>".into()).into_value();
        assert_eq!(svg["isBase64Encoded"], false);
        assert_eq!(svg["body"], "<svg/>");
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
