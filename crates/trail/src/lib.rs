//! The trail: one CloudTrail record per API call (and per action m2sec takes on its own), written
//! through a group-commit writer ([`writer`]), hash-chained with signed digests ([`chain`],
//! [`signer`]), queried with CloudTrail's LookupEvents ([`lookup`]) and summed up as an AWS bill
//! ([`usage`]). What enters a record is decided by [`redact`]: never a plaintext, ciphertext, key
//! material or parameter value.

pub mod chain;
pub mod lookup;
pub mod operations;
pub mod record;
pub mod redact;
pub mod signer;
pub mod usage;
pub mod writer;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use m2sec_crypto::RootKey;
use m2sec_store::{NewTrailEvent, Store};
use tokio::sync::{mpsc, oneshot, Notify};

pub use record::{Call, ServiceEvent};
pub use writer::WriterConfig;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("store: {0}")]
    Store(#[from] m2sec_store::StoreError),
    #[error("{0}")]
    Key(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// The call could not be recorded: the trail's store is failing (a full disk, a lost database). The
/// caller answers with its service's internal error; the reason is in the writer's log lines and in
/// [`Trail::failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unrecorded;

/// How long a caller waits between looks at the trail's health while its record is queued.
const HEALTH_POLL: Duration = Duration::from_millis(250);

/// Whether the writer can write. Set by the writer when a commit fails, cleared when one succeeds.
#[derive(Default)]
pub(crate) struct Health {
    failing: AtomicBool,
    /// When the failure began (Unix ms) and what the store said.
    detail: Mutex<Option<(i64, String)>>,
}

impl Health {
    pub(crate) fn set_failing(&self, error: String) {
        let mut detail = self.detail.lock().expect("trail health");
        if detail.is_none() {
            *detail = Some((record::now_ms(), error));
        }
        self.failing.store(true, Ordering::Release);
    }

    /// Returns whether it was failing.
    pub(crate) fn set_ok(&self) -> bool {
        let was = self.failing.swap(false, Ordering::AcqRel);
        *self.detail.lock().expect("trail health") = None;
        was
    }

    fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Acquire)
    }
}

/// The handle services and the HTTP layer record through. Cloning is cheap; a disabled trail records
/// nothing.
#[derive(Clone, Default)]
pub struct Trail {
    tx: Option<mpsc::Sender<writer::Message>>,
    /// Wakes the writer when a caller waits for a commit.
    urgent: Arc<Notify>,
    health: Arc<Health>,
    /// Event sources left out of the trail (`kms.amazonaws.com`), as CloudTrail's
    /// `ExcludeManagementEventSources` does.
    excluded: Arc<Vec<String>>,
    /// Whether data events are recorded (CloudTrail records them only for a trail whose event
    /// selectors ask for them).
    data_events: bool,
}

impl std::fmt::Debug for Trail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trail")
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

impl Trail {
    pub fn disabled() -> Self {
        Trail::default()
    }

    /// Opens (or creates) the digest signing key and starts this node's writer.
    pub async fn start(
        store: Arc<dyn Store>,
        root: &RootKey,
        config: WriterConfig,
    ) -> Result<(Trail, tokio::task::JoinHandle<()>)> {
        let signer = Arc::new(signer::Signer::open_or_create(store.as_ref(), root).await?);
        let health = Arc::new(Health::default());
        let excluded = Arc::new(config.exclude_event_sources.clone());
        let data_events = config.data_events;
        let (tx, urgent, task) = writer::start(store, signer, config, health.clone());
        Ok((
            Trail {
                tx: Some(tx),
                urgent,
                health,
                excluded,
                data_events,
            },
            task,
        ))
    }

    pub fn is_enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Whether calls to `event_source` (`kms.amazonaws.com`) are recorded.
    pub fn records(&self, event_source: &str) -> bool {
        self.is_enabled() && !self.excluded.iter().any(|s| s == event_source)
    }

    /// Whether a call of `event_name` to `event_source` is recorded: its source is, and it is a
    /// management event or data events are recorded.
    pub fn records_call(&self, event_source: &str, event_name: &str) -> bool {
        self.records(event_source)
            && (self.data_events || !record::is_data_event(event_source, event_name))
    }

    /// Refuses at once while the trail cannot be written, so that a call which could not be recorded
    /// is not carried out either.
    pub fn check_writable(&self) -> std::result::Result<(), Unrecorded> {
        if self.health.is_failing() {
            return Err(Unrecorded);
        }
        Ok(())
    }

    /// Since when (Unix ms) and why the trail cannot be written, if it cannot.
    pub fn failure(&self) -> Option<(i64, String)> {
        self.health.detail.lock().expect("trail health").clone()
    }

