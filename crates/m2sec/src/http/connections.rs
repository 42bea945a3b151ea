//! Accepting and keeping connections: the part of HTTP that a hostile or unlucky client sees first.
//!
//! - **Timeouts.** A connection must send a complete request head within `header_timeout` of being
//!   opened or of its previous answer; the same rule closes a keep-alive connection that stays idle
//!   that long, and one whose client does not read its answer. One sweeper task checks every
//!   connection a few times per timeout (a connection is closed between `header_timeout` and a tick
//!   later), so a request costs two atomic stores rather than a timer of its own: timers share one
//!   lock in tokio's driver, and a timer per request measurably slowed every call. Bodies have their
//!   own deadline (see `body.rs`).
//! - **A cap on connections**, derived from the file-descriptor limit (raised to the hard limit at
//!   start). At the cap, the oldest connection that has no request in progress is closed to make room
//!   (idle keep-alive connections and clients still trickling their head are the cheapest to lose);
//!   when every connection is busy, the new one is closed at once. Either is logged, at most every few
//!   seconds.
//! - **Accept errors** (out of descriptors, out of memory) back off instead of spinning.
//! - **Bounded drain.** On shutdown the listener closes, idle connections close at once, requests in
//!   progress get `drain` to finish, and whatever is left is then dropped, so a slow client can never
//!   hold a restart hostage.
//!
//! - **A handshake before HTTP** (TLS at the HTTPS edge, see `crate::edge`) counts as waiting for a
//!   request: the same timeout, eviction and drain apply to it.
//!
//! Only HTTP/1.1 is spoken on the API listener ([`Plain`]): every AWS SDK uses it against an `http://`
//! endpoint. A [`Handshake`] may ask for HTTP/2 as well; its connections then carry several requests at
//! once, and count as busy while any of them is in progress.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A request head must arrive within this; an idle keep-alive connection is closed after it.
    pub header_timeout: Duration,
    /// Connections open at once at most.
    pub max_connections: usize,
    /// Time requests in progress get to finish at shutdown.
    pub drain: Duration,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
}

/// Raises this process's soft limit on open files to its hard limit and returns the soft limit now
/// in force (the common default of 1,024 is far below what a server with keep-alive clients needs).
pub fn raise_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .map(|(soft, _)| soft)
                .unwrap_or(1024)
        }
    }
}

/// State of the server as its connections see it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Serving,
    /// Finish what is in progress, take no new request.
    Draining,
    /// Drop everything now.
    Closing,
}

/// [`Entry::state`] at or above this: `state - BUSY` requests are being handled (HTTP/1.1 handles one
/// at a time, HTTP/2 several). Exactly `BUSY`: the connection was closed for waiting too long.
const BUSY: u64 = 1 << 63;

struct Entry {
    /// Busy (see [`BUSY`]), or since when (ms after the tracker's epoch) the connection has waited for
    /// a request.
    state: Arc<AtomicU64>,
    evict: Arc<Notify>,
}

/// A request starts on a connection: it is busy.
fn request_started(state: &AtomicU64) {
    let _ = state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
        Some(if s >= BUSY { s + 1 } else { BUSY + 1 })
    });
}

/// A request's answer is ready: when it was the last in progress, the wait for the next request (or
/// for the client to read this answer) starts at `now`.
fn request_ended(state: &AtomicU64, now: u64) {
    let _ = state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
        Some(if s > BUSY + 1 { s - 1 } else { now })
    });
}

/// The open connections, oldest first.
#[derive(Default)]
struct Registry {
    next_id: u64,
    open: BTreeMap<u64, Entry>,
}

struct Tracker {
    epoch: Instant,
    registry: Mutex<Registry>,
    /// Woken whenever a connection ends (the drain waits on it).
    ended: Notify,
    last_warning: Mutex<Option<Instant>>,
}

impl Tracker {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn len(&self) -> usize {
        self.registry
            .lock()
            .expect("connection registry")
            .open
            .len()
    }

    /// Closes the oldest connection with no request in progress; false when every one is busy.
    fn evict_oldest_idle(&self) -> bool {
        let mut registry = self.registry.lock().expect("connection registry");
        let idle = registry
            .open
            .iter()
            .find(|(_, e)| e.state.load(Ordering::Acquire) < BUSY)
            .map(|(id, _)| *id);
        match idle.and_then(|id| registry.open.remove(&id)) {
            Some(entry) => {
                entry.evict.notify_one();
                true
            }
            None => false,
        }
    }

