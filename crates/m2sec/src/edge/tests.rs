//! The edge against a real client (tokio-rustls, hyper), with certificates made by rcgen.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Extension;
use axum::Router;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{AlertDescription, ClientConfig, NamedGroup, ProtocolVersion, RootCertStore};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::*;

/// A CA the test client trusts, issuing leaf certificates.
struct TestCa {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

/// A leaf certificate and its key, ready to serve.
struct Leaf {
    der: Vec<u8>,
    pem: String,
    key_der: Vec<u8>,
}

impl TestCa {
    fn new() -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "m2sec edge test CA");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa { cert, key }
    }

    fn leaf(&self, name: &str) -> Leaf {
        let params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            key_der: key.serialize_der(),
        }
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.cert.der().to_vec()))
            .unwrap();
        roots
    }
}

fn site(leaf: &Leaf, policy: SecurityPolicy, version: &str) -> Arc<Site> {
    Arc::new(Site {
        chain_pem: leaf.pem.clone(),
        key_der: m2sec_crypto::SecretBytes::from_slice(&leaf.key_der),
        policy,
        version: version.to_string(),
    })
}

#[derive(Default)]
struct TestSites(Mutex<HashMap<String, Arc<Site>>>);

impl TestSites {
    fn set(&self, name: &str, site: Arc<Site>) {
        self.0.lock().unwrap().insert(name.to_string(), site);
    }
}

#[async_trait::async_trait]
impl Sites for TestSites {
    async fn site(&self, server_name: &str) -> Option<Arc<Site>> {
        self.0.lock().unwrap().get(server_name).cloned()
    }
}

