//! What the edge does with a request for an API: find the API and stage from the host name
//! (a custom domain name and its base path mappings, or the default endpoint
//! `{restApiId}.execute-api.{region}.amazonaws.com/{stage}`), the resource and method in the
//! stage's deployment, check AWS_IAM methods, and run the integration (an HTTP or HTTP_PROXY
//! upstream, or MOCK). Answers for what fails are API Gateway's: 403 `Missing Authentication Token`
//! for an unknown route, 500 `Internal server error` for an unreachable upstream, 504 `Endpoint
//! request timed out` after the integration timeout.

pub mod access_log;
mod integration;
pub mod lambda;
pub mod matching;
pub mod table;
mod upstream;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use m2sec_store::Store;

use crate::records::{ApiDocument, Stage};
use table::{Owned, Tables};

/// API Gateway's payload limit.
pub const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

/// Checks AWS_IAM methods: a SigV4 signature for `execute-api` and the caller's right to
/// `execute-api:Invoke` the method's ARN.
#[async_trait]
pub trait InvokeAuthorizer: Send + Sync + 'static {
    async fn authorize(
        &self,
        parts: &axum::http::request::Parts,
        body: &[u8],
        account: &str,
        method_arn: &str,
    ) -> Result<(), Denied>;
}

/// Why an AWS_IAM method refused a call.
#[derive(Debug)]
pub enum Denied {
    /// No signature at all.
    MissingToken,
    /// A signature that does not verify, an unknown or expired key: the message says which.
    Invalid(String),
    /// A valid caller without the right.
    Forbidden(String),
}

/// Counters of the calls through the edge.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
}

/// A custom domain (or default endpoint) that the edge serves, for the TLS layer.
#[derive(Debug, Clone)]
pub struct DomainSite {
    pub account: String,
    pub region: String,
    pub certificate_arn: String,
    pub security_policy: String,
}

pub struct Runtime {
    tables: Tables,
    client: integration::Client,
    iam: Option<Arc<dyn InvokeAuthorizer>>,
    functions: Option<Arc<dyn lambda::FunctionInvoker>>,
    counters: Counters,
    access_log: Arc<access_log::AccessLog>,
}

/// Why a host and path lead nowhere.
enum Refused {
    /// No such domain, mapping, API or stage: 403 `Forbidden`, as API Gateway.
    Forbidden,
    /// The routing table could not be read.
    Internal,
}

pub(crate) fn internal_error() -> Response<Body> {
    gateway_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerErrorException",
        "Internal server error",
    )
}

/// Where a request goes once its host and path are read.
struct Target {
    api: Arc<Owned<ApiDocument>>,
    /// A stage of `api` (it is there: `target` found it).
    stage_name: String,
    /// The path inside the stage.
    path: String,
}

impl Target {
    fn stage(&self) -> &Stage {
        &self.api.record.stages[&self.stage_name]
    }
}

const REQUEST_ID: axum::http::HeaderName = axum::http::HeaderName::from_static("x-amzn-requestid");
const ERROR_TYPE: axum::http::HeaderName = axum::http::HeaderName::from_static("x-amzn-errortype");

/// `{restApiId}.execute-api.{region}.amazonaws.com` → (id, region).
pub fn default_endpoint(host: &str) -> Option<(&str, &str)> {
    let rest = host.strip_suffix(".amazonaws.com")?;
    let (id, region) = rest.split_once(".execute-api.")?;
    (!id.is_empty() && !id.contains('.') && !region.is_empty() && !region.contains('.'))
        .then_some((id, region))
}

/// `{"message": ...}` with API Gateway's error type header.
pub fn gateway_error(status: StatusCode, error_type: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(error_type) {
        h.insert(ERROR_TYPE, v);
    }
    r
}

fn missing_token() -> Response<Body> {
    gateway_error(
        StatusCode::FORBIDDEN,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )
}

fn forbidden() -> Response<Body> {
    gateway_error(StatusCode::FORBIDDEN, "ForbiddenException", "Forbidden")
}

fn host_of(request: &Request<Body>, server_name: &str) -> String {
    let host = request
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().host())
        .unwrap_or(server_name);
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn split_first(path: &str) -> (&str, &str) {
    let path = path.strip_prefix('/').unwrap_or(path);
    match path.split_once('/') {
        Some((first, rest)) => (first, rest),
        None => (path, ""),
    }
}

impl Runtime {
    /// `changes` is [`crate::ApiGateway::changes`]: the routing table reloads when it moves.
    pub fn new(store: Arc<dyn Store>, changes: Arc<AtomicU64>) -> Self {
        Runtime {
            tables: Tables::new(store, changes),
            client: integration::Client::new(&[]),
            iam: None,
            functions: None,
            counters: Counters::default(),
            access_log: Arc::new(access_log::AccessLog::stderr()),
        }
    }