    /// Closes every connection that has waited for a request longer than `timeout`; returns how many.
    fn close_timed_out(&self, timeout: Duration) -> usize {
        let now = self.now_ms();
        let limit = timeout.as_millis() as u64;
        let mut registry = self.registry.lock().expect("connection registry");
        let before = registry.open.len();
        registry.open.retain(|_, e| {
            let since = e.state.load(Ordering::Acquire);
            // A request that began since the load keeps its connection.
            let expired = since < BUSY
                && now.saturating_sub(since) >= limit
                && e.state
                    .compare_exchange(since, BUSY, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok();
            if expired {
                e.evict.notify_one();
            }
            !expired
        });
        before - registry.open.len()
    }

    /// Waits until no connection is open, or until `deadline`; true when none is.
    async fn wait_until_empty(&self, deadline: tokio::time::Instant) -> bool {
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            // Registered before the check, so an end between the check and the wait is not missed.
            ended.as_mut().enable();
            if self.len() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                return self.len() == 0;
            }
        }
    }

    fn warn_every_few_seconds(&self, f: impl FnOnce()) {
        let mut last = self.last_warning.lock().expect("warning clock");
        if !matches!(*last, Some(t) if t.elapsed() < Duration::from_secs(5)) {
            *last = Some(Instant::now());
            f();
        }
    }
}

/// What a connection goes through between TCP and HTTP.
pub trait Handshake: Send + Sync + 'static {
    /// The stream HTTP is spoken over.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// What the handshake learnt, given to every request of the connection.
    type Info: Annotate + Send + Sync + 'static;
    /// HTTP/1.1 and HTTP/2 (told apart by the connection preface) rather than HTTP/1.1 alone.
    const HTTP2: bool;

    /// The stream, or `None` when the connection is to be closed (the handshake bounds its own time;
    /// the tracker closes it anyway after the header timeout).
    fn handshake(
        &self,
        stream: TcpStream,
        remote: SocketAddr,
    ) -> impl std::future::Future<Output = Option<(Self::Io, Self::Info)>> + Send;
}

/// What a handshake learnt, as a [`Router`] finds it in a request's extensions.
pub trait Annotate {
    /// Adds what a request should know of its connection to its extensions.
    fn annotate(&self, extensions: &mut http::Extensions);
}

impl Annotate for () {
    fn annotate(&self, _: &mut http::Extensions) {}
}

/// What answers the requests of a connection, given the client's address and what the handshake
/// learnt. An axum [`Router`] is one (it finds them in the request's extensions: a
/// `ConnectInfo<SocketAddr>` and what [`Annotate`] adds); a service that needs no routing can
/// answer directly and skip the router's per-request work.
pub trait App<Info>: Clone + Send + Sync + 'static {
    fn call(
        &self,
        request: hyper::Request<Incoming>,
        remote: SocketAddr,
        info: &Arc<Info>,
    ) -> impl std::future::Future<Output = axum::response::Response> + Send + 'static + use<Self, Info>;
}

impl<Info: Annotate + Send + Sync + 'static> App<Info> for Router {
    fn call(
        &self,
        mut request: hyper::Request<Incoming>,
        remote: SocketAddr,
        info: &Arc<Info>,
    ) -> impl std::future::Future<Output = axum::response::Response> + Send + 'static + use<Info>
    {
        request.extensions_mut().insert(ConnectInfo(remote));
        info.annotate(request.extensions_mut());
        let router = self.clone();
        async move {
            match router.oneshot(request.map(Body::new)).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    }
}

/// The API listener: HTTP/1.1 straight over TCP.
pub struct Plain;

impl Handshake for Plain {
    type Io = TcpStream;
    type Info = ();
    const HTTP2: bool = false;

    async fn handshake(&self, stream: TcpStream, _: SocketAddr) -> Option<(TcpStream, ())> {
        Some((stream, ()))
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains (see the module doc).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    serve_with(listener, Arc::new(Plain), router, limits, None, shutdown).await
}

/// Threads that each run connections on a single-threaded runtime of their own, handed out in turn.
///
/// A connection served by one of them stays on one thread: its socket's readiness, TLS, HTTP and
/// the handler all run there, with no task handed between threads. For light handlers (the edge's
/// proxying) that is what lets a connection do a request with one read and one write, as an nginx
/// worker does; the shared work-stealing runtime pays a cross-thread wake-up for many of them. A
/// connection cannot move once placed, so a handler that computes for long holds up its neighbours:
/// the API listener, whose handlers do the cryptography, keeps the shared runtime.
pub struct ConnectionWorkers {
    handles: Vec<tokio::runtime::Handle>,
    next: std::sync::atomic::AtomicUsize,
}

impl ConnectionWorkers {
    /// `count` threads named `{name}-{i}`; they live as long as the process.
    pub fn start(count: usize, name: &str) -> std::io::Result<Arc<Self>> {
        let mut handles = Vec::with_capacity(count);
        for i in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            handles.push(runtime.handle().clone());
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
        }
        Ok(Arc::new(ConnectionWorkers {
            handles,
            next: Default::default(),
        }))
    }

