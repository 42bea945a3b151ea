//! The edge's TLS handshake: the ClientHello is read first, its server name (SNI) chooses the site,
//! and the rest of the handshake runs with that site's certificate and security policy.
//!
//! - A ClientHello without a server name, or with a name no site answers for, is refused with a fatal
//!   alert (`handshake_failure`, `unrecognized_name`) before the server says anything else: the edge
//!   has no default certificate, so a client never sees another site's.
//! - Each site's `rustls::ServerConfig` is built once per [`Site::version`] and cached by server name.
//!   A new version (a renewed or re-imported certificate, another policy) is built at the first
//!   handshake that sees it; connections made before keep the configuration they started with.
//! - A site whose chain or key cannot be used is refused with `internal_error` and logged once per
//!   version.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ProtocolVersion, ServerConfig};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::LazyConfigAcceptor;

use super::{EdgeConnection, Site, Sites};
use crate::http::connections::{Annotate, Handshake};

/// TLS alert descriptions (RFC 8446 §6, RFC 6066 §3).
const HANDSHAKE_FAILURE: u8 = 40;
const INTERNAL_ERROR: u8 = 80;
const UNRECOGNIZED_NAME: u8 = 112;

/// Server names whose configuration is kept. Each is a site that exists, but a wildcard certificate
/// answers for any number of names: past this, an arbitrary entry is dropped (and rebuilt if needed).
const MAX_CACHED_CONFIGS: usize = 4096;

/// The protocols offered by ALPN, preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

pub(super) struct TlsHandshake {
    sites: Arc<dyn Sites>,
    configs: ConfigCache,
    timeout: Duration,
}

impl TlsHandshake {
    pub(super) fn new(sites: Arc<dyn Sites>, timeout: Duration) -> Self {
        TlsHandshake {
            sites,
            configs: ConfigCache::default(),
            timeout,
        }
    }

    async fn accept(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> Result<(TlsStream<TcpStream>, EdgeConnection), Refusal> {
        let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream)
            .await
            .map_err(Refusal::Failed)?;
        let Some(server_name) = start.client_hello().server_name().map(normalize) else {
            refuse(start.io, HANDSHAKE_FAILURE).await;
            return Err(Refusal::NoServerName);
        };
        let Some(site) = self.sites.site(&server_name).await else {
            refuse(start.io, UNRECOGNIZED_NAME).await;
            return Err(Refusal::UnknownName(server_name));
        };
        let Some(config) = self.configs.get(&server_name, &site) else {
            refuse(start.io, INTERNAL_ERROR).await;
            return Err(Refusal::UnusableSite(server_name));
        };
        let stream = start.into_stream(config).await.map_err(Refusal::Failed)?;
        let session = stream.get_ref().1;
        let connection = EdgeConnection {
            peer,
            alpn_h2: session.alpn_protocol() == Some(b"h2"),
            tls_version: match session.protocol_version() {
                Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
                Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
                _ => "",
            },
            server_name,
        };
        Ok((stream, connection))
    }
}

impl Handshake for TlsHandshake {
    type Io = TlsStream<TcpStream>;
    type Info = EdgeConnection;
    const HTTP2: bool = true;

    async fn handshake(
        &self,
        stream: TcpStream,
        remote: SocketAddr,
    ) -> Option<(Self::Io, EdgeConnection)> {
        match tokio::time::timeout(self.timeout, self.accept(stream, remote)).await {
            Ok(Ok(accepted)) => Some(accepted),
            Ok(Err(refusal)) => {
                tracing::debug!(remote = %remote, reason = %refusal, "TLS handshake refused");
                None
            }
            Err(_) => {
                tracing::debug!(
                    remote = %remote,
                    timeout_secs = self.timeout.as_secs_f64(),
                    "TLS handshake not completed in time; connection closed"
                );
                None
            }
        }
    }
}

impl Annotate for EdgeConnection {
    fn annotate(&self, extensions: &mut http::Extensions) {
        extensions.insert(self.clone());
    }
}

