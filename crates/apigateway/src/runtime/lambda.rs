//! AWS_PROXY integrations to functions: the request becomes API Gateway's Lambda proxy event (REST
//! API, payload format 1.0), the function's proxy result becomes the response. Functions are run by
//! whoever the runtime was given as [`FunctionInvoker`] (m2sec's built-in handlers); an unknown
//! function answers 500, a malformed result 502, as API Gateway does.

use std::collections::BTreeMap;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use base64::Engine;
use serde_json::{json, Map, Value};

use super::integration::Call;
use super::{gateway_error, internal_error};

/// Runs functions for AWS_PROXY integrations.
#[async_trait]
pub trait FunctionInvoker: Send + Sync + 'static {
    /// The function's proxy result for `event`; `None` when there is no function `function_arn`.
    async fn invoke(&self, function_arn: &str, event: Value) -> Option<Value>;
}

/// The function ARN inside an integration URI
/// (`arn:aws:apigateway:R:lambda:path/2015-03-31/functions/ARN/invocations`).
pub fn function_of_uri(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("arn:aws:apigateway:")?;
    let (_, rest) = rest.split_once(":lambda:path/2015-03-31/functions/")?;
    let arn = rest.strip_suffix("/invocations")?;
    arn.starts_with("arn:aws:lambda:").then_some(arn)
}

/// What the event says about where the request landed.
pub(crate) struct Landing<'a> {
    pub resource_path: &'a str,
    pub api_id: &'a str,
    pub account: &'a str,
}

fn map_or_null(map: BTreeMap<String, String>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        json!(map)
    }
}

fn event(call: &Call<'_>, landing: &Landing<'_>) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &call.parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.as_str().to_string(), json!(value));
        multi_headers
            .entry(name.as_str().to_string())
            .or_default()
            .push(value);
    }
    if !headers.contains_key("host") {
        headers.insert("host".into(), json!(call.host));
    }
    let mut query = BTreeMap::new();
    let mut multi_query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url_pairs(call.parts.uri.query().unwrap_or("")) {
        query.insert(k.clone(), v.clone());
        multi_query.entry(k).or_default().push(v);
    }
    let (body, encoded) = match std::str::from_utf8(&call.body) {
        _ if call.body.is_empty() => (Value::Null, false),
        Ok(text) => (json!(text), false),
        Err(_) => (
            json!(base64::engine::general_purpose::STANDARD.encode(&call.body)),
            true,
        ),
    };
    let path = call.parts.uri.path();
    let stage = &call.stage.stage_name;
    json!({
        "resource": landing.resource_path,
        "path": path,
        "httpMethod": call.parts.method.as_str(),
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": map_or_null(query),
        "multiValueQueryStringParameters": if multi_query.is_empty() { Value::Null } else { json!(multi_query) },
        "pathParameters": map_or_null(call.params.clone()),
        "stageVariables": map_or_null(call.stage.variables.clone().into_iter().collect()),
        "requestContext": {
            "resourcePath": landing.resource_path,
            "httpMethod": call.parts.method.as_str(),
            "path": format!("/{stage}{path}"),
            "accountId": landing.account,
            "apiId": landing.api_id,
            "stage": stage,
            "domainName": call.host,
            "requestId": call.request_id,
            "requestTimeEpoch": chrono::Utc::now().timestamp_millis(),
            "protocol": format!("{:?}", call.parts.version),
            "identity": {
                "sourceIp": call.peer.ip().to_string(),
                "userAgent": call.parts.headers.get("user-agent").and_then(|v| v.to_str().ok()),
            },
        },
        "body": body,
        "isBase64Encoded": encoded,
    })
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn malformed() -> Response<Body> {
    gateway_error(
        StatusCode::BAD_GATEWAY,
        "InternalServerErrorException",
        "Internal server error",
    )
}

/// The response a proxy result describes.
fn response(result: &Value) -> Option<Response<Body>> {
    let status = match &result["statusCode"] {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    if !(100..=599).contains(&status) {
        return None;
    }
    let status = StatusCode::from_u16(u16::try_from(status).ok()?).ok()?;
    let body = match &result["body"] {
        Value::Null => Vec::new(),
        Value::String(s) if result["isBase64Encoded"] == true => {
            base64::engine::general_purpose::STANDARD.decode(s).ok()?
        }
        Value::String(s) => s.clone().into_bytes(),
        _ => return None,
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(multi) = result["multiValueHeaders"].as_object() {
        for (name, values) in multi {
            for v in values.as_array()? {
                headers.append(
                    HeaderName::from_bytes(name.as_bytes()).ok()?,
                    HeaderValue::from_str(v.as_str()?).ok()?,
                );
            }
        }
    }
    if let Some(single) = result["headers"].as_object() {
        for (name, v) in single {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).ok()?,
                HeaderValue::from_str(&text).ok()?,
            );
        }
    }
    if !headers.contains_key("content-type") {
        headers.insert("content-type", HeaderValue::from_static("application/json"));
    }
    Some(response)
}

pub(crate) async fn run(
    functions: Option<&dyn FunctionInvoker>,
    uri: Option<&str>,
    call: Call<'_>,
    landing: Landing<'_>,
) -> Response<Body> {
    let Some(function) = uri.and_then(function_of_uri) else {
        return internal_error();
    };
    let Some(functions) = functions else {
        tracing::warn!(
            function,
            "an AWS_PROXY integration, but this edge runs no functions"
        );
        return internal_error();
    };
    match functions.invoke(function, event(&call, &landing)).await {
        None => {
            tracing::warn!(
                function,
                request_id = call.request_id,
                "an AWS_PROXY integration to a function that does not exist"
            );
            internal_error()
        }
        Some(result) => response(&result).unwrap_or_else(|| {
            tracing::warn!(
                function,
                request_id = call.request_id,
                "a function answered a malformed proxy result"
            );
            malformed()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arns_come_out_of_integration_uris() {
        assert_eq!(
            function_of_uri("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:000000000000:function:f/invocations"),
            Some("arn:aws:lambda:eu-west-1:000000000000:function:f")
        );
        assert_eq!(function_of_uri("http://example.com/"), None);
        assert_eq!(
            function_of_uri("arn:aws:apigateway:eu-west-1:dynamodb:action/PutItem"),
            None
        );
    }

    #[test]
    fn proxy_results_become_responses() {
        let r =
            response(&json!({"statusCode": 201, "headers": {"x-a": "1"}, "body": "{}"})).unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers()["x-a"], "1");
        assert_eq!(r.headers()["content-type"], "application/json");
        let r = response(&json!({"statusCode": "200", "body": "aGk=", "isBase64Encoded": true}))
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(response(&json!({"body": "x"})).is_none());
        assert!(response(&json!({"statusCode": 200, "body": 5})).is_none());
        assert!(response(&json!({"statusCode": 999})).is_none());
    }
}
