//! API Gateway at the edge, as the server wires it: AWS_IAM methods checked with m2sec's own SigV4
//! verification and IAM policies (`execute-api:Invoke`), and the DNS names the edge answers to
//! (`*.execute-api.<region>.amazonaws.com` for default endpoints and regional domain names,
//! `*.cloudfront.net` for EDGE domain names), which m2sec's DNS server resolves to the edge.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use m2sec_apigateway::runtime::{Denied, InvokeAuthorizer, Runtime};
use m2sec_crypto::SecretBytes;
use m2sec_proto::sigv4::RequestParts;
use m2sec_route53::zone::{Action, Change, RecordSet, Zone};

use crate::edge::{EdgeConnection, SecurityPolicy, Site, Sites};
use crate::http::connections::App;
use crate::http::AppState;

/// AWS_IAM methods: the caller signs for `execute-api` and needs `execute-api:Invoke` on the
/// method's ARN, in the API's account.
pub struct IamInvoke {
    pub state: Arc<AppState>,
}

#[async_trait]
impl InvokeAuthorizer for IamInvoke {
    async fn authorize(
        &self,
        parts: &axum::http::request::Parts,
        body: &[u8],
        account: &str,
        method_arn: &str,
    ) -> Result<(), Denied> {
        let signed_by_query = parts
            .uri
            .query()
            .is_some_and(|q| q.contains("X-Amz-Signature="));
        if !parts.headers.contains_key("authorization") && !signed_by_query {
            return Err(Denied::MissingToken);
        }
        // Over HTTP/2 the host travels as `:authority`, which the client signed as `host`.
        let mut headers = parts.headers.clone();
        if !headers.contains_key("host") {
            if let Some(v) = parts
                .uri
                .authority()
                .and_then(|a| axum::http::HeaderValue::from_str(a.as_str()).ok())
            {
                headers.insert("host", v);
            }
        }
        let request = RequestParts {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &headers,
            body,
        };
        let auth = &self.state.auth;
        let pending = auth
            .begin(&request, "execute-api")
            .await
            .map_err(|e| Denied::Invalid(e.message))?;
        let principal = pending
            .finish(auth, &request)
            .map_err(|e| Denied::Invalid(e.message))?;
        let refused = |who: &str| {
            Denied::Forbidden(format!(
                "User: {who} is not authorized to perform: execute-api:Invoke on resource: {method_arn}"
            ))
        };
        if principal.account != account {
            return Err(refused(&principal.arn));
        }
        let who = principal.arn.clone();
        let ctx = principal.into_context(&m2sec_proto::random_uuid(), "Invoke", None, None);
        let context = m2sec_iam::authorizer::context(&ctx, &[]);
        self.state
            .authorizer
            .authorize(&ctx, "execute-api:Invoke", method_arn, &context)
            .await
            .map_err(|_| refused(&who))
    }
}

/// The regions whose default endpoint names m2sec answers (those API Gateway publishes a hosted
/// zone for).
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-south-1",
    "sa-east-1",
    "ca-central-1",
    "af-south-1",
    "me-south-1",
];

fn wildcard_zone(id: &str, apex: &str, edge: IpAddr) -> Zone {
    let mut zone = Zone::new(
        id,
        &format!("{apex}."),
        id,
        Some("m2sec's edge".into()),
        false,
        0,
        &["ns1.m2sec.internal.".to_string()],
    );
    let kind = if edge.is_ipv4() { "A" } else { "AAAA" };
    let set = RecordSet {
        name: format!("*.{apex}."),
        kind: kind.into(),
        ttl: Some(60),
        records: vec![edge.to_string()],
        alias: None,
        set_identifier: None,
        weight: None,
    };
    if let Err(e) = zone.apply(&[Change {
        action: Action::Create,
        set,
    }]) {
        tracing::warn!(zone = apex, errors = ?e, "the edge's DNS zone could not be made");
    }
    zone
}

/// The zones that send the edge's names to `edge`.
pub fn edge_zones(edge: IpAddr) -> Vec<Zone> {
    let mut zones: Vec<Zone> = REGIONS
        .iter()
        .map(|r| {
            wildcard_zone(
                &format!("M2SECEDGE{}", r.replace('-', "").to_ascii_uppercase()),
                &format!("execute-api.{r}.amazonaws.com"),
                edge,
            )
        })
        .collect();
    zones.push(wildcard_zone("M2SECEDGECLOUDFRONT", "cloudfront.net", edge));
    zones
}

/// The sites of the edge: each custom domain name with its ACM certificate and security policy, and
/// the default endpoints (`*.execute-api.<region>.amazonaws.com`) with a certificate of m2sec's CA.
/// Sites are kept until API Gateway on this node changes something (a domain name created, updated or
/// deleted is served, or refused, from the next handshake), and for at most [`SITE_TTL`], so a
/// renewed or re-imported certificate is served from the next handshake after that, without a
/// restart.
pub struct GatewaySites {
    pub runtime: Arc<Runtime>,
    pub acm: Arc<m2sec_acm::service::Acm>,
    cache: tokio::sync::Mutex<HashMap<String, Cached>>,
    /// Default endpoint certificates by wildcard name, made once per run.
    endpoints: tokio::sync::Mutex<HashMap<String, Arc<Site>>>,
}

