//! The HTTPS edge: one listener serving many HTTPS sites, each chosen by the server name (SNI) of the
//! client's ClientHello, with its own certificate and [`SecurityPolicy`]. HTTP/1.1 and HTTP/2 (by
//! ALPN) are answered by one [`connections::App`] (an axum router, which finds in each request's
//! extensions the [`EdgeConnection`] it came through, or a service given it directly).
//!
//! The edge knows nothing of what its sites are: a [`Sites`] answers for server names, and the router
//! answers requests. Connections are kept as the API listener keeps them (see
//! [`crate::http::connections`]: header and idle timeouts, the connection cap, the bounded drain),
//! with the TLS handshake bounded by [`EdgeLimits::handshake_timeout`] besides (see [`tls`]).

pub mod policy;
mod tls;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::http::connections::{self, ConnectionLimits};
pub use policy::SecurityPolicy;

/// One HTTPS site: what the edge needs to answer a ClientHello for a server name.
#[derive(Debug)]
pub struct Site {
    /// The certificate chain in PEM, leaf first, then intermediates (as ACM stores it).
    pub chain_pem: String,
    /// The leaf's private key, DER: PKCS#8, or PKCS#1 (RSA) or SEC1 (EC) as imported keys may be.
    pub key_der: m2sec_crypto::SecretBytes,
    pub policy: SecurityPolicy,
    /// Changes whenever the chain, the key or the policy change (a certificate serial and the policy
    /// name will do): the edge's configuration cache is keyed on it.
    pub version: String,
}

/// The sites the edge serves.
#[async_trait::async_trait]
pub trait Sites: Send + Sync + 'static {
    /// The site for a server name (lowercase, no trailing dot); `None` refuses the handshake. Asked at
    /// every handshake, so it should answer from memory.
    async fn site(&self, server_name: &str) -> Option<Arc<Site>>;
}

/// What a request through the edge carries in its extensions (besides
/// `axum::extract::ConnectInfo<SocketAddr>`, as on the API listener).
#[derive(Clone, Debug)]
// Read by the routers behind the edge; the placeholder router answers 404 without reading it.
#[allow(dead_code)]
pub struct EdgeConnection {
    /// The client's address.
    pub peer: SocketAddr,
    /// The server name of the handshake (lowercase, no trailing dot).
    pub server_name: String,
    /// Whether ALPN chose HTTP/2.
    pub alpn_h2: bool,
    /// `TLSv1.3` or `TLSv1.2`, as API Gateway's `$context.tlsVersion` names them.
    pub tls_version: &'static str,
}

#[derive(Debug, Clone)]
pub struct EdgeLimits {
    /// Timeouts, cap, drain and head size, as on the API listener.
    pub connections: ConnectionLimits,
    /// Time a client has to complete the TLS handshake from the moment its connection is accepted.
    pub handshake_timeout: Duration,
}

impl EdgeLimits {
    /// The API listener's limits, with a handshake timeout of 10 s (or the header timeout if shorter).
    pub fn from_connection_limits(connections: ConnectionLimits) -> Self {
        EdgeLimits {
            handshake_timeout: connections.header_timeout.min(Duration::from_secs(10)),
            connections,
        }
    }
}

/// Serves `app` over TLS on `listener` for the names `sites` answers for, until `shutdown` resolves,
/// then drains like the API listener.
pub async fn serve(
    listener: TcpListener,
    sites: Arc<dyn Sites>,
    app: impl connections::App<EdgeConnection>,
    limits: EdgeLimits,
    workers: Option<Arc<connections::ConnectionWorkers>>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let handshake = Arc::new(tls::TlsHandshake::new(sites, limits.handshake_timeout));
    connections::serve_with(
        listener,
        handshake,
        app,
        limits.connections,
        workers,
        shutdown,
    )
    .await
}
