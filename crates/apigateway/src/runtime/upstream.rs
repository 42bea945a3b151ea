//! Connections to HTTP and HTTP_PROXY integrations' upstreams: HTTP/1.1 (over TLS for `https://`),
//! kept alive and reused, as nginx's `upstream … keepalive`.
//!
//! Each thread keeps its own idle connections, by scheme and authority. The edge serves a client's
//! connection on one thread, so a proxied request takes an upstream connection whose task runs on
//! that thread too, and never waits on another thread. A connection goes back to its thread's idle
//! list once the upstream's answer has been read to its end; one whose answer is dropped half read,
//! or that the upstream closes, is not reused. Idle connections are dropped after [`IDLE`], and at
//! most [`MAX_IDLE`] are kept per upstream.
//!
//! A request on a kept connection that the upstream closed meanwhile (its idle timeout racing
//! ours) is not lost: hyper hands back a request it did not send, and it is sent again on a new
//! connection.

use std::cell::RefCell;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{header, HeaderValue, Request, Response, Uri};
use http_body::{Body as _, Frame};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// How long an idle connection is kept.
pub(crate) const IDLE: Duration = Duration::from_secs(30);
/// Idle connections kept per upstream and thread.
pub(crate) const MAX_IDLE: usize = 64;
/// Time to open a connection (TCP and TLS).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type Sender = SendRequest<Full<Bytes>>;

/// An upstream: scheme and authority, as the idle lists are keyed.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    https: bool,
    host: String,
    port: u16,
}

thread_local! {
    static IDLE_CONNECTIONS: RefCell<HashMap<Key, Vec<(Sender, Instant)>>> = RefCell::new(HashMap::new());
}

/// Why a request did not get an answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamError {
    #[error("not an http:// or https:// URI with a host")]
    Uri,
    #[error("connecting: {0}")]
    Connect(String),
    #[error("{0}")]
    Http(#[from] hyper::Error),
}

pub(crate) struct Upstreams {
    tls: tokio_rustls::TlsConnector,
}

impl Upstreams {
    pub(crate) fn new(tls: Arc<rustls::ClientConfig>) -> Self {
        Upstreams {
            tls: tokio_rustls::TlsConnector::from(tls),
        }
    }

    /// Sends `request` (whose URI is absolute) and answers the upstream's response; its body
    /// gives the connection back when read to its end.
    pub(crate) async fn send(
        &self,
        mut request: Request<Full<Bytes>>,
    ) -> Result<Response<PooledBody>, UpstreamError> {
        let key = key_of(request.uri()).ok_or(UpstreamError::Uri)?;
        // HTTP/1.1 to an origin: the path and query in the request line, the authority in Host.
        let host = match (key.https, key.port) {
            (false, 80) | (true, 443) => key.host.clone(),
            (_, port) => format!("{}:{port}", key.host),
        };
        if let Ok(v) = HeaderValue::from_str(&host) {
            request.headers_mut().insert(header::HOST, v);
        }
        let origin = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse::<Uri>()
            .map_err(|_| UpstreamError::Uri)?;
        *request.uri_mut() = origin;
        // A kept connection first; if the upstream closed it unsent, a new one.
        if let Some(mut sender) = take_idle(&key) {
            if sender.ready().await.is_ok() {
                match sender.try_send_request(request).await {
                    Ok(response) => return Ok(pooled(response, key, sender)),
                    Err(mut e) => match e.take_message() {
                        Some(unsent) => request = unsent,
                        None => return Err(e.into_error().into()),
                    },
                }
            }
        }
        let mut sender = self.connect(&key).await?;
        let response = sender.send_request(request).await?;
        Ok(pooled(response, key, sender))
    }

    async fn connect(&self, key: &Key) -> Result<Sender, UpstreamError> {
        let connecting = async {
            let tcp = TcpStream::connect((key.host.as_str(), key.port))
                .await
                .map_err(|e| UpstreamError::Connect(e.to_string()))?;
            let _ = tcp.set_nodelay(true);
            if !key.https {
                return handshake(tcp).await;
            }
            let name = rustls::pki_types::ServerName::try_from(key.host.clone())
                .map_err(|e| UpstreamError::Connect(e.to_string()))?;
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| UpstreamError::Connect(e.to_string()))?;
            handshake(tls).await
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connecting)
            .await
            .map_err(|_| UpstreamError::Connect("timed out".into()))?
    }
}

/// HTTP/1.1 on `io`; the connection's task runs on this thread's runtime.
async fn handshake<T>(io: T) -> Result<Sender, UpstreamError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "an upstream connection ended with an error");
        }
    });
    Ok(sender)
}

fn key_of(uri: &Uri) -> Option<Key> {
    let https = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return None,
    };
    let host = uri.host().filter(|h| !h.is_empty())?;
    // `[::1]` in a URI, `::1` to connect.
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some(Key {
        https,
        host: host.to_string(),
        port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
    })
}

/// A kept connection to `key` that is still open and not idle too long.
fn take_idle(key: &Key) -> Option<Sender> {
    IDLE_CONNECTIONS.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.get_mut(key)?;
        let now = Instant::now();
        while let Some((sender, since)) = list.pop() {
            if now.saturating_duration_since(since) < IDLE && !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    })
}

fn give_back(key: Key, sender: Sender) {
    if sender.is_closed() {
        return;
    }
    IDLE_CONNECTIONS.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.entry(key).or_default();
        let now = Instant::now();
        list.retain(|(s, since)| now.saturating_duration_since(*since) < IDLE && !s.is_closed());
        if list.len() < MAX_IDLE {
            list.push((sender, now));
        }
    })
}

fn pooled(response: Response<Incoming>, key: Key, sender: Sender) -> Response<PooledBody> {
    let done = response.body().is_end_stream();
    let mut back = Some((key, sender));
    if done {
        if let Some((key, sender)) = back.take() {
            give_back(key, sender);
        }
    }
    response.map(|inner| PooledBody { inner, back })
}

/// An upstream's response body: once read to its end, its connection is kept for the next request.
pub(crate) struct PooledBody {
    inner: Incoming,
    back: Option<(Key, Sender)>,
}

impl http_body::Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let ended = match &polled {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(_))) => self.inner.is_end_stream(),
            _ => false,
        };
        if ended {
            if let Some((key, sender)) = self.back.take() {
                give_back(key, sender);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstreams_are_keyed_by_scheme_host_and_port() {
        let key = |u: &str| key_of(&u.parse().unwrap());
        let k = key("http://127.0.0.1:3000/a?b=1").unwrap();
        assert!(!k.https && k.host == "127.0.0.1" && k.port == 3000);
        let k = key("https://api.example.com/x").unwrap();
        assert!(k.https && k.host == "api.example.com" && k.port == 443);
        assert_eq!(key("http://[::1]:8080/").unwrap().host, "::1");
        assert_eq!(key("http://h/").unwrap().port, 80);
        assert!(key("ftp://h/").is_none());
        assert!(key("/relative").is_none());
    }
}
