//! The HTTP front: one route for the AWS JSON protocols (`POST /`, chosen by `X-Amz-Target`), a health
//! route for load balancers, and a no-op route used as the benchmark baseline. Connections (timeouts,
//! the connection cap, the drain at shutdown) are in [`connections`]; request bodies (size, deadline,
//! memory budget) in [`body`].

pub mod body;
pub mod connections;
pub mod in_process;
#[cfg(test)]
mod tests;

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use futures_util::FutureExt;
use m2sec_proto::json::{self, JsonService};
use m2sec_proto::query::{self as query_protocol};
use m2sec_proto::query_service::QueryService;
use m2sec_proto::sigv4::RequestParts;
use m2sec_proto::{rest_json, rest_xml};
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
    pub body_limits: body::BodyLimits,
    pub trail: Trail,
    /// Serves the usage report route.
    pub store: Arc<dyn m2sec_store::Store>,
    pub store_probe: StoreProbe,
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

/// For load balancers and operators: 200 while the store takes writes and the trail is written, 503
/// otherwise (a full disk, a lost database). The reason is in the log, not here: this route answers
/// anyone.
async fn health(State(state): State<Arc<AppState>>) -> Response {
    let store_ok = state.store_probe.check(state.store.as_ref()).await;
    let trail = state.trail.failure();
    let ok = store_ok && trail.is_none();
    let mut body = serde_json::json!({
        "status": if ok { "ok" } else { "failing" },
        "store": if store_ok { "ok" } else { "failing" },
        "trail": if !state.trail.is_enabled() { "off" } else if trail.is_some() { "failing" } else { "ok" },
    });
    if let Some((since, _)) = trail {
        body["trailFailingSince"] = serde_json::json!(since / 1000);
    }
    let mut response = Response::new(Body::from(body.to_string()));
    if !ok {
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    }
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

/// A small write to the store (one lease row), made at most once a second however often /health is
/// asked, and bounded in time: a store that hangs is a failing store.
pub struct StoreProbe {
    node: String,
    last: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

impl StoreProbe {
    pub fn new(node: String) -> Self {
        StoreProbe {
            node,
            last: tokio::sync::Mutex::new(None),
        }
    }

    async fn check(&self, store: &dyn m2sec_store::Store) -> bool {
        let mut last = self.last.lock().await;
        if let Some((at, ok)) = *last {
            if at.elapsed() < std::time::Duration::from_secs(1) {
                return ok;
            }
        }
        let now = chrono::Utc::now().timestamp_millis();
        let probe = store.try_lease("health.probe", &self.node, now, 0);
        let ok = match tokio::time::timeout(std::time::Duration::from_secs(2), probe).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "health: the store does not take writes");
                false
            }
            Err(_) => {
                tracing::error!("health: the store did not answer a write within 2 s");
                false
            }
        };
        *last = Some((std::time::Instant::now(), ok));
        ok
    }
}

/// Reads the request and does nothing else: the baseline that shows what HTTP alone costs in benchmarks.
async fn noop(_body: Bytes) -> impl IntoResponse {
    ([("content-type", json::CONTENT_TYPE)], "{}")
}

fn request_id() -> String {
    m2sec_proto::random_uuid()
}

/// A request refused as too large or too slow leaves its body unread: the connection cannot carry
/// another request, and the client is told so.
fn close_if_body_unread(response: &mut Response) {
    if matches!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
    ) {
        response
            .headers_mut()
            .insert("connection", HeaderValue::from_static("close"));
    }
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
    close_if_body_unread(&mut response);
    response
}