/// An edge on a free port, answering with what the request's [`EdgeConnection`] says.
struct Edge {
    address: SocketAddr,
    sites: Arc<TestSites>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Edge {
    async fn start() -> Edge {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let sites = Arc::new(TestSites::default());
        let app = Router::new().fallback(|Extension(c): Extension<EdgeConnection>| async move {
            format!("{} h2={} {}", c.server_name, c.alpn_h2, c.tls_version)
        });
        let limits = EdgeLimits {
            connections: ConnectionLimits {
                header_timeout: Duration::from_secs(5),
                max_connections: 64,
                drain: Duration::from_secs(1),
                max_header_bytes: 64 * 1024,
            },
            handshake_timeout: Duration::from_millis(400),
        };
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(serve(
            listener,
            sites.clone(),
            app,
            limits,
            None,
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
        ));
        Edge {
            address,
            sites,
            stop,
            task,
        }
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the edge drains in time")
            .unwrap();
    }
}

fn client(
    roots: RootCertStore,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> ClientConfig {
    ClientConfig::builder_with_protocol_versions(versions)
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// A TLS connection to the edge; `None` as the name sends no SNI.
async fn connect(
    address: SocketAddr,
    name: Option<&str>,
    config: ClientConfig,
) -> Result<TlsStream<TcpStream>, std::io::Error> {
    let server_name = match name {
        Some(name) => ServerName::try_from(name.to_string()).unwrap(),
        // rustls sends no SNI for an address.
        None => ServerName::IpAddress(address.ip().into()),
    };
    let tcp = TcpStream::connect(address).await?;
    TlsConnector::from(Arc::new(config))
        .connect(server_name, tcp)
        .await
}

/// The alert the client received, from a failed handshake.
fn alert(result: Result<TlsStream<TcpStream>, std::io::Error>) -> AlertDescription {
    let e = result.expect_err("the handshake fails");
    match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::AlertReceived(alert)) => *alert,
        _ => panic!("not an alert: {e:?}"),
    }
}

fn leaf_der(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// GET / over HTTP/1.1 or HTTP/2 (as ALPN chose), returning the body.
async fn get(stream: TlsStream<TcpStream>, server_name: &str) -> String {
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let request = hyper::Request::get(format!("https://{server_name}/"))
        .header("host", server_name)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let io = TokioIo::new(stream);
    let response = if h2 {
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .unwrap();
        tokio::spawn(conn);
        sender.send_request(request).await.unwrap()
    } else {
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(conn);
        sender.send_request(request).await.unwrap()
    };
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn each_name_gets_its_own_certificate_over_tls13_and_tls12() {
    let ca = TestCa::new();
    let (a, b) = (ca.leaf("a.test"), ca.leaf("b.test"));
    let edge = Edge::start().await;
    edge.sites
        .set("a.test", site(&a, SecurityPolicy::Tls1_2, "a1"));
    edge.sites
        .set("b.test", site(&b, SecurityPolicy::Tls1_2, "b1"));
    for (version, name) in [
        (&rustls::version::TLS13, "TLSv1.3"),
        (&rustls::version::TLS12, "TLSv1.2"),
    ] {
        for (host, leaf) in [("a.test", &a), ("b.test", &b)] {
            let stream = connect(edge.address, Some(host), client(ca.roots(), &[version]))
                .await
                .unwrap();
            assert_eq!(leaf_der(&stream), leaf.der, "{host} {name}");
            assert_eq!(stream.get_ref().1.protocol_version(), Some(version.version));
            assert_eq!(get(stream, host).await, format!("{host} h2=false {name}"));
        }
    }
    // The name is compared lowercased.
    let stream = connect(
        edge.address,
        Some("A.Test"),
        client(ca.roots(), rustls::DEFAULT_VERSIONS),
    )
    .await
    .unwrap();
    assert_eq!(leaf_der(&stream), a.der);
    edge.stop().await;
}

#[tokio::test]
async fn unknown_and_missing_server_names_are_refused_with_an_alert() {
    let ca = TestCa::new();
    let edge = Edge::start().await;
    edge.sites.set(
        "a.test",
        site(&ca.leaf("a.test"), SecurityPolicy::Tls1_2, "1"),
    );
    let config = || client(ca.roots(), rustls::DEFAULT_VERSIONS);
    assert_eq!(
        alert(connect(edge.address, Some("c.test"), config()).await),
        AlertDescription::UnrecognisedName
    );
    assert_eq!(
        alert(connect(edge.address, None, config()).await),
        AlertDescription::HandshakeFailure
    );
    // A site whose key is not its certificate's is refused too, never served.
    let mut broken = ca.leaf("a.test");
    broken.key_der = ca.leaf("b.test").key_der;
    edge.sites
        .set("a.test", site(&broken, SecurityPolicy::Tls1_2, "2"));
    assert_eq!(
        alert(connect(edge.address, Some("a.test"), config()).await),
        AlertDescription::InternalError
    );
    edge.stop().await;
}

#[tokio::test]
async fn a_tls13_only_policy_refuses_tls12() {
    let ca = TestCa::new();
    let edge = Edge::start().await;
    let a = ca.leaf("a.test");
    edge.sites
        .set("a.test", site(&a, SecurityPolicy::Tls13_1_3_2025_09, "1"));
    let refused = connect(
        edge.address,
        Some("a.test"),
        client(ca.roots(), &[&rustls::version::TLS12]),
    )
    .await;
    assert_eq!(alert(refused), AlertDescription::ProtocolVersion);
    let stream = connect(
        edge.address,
        Some("a.test"),
        client(ca.roots(), &[&rustls::version::TLS13]),
    )
    .await
    .unwrap();
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(ProtocolVersion::TLSv1_3)
    );
    edge.stop().await;
}

#[tokio::test]
async fn pq_policies_negotiate_x25519mlkem768_and_others_do_not() {
    let ca = TestCa::new();
    let edge = Edge::start().await;
    let a = ca.leaf("a.test");
    let group = |policy: SecurityPolicy| {
        edge.sites.set("a.test", site(&a, policy, policy.name()));
        // The default client prefers X25519MLKEM768 (and sends an X25519 share besides).
        let config = client(ca.roots(), rustls::DEFAULT_VERSIONS);
        assert_eq!(
            config.crypto_provider().kx_groups[0].name(),
            NamedGroup::X25519MLKEM768
        );
        let address = edge.address;
        async move {
            let stream = connect(address, Some("a.test"), config).await.unwrap();
            let group = stream.get_ref().1.negotiated_key_exchange_group().unwrap();
            group.name()
        }
    };
    for (policy, _) in super::policy::NAMES {
        let expected = if policy.post_quantum() {
            NamedGroup::X25519MLKEM768
        } else if policy.fips() {
            NamedGroup::secp256r1
        } else {
            NamedGroup::X25519
        };
        assert_eq!(group(policy).await, expected, "{policy}");
    }
    edge.stop().await;
}

#[tokio::test]
async fn a_new_version_is_served_at_the_next_handshake_and_open_connections_keep_theirs() {
    let ca = TestCa::new();
    let edge = Edge::start().await;
    let (old, new) = (ca.leaf("a.test"), ca.leaf("a.test"));
    edge.sites
        .set("a.test", site(&old, SecurityPolicy::Tls1_2, "serial-1"));
    let config = || client(ca.roots(), rustls::DEFAULT_VERSIONS);
    let first = connect(edge.address, Some("a.test"), config())
        .await
        .unwrap();
    assert_eq!(leaf_der(&first), old.der);
    // A keep-alive connection made before the change.
    let io = TokioIo::new(first);
    let (mut open, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);

    edge.sites
        .set("a.test", site(&new, SecurityPolicy::Tls1_2, "serial-2"));
    let second = connect(edge.address, Some("a.test"), config())
        .await
        .unwrap();
    assert_eq!(leaf_der(&second), new.der);
    assert_eq!(get(second, "a.test").await, "a.test h2=false TLSv1.3");

    let request = hyper::Request::get("/")
        .header("host", "a.test")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = open.send_request(request).await.unwrap();
    assert_eq!(response.status(), 200);
    // The same version again is served from the cache, still the new certificate.
    let third = connect(edge.address, Some("a.test"), config())
        .await
        .unwrap();
    assert_eq!(leaf_der(&third), new.der);
    edge.stop().await;
}

#[tokio::test]
async fn h2_and_http11_by_alpn_reach_the_router() {
    let ca = TestCa::new();
    let edge = Edge::start().await;
    edge.sites.set(
        "a.test",
        site(&ca.leaf("a.test"), SecurityPolicy::Tls1_2, "1"),
    );
    for (alpn, expected) in [
        (
            vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            "a.test h2=true TLSv1.3",
        ),
        (vec![b"http/1.1".to_vec()], "a.test h2=false TLSv1.3"),
        (vec![], "a.test h2=false TLSv1.3"),
    ] {
        let mut config = client(ca.roots(), rustls::DEFAULT_VERSIONS);
        config.alpn_protocols = alpn.clone();
        let stream = connect(edge.address, Some("a.test"), config).await.unwrap();
        let chosen = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        assert_eq!(chosen, alpn.first().cloned());
        assert_eq!(get(stream, "a.test").await, expected);
    }
    // HTTP/2 over TLS 1.2 too.
    let mut config = client(ca.roots(), &[&rustls::version::TLS12]);
    config.alpn_protocols = vec![b"h2".to_vec()];
    let stream = connect(edge.address, Some("a.test"), config).await.unwrap();
    assert_eq!(get(stream, "a.test").await, "a.test h2=true TLSv1.2");
    edge.stop().await;
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_closed_after_the_handshake_timeout() {
    let edge = Edge::start().await;
    let mut silent = TcpStream::connect(edge.address).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(4), silent.read(&mut buf))
        .await
        .expect("closed before the header timeout");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(350) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    edge.stop().await;
}
