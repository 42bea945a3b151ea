//! The sockets: one UDP socket and one TCP listener on the same address, each message answered by
//! [`crate::answer`] against the zones of the moment. TCP clients are held to [`Limits`] (how long a
//! connection may idle, how many may be open), and failing sockets pause rather than spin.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use m2sec_route53::store::Generation;
use m2sec_route53::zone::Zone;
use m2sec_store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;

/// Where the server reads zones from.
pub trait ZoneSource: Send + Sync + 'static {
    /// The zones as they are now (a cached copy is fine).
    fn zones(&self) -> impl std::future::Future<Output = Arc<Vec<Zone>>> + Send;
}

/// The account's Route53 zones from the store, re-read at most every `ttl`.
pub struct StoreZones {
    store: Arc<dyn Store>,
    account: String,
    ttl: Duration,
    generation: Arc<Generation>,
    cached: Mutex<Option<Snapshot>>,
    /// Zones m2sec answers for itself beside the account's (its services' endpoint names).
    extra: Vec<Zone>,
}

/// Zones as read at a moment, at a generation.
type Snapshot = (Instant, u64, Arc<Vec<Zone>>);

impl StoreZones {
    /// `generation`: bumped by this node's Route53 API on every change, which refreshes the copy at once.
    pub fn new(
        store: Arc<dyn Store>,
        account: &str,
        ttl: Duration,
        generation: Arc<Generation>,
    ) -> Self {
        StoreZones {
            store,
            account: account.to_string(),
            ttl,
            generation,
            cached: Mutex::new(None),
            extra: Vec::new(),
        }
    }

    /// Also answers for `zones` (names of m2sec's own endpoints, such as API Gateway's
    /// `*.execute-api.<region>.amazonaws.com`), after the account's: a Route53 zone of the same
    /// name wins.
    pub fn with_extra_zones(mut self, zones: Vec<Zone>) -> Self {
        self.extra = zones;
        self
    }
}

impl ZoneSource for StoreZones {
    async fn zones(&self) -> Arc<Vec<Zone>> {
        let generation = self.generation.current();
        if let Some((at, seen, zones)) = &*self.cached.lock().expect("zone cache lock") {
            if at.elapsed() < self.ttl && *seen == generation {
                return zones.clone();
            }
        }
        let zones = match m2sec_route53::store::list(self.store.as_ref(), &self.account).await {
            Ok(mut z) => {
                let own: Vec<String> = z.iter().map(|zone| zone.name.clone()).collect();
                z.extend(
                    self.extra
                        .iter()
                        .filter(|e| !own.contains(&e.name))
                        .cloned(),
                );
                Arc::new(z)
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading zones for DNS failed; answering from the last copy");
                return self
                    .cached
                    .lock()
                    .expect("zone cache lock")
                    .as_ref()
                    .map(|(_, _, z)| z.clone())
                    .unwrap_or_default();
            }
        };
        *self.cached.lock().expect("zone cache lock") =
            Some((Instant::now(), generation, zones.clone()));
        zones
    }
}

/// What clients may hold of the server. BIND's equivalents: `tcp-idle-timeout` (30 s) and
/// `tcp-clients`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a TCP connection may wait for the client's next message, and how long the client may
    /// take to send a whole message (its length prefix and the rest) or to take a reply, before the
    /// server closes it (RFC 7766 §6.2.3: idle connections are closed by the server).
    pub tcp_idle_timeout: Duration,
    /// Open TCP connections at most; a connection beyond them is closed as soon as it is accepted.
    /// Lowered to an eighth of the process's open-file limit when that is smaller, so that DNS clients
    /// cannot take the file descriptors of the HTTP API and the store (the HTTP connection cap leaves
    /// a quarter of the limit to the rest of the process).
    pub tcp_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            tcp_idle_timeout: Duration::from_secs(30),
            tcp_connections: 512,
        }
    }
}

