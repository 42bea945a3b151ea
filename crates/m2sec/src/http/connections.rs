//! Accepting and keeping connections: the part of HTTP that a hostile or unlucky client sees first.
//!
//! - **Timeouts.** A connection must send a complete request head within `header_timeout`; the same
//!   timer closes a keep-alive connection that stays idle that long (hyper starts it whenever it waits
//!   for a head). Bodies have their own deadline (see `body.rs`).
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
//! Only HTTP/1.1 is spoken here: every AWS SDK uses it against an `http://` endpoint.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
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

struct Entry {
    /// Requests of this connection being handled now.
    active: Arc<AtomicUsize>,
    evict: Arc<Notify>,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Registry {
    next_id: u64,
    open: BTreeMap<u64, Entry>,
}

struct Tracker {
    registry: Mutex<Registry>,
    /// Woken whenever a connection ends (the drain waits on it).
    ended: Notify,
    last_warning: Mutex<Option<Instant>>,
}

impl Tracker {
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
            .find(|(_, e)| e.active.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id);
        match idle.and_then(|id| registry.open.remove(&id)) {
            Some(entry) => {
                entry.evict.notify_one();
                true
            }
            None => false,
        }
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
        if last.map_or(true, |t| t.elapsed() >= Duration::from_secs(5)) {
            *last = Some(Instant::now());
            f();
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains (see the module doc).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let tracker = Arc::new(Tracker {
        registry: Mutex::default(),
        ended: Notify::new(),
        last_warning: Mutex::new(None),
    });
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
            active: Arc::new(AtomicUsize::new(0)),
            evict: Arc::new(Notify::new()),
        };
        let (active, evict) = (entry.active.clone(), entry.evict.clone());
        let id = {
            let mut registry = tracker.registry.lock().expect("connection registry");
            registry.next_id += 1;
            let id = registry.next_id;
            registry.open.insert(id, entry);
            id
        };
        tokio::spawn(connection(
            stream,
            remote,
            router.clone(),
            limits.clone(),
            active,
            evict,
            phase_rx.clone(),
            ConnectionGuard {
                tracker: tracker.clone(),
                id,
            },
        ));
    }
    drop(listener);
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

/// Counts a request as in progress while it is handled.
struct ActiveRequest(Arc<AtomicUsize>);

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    active: Arc<AtomicUsize>,
    evict: Arc<Notify>,
    mut phase: watch::Receiver<Phase>,
    _guard: ConnectionGuard,
) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(remote));
        active.fetch_add(1, Ordering::AcqRel);
        let in_progress = ActiveRequest(active.clone());
        let router = router.clone();
        async move {
            let response = router.oneshot(request.map(Body::new)).await;
            drop(in_progress);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        if !draining && *phase.borrow() != Phase::Serving {
            draining = true;
            conn.as_mut().graceful_shutdown();
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