    fn next(&self) -> &tokio::runtime::Handle {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        &self.handles[i % self.handles.len()]
    }
}

/// [`serve`], with `handshake` between accepting a connection and speaking HTTP on it, and `app`
/// answering.
pub async fn serve_with<H: Handshake, A: App<H::Info>>(
    listener: TcpListener,
    handshake: Arc<H>,
    app: A,
    limits: ConnectionLimits,
    workers: Option<Arc<ConnectionWorkers>>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let tracker = Arc::new(Tracker {
        epoch: Instant::now(),
        registry: Mutex::default(),
        ended: Notify::new(),
        last_warning: Mutex::new(None),
    });
    let sweeper = tokio::spawn(sweep(tracker.clone(), limits.header_timeout));
    let (phase_tx, phase_rx) = watch::channel(Phase::Serving);
    tokio::pin!(shutdown);
    let mut backoff = Duration::from_millis(5);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(a) => {
                backoff = Duration::from_millis(5);
                a
            }
            Err(e) => {
                // Out of descriptors: closing an idle connection frees one for the next accept.
                let evicted = tracker.evict_oldest_idle();
                tracker.warn_every_few_seconds(|| {
                    tracing::warn!(error = %e, open = tracker.len(), evicted_idle = evicted, "accepting a connection failed; backing off")
                });
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        if tracker.len() >= limits.max_connections && !tracker.evict_oldest_idle() {
            tracker.warn_every_few_seconds(|| {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection limit reached and every connection has a request in progress; refusing new connections"
                )
            });
            drop(stream);
            continue;
        } else if tracker.len() + 1 >= limits.max_connections {
            tracker.warn_every_few_seconds(|| {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection limit reached; closing the oldest idle connections to make room"
                )
            });
        }
        let entry = Entry {
            state: Arc::new(AtomicU64::new(tracker.now_ms())),
            evict: Arc::new(Notify::new()),
        };
        let (state, evict) = (entry.state.clone(), entry.evict.clone());
        let id = {
            let mut registry = tracker.registry.lock().expect("connection registry");
            registry.next_id += 1;
            let id = registry.next_id;
            registry.open.insert(id, entry);
            id
        };
        let guard = ConnectionGuard {
            tracker: tracker.clone(),
            id,
        };
        let (handshake, app, limits, phase) = (
            handshake.clone(),
            app.clone(),
            limits.clone(),
            phase_rx.clone(),
        );
        match &workers {
            None => {
                tokio::spawn(connection(
                    stream, remote, handshake, app, limits, state, evict, phase, guard,
                ));
            }
            Some(workers) => {
                // The socket moves to the worker's own reactor.
                let Ok(stream) = stream.into_std() else {
                    continue;
                };
                workers.next().spawn(async move {
                    if let Ok(stream) = TcpStream::from_std(stream) {
                        connection(
                            stream, remote, handshake, app, limits, state, evict, phase, guard,
                        )
                        .await
                    }
                });
            }
        }
    }
    drop(listener);
    sweeper.abort();
    let open = tracker.len();
    tracing::info!(
        open_connections = open,
        drain_secs = limits.drain.as_secs_f64(),
        "no longer accepting connections; draining"
    );
    let _ = phase_tx.send(Phase::Draining);
    let deadline = tokio::time::Instant::now() + limits.drain;
    if !tracker.wait_until_empty(deadline).await {
        tracing::warn!(
            connections = tracker.len(),
            "drain time is over; closing the connections still open"
        );
        let _ = phase_tx.send(Phase::Closing);
        // Each task drops its connection at once; give them a moment to do it.
        tracker
            .wait_until_empty(tokio::time::Instant::now() + Duration::from_secs(1))
            .await;
    }
}

/// Closes connections that wait too long for a request (see the module doc), a few times per timeout.
async fn sweep(tracker: Arc<Tracker>, timeout: Duration) {
    let tick = (timeout / 8).clamp(Duration::from_millis(100), Duration::from_secs(1));
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let closed = tracker.close_timed_out(timeout);
        if closed > 0 {
            tracing::debug!(
                closed,
                timeout_secs = timeout.as_secs_f64(),
                "closed connections that sent no complete request in time"
            );
        }
    }
}