/// A repeated warning (an accept or receive that keeps failing, connections beyond the cap) is logged
/// at most this often.
const WARN_EVERY: Duration = Duration::from_secs(5);

/// Binds UDP and TCP on `addr` (port 0: a free port, the same for both when possible) and answers until
/// the returned tasks are dropped or aborted. Returns the bound address.
pub async fn serve<S: ZoneSource>(
    addr: SocketAddr,
    source: Arc<S>,
    limits: Limits,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let udp = UdpSocket::bind(addr).await?;
    let bound = udp.local_addr()?;
    let tcp = TcpListener::bind(bound).await?;
    let cap = connection_cap(limits.tcp_connections);
    let task = tokio::spawn(async move {
        tokio::join!(
            udp_loop(udp, source.clone()),
            tcp_loop(tcp, source, limits.tcp_idle_timeout, cap)
        );
    });
    Ok((bound, task))
}

/// `wanted`, or an eighth of the soft limit on open files if that is lower (Linux; elsewhere `wanted`).
fn connection_cap(wanted: usize) -> usize {
    let Some(files) = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| soft_open_files(&text))
    else {
        return wanted;
    };
    let cap = wanted.min(files / 8).max(1);
    if cap < wanted {
        tracing::info!(
            connections = cap,
            open_files = files,
            "DNS over TCP: connections capped at an eighth of the open-file limit"
        );
    }
    cap
}

/// The soft limit on open files in the text of `/proc/self/limits`; `None` when unlimited or unreadable.
fn soft_open_files(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

async fn udp_loop<S: ZoneSource>(udp: UdpSocket, source: Arc<S>) {
    let mut buf = vec![0u8; 4096];
    let mut backoff = Backoff::default();
    let mut warnings = Throttle::new(WARN_EVERY);
    loop {
        let (len, peer) = match udp.recv_from(&mut buf).await {
            Ok(received) => {
                backoff.reset();
                received
            }
            Err(e) => {
                let pause = backoff.failed();
                if let Some(suppressed) = warnings.admit(Instant::now()) {
                    tracing::warn!(error = %e, pause_ms = pause.as_millis() as u64, suppressed, "DNS over UDP: receiving failed; pausing");
                }
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let zones = source.zones().await;
        if let Some(reply) = crate::answer::answer_udp(&zones, &buf[..len]) {
            let _ = udp.send_to(&reply, peer).await;
        }
    }
}

/// Accepts connections, each answered by its own task while it holds one of `cap` slots.
async fn tcp_loop<S: ZoneSource>(
    tcp: TcpListener,
    source: Arc<S>,
    idle_timeout: Duration,
    cap: usize,
) {
    let slots = Arc::new(Semaphore::new(cap));
    let mut backoff = Backoff::default();
    let mut accept_warnings = Throttle::new(WARN_EVERY);
    let mut cap_warnings = Throttle::new(WARN_EVERY);
    loop {
        let stream = match tcp.accept().await {
            Ok((stream, _)) => {
                backoff.reset();
                stream
            }
            // Out of file descriptors (or memory), the listener stays readable and accept fails at
            // once: without a pause this loop would spin and starve the rest of the process.
            Err(e) => {
                let pause = backoff.failed();
                if let Some(suppressed) = accept_warnings.admit(Instant::now()) {
                    tracing::warn!(error = %e, pause_ms = pause.as_millis() as u64, suppressed, "DNS over TCP: accepting a connection failed; pausing");
                }
                tokio::time::sleep(pause).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            if let Some(suppressed) = cap_warnings.admit(Instant::now()) {
                tracing::warn!(
                    connections = cap,
                    suppressed,
                    "DNS over TCP: connection cap reached; closing new connections at once"
                );
            }
            drop(stream);
            continue;
        };
        let source = source.clone();
        tokio::spawn(async move {
            converse(stream, source.as_ref(), idle_timeout).await;
            drop(slot);
        });
    }
}

/// Answers the messages of one connection in turn, each framed by its two-byte length (RFC 1035
/// §4.2.2), until the client closes it, sends what is not a query, or takes longer than `timeout` to
/// send a whole message or to take a reply.
async fn converse<S: ZoneSource>(mut stream: TcpStream, source: &S, timeout: Duration) {
    loop {
        let Ok(Ok(message)) = tokio::time::timeout(timeout, read_message(&mut stream)).await else {
            return;
        };
        let zones = source.zones().await;
        let Some(reply) = crate::answer(&zones, &message) else {
            return;
        };
        let Ok(reply_len) = u16::try_from(reply.len()) else {
            return;
        };
        let mut framed = Vec::with_capacity(2 + reply.len());
        framed.extend_from_slice(&reply_len.to_be_bytes());
        framed.extend_from_slice(&reply);
        let Ok(Ok(())) = tokio::time::timeout(timeout, stream.write_all(&framed)).await else {
            return;
        };
    }
}

async fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let mut message = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut message).await?;
    Ok(message)
}

/// The pause after a failure: 10 ms, doubled after each failure in a row up to 1 s, and 10 ms again
/// after a success.
#[derive(Debug)]
struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    fn failed(&mut self) -> Duration {
        let pause = self.next;
        self.next = (pause * 2).min(Self::MAX);
        pause
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: Self::FIRST }
    }
}