    /// Queues a record; with `durable`, returns once it is committed. Fails (without waiting for the
    /// store to recover) while the trail cannot be written; a record already queued stays queued and
    /// is written once the store takes writes again.
    pub async fn record(
        &self,
        event: NewTrailEvent,
        durable: bool,
    ) -> std::result::Result<(), Unrecorded> {
        let Some(tx) = &self.tx else {
            return Ok(());
        };
        if !self.records_call(&event.event_source, &event.event_name) {
            return Ok(());
        }
        let (done, committed) = if durable {
            let (done, committed) = oneshot::channel();
            (Some(done), Some(committed))
        } else {
            (None, None)
        };
        self.send(tx, writer::Message::Event(Box::new(event), done))
            .await?;
        let Some(committed) = committed else {
            return Ok(());
        };
        self.urgent.notify_one();
        self.wait(committed).await
    }

    /// Sends to the writer; gives up when the queue stays full while the trail is failing.
    async fn send(
        &self,
        tx: &mpsc::Sender<writer::Message>,
        message: writer::Message,
    ) -> std::result::Result<(), Unrecorded> {
        // The common case, a queue with room, takes no timer (timers share one lock in tokio).
        let mut message = match tx.try_send(message) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(Unrecorded),
            Err(mpsc::error::TrySendError::Full(m)) => m,
        };
        loop {
            match tx.send_timeout(message, HEALTH_POLL).await {
                Ok(()) => return Ok(()),
                Err(mpsc::error::SendTimeoutError::Timeout(m)) => {
                    if self.health.is_failing() {
                        return Err(Unrecorded);
                    }
                    message = m;
                }
                Err(mpsc::error::SendTimeoutError::Closed(_)) => return Err(Unrecorded),
            }
        }
    }

    /// Waits for the writer's answer; gives up as soon as the trail is failing.
    async fn wait(&self, answer: oneshot::Receiver<bool>) -> std::result::Result<(), Unrecorded> {
        tokio::pin!(answer);
        loop {
            match tokio::time::timeout(HEALTH_POLL, answer.as_mut()).await {
                Ok(Ok(true)) => return Ok(()),
                Ok(_) => return Err(Unrecorded),
                Err(_) if self.health.is_failing() => return Err(Unrecorded),
                Err(_) => {}
            }
        }
    }

    /// Records a call. A successful change is answered only once its record is committed, except a
    /// data event (see [`record::is_data_event`]): that is committed with the next batch, without
    /// the call waiting for it, as CloudTrail delivers data events after the calls they record.
    pub async fn call(&self, call: &Call<'_>) -> std::result::Result<(), Unrecorded> {
        if !self.records_call(call.event_source, call.event_name) {
            return Ok(());
        }
        let event = record::call_event(call);
        let durable = durable(call, &event);
        self.record(event, durable).await
    }

    /// As [`Trail::call`], with `requestParameters` given as JSON text (what
    /// [`redact::request_parameters_text`] returns) in place of `call.request_parameters`.
    pub async fn call_with_text(
        &self,
        call: &Call<'_>,
        request_parameters: Option<&str>,
    ) -> std::result::Result<(), Unrecorded> {
        if !self.records_call(call.event_source, call.event_name) {
            return Ok(());
        }
        let event = record::call_event_with(call, request_parameters.map(record::Params::Text));
        let durable = durable(call, &event);
        self.record(event, durable).await
    }

    /// Records one of m2sec's own actions, committed before this returns. An action that could not
    /// be recorded is logged.
    pub async fn service_event(&self, event: &ServiceEvent<'_>) {
        if !self.is_enabled() {
            return;
        }
        if self
            .record(record::service_event(event), true)
            .await
            .is_err()
        {
            tracing::error!(
                event = event.event_name,
                "the trail cannot be written; this action of m2sec's own is not recorded yet"
            );
        }
    }

    /// Commits everything queued so far and signs a digest of the chain (at shutdown).
    pub async fn flush(&self) -> std::result::Result<(), Unrecorded> {
        self.commit_queued(true).await
    }

    /// Commits everything queued so far, so that a lookup sees every call answered before it.
    pub async fn commit_pending(&self) -> std::result::Result<(), Unrecorded> {
        self.commit_queued(false).await
    }

    async fn commit_queued(&self, sign: bool) -> std::result::Result<(), Unrecorded> {
        let Some(tx) = &self.tx else {
            return Ok(());
        };
        self.check_writable()?;
        let (done, flushed) = oneshot::channel();
        self.send(tx, writer::Message::Flush(done, sign)).await?;
        self.urgent.notify_one();
        self.wait(flushed).await
    }
}

/// Whether `call`'s answer waits for its record to be committed: a successful change that is not a
/// data event.
fn durable(call: &Call<'_>, event: &NewTrailEvent) -> bool {
    !event.read_only
        && call.error.is_none()
        && !record::is_data_event(call.event_source, call.event_name)
}