/// Takes a connection out of the registry when its task ends, however it ends.
struct ConnectionGuard {
    tracker: Arc<Tracker>,
    id: u64,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.tracker
            .registry
            .lock()
            .expect("connection registry")
            .open
            .remove(&self.id);
        self.tracker.ended.notify_waiters();
    }
}

/// Marks the connection busy while a request is handled; when the last answer is ready, the wait for
/// the next request (or for the client to read this answer) starts.
struct ActiveRequest {
    state: Arc<AtomicU64>,
    tracker: Arc<Tracker>,
}

impl ActiveRequest {
    fn start(state: &Arc<AtomicU64>, tracker: &Arc<Tracker>) -> Self {
        request_started(state);
        ActiveRequest {
            state: state.clone(),
            tracker: tracker.clone(),
        }
    }
}

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        request_ended(&self.state, self.tracker.now_ms());
    }
}

/// Resolves when the server stops serving (or is gone).
async fn stopped(phase: &mut watch::Receiver<Phase>) {
    let _ = phase.wait_for(|p| *p != Phase::Serving).await;
}

async fn connection<H: Handshake, A: App<H::Info>>(
    stream: TcpStream,
    remote: SocketAddr,
    handshake: Arc<H>,
    app: A,
    limits: ConnectionLimits,
    state: Arc<AtomicU64>,
    evict: Arc<Notify>,
    mut phase: watch::Receiver<Phase>,
    guard: ConnectionGuard,
) {
    let _ = stream.set_nodelay(true);
    // A connection still in its handshake has no request in progress: evicted, timed out and closed at
    // shutdown like an idle one.
    let handshaken = tokio::select! {
        handshaken = handshake.handshake(stream, remote) => handshaken,
        _ = evict.notified() => return,
        _ = stopped(&mut phase) => return,
    };
    let Some((io, info)) = handshaken else {
        return;
    };
    let info = Arc::new(info);
    let tracker = guard.tracker.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let in_progress = ActiveRequest::start(&state, &tracker);
        let answer = app.call(request, remote, &info);
        async move {
            let response = answer.await;
            drop(in_progress);
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let io = TokioIo::new(io);
    if H::HTTP2 {
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            // The sweeper times connections out (see the module doc); hyper keeps no timer of its own.
            .header_read_timeout(None)
            .max_buf_size(limits.max_header_bytes.max(8192))
            .keep_alive(true);
        builder
            .http2()
            .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
            .max_concurrent_streams(MAX_STREAMS);
        let conn = builder.serve_connection(io, service);
        tokio::pin!(conn);
        drive(conn, |c| c.graceful_shutdown(), remote, evict, phase).await;
    } else {
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            // The sweeper times connections out (see the module doc); hyper keeps no timer of its own.
            .header_read_timeout(None)
            .max_buf_size(limits.max_header_bytes.max(8192))
            .keep_alive(true);
        let conn = builder.serve_connection(io, service);
        tokio::pin!(conn);
        drive(conn, |c| c.graceful_shutdown(), remote, evict, phase).await;
    }
}

/// Requests one HTTP/2 connection may have in progress at once.
const MAX_STREAMS: u32 = 128;

/// Runs an HTTP connection until it ends, is evicted, or the server stops: at the drain it finishes
/// the requests in progress and takes no new one; at the close it is dropped.
async fn drive<C, E>(
    mut conn: std::pin::Pin<&mut C>,
    graceful_shutdown: impl Fn(std::pin::Pin<&mut C>),
    remote: SocketAddr,
    evict: Arc<Notify>,
    mut phase: watch::Receiver<Phase>,
) where
    C: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut draining = false;
    loop {
        if !draining && *phase.borrow() != Phase::Serving {
            draining = true;
            graceful_shutdown(conn.as_mut());
        }
        if *phase.borrow() == Phase::Closing {
            return;
        }
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, remote = %remote, "connection ended with an error");
                }
                return;
            }
            _ = evict.notified() => {
                tracing::debug!(remote = %remote, "idle connection closed to make room for a new one");
                return;
            }
            changed = phase.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_waits_from_the_end_of_its_last_request() {
        let state = AtomicU64::new(5);
        request_started(&state);
        request_started(&state);
        assert_eq!(state.load(Ordering::Acquire), BUSY + 2);
        // One of two HTTP/2 requests answered: still busy.
        request_ended(&state, 7);
        assert_eq!(state.load(Ordering::Acquire), BUSY + 1);
        request_ended(&state, 9);
        assert_eq!(state.load(Ordering::Acquire), 9);
        // A connection closed for waiting too long (exactly BUSY) still counts its requests.
        state.store(BUSY, Ordering::Release);
        request_started(&state);
        request_ended(&state, 11);
        assert_eq!(state.load(Ordering::Acquire), 11);
    }
}