/// Lets a repeated log line through at most once per `period`, counting those held back meanwhile.
#[derive(Debug)]
struct Throttle {
    period: Duration,
    last: Option<Instant>,
    held: u64,
}

impl Throttle {
    fn new(period: Duration) -> Self {
        Throttle {
            period,
            last: None,
            held: 0,
        }
    }

    /// `Some(lines held back since the last one let through)` if a line may be logged at `now`.
    fn admit(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(at) if now.saturating_duration_since(at) < self.period => {
                self.held += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.held))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::{Name, RecordType};
    use m2sec_route53::zone::{Action, Change, RecordSet};

    struct Fixed(Arc<Vec<Zone>>);

    impl ZoneSource for Fixed {
        async fn zones(&self) -> Arc<Vec<Zone>> {
            self.0.clone()
        }
    }

    fn query(name: &str) -> Vec<u8> {
        let mut m = Message::new();
        m.set_id(7);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
        m.to_vec().unwrap()
    }

    fn zone() -> Zone {
        let mut zone = Zone::new(
            "Z1",
            "fanops.com.",
            "r",
            None,
            false,
            0,
            &["ns1.m2sec.internal.".into()],
        );
        zone.apply(&[Change {
            action: Action::Create,
            set: RecordSet {
                name: "api.fanops.com.".into(),
                kind: "A".into(),
                ttl: Some(60),
                records: vec!["192.0.2.10".into()],
                alias: None,
                set_identifier: None,
                weight: None,
            },
        }])
        .unwrap();
        zone
    }