/// A site (or its absence) as looked up at a moment, and API Gateway's generation then.
type Cached = (Instant, u64, Option<Arc<Site>>);

pub const SITE_TTL: Duration = Duration::from_secs(2);

/// A private key as the edge takes it (DER) from what ACM holds: DER for the certificates it issued;
/// for imported ones, the PEM they came with.
fn key_der(key: &SecretBytes) -> Option<SecretBytes> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::PrivateKeyDer;
    let bytes = key.expose();
    if !bytes.starts_with(b"-----BEGIN") {
        return Some(SecretBytes::from_slice(bytes));
    }
    let der = PrivateKeyDer::from_pem_slice(bytes).ok()?;
    Some(SecretBytes::from_slice(der.secret_der()))
}

impl GatewaySites {
    pub fn new(runtime: Arc<Runtime>, acm: Arc<m2sec_acm::service::Acm>) -> Self {
        GatewaySites {
            runtime,
            acm,
            cache: Default::default(),
            endpoints: Default::default(),
        }
    }

    async fn load(&self, name: &str) -> Option<Arc<Site>> {
        if let Some(domain) = self.runtime.domain_site(name).await {
            let region = m2sec_proto::arn::Arn::parse(&domain.certificate_arn)
                .map(|a| a.region.to_string())
                .unwrap_or(domain.region.clone());
            let material = match self
                .acm
                .serving_material(&domain.account, &region, &domain.certificate_arn)
                .await
            {
                Ok(Some(m)) => m,
                Ok(None) => {
                    tracing::warn!(domain = name, certificate = %domain.certificate_arn, "the domain name's certificate is not issued: handshakes are refused");
                    return None;
                }
                Err(e) => {
                    tracing::error!(domain = name, code = %e.code, "the domain name's certificate could not be read");
                    return None;
                }
            };
            let policy: SecurityPolicy = domain.security_policy.parse().ok()?;
            return Some(Arc::new(Site {
                chain_pem: material.chain_pem,
                key_der: key_der(&material.key)?,
                policy,
                version: format!("{}:{}", material.serial, domain.security_policy),
            }));
        }
        if self.runtime.serves_default_endpoint(name).await {
            let (_, region) = m2sec_apigateway::runtime::default_endpoint(name)?;
            let wildcard = format!("*.execute-api.{region}.amazonaws.com");
            let mut endpoints = self.endpoints.lock().await;
            if let Some(site) = endpoints.get(&wildcard) {
                return Some(site.clone());
            }
            let material = match self.acm.endpoint_material(&wildcard).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(name = %wildcard, code = %e.code, "no certificate for the default endpoints");
                    return None;
                }
            };
            let site = Arc::new(Site {
                chain_pem: material.chain_pem,
                key_der: material.key,
                policy: SecurityPolicy::Tls1_2,
                version: material.serial,
            });
            endpoints.insert(wildcard, site.clone());
            return Some(site);
        }
        None
    }
}

#[async_trait]
impl Sites for GatewaySites {
    async fn site(&self, server_name: &str) -> Option<Arc<Site>> {
        let generation = self.runtime.generation();
        if let Some((at, seen, site)) = self.cache.lock().await.get(server_name) {
            if at.elapsed() < SITE_TTL && *seen == generation {
                return site.clone();
            }
        }
        let site = self.load(server_name).await;
        let mut cache = self.cache.lock().await;
        if cache.len() > 10_000 {
            cache.retain(|_, (at, _, _)| at.elapsed() < SITE_TTL);
        }
        cache.insert(
            server_name.to_string(),
            (Instant::now(), generation, site.clone()),
        );
        site
    }
}

/// What answers behind the edge: every request goes to API Gateway's runtime, with its connection's
/// peer and server name, and no router in between.
#[derive(Clone)]
pub struct EdgeApp {
    pub runtime: Arc<Runtime>,
}

impl App<EdgeConnection> for EdgeApp {
    fn call(
        &self,
        request: hyper::Request<hyper::body::Incoming>,
        _remote: SocketAddr,
        connection: &Arc<EdgeConnection>,
    ) -> impl std::future::Future<Output = axum::response::Response> + Send + 'static + use<> {
        let (runtime, connection) = (self.runtime.clone(), connection.clone());
        async move {
            runtime
                .handle(
                    request.map(axum::body::Body::new),
                    connection.peer,
                    &connection.server_name,
                )
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_names_resolve_to_the_edge() {
        let zones = edge_zones("127.0.0.7".parse().unwrap());
        let name = "d-abc123.execute-api.eu-west-1.amazonaws.com.";
        let zone = m2sec_route53::store::enclosing(&zones, name).expect("a zone");
        match zone.resolve(name, "A") {
            m2sec_route53::zone::Answer::Records(sets) => {
                assert_eq!(sets[0].records, vec!["127.0.0.7".to_string()])
            }
            _ => panic!("no A record for {name}"),
        }
    }
}
