//! Integrations: HTTP_PROXY (the request passed to the upstream as it came, with the headers API
//! Gateway adds, and the upstream's answer passed back), HTTP (the same, with the answer's status
//! chosen by the integration responses) and MOCK (the answer made from the integration responses
//! alone).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;

use super::upstream::Upstreams;
use super::{body, gateway_error};
use crate::records::{Integration, IntegrationResponse, Stage};

/// Headers that describe one connection, not the request: never forwarded either way (`host` and
/// `content-length` are the upstream request's own).
fn hop_by_hop(name: &HeaderName) -> bool {
    use axum::http::header;
    *name == header::CONNECTION
        || *name == header::PROXY_AUTHENTICATE
        || *name == header::PROXY_AUTHORIZATION
        || *name == header::TE
        || *name == header::TRAILER
        || *name == header::TRANSFER_ENCODING
        || *name == header::UPGRADE
        || *name == header::HOST
        || *name == header::CONTENT_LENGTH
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_AMZN_TRACE_ID: HeaderName = HeaderName::from_static("x-amzn-trace-id");

pub(crate) struct Call<'a> {
    pub parts: axum::http::request::Parts,
    pub body: Bytes,
    pub params: BTreeMap<String, String>,
    pub stage: &'a Stage,
    pub peer: SocketAddr,
    pub request_id: &'a str,
    pub host: &'a str,
}

pub(crate) struct Client {
    upstreams: Upstreams,
}

/// The platform's trusted roots; none when it has no store (a minimal container).
fn rustls_native_roots() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    let found = rustls_native_certs::load_native_certs();
    if found.certs.is_empty() {
        tracing::warn!("no trusted root certificates found on this system; https:// integrations trust m2sec's own root only");
    }
    found.certs
}

fn internal_error() -> Response<Body> {
    gateway_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerErrorException",
        "Internal server error",
    )
}

/// The value a mapping expression names (`method.request.path.proxy`, `'literal'`,
/// `stageVariables.color`).
fn source(call: &Call<'_>, expression: &str) -> Option<String> {
    if let Some(literal) = expression
        .strip_prefix('\'')
        .and_then(|e| e.strip_suffix('\''))
    {
        return Some(literal.to_string());
    }
    if let Some(name) = expression.strip_prefix("method.request.path.") {
        return call.params.get(name).cloned();
    }
    if let Some(name) = expression.strip_prefix("method.request.querystring.") {
        return call.parts.uri.query().and_then(|q| {
            q.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k == name).then(|| v.to_string())
            })
        });
    }
    if let Some(name) = expression.strip_prefix("method.request.header.") {
        return call
            .parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
    }
    if let Some(name) = expression.strip_prefix("stageVariables.") {
        return call.stage.variables.get(name).cloned();
    }
    None
}

/// Stage variables (`${stageVariables.name}`) in a URI or template.
fn with_stage_variables(text: &str, stage: &Stage) -> String {
    let mut out = text.to_string();
    if stage.variables.is_empty() || !text.contains("${stageVariables.") {
        return out;
    }
    for (k, v) in &stage.variables {
        out = out.replace(&format!("${{stageVariables.{k}}}"), v);
    }
    out
}

/// The upstream URI: path parameters from the integration's mappings (or, unmapped, the method's
/// own), stage variables, and the request's query string with mapped parameters added.
fn upstream_uri(integration: &Integration, call: &Call<'_>) -> String {
    let template = with_stage_variables(integration.uri.as_deref().unwrap_or(""), call.stage);
    // Each `{name}` (or `{name+}`) replaced by its value, in one pass.
    let mut uri = String::with_capacity(template.len() + 64);
    let mut rest = template.as_str();
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        uri.push_str(&rest[..start]);
        let bare = rest[start + 1..start + len].trim_end_matches('+');
        let mapped = integration
            .request_parameters
            .iter()
            .find(|(target, _)| target.strip_prefix("integration.request.path.") == Some(bare))
            .and_then(|(_, e)| source(call, e));
        match mapped {
            Some(value) => uri.push_str(&value),
            None => uri.push_str(call.params.get(bare).map_or("", String::as_str)),
        }
        rest = &rest[start + len + 1..];
    }
    uri.push_str(rest);
    let mut query: Vec<String> = if integration.kind == "HTTP_PROXY" {
        call.parts
            .uri
            .query()
            .filter(|q| !q.is_empty())
            .map(|q| vec![q.to_string()])
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    for (target, expression) in &integration.request_parameters {
        if let Some(name) = target.strip_prefix("integration.request.querystring.") {
            if let Some(v) = source(call, expression) {
                query.push(format!(
                    "{name}={}",
                    percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC)
                ));
            }
        }
    }
    if !query.is_empty() {
        uri.push(if uri.contains('?') { '&' } else { '?' });
        uri.push_str(&query.join("&"));
    }
    uri
}