    async fn start(limits: Limits) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        serve(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(Fixed(Arc::new(vec![zone()]))),
            limits,
        )
        .await
        .unwrap()
    }

    /// Sends `query` on `stream` and returns the number of answers of the reply.
    async fn ask_tcp(stream: &mut tokio::net::TcpStream, query: &[u8]) -> usize {
        stream
            .write_all(&(query.len() as u16).to_be_bytes())
            .await
            .unwrap();
        stream.write_all(query).await.unwrap();
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await.unwrap();
        let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
        stream.read_exact(&mut body).await.unwrap();
        Message::from_vec(&body).unwrap().answers().len()
    }

    /// How long until the server closes `stream` (reading nothing more).
    async fn closed_after(stream: &mut tokio::net::TcpStream) -> Duration {
        let started = Instant::now();
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
            .await
            .expect("the server closes the connection");
        assert!(read.is_ok_and(|n| n == 0), "{rest:?}");
        started.elapsed()
    }

    #[tokio::test]
    async fn answers_over_udp_and_tcp() {
        let (addr, task) = start(Limits::default()).await;

        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client
            .send_to(&query("api.fanops.com."), addr)
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let (len, _) = tokio::time::timeout(Duration::from_secs(5), client.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        let reply = Message::from_vec(&buf[..len]).unwrap();
        assert_eq!(reply.id(), 7);
        assert_eq!(reply.answers().len(), 1);

        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert_eq!(ask_tcp(&mut stream, &query("api.fanops.com.")).await, 1);
        task.abort();
    }

    #[tokio::test]
    async fn idle_and_slow_tcp_clients_are_closed() {
        let timeout = Duration::from_millis(300);
        let (addr, task) = start(Limits {
            tcp_idle_timeout: timeout,
            ..Limits::default()
        })
        .await;
        let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
        let waited = closed_after(&mut idle).await;
        assert!(waited >= timeout / 2 && waited < timeout * 5, "{waited:?}");

        // A length prefix, then one byte of the message and nothing more.
        let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
        slow.write_all(&[0, 40, 0]).await.unwrap();
        let waited = closed_after(&mut slow).await;
        assert!(waited >= timeout / 2 && waited < timeout * 5, "{waited:?}");

        // The time allowed is per message: a client asking now and then keeps its connection.
        let mut steady = tokio::net::TcpStream::connect(addr).await.unwrap();
        for _ in 0..4 {
            tokio::time::sleep(timeout / 2).await;
            assert_eq!(ask_tcp(&mut steady, &query("api.fanops.com.")).await, 1);
        }
        task.abort();
    }

    #[tokio::test]
    async fn connections_beyond_the_cap_are_closed_at_once() {
        let (addr, task) = start(Limits {
            tcp_connections: 2,
            ..Limits::default()
        })
        .await;
        let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert_eq!(ask_tcp(&mut first, &query("api.fanops.com.")).await, 1);
        assert_eq!(ask_tcp(&mut second, &query("api.fanops.com.")).await, 1);
        let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(closed_after(&mut third).await < Duration::from_secs(1));
        // A closed connection gives its slot back.
        drop(first);
        let mut again = None;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let q = query("api.fanops.com.");
            let mut framed = (q.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&q);
            if stream.write_all(&framed).await.is_err() {
                continue;
            }
            let mut len = [0u8; 2];
            if stream.read_exact(&mut len).await.is_ok() {
                again = Some(stream);
                break;
            }
        }
        assert!(again.is_some());
        task.abort();
    }

    #[test]
    fn backoff_doubles_up_to_a_second_and_starts_again_after_a_success() {
        let mut backoff = Backoff::default();
        let pauses: Vec<u64> = (0..9)
            .map(|_| backoff.failed().as_millis() as u64)
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.failed(), Duration::from_millis(10));
    }

    #[test]
    fn throttle_lets_one_line_through_per_period() {
        let mut throttle = Throttle::new(Duration::from_secs(5));
        let t0 = Instant::now();
        assert_eq!(throttle.admit(t0), Some(0));
        assert_eq!(throttle.admit(t0 + Duration::from_secs(1)), None);
        assert_eq!(throttle.admit(t0 + Duration::from_secs(4)), None);
        assert_eq!(throttle.admit(t0 + Duration::from_secs(5)), Some(2));
        assert_eq!(throttle.admit(t0 + Duration::from_secs(6)), None);
        assert_eq!(throttle.admit(t0 + Duration::from_secs(11)), Some(1));
    }

    #[test]
    fn open_file_limit_from_proc_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max cpu time              unlimited            unlimited            seconds   \n\
                    Max open files            64                   4096                 files     \n";
        assert_eq!(soft_open_files(text), Some(64));
        let unlimited = text.replace("64  ", "unlimited");
        assert_eq!(soft_open_files(&unlimited), None);
        assert_eq!(soft_open_files(""), None);
    }
}
