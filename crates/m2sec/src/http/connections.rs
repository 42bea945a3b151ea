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
//! Only HTTP/1.1 is spoken here: every AWS SDK uses it against an `http://` endpoint.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
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

/// [`Entry::state`] while a request is being handled (HTTP/1.1 handles one at a time).
const BUSY: u64 = u64::MAX;

struct Entry {
    /// [`BUSY`], or since when (ms after the tracker's epoch) the connection has waited for a request.
    state: Arc<AtomicU64>,
    evict: Arc<Notify>,
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
            .find(|(_, e)| e.state.load(Ordering::Acquire) != BUSY)
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
            let expired = since != BUSY
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

/// Serves `router` on `listener` until `shutdown` resolves, then drains (see the module doc).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
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
        tokio::spawn(connection(
            stream,
            remote,
            router.clone(),
            limits.clone(),
            state,
            evict,
            phase_rx.clone(),
            ConnectionGuard {
                tracker: tracker.clone(),
                id,
            },
        ));
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

/// Marks the connection busy while a request is handled; when the answer is ready, the wait for the
/// next request (or for the client to read this answer) starts.
struct ActiveRequest {
    state: Arc<AtomicU64>,
    tracker: Arc<Tracker>,
}

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        self.state.store(self.tracker.now_ms(), Ordering::Release);
    }
}

async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    state: Arc<AtomicU64>,
    evict: Arc<Notify>,
    mut phase: watch::Receiver<Phase>,
    guard: ConnectionGuard,
) {
    let _ = stream.set_nodelay(true);
    let tracker = guard.tracker.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(remote));
        state.store(BUSY, Ordering::Release);
        let in_progress = ActiveRequest {
            state: state.clone(),
            tracker: tracker.clone(),
        };
        let router = router.clone();
        async move {
            let response = router.oneshot(request.map(Body::new)).await;
            drop(in_progress);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        // The sweeper times connections out (see the module doc); hyper keeps no timer of its own.
        .header_read_timeout(None)
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
