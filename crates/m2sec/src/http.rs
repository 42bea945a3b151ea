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
use m2sec_proto::query::{self as query_protocol};
use m2sec_proto::query_service::QueryService;
use m2sec_proto::rest_xml;
use m2sec_proto::sigv4::RequestParts;
use m2sec_proto::{AwsError, RequestContext};

use m2sec_trail::redact;
use m2sec_trail::{Call, Trail};

use crate::auth::Authenticator;

pub struct AppState {
    pub auth: Authenticator,
    /// Target prefix (`TrentService`) → (signing name, service).
    pub json_services: HashMap<String, (String, Arc<dyn JsonService>)>,
    /// awsQuery services (IAM, STS) by SigV4 signing name.
    pub query_services: HashMap<String, Arc<dyn QueryService>>,
    /// restXml services (Route53) by SigV4 signing name; their requests come to any other path.
    pub rest_services: HashMap<String, Arc<dyn QueryService>>,
    pub max_body_bytes: usize,
    pub trail: Trail,
    /// Serves the usage report route.
    pub store: Arc<dyn m2sec_store::Store>,
    pub authorizer: Arc<m2sec_iam::Authorizer>,
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", any(aws_json))
        .route("/health", get(health))
        .route("/_m2sec/noop", any(noop))
        .route("/_m2sec/usage", get(crate::usage_route::usage))
        .fallback(rest_xml)
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

fn request_id() -> String {
    m2sec_proto::random_uuid()
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
    // awsQuery (IAM, STS) has no X-Amz-Target: its service is the one the request is signed for.
    if !request.headers().contains_key("x-amz-target") {
        if let Some(service) = query_service_of(&state, request.headers()) {
            return aws_query(&state, service, request, &request_id).await;
        }
    }
    let result = handle(&state, request, &request_id).await;
    if let Err(e) = &result {
        tracing::debug!(code = %e.code, status = e.status, "request refused");
    }
    respond(&request_id, result)
}

/// The client's address (for `aws:SourceIp`), when the server was started with connection info.
fn source_ip(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

async fn handle(state: &AppState, request: Request, request_id: &str) -> Result<Vec<u8>, AwsError> {
    let source_ip = source_ip(&request);
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
    let ctx = principal.into_context(
        request_id,
        operation,
        source_ip,
        header(&parts.headers, "user-agent").map(str::to_string),
    );
    let model = service.model();
    let input = json::prepare(model, operation, &body)
        .map_err(|e| json::own_validation_error(service.as_ref(), operation, e));
    // Reads of the trail itself are not recorded in it; calls to no operation are not calls.
    let recorded = state.trail.is_enabled()
        && model.metadata.endpoint_prefix != "cloudtrail"
        && model.has_operation(operation);
    if !recorded {
        return service.call(&ctx, operation, input?).await;
    }
    let request_parameters = input
        .as_ref()
        .ok()
        .and_then(|i| redact::request_parameters_text(model, operation, i));
    let result = match input {
        Ok(input) => service.call(&ctx, operation, input).await,
        Err(e) => Err(e),
    };
    // Only a change's answer enters its record.
    let output = match &result {
        Ok(body) if !m2sec_trail::record::is_read_only(operation) => {
            serde_json::from_slice(body).ok()
        }
        _ => None,
    };
    record(
        state,
        &ctx,
        model,
        operation,
        request_parameters,
        output,
        result.as_ref().err(),
    )
    .await;
    result
}

/// Records a call in the trail: its redacted input, and for a change its redacted answer.
async fn record(
    state: &AppState,
    ctx: &RequestContext,
    model: &m2sec_proto::model::ServiceModel,
    operation: &str,
    request_parameters: Option<String>,
    output: Option<serde_json::Value>,
    error: Option<&AwsError>,
) {
    let service = model.metadata.endpoint_prefix.as_str();
    let source = format!("{service}.amazonaws.com");
    // The redacted input is JSON text already: it is copied into the record as it is.
    let call = Call {
        ctx,
        event_source: &source,
        event_name: operation,
        // IAM and Route53 are global: AWS records their events in us-east-1.
        region: if service == "iam" || service == "route53" {
            "us-east-1"
        } else {
            &ctx.region
        },
        request_parameters: None,
        response_elements: output
            .as_ref()
            .and_then(|v| redact::response_elements(model, operation, v)),
        error,
        invoked_by: None,
        resources: vec![],
    };
    state
        .trail
        .call_with_text(&call, request_parameters.as_deref())
        .await;
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

/// IAM and STS name authentication failures differently from the JSON services.
fn query_auth_error(e: AwsError) -> AwsError {
    let (code, status) = match e.code.as_ref() {
        "UnrecognizedClientException" => ("InvalidClientTokenId", 403),
        "ExpiredTokenException" => ("ExpiredToken", 403),
        "InvalidSignatureException" => ("SignatureDoesNotMatch", 403),
        "IncompleteSignatureException" => ("IncompleteSignature", 400),
        "MissingAuthenticationTokenException" => ("MissingAuthenticationToken", 403),
        _ => return e,
    };
    AwsError::new(code, status, e.message)
}

/// The service a request is signed for (from the credential scope of its Authorization header or its
/// presigned query string).
fn signed_service<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    let credential = match header(headers, "authorization") {
        Some(auth) => auth.split("Credential=").nth(1)?,
        None => query?
            .split('&')
            .find_map(|p| p.strip_prefix("X-Amz-Credential="))?,
    };
    // A presigned credential's slashes are percent-encoded.
    let mut parts = credential.split(['/']).flat_map(|p| p.split("%2F"));
    parts.nth(3)
}

/// The awsQuery service a request is signed for, if any.
fn query_service_of(state: &AppState, headers: &HeaderMap) -> Option<Arc<dyn QueryService>> {
    state
        .query_services
        .get(signed_service(headers, None)?)
        .cloned()
}

/// restXml (Route53): any path other than the JSON and awsQuery endpoint's `/`, for the service the
/// request is signed for.
async fn rest_xml(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let request_id = request_id();
    let service = signed_service(request.headers(), request.uri().query())
        .and_then(|name| state.rest_services.get(name).cloned());
    let Some(service) = service else {
        let e = AwsError::new(
            "UnknownOperationException",
            404,
            format!(
                "No operation is served at {} {}",
                request.method(),
                request.uri().path()
            ),
        );
        return respond(&request_id, Err(e));
    };
    let model = service.model();
    let (status, headers, body) =
        match rest_call(&state, service.as_ref(), request, &request_id).await {
            Ok(done) => done,
            Err(e) => {
                let e = rest_xml::rest_xml_error(e);
                tracing::debug!(code = %e.code, status = e.status, "request refused");
                (
                    e.status,
                    vec![],
                    rest_xml::error_response(model, &e, &request_id),
                )
            }
        };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let out = response.headers_mut();
    out.insert(
        "content-type",
        HeaderValue::from_static(rest_xml::CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        out.insert("x-amzn-requestid", v);
    }
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            out.insert(n, v);
        }
    }
    response
}

async fn rest_call(
    state: &AppState,
    service: &dyn QueryService,
    request: Request,
    request_id: &str,
) -> Result<(u16, Vec<(String, String)>, String), AwsError> {
    let model = service.model();
    let (parts, body, principal, source_ip) = signed_request(state, model, request).await?;
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |p| p.as_str());
    let (operation, labels) = rest_xml::route(model, parts.method.as_str(), path_and_query)
        .ok_or_else(|| {
            AwsError::new(
                "UnknownOperationException",
                404,
                format!(
                    "No {} operation is served at {} {}",
                    model.metadata.endpoint_prefix,
                    parts.method,
                    parts.uri.path()
                ),
            )
        })?;
    let input = rest_xml::parse_request(
        model,
        &operation,
        &labels,
        parts.uri.query(),
        &parts.headers,
        &body,
    )?;
    let ctx = principal.into_context(
        request_id,
        &operation,
        source_ip,
        header(&parts.headers, "user-agent").map(str::to_string),
    );
    let checked = rest_xml::validate(model, &operation, &input);
    let output = call_recorded(state, service, &ctx, &operation, input, checked).await?;
    Ok(rest_xml::serialize_response(model, &operation, &output))
}