/// `Root=1-<epoch hex>-<24 hex>`, as X-Ray trace ids look.
fn trace_id() -> String {
    let secs = m2sec_store::now_ms() / 1000;
    let mut id = String::with_capacity(40);
    id.push_str("Root=1-");
    for shift in (0..8).rev() {
        id.push(hex_digit((secs >> (4 * shift)) as u8));
    }
    id.push('-');
    id.extend(
        m2sec_proto::random_uuid()
            .chars()
            .filter(|c| *c != '-')
            .take(24),
    );
    id
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0xf)])
}

/// `ip` appended to `to`, an IPv4 address without `fmt`'s machinery.
fn push_ip(to: &mut String, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(ip) => {
            let mut digits = itoa::Buffer::new();
            for (i, octet) in ip.octets().into_iter().enumerate() {
                if i > 0 {
                    to.push('.');
                }
                to.push_str(digits.format(octet));
            }
        }
        ip => to.push_str(&ip.to_string()),
    }
}

fn forwarded_headers(integration: &Integration, call: &Call<'_>) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(call.parts.headers.len() + 4);
    if integration.kind == "HTTP_PROXY" || integration.kind == "HTTP" {
        for (name, value) in &call.parts.headers {
            if !hop_by_hop(name) {
                headers.append(name.clone(), value.clone());
            }
        }
    }
    let mut forwarded_for = String::with_capacity(48);
    if let Some(before) = call
        .parts
        .headers
        .get(&X_FORWARDED_FOR)
        .and_then(|v| v.to_str().ok())
    {
        forwarded_for.push_str(before);
        forwarded_for.push_str(", ");
    }
    push_ip(&mut forwarded_for, call.peer.ip());
    if let Ok(v) = HeaderValue::from_str(&forwarded_for) {
        headers.insert(X_FORWARDED_FOR, v);
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("https"));
    if !headers.contains_key(&X_AMZN_TRACE_ID) {
        if let Ok(v) = HeaderValue::from_str(&trace_id()) {
            headers.insert(X_AMZN_TRACE_ID, v);
        }
    }
    for (target, expression) in &integration.request_parameters {
        if let Some(name) = target.strip_prefix("integration.request.header.") {
            if let (Some(v), Ok(n)) = (source(call, expression), HeaderName::try_from(name)) {
                if let Ok(v) = HeaderValue::from_str(&v) {
                    headers.insert(n, v);
                }
            }
        }
    }
    headers
}

/// The integration response for a status: the first whose selection pattern matches it whole,
/// else the default one (no pattern).
fn select<'a>(integration: &'a Integration, status: &str) -> Option<&'a IntegrationResponse> {
    let patterned = integration.integration_responses.values().find(|r| {
        r.selection_pattern
            .as_deref()
            .filter(|p| !p.is_empty())
            .and_then(|p| regex::Regex::new(&format!("^(?:{p})$")).ok())
            .is_some_and(|re| re.is_match(status))
    });
    patterned.or_else(|| {
        integration
            .integration_responses
            .values()
            .find(|r| r.selection_pattern.as_deref().unwrap_or("").is_empty())
    })
}