    /// Trusts `pem` (m2sec's root certificate) for https:// integrations, besides the platform's
    /// trust store.
    pub fn with_upstream_roots(mut self, pem: &str) -> Self {
        use rustls::pki_types::pem::PemObject;
        let roots: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
            .filter_map(Result::ok)
            .collect();
        self.client = integration::Client::new(&roots);
        self
    }

    /// Runs AWS_PROXY integrations' functions with `functions` (without it, they answer 500).
    pub fn with_functions(mut self, functions: Arc<dyn lambda::FunctionInvoker>) -> Self {
        self.functions = Some(functions);
        self
    }

    /// Where the access log goes (standard error without this).
    pub fn with_access_log(mut self, log: Arc<access_log::AccessLog>) -> Self {
        self.access_log = log;
        self
    }

    /// Checks AWS_IAM methods with `iam` (without it, they refuse every call).
    pub fn with_iam(mut self, iam: Arc<dyn InvokeAuthorizer>) -> Self {
        self.iam = Some(iam);
        self
    }

    /// Moves whenever API Gateway on this node changes something (see [`table::Tables`]).
    pub fn generation(&self) -> u64 {
        self.tables.generation()
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The site for a TLS server name: a custom domain name with its certificate and policy.
    /// Default endpoints (`*.execute-api.<region>.amazonaws.com`) are not here: m2sec's CA serves
    /// them.
    pub async fn domain_site(&self, server_name: &str) -> Option<DomainSite> {
        let table = self.tables.get().await.ok()?;
        let d = table.domains.get(&server_name.to_ascii_lowercase())?;
        let domain = &d.record.domain;
        let certificate_arn = domain
            .regional_certificate_arn
            .clone()
            .or_else(|| domain.certificate_arn.clone())?;
        Some(DomainSite {
            account: d.account.clone(),
            region: d.region.clone(),
            certificate_arn,
            security_policy: domain.security_policy.clone(),
        })
    }

    /// Whether a default endpoint name belongs to an API that exists with its default endpoint on.
    pub async fn serves_default_endpoint(&self, server_name: &str) -> bool {
        let Some((id, region)) = default_endpoint(server_name) else {
            return false;
        };
        let Ok(table) = self.tables.get().await else {
            return false;
        };
        table
            .apis
            .get(id)
            .is_some_and(|a| a.region == region && !a.record.api.disable_execute_api_endpoint)
    }

    async fn target(&self, host: &str, path: &str) -> Result<Target, Refused> {
        let table = self.tables.get().await.map_err(|e| {
            tracing::error!(error = %e, "the edge could not read its routing table");
            Refused::Internal
        })?;
        let forbidden = || Refused::Forbidden;
        let stage_of = |api: &Arc<Owned<ApiDocument>>, stage: &str| {
            api.record
                .stages
                .contains_key(stage)
                .then(|| stage.to_string())
                .ok_or(Refused::Forbidden)
        };
        if let Some((id, region)) = default_endpoint(host) {
            let api = table
                .apis
                .get(id)
                .filter(|a| a.region == region && !a.record.api.disable_execute_api_endpoint)
                .ok_or_else(forbidden)?;
            let (stage, rest) = split_first(path);
            return Ok(Target {
                stage_name: stage_of(api, stage)?,
                api: api.clone(),
                path: format!("/{rest}"),
            });
        }
        let domain = table.domains.get(host).ok_or_else(forbidden)?;
        let trimmed = path.trim_start_matches('/');
        // The longest base path that is a whole-segment prefix of the path, else `(none)`.
        let mapping = domain
            .record
            .mappings
            .values()
            .filter(|m| m.base_path != crate::domain_names::NO_BASE_PATH)
            .filter(|m| {
                trimmed == m.base_path
                    || trimmed
                        .strip_prefix(&m.base_path)
                        .is_some_and(|r| r.starts_with('/'))
            })
            .max_by_key(|m| m.base_path.len())
            .map(|m| (m, &trimmed[m.base_path.len()..]))
            .or_else(|| {
                domain
                    .record
                    .mappings
                    .get(crate::domain_names::NO_BASE_PATH)
                    .map(|m| (m, trimmed))
            })
            .ok_or_else(forbidden)?;
        let (m, rest) = mapping;
        let api = table
            .apis
            .get(&m.rest_api_id)
            .filter(|a| a.account == domain.account && a.region == domain.region)
            .ok_or_else(forbidden)?;
        let (stage, rest) = match &m.stage {
            Some(s) => (s.as_str(), rest.trim_start_matches('/')),
            None => split_first(rest),
        };
        Ok(Target {
            stage_name: stage_of(api, stage)?,
            api: api.clone(),
            path: format!("/{rest}"),
        })
    }

    /// Answers one request that came through the edge.
    pub async fn handle(
        &self,
        request: Request<Body>,
        peer: SocketAddr,
        server_name: &str,
    ) -> Response<Body> {
        let started = Instant::now();
        let request_id = m2sec_proto::random_uuid();
        let host = host_of(&request, server_name);
        let method = request.method().clone();
        let protocol = protocol_name(request.version());
        // A `Uri` clone shares its bytes.
        let uri = request.uri().clone();
        let (response, route, stage, bytes_in) =
            self.route(request, &host, peer, &request_id).await;
        let mut response = response;
        let h = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            h.insert(REQUEST_ID, v);
        }
        let status = response.status().as_u16();
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes_in
            .fetch_add(bytes_in as u64, Ordering::Relaxed);
        if (400..500).contains(&status) {
            self.counters.client_errors.fetch_add(1, Ordering::Relaxed);
        } else if status >= 500 {
            self.counters.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        let bytes_out = http_body::Body::size_hint(response.body()).exact();
        if let Some(n) = bytes_out {
            self.counters.bytes_out.fetch_add(n, Ordering::Relaxed);
        }
        self.access_log.record(&access_log::Entry {
            request_id: &request_id,
            ip: peer.ip(),
            domain: &host,
            stage: &stage,
            method: method.as_str(),
            path: uri.path(),
            route: &route,
            status,
            latency_ms: started.elapsed().as_millis() as u64,
            bytes_in: bytes_in as u64,
            bytes_out: bytes_out.unwrap_or(0),
            protocol,
        });
        response
    }

    /// The answer, the route (`ANY /{proxy+}`), the stage and the request's body size.
    async fn route(
        &self,
        request: Request<Body>,
        host: &str,
        peer: SocketAddr,
        request_id: &str,
    ) -> (Response<Body>, String, String, usize) {
        let target = match self.target(host, request.uri().path()).await {
            Ok(t) => t,
            Err(Refused::Forbidden) => return (forbidden(), "-".into(), "-".into(), 0),
            Err(Refused::Internal) => return (internal_error(), "-".into(), "-".into(), 0),
        };
        let stage_name = target.stage_name.clone();
        let api = &target.api.record;
        let Some(resources) = api.snapshots.get(&target.stage().deployment_id) else {
            return (forbidden(), "-".into(), stage_name, 0);
        };
        let Some(matched) = matching::resource(resources.values(), &target.path) else {
            return (missing_token(), "-".into(), stage_name, 0);
        };
        let Some(method) = matching::method(matched.resource, request.method().as_str()) else {
            return (missing_token(), "-".into(), stage_name, 0);
        };
        let route = format!("{} {}", method.http_method, matched.resource.path);
        let (parts, body) = request.into_parts();
        let body = match http_body_util::Limited::new(body, MAX_PAYLOAD)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                let too_big = e
                    .downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some();
                let r = if too_big {
                    gateway_error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "RequestTooLongException",
                        "Request Too Long",
                    )
                } else {
                    gateway_error(
                        StatusCode::BAD_REQUEST,
                        "BadRequestException",
                        "Bad request",
                    )
                };
                return (r, route, stage_name, 0);
            }
        };
        let bytes_in = body.len();
        if method.authorization_type == "AWS_IAM" {
            let arn = m2sec_proto::arn::execute_api(
                &target.api.region,
                &target.api.account,
                &api.api.id,
                &stage_name,
                parts.method.as_str(),
                &target.path,
            );
            let verdict = match &self.iam {
                Some(iam) => {
                    iam.authorize(&parts, &body, &target.api.account, &arn)
                        .await
                }
                None => Err(Denied::Forbidden(
                    "AWS_IAM methods are not available".into(),
                )),
            };
            if let Err(denied) = verdict {
                let r = match denied {
                    Denied::MissingToken => missing_token(),
                    Denied::Invalid(m) => {
                        gateway_error(StatusCode::FORBIDDEN, "InvalidSignatureException", &m)
                    }
                    Denied::Forbidden(m) => {
                        gateway_error(StatusCode::FORBIDDEN, "AccessDeniedException", &m)
                    }
                };
                return (r, route, stage_name, bytes_in);
            }
        }
        let Some(integration) = &method.method_integration else {
            return (internal_error(), route, stage_name, bytes_in);
        };
        let call = integration::Call {
            parts,
            body,
            params: matched.params,
            stage: target.stage(),
            peer,
            request_id,
            host,
        };
        let response = if integration.kind == "AWS_PROXY" {
            let landing = lambda::Landing {
                resource_path: &matched.resource.path,
                api_id: &api.api.id,
                account: &target.api.account,
            };
            lambda::run(
                self.functions.as_deref(),
                integration.uri.as_deref(),
                call,
                landing,
            )
            .await
        } else {
            self.client.run(integration, call).await
        };
        (response, route, stage_name, bytes_in)
    }
}

/// `$context.protocol`.
fn protocol_name(version: axum::http::Version) -> &'static str {
    match version {
        axum::http::Version::HTTP_2 => "HTTP/2.0",
        axum::http::Version::HTTP_10 => "HTTP/1.0",
        axum::http::Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// A body from bytes.
pub(crate) fn body(bytes: impl Into<Bytes>) -> Body {
    Body::from(bytes.into())
}