/// Why a handshake did not complete.
enum Refusal {
    NoServerName,
    UnknownName(String),
    UnusableSite(String),
    /// Not TLS, no protocol or suite in common, the client gave up…
    Failed(std::io::Error),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NoServerName => f.write_str("the ClientHello names no server (no SNI)"),
            Refusal::UnknownName(name) => write!(f, "no site for the server name '{name}'"),
            Refusal::UnusableSite(name) => {
                write!(f, "the certificate or key of '{name}' cannot be used")
            }
            Refusal::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// Server names are compared lowercased and without a trailing dot.
fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Ends a handshake with a fatal alert; it is the first thing the server sends, so it goes in
/// plaintext, as a TLS 1.2 record (which TLS 1.3 clients read too).
async fn refuse(mut io: TcpStream, description: u8) {
    const FATAL: u8 = 2;
    const ALERT: u8 = 21;
    let record = [ALERT, 3, 3, 0, 2, FATAL, description];
    if io.write_all(&record).await.is_ok() {
        let _ = io.shutdown().await;
    }
}

/// The configuration of each server name's site, as of the site's version.
#[derive(Default)]
struct ConfigCache {
    entries: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    version: String,
    /// `None`: the site's chain or key cannot be used (logged when found).
    config: Option<Arc<ServerConfig>>,
}

impl ConfigCache {
    fn get(&self, server_name: &str, site: &Site) -> Option<Arc<ServerConfig>> {
        if let Some(cached) = self.entries.lock().expect("config cache").get(server_name) {
            if cached.version == site.version {
                return cached.config.clone();
            }
        }
        // Built outside the lock: two handshakes may build the same one, and the last is kept.
        let config = match server_config(site) {
            Ok(config) => Some(Arc::new(config)),
            Err(e) => {
                tracing::warn!(
                    server_name,
                    version = %site.version,
                    error = %e,
                    "the site's certificate or key cannot be used; its handshakes are refused"
                );
                None
            }
        };
        let mut entries = self.entries.lock().expect("config cache");
        if entries.len() >= MAX_CACHED_CONFIGS && !entries.contains_key(server_name) {
            if let Some(other) = entries.keys().next().cloned() {
                entries.remove(&other);
            }
        }
        entries.insert(
            server_name.to_string(),
            Cached {
                version: site.version.clone(),
                config: config.clone(),
            },
        );
        config
    }
}

/// The configuration serving `site`: its chain and key, its policy's versions, suites and groups, and
/// ALPN for HTTP/2 and HTTP/1.1.
pub(super) fn server_config(site: &Site) -> Result<ServerConfig, rustls::Error> {
    let chain = CertificateDer::pem_slice_iter(site.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| rustls::Error::General(format!("certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(rustls::Error::General(
            "the certificate chain holds no certificate".into(),
        ));
    }
    // Borrowed from the zeroized buffer: the key is not copied before aws-lc-rs parses it. PKCS#8 is
    // what ACM issues; imported keys may also be PKCS#1 (RSA) or SEC1 (EC).
    let key = PrivateKeyDer::try_from(site.key_der.expose())
        .map_err(|e| rustls::Error::General(format!("private key: {e}")))?;
    let signing_key = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(e) => return Err(e),
    }
    let mut config = ServerConfig::builder_with_provider(Arc::new(site.policy.crypto_provider()))
        .with_protocol_versions(site.policy.protocol_versions())?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(OneCertificate(Arc::new(certified))));
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    // The server's order of suites, as API Gateway's policies list them: AES-128-GCM with SHA-256
    // first, whose handshake hashing costs a third of SHA-384's.
    config.ignore_client_order = true;
    Ok(config)
}

/// The site's certificate, whatever the ClientHello (the site was chosen by its server name already).
#[derive(Debug)]
struct OneCertificate(Arc<CertifiedKey>);

impl ResolvesServerCert for OneCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}