/// An answer made from an integration response: its status, its literal header mappings
/// (`method.response.header.X` = `'value'`) and its JSON template (or `passthrough`).
fn from_integration_response(
    chosen: &IntegrationResponse,
    passthrough: Option<Body>,
    stage: &Stage,
) -> Response<Body> {
    let status = chosen
        .status_code
        .parse::<u16>()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let template = chosen
        .response_templates
        .get("application/json")
        .or_else(|| chosen.response_templates.values().next())
        .filter(|t| !t.trim().is_empty());
    let body = match (template, passthrough) {
        (Some(t), _) => body(with_stage_variables(t, stage)),
        (None, Some(b)) => b,
        (None, None) => Body::empty(),
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (target, expression) in &chosen.response_parameters {
        let Some(name) = target.strip_prefix("method.response.header.") else {
            continue;
        };
        let Some(value) = expression
            .strip_prefix('\'')
            .and_then(|e| e.strip_suffix('\''))
        else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
            r.headers_mut().insert(n, v);
        }
    }
    r
}

impl Client {
    /// Upstreams' certificates are checked against the platform's trust store and `extra_roots`
    /// (m2sec's own root, so upstreams with certificates m2sec issued are trusted).
    pub(crate) fn new(extra_roots: &[rustls::pki_types::CertificateDer<'static>]) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_roots();
        roots.add_parsable_certificates(native);
        roots.add_parsable_certificates(extra_roots.iter().cloned());
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Client {
            upstreams: Upstreams::new(std::sync::Arc::new(tls)),
        }
    }

    pub(crate) async fn run(&self, integration: &Integration, call: Call<'_>) -> Response<Body> {
        match integration.kind.as_str() {
            "MOCK" => mock(integration, &call),
            "HTTP" | "HTTP_PROXY" => self.http(integration, call).await,
            other => {
                tracing::warn!(kind = other, "an integration of a type m2sec does not run");
                internal_error()
            }
        }
    }

    async fn http(&self, integration: &Integration, call: Call<'_>) -> Response<Body> {
        let uri = upstream_uri(integration, &call);
        if !uri.starts_with("http://") && !uri.starts_with("https://") {
            tracing::warn!(uri = %uri, "an integration URI that is not http:// or https://");
            return internal_error();
        }
        let method = match integration.http_method.as_deref() {
            None | Some("ANY") => call.parts.method.clone(),
            Some(m) => match m.parse() {
                Ok(m) => m,
                Err(_) => return internal_error(),
            },
        };
        let mut request = Request::new(Full::new(call.body.clone()));
        *request.method_mut() = method;
        *request.uri_mut() = match uri.parse() {
            Ok(u) => u,
            Err(_) => {
                tracing::warn!(uri = %uri, "an integration URI that does not parse");
                return internal_error();
            }
        };
        *request.headers_mut() = forwarded_headers(integration, &call);
        let timeout = Duration::from_millis(integration.timeout_in_millis.max(50) as u64);
        let upstream = match tokio::time::timeout(timeout, self.upstreams.send(request)).await {
            Err(_) => {
                return gateway_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "InternalServerErrorException",
                    "Endpoint request timed out",
                )
            }
            Ok(Err(e)) => {
                tracing::warn!(uri = %uri, error = %e, request_id = call.request_id, host = call.host, "the integration's upstream failed");
                return internal_error();
            }
            Ok(Ok(r)) => r,
        };
        let (parts, incoming) = upstream.into_parts();
        let upstream_body = Body::new(incoming);
        if integration.kind == "HTTP" {
            return match select(integration, parts.status.as_str()) {
                Some(chosen) => from_integration_response(chosen, Some(upstream_body), call.stage),
                None => internal_error(),
            };
        }
        let mut response = Response::new(upstream_body);
        *response.status_mut() = parts.status;
        for (name, value) in &parts.headers {
            if !hop_by_hop(name) || name == axum::http::header::CONTENT_LENGTH {
                response.headers_mut().append(name.clone(), value.clone());
            }
        }
        response
    }
}

/// MOCK: the status the request template names (`{"statusCode": 200}`, 200 by default) selects
/// the integration response.
fn mock(integration: &Integration, call: &Call<'_>) -> Response<Body> {
    let template = integration
        .request_templates
        .get("application/json")
        .or_else(|| integration.request_templates.values().next());
    let status = template
        .and_then(|t| {
            let rest = &t[t.find("statusCode")?..];
            let start = rest.find(|c: char| c.is_ascii_digit())?;
            let digits = &rest[start..];
            let end = digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len());
            Some(&digits[..end])
        })
        .unwrap_or("200");
    match select(integration, status) {
        Some(chosen) => from_integration_response(chosen, None, call.stage),
        None => internal_error(),
    }
}