/// Runs a call of a service that takes and returns JSON values (awsQuery, restXml) once its input
/// passed (`checked`), and records it in the trail.
async fn call_recorded(
    state: &AppState,
    service: &dyn QueryService,
    ctx: &RequestContext,
    operation: &str,
    input: serde_json::Value,
    checked: Result<(), AwsError>,
) -> Result<serde_json::Value, AwsError> {
    let model = service.model();
    let request_parameters = state
        .trail
        .is_enabled()
        .then(|| redact::request_parameters_text(model, operation, &input))
        .flatten();
    let result = match checked {
        Ok(()) => service.call(ctx, operation, input).await,
        Err(e) => Err(e),
    };
    if state.trail.is_enabled() {
        let output = result
            .as_ref()
            .ok()
            .filter(|_| !m2sec_trail::record::is_read_only(operation));
        record(
            state,
            ctx,
            model,
            operation,
            request_parameters,
            output.cloned(),
            result.as_ref().err(),
        )
        .await;
    }
    result
}

async fn aws_query(
    state: &AppState,
    service: Arc<dyn QueryService>,
    request: Request,
    request_id: &str,
) -> Response {
    let model = service.model();
    let result = query_call(state, service.as_ref(), request, request_id).await;
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => {
            let e = query_protocol::query_error(e);
            tracing::debug!(code = %e.code, status = e.status, "request refused");
            (
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                query_protocol::error_response(model, &e, request_id),
            )
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static(query_protocol::CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

/// Reads a request's body and authenticates it for the service of `model` (its SigV4 signing name).
async fn signed_request(
    state: &AppState,
    model: &m2sec_proto::model::ServiceModel,
    request: Request,
) -> Result<
    (
        axum::http::request::Parts,
        Bytes,
        crate::auth::Principal,
        Option<String>,
    ),
    AwsError,
> {
    let source_ip = source_ip(&request);
    let (parts, body) = request.into_parts();
    let body = read_body(body, state.max_body_bytes).await?;
    let signing_name = model
        .metadata
        .signing_name
        .as_deref()
        .unwrap_or(&model.metadata.endpoint_prefix);
    let signed = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &body,
    };
    let principal = state.auth.authenticate(&signed, signing_name).await?;
    Ok((parts, body, principal, source_ip))
}

async fn query_call(
    state: &AppState,
    service: &dyn QueryService,
    request: Request,
    request_id: &str,
) -> Result<String, AwsError> {
    let model = service.model();
    let (parts, body, principal, source_ip) = signed_request(state, model, request)
        .await
        .map_err(query_auth_error)?;
    let (operation, input) = query_protocol::parse_request(model, &body)?;
    let ctx = principal.into_context(
        request_id,
        &operation,
        source_ip,
        header(&parts.headers, "user-agent").map(str::to_string),
    );
    let checked = query_protocol::validate(model, &operation, &input);
    let output = call_recorded(state, service, &ctx, &operation, input, checked).await?;
    Ok(query_protocol::serialize_response(
        model, &operation, &output, request_id,
    ))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
