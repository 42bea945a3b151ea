//! The HTTP front: one route for the AWS JSON protocols (`POST /`, chosen by `X-Amz-Target`), a health
//! route for load balancers, and a no-op route used as the benchmark baseline.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use m2sec_proto::json::{self, JsonService};
use m2sec_proto::sigv4::RequestParts;
use m2sec_proto::{AwsError, RequestContext};

use crate::auth::Authenticator;

pub struct AppState {
    pub auth: Authenticator,
    /// Target prefix (`TrentService`) → (signing name, service).
    pub json_services: HashMap<String, (String, Arc<dyn JsonService>)>,
    pub max_body_bytes: usize,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", any(aws_json))
        .route("/health", get(health))
        .route("/_m2sec/noop", any(noop))
        .with_state(state)
}

async fn health() -> impl IntoResponse {
    (
        [("content-type", "application/json")],
        "{\"status\":\"ok\"}",
    )
}

/// Reads the request and does nothing else: the baseline that shows what HTTP alone costs in benchmarks.
async fn noop(_body: Bytes) -> impl IntoResponse {
    ([("content-type", json::CONTENT_TYPE)], "{}")
}

/// A UUID v4 like AWS request ids, from aws-lc's user-space generator (`Uuid::new_v4` would make a
/// `getrandom` system call per request).
fn request_id() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("system random source failed");
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn respond(request_id: &str, result: Result<Vec<u8>, AwsError>) -> Response {
    let (status, body, error_type) = match result {
        Ok(body) => (StatusCode::OK, body, None),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            json::error_body(&e),
            Some(e.code.clone()),
        ),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(json::CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    if let Some(code) = error_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert("x-amzn-errortype", code);
    }
    response
}

async fn aws_json(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let request_id = request_id();
    let result = handle(&state, request, &request_id).await;
    if let Err(e) = &result {
        tracing::debug!(code = %e.code, status = e.status, "request refused");
    }
    respond(&request_id, result)
}

async fn handle(state: &AppState, request: Request, request_id: &str) -> Result<Vec<u8>, AwsError> {
    let (parts, body) = request.into_parts();
    let body = read_body(body, state.max_body_bytes).await?;
    let target = header(&parts.headers, "x-amz-target")
        .ok_or_else(|| AwsError::unknown_operation("(no X-Amz-Target header)"))?;
    let (prefix, operation) =
        json::split_target(target).ok_or_else(|| AwsError::unknown_operation(target))?;
    let (signing_name, service) = state
        .json_services
        .get(prefix)
        .ok_or_else(|| AwsError::unknown_operation(target))?;

    let path = parts.uri.path();
    let signed = RequestParts {
        method: parts.method.as_str(),
        path,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
    };
    let principal = state.auth.authenticate(&signed, signing_name).await?;
    let ctx = RequestContext {
        account: principal.account,
        region: principal.region,
        principal_arn: principal.arn,
        access_key_id: principal.access_key_id,
        request_id: request_id.to_string(),
    };
    json::dispatch(service.as_ref(), &ctx, operation, &body).await
}

/// How much of an oversized body is still read (and dropped) so that clients which send the whole
/// body before reading the answer see the 413 instead of a broken connection.
const OVERSIZE_DRAIN_BYTES: usize = 16 * 1024 * 1024;

async fn read_body(body: Body, max: usize) -> Result<Bytes, AwsError> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut buf = bytes::BytesMut::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|_| AwsError::serialization("The request body could not be read"))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        total += chunk.len();
        if total <= max {
            buf.extend_from_slice(&chunk);
        } else if total > max + OVERSIZE_DRAIN_BYTES {
            break;
        }
    }
    if total > max {
        return Err(AwsError::new(
            "RequestEntityTooLargeException",
            413,
            format!("The request body is larger than {max} bytes"),
        ));
    }
    Ok(buf.freeze())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