async fn aws_json(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let request_id = request_id();
    // awsQuery (IAM, STS) has no X-Amz-Target: its service is the one the request is signed for.
    if !request.headers().contains_key("x-amz-target") {
        if let Some(service) = query_service_of(&state, request.headers(), request.uri().query()) {
            return aws_query(&state, service, request, &request_id).await;
        }
    }
    // The service the target names answers in its own awsJson version (DynamoDB's is 1.0).
    let service = request
        .headers()
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .and_then(json::split_target)
        .and_then(|(prefix, _)| state.json_services.get(prefix))
        .map(|(_, s)| s.clone());
    let result = handle(&state, request, &request_id).await;
    if let Err(e) = &result {
        tracing::debug!(code = %e.code, status = e.status, "request refused");
    }
    let Some(service) = service else {
        return respond(&request_id, result);
    };
    let model = service.model();
    let result = result.map_err(|e| {
        let body = json::error_body_for(model, &e);
        (e, body)
    });
    let mut response = match result {
        Ok(body) => respond(&request_id, Ok(body)),
        Err((e, body)) => {
            let mut r = respond(&request_id, Err(e));
            *r.body_mut() = Body::from(body);
            r
        }
    };
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static(json::content_type(model)),
    );
    response
}

/// The client's address (for `aws:SourceIp`), when the server was started with connection info.
pub(crate) fn source_ip(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

async fn handle(state: &AppState, request: Request, request_id: &str) -> Result<Vec<u8>, AwsError> {
    let source_ip = source_ip(&request);
    let (parts, body) = request.into_parts();
    let found = header(&parts.headers, "x-amz-target")
        .ok_or_else(|| AwsError::unknown_operation("(no X-Amz-Target header)"))
        .and_then(|target| {
            let (prefix, operation) =
                json::split_target(target).ok_or_else(|| AwsError::unknown_operation(target))?;
            let (signing_name, service) = state
                .json_services
                .get(prefix)
                .ok_or_else(|| AwsError::unknown_operation(target))?;
            Ok((operation, signing_name, service))
        });
    let (operation, signing_name, service) = match found {
        Ok(found) => found,
        Err(e) => {
            body::discard(body, &parts.headers);
            return Err(e);
        }
    };
    let (body, principal) = authenticated_body(state, &parts, body, signing_name).await?;
    let ctx = principal.into_context(
        request_id,
        operation,
        source_ip,
        header(&parts.headers, "user-agent").map(str::to_string),
    );
    run_json(state, service.as_ref(), &ctx, operation, &body).await
}

/// Runs a call of an awsJson service on its (authenticated) body: validated against the model, and
/// recorded in the trail.
pub(crate) async fn run_json(
    state: &AppState,
    service: &dyn JsonService,
    ctx: &RequestContext,
    operation: &str,
    body: &[u8],
) -> Result<Vec<u8>, AwsError> {
    let input = json::prepare(service.model(), operation, body)
        .map_err(|e| json::own_validation_error(service, operation, e));
    run_json_input(state, service, ctx, operation, input).await
}

/// [`run_json`] on an input already parsed (and checked against the model, or the reason it is not
/// valid). HTTP requests and in-process calls ([`in_process`]) both come here.
pub(crate) async fn run_json_input(
    state: &AppState,
    service: &dyn JsonService,
    ctx: &RequestContext,
    operation: &str,
    input: Result<serde_json::Value, AwsError>,
) -> Result<Vec<u8>, AwsError> {
    let model = service.model();
    // Reads of the trail itself are not recorded in it; calls to no operation are not calls.
    let recorded = records(state, model, operation)
        && model.metadata.endpoint_prefix != "cloudtrail"
        && model.has_operation(operation);
    if !recorded {
        return answer_panics(model, operation, service.call(ctx, operation, input?)).await;
    }
    writable(state, model)?;
    let request_parameters = input
        .as_ref()
        .ok()
        .and_then(|i| redact::request_parameters_text(model, operation, i));
    let result = match input {
        Ok(input) => answer_panics(model, operation, service.call(ctx, operation, input)).await,
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
        ctx,
        model,
        operation,
        request_parameters,
        output,
        result.as_ref().err(),
    )
    .await?;
    result
}

/// Runs a service's call. A panic inside it (a bug) becomes the service's internal error (HTTP 500,
/// the generic message), which the caller shapes and records like any other failure, instead of
/// ending the connection with no answer. The log names the service and operation, and the panic's
/// message when it is text; never the request.
///
/// `AssertUnwindSafe`: a service's state is in the store (an uncommitted transaction is rolled back
/// when dropped) and in caches; a std lock held across the panic is poisoned, so later calls that take
/// it panic too and are answered here the same way.
async fn answer_panics<T>(
    model: &m2sec_proto::model::ServiceModel,
    operation: &str,
    call: impl Future<Output = Result<T, AwsError>>,
) -> Result<T, AwsError> {
    match AssertUnwindSafe(call).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => {
            tracing::error!(
                service = %model.metadata.endpoint_prefix,
                operation,
                panic = panic_message(&*payload),
                "the call panicked; answered with the service's internal error"
            );
            Err(model.internal_error(m2sec_proto::INTERNAL_MESSAGE))
        }
    }
}

/// What a panic says when it is text (`panic!`, `expect`, an index out of bounds).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(not text)")
}

/// Whether calls of `operation` of the service of `model` are recorded (the trail is on, does not
/// leave the service out, and records data events if this is one).
fn records(state: &AppState, model: &m2sec_proto::model::ServiceModel, operation: &str) -> bool {
    state.trail.is_enabled()
        && state.trail.records_call(
            &format!("{}.amazonaws.com", model.metadata.endpoint_prefix),
            operation,
        )
}

/// A call that could not be recorded is answered with the service's internal error (and is not carried
/// out when that is known before).
fn unrecorded(model: &m2sec_proto::model::ServiceModel) -> AwsError {
    model.internal_error(
        "The request could not be recorded in the audit trail, so it was refused. Try again later.",
    )
}

fn writable(state: &AppState, model: &m2sec_proto::model::ServiceModel) -> Result<(), AwsError> {
    state.trail.check_writable().map_err(|_| unrecorded(model))
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
) -> Result<(), AwsError> {
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
        .await
        .map_err(|_| unrecorded(model))
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

/// The awsQuery service a request is signed for, if any: by its Authorization header, or by its
/// presigned query string (a presigned STS `GetCallerIdentity` URL, as Vault's AWS auth method and
/// EKS tokens send it).
fn query_service_of(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Option<Arc<dyn QueryService>> {
    state
        .query_services
        .get(signed_service(headers, query)?)
        .cloned()
}

/// The SigV4 parameters of a presigned query string, which are not the operation's input.
const PRESIGN_PARAMETERS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

/// The form an awsQuery request carries its input in: the body, or for a request without one (a GET,
/// a presigned URL) the query string less its SigV4 parameters.
fn query_form<'a>(body: &'a [u8], query: Option<&str>) -> std::borrow::Cow<'a, [u8]> {
    match query {
        Some(query) if body.is_empty() => std::borrow::Cow::Owned(
            query
                .split('&')
                .filter(|pair| {
                    let name = pair.split_once('=').map_or(*pair, |(k, _)| k);
                    !PRESIGN_PARAMETERS.contains(&name)
                })
                .collect::<Vec<_>>()
                .join("&")
                .into_bytes(),
        ),
        _ => std::borrow::Cow::Borrowed(body),
    }
}

/// restXml (Route53): any path other than the JSON and awsQuery endpoint's `/`, for the service the
/// request is signed for.
/// Whether a REST service speaks restJson1 (API Gateway) rather than restXml (Route53).
fn is_rest_json(model: &m2sec_proto::model::ServiceModel) -> bool {
    model.metadata.protocol.as_deref() == Some("rest-json")
}

/// The REST services (restXml, restJson1), chosen by the request's SigV4 signing name.
async fn rest_xml(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let request_id = request_id();
    let service = signed_service(request.headers(), request.uri().query())
        .and_then(|name| state.rest_services.get(name).cloned());
    let Some(service) = service else {
        let (parts, body) = request.into_parts();
        body::discard(body, &parts.headers);
        let e = AwsError::new(
            "UnknownOperationException",
            404,
            format!(
                "No operation is served at {} {}",
                parts.method,
                parts.uri.path()
            ),
        );
        return respond(&request_id, Err(e));
    };
    let model = service.model();
    let json = is_rest_json(model);
    let (status, headers, body) =
        match rest_call(&state, service.as_ref(), request, &request_id).await {
            Ok(done) => done,
            Err(e) if json => {
                let e = rest_json::input_error(model, e);
                tracing::debug!(code = %e.code, status = e.status, "request refused");
                rest_json::error_response(model, &e)
            }
            Err(e) => {
                let e = rest_xml::rest_xml_error(e);
                tracing::debug!(code = %e.code, status = e.status, "request refused");
                (
                    e.status,
                    vec![],
                    rest_xml::error_response(model, &e, &request_id).into_bytes(),
                )
            }
        };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let out = response.headers_mut();
    out.insert(
        "content-type",
        HeaderValue::from_static(if json {
            "application/json"
        } else {
            rest_xml::CONTENT_TYPE
        }),
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
    close_if_body_unread(&mut response);
    response
}

async fn rest_call(
    state: &AppState,
    service: &dyn QueryService,
    request: Request,
    request_id: &str,
) -> Result<(u16, Vec<(String, String)>, Vec<u8>), AwsError> {
    let model = service.model();
    let json = is_rest_json(model);
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
    let bind = if json {
        rest_json::parse_request
    } else {
        rest_xml::parse_request
    };
    let input = bind(
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
    let checked = if json {
        rest_json::validate(model, &operation, &input)
    } else {
        rest_xml::validate(model, &operation, &input)
    };
    let output = call_recorded(state, service, &ctx, &operation, input, checked).await?;
    Ok(if json {
        rest_json::serialize_response(model, &operation, &output)
    } else {
        let (status, headers, body) = rest_xml::serialize_response(model, &operation, &output);
        (status, headers, body.into_bytes())
    })
}

/// Runs a call of a service that takes and returns JSON values (awsQuery, restXml) once its input
/// passed (`checked`), and records it in the trail.
pub(crate) async fn call_recorded(
    state: &AppState,
    service: &dyn QueryService,
    ctx: &RequestContext,
    operation: &str,
    input: serde_json::Value,
    checked: Result<(), AwsError>,
) -> Result<serde_json::Value, AwsError> {
    let model = service.model();
    let recorded = records(state, model, operation);
    if recorded {
        writable(state, model)?;
    }
    let request_parameters = recorded
        .then(|| redact::request_parameters_text(model, operation, &input))
        .flatten();
    let result = match checked {
        Ok(()) => answer_panics(model, operation, service.call(ctx, operation, input)).await,
        Err(e) => Err(e),
    };
    if recorded {
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
        .await?;
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
    close_if_body_unread(&mut response);
    response
}

/// Authenticates a request for `signing_name` and reads its body: first every check that needs no
/// body (so an unsigned or unknown caller is refused before a byte of its body is read), then the
/// body within [`body::BodyLimits`], then the signature over it.
pub(crate) async fn authenticated_body(
    state: &AppState,
    parts: &axum::http::request::Parts,
    body: Body,
    signing_name: &str,
) -> Result<(body::ReadBody, crate::auth::Principal), AwsError> {
    let unread = RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &[],
    };
    let pending = match state.auth.begin(&unread, signing_name).await {
        Ok(pending) => pending,
        Err(e) => {
            body::discard(body, &parts.headers);
            return Err(e);
        }
    };
    let max_bytes = state.body_limits.max_for(signing_name);
    let body = body::read(body, &parts.headers, &state.body_limits, max_bytes).await?;
    let signed = RequestParts {
        body: &body,
        ..unread
    };
    let principal = pending.finish(&state.auth, &signed)?;
    Ok((body, principal))
}

/// As [`authenticated_body`] for the service of `model` (its SigV4 signing name).
async fn signed_request(
    state: &AppState,
    model: &m2sec_proto::model::ServiceModel,
    request: Request,
) -> Result<
    (
        axum::http::request::Parts,
        body::ReadBody,
        crate::auth::Principal,
        Option<String>,
    ),
    AwsError,
> {
    let source_ip = source_ip(&request);
    let (parts, body) = request.into_parts();
    let signing_name = model
        .metadata
        .signing_name
        .as_deref()
        .unwrap_or(&model.metadata.endpoint_prefix);
    let (body, principal) = authenticated_body(state, &parts, body, signing_name).await?;
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
    let (operation, input) =
        query_protocol::parse_request(model, &query_form(&body, parts.uri.query()))?;
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
